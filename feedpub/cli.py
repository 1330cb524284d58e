"""The feedpub command: a thin layer over feedpub.build() and feedpub.check().

Exit status:
  0  every feed published, no record rejected (or nothing needed publishing)
  1  feeds published, but some records were rejected (listed on stderr)
  2  usage error (unknown option, bad --now)
  3  nothing published: bad config, unreadable site or output, or --strict with a rejected record
  4  another feedpub run holds the output directory's lock past --wait
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer

from .version import __version__
from .errors import FeedpubError, LockedError, RejectedError, UsageError
from .layout import STATE_NAME

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_FAILED, EXIT_LOCKED = 0, 1, 2, 3, 4

app = typer.Typer(
    help="Publish per-language RSS 2.0, Atom 1.0 and JSON feeds from a news site's article records.\n\n"
         + __doc__.split("\n\n", 1)[1],
    add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"feedpub {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """Publish per-language feeds from article records."""


def _err(line: str) -> None:
    """One line on stderr; whatever data it quotes cannot forge another line or drive the terminal."""
    from .text import printable
    typer.echo(printable(line), err=True)


def _wait_seconds(value: float) -> float:
    """--wait must be a real number of seconds a cron job can afford: 0 to one day."""
    import math
    if not math.isfinite(value) or not 0 <= value <= 86400:
        raise typer.BadParameter(f"{value:g} is not a number of seconds from 0 to 86400")
    return value


@app.command()
def build(
    data: Path = typer.Option(Path("data"), "--data", help="Site directory holding feedpub.toml and articles/."),
    out: Path = typer.Option(Path("public"), "--out", help="Output directory for the feeds."),
    now: Optional[str] = typer.Option(None, "--now", metavar="DATETIME",
                                      help="Build as if it were this time (site zone unless an offset is given)."),
    strict: bool = typer.Option(False, "--strict", help="Publish nothing if any record is rejected (exit 3)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing when all is well; problems still go to stderr."),
    wait: float = typer.Option(60.0, "--wait", metavar="SECONDS", callback=_wait_seconds,
                               help="How long to wait for another run's lock, 0 to 86400 (exit 4 after)."),
    state: Optional[Path] = typer.Option(None, "--state", help=f"Cache file for fast reruns (default: OUT/{STATE_NAME})."),
    full: bool = typer.Option(False, "--full", help="Ignore the cache and read every record file."),
) -> None:
    """Build every feed of the site into OUT (exit 0 ok, 1 records rejected, 3 nothing published, 4 locked)."""
    from .pipeline import build as run_build
    report = run_build(data, out, now=now, strict=strict, state_path=state, wait=wait, full=full)
    for line in report.errors:
        _err(line)
    if not quiet:
        for line in report.warnings:
            _err(f"warning: {line}")
        _ping_warnings(report.pings)
        _summary(report, out)
    if report.errors:
        if quiet:
            _err(f"feedpub: {len(report.errors)} record(s) rejected; the others were published")
        raise typer.Exit(EXIT_REJECTED)


def _ping_warnings(pings) -> None:
    """One line per failed ping; the topics skipped after it (hub unreachable, deadline passed) summed up."""
    skipped: dict[str, int] = {}
    for ping in pings:
        if ping.ok:
            continue
        if ping.attempts == 0 and ping.detail.startswith("skipped: "):
            reason = ping.detail.removeprefix("skipped: ")
            skipped[reason] = skipped.get(reason, 0) + 1
        else:
            _err(f"warning: WebSub ping for {ping.topic} failed after {ping.attempts} attempt(s): {ping.detail}")
    for reason, count in skipped.items():
        _err(f"warning: WebSub: {count} more changed feed file(s) not pinged: {reason}")


def _summary(report, out: Path) -> None:
    if report.skipped:
        typer.echo(f"nothing changed: {len(report.feeds)} feed files in {out} are up to date")
        return
    for feed in report.feeds:
        if feed.path.count("/") == 1:      # language feeds; category feeds are summed below
            state = "updated" if feed.changed else "unchanged"
            typer.echo(f"{out / feed.path}: {feed.items} items, {state}")
    cats = [f for f in report.feeds if f.path.count("/") > 1]
    if cats:
        typer.echo(f"{len(cats) // 3} category feeds ({sum(f.changed for f in cats)} files updated)")
    rows = f", {report.source_rows} database rows read" if report.source_rows else ""
    typer.echo(f"{report.records} records, {report.files_read} record files read{rows}, "
               f"{len(report.errors)} rejected, {report.files_changed} files updated")


@app.command()
def check(
    data: Path = typer.Option(Path("data"), "--data", help="Site directory holding feedpub.toml and articles/."),
    now: Optional[str] = typer.Option(None, "--now", metavar="DATETIME", help="Judge scheduled records against this time."),
) -> None:
    """Validate feedpub.toml and every record without writing anything (exit 0 clean, 1 rejected, 3 unusable)."""
    from .pipeline import check as run_check
    report = run_check(data, now=now)
    for line in report.errors:
        _err(line)
    for line in report.warnings:
        _err(f"warning: {line}")
    typer.echo(f"{report.records} valid records, {len(report.errors)} problems")
    if report.errors:
        raise typer.Exit(EXIT_REJECTED)


@app.command()
def serve(
    out: Path = typer.Argument(Path("public"), help="Output directory to serve (as written by feedpub build)."),
    port: int = typer.Option(8000, "--port", "-p", min=0, max=65535, help="TCP port (0 picks a free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    watch: bool = typer.Option(False, "--watch", help="Build OUT from --data first, then rebuild it whenever the site changes."),
    data: Path = typer.Option(Path("data"), "--data", help="Site directory holding feedpub.toml and articles/ (with --watch)."),
) -> None:
    """Preview OUT in a browser or feed reader on a local web server (exit 3 if it cannot start)."""
    from .serve import serve as run_serve
    run_serve(out, host=host, port=port, watch_site=data if watch else None)


@app.command()
def snippet(
    data: Path = typer.Option(Path("data"), "--data", help="Site directory holding feedpub.toml."),
    lang: Optional[list[str]] = typer.Option(None, "--lang", help="Only this language (repeatable); default: every language."),
) -> None:
    """Print the <link rel="alternate"> autodiscovery tags to paste into the <head> of the site's pages."""
    from .pages import snippet as make_snippet
    typer.echo(make_snippet(data, lang or None), nl=False)


@app.command()
def validate(
    out: Path = typer.Argument(Path("public"), help="Output directory to check (as written by feedpub build)."),
    expect_offset: Optional[str] = typer.Option(None, "--expect-offset", metavar="+HH:MM",
                                                help="Require every date to carry this UTC offset, e.g. +07:00."),
    spec_only: bool = typer.Option(False, "--spec-only",
                                   help="Only the formats' own rules, not feedpub's stricter ones "
                                        "(for feeds feedpub did not write)."),
) -> None:
    """Check the generated RSS, Atom and JSON files themselves (exit 0 all valid, 1 any error, 2 bad option)."""
    from .feedcheck import format_results, validate_output
    try:
        results = validate_output(out, expect_offset=expect_offset, spec_only=spec_only)
    except ValueError as exc:
        _err(f"feedpub: --expect-offset: {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    typer.echo(format_results(results))
    if any(r.errors for r in results):
        raise typer.Exit(EXIT_REJECTED)


def main() -> None:
    """Console entry point: no Python traceback ever reaches the user."""
    try:
        app()
    except KeyboardInterrupt:
        _err("feedpub: interrupted")
        sys.exit(130)
    except LockedError as exc:
        _err(f"feedpub: {exc}")
        sys.exit(EXIT_LOCKED)
    except UsageError as exc:
        _err(f"feedpub: {exc}")
        sys.exit(EXIT_USAGE)
    except RejectedError as exc:
        for line in exc.errors:
            _err(line)
        _err(f"feedpub: {exc}")
        sys.exit(EXIT_FAILED)
    except FeedpubError as exc:     # every other user error: one line, nothing published
        _err(f"feedpub: {exc}")
        sys.exit(EXIT_FAILED)
    except Exception as exc:        # a bug, not a user error: one line, no traceback, nothing half-published
        if os.environ.get("FEEDPUB_DEBUG"):
            raise
        _err(f"feedpub: internal error: {type(exc).__name__}: {exc} (set FEEDPUB_DEBUG=1 for details)")
        sys.exit(EXIT_FAILED)

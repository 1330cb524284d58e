"""The feedpub command: a thin layer over feedpub.build() and feedpub.check().

Exit status:
  0  every feed published, no record rejected (or nothing needed publishing)
  1  feeds published, but some records were rejected (listed on stderr)
  2  usage error (unknown option, bad --now), or a [source] column whose type cannot hold its field
  3  nothing published: bad config, unreadable site or output, or --strict with a rejected record
  4  another feedpub run holds the output directory's lock past --wait
  130/143  interrupted by SIGINT/SIGTERM: nothing half-published, the lock released

Every option can also be given as an environment variable, shown in each command's --help.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Optional

import typer

from .console import Console
from .outcome import (EXIT_FAILED, EXIT_REJECTED, EXIT_USAGE, Outcome, debugging, of_exception, settled,
                      stop_on_signals)
from .version import __version__
from .layout import STATE_NAME

app = typer.Typer(
    help="Publish per-language RSS 2.0, Atom 1.0 and JSON feeds from a news site's article records.\n\n"
         + __doc__.split("\n\n", 1)[1],
    add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
console = Console()


class _Command:
    """What the running command asked for, for main() to finish with: the run report's Run and
    where to write the report and the metrics."""

    run = None                 # runreport.Run
    report: Optional[Path] = None
    metrics: Optional[Path] = None
    cache: Optional[str] = None
    progress = None            # cli_progress.TerminalProgress while one is shown


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"feedpub {__version__}")
        raise typer.Exit()


def _install_completion(ctx: typer.Context, param: typer.CallbackParam, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        from typer.completion import install_callback
        install_callback(ctx, param, value)


def _show_completion(ctx: typer.Context, param: typer.CallbackParam, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        from typer.completion import show_callback
        show_callback(ctx, param, value)


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                       help="Print the version and exit."),
          install_completion: bool = typer.Option(False, "--install-completion", callback=_install_completion,
                                                  is_eager=True, expose_value=False,
                                                  help="Install completion for the current shell."),
          show_completion: bool = typer.Option(False, "--show-completion", callback=_show_completion,
                                               is_eager=True, expose_value=False,
                                               help="Show completion for the current shell, to copy it.")) -> None:
    """Publish per-language feeds from article records.

    Shell completion is typer's (added lazily: typer's own completion options cost every start-up
    ~20 ms of introspection; these cost nothing until used)."""


def _err(line: str) -> None:
    """One line on stderr; whatever data it quotes cannot forge another line or drive the terminal."""
    console.err(line)


def _out(line: str) -> None:
    console.out(line)


def _wait_seconds(value: float) -> float:
    """--wait must be a real number of seconds a cron job can afford: 0 to one day."""
    import math
    if not math.isfinite(value) or not 0 <= value <= 86400:
        raise typer.BadParameter(f"{value:g} is not a number of seconds from 0 to 86400")
    return value


def _env(name: str) -> str:
    return f"FEEDPUB_{name}"


_DATA = dict(envvar=_env("DATA"), help="Site directory holding feedpub.toml and articles/.")
_NOW_HELP = "Build as if it were this time (site zone unless an offset is given)."
_REPORT = dict(envvar=_env("REPORT"), metavar="FILE",
               help="Write a JSON report of the run here after every run, failed ones too (replaced atomically).")
_METRICS = dict(envvar=_env("METRICS"), metavar="FILE",
                help="Write the run's Prometheus metrics here (text format, for node_exporter's textfile "
                     "collector; replaced atomically).")


def _start(command: str, *, site: Path | None = None, out: Path | str | None = None, report: Path | None = None,
           metrics: Path | None = None, cache: str | None = None) -> None:
    from .runreport import Run
    _Command.run = Run(command, time.time(), str(site) if site is not None else None,
                       str(out) if out is not None else None)
    _Command.report, _Command.metrics, _Command.cache = report, metrics, cache
    if out is not None and not _is_bucket(out):
        _outside_out(out, report, metrics)


def _is_bucket(out: Path | str) -> bool:
    """OUT names a bucket prefix (s3://…), not a folder."""
    return isinstance(out, str) and out[:5].lower() == "s3://"


def _local_folder(value: Path) -> Path:
    """serve and validate read a folder on this machine: a bucket target (FEEDPUB_OUT set for
    build, say) is a usage error that says so, not a folder named "s3:"."""
    if str(value)[:3].lower() == "s3:":
        shown = "s3://" + str(value)[3:].lstrip("/")           # a Path keeps one slash of the two
        raise typer.BadParameter(f"{shown} is a bucket target: this command reads a folder on this machine "
                                 "(expected the folder a build wrote, e.g. public)")
    return value


def _default_out(data: Path) -> str:
    """OUT when --out is not given: [publish] target of feedpub.toml, else the folder public (a
    feedpub.toml that cannot be read is reported by the build itself)."""
    from .config import load_config
    from .errors import FeedpubError
    try:
        publish = load_config(data).publish
    except (FeedpubError, OSError):
        return "public"
    return str(publish.target) if publish is not None and publish.target is not None else "public"


def _outside_out(out: Path, report: Path | None, metrics: Path | None) -> None:
    """--report and --metrics are written after the run, where the operator asked: never inside OUT,
    where they could replace a published feed or page (a usage error, and neither is written)."""
    from .errors import UsageError
    from .fsops import relative_inside
    for option, path in (("report", report), ("metrics", metrics)):
        if path is not None and relative_inside(out, path) is not None:
            _Command.report = _Command.metrics = None
            raise UsageError(f"--{option} {path}: inside the output directory {out}, among the files feedpub "
                             "publishes (expected a path outside it)")


@app.command()
def build(
    data: Path = typer.Option(Path("data"), "--data", **_DATA),
    out: Optional[str] = typer.Option(None, "--out", envvar=_env("OUT"), show_default=False,
                                      help="Output directory for the feeds, or s3://BUCKET/PREFIX for a bucket of "
                                           "an S3-compatible store (default: [publish] target, else public)."),
    now: Optional[str] = typer.Option(None, "--now", metavar="DATETIME", envvar=_env("NOW"), help=_NOW_HELP),
    strict: bool = typer.Option(False, "--strict", envvar=_env("STRICT"),
                                help="Publish nothing if any record is rejected (exit 3)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", envvar=_env("QUIET"),
                               help="Print nothing when all is well; problems still go to stderr."),
    wait: float = typer.Option(60.0, "--wait", metavar="SECONDS", callback=_wait_seconds, envvar=_env("WAIT"),
                               help="How long to wait for another run's lock, 0 to 86400 (exit 4 after)."),
    state: Optional[Path] = typer.Option(None, "--state", envvar=_env("STATE"),
                                         help=f"Cache file for fast reruns (default: OUT/{STATE_NAME}; for a "
                                              "bucket, under ~/.local/state/feedpub/s3/)."),
    full: bool = typer.Option(False, "--full", envvar=_env("FULL"), help="Ignore the cache and read every record file."),
    report: Optional[Path] = typer.Option(None, "--report", **_REPORT),
    metrics: Optional[Path] = typer.Option(None, "--metrics", **_METRICS),
) -> None:
    """Build every feed of the site into OUT (exit 0 ok, 1 records rejected, 3 nothing published, 4 locked)."""
    from .pipeline import build as run_build
    out = out if out is not None else _default_out(data)
    cache = None if _is_bucket(out) else str(Path(out) / STATE_NAME)     # a bucket's cache: s3/route.py says
    _start("build", site=data, out=out, report=report, metrics=metrics, cache=str(state) if state is not None else cache)
    from . import progress
    watcher = _terminal_progress(quiet)
    try:
        with progress.watching(watcher):
            result = run_build(data, out, now=now, strict=strict, state_path=state, wait=wait, full=full)
    finally:
        if watcher is not None:
            watcher.close()
    _Command.run.result = result
    for line in result.errors:
        _err(line)
    if not quiet:
        for line in result.warnings:
            _err(f"warning: {line}")
        _ping_warnings(result.pings)
        for line in summary_lines(result, out):
            _out(line)
    if result.errors:
        if quiet:
            _err(f"feedpub: {_count(len(result.errors), 'record')} rejected; the others were published")
        raise typer.Exit(EXIT_REJECTED)


@app.command()
def watch(
    data: Path = typer.Option(Path("data"), "--data", **_DATA),
    out: Optional[str] = typer.Option(None, "--out", envvar=_env("OUT"), show_default=False,
                                      help="Output directory for the feeds (default: [publish] target, else public; "
                                           "a folder on this machine, not a bucket)."),
    strict: bool = typer.Option(False, "--strict", envvar=_env("STRICT"),
                                help="Publish nothing from a rebuild in which a record is rejected."),
    quiet: bool = typer.Option(False, "--quiet", "-q", envvar=_env("QUIET"),
                               help="Say nothing about rebuilds that went well; problems still go to stderr."),
    wait: float = typer.Option(60.0, "--wait", metavar="SECONDS", callback=_wait_seconds, envvar=_env("WAIT"),
                               help="How long a rebuild waits for another run's lock, 0 to 86400."),
    state: Optional[Path] = typer.Option(None, "--state", envvar=_env("STATE"),
                                         help=f"Cache file for fast reruns (default: OUT/{STATE_NAME})."),
    full: bool = typer.Option(False, "--full", envvar=_env("FULL"), help="The first build ignores the cache."),
    report: Optional[Path] = typer.Option(None, "--report", **_REPORT),
    metrics: Optional[Path] = typer.Option(None, "--metrics", **_METRICS),
) -> None:
    """Build, then rebuild OUT whenever the site or its database changes, until stopped (SIGTERM: exit 0 once
    the current rebuild has published; SIGHUP: read feedpub.toml again; exit 3 if it cannot start)."""
    from .errors import UsageError
    from .watch import run as run_watch
    out = out if out is not None else _default_out(data)
    if _is_bucket(out):
        raise UsageError(f"{out} is a bucket target: feedpub watch publishes into a folder on this machine "
                         "(expected --out DIR; a bucket is published by `feedpub build` from the timer)")
    out = Path(out)
    _Command.cache = str(state if state is not None else out / STATE_NAME)
    _outside_out(out, report, metrics)
    status = run_watch(data, out, state_path=state, wait=wait, strict=strict, full=full, quiet=quiet, report=report,
                       metrics=metrics, log=_err, say=_out)
    if status:
        raise typer.Exit(status)


def _terminal_progress(quiet: bool):
    """A progress line on stderr, when stderr is a terminal and the run is not quiet."""
    if quiet:
        return None
    try:
        if not sys.stderr.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    from .cli_progress import TerminalProgress
    return TerminalProgress(sys.stderr)


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
            _err(f"warning: WebSub ping for {ping.topic} failed after {_count(ping.attempts, 'attempt')}: "
                 f"{ping.detail}")
    for reason, count in skipped.items():
        _err(f"warning: WebSub: {_count(count, 'more changed feed file')} not pinged: {reason}")


def _count(n: int, noun: str, plural: str | None = None) -> str:
    """'1 item', '2 items', '0 items'."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def summary_lines(report, out: Path | str) -> list[str]:
    """What a build prints when all is well: each language feed file, the category feeds summed up,
    then what was read and written (record files and database rows alike)."""
    if report.skipped:
        return [f"nothing changed: {_count(len(report.feeds), 'feed file')} in {out} are up to date"]
    lines = []
    for feed in report.feeds:
        if feed.category is None:
            state = "updated" if feed.changed else "unchanged"
            where = f"{report.out}/{feed.path}" if _is_bucket(report.out) else Path(out) / feed.path
            lines.append(f"{where}: {_count(feed.items, 'item')}, {state}")
    category_feeds = {(f.lang, f.category) for f in report.feeds if f.category is not None}
    if category_feeds:
        updated = sum(f.changed for f in report.feeds if f.category is not None)
        lines.append(f"{_count(len(category_feeds), 'category feed')} ({_count(updated, 'file')} updated)")
    read = [_count(report.records, "record"), f"{_count(report.files_read, 'record file')} read"]
    if report.source_rows:
        read.append(f"{_count(report.source_rows, 'database row')} read")
    lines.append(f"{', '.join(read)}, {len(report.errors)} rejected, {_count(report.files_changed, 'file')} updated")
    return lines


@app.command()
def check(
    data: Path = typer.Option(Path("data"), "--data", **_DATA),
    now: Optional[str] = typer.Option(None, "--now", metavar="DATETIME", envvar=_env("NOW"),
                                      help="Judge scheduled records against this time."),
    report: Optional[Path] = typer.Option(None, "--report", **_REPORT),
) -> None:
    """Validate feedpub.toml and every record without writing anything (exit 0 clean, 1 rejected, 3 unusable)."""
    from .pipeline import check as run_check
    _start("check", site=data, report=report)
    result = run_check(data, now=now)
    _Command.run.result = result
    for line in result.errors:
        _err(line)
    for line in result.warnings:
        _err(f"warning: {line}")
    _out(f"{_count(result.records, 'valid record')}, {_count(len(result.errors), 'problem')}")
    if result.errors:
        raise typer.Exit(EXIT_REJECTED)


@app.command()
def serve(
    out: Path = typer.Argument(Path("public"), envvar=_env("OUT"), show_envvar=True, callback=_local_folder,
                               help="Output directory to serve (as written by feedpub build)."),
    port: int = typer.Option(8000, "--port", "-p", min=0, max=65535, envvar=_env("PORT"),
                             help="TCP port (0 picks a free one)."),
    host: str = typer.Option("127.0.0.1", "--host", envvar=_env("HOST"), help="Address to listen on."),
    watch: bool = typer.Option(False, "--watch", envvar=_env("WATCH"),
                               help="Build OUT from --data first, then rebuild it whenever the site changes."),
    data: Path = typer.Option(Path("data"), "--data", envvar=_env("DATA"),
                              help="Site directory holding feedpub.toml and articles/ (with --watch)."),
) -> None:
    """Preview OUT in a browser or feed reader on a local web server (exit 3 if it cannot start)."""
    from .serve import serve as run_serve
    run_serve(out, host=host, port=port, watch_site=data if watch else None)


@app.command()
def snippet(
    data: Path = typer.Option(Path("data"), "--data", envvar=_env("DATA"), help="Site directory holding feedpub.toml."),
    lang: Optional[list[str]] = typer.Option(None, "--lang", help="Only this language (repeatable); default: every language."),
) -> None:
    """Print the <link rel="alternate"> autodiscovery tags to paste into the <head> of the site's pages."""
    from .pages import snippet as make_snippet
    for line in make_snippet(data, lang or None).splitlines():
        console.out(line)


@app.command()
def validate(
    out: Path = typer.Argument(Path("public"), envvar=_env("OUT"), show_envvar=True, callback=_local_folder,
                               help="Output directory to check (as written by feedpub build)."),
    expect_offset: Optional[str] = typer.Option(None, "--expect-offset", metavar="+HH:MM", envvar=_env("EXPECT_OFFSET"),
                                                help="Require every date to carry this UTC offset, e.g. +07:00."),
    spec_only: bool = typer.Option(False, "--spec-only", envvar=_env("SPEC_ONLY"),
                                   help="Only the formats' own rules, not feedpub's stricter ones "
                                        "(for feeds feedpub did not write)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", envvar=_env("QUIET"),
                               help="Print nothing when every file is valid; a failing file's findings go to stderr."),
    report: Optional[Path] = typer.Option(None, "--report", **_REPORT),
) -> None:
    """Check the generated RSS, Atom and JSON files themselves (exit 0 all valid, 1 any error, 2 bad option,
    3 no such output directory)."""
    from .errors import SiteError, UsageError
    from .validate import format_results, validate_output
    _start("validate", out=out, report=report)
    if not out.is_dir():
        raise SiteError(f"{out}: is not a directory (expected the output directory holding the feeds)")
    try:
        results = validate_output(out, expect_offset=expect_offset, spec_only=spec_only)
    except ValueError as exc:
        raise UsageError(f"--expect-offset: {exc}") from None
    failed = any(r.errors for r in results)
    if quiet:
        lines = format_results([r for r in results if r.errors]).splitlines() if failed else []
        for line in lines[:-1]:
            _err(line)
    else:
        for line in format_results(results).splitlines():
            _out(line)
    if failed:
        if quiet:
            _err(f"feedpub: {_count(sum(1 for r in results if r.errors), 'file')} with errors under {out}")
        raise typer.Exit(EXIT_REJECTED)


@app.command()
def init(
    site: Path = typer.Argument(Path("data"), help="Folder of the new site (created if needed; default: data)."),
    source: str = typer.Option("files", "--source", metavar="files|postgresql",
                               help="Where the records live: record files (a sample in articles/), or a PostgreSQL "
                                    "database (a [source] table, and postgresql.sql to create it)."),
) -> None:
    """Start a new site: a commented feedpub.toml and samples that build as they are (never overwrites a file)."""
    from .errors import UsageError
    from .scaffold import SOURCES, scaffold
    if source not in SOURCES:
        raise UsageError(f"--source: {source!r} is not one of {', '.join(SOURCES)}")
    made = scaffold(site, source=source)
    for path in made.written:
        _out(f"created {path}")
    _out("next:")
    for step in made.next_commands:
        _out(f"  {step}")


def _usage_error(exc) -> Outcome:
    """click's usage error: in its framed form on a terminal; one plain `feedpub: …` line anywhere
    else (cron mail, journald, a log file)."""
    status = getattr(exc, "exit_code", EXIT_USAGE)
    try:
        terminal = sys.stderr.isatty()
    except (AttributeError, ValueError):
        terminal = False
    if terminal:
        try:
            from typer import rich_utils
            rich_utils.rich_format_error(exc)
            return Outcome(status)
        except Exception:                   # noqa: BLE001 - the plain line below says the same
            pass
    ctx = getattr(exc, "ctx", None)
    where = f"{ctx.command_path.removeprefix('feedpub').strip()}: " if ctx is not None and ctx.command_path else ""
    hint = f" (see '{ctx.command_path} --help')" if ctx is not None and ctx.command_path else ""
    return Outcome(status, [f"feedpub: {where}{exc.format_message()}{hint}"])


def _finish(outcome: Outcome) -> None:
    """The run report and the metrics, after every run; a file that cannot be written is a warning
    and never changes the outcome (the feeds may well have been published)."""
    run = _Command.run
    if run is None or (_Command.report is None and _Command.metrics is None):
        return
    from .runreport import write_run_files
    for line in write_run_files(run, outcome, time.time(), __version__, report=_Command.report,
                                metrics=_Command.metrics):
        _err(line)


def _run_app() -> Outcome:
    """The command, and whatever ended it, as an Outcome (the policy itself is outcome.of_exception)."""
    from typer.exceptions import Abort, Exit, TyperException
    from .outcome import Interrupted
    if os.environ.get("_FEEDPUB_COMPLETE"):         # the shell asks for completions (see --install-completion)
        from typer.completion import completion_init
        completion_init()
    try:
        status = app(standalone_mode=False, prog_name="feedpub")
        return Outcome(status if isinstance(status, int) else 0)
    except Exit as exc:
        return Outcome(exc.exit_code)
    except TyperException as exc:               # click's usage errors
        if type(exc).__name__ == "NoArgsIsHelpError":
            for line in exc.format_message().splitlines():
                _err(line)
            return Outcome(exc.exit_code)
        return _usage_error(exc)
    except Abort:
        return Outcome(EXIT_FAILED, ["feedpub: aborted"])
    except Interrupted as exc:
        return of_exception(exc)
    except Exception as exc:                    # every error, user's or not: one line, no traceback
        if debugging() and not _is_user_error(exc):
            raise
        return of_exception(exc, cache=_Command.cache)


def _is_user_error(exc: BaseException) -> bool:
    from .errors import FeedpubError
    return isinstance(exc, (FeedpubError, OSError))


def main() -> None:
    """Console entry point: no Python traceback ever reaches the user; every outcome is one exit status."""
    from .outcome import Interrupted
    stop_on_signals()
    outcome = _run_app()
    try:
        for line in outcome.lines:
            _err(line)
        _finish(outcome)
    except Interrupted:                 # a signal while finishing: the run's outcome stands
        pass
    console.finish()
    settled()                           # from here a late signal cannot turn the outcome into a kill
    sys.exit(outcome.status)

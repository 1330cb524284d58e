"""`--report FILE`: what one run did, as JSON a monitoring job can read, written after every run.

The report is written after a failed run too (exit 1, 3, 4, 130, 143): start and end, duration, the
exit status and its meaning, records and rows read and rejected with the first problems, every feed
file (items, its newest item's published time, whether this run rewrote it) and the WebSub pings.
Its shape is versioned (REPORT_VERSION) and described by a JSON Schema shipped with the package
(schemas/run-report.schema.json, see SCHEMA_PATH). A file is replaced atomically (temporary file
beside it, fsync, rename), so a reader never sees half a report; a path that is not a regular file
(a FIFO, /dev/stdout) is written to as it is.
"""
from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .outcome import Outcome

__all__ = ["FIRST_PROBLEMS", "REPORT_VERSION", "SCHEMA_PATH", "Run", "report_json", "write_file_atomically",
           "write_run_files"]

REPORT_VERSION = 1
SCHEMA_PATH = Path(__file__).parent / "schemas" / "run-report.schema.json"
FIRST_PROBLEMS = 20          # problems and warnings listed in full; the counts are always complete


@dataclass
class Run:
    """One command as it ran: what it was asked, when, and (for a build) the library's report."""

    command: str
    started: float
    site: str | None = None
    out: str | None = None
    result: Any = None       # pipeline.BuildReport when the run got that far


def _stamp(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def report_json(run: Run, outcome: Outcome, ended: float, version: str) -> dict[str, Any]:
    """The report of a run that ended with outcome at `ended` (Unix seconds)."""
    result = run.result
    problems = result.errors if result is not None else []
    warnings = list(result.warnings) if result is not None else []
    return {
        "report_version": REPORT_VERSION,
        "feedpub_version": version,
        "command": run.command,
        "site": run.site,
        "out": run.out,
        "started": _stamp(run.started),
        "ended": _stamp(ended),
        "duration_seconds": round(max(0.0, ended - run.started), 6),
        "exit_status": outcome.status,
        "meaning": outcome.meaning,
        "messages": list(outcome.lines),
        "nothing_changed": bool(result is not None and result.skipped),
        "records": {
            "valid": result.records if result is not None else 0,
            "rejected": len(problems),
            "files_read": result.files_read if result is not None else 0,
            "rows_read": getattr(result, "source_rows", 0) if result is not None else 0,
        },
        "problems": problems[:FIRST_PROBLEMS],
        "warnings": warnings[:FIRST_PROBLEMS],
        "warnings_total": len(warnings),
        "files_updated": result.files_changed if result is not None else 0,
        "feeds": [{"path": f.path, "lang": f.lang, "category": f.category, "format": f.kind, "items": f.items,
                   "newest_published": _stamp(f.newest), "changed": f.changed}
                  for f in (result.feeds if result is not None else [])],
        "pings": [{"topic": p.topic, "ok": p.ok, "attempts": p.attempts, "detail": p.detail}
                  for p in (result.pings if result is not None else [])],
    }


def write_file_atomically(path: str | os.PathLike, data: bytes) -> None:
    """Replace path with data as one step (temporary file beside it, fsync, rename), as node_exporter's
    textfile collector and any reader polling the file need. A path that exists and is not a
    regular file (a FIFO, a device, /dev/stdout) is written to directly, never replaced, and never
    waited on. Raises OSError."""
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        os.unlink(tmp)                   # left by a killed run whose process id this one has now
    except FileNotFoundError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def encode(report: dict[str, Any]) -> bytes:
    return (json.dumps(report, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def write_run_files(run: Run, outcome: Outcome, ended: float, version: str, *, report: Path | None = None,
                    metrics: Path | None = None) -> list[str]:
    """The run's --report and --metrics files, written after a run (a command's, or each rebuild of
    `feedpub watch`); returns a warning line for each that could not be written (the feeds may well
    have been published: a file the monitoring reads never changes the outcome)."""
    if report is None and metrics is None:
        return []
    warnings = []
    data = report_json(run, outcome, ended, version)
    if report is not None:
        try:
            write_file_atomically(report, encode(data))
        except OSError as exc:
            warnings.append(f"feedpub: warning: --report {report}: {exc.strerror or exc}: the report was not written")
    if metrics is not None:
        from .metrics import metrics_text, read_previous
        try:
            text = metrics_text(data, ended, read_previous(metrics))
            write_file_atomically(metrics, text.encode("utf-8"))
        except OSError as exc:
            warnings.append(f"feedpub: warning: --metrics {metrics}: {exc.strerror or exc}: "
                            "the metrics were not written")
    return warnings

"""`--metrics FILE`: the run as Prometheus metrics, for node_exporter's textfile collector.

Written after every run, in the text exposition format, atomically (temporary file and rename, as the
collector requires). A failed run keeps the last success's time and the feeds' series from the file
it replaces, so that `time() - feedpub_last_success_timestamp_seconds` and
`time() - feedpub_feed_newest_item_timestamp_seconds` keep their meaning while runs fail. Every
series carries an `out` label (the output directory), so several sites can share one collector
folder, each with its own file.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .outcome import EXIT_OK, EXIT_REJECTED

__all__ = ["FEED_SERIES", "RUN_SERIES", "metrics_text"]

# name -> (help, value from the run report)
RUN_SERIES = {
    "feedpub_last_run_timestamp_seconds": "When the last run ended (Unix time).",
    "feedpub_last_run_exit_status": "The last run's exit status (0 ok, 1 records rejected, 3 nothing published, ...).",
    "feedpub_last_run_duration_seconds": "How long the last run took.",
    "feedpub_last_success_timestamp_seconds": "When the last run that published (exit 0 or 1) ended (Unix time).",
    "feedpub_records_valid": "Valid records the last run saw in the site.",
    "feedpub_records_rejected": "Records the last run rejected.",
    "feedpub_files_updated": "Files of OUT the last run rewrote.",
}
FEED_SERIES = {
    "feedpub_feed_items": "Items in a feed file.",
    "feedpub_feed_newest_item_timestamp_seconds": "Published time of a feed file's newest item (Unix time); "
                                                  "absent for an empty feed.",
}
_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?P<labels>\{.*\})? (?P<value>\S+)$")


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def metrics_text(report: dict[str, Any], ended: float, previous: str | None) -> str:
    """The exposition text for a run report (runreport.report_json); previous: the file it replaces."""
    out = f'out="{_label(report["out"] or "")}"'
    succeeded = report["exit_status"] in (EXIT_OK, EXIT_REJECTED)
    kept = _previous_samples(previous)
    last_success = ended if succeeded else kept.get("feedpub_last_success_timestamp_seconds", [None])[0]
    values = {
        "feedpub_last_run_timestamp_seconds": ended,
        "feedpub_last_run_exit_status": report["exit_status"],
        "feedpub_last_run_duration_seconds": report["duration_seconds"],
        "feedpub_last_success_timestamp_seconds": last_success,
        "feedpub_records_valid": report["records"]["valid"],
        "feedpub_records_rejected": report["records"]["rejected"],
        "feedpub_files_updated": report["files_updated"],
    }
    lines = []
    for name, help_text in RUN_SERIES.items():
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        if values[name] is not None:
            value = values[name]
            lines.append(f"{name}{{{out}}} {value if isinstance(value, str) else _number(value)}")
    feeds = report["feeds"] if succeeded else None
    for name, help_text in FEED_SERIES.items():
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        if feeds is None:                   # a failed run: the feeds are as the last success left them
            lines += [f"{name}{labels} {value}" for labels, value in kept.get(name, [])]
            continue
        for feed in feeds:
            labels = (f'{{{out},feed="{_label(feed["path"])}",lang="{_label(feed["lang"])}",'
                      f'category="{_label(feed["category"] or "")}",format="{feed["format"]}"}}')
            if name == "feedpub_feed_items":
                lines.append(f"{name}{labels} {feed['items']}")
            elif feed["newest_published"] is not None:
                lines.append(f"{name}{labels} {_number(_seconds(feed['newest_published']))}")
    return "\n".join(lines) + "\n"


def _seconds(stamp: str) -> float:
    from datetime import datetime
    return round(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp(), 3)


def _previous_samples(text: str | None) -> dict[str, list]:
    """name -> [value] for the run series, name -> [(labels, value)] for the feed series, of an earlier file."""
    found: dict[str, list] = {}
    for line in (text or "").splitlines():
        match = _SAMPLE.match(line)
        if not match:
            continue
        name = match["name"]
        if name == "feedpub_last_success_timestamp_seconds":
            try:
                found[name] = [float(match["value"])]
            except ValueError:
                pass
        elif name in FEED_SERIES:
            found.setdefault(name, []).append((match["labels"] or "", match["value"]))
    return found


def read_previous(path: str | Path) -> str | None:
    """The metrics file a run is about to replace, when it is a small regular file of ours."""
    import os
    import stat
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > 16 << 20:
            return None
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None

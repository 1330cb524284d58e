"""Rebuild OUT whenever the site changes: the watcher behind ``feedpub serve --watch``.

A background thread compares the path, size and modification time of the
site's files once a second (POLL_SECONDS): polling needs nothing outside the
standard library. Hidden files are ignored, and so is OUT when it lies
inside the site, so publishing never looks like an edit. On a change it runs
feedpub.build(). A failed rebuild is one line on the log (``feedpub: rebuild
failed: ...``, or ``internal error: ...`` for a bug) and the previous feeds
stay served; the next change is built again. The preview server (serve.py)
owns a watcher and stops it when it closes.
"""
from __future__ import annotations

import os
import threading
import traceback
from pathlib import Path
from typing import Callable

from .errors import FeedpubError
from .text import printable

__all__ = ["POLL_SECONDS", "SiteWatcher"]

POLL_SECONDS = 1.0


def _site_signature(site_dir: Path, skip: Path | None = None) -> tuple:
    """(path, size, mtime) of every file of the site, hidden ones excepted: changes when the site does.

    skip (OUT, when it lies inside the site) is left out, so publishing never looks like an edit.
    """
    entries = []
    skip_real = os.path.realpath(skip) if skip is not None else None
    for dirpath, dirnames, filenames in os.walk(site_dir):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                             and os.path.realpath(os.path.join(dirpath, d)) != skip_real)
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            full = os.path.join(dirpath, name)
            try:
                st = os.stat(full)
            except OSError:
                continue
            entries.append((os.path.relpath(full, site_dir), st.st_size, st.st_mtime_ns))
    return tuple(entries)


class SiteWatcher:
    """Rebuilds OUT from the site whenever one of the site's files changes (polling, no dependency)."""

    def __init__(self, site_dir: Path, out_dir: Path, *, interval: float = POLL_SECONDS,
                 log: Callable[[str], None] | None = None, build: Callable | None = None):
        self.site_dir = Path(site_dir)
        self.out_dir = Path(out_dir)
        self.interval = interval
        self.log = log
        self.builds = 0
        self.last_error: str | None = None
        self._build = build
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._signature = self._scan()

    def _scan(self) -> tuple:
        return _site_signature(self.site_dir, self.out_dir)

    def rebuild(self) -> None:
        """Build once now; a failure is reported as one line, and the previous feeds stay served."""
        build = self._build
        if build is None:
            from .pipeline import build
        try:
            report = build(self.site_dir, self.out_dir)
        except FeedpubError as exc:
            self._failed(str(exc))
        except Exception as exc:        # a bug must not end the watching: say so, as the command would
            if os.environ.get("FEEDPUB_DEBUG"):
                self._say(traceback.format_exc().rstrip())
            self._failed(f"internal error: {type(exc).__name__}: {printable(str(exc))} "
                         "(set FEEDPUB_DEBUG=1 for details)")
        else:
            self.last_error = None
            changed = len(report.changed) if hasattr(report, "changed") else 0
            self._say(f"rebuilt {self.out_dir}: {changed} feed files updated"
                      + (f", {len(report.errors)} record(s) rejected" if getattr(report, "errors", None) else ""))
            for line in getattr(report, "errors", []):
                self._say(line)
        finally:
            self.builds += 1

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="feedpub-watch", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _failed(self, message: str) -> None:
        self.last_error = message
        self._say(f"feedpub: rebuild failed: {message}")

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            signature = self._scan()
            if signature != self._signature:
                self._signature = signature
                self._say(f"{self.site_dir} changed")
                self.rebuild()

    def _say(self, line: str) -> None:
        if self.log is not None:
            self.log(line)

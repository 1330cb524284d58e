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
import stat
import threading
import time
import traceback
from pathlib import Path
from typing import Callable

from .config import CONFIG_NAME
from .errors import FeedpubError
from .text import printable

__all__ = ["DATABASE_SECONDS", "POLL_SECONDS", "SiteWatcher"]

POLL_SECONDS = 1.0
DATABASE_SECONDS = 5.0      # how often a site with [source] asks its database whether a feed would change


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
                 log: Callable[[str], None] | None = None, build: Callable | None = None,
                 database_interval: float = DATABASE_SECONDS):
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
        self.database_interval = database_interval
        self._database = False              # the site reads a database: checked every database_interval
        self._asked = time.monotonic()

    def _scan(self) -> tuple:
        return _site_signature(self.site_dir, self.out_dir)

    def rebuild(self, *, quiet_if_unchanged: bool = False) -> None:
        """Build once now; a failure is reported as one line, and the previous feeds stay served.
        quiet_if_unchanged: say nothing when no file changed (the database's periodic check)."""
        build = self._build
        if build is None:
            from .pipeline import build
        self._asked = time.monotonic()
        config = self.site_dir / CONFIG_NAME
        try:
            kind = _not_regular(config)
            if kind is not None:            # reading it would block (a FIFO) or fail: say so, try again later
                self._failed(f"{config}: is {kind} (expected a regular file)")
                return
            self._database = _reads_database(config)
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
            if quiet_if_unchanged and not changed and not getattr(report, "errors", None):
                return
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
            elif self._database and time.monotonic() - self._asked >= self.database_interval:
                # A build whose inputs did not change asks the database for its selection's
                # fingerprint and stops there: it renders only when a row a feed shows changed.
                self.rebuild(quiet_if_unchanged=True)

    def _say(self, line: str) -> None:
        """One printable line: a config error quoting ESC or BEL cannot drive the terminal."""
        if self.log is not None:
            self.log(printable(line))


def _not_regular(path: Path) -> str | None:
    """What path is when it is there but not a regular file (a FIFO would block the build that reads it)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None                         # missing or unreadable: the build says so itself
    if stat.S_ISREG(mode):
        return None
    return {stat.S_IFIFO: "a FIFO", stat.S_IFDIR: "a folder", stat.S_IFSOCK: "a socket",
            stat.S_IFCHR: "a device", stat.S_IFBLK: "a device"}.get(stat.S_IFMT(mode), "not a regular file")


def _reads_database(config: Path) -> bool:
    """True when the site's feedpub.toml has a [source] table (read only after _not_regular passed)."""
    import tomllib
    try:
        with open(config, "rb") as f:
            return isinstance(tomllib.load(f).get("source"), dict)
    except (OSError, ValueError):
        return False

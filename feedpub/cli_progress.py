"""The progress line a build shows on a terminal: stage, records per second, files written.

Shown only when stderr is a terminal and the run was not asked to be quiet, and only once the run has
taken longer than DELAY seconds (a quick run, the usual cron case, shows nothing); redrawn at most
every INTERVAL seconds on one line (carriage return, erase line), and erased at the end, so the
summary that follows is exactly what it is without a terminal.
"""
from __future__ import annotations

import sys
import time

__all__ = ["DELAY", "INTERVAL", "TerminalProgress"]

DELAY = 1.0
INTERVAL = 0.2


class TerminalProgress:
    """A progress.Watcher drawing one line on a terminal stream."""

    def __init__(self, stream=None, *, delay: float = DELAY, clock=time.monotonic):
        self.stream = stream if stream is not None else sys.stderr
        self.clock = clock
        self.start = clock()
        self.delay = delay
        self.name = "starting"
        self.records = 0
        self.files = 0
        self.drawn = False
        self.last = 0.0
        self.broken = False

    def stage(self, name: str) -> None:
        self.name = name
        self._draw(force=True)

    def read(self, records: int) -> None:
        self.records += records
        self._draw()

    def wrote(self, files: int) -> None:
        self.files += files
        self._draw()

    def line(self) -> str:
        elapsed = max(self.clock() - self.start, 1e-9)
        return (f"feedpub: {self.name}: {self.records:,} records read ({self.records / elapsed:,.0f}/s), "
                f"{self.files:,} files written, {elapsed:.1f} s")

    def _draw(self, force: bool = False) -> None:
        now = self.clock()
        if self.broken or now - self.start < self.delay or (not force and now - self.last < INTERVAL):
            return
        self.last = now
        self._put("\r\x1b[K" + self.line())
        self.drawn = True

    def close(self) -> None:
        """Erase the line, if one was drawn."""
        if self.drawn:
            self._put("\r\x1b[K")
            self.drawn = False

    def _put(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.broken = True

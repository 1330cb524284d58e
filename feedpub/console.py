"""The command's two streams, written so that no reader on the other end can change a run's outcome.

stdout may be /dev/full or a pipe whose reader has gone (`feedpub build | head -1`); stderr too.
Once the feeds are published, nothing printed about them may turn the run into a failure: a line
that cannot be written is dropped (with every later line to that stream), the stream is pointed at
/dev/null at the end (so Python's last flush at exit cannot fail either), and the run ends with the
status it earned. Every line is made printable
first: data it quotes (a path, a record's field) can neither forge a second line nor drive the
terminal.
"""
from __future__ import annotations

import errno
import os
import sys

from .text import printable

__all__ = ["Console"]


class Console:
    """stdout and stderr, one printable line at a time; a failed write is noted, never raised."""

    def __init__(self) -> None:
        self.failed: dict[str, OSError] = {}        # "stdout"/"stderr" -> why writing to it failed

    def out(self, line: str) -> None:
        self._write("stdout", line)

    def err(self, line: str) -> None:
        self._write("stderr", line)

    def _write(self, name: str, line: str) -> None:
        if name in self.failed:
            return
        stream = getattr(sys, name)
        try:
            stream.write(printable(line) + "\n")
            stream.flush()
        except (OSError, ValueError) as exc:        # ValueError: the stream was closed
            self.failed[name] = exc if isinstance(exc, OSError) else OSError(errno.EBADF, str(exc))

    def finish(self) -> None:
        """Flush both streams; say once on stderr (when it still works) that stdout failed, unless
        its reader simply left (a closed pipe is how `| head` ends a run's output: not news)."""
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            try:
                stream.flush()
            except (OSError, ValueError) as exc:
                self.failed.setdefault(name, exc if isinstance(exc, OSError) else OSError(errno.EBADF, str(exc)))
            if name in self.failed:
                _to_devnull(stream)
        lost = self.failed.get("stdout")
        if lost is not None and lost.errno != errno.EPIPE:
            self.err(f"feedpub: warning: stdout: {lost.strerror or lost}: some output was lost "
                     "(the run's outcome is unchanged)")


def _to_devnull(stream) -> None:
    """Point the stream's descriptor at /dev/null: what is still buffered, and every later write, goes there."""
    try:
        fd = stream.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError):
        return
    try:
        os.dup2(null, fd)
    except OSError:
        pass
    finally:
        os.close(null)

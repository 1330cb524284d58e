"""Produce part of a run's output in a forked child process while this process produces the rest.

A run renders on one core while the machine has two: a child forked once the
feed models exist inherits them (and the compiled templates, the sanitiser, the
imported libraries) for free, produces its share as (name, bytes) pairs and
writes them, one at a time, to a file in memory (memfd) or an unlinked
temporary file. This process reads them back, again one at a time, when its own
share is done and the child has exited. Nothing else crosses: the child never
touches OUT, the cache or the lock.

The child is an optimisation only. If it cannot be forked, fails, is killed, or
leaves an incomplete file, the same `produce` runs here instead, so the result
never depends on it (and an exception in `produce` is raised here, as it would
be without a child).
"""
from __future__ import annotations

import os
import signal
import struct
import tempfile
from typing import Callable, Iterable, Iterator

from .children import become_child, signals_held

__all__ = ["Offloaded", "spare_core"]

_FRAME = struct.Struct("<IQ")          # name length, data length
_END = 0xFFFFFFFF                      # name length of the closing frame
_BUFFER = 1 << 20

Produce = Callable[[], Iterable[tuple[str, bytes]]]


def spare_core() -> bool:
    """True where a forked child can run beside this process: POSIX fork, two usable cores, and no
    other thread (a lock another thread holds at the fork would stay held in the child for ever:
    `feedpub serve` serves while it rebuilds, so its builds render on one process)."""
    import threading
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return False
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return cores >= 2


class Offloaded:
    """`produce()` run in a forked child; `results()` yields its pairs here, in its order.

    Use as a context manager: leaving it early (an error in this process) kills and reaps the child.
    """

    def __init__(self, produce: Produce):
        self._produce = produce
        self._pid: int | None = None
        self._spool = None

    def __enter__(self) -> "Offloaded":
        parent = os.getpid()
        try:
            self._spool = _spool()
            with signals_held():               # the child takes no signal before become_child() has run
                self._pid = os.fork()
                if self._pid == 0:             # the child: never returns
                    self._run_child(parent)
        except OSError:
            self._close_spool()
            self._pid = None
        except BaseException:                  # a signal that waited for the fork: the child goes too
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self._pid is not None:
            try:
                os.kill(self._pid, signal.SIGKILL)
            except OSError:
                pass
            self._reap()
        self._close_spool()

    def results(self) -> Iterator[tuple[str, bytes]]:
        """The child's pairs once it has exited cleanly; otherwise produce() run here."""
        ok = self._pid is not None and self._reap() == 0
        if ok:
            frames = self._frames()
            if frames is not None:
                yield from frames
                return
        yield from self._produce()

    # --- this process -----------------------------------------------------------------------

    def _reap(self) -> int | None:
        """Wait for the child; its exit code, or None when it did not exit normally."""
        pid, self._pid = self._pid, None
        while True:
            try:
                _, status = os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
            except ChildProcessError:
                return None
        return os.WEXITSTATUS(status) if os.WIFEXITED(status) else None

    def _frames(self) -> Iterator[tuple[str, bytes]] | None:
        """An iterator over the spool's pairs, or None when the spool does not end as the child ends it."""
        spool = self._spool
        spool.seek(0, os.SEEK_END)
        size = spool.tell()
        if size < _FRAME.size:
            return None
        spool.seek(size - _FRAME.size)
        if _FRAME.unpack(spool.read(_FRAME.size)) != (_END, 0):
            return None
        spool.seek(0)
        return self._read(spool, size - _FRAME.size)

    @staticmethod
    def _read(spool, end: int) -> Iterator[tuple[str, bytes]]:
        while spool.tell() < end:
            name_len, data_len = _FRAME.unpack(spool.read(_FRAME.size))
            name = spool.read(name_len).decode("utf-8")
            yield name, spool.read(data_len)

    def _close_spool(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None

    # --- the child ----------------------------------------------------------------------------

    def _run_child(self, parent: int) -> None:
        code = 1
        try:
            import gc
            gc.freeze()                        # inherited objects are never scanned: fewer copied pages
            become_child(parent)
            with open(os.dup(self._spool.fileno()), "wb", buffering=_BUFFER) as out:
                for name, data in self._produce():
                    encoded = name.encode("utf-8")
                    out.write(_FRAME.pack(len(encoded), len(data)))
                    out.write(encoded)
                    out.write(data)
                out.write(_FRAME.pack(_END, 0))
            code = 0
        except BaseException:                  # noqa: BLE001 - the parent produces it again, and reports
            pass
        finally:
            os._exit(code)                     # no atexit, no flushing of buffers inherited from the parent


def _spool():
    """A file for the child's output: in memory where the system has memfd (no disk, no page
    of it in either process's resident set), else an unlinked temporary file."""
    if hasattr(os, "memfd_create"):
        try:
            return open(os.memfd_create("feedpub-spool", os.MFD_CLOEXEC), "w+b")
        except OSError:
            pass
    return tempfile.TemporaryFile(prefix="feedpub-")


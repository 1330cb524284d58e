"""One error policy at the edge: how every way a command can end becomes an exit status and one line.

    0    every feed published, no record rejected (or nothing needed publishing)
    1    feeds published, but some records were rejected (listed on stderr)
    2    usage error (unknown option, bad --now)
    3    nothing published: bad config, unreadable site or output, or --strict with a rejected record
    4    another feedpub run holds the output directory's lock past --wait
    130  interrupted (SIGINT, Ctrl+C); 143 terminated (SIGTERM): nothing half-published

Whatever ends a run is mapped here, once, and nowhere else: a FeedpubError is its own message; an
OSError anywhere (a full disk, a file that vanished) is exit 3 with the path and the system's
message; a full disk under SQLite says so; running out of memory is exit 3 in words; a signal ends
the run as its own kind of exception (never a traceback), after every cleanup ran; anything else is
a bug, said in one line ("internal error"). The CLI prints the lines; the run report records the
same status and meaning.
"""
from __future__ import annotations

import errno
import os
import signal
import sqlite3
from dataclasses import dataclass, field

from .errors import ColumnTypeError, FeedpubError, LockedError, RejectedError, UsageError

__all__ = ["EXIT_FAILED", "EXIT_LOCKED", "EXIT_OK", "EXIT_REJECTED", "EXIT_USAGE", "MEANINGS", "Interrupted",
           "Outcome", "interruption", "of_exception", "settled", "stop_on_signals"]

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_FAILED, EXIT_LOCKED = 0, 1, 2, 3, 4
EXIT_SIGINT, EXIT_SIGTERM = 128 + signal.SIGINT, 128 + signal.SIGTERM
MEANINGS = {
    EXIT_OK: "published",
    EXIT_REJECTED: "published; some records were rejected",
    EXIT_USAGE: "usage error, or a database column that cannot hold its field: nothing was done",
    EXIT_FAILED: "nothing published",
    EXIT_LOCKED: "another run holds the lock: nothing published",
    EXIT_SIGINT: "interrupted (SIGINT): nothing half-published",
    EXIT_SIGTERM: "terminated (SIGTERM): nothing half-published",
}


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived: raised where the run was, so every cleanup (temporary files, the
    lock, the helper processes) runs as the exception passes; not an Exception, so nothing mistakes
    it for an error to recover from."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


@dataclass(frozen=True)
class Outcome:
    """How a command ended: its exit status and the lines that say why (stderr)."""

    status: int
    lines: list[str] = field(default_factory=list)

    @property
    def meaning(self) -> str:
        return MEANINGS.get(self.status, "unknown")


def stop_on_signals() -> None:
    """SIGINT and SIGTERM raise Interrupted in the main thread; a second one during the cleanup the
    first started is ignored, so that cleanup always finishes."""

    def stop(signum, frame):
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        raise Interrupted(signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)


def settled() -> None:
    """The run is over and its outcome decided: SIGINT and SIGTERM are ignored from now on. (Python gives
    its handlers back to the system while it shuts down, and a signal then would kill the process, so
    that a run that published would be seen as killed by the signal.)"""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)


def interruption(exc: BaseException | None) -> Interrupted | None:
    """The Interrupted behind exc: exc itself, or the signal during whose unwinding a cleanup raised exc
    (a buffer still exported, a connection already gone); None when no signal is involved. A signal
    stays a signal, whatever the cleanup it started raised."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, Interrupted):
            return exc
        seen.add(id(exc))
        exc = exc.__context__
    return None


def of_exception(exc: BaseException, *, cache: str | None = None) -> Outcome:
    """The outcome of a command that raised exc (cache: the cache file's path, named when SQLite
    itself fails under it)."""
    stopped = interruption(exc)
    if stopped is not None:
        status = EXIT_SIGINT if stopped.signum == signal.SIGINT else EXIT_SIGTERM
        return Outcome(status, [f"feedpub: {MEANINGS[status]}"])
    if isinstance(exc, LockedError):
        return Outcome(EXIT_LOCKED, [f"feedpub: {exc}"])
    if isinstance(exc, (UsageError, ColumnTypeError)):
        return Outcome(EXIT_USAGE, [f"feedpub: {exc}"])
    if isinstance(exc, RejectedError):
        return Outcome(EXIT_FAILED, [*exc.errors, f"feedpub: {exc}"])
    if isinstance(exc, FeedpubError):
        return Outcome(EXIT_FAILED, [f"feedpub: {exc}"])
    if isinstance(exc, OSError):
        return Outcome(EXIT_FAILED, [f"feedpub: {_os_error(exc)}; nothing was published"])
    if isinstance(exc, sqlite3.Error) and _full_disk(exc):
        where = f"{cache}: " if cache else ""
        return Outcome(EXIT_FAILED, [f"feedpub: {where}the cache cannot be written: {exc} "
                                     f"({errno.errorcode[errno.ENOSPC]}); nothing was published"])
    if isinstance(exc, sqlite3.OperationalError):
        where = f"{cache}: " if cache else ""
        return Outcome(EXIT_FAILED, [f"feedpub: {where}the cache cannot be used: {exc}; nothing was published"])
    if isinstance(exc, MemoryError):
        return Outcome(EXIT_FAILED, ["feedpub: out of memory: an input is larger than this machine can hold; "
                                     "nothing was published"])
    return Outcome(EXIT_FAILED, [f"feedpub: internal error: {type(exc).__name__}: {exc} "
                                 "(set FEEDPUB_DEBUG=1 for details)"])


def debugging() -> bool:
    """FEEDPUB_DEBUG=1: a bug shows its traceback instead of one line."""
    return bool(os.environ.get("FEEDPUB_DEBUG"))


def _os_error(exc: OSError) -> str:
    """PATH: the system's message (and the second path of a rename)."""
    message = exc.strerror or str(exc)
    if exc.filename is None:
        return message
    shown = os.fsdecode(exc.filename) if isinstance(exc.filename, bytes) else str(exc.filename)
    if exc.filename2 is not None:
        second = os.fsdecode(exc.filename2) if isinstance(exc.filename2, bytes) else str(exc.filename2)
        return f"{shown} -> {second}: {message}"
    return f"{shown}: {message}"


def _full_disk(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code == 13 or "disk is full" in str(exc)          # SQLITE_FULL

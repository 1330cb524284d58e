"""What every helper process of a run does first: it must never outlive the run, hold its lock, or
answer Ctrl+C itself.

The scan workers (ingest/workers.py) and the renderer's forked child (forked.py) are forked from a
run that holds the output lock. A child that kept the lock's descriptor would keep the next cron run
out; a child that outlived its parent would be an orphan writing into nothing; a child that took
Ctrl+C (the terminal sends it to the whole process group) would print its own traceback. The run
itself answers the signal (it removes its temporary files, releases the lock and exits), and ends
its children; SIGTERM ends a child through Python (see _leave).
"""
from __future__ import annotations

import contextlib
import os
import signal
from typing import Iterator

__all__ = ["ORPHANED", "STOP_SIGNALS", "become_child", "signals_held"]

ORPHANED = 1                   # exit status of a child whose parent was already gone when it started
STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})
_PR_SET_PDEATHSIG = 1


def become_child(parent: int, inherited: tuple[int, ...] = ()) -> None:
    """Call first in a forked child: close the run's inherited descriptors (the output lock), leave
    SIGINT to the parent, die with the parent, and exit at once if the parent is already gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _leave)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    for fd in inherited:
        try:
            os.close(fd)
        except OSError:
            pass
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)    # Linux
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(ORPHANED)


def _leave(signum, frame) -> None:
    """SIGTERM in a child (the parent ending it, or systemd stopping the whole group): leave through
    Python, so every lock the child holds is released on the way out. Killed outright, a worker
    waiting for its next task would die holding its pool's queue lock, and the parent, ending the
    pool, would wait for that lock for ever."""
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait (blocked, not lost) until the block ends: for the few instants that
    must not be cut in two, such as renaming a run's files into place, or forking children that
    must not take a signal before they have set themselves up. Only the calling thread is held."""
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    except (AttributeError, OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)

"""How far a run has got, for whoever wants to show it: the stage, records read, files written.

The run's stages call stage(), read() and wrote() as they go; nothing happens unless a watcher was
installed with watching() (the command does, on a terminal: see TerminalProgress in cli_progress.py).
A module-level hook rather than a parameter threaded through every stage: progress is a view of the
run, never an input to it, and costs one attribute read when nobody watches.
"""
from __future__ import annotations

import contextlib
from typing import Iterator, Protocol

__all__ = ["Watcher", "counted", "read", "stage", "watching", "wrote"]


class Watcher(Protocol):
    def stage(self, name: str) -> None: ...
    def read(self, records: int) -> None: ...
    def wrote(self, files: int) -> None: ...


_watcher: Watcher | None = None


@contextlib.contextmanager
def watching(watcher: Watcher | None) -> Iterator[None]:
    """Report the progress of whatever runs inside the block to watcher (None: to nobody)."""
    global _watcher
    previous, _watcher = _watcher, watcher
    try:
        yield
    finally:
        _watcher = previous


def stage(name: str) -> None:
    """The run entered a stage ("scanning", "rendering", ...)."""
    if _watcher is not None:
        _watcher.stage(name)


def read(records: int) -> None:
    """This many more records (or rows) were read."""
    if _watcher is not None:
        _watcher.read(records)


def wrote(files: int = 1) -> None:
    """This many more files of OUT were rendered and handed to publishing."""
    if _watcher is not None:
        _watcher.wrote(files)


def counted(files):
    """The (path, bytes) pairs of `files`, each reported as written once it is taken."""
    for pair in files:
        yield pair
        wrote(1)

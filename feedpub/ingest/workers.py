"""Scan many record files, on two processes when there is enough to read and a second core to read it.

Files go to the workers in batches (a few big files each, or many small ones),
biggest first so that both workers finish together; each scan comes back as
msgpack bytes and is handed to the caller in turn, so the main process stores
one batch's rows in the index while the workers read the next ones. Only a few
batches are handed out ahead, so results never pile up in memory.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Callable, Iterator

import msgspec

from .. import progress
from ..children import become_child, signals_held
from ..records import RecordRules
from .scan import FileScan, ScanSettings, scan_file, unreadable

__all__ = ["scan_files"]

PARALLEL_BYTES = 32 << 20        # below this, starting a second process costs more than it saves
BATCH_BYTES = 4 << 20            # one task: files adding up to about this much (or one bigger file)
BATCH_FILES = 512
WINDOW = 4                       # batches handed out ahead of the one being stored: bounds memory
_JOB: tuple | None = None
_DECODER = msgspec.msgpack.Decoder(list[FileScan])
_ENCODER = msgspec.msgpack.Encoder()


def _scan_one(site_dir: Path, path: str, rules: RecordRules, settings: ScanSettings, now_ts: float) -> FileScan:
    """One file's scan; a file too big to hold in memory is that file's problem, not the run's."""
    try:
        return scan_file(site_dir, path, rules, settings, now_ts)
    except MemoryError:
        return unreadable(path, OSError(0, "it does not fit in memory (expected a record file of a "
                                           "size this machine can read)"))


def _scan_batch(paths: list[str]) -> bytes:
    site_dir, rules, settings, now_ts = _JOB
    return _ENCODER.encode([_scan_one(site_dir, path, rules, settings, now_ts) for path in paths])


def _batches(paths: list[str], sizes: dict[str, int]) -> list[list[str]]:
    """Biggest files first, grouped so that no task is tiny."""
    batches: list[list[str]] = []
    current: list[str] = []
    weight = 0
    for path in sorted(paths, key=lambda p: (-sizes[p], p)):
        current.append(path)
        weight += sizes[path]
        if weight >= BATCH_BYTES or len(current) >= BATCH_FILES:
            batches.append(current)
            current, weight = [], 0
    if current:
        batches.append(current)
    return batches


def scan_files(site_dir: Path, paths: list[str], sizes: dict[str, int], rules: RecordRules,
               settings: ScanSettings, now_ts: float, *, close_in_workers: tuple[int, ...] = (),
               while_waiting: Callable[[], None] | None = None) -> Iterator[FileScan]:
    """The scan of every path, in no particular order, as each one is ready.

    close_in_workers: file descriptors (the output lock) the worker processes must close.
    while_waiting: called once in this process while the workers scan (e.g. to import the renderers).
    """
    global _JOB
    progress.stage("reading records")
    total = sum(sizes.get(p, 0) for p in paths)
    if len(paths) < 2 or total < PARALLEL_BYTES or (os.cpu_count() or 1) < 2 or os.name != "posix":
        for path in paths:
            scan = _scan_one(site_dir, path, rules, settings, now_ts)
            progress.read(scan.records + len(scan.problems))
            yield scan
        return
    import multiprocessing
    from collections import deque
    _JOB = (site_dir, rules, settings, now_ts)
    try:
        with contextlib.ExitStack() as stack:
            with signals_held():        # no worker takes a signal before become_child(), nor the pool unowned
                pool = stack.enter_context(multiprocessing.get_context("fork").Pool(
                    2, initializer=become_child, initargs=(os.getpid(), close_in_workers)))
            batches = iter(_batches(paths, {p: sizes.get(p, 0) for p in paths}))
            window: deque = deque()

            def submit() -> None:
                for batch in batches:
                    window.append(pool.apply_async(_scan_batch, (batch,)))
                    if len(window) >= WINDOW:
                        return

            submit()
            if while_waiting is not None:
                while_waiting()
            while window:
                blob = window.popleft().get()
                submit()                        # keep both workers busy, but never far ahead
                for scan in _DECODER.decode(blob):
                    progress.read(scan.records + len(scan.problems))
                    yield scan
    finally:
        _JOB = None

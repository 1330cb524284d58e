"""Scan many record files, on two processes when there is enough to read and a second core to read it.

Files go to the workers in batches (a few big files each, or many small ones),
biggest first so that both workers finish together; each scan comes back as
msgpack bytes and is handed to the caller in turn, so the main process stores
one batch's rows in the index while the workers read the next ones. Only a few
batches are handed out ahead, so results never pile up in memory.

Each worker is a forked process with a pipe pair of its own (no shared queue, so
no lock a killed worker could take with it): interrupted at any instant, the run
kills and reaps its workers and goes on with its own cleanup.
"""
from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Callable, Iterator

import msgspec

from .. import progress
from ..children import become_child, signals_held
from ..records import RecordRules
from .scan import FileScan, Resume, ScanSettings, scan_file, unreadable

__all__ = ["scan_files", "scan_grown"]

PARALLEL_BYTES = 32 << 20        # below this, starting a second process costs more than it saves
BATCH_BYTES = 4 << 20            # one task: files adding up to about this much (or one bigger file)
BATCH_FILES = 512
WINDOW = 4                       # batches handed out ahead of the one being stored: bounds memory
_JOB: tuple | None = None
_DECODER = msgspec.msgpack.Decoder(list[FileScan])
_ENCODER = msgspec.msgpack.Encoder()


def _scan_one(site_dir: Path, path: str, rules: RecordRules, settings: ScanSettings, now_ts: float,
              resume: Resume | None = None) -> FileScan:
    """One file's scan; a file too big to hold in memory is that file's problem, not the run's."""
    try:
        return scan_file(site_dir, path, rules, settings, now_ts, resume=resume)
    except MemoryError:
        return unreadable(path, OSError(0, "it is larger than this machine can hold in memory"))


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
    _JOB = (site_dir, rules, settings, now_ts)
    try:
        with _Workers(2, close_in_workers) as workers:
            batches = iter(_batches(paths, {p: sizes.get(p, 0) for p in paths}))
            for worker in workers.idle():                # two batches each: a worker never waits for the next
                for _ in range(WINDOW // 2):
                    batch = next(batches, None)
                    if batch is not None:
                        worker.send(batch)
            if while_waiting is not None:
                while_waiting()
            while workers.busy():
                worker, blob = workers.next_result()
                batch = next(batches, None)
                if batch is not None:
                    worker.send(batch)                   # keep both busy, never far ahead
                for scan in _DECODER.decode(blob):
                    progress.read(scan.records + len(scan.problems))
                    yield scan
    finally:
        _JOB = None


def scan_grown(site_dir: Path, paths: list[str], resume: Callable[[str], Resume | None], rules: RecordRules,
               settings: ScanSettings, now_ts: float) -> Iterator[FileScan]:
    """The scans of files an earlier scan left a resume point in, in this process and in turn: each
    read from that point when its earlier bytes are unchanged (in full otherwise). resume(path)
    is asked just before the file is read."""
    for path in paths:
        scan = _scan_one(site_dir, path, rules, settings, now_ts, resume(path))
        progress.read(scan.records + len(scan.problems))
        yield scan


class _Worker:
    """One forked scan process and its two pipes: batches of paths in, encoded scans out."""

    def __init__(self, pid: int, tasks: int, results: int):
        self.pid, self.tasks, self.results = pid, tasks, results
        self.pending = 0

    def send(self, batch: list[str]) -> None:
        _write_frame(self.tasks, _ENCODER.encode(batch))
        self.pending += 1


class _Workers:
    """Scan processes with a pipe pair each, and nothing shared: a worker killed at any instant (Ctrl+C,
    systemd stopping the group) can leave no lock held that the run would then wait for."""

    def __init__(self, count: int, inherited: tuple[int, ...]):
        self.count, self.inherited = count, inherited
        self.workers: list[_Worker] = []

    def __enter__(self) -> "_Workers":
        parent = os.getpid()
        try:
            with signals_held():            # a worker takes no signal before become_child() has run
                for _ in range(self.count):
                    task_r, task_w = os.pipe()
                    result_r, result_w = os.pipe()
                    pid = os.fork()
                    if pid == 0:
                        os.close(task_w)
                        os.close(result_r)
                        _work(parent, self.inherited + tuple(w for x in self.workers for w in (x.tasks, x.results)),
                              task_r, result_w)
                    os.close(task_r)
                    os.close(result_w)
                    self.workers.append(_Worker(pid, task_w, result_r))
        except BaseException:
            self.__exit__()
            raise
        return self

    def idle(self) -> list[_Worker]:
        return list(self.workers)

    def busy(self) -> bool:
        return any(w.pending for w in self.workers)

    def next_result(self) -> tuple[_Worker, bytes]:
        """The next finished batch of any busy worker; SiteError-free: a worker that died is this run's bug."""
        import select
        waiting = {w.results: w for w in self.workers if w.pending}
        ready, _, _ = select.select(list(waiting), [], [])
        worker = waiting[ready[0]]
        blob = _read_frame(worker.results)
        if blob is None:
            raise RuntimeError(f"scan worker {worker.pid} ended before its batch was done")
        worker.pending -= 1
        return worker, blob

    def __exit__(self, *exc) -> None:
        """Normal end: the workers see their task pipe close and exit; otherwise they are killed. Either
        way each is reaped, and no descriptor is left open."""
        import signal
        for worker in self.workers:
            os.close(worker.tasks)
            if exc and exc[0] is not None:
                try:
                    os.kill(worker.pid, signal.SIGKILL)
                except OSError:
                    pass
        for worker in self.workers:
            while True:
                try:
                    os.waitpid(worker.pid, 0)
                    break
                except InterruptedError:
                    continue
                except ChildProcessError:
                    break
            os.close(worker.results)
        self.workers = []


def _work(parent: int, inherited: tuple[int, ...], tasks: int, results: int) -> None:
    """A worker's life: scan each batch that arrives, send its scans back, exit when the pipe closes."""
    code = 1
    try:
        become_child(parent, inherited)
        while True:
            frame = _read_frame(tasks)
            if frame is None:
                break
            _write_frame(results, _scan_batch(msgspec.msgpack.decode(frame, type=list[str])))
        code = 0
    except BaseException:                  # noqa: BLE001 - the parent sees the pipe close, and says so
        pass
    finally:
        os._exit(code)


_FRAME = struct.Struct("<Q")


def _write_frame(fd: int, data: bytes) -> None:
    view = memoryview(_FRAME.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read_frame(fd: int) -> bytes | None:
    head = _read_exactly(fd, _FRAME.size)
    if head is None:
        return None
    return _read_exactly(fd, _FRAME.unpack(head)[0])

"""Put bytes on disk so that a reader never sees a half-written file.

Each file goes to a temporary file in its own directory, is flushed and
fsynced, then renamed over the old one (os.replace is atomic on POSIX), and
the directory is fsynced. Unchanged bytes are not rewritten, so mtimes and
HTTP validators stay put. A lock serialises overlapping runs.
"""
from __future__ import annotations

import errno
import fcntl
import os
import time
from pathlib import Path, PurePosixPath
from typing import Iterable, Mapping

from .errors import LockedError, OutputConflictError, PublishError
from .layout import LOCK_NAME, MANIFEST, TEMP_NAME, TMP_SUFFIX, temp_name
from .manifest import find_conflicts, manifest_bytes

__all__ = ["LOCK_NAME", "TMP_SUFFIX", "OutputLock", "folders_of", "prepare_dir", "publish_files",
           "remove_stale_temps", "safe_target", "write_atomic"]


def safe_target(out_dir: Path, relpath: str) -> Path:
    """OUT/relpath, refusing anything that would land outside OUT."""
    rel = PurePosixPath(relpath)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise PublishError(f"{relpath}: refusing to write outside {out_dir}")
    return Path(out_dir, *rel.parts)


def prepare_dir(out_dir: Path) -> Path:
    """Create OUT if needed and check that it is a writable directory."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise PublishError(f"{out_dir}: is not a directory (expected the output directory)")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PublishError(f"{out_dir}: cannot create the output directory: {exc.strerror}") from None
    if not out_dir.is_dir():
        raise PublishError(f"{out_dir}: is not a directory (expected the output directory)")
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise PublishError(f"{out_dir}: is not writable (expected a directory feedpub may write to); "
                           "existing feeds were left as they were")
    return out_dir


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unchanged(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def _write_temp(path: Path, data: bytes, syncer: "_Syncer | None" = None) -> Path:
    """data in a fsynced temporary file beside path; PublishError (and no temp file) on failure.

    With a syncer the fsync (and close) is handed to it instead: the file is on disk only once
    syncer.wait() has returned, and a failure is reported there."""
    tmp = path.with_name(temp_name(path.name, os.getpid()))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except OSError as exc:
        raise PublishError(f"{path}: cannot be written: {exc.strerror}; the old version was kept") from None
    handed = False
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if syncer is not None:
                syncer.submit(fd, path)
                handed = True
            else:
                os.fsync(fd)
        finally:
            if not handed:
                os.close(fd)
    except BaseException as exc:
        _unlink(tmp)
        if isinstance(exc, OSError):
            raise PublishError(f"{path}: cannot be written: {exc.strerror}; the old version was kept") from None
        raise
    return tmp


class _Syncer:
    """fsync (then close) temporary files on a few threads: the kernel commits several at once,
    and os.fsync releases the GIL while this process writes the next file. At most IN_FLIGHT
    files are open at a time. Created only once the first rendered file has arrived, so no
    thread exists while a renderer forks."""

    THREADS = 4
    IN_FLIGHT = 32

    def __init__(self):
        from concurrent.futures import ThreadPoolExecutor
        self._pool = ThreadPoolExecutor(self.THREADS, thread_name_prefix="feedpub-fsync")
        self._pending: list = []

    def submit(self, fd: int, path: Path) -> None:
        if len(self._pending) >= self.IN_FLIGHT:
            self._settle(self._pending.pop(0))
        self._pending.append((self._pool.submit(_sync_and_close, fd), path))

    def wait(self) -> None:
        """Every submitted file is on disk, or PublishError for the first that is not (after all
        the others have been settled, so every descriptor is closed)."""
        failure = None
        while self._pending:
            try:
                self._settle(self._pending.pop(0))
            except PublishError as exc:
                failure = failure or exc
        if failure is not None:
            raise failure

    def close(self) -> None:
        try:
            self.wait()
        except PublishError:
            pass
        finally:
            self._pool.shutdown()

    @staticmethod
    def _settle(job) -> None:
        future, path = job
        try:
            future.result()
        except OSError as exc:
            raise PublishError(f"{path}: cannot be written: {exc.strerror}; the old version was kept") from None


def _sync_and_close(fd: int) -> None:
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _swap_in(pairs: list[tuple[Path, Path]]) -> None:
    """Rename every temporary file over its target, then fsync each directory once."""
    done = 0
    try:
        for tmp, path in pairs:
            os.replace(tmp, path)
            done += 1
    except BaseException as exc:
        for tmp, _ in pairs[done:]:
            _unlink(tmp)
        if isinstance(exc, OSError):
            raise PublishError(f"{pairs[done][1]}: cannot be replaced: {exc.strerror}") from None
        raise
    for directory in sorted({path.parent for _, path in pairs}):
        _fsync_dir(directory)


def write_atomic(path: Path, data: bytes) -> bool:
    """Replace path with data atomically; return False (and touch nothing) if it already holds data."""
    if _unchanged(path, data):
        return False
    _swap_in([(_write_temp(path, data), path)])
    return True


def remove_stale_temps(out_dir: Path, folders: Iterable[str]) -> None:
    """Delete temporary files a killed run left in the folders feedpub writes to (only its own:
    hidden, named after a file, a process id and TMP_SUFFIX)."""
    for folder in sorted(set(folders)):
        try:
            names = os.listdir(Path(out_dir, folder))
        except OSError:
            continue
        for name in names:
            if TEMP_NAME.fullmatch(name):
                _unlink(Path(out_dir, folder, name))



def folders_of(paths: Iterable[str]) -> set[str]:
    """OUT itself and every folder that holds one of these files."""
    return {"."} | {str(PurePosixPath(p).parent) for p in paths}


def publish_files(out_dir: Path, files: Mapping[str, bytes] | Iterable[tuple[str, bytes]], *,
                  planned: Iterable[str] | None = None, owned: frozenset[str] = frozenset()) -> dict[str, bool]:
    """Write every file (relative POSIX path -> bytes) and return path -> changed; remove the
    files feedpub published before (`owned`) that this run no longer produces.

    Nothing is written when a planned file exists and is not feedpub's own
    (OutputConflictError). Every changed file is first written and fsynced to a
    temporary file; only when all of them are on disk are they renamed into
    place, so a failure while writing (a full disk, say) leaves every old feed
    as it was. The manifest lists, at every instant, every file feedpub may
    have put in OUT. `files` may be a lazy iterable (then `planned` names its
    paths in advance): each file's bytes are dropped once its temporary file
    is written, so memory holds one rendered file at a time.
    """
    out_dir = Path(out_dir)
    if isinstance(files, Mapping):
        planned = set(files) if planned is None else set(planned)
        items: Iterable[tuple[str, bytes]] = files.items()
    else:
        if planned is None:
            raise ValueError("publish_files needs `planned` when files is not a mapping")
        planned, items = set(planned), files
    for rel in planned:
        safe_target(out_dir, rel)
    conflicts = find_conflicts(out_dir, planned, owned)
    if conflicts:
        raise OutputConflictError(out_dir, [(c.path, c.reason) for c in conflicts])
    changed: dict[str, bool] = {}
    pending: list[tuple[Path, Path]] = []
    syncer: _Syncer | None = None
    try:
        for rel, data in items:
            if rel in changed:
                raise PublishError(f"{rel}: produced twice in one run (two feeds map to one file)")
            if rel not in planned:
                raise PublishError(f"{rel}: produced but not planned; nothing was published")
            target = safe_target(out_dir, rel)
            changed[rel] = not _unchanged(target, data)
            if changed[rel]:
                if syncer is None:
                    syncer = _Syncer()
                pending.append((_write_temp(target, data, syncer), target))
            del data
        if syncer is not None:
            syncer.wait()                    # every temporary file is on disk before anything is renamed
    except BaseException:
        if syncer is not None:
            syncer.close()                   # every descriptor closed before its file is removed
        for tmp, _ in pending:
            _unlink(tmp)
        raise
    finally:
        if syncer is not None:
            syncer.close()
    missing = sorted(rel for rel in planned - set(changed) if not safe_target(out_dir, rel).is_file())
    if missing:                           # a file kept as it was is gone: publishing would leave a hole
        for tmp, _ in pending:
            _unlink(tmp)
        raise PublishError(f"{out_dir}: {missing[0]} was to be kept as it is but is missing; nothing was "
                           "published (run again, or with --full)")
    stale = sorted(owned - planned)
    if pending or stale or not (out_dir / MANIFEST).is_file():
        write_atomic(out_dir / MANIFEST, manifest_bytes(owned | planned))    # covers the swap below
    _swap_in(sorted(pending, key=lambda pair: str(pair[1])))
    for rel in stale:
        target = safe_target(out_dir, rel)
        try:
            if not target.is_symlink() and target.is_file():
                target.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise PublishError(f"{rel}: cannot remove a feed that is no longer produced: {exc.strerror}") from None
        _prune_empty(target.parent, out_dir)
    write_atomic(out_dir / MANIFEST, manifest_bytes(planned))
    return changed


def _prune_empty(directory: Path, root: Path) -> None:
    """Remove folders emptied by deleting a feed, up to (not including) OUT."""
    root = root.resolve()
    while directory.resolve() != root:
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent


class OutputLock:
    """An exclusive lock on OUT for the whole run; waits up to `wait` seconds for another run."""

    def __init__(self, out_dir: Path, wait: float):
        self.path = Path(out_dir) / LOCK_NAME
        self.wait = wait
        self.fd: int | None = None

    def __enter__(self) -> "OutputLock":
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise PublishError(f"{self.path}: cannot create the lock file: {exc.strerror}") from None
        deadline = time.monotonic() + max(self.wait, 0)
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            if time.monotonic() >= deadline:
                os.close(self.fd)
                self.fd = None
                raise LockedError(f"{self.path.parent}: another feedpub run is publishing here; "
                                  f"gave up after waiting {self.wait:g} s")
            time.sleep(0.05)

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

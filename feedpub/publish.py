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

from .errors import LockedError, PublishError

TMP_SUFFIX = ".feedpub-tmp"
LOCK_NAME = ".feedpub.lock"


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


def _write_temp(path: Path, data: bytes) -> Path:
    """data in a fsynced temporary file beside path; PublishError (and no temp file) on failure."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}{TMP_SUFFIX}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except OSError as exc:
        raise PublishError(f"{path}: cannot be written: {exc.strerror}; the old version was kept") from None
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException as exc:
        _unlink(tmp)
        if isinstance(exc, OSError):
            raise PublishError(f"{path}: cannot be written: {exc.strerror}; the old version was kept") from None
        raise
    return tmp


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


def remove_stale_temps(out_dir: Path) -> None:
    """Delete temporary files a killed run left behind (only feedpub's own)."""
    for tmp in Path(out_dir).rglob(f"*{TMP_SUFFIX}"):
        try:
            tmp.unlink()
        except OSError:
            pass


def publish_files(out_dir: Path, files: Mapping[str, bytes] | Iterable[tuple[str, bytes]],
                  remove: Iterable[str] = ()) -> dict[str, bool]:
    """Write every file (relative POSIX path -> bytes); return path -> changed. Then delete `remove`.

    Every changed file is first written and fsynced to a temporary file; only
    when all of them are on disk are they renamed into place, so a failure
    while writing (a full disk, say) leaves every old feed as it was. `files`
    may be a lazy iterable: each file's bytes are dropped once its temporary
    file is written, so memory holds one rendered file at a time.
    """
    items = files.items() if isinstance(files, Mapping) else files
    changed: dict[str, bool] = {}
    pending: list[tuple[Path, Path]] = []
    try:
        for rel, data in items:
            if rel in changed:
                raise PublishError(f"{rel}: produced twice in one run (two feeds map to one file)")
            target = safe_target(out_dir, rel)
            changed[rel] = not _unchanged(target, data)
            if changed[rel]:
                pending.append((_write_temp(target, data), target))
            del data
    except BaseException:
        for tmp, _ in pending:
            _unlink(tmp)
        raise
    _swap_in(sorted(pending, key=lambda pair: str(pair[1])))
    for rel in sorted(set(remove) - set(changed)):
        target = safe_target(out_dir, rel)
        try:
            target.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise PublishError(f"{rel}: cannot remove a feed that is no longer produced: {exc.strerror}") from None
        _prune_empty(target.parent, Path(out_dir))
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

"""Put bytes on disk so that a reader never sees a half-written file.

Each file goes to a temporary file in its own directory, is flushed and
fsynced, then renamed over the old one (rename is atomic on POSIX), and the
directory is fsynced. Unchanged bytes are not rewritten, so mtimes and HTTP
validators stay put. A lock serialises overlapping runs. Every one of these
steps goes through fsops.Tree: relative to a folder's descriptor, never
through a symbolic link.
"""
from __future__ import annotations

import errno
import fcntl
import os
import time
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Iterable, Mapping

from .children import signals_held
from .errors import LockedError, OutputConflictError, OutputPathError, PublishError
from .fsops import Tree, what_is_there
from .layout import LOCK_NAME, MANIFEST, PRIVATE_DIR, TEMP_NAME, TMP_SUFFIX, temp_name
from .manifest import find_conflicts, manifest_bytes

if TYPE_CHECKING:
    from .runstate import RunState

__all__ = ["LOCK_NAME", "TMP_SUFFIX", "FolderRoute", "OutputLock", "folders_of", "open_output", "publish_files",
           "remove_stale_temps", "safe_target", "write_atomic"]


def safe_target(out_dir: Path, relpath: str) -> Path:
    """OUT/relpath, refusing anything that would land outside OUT."""
    return Path(out_dir, _relative(relpath, out_dir))


def _relative(relpath: str, out_dir) -> str:
    """relpath as the plain relative POSIX path a Tree takes; PublishError for one leaving OUT."""
    rel = PurePosixPath(relpath)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise PublishError(f"{relpath}: refusing to write outside {out_dir}")
    return "/".join(rel.parts)


def open_output(out_dir: str | os.PathLike) -> Tree:
    """OUT, resolved once (it may be a link), created if needed, checked to be a directory feedpub
    may write to."""
    tree = Tree.open(out_dir, what="the output directory")
    if not os.access(".", os.W_OK | os.X_OK, dir_fd=tree.fd):
        tree.undo()
        tree.close()
        raise PublishError(f"{out_dir}: is not writable (expected a directory feedpub may write to); "
                           "existing feeds were left as they were")
    return tree


def _write_temp(out: Tree, rel: str, data: bytes, syncer: "_Syncer | None" = None) -> str:
    """data in a fsynced temporary file beside rel (its name returned); PublishError (and no temp
    file) on failure.

    With a syncer the fsync (and close) is handed to it instead: the file is on disk only once
    syncer.wait() has returned, and a failure is reported there."""
    folder, _, name = rel.rpartition("/")
    tmp = f"{folder}/{temp_name(name, os.getpid())}" if folder else temp_name(name, os.getpid())
    fd = out.create(tmp, replace_file=True)
    handed = False
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if syncer is not None:
                syncer.submit(fd, out.shown_path(rel))
                handed = True
            else:
                os.fsync(fd)
        finally:
            if not handed:
                os.close(fd)
    except BaseException as exc:
        out.discard(tmp)
        if isinstance(exc, OSError):
            raise PublishError(f"{out.shown_path(rel)}: cannot be written: {exc.strerror}; "
                               "the old version was kept") from None
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


def _swap_in(out: Tree, pairs: list[tuple[str, str]]) -> None:
    """Rename every temporary file over its target, then fsync each directory once."""
    done = 0
    try:
        for tmp, rel in pairs:
            out.move(tmp, rel)
            done += 1
    except BaseException as exc:
        for tmp, _ in pairs[done:]:
            out.discard(tmp)
        if isinstance(exc, OutputPathError):
            raise
        if isinstance(exc, OSError):
            raise PublishError(f"{out.shown_path(pairs[done][1])}: cannot be replaced: {exc.strerror}") from None
        raise
    for folder in sorted({rel.rpartition("/")[0] for _, rel in pairs}):
        out.fsync(folder)


def replace_file(out: Tree, rel: str, data: bytes) -> bool:
    """Replace rel with data atomically; return False (and touch nothing) if it already holds data."""
    if out.holds(rel, data):
        return False
    _swap_in(out, [(_write_temp(out, rel, data), rel)])
    return True


def write_atomic(path: Path, data: bytes) -> bool:
    """Replace the file at path with data atomically (its folders made); False, touching nothing,
    if it already holds data."""
    path = Path(path)
    with Tree.open(path.parent, what="a folder") as tree:
        return replace_file(tree, path.name, data)


def remove_stale_temps(out: Tree, folders: Iterable[str]) -> None:
    """Delete temporary files a killed run left in the folders feedpub writes to (only its own:
    hidden, named after a file, a process id and TMP_SUFFIX, and regular files; anything else
    so named is left alone, with a warning)."""
    for folder in sorted(set(folders) | {PRIVATE_DIR}):
        folder = "" if folder == "." else folder
        try:
            names = out.listdir(folder)
        except (OSError, OutputPathError):
            continue
        for name in names:
            if TEMP_NAME.fullmatch(name):
                rel = f"{folder}/{name}" if folder else name
                try:
                    left = out.remove_file(rel, counts=False)
                except OSError:
                    continue
                if left:
                    out.warnings.append(f"{out.shown_path(rel)}: named like a temporary file of feedpub's, but "
                                        f"{left[1].removeprefix('is ')}; left alone")


def folders_of(paths: Iterable[str]) -> set[str]:
    """OUT itself and every folder that holds one of these files."""
    return {"."} | {str(PurePosixPath(p).parent) for p in paths}


def publish_files(out: Tree | Path, files: Mapping[str, bytes] | Iterable[tuple[str, bytes]], *,
                  planned: Iterable[str] | None = None, owned: frozenset[str] = frozenset()) -> dict[str, bool]:
    """Write every file (relative POSIX path -> bytes) and return path -> changed; remove the
    files feedpub published before (`owned`) that this run no longer produces.

    Nothing is written when a planned file exists and is not feedpub's own, or when a link, a
    FIFO or a file lies where a folder of it belongs (OutputConflictError). Every changed file
    is first written and fsynced to a temporary file; only when all of them are on disk are
    they renamed into place, so a failure while writing (a full disk, say) leaves every old
    feed as it was. The manifest lists, at every instant, every file feedpub may have put in
    OUT. A file no longer produced that is not a regular file, or lies behind a link, is left
    alone (a warning in out.warnings). `files` may be a lazy iterable (then `planned` names
    its paths in advance): each file's bytes are dropped once its temporary file is written,
    so memory holds one rendered file at a time.
    """
    if not isinstance(out, Tree):
        with open_output(out) as tree:
            return publish_files(tree, files, planned=planned, owned=owned)
    if isinstance(files, Mapping):
        planned = set(files) if planned is None else set(planned)
        items: Iterable[tuple[str, bytes]] = files.items()
    else:
        if planned is None:
            raise ValueError("publish_files needs `planned` when files is not a mapping")
        planned, items = set(planned), files
    planned = {_relative(rel, out.shown) for rel in planned}
    conflicts = find_conflicts(out, planned, owned) + _temp_conflicts(out, planned | {MANIFEST})
    if conflicts:
        raise OutputConflictError(out.shown, [(c.path, c.reason) for c in conflicts])
    changed: dict[str, bool] = {}
    pending: list[tuple[str, str]] = []
    syncer: _Syncer | None = None
    try:
        for rel, data in items:
            rel = _relative(rel, out.shown)
            if rel in changed:
                raise PublishError(f"{rel}: produced twice in one run (two feeds map to one file)")
            if rel not in planned:
                raise PublishError(f"{rel}: produced but not planned; nothing was published")
            changed[rel] = not out.holds(rel, data)
            if changed[rel]:
                if syncer is None:
                    syncer = _Syncer()
                pending.append((_write_temp(out, rel, data, syncer), rel))
            del data
        if syncer is not None:
            syncer.wait()                    # every temporary file is on disk before anything is renamed
    except BaseException:
        if syncer is not None:
            syncer.close()                   # every descriptor closed before its file is removed
        for tmp, _ in pending:
            out.discard(tmp)
        raise
    finally:
        if syncer is not None:
            syncer.close()
    missing = sorted(rel for rel in planned - set(changed) if not _is_file(out, rel))
    if missing:                           # a file kept as it was is gone: publishing would leave a hole
        for tmp, _ in pending:
            out.discard(tmp)
        raise PublishError(f"{out.shown}: {missing[0]} was to be kept as it is but is missing; nothing was "
                           "published (run again, or with --full)")
    stale = sorted(owned - planned)
    with signals_held():        # Ctrl+C or SIGTERM waits for the swap: the old feeds or the new, never a mix
        try:
            if pending or stale or not _is_file(out, MANIFEST):
                replace_file(out, MANIFEST, manifest_bytes(owned | planned))    # covers the swap below
        except BaseException:
            for tmp, _ in pending:
                out.discard(tmp)
            raise
        _swap_in(out, sorted(pending, key=lambda pair: pair[1]))
        _remove_stale(out, stale)
        replace_file(out, MANIFEST, manifest_bytes(planned))
    return changed


class FolderRoute:
    """The publish step of a build whose OUT is a folder, as the run asks it (the counterpart of
    s3.route.BucketRoute): whether the last run's files are as it left them, the publish itself
    (publish_files, with the files the last run owned), and what the run state keeps of it."""

    def __init__(self, out: Tree, owned: frozenset[str] = frozenset()):
        self.out = out
        self.owned = owned                       # what the last run published (its manifest)
        self.removed: list[str] = []
        self._planned: frozenset[str] = frozenset()

    @property
    def warnings(self) -> list[str]:
        return self.out.warnings

    def unchanged_since(self, last: "RunState") -> bool:
        """Every file the last run published is still there, as it left it (size and mtime; itself,
        not a link)."""
        for rel, (size, mtime) in (last.outputs or {}).items():
            try:
                st = self.out.lstat(rel)
            except (OSError, OutputPathError):
                return False
            if st is None or (st.st_size, st.st_mtime_ns) != (size, mtime):
                return False
        return True

    def publish(self, files: Iterable[tuple[str, bytes]], planned: Iterable[str]) -> dict[str, bool]:
        """Publish the run's files (publish_files); path -> whether it was written."""
        self._planned = frozenset(planned)
        remove_stale_temps(self.out, folders_of(self.owned | self._planned))
        changed = publish_files(self.out, files, planned=self._planned, owned=self.owned)
        self.removed = sorted(self.owned - self._planned)
        return changed

    def outputs(self) -> dict[str, tuple[int, int]]:
        """The files published, as the run state lists outputs: (size, mtime_ns)."""
        found = {}
        for rel in sorted(self._planned):
            st = self.out.lstat(rel)
            found[rel] = (st.st_size, st.st_mtime_ns)
        return found

    def record(self) -> None:
        """A folder keeps nothing in the run state beyond its outputs."""
        return None


def _remove_stale(out: Tree, stale: list[str]) -> None:
    """Remove the files feedpub published that this run no longer produces, and the folders that
    leaves empty; one warning for each file that is not a regular file, and one for each link (or
    other non-folder) on the way, saying how many files behind it were left alone."""
    behind: dict[tuple[str, str], int] = {}
    for rel in stale:
        try:
            left = out.remove_file(rel)
        except OSError as exc:
            raise PublishError(f"{rel}: cannot remove a feed that is no longer produced: {exc.strerror}") from None
        if left is None:
            out.prune(rel.rpartition("/")[0])
        elif left[0] == rel:
            out.warnings.append(f"{out.shown_path(rel)}: no longer produced, but left alone: "
                                f"{left[1].removeprefix('is ')}")
        else:
            behind[left] = behind.get(left, 0) + 1
    for (where, why), count in behind.items():
        out.warnings.append(f"{out.shown_path(where)}: {why.removeprefix('is ')}; the {count} file(s) feedpub "
                            "published below it, no longer produced, were left alone")


def _temp_conflicts(out: Tree, paths: Iterable[str]) -> list:
    """The temporary names this run will write (one beside each file) that hold something it may not
    replace: a link, a FIFO, a folder. Found before anything is written, so that a run never stops
    half-way for one."""
    from .manifest import Conflict
    found = []
    for rel in sorted(paths):
        folder, _, name = rel.rpartition("/")
        tmp = f"{folder}/{temp_name(name, os.getpid())}" if folder else temp_name(name, os.getpid())
        try:
            st = out.lstat(tmp)
        except OutputPathError:
            continue                                    # its folder is named among the conflicts already
        problem = None if st is None else what_is_there(st, want_folder=False)
        if problem:
            found.append(Conflict(tmp, problem))
    return found


def _is_file(out: Tree, rel: str) -> bool:
    import stat
    try:
        st = out.lstat(rel)
    except OutputPathError:
        return False
    return st is not None and stat.S_ISREG(st.st_mode)


class OutputLock:
    """An exclusive lock on OUT for the whole run; waits up to `wait` seconds for another run.

    The lock file is opened in OUT's folder without following a link and must be a regular file.
    A run that publishes nothing removes the lock file it created (Tree.undo, while it still holds
    the lock): so a run that got the lock checks, once it holds it, that the file it locked is
    still the one at the lock's path, and starts again if not; two runs never both hold it."""

    def __init__(self, out: Tree | str | os.PathLike, wait: float):
        self._given = out
        self.tree: Tree | None = out if isinstance(out, Tree) else None
        self.path = (out.shown if isinstance(out, Tree) else Path(out)) / LOCK_NAME
        self.wait = wait
        self.fd: int | None = None

    def __enter__(self) -> "OutputLock":
        if self.tree is None:
            self.tree = open_output(self._given)
            self._own = True
        else:
            self._own = False
        deadline = time.monotonic() + max(self.wait, 0)
        while True:
            self.fd = self._open()
            while True:
                try:
                    fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                if time.monotonic() >= deadline:
                    self._close()
                    raise LockedError(f"{self.path.parent}: another feedpub run is publishing here; "
                                      f"gave up after waiting {self.wait:g} s")
                time.sleep(0.05)
            st = os.fstat(self.fd)
            try:
                current = self.tree.identity(LOCK_NAME)
            except OutputPathError:
                current = None
            if current == (st.st_dev, st.st_ino):
                return self
            self._close()                       # removed by a run that gave up: lock the new one

    def _open(self) -> int:
        """The lock file, created by this run (remembered for undo) or opened as it is."""
        for _ in range(100):
            try:
                return self.tree.open_existing(LOCK_NAME, os.O_RDONLY)
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise PublishError(f"{self.path}: cannot open the lock file: {exc.strerror}") from None
            try:
                return self.tree.create(LOCK_NAME, keep=True)
            except FileExistsError:
                continue                        # another run made it meanwhile: open theirs
            except OutputPathError as problem:
                if problem.reason.startswith("cannot be written: "):
                    raise PublishError(f"{self.path}: cannot create the lock file: "
                                       f"{problem.reason.removeprefix('cannot be written: ')}") from None
                raise
        raise PublishError(f"{self.path}: cannot create the lock file: it keeps disappearing")

    def _close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            self._close()
        if self._own and self.tree is not None:
            self.tree.close()

"""Every change feedpub makes inside OUT, and every read there, from OUT down by folder descriptors.

OUT is resolved once (it may itself be a symbolic link, as deploys often make
it) and opened; every folder below it is opened from its parent's descriptor
with O_NOFOLLOW, and every file is created, renamed, removed or read relative
to its folder's descriptor (dir_fd=). So no symbolic link at any depth inside
OUT can redirect a write or a removal, however and whenever it got there: the
technique shutil.rmtree uses against symlink attacks. Whatever is not a real
folder where feedpub needs one (a link, a file, a FIFO) is named in a
OutputPathError, never followed; what is not a regular file where feedpub removes
one is left alone, and a warning says so.

A Tree also remembers what this run created in it (folders, the lock, the
cache), so that a run that publishes nothing can leave the folder as it found
it (`undo`).
"""
from __future__ import annotations

import errno
import os
import stat
from collections import OrderedDict
from pathlib import Path

from .errors import OutputPathError, PublishError
from .opener import describe, open_regular, read_capped

__all__ = ["Tree", "relative_inside", "what_is_there"]

_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
MAX_OPEN_FOLDERS = 64             # folder descriptors kept open at once (a site may have thousands of folders)
NO_FOLLOW = "feedpub never follows one inside the folders it writes"


def relative_inside(root: str | os.PathLike, path: str | os.PathLike) -> str | None:
    """path relative to root ("." for root itself, forward slashes), both resolved as the run will
    use them; None when path lies outside root. The one rule for "is this file inside OUT?"."""
    root_real = os.path.realpath(root)
    real = os.path.realpath(path)
    if real != root_real and not real.startswith(root_real.rstrip(os.sep) + os.sep):
        return None
    return os.path.relpath(real, root_real).replace(os.sep, "/")


def what_is_there(st: os.stat_result, *, want_folder: bool) -> str | None:
    """Why an entry of this kind cannot be used where feedpub needs a folder (or a file); None if it can."""
    if stat.S_ISLNK(st.st_mode):
        return f"is a symbolic link ({NO_FOLLOW})"
    if want_folder:
        return None if stat.S_ISDIR(st.st_mode) else f"is {_noun(st.st_mode)} where feedpub needs a folder"
    if stat.S_ISDIR(st.st_mode):
        return "is a directory"
    return None if stat.S_ISREG(st.st_mode) else f"is {describe(st.st_mode)}, not a regular file"


def _noun(mode: int) -> str:
    return "a file" if stat.S_ISREG(mode) else describe(mode)


class Tree:
    """A folder (OUT, or the folder of the cache named by --state), resolved once and opened; every
    path given to its methods is relative to it, POSIX, and walked one folder at a time."""

    def __init__(self, root: Path, shown: Path, fd: int, made_above: list[Path]):
        self.root = root                    # resolved
        self.shown = shown                  # as the user named it: messages say this
        self._root_fd = fd
        self._fds: OrderedDict[str, int] = OrderedDict()
        self._made_above = made_above       # the root and its parents, if this run created them
        self._made: list[str] = []          # folders this run created, in order
        self._created: dict[str, tuple[int, int]] = {}     # files this run created -> (device, inode)
        self.changed = False                # something in the tree was replaced or removed
        self.warnings: list[str] = []

    # --- opening and closing -------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike, *, what: str = "the output directory", create: bool = True) -> "Tree":
        """The folder at path (symbolic links on the way resolved, once), created with its parents
        if needed; PublishError naming it if it is not a folder or cannot be made."""
        shown = Path(path)
        real = Path(os.path.realpath(shown))
        made: list[Path] = []
        if create and not os.path.lexists(real):
            missing = []
            probe = real
            while not os.path.lexists(probe) and probe != probe.parent:
                missing.append(probe)
                probe = probe.parent
            for folder in reversed(missing):
                try:
                    os.mkdir(folder)
                    made.append(folder)
                except FileExistsError:
                    pass
                except OSError as exc:
                    _remove_folders(made)
                    raise PublishError(f"{shown}: cannot create {what}: {exc.strerror}") from None
        try:
            fd = os.open(real, _FOLDER_FLAGS)
        except OSError as exc:
            _remove_folders(made)
            if exc.errno in (errno.ENOTDIR, errno.ELOOP):
                raise PublishError(f"{shown}: is not a directory (expected {what})") from None
            raise PublishError(f"{shown}: cannot be opened as {what}: {exc.strerror}") from None
        return cls(real, shown, fd, made)

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
        if self._root_fd >= 0:
            os.close(self._root_fd)
            self._root_fd = -1

    def __enter__(self) -> "Tree":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def shown_path(self, rel: str) -> Path:
        return self.shown / rel if rel not in ("", ".") else self.shown

    # --- folders ---------------------------------------------------------------------------

    @property
    def fd(self) -> int:
        return self._root_fd

    def folder(self, rel: str, *, create: bool = False) -> int | None:
        """The descriptor of folder rel ("" is the root), or None when it is not there (unless
        create). OutputPathError when something on the way is not a real folder."""
        if rel in ("", "."):
            return self._root_fd
        fd = self._fds.get(rel)
        if fd is not None:
            self._fds.move_to_end(rel)
            return fd
        parent_rel, _, name = rel.rpartition("/")
        parent = self.folder(parent_rel, create=create)
        if parent is None:
            return None
        try:
            fd = os.open(name, _FOLDER_FLAGS, dir_fd=parent)
        except FileNotFoundError:
            if not create:
                return None
            try:
                os.mkdir(name, 0o777, dir_fd=parent)
                self._made.append(rel)
            except FileExistsError:
                pass
            except OSError as exc:
                raise OutputPathError(self.shown, rel, f"cannot be created: {exc.strerror}") from None
            try:
                fd = os.open(name, _FOLDER_FLAGS, dir_fd=parent)
            except OSError as exc:
                raise self._not_a_folder(parent, name, rel, exc) from None
        except OSError as exc:
            raise self._not_a_folder(parent, name, rel, exc) from None
        self._fds[rel] = fd
        if len(self._fds) > MAX_OPEN_FOLDERS:
            os.close(self._fds.popitem(last=False)[1])
        return fd

    def _not_a_folder(self, parent: int, name: str, rel: str, exc: OSError) -> OutputPathError:
        try:
            st = os.stat(name, dir_fd=parent, follow_symlinks=False)
        except OSError:
            return OutputPathError(self.shown, rel, f"cannot be opened: {exc.strerror}")
        reason = what_is_there(st, want_folder=True)
        return OutputPathError(self.shown, rel, reason or f"cannot be opened: {exc.strerror}")

    def _split(self, rel: str, *, create: bool = False) -> tuple[int | None, str]:
        parent_rel, _, name = rel.rpartition("/")
        return self.folder(parent_rel, create=create), name

    def _forget(self, rel: str) -> None:
        """Close the descriptors of folder rel and of every folder below it."""
        for key in [k for k in self._fds if k == rel or k.startswith(rel + "/")]:
            os.close(self._fds.pop(key))

    # --- looking and reading ---------------------------------------------------------------

    def lstat(self, rel: str) -> os.stat_result | None:
        """What is at rel, itself (never what a link points to); None when nothing is."""
        parent, name = self._split(rel)
        if parent is None:
            return None
        try:
            return os.stat(name, dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise OutputPathError(self.shown, rel, f"cannot be examined: {exc.strerror}") from None

    def read(self, rel: str, *, cap: int | None) -> bytes | None:
        """The bytes of the regular file at rel (at most cap), None when nothing is there; OSError
        (opener.UnusableFile for a link, a FIFO, a folder, a file too big) otherwise."""
        parent, name = self._split(rel)
        if parent is None:
            return None
        try:
            fd = open_regular(name, cap=cap, dir_fd=parent, follow=False)
        except FileNotFoundError:
            return None
        try:
            return read_capped(fd, cap)
        finally:
            os.close(fd)

    def head(self, rel: str, size: int) -> bytes:
        """The first `size` bytes of the regular file at rel; OSError if it is not one (or is gone)."""
        parent, name = self._split(rel)
        if parent is None:
            raise FileNotFoundError(2, "No such file or directory")
        fd = open_regular(name, dir_fd=parent, follow=False)
        try:
            return os.read(fd, size)
        finally:
            os.close(fd)

    def holds(self, rel: str, data: bytes) -> bool:
        """True when rel is a regular file holding exactly these bytes."""
        try:
            parent, name = self._split(rel)
            if parent is None:
                return False
            fd = open_regular(name, cap=len(data), dir_fd=parent, follow=False)
        except (OSError, OutputPathError):
            return False
        try:
            return read_capped(fd, len(data)) == data
        except OSError:
            return False
        finally:
            os.close(fd)

    def listdir(self, rel: str) -> list[str]:
        fd = self.folder(rel)
        return [] if fd is None else os.listdir(fd)

    def proc_path(self, rel: str) -> str:
        """A path naming rel through its folder's descriptor (/proc/self/fd/N/NAME), for a library
        that wants a path (SQLite): it reaches the folder this tree opened, whatever links were put
        on the textual path. The textual path where /proc is absent."""
        parent, name = self._split(rel, create=True)
        via = f"/proc/self/fd/{parent}"
        if os.path.isdir(via):
            return f"{via}/{name}"
        return str(self.root / rel)

    # --- changing --------------------------------------------------------------------------

    def create(self, rel: str, *, mode: int = 0o644, replace_file: bool = False, keep: bool = False) -> int:
        """A new file at rel, open for writing (its folders created). A regular file already there is
        replaced when replace_file (a temporary file a killed run left), or else FileExistsError;
        anything else there is a OutputPathError. keep: remember it as created by this run, for undo()."""
        parent, name = self._split(rel, create=True)
        for attempt in (0, 1):
            try:
                fd = os.open(name, _NEW_FILE_FLAGS, mode, dir_fd=parent)
            except FileExistsError:
                st = self.lstat(rel)
                if st is None and not attempt:
                    continue
                reason = what_is_there(st, want_folder=False) if st is not None else None
                if reason is None and st is not None:
                    if not replace_file:
                        raise
                    if not attempt:
                        self._unlink_quietly(parent, name)
                        continue
                raise OutputPathError(self.shown, rel, reason or "keeps coming back") from None
            except OSError as exc:
                raise OutputPathError(self.shown, rel, f"cannot be written: {exc.strerror}") from None
            if keep:
                st = os.fstat(fd)
                self._created[rel] = (st.st_dev, st.st_ino)
            return fd
        raise OutputPathError(self.shown, rel, "keeps coming back")

    def open_existing(self, rel: str, flags: int) -> int:
        """The regular file at rel, opened with flags (never through a link, never blocking);
        FileNotFoundError when it is not there, OutputPathError when it is not a regular file."""
        parent, name = self._split(rel)
        if parent is None:
            raise FileNotFoundError(2, "No such file or directory")
        try:
            fd = os.open(name, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=parent)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENXIO, errno.EISDIR, errno.EOPNOTSUPP):
                st = self.lstat(rel)
                if st is not None:
                    raise OutputPathError(self.shown, rel, what_is_there(st, want_folder=False)
                                      or f"cannot be opened: {exc.strerror}") from None
            raise
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise OutputPathError(self.shown, rel, what_is_there(st, want_folder=False) or "is not a regular file")
        return fd

    def link_new(self, src_rel: str, dst_rel: str) -> bool:
        """Make dst a second name of src (same folder), never replacing what is at dst; True if
        made. What it makes counts as created by this run."""
        parent, src = self._split(src_rel)
        _, dst = self._split(dst_rel)
        try:
            os.link(src, dst, src_dir_fd=parent, dst_dir_fd=parent, follow_symlinks=False)
        except FileExistsError:
            return False
        st = os.stat(dst, dir_fd=parent, follow_symlinks=False)
        self._created[dst_rel] = (st.st_dev, st.st_ino)
        return True

    def move(self, src_rel: str, dst_rel: str) -> None:
        """Rename src over dst, both in one folder: atomic, and never through a link (a link at dst
        is replaced itself)."""
        parent, src = self._split(src_rel)
        _, dst = self._split(dst_rel)
        if parent is None:
            raise FileNotFoundError(2, "No such file or directory")
        self.changed = True
        os.rename(src, dst, src_dir_fd=parent, dst_dir_fd=parent)

    def discard(self, rel: str) -> None:
        """Remove a file of feedpub's own making (a temporary file, a damaged cache), if there."""
        try:
            parent, name = self._split(rel)
        except OutputPathError:
            return
        if parent is not None:
            self._unlink_quietly(parent, name)
            self._created.pop(rel, None)

    @staticmethod
    def _unlink_quietly(parent: int, name: str) -> None:
        try:
            os.unlink(name, dir_fd=parent)
        except OSError:
            pass

    def remove_file(self, rel: str, *, counts: bool = True) -> tuple[str, str] | None:
        """Remove the regular file at rel; None when it is gone (or was never there), else what stopped
        it, (path, why): a link, a file or a FIFO on the way, or in its place something that is not a
        regular file; feedpub never follows or removes such a thing. counts=False for a file of
        feedpub's own making whose removal changes nothing (a stale temporary file)."""
        try:
            st = self.lstat(rel)
        except OutputPathError as problem:
            return problem.rel, problem.reason
        if st is None:
            return None
        if not stat.S_ISREG(st.st_mode):
            return rel, what_is_there(st, want_folder=False) or "is not a regular file"
        parent, name = self._split(rel)
        try:
            os.unlink(name, dir_fd=parent)
        except FileNotFoundError:
            return None
        self.changed = self.changed or counts
        return None

    def prune(self, rel: str) -> None:
        """Remove folder rel and its parents up to (not including) the root while they are empty."""
        while rel not in ("", "."):
            parent_rel, _, name = rel.rpartition("/")
            try:
                parent = self.folder(parent_rel)
            except OutputPathError:
                return
            if parent is None:
                return
            self._forget(rel)
            try:
                os.rmdir(name, dir_fd=parent)                   # never follows a link: ENOTDIR
            except OSError:
                return
            rel = parent_rel

    def fsync(self, rel: str) -> None:
        fd = self.folder(rel)
        if fd is not None:
            os.fsync(fd)

    def identity(self, rel: str) -> tuple[int, int] | None:
        st = self.lstat(rel)
        return None if st is None else (st.st_dev, st.st_ino)

    # --- leaving no trace --------------------------------------------------------------------

    def undo(self) -> None:
        """Remove what this run created here (files still the ones it made, then its folders, the
        deepest first, while empty, then the root itself if this run made it): for a run that
        publishes nothing. Does nothing once something in the tree was replaced or removed."""
        if self.changed:
            return
        for rel, ident in reversed(list(self._created.items())):
            try:
                if self.identity(rel) == ident:
                    parent, name = self._split(rel)
                    os.unlink(name, dir_fd=parent)
            except (OSError, OutputPathError):
                pass
        self._created.clear()
        for rel in reversed(self._made):
            self._forget(rel)
            try:
                parent, name = self._split(rel)
                if parent is not None:
                    os.rmdir(name, dir_fd=parent)
            except (OSError, OutputPathError):
                pass
        self._made.clear()
        if self._made_above:
            self.close()
            _remove_folders(self._made_above)
            self._made_above = []


def _remove_folders(made: list[Path]) -> None:
    """Remove folders made outside any tree (OUT and its parents), the deepest first, while empty."""
    for folder in reversed(made):
        try:
            os.rmdir(folder)
        except OSError:
            return

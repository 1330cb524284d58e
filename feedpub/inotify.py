"""Which files of a site changed, as the kernel says it (Linux inotify, through ctypes), not by polling.

    events = site_events(site_dir, ignore=[out_dir])
    select([events, ...], [], [], timeout)      # its fileno() is readable when something changed
    changed = events.read()                      # Changed(config=…, records=…), or None

Why inotify directly rather than the `watchfiles` package: `feedpub watch` waits on three kinds of
event at once (files, the database's NOTIFY socket, signals), and inotify is one file descriptor that
select() waits on beside the others, in the same thread, with no library and no thread of its own.
watchfiles (Rust `notify`) would bring a compiled dependency and its own blocking loop that the
database socket and the signals cannot join; its debouncing is a dozen lines here (watch.py). The
cost is Linux only: elsewhere, and when the kernel refuses more watches (fs.inotify.max_user_watches),
the site is compared once a second instead (PolledSite), as `serve --watch` always did.

Every directory of the site is watched (hidden ones and the ignored paths excepted: OUT, the cache),
for what editors and writers do: a file written in place or appended to (IN_MODIFY, IN_CLOSE_WRITE),
saved by renaming a new file over it (IN_MOVED_TO), created, removed, touched (IN_ATTRIB), a folder
added (watched at once, with whatever it already holds) or removed, and feedpub.toml replaced.
"""
from __future__ import annotations

import ctypes
import errno
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .config import CONFIG_NAME

__all__ = ["Changed", "PolledSite", "SiteEvents", "site_events"]

IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE = 0x2, 0x4, 0x8
IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x40, 0x80, 0x100, 0x200
IN_DELETE_SELF, IN_MOVE_SELF = 0x400, 0x800
IN_Q_OVERFLOW, IN_IGNORED, IN_ONLYDIR, IN_ISDIR = 0x4000, 0x8000, 0x01000000, 0x40000000
IN_NONBLOCK, IN_CLOEXEC = os.O_NONBLOCK, os.O_CLOEXEC
WATCHED = (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
           | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
_HEADER = struct.Struct("iIII")                  # struct inotify_event: wd, mask, cookie, len (then the name)
POLL_SECONDS = 1.0                               # PolledSite: how often the site is compared


@dataclass(frozen=True)
class Changed:
    """What one read found: feedpub.toml changed (it is read again), and/or some other file of the site."""

    config: bool = False
    records: bool = False

    def __or__(self, other: "Changed | None") -> "Changed":
        if other is None:
            return self
        return Changed(self.config or other.config, self.records or other.records)


class _Site:
    """A site's root, and which of its paths are not watched: hidden ones and the ignored paths
    (OUT, the cache, the report files)."""

    def __init__(self, root: Path, ignore: Iterable[Path] = ()):
        self.root = Path(root)
        self._ignore = {os.path.realpath(p) for p in ignore}

    def _skipped(self, path: str) -> bool:
        hidden = os.path.basename(path).startswith(".") and path != str(self.root)
        return hidden or os.path.realpath(path) in self._ignore


class SiteEvents(_Site):
    """inotify watches on every directory of a site; fileno() for select(), read() for what changed."""

    def __init__(self, root: Path, ignore: Iterable[Path] = ()):
        super().__init__(root, ignore)
        self._libc = ctypes.CDLL(None, use_errno=True)
        fd = self._libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
        self._fd = fd
        self._dirs: dict[int, str] = {}          # watch descriptor -> the directory it watches
        try:
            self._watch_tree(str(self.root))
        except BaseException:
            self.close()
            raise

    def fileno(self) -> int:
        return self._fd

    def _watch_tree(self, top: str) -> None:
        """Watch top and every directory under it (hidden and ignored ones excepted)."""
        if self._skipped(top):
            return
        self._add(top)
        for dirpath, dirnames, _ in os.walk(top):
            dirnames[:] = [d for d in dirnames if not self._skipped(os.path.join(dirpath, d))]
            for name in dirnames:
                self._add(os.path.join(dirpath, name))

    def _add(self, path: str) -> None:
        wd = self._libc.inotify_add_watch(self._fd, os.fsencode(path), WATCHED)
        if wd < 0:
            err = ctypes.get_errno()
            if err in (errno.ENOENT, errno.ENOTDIR):        # gone already, or not a folder: nothing to watch
                return
            raise OSError(err, f"cannot watch {path}: {os.strerror(err)}")
        self._dirs[wd] = path

    def read(self) -> Changed | None:
        """Every event queued since the last read, as what changed (None: nothing that matters, such as a
        hidden file or OUT). Never blocks."""
        found: Changed | None = None
        while True:
            try:
                data = os.read(self._fd, 64 * 1024)
            except BlockingIOError:
                return found
            except InterruptedError:
                continue
            offset = 0
            while offset + _HEADER.size <= len(data):
                wd, mask, _cookie, size = _HEADER.unpack_from(data, offset)
                raw = data[offset + _HEADER.size:offset + _HEADER.size + size].rstrip(b"\0")
                offset += _HEADER.size + size
                event = self._event(wd, mask, os.fsdecode(raw))
                if event is not None:
                    found = event | found

    def _event(self, wd: int, mask: int, name: str) -> Changed | None:
        if mask & IN_Q_OVERFLOW:                 # events were lost: anything may have changed
            self._watch_tree(str(self.root))
            return Changed(config=True, records=True)
        folder = self._dirs.get(wd)
        if mask & IN_IGNORED:
            self._dirs.pop(wd, None)
            return None
        if folder is None:
            return None
        if mask & (IN_DELETE_SELF | IN_MOVE_SELF):
            return Changed(records=True) if folder != str(self.root) else Changed(config=True, records=True)
        if not name:
            return None
        path = os.path.join(folder, name)
        if self._skipped(path):
            return None
        if mask & IN_ISDIR and mask & (IN_CREATE | IN_MOVED_TO):
            self._watch_tree(path)               # a new folder, and whatever was put in it before the watch
        if folder == str(self.root) and name == CONFIG_NAME:
            return Changed(config=True)
        return Changed(records=True)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class PolledSite(_Site):
    """The fallback: the path, size, mtime and ctime of every file of the site, compared each time
    read() is called (every POLL_SECONDS). fileno() is None: there is nothing to wait on."""

    interval = POLL_SECONDS

    def __init__(self, root: Path, ignore: Iterable[Path] = (), reason: str = ""):
        super().__init__(root, ignore)
        self.reason = reason
        self._config, self._others = self._signature()

    def fileno(self) -> None:
        return None

    def _signature(self) -> tuple[tuple, tuple]:
        config, others = (), []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if not self._skipped(os.path.join(dirpath, d)))
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                if self._skipped(full):
                    continue
                try:
                    st = os.stat(full)
                except OSError:
                    continue
                entry = (os.path.relpath(full, self.root), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
                if dirpath == str(self.root) and name == CONFIG_NAME:
                    config = entry
                else:
                    others.append(entry)
        return config, tuple(others)

    def read(self) -> Changed | None:
        config, others = self._signature()
        found = Changed(config=config != self._config, records=others != self._others)
        self._config, self._others = config, others
        return found if found.config or found.records else None

    def close(self) -> None:
        pass


def site_events(root: Path, ignore: Iterable[Path] = ()) -> SiteEvents | PolledSite:
    """Kernel notifications for the site where the system has them; the once-a-second comparison where
    it does not (not Linux, or no inotify watch left: the reason is the PolledSite's `reason`)."""
    try:
        return SiteEvents(root, ignore)
    except (OSError, AttributeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return PolledSite(root, ignore, reason=f"no kernel file notifications here ({reason}): the site is compared "
                                              f"every {POLL_SECONDS:g} s instead")

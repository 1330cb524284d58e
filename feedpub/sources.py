"""Which record files a site has, and their signatures: the cheap first look every run takes.

Kept free of heavy imports: a run with nothing to do stops after this. Only
regular files are records: a FIFO would block a reader forever and a link to
/dev/zero would never end, so anything else named *.json or *.jsonl is skipped
with a warning. Files are opened without blocking and checked again once open.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SiteError

RECORD_SUFFIXES = (".json", ".jsonl")

Signature = tuple[int, int, int, int]       # size, mtime_ns, inode, ctime_ns


@dataclass
class SiteFiles:
    signatures: dict[str, Signature]         # relative POSIX path -> signature, sorted by path
    skipped: list[str] = field(default_factory=list)   # warnings for what is not a regular file


def signature(st: os.stat_result) -> Signature:
    """What changes when a file's content may have: a copy that keeps size and mtime (cp -p,
    rsync -t) still changes the change time."""
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


def site_files(site_dir: Path) -> SiteFiles:
    """Every regular *.json / *.jsonl under SITE/articles (any depth, hidden names skipped) with
    its signature, in path order (the order duplicates are judged in)."""
    root = os.path.join(os.fspath(site_dir), "articles")
    if not os.path.isdir(root):
        raise SiteError(f"{root}: not a directory (expected the site's articles/ folder)")
    found: dict[str, Signature] = {}
    skipped: list[str] = []
    pending = [("", root)]
    while pending:
        prefix, folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            raise SiteError(f"{exc.filename or folder}: cannot be read: {exc.strerror}") from None
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            rel = f"{prefix}{name}"
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append((f"{rel}/", entry.path))
                    continue
                if not name.endswith(RECORD_SUFFIXES):
                    continue
                st = entry.stat()
            except FileNotFoundError:
                skipped.append(f"articles/{rel}: a link to nothing; skipped (expected a regular file)")
                continue
            except OSError as exc:
                skipped.append(f"articles/{rel}: cannot be examined ({exc.strerror}); skipped")
                continue
            if not stat.S_ISREG(st.st_mode):
                skipped.append(f"articles/{rel}: {_kind(st.st_mode)}, not a regular file; skipped")
                continue
            found[f"articles/{rel}"] = signature(st)
    return SiteFiles(dict(sorted(found.items())), sorted(skipped))


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "a special file"


def open_record_file(path: str | os.PathLike) -> int:
    """A read-only descriptor for a regular file, never blocking on a FIFO that took its place;
    OSError (ENOTSUP-like, with a message) for anything else."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(0, f"{_kind(st.st_mode)}, not a regular file")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd

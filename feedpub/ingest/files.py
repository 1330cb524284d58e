"""Which record files a site has, and their signatures: the cheap first look every run takes.

Kept free of heavy imports: a run with nothing to do stops after this. Only
regular files are records: a FIFO would block a reader forever and a link to
/dev/zero would never end, so anything else named *.json or *.jsonl is skipped
with a warning. Files are opened through feedpub's one opener (opener.py):
without blocking, checked again once open, a *.json file no larger than its cap.
A file whose name is not UTF-8 cannot be kept track of: it is a problem of its
own (the others are read).
"""
from __future__ import annotations

import hashlib
import os
import stat
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from sys import intern

from ..errors import RecordError, SiteError
from ..opener import RECORD_FILE, RECORD_STREAM, describe, open_regular

RECORD_SUFFIXES = (".json", ".jsonl")

Signature = tuple[int, int, int, int]       # size, mtime_ns, inode, ctime_ns


@dataclass
class SiteFiles:
    """The record files of a site as one walk found them: paths and their signatures, in the
    order the walk met them (stable while no folder changes), plus warnings for what was skipped.

    A run with nothing to do only compares `digest` with the last run's; the
    per-file mapping is built only when something changed.
    """

    paths: list[str]                         # relative POSIX paths, walk order
    numbers: array                           # four per path: size, mtime_ns, inode, ctime_ns
    skipped: list[str] = field(default_factory=list)
    problems: list[RecordError] = field(default_factory=list)     # files that cannot be read at all

    @property
    def digest(self) -> str:
        h = hashlib.blake2b(self.numbers.tobytes(), digest_size=16)
        h.update("\0".join(self.paths).encode("utf-8", "surrogateescape"))
        return h.hexdigest()

    @property
    def signatures(self) -> dict[str, Signature]:
        """path -> signature, in path order (the order duplicate ids are judged in)."""
        n = self.numbers
        found = {path: (n[4 * i], n[4 * i + 1], n[4 * i + 2], n[4 * i + 3]) for i, path in enumerate(self.paths)}
        return dict(sorted(found.items()))


def signature(st: os.stat_result) -> Signature:
    """What changes when a file's content may have: a copy that keeps size and mtime (cp -p,
    rsync -t) still changes the change time."""
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


def site_files(site_dir: Path, *, required: bool = True) -> SiteFiles:
    """Every regular *.json / *.jsonl under SITE/articles (any depth, hidden names skipped).
    Without articles/: SiteError, or no files when the site's records are in a database."""
    root = os.path.join(os.fspath(site_dir), "articles")
    if not os.path.isdir(root):
        if not required and not os.path.lexists(root):
            return SiteFiles([], array("q"))
        raise SiteError(f"{root}: not a directory (expected the site's articles/ folder)")
    paths: list[str] = []
    numbers = array("q")
    skipped: list[str] = []
    problems: list[RecordError] = []
    add, extend = paths.append, numbers.extend
    pending = [("articles/", root)]
    while pending:
        prefix, folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError as exc:
            raise SiteError(f"{exc.filename or folder}: cannot be read: {exc.strerror}") from None
        for entry in entries:
            name = entry.name
            if name[0] == ".":
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append((f"{prefix}{name}/", entry.path))
                    continue
                if not name.endswith(RECORD_SUFFIXES):
                    continue
                st = entry.stat()
            except FileNotFoundError:
                skipped.append(f"{prefix}{name}: a link to nothing; skipped (expected a regular file)")
                continue
            except OSError as exc:
                skipped.append(f"{prefix}{name}: cannot be examined ({exc.strerror}); skipped")
                continue
            if not stat.S_ISREG(st.st_mode):
                skipped.append(f"{prefix}{name}: {describe(st.st_mode)}, not a regular file; skipped")
                continue
            rel = prefix + name
            if not rel.isascii() and not _utf8(rel):
                problems.append(RecordError(os.fsencode(rel).decode("utf-8", "backslashreplace"), 0, None,
                                            "the file's name is not valid UTF-8, so feedpub cannot keep track "
                                            "of it (expected a UTF-8 name: rename the file)"))
                continue
            add(intern(rel))                   # one string per path, shared with what the scans return
            extend((st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns))
    return SiteFiles(paths, numbers, sorted(skipped), sorted(problems, key=lambda p: p.source))


def _utf8(name: str) -> bool:
    """False for a name the file system gave with bytes that are not UTF-8 (decoded as surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def open_record_file(path: str | os.PathLike) -> int:
    """A read-only descriptor for a regular record file, never blocking on a FIFO that took its
    place; OSError (opener.UnusableFile, with a message) for anything else. The size limits of
    limits.py (json_file_bytes, jsonl_line_bytes) are the reader's to check, on this descriptor."""
    kind = RECORD_STREAM if os.fspath(path).endswith(".jsonl") else RECORD_FILE
    return open_regular(path, cap=kind.cap)

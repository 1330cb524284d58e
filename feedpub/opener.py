"""One opener for every file feedpub reads: a regular file or a clear error, never a hang.

A FIFO would block its reader forever, /dev/zero never ends, a sparse file of
6 GB would fill memory: every file feedpub reads (the configuration, record
files, the manifest, the cache's header, a SQLite source, the files `feedpub
validate` checks) is opened here without blocking (O_NONBLOCK), checked with
fstat to be a regular file, and read up to a cap. `KINDS` lists each kind of
file with its cap and the error it becomes; every OSError turns into that
error, naming the path and the system's message. The caps on what a site
writes are limits of the one limits table (limits.py: config_bytes,
validate_file_bytes, json_file_bytes, jsonl_line_bytes), named in the message;
only feedpub's own files (the manifest, the cache's header) have caps of their
own here, against damage.
"""
from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass

from .errors import CacheError, ConfigError, FeedpubError, PublishError, SourceError
from .limits import DEFAULTS, over

__all__ = ["CACHE_HEADER", "CONFIG", "DATABASE", "FEED", "KINDS", "MANIFEST_FILE", "RECORD_FILE", "RECORD_STREAM",
           "InputKind", "UnusableFile", "check_input", "describe", "open_regular", "problem", "read_capped",
           "read_input"]

# The caps on feedpub's own files (bytes): not inputs a site writes, so not in the limits table.
MANIFEST_MAX_BYTES = 64 << 20         # the manifest (layout.MANIFEST): one path per published file
CACHE_HEADER_BYTES = 100              # the SQLite header, where the application id is


class UnusableFile(OSError):
    """A path that is there but is not a regular file, or is larger than feedpub reads of it
    (then `size` is how large)."""

    size: int | None = None


@dataclass(frozen=True, slots=True)
class InputKind:
    name: str                           # what messages call it
    cap: int | None                     # bytes read at most; None: opened and checked, read by its own reader
    error: type[FeedpubError] | None    # what an OSError becomes; None: the caller reports it for that input
    expected: str = ""                  # what the message says was expected, where the name alone does not
    limit: str = ""                     # the limits table's entry that is its cap, if a site writes it


CONFIG = InputKind("feedpub.toml", DEFAULTS["config_bytes"], ConfigError, limit="config_bytes")
# Record files are capped by the site's own limits (limits.py: json_file_bytes for a *.json file,
# measured on the open descriptor before a byte is read; jsonl_line_bytes for each line of a *.jsonl).
RECORD_FILE = InputKind("a *.json record file", None, None)           # one problem for that file
RECORD_STREAM = InputKind("a *.jsonl record file", None, None)        # streamed: its lines are capped instead
MANIFEST_FILE = InputKind("the manifest", MANIFEST_MAX_BYTES, PublishError)
CACHE_HEADER = InputKind("the cache", CACHE_HEADER_BYTES, CacheError)
DATABASE = InputKind("a SQLite source database", None, SourceError,   # SQLite reads it; checked only
                     "a SQLite database file")
FEED = InputKind("a feed file to validate", DEFAULTS["validate_file_bytes"], None,   # a finding for that file
                 "a readable file", limit="validate_file_bytes")
KINDS = (CONFIG, RECORD_FILE, RECORD_STREAM, MANIFEST_FILE, CACHE_HEADER, DATABASE, FEED)


def describe(mode: int) -> str:
    """What a file of this mode is, as a message names it."""
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.1f} {unit}"
    return f"{n} bytes"


def too_big(size: int, cap: int) -> UnusableFile:
    exc = UnusableFile(errno.EFBIG, f"{_size(size)}, more than the {_size(cap)} feedpub reads of such a file")
    exc.size = size
    return exc


def problem(kind: InputKind, exc: OSError) -> str:
    """What went wrong reading a file of this kind, for a message after its name: over its limit
    (named, with how to change it), or "cannot be read: ", the system's words and what the kind
    expected."""
    size = getattr(exc, "size", None)
    if kind.limit and size is not None:
        return over(kind.limit, f"is {size:,} bytes")
    expected = f" (expected {kind.expected})" if kind.expected else ""
    return f"cannot be read: {exc.strerror or exc}{expected}"


def open_regular(path: str | os.PathLike, *, cap: int | None = None, dir_fd: int | None = None,
                 follow: bool = True) -> int:
    """A read-only descriptor for a regular file of at most `cap` bytes, opened without blocking on a
    FIFO; OSError otherwise (UnusableFile says what is there instead). With follow=False a
    symbolic link is refused too (path is then a name in the folder dir_fd)."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags, dir_fd=dir_fd)
    except OSError as exc:
        raise _explained(path, exc, dir_fd, follow) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnusableFile(errno.EINVAL, f"{describe(st.st_mode)}, not a regular file")
        if cap is not None and st.st_size > cap:
            raise too_big(st.st_size, cap)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _explained(path, exc: OSError, dir_fd: int | None, follow: bool) -> OSError:
    """A failed open, said plainly where the system's words mislead: a socket (ENXIO), a link
    refused by O_NOFOLLOW (ELOOP)."""
    if exc.errno not in (errno.ENXIO, errno.ELOOP, errno.EOPNOTSUPP):
        return exc
    try:
        st = os.stat(path, dir_fd=dir_fd, follow_symlinks=follow)
    except OSError:
        return exc
    if stat.S_ISLNK(st.st_mode):
        return UnusableFile(errno.ELOOP, "a symbolic link, which feedpub does not follow here")
    return UnusableFile(exc.errno, f"{describe(st.st_mode)}, not a regular file")


def read_capped(fd: int, cap: int | None) -> bytes:
    """Everything an open file holds, or UnusableFile once it holds more than cap bytes (it may
    have grown since it was opened)."""
    chunks = []
    total = 0
    while True:
        want = 1 << 20 if cap is None else min(1 << 20, cap + 1 - total)
        chunk = os.read(fd, want) if want > 0 else b""
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if cap is not None and total > cap:
            raise too_big(total, cap)
    return b"".join(chunks)


def read_file(path: str | os.PathLike, *, cap: int | None, dir_fd: int | None = None, follow: bool = True) -> bytes:
    """The bytes of a regular file of at most cap bytes; OSError otherwise."""
    fd = open_regular(path, cap=cap, dir_fd=dir_fd, follow=follow)
    try:
        return read_capped(fd, cap)
    finally:
        os.close(fd)


def _failure(kind: InputKind, shown, exc: OSError) -> FeedpubError:
    error = kind.error or FeedpubError
    return error(f"{shown}: {problem(kind, exc)}")


def read_input(path: str | os.PathLike, kind: InputKind, *, cap: int | None = None, dir_fd: int | None = None,
               follow: bool = True, shown: str | os.PathLike | None = None,
               missing_ok: bool = False) -> bytes | None:
    """The bytes of one input of this kind (at most `cap`, by default the kind's), or the kind's
    error naming the file (`shown`, by default path) and the system's message. None for a file
    that is not there when missing_ok."""
    try:
        return read_file(path, cap=kind.cap if cap is None else cap, dir_fd=dir_fd, follow=follow)
    except FileNotFoundError:
        if missing_ok:
            return None
        raise _failure(kind, shown or path, FileNotFoundError(errno.ENOENT, "not found")) from None
    except OSError as exc:
        raise _failure(kind, shown or path, exc) from None


def check_input(path: str | os.PathLike, kind: InputKind, *, shown: str | os.PathLike | None = None) -> None:
    """Nothing, when path is a regular file another reader (SQLite) may open without blocking;
    otherwise the kind's error naming it."""
    try:
        os.close(open_regular(path, cap=kind.cap))
    except OSError as exc:
        raise _failure(kind, shown or path, exc) from None

"""What a hostile or unlucky environment puts where feedpub reads or writes, for the matrix tests.

Each hazard replaces whatever is at a path with something feedpub must never follow, block on or
read whole: a link to a foreign file or folder, a dangling link, a link loop, a FIFO, a socket, a
link to /dev/zero, a folder where a file belongs (or a file where a folder belongs), a sparse file
of 6 GiB, a file nobody may read. "Unreadable" needs permission bits that bind: tests run as root
in CI, so the run that meets it drops the capabilities that let root ignore them
(CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), in a child process, and is then bound as any user is.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import pickle
import select
import shutil
import signal
import socket
import stat
import tempfile
from pathlib import Path
from typing import Callable

HUGE = 6 << 30                      # a sparse file of NUL bytes: no disk, but 6 GiB to a reader
_CAP_DAC = (1, 2)                   # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
_PR_CAPBSET_DROP = 24


def clear(path: Path) -> None:
    """Nothing at path, whatever was there (a link is removed, never followed)."""
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def make_socket(path: Path) -> None:
    """A UNIX socket at path (bound in a short temporary folder, then moved: socket paths are short)."""
    with tempfile.TemporaryDirectory(prefix="fps") as short:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(os.path.join(short, "s"))
            os.rename(os.path.join(short, "s"), path)
        finally:
            sock.close()


def make_sparse(path: Path, size: int = HUGE) -> None:
    with open(path, "wb") as handle:
        handle.truncate(size)


def plant(path: Path, hazard: str, foreign: Path, *, folder: bool) -> None:
    """Put `hazard` at path (its parent must exist); folder: what belongs at path is a folder."""
    clear(path)
    if hazard == "link to a foreign file":
        path.symlink_to(foreign / "file.txt")
    elif hazard == "link to a foreign folder":
        path.symlink_to(foreign / "folder", target_is_directory=True)
    elif hazard == "dangling link":
        path.symlink_to(foreign / "nothing-here")
    elif hazard == "link loop":
        path.symlink_to(path.name)
    elif hazard == "FIFO":
        os.mkfifo(path)
    elif hazard == "socket":
        make_socket(path)
    elif hazard == "link to /dev/zero":
        path.symlink_to("/dev/zero")
    elif hazard == "wrong kind":                # a file where a folder belongs, or a folder where a file does
        if folder:
            path.write_bytes(b"a file where a folder belongs\n")
        else:
            path.mkdir()
            (path / "inside.txt").write_bytes(b"a folder where a file belongs\n")
    elif hazard == "directory":
        path.mkdir()
    elif hazard == "huge sparse":
        make_sparse(path)
    elif hazard == "unreadable":
        if folder:
            path.mkdir()
        else:
            path.write_bytes(b"nobody may read this\n")
        path.chmod(0)
    else:
        raise ValueError(hazard)


def foreign_tree(root: Path) -> Path:
    """A folder beside OUT that is not feedpub's, holding names feedpub writes: a link followed into it
    would change something here."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "file.txt").write_bytes(b"someone else's file\n")
    (root / "folder").mkdir(exist_ok=True)
    for name in ("rss.xml", "atom.xml", "feed.json", "index.html", "manifest.json", "state.sqlite", "inside.txt"):
        (root / "folder" / name).write_bytes(f"foreign {name}\n".encode())
    (root / "folder" / "categories" / "x").mkdir(parents=True, exist_ok=True)
    (root / "folder" / "categories" / "x" / "rss.xml").write_bytes(b"foreign feed\n")
    return root


def checksum(root: Path) -> str:
    """Every entry under root: its name, kind, mode and bytes (or link target)."""
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(dirs + files):
            path = os.path.join(folder, name)
            st = os.lstat(path)
            digest.update(f"{os.path.relpath(path, root)}\0{st.st_mode}\0".encode("utf-8", "surrogateescape"))
            if stat.S_ISLNK(st.st_mode):
                digest.update(os.readlink(path).encode("utf-8", "surrogateescape"))
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as handle:
                    digest.update(handle.read())
    return digest.hexdigest()


# --- permission bits that bind, for root too --------------------------------------------------


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def drop_dac_for_exec() -> None:
    """preexec_fn: the command runs without the capabilities that let root ignore permission bits."""
    libc = _libc()
    for cap in _CAP_DAC:
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and os.geteuid() == 0:
            raise OSError(ctypes.get_errno(), "cannot drop a capability")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_dac_now() -> None:
    """This process keeps its uid but loses CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH for good."""
    libc = _libc()
    header = _CapHeader(0x20080522, 0)                   # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capget")
    mask = ~sum(1 << cap for cap in _CAP_DAC) & 0xFFFFFFFF
    data[0].effective &= mask
    data[0].permitted &= mask
    data[0].inheritable &= mask
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")


def bits_bind(probe_dir: Path) -> bool:
    """True when a file of mode 000 can be read neither by a child bound by in_child(bound=True) nor
    by a command started with preexec_fn=drop_dac_for_exec (whatever this user may do)."""
    import subprocess
    import sys
    probe = probe_dir / "probe-000"
    probe.write_bytes(b"x")
    probe.chmod(0)
    try:
        outcome = in_child(lambda: probe.read_bytes(), timeout=10, bound=True)
        try:
            command = subprocess.run([sys.executable, "-c", f"open({str(probe)!r}, 'rb')"], capture_output=True,
                                     preexec_fn=drop_dac_for_exec, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return False
    finally:
        probe.chmod(0o600)
        probe.unlink()
    return outcome[0] == "raised" and outcome[1] == "PermissionError" and command.returncode != 0


def in_child(fn: Callable[[], object], *, timeout: float, bound: bool = False) -> tuple:
    """Run fn in a forked child (bound: permission bits bind it, root or not) and return
    ("returned", value) or ("raised", exception type name, message, is a FeedpubError), or
    ("hung",) after timeout seconds (the child is killed)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:                                        # the child: never returns
        code = 0
        try:
            os.close(read_end)
            if bound and os.geteuid() == 0:
                _drop_dac_now()
            try:
                result: tuple = ("returned", fn())
            except BaseException as exc:                # noqa: BLE001 - reported to the parent
                from feedpub.errors import FeedpubError
                result = ("raised", type(exc).__name__, str(exc), isinstance(exc, FeedpubError))
            try:
                data = pickle.dumps(result)
            except Exception:                           # noqa: BLE001
                data = pickle.dumps(("returned", repr(result[1])))
            with os.fdopen(write_end, "wb") as out:
                out.write(data)
        except BaseException:                           # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([read_end], [], [], timeout)
            if not ready:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return ("hung",)
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_end)
    os.waitpid(pid, 0)
    return pickle.loads(b"".join(chunks)) if chunks else ("raised", "ChildDied", "", False)

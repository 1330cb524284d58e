"""Which files of OUT feedpub wrote: the only ground on which it overwrites or deletes one.

OUT may be a web root shared with other files. feedpub keeps the list of the
files it published in its private folder (layout.MANIFEST, replaced atomically with each
publish); a file that is not on that list is never overwritten or removed. If a
file feedpub wants to write already exists and is not its own, the run
publishes nothing (OutputConflictError, exit 3).

An OUT published by a feedpub that kept no manifest is recognised through the
cache that version kept inside OUT, which listed the files it published.
"""
from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterable

from .cache import legacy_meta
from .layout import LEGACY_CACHE, MANIFEST, PRIVATE_DIR

FORMAT = "feedpub-manifest"
VERSION = 1

__all__ = ["MANIFEST", "Conflict", "Manifest", "find_conflicts", "manifest_bytes", "read_manifest"]


@dataclass(frozen=True, slots=True)
class Manifest:
    files: frozenset[str]         # paths relative to OUT, POSIX
    origin: str                   # "manifest", "legacy cache", "none" or "damaged"


@dataclass(frozen=True, slots=True)
class Conflict:
    path: str                     # relative to OUT
    reason: str


def manifest_bytes(files: Iterable[str]) -> bytes:
    """The manifest file's content for this set of published files (stable: sorted)."""
    doc = {"format": FORMAT, "version": VERSION, "files": sorted(set(files))}
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _valid_path(rel: object) -> bool:
    if not isinstance(rel, str) or not rel or "\\" in rel or "\x00" in rel:
        return False
    parts = PurePosixPath(rel).parts
    return not PurePosixPath(rel).is_absolute() and ".." not in parts and parts[0] != PRIVATE_DIR


def read_manifest(out: Path) -> Manifest:
    """The files feedpub published into OUT, as its manifest (or its legacy cache) lists them."""
    path = Path(out, MANIFEST)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        legacy = _legacy_outputs(Path(out, LEGACY_CACHE))
        if legacy is not None:
            return Manifest(frozenset(legacy), "legacy cache")
        return Manifest(frozenset(), "none")
    except OSError:
        return Manifest(frozenset(), "damaged")
    try:
        doc = json.loads(data)
        files = doc["files"] if isinstance(doc, dict) and doc.get("format") == FORMAT else None
    except (ValueError, KeyError, RecursionError):
        files = None
    if not isinstance(files, list) or not all(_valid_path(f) for f in files):
        return Manifest(frozenset(), "damaged")
    return Manifest(frozenset(files), "manifest")


def _legacy_outputs(path: Path) -> list[str] | None:
    """Files listed as published by the cache of a feedpub that kept no manifest, if path is one."""
    if not path.is_file():
        return None
    found = legacy_meta(path)
    if found is None or not {"meta", "files"} <= found[0]:
        return None
    meta = found[1]
    outputs = meta.get("outputs") if isinstance(meta, dict) and "fingerprint" in meta else None
    if not isinstance(outputs, dict):
        return None
    return [rel for rel in outputs if _valid_path(rel)]


def find_conflicts(out: Path, paths: Iterable[str], owned: frozenset[str]) -> list[Conflict]:
    """Paths feedpub wants to write that it must not: someone else's file there, or a folder,
    or a parent that is not a directory inside OUT."""
    out = Path(out)
    root = os.path.realpath(out)
    conflicts: list[Conflict] = []
    checked_dirs: dict[str, str | None] = {}
    reported: set[str] = set()
    for rel in sorted(set(paths)):
        folder = _parent_problem(out, root, rel, checked_dirs)
        if folder is not None:
            if folder not in reported:
                reported.add(folder)
                conflicts.append(Conflict(folder, checked_dirs[folder]))
            continue
        try:
            st = os.lstat(out / rel)
        except FileNotFoundError:
            continue
        except OSError as exc:
            problem = f"cannot be examined: {exc.strerror}"
        else:
            if stat.S_ISDIR(st.st_mode):
                problem = "is a directory"
            elif rel not in owned:
                problem = "exists and was not written by feedpub"
            elif not stat.S_ISREG(st.st_mode):
                problem = "is no longer a regular file"
            else:
                problem = None
        if problem is not None:
            conflicts.append(Conflict(rel, problem))
    return conflicts


def _parent_problem(out: Path, root: str, rel: str, checked: dict[str, str | None]) -> str | None:
    """The first folder leading to rel that cannot hold a file of feedpub's (its problem goes
    into `checked`), or None."""
    parts = PurePosixPath(rel).parts[:-1]
    for depth in range(1, len(parts) + 1):
        folder = "/".join(parts[:depth])
        if folder not in checked:
            checked[folder] = _folder_problem(out / folder, root)
        if checked[folder] is not None:
            return folder
    return None


def _folder_problem(path: Path, root: str) -> str | None:
    try:
        os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be examined: {exc.strerror}"
    if not path.is_dir():
        return "is a file where feedpub needs a folder"
    real = os.path.realpath(path)
    if real != root and not real.startswith(root.rstrip(os.sep) + os.sep):
        return "is a folder that leads outside the output directory"
    return None

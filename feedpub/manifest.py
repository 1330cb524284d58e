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
import stat
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterable, Iterator

from .cache import legacy_meta
from .errors import OutputPathError, PublishError
from .fsops import Tree, what_is_there
from .layout import LEGACY_CACHE, MANIFEST, PRIVATE_DIR
from .opener import MANIFEST_FILE, UnusableFile

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


@contextmanager
def _opened(out: Tree | Path) -> Iterator[Tree | None]:
    """out as a Tree: as given, or opened for the moment (None when there is no such folder)."""
    if isinstance(out, Tree):
        yield out
        return
    try:
        tree = Tree.open(out, create=False)
    except PublishError:
        yield None
        return
    with tree:
        yield tree


def read_manifest(out: Tree | Path) -> Manifest:
    """The files feedpub published into OUT, as its manifest (or its legacy cache) lists them.

    OutputPathError (exit 3) when the private folder or the manifest itself is something feedpub never
    follows or reads: a link, a FIFO, a folder."""
    with _opened(out) as tree:
        if tree is None:
            return Manifest(frozenset(), "none")
        try:
            data = tree.read(MANIFEST, cap=MANIFEST_FILE.cap)
        except UnusableFile as exc:
            st = tree.lstat(MANIFEST)
            reason = what_is_there(st, want_folder=False) if st is not None else None
            raise OutputPathError(tree.shown, MANIFEST, reason or f"cannot be read: {exc.strerror}") from None
        except OSError as exc:                      # the list of what feedpub may change: never guessed at
            raise OutputPathError(tree.shown, MANIFEST, f"cannot be read: {exc.strerror}") from None
        if data is None:
            legacy = _legacy_outputs(tree)
            if legacy is not None:
                return Manifest(frozenset(legacy), "legacy cache")
            return Manifest(frozenset(), "none")
    try:
        doc = json.loads(data)
        files = doc["files"] if isinstance(doc, dict) and doc.get("format") == FORMAT else None
    except (ValueError, KeyError, RecursionError):
        files = None
    if not isinstance(files, list) or not all(_valid_path(f) for f in files):
        return Manifest(frozenset(), "damaged")
    return Manifest(frozenset(files), "manifest")


def _legacy_outputs(tree: Tree) -> list[str] | None:
    """Files listed as published by the cache of a feedpub that kept no manifest, if OUT holds one."""
    try:
        meta = legacy_meta(tree, LEGACY_CACHE)
    except OutputPathError:
        return None
    outputs = meta.get("outputs") if isinstance(meta, dict) and "fingerprint" in meta else None
    if not isinstance(outputs, dict):
        return None
    return [rel for rel in outputs if _valid_path(rel)]


def find_conflicts(out: Tree | Path, paths: Iterable[str], owned: frozenset[str]) -> list[Conflict]:
    """Paths feedpub wants to write that it must not: someone else's file there, a folder, a link,
    a FIFO, or a folder on the way that is not a real folder inside OUT (each named once)."""
    conflicts: list[Conflict] = []
    reported: set[str] = set()
    with _opened(out) as tree:
        if tree is None:
            return []
        for rel in sorted(set(paths)):
            try:
                st = tree.lstat(rel)
            except OutputPathError as problem:
                if problem.rel not in reported:
                    reported.add(problem.rel)
                    conflicts.append(Conflict(problem.rel, problem.reason))
                continue
            if st is None:
                continue
            problem = what_is_there(st, want_folder=False)
            if problem is None and rel not in owned:
                problem = "exists and was not written by feedpub"
            elif problem is not None and rel in owned and not stat.S_ISLNK(st.st_mode) \
                    and not stat.S_ISDIR(st.st_mode):
                problem = f"is no longer a regular file ({problem.removeprefix('is ').split(',')[0]})"
            if problem is not None:
                conflicts.append(Conflict(rel, problem))
    return conflicts

"""Which record files a site has, and their signatures: the cheap first look every run takes.

Kept free of heavy imports: a run with nothing to do stops after this.
"""
from __future__ import annotations

import os
from pathlib import Path

from .errors import SiteError

RECORD_SUFFIXES = (".json", ".jsonl")


def record_files(site_dir: Path) -> list[tuple[str, Path]]:
    """Every *.json / *.jsonl under SITE/articles, sorted by relative path (the order duplicates are judged in)."""
    root = Path(site_dir) / "articles"
    if not root.is_dir():
        raise SiteError(f"{root}: not a directory (expected the site's articles/ folder)")
    found = []
    try:
        for dirpath, dirnames, filenames in os.walk(root, onerror=_raise):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in filenames:
                if name.endswith(RECORD_SUFFIXES) and not name.startswith("."):
                    full = Path(dirpath, name)
                    found.append((full.relative_to(site_dir).as_posix(), full))
    except OSError as exc:
        raise SiteError(f"{exc.filename}: cannot be read: {exc.strerror}") from None
    found.sort()
    return found


def _raise(exc: OSError) -> None:
    raise exc


def signature(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ino)

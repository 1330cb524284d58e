"""Fetch the full records of the chosen entries, by byte offset, and validate them again."""
from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path
from typing import Iterable

import msgspec

from .config import Config
from .errors import SiteError
from .model import Article
from .scan import BOM
from .sources import signature
from .validate import validate_record

_ANY = msgspec.json.Decoder()


class Unloadable(Exception):
    """A chosen record that the full decoder rejects although its file did not change: the fast
    scan let it through (invalid UTF-8 inside an article body, say). Its file must be scanned
    again thoroughly."""

    def __init__(self, paths: set[str]):
        super().__init__(", ".join(sorted(paths)))
        self.paths = paths


def load_articles(site_dir: Path, wanted: Iterable[tuple[str, int, int]], config: Config,
                  signatures: dict[str, tuple[int, int, int]]) -> tuple[dict[tuple[str, int], Article], list[str]]:
    """Articles for (path, line, offset) triples, keyed by (path, line); plus their warnings.

    A file whose signature differs from the scan's changed during the run: the
    build stops (SiteError) rather than publish records it did not validate.
    Records that no longer pass validation in an unchanged file raise Unloadable.
    """
    by_file: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for path, line, offset in wanted:
        by_file[path].append((line, offset))
    articles: dict[tuple[str, int], Article] = {}
    warnings: list[str] = []
    bad: set[str] = set()
    tz = config.tz
    for path in sorted(by_file):
        for line, obj in _read(Path(site_dir), path, sorted(by_file[path]), signatures[path]):
            article, errors, notes = (None, [], []) if obj is _BAD else validate_record(
                obj, path, line, languages=config.languages, base_url=config.base_url, tz=tz,
                order=config.date_order)
            if article is None:
                bad.add(path)
                continue
            articles[(path, line)] = article
            warnings.extend(notes)
    if bad:
        raise Unloadable(bad)
    return articles, warnings


_BAD = object()


def _read(site_dir: Path, path: str, spots: list[tuple[int, int]], sig) -> list[tuple[int, object]]:
    try:
        with open(site_dir / path, "rb") as handle:
            if signature(os.fstat(handle.fileno())) != tuple(sig):
                raise SiteError(f"{path}: changed while feedpub was reading it; run again")
            if not path.endswith(".jsonl"):
                data = handle.read()
                records = _ANY.decode(data[3:] if data.startswith(BOM) else data)
                records = records if isinstance(records, list) else [records]
                return [(line, records[line - 1]) for line, _ in spots]
            result = []
            for line, offset in spots:
                handle.seek(offset)
                text = handle.readline()
                if offset == 0 and text.startswith(BOM):
                    text = text[3:]
                try:
                    result.append((line, _ANY.decode(text)))
                except msgspec.DecodeError:
                    result.append((line, _BAD))
            return result
    except (OSError, msgspec.DecodeError, IndexError) as exc:
        raise SiteError(f"{path}: changed while feedpub was reading it ({exc}); run again") from None

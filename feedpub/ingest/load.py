"""Fetch the full records of the chosen entries, by byte offset, and validate them again."""
from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path
from typing import Iterable

from ..model import Article
from ..records import RecordRules
from ..text import printable
from .decode import BadRecord, decode_one, duplicate_keys, json_file_records, without_bom
from .files import open_record_file, signature


class Unloadable(Exception):
    """A chosen record that the full decoder rejects although its file did not change: the fast
    scan let it through (invalid UTF-8 inside an article body, say). Its file must be scanned
    again thoroughly."""

    def __init__(self, paths: set[str]):
        super().__init__(", ".join(sorted(paths)))
        self.paths = paths


def load_articles(site_dir: Path, wanted: Iterable[tuple[str, int, int, str]], rules: RecordRules,
                  signatures: dict[str, tuple[int, int, int, int]]
                  ) -> tuple[dict[tuple[str, int], Article], list[str]]:
    """Articles for (path, line, offset, id) of chosen records, keyed by (path, line); plus warnings.

    Every record is validated again and must still carry the id the scan saw
    there. A file that was replaced, truncated or rewritten since its scan (a
    record that is not where the scan found it, or no longer valid) raises
    Unloadable: the run reads that file again rather than publish records it
    did not validate. A file that only grew (a writer appending) is fine.
    """
    by_file: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for path, line, offset, ident in wanted:
        by_file[path].append((line, offset, ident))
    articles: dict[tuple[str, int], Article] = {}
    warnings: list[str] = []
    bad: set[str] = set()
    for path in sorted(by_file):
        spots = sorted(set(by_file[path]))
        found = _read(Path(site_dir), path, spots, signatures[path], warnings, rules.limits)
        if found is None:
            bad.add(path)
            continue
        for (line, _, ident), obj in zip(spots, found):
            article, errors, notes = (None, [], []) if obj is _BAD else rules.check(obj, path, line)
            if article is None or article.id != ident:
                bad.add(path)
                continue
            articles[(path, line)] = article
            warnings.extend(notes)
    if bad:
        raise Unloadable(bad)
    return articles, warnings


_BAD = object()


def _duplicates(path: str, line: int, text: bytes) -> list[str]:
    where = f"{path}:{line}" if line else path
    return [printable(f'{where}: key "{key}" appears more than once in one object; the last value was used')
            for key in duplicate_keys(text)]


def _read(site_dir: Path, path: str, spots: list[tuple[int, int, str]], sig,
          warnings: list[str], limits) -> list[object] | None:
    """The decoded value at each spot (or _BAD), or None when the file is no longer the one scanned.
    A line is read up to the limits' jsonl_line_bytes (the scan measured it within them; a longer
    one now means the file changed since, and it is not held in memory whole)."""
    size, _, inode, _ = sig
    try:
        with open(open_record_file(site_dir / path), "rb") as handle:
            st = os.fstat(handle.fileno())
            if st.st_ino != inode or st.st_size < size:
                return None
            if not path.endswith(".jsonl"):
                if size > limits.json_file_bytes:
                    return None
                data = handle.read(size + 1)
                if len(data) != size or signature(os.fstat(handle.fileno())) != tuple(sig):
                    return None
                records = json_file_records(data)
                warnings.extend(_duplicates(path, 0, data))
                return [_BAD if line > len(records) or isinstance(records[line - 1], BadRecord)
                        else records[line - 1] for line, _, _ in spots]
            result: list[object] = []
            for line, offset, _ in spots:
                handle.seek(offset)
                text = handle.readline(limits.jsonl_line_bytes + 3)     # the line, its CR LF, one byte more
                if len(text) > limits.jsonl_line_bytes + 2:
                    return None
                if offset == 0:
                    text = without_bom(text)
                try:
                    result.append(decode_one(text))
                except BadRecord:
                    result.append(_BAD)
                    continue
                warnings.extend(_duplicates(path, line, text))
            return result
    except (OSError, BadRecord):
        return None

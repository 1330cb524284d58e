"""The ingest stage as a whole: bring the index up to date, choose, read the winners, with retries.

    ingest(config, site_dir, files, index, now_ts) -> Ingested
    check_site(config, site_dir, files, now_ts) -> Checked

Both judge records by the same rules (records.RecordRules) and find duplicate
ids the same way (index.RecordIndex.duplicates), so `feedpub check` reports
exactly what `feedpub build` reports.
"""
from __future__ import annotations

import itertools
import os
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..config import Config
from ..errors import RecordError, SiteError
from ..model import Article, Translation
from ..records import RecordRules
from ..selection import FeedKey, Selection
from .files import SiteFiles, Signature
from .index import Candidate, RecordIndex
from .load import Unloadable, load_articles
from .scan import FileScan, ScanSettings, scan_file
from .workers import scan_files, scan_grown

__all__ = ["Checked", "Ingested", "SourceState", "check_site", "ingest", "translation"]

RACY_SECONDS = 2.0          # files modified this recently are read again next run (mtime granularity)
ATTEMPTS = 3


@dataclass
class Ingested:
    """What the feeds are made of, and what the run found on the way."""

    chosen: dict[FeedKey, list[Article]]                    # newest first
    translations: dict[str, dict[str, Translation]]         # translation_key -> lang -> version
    versions: dict[str, dict[str, Article]] = field(default_factory=dict)   # the same versions, in full
    problems: list[RecordError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    records: int = 0                                        # valid records in the site
    files_read: int = 0                                     # record files (re)read by this run
    next_due: float | None = None                           # when a scheduled record comes due
    racy: bool = False                                      # a file changed too recently: read again next run
    source_rows: int = 0                                    # rows of the [source] database read in full
    source: "SourceState | None" = None                     # what the next run compares, with a [source]


@dataclass(frozen=True)
class SourceState:
    """What a run with a [source] database remembers for the next one's no-op decision."""

    fingerprint: str                 # the database's selection fingerprint (database.DatabaseSource.fingerprint)
    file_keys: list[str]             # translation keys of the record files' entries: their versions are asked too
    file_due: float | None           # when a scheduled record file entry comes due


@dataclass
class Checked:
    problems: list[RecordError]
    warnings: list[str]
    records: int
    files_read: int


def ingest(config: Config, site_dir: Path, files: SiteFiles, index: RecordIndex, now_ts: float, *,
           full: bool = False, close_in_workers: tuple[int, ...] = (),
           while_waiting: Callable[[], None] | None = None, extra_keys: Iterable[str] = ()) -> Ingested:
    """Read the files that changed since the index last saw them (all of them when full), then
    choose every feed's entries and read them in full. extra_keys: translation keys whose
    versions are wanted too (the stories of another source's entries)."""
    rules = RecordRules.for_config(config)
    total = len(files.paths)
    stale, removed = ([], []) if full else index.changes(files, now_ts)
    racy_since = (time.time() - RACY_SECONDS) * 1e9
    grown: list[str] = []
    if full or index.held() == 0 or len(stale) * 2 > total:     # most files changed: rebuild the index whole
        full, removed = True, []
        paths, n = files.paths, files.numbers                    # no tuple per file: there may be 100,000
        order = sorted(range(total), key=paths.__getitem__)
        sizes = {paths[i]: n[4 * i] for i in order}
        racy = frozenset(paths[i] for i in order if n[4 * i + 1] >= racy_since)
        del order
    else:
        sizes = {path: size for path, size, _ in stale}
        racy = frozenset(path for path, _, mtime in stale if mtime >= racy_since)
        grown = sorted(index.resumable(sizes, now_ts))        # JSONL files that may only have grown
        for path in grown:
            del sizes[path]
    # A file read outside a whole rebuild is likely to change again: its scan leaves a resume point.
    settings = ScanSettings(config.max_items, config.category_feeds, resumable=not full)
    # What each scan saw is in the index, except for a racy file (stored with an impossible
    # signature so that the next run reads it again): only those are remembered here.
    scanned_sigs: dict[str, Signature] = {}

    def noted(scans: Iterable[FileScan]) -> Iterator[FileScan]:
        for scan in scans:
            if scan.path in racy and scan.sig != (0, 0, 0, 0):
                scanned_sigs[scan.path] = scan.sig
            yield scan

    scans = itertools.chain(scan_files(site_dir, list(sizes), sizes, rules, settings, now_ts,
                                       close_in_workers=close_in_workers, while_waiting=while_waiting),
                            scan_grown(site_dir, grown, lambda path: index.resume(path, now_ts, settings.keep), rules, settings,
                                       now_ts))
    read = set(index.update(noted(scans), removed, racy=racy, full=full))
    del sizes, stale

    def rescan(paths: Iterable[str], **how) -> None:
        paths = sorted(paths)
        read.update(index.update(noted(scan_file(site_dir, p, rules, settings, now_ts, **how) for p in paths),
                                 racy=racy))

    for _ in range(ATTEMPTS):
        selection = index.select(config.languages, max_items=config.max_items, now_ts=now_ts,
                                 category_feeds=config.category_feeds)
        if selection.starved:
            rescan((index.path(fid) for fid in selection.starved), keep_all=True)
            continue
        try:
            found = _finish(config, site_dir, index, selection, rules, scanned_sigs, now_ts, len(read),
                            set(extra_keys))
            found.racy = bool(racy)
            return found
        except Unloadable as bad:         # the fast scan let a broken record through, or the file changed
            rescan(bad.paths, thorough=True)
    raise SiteError("record files keep changing while feedpub reads them; run again")


def _finish(config: Config, site_dir: Path, index: RecordIndex, selection: Selection, rules: RecordRules,
            scanned: dict[str, Signature], now_ts: float, files_read: int, extra_keys: set[str]) -> Ingested:
    """Read the winners and their translations in full; Unloadable if one is not what was scanned."""
    sigs = _Signatures(index, scanned)
    def spots(cands: Iterable[Candidate]) -> set[tuple[str, int, int, str]]:
        return {(index.path(c.fid), c.line, c.offset, c.id) for c in cands}

    winners = spots(c for picks in selection.feeds.values() for c in picks)
    articles, warnings = load_articles(site_dir, winners, rules, sigs)
    keys = {a.translation_key for a in articles.values() if a.translation_key} | extra_keys
    versions = index.translations(keys, selection.losers, now_ts)
    more = spots(c for langs in versions.values() for c in langs.values()) - winners
    if more:
        extra, _ = load_articles(site_dir, more, rules, sigs)
        articles.update(extra)
    chosen = {key: [articles[(index.path(c.fid), c.line)] for c in picks] for key, picks in selection.feeds.items()}
    full = {key: {lang: articles[(index.path(c.fid), c.line)] for lang, c in langs.items()}
            for key, langs in versions.items()}
    links = {key: {lang: translation(a) for lang, a in langs.items()} for key, langs in full.items()}
    return Ingested(chosen, links, full, index.problems() + selection.problems, warnings, index.records(),
                    files_read, selection.next_due)


class _Signatures(dict):
    """A file's signature as its scan saw it: the racy files' from this run, the index for the others."""

    def __init__(self, index: RecordIndex, scanned: dict[str, Signature]):
        super().__init__(scanned)
        self.index = index

    def __missing__(self, path: str) -> Signature:
        sig = self.index.signature(path) or (0, 0, 0, 0)
        self[path] = sig
        return sig


def translation(article: Article) -> Translation:
    """What a link to another language version shows of it."""
    return Translation(lang=article.lang, url=article.url, title=article.title)


def check_site(config: Config, site_dir: Path, files: SiteFiles, now_ts: float, *,
               rows: Callable[[RecordIndex], tuple[list[RecordError], list[str], int]] | None = None) -> Checked:
    """Every record checked in full, and every duplicate id, without touching the cache: the
    index of this check lives in a temporary file and goes with it. rows: the check of a [source]
    database's rows against that index (ingest/rows.py: check_source), whose problems, warnings
    and valid rows are added."""
    rules = RecordRules.for_config(config)
    settings = ScanSettings(config.max_items, config.category_feeds)
    warnings: list[str] = []
    fd, path = tempfile.mkstemp(prefix="feedpub-check-", suffix=".sqlite")
    os.close(fd)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        from ..cache import TABLES
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.executescript(TABLES)
        index = RecordIndex(db)

        def scans() -> Iterator[FileScan]:
            for p in sorted(files.paths):
                scan = scan_file(site_dir, p, rules, settings, now_ts, thorough=True)
                warnings.extend(scan.warnings)
                yield scan

        read = index.update(scans(), full=True)
        _, duplicates = index.duplicates()
        checked = Checked(index.problems() + duplicates, warnings, index.records(), len(read))
        if rows is not None:
            problems, notes, valid = rows(index)
            checked.problems += problems
            checked.warnings += notes
            checked.records += valid
        return checked
    finally:
        db.close()
        os.unlink(path)

"""The database side of ingest: the newest rows of every feed from [source], as validated Articles.

A `SourceView` holds the source open (one read-only snapshot) for the part of a
run that reads it: first the cheap probe (the selection's fingerprint and when
the next scheduled row comes due, which is all a run with nothing to do needs),
then, when something changed, the chosen rows in full, checked by the same
record rules as a file record. It must be closed before rendering.

Merging with the record files (merge()) follows the site's one rule for ids:
an id is a record's identity, unique across the site; the record files come
first, so a database row whose id a record file already uses is reported and
left out, as is a further row with an id the database already gave.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable

from ..config import Config
from ..errors import RecordError
from ..model import Article, Translation
from ..records import RecordRules
from .select import FeedKey

__all__ = ["SourceArticles", "SourceView", "check_source", "merge"]

MARGIN = 16                    # picks beyond max_items, standing in for rows the record rules reject


@dataclass
class SourceArticles:
    """What the database gives the feeds."""

    chosen: dict[FeedKey, list[Article]]                      # valid, newest first, up to max_items + spares
    versions: dict[str, dict[str, Article]]                  # translation_key -> lang -> newest version
    problems: list[RecordError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rows: int = 0                                             # rows read in full


class SourceView:
    """The [source] database for one run: probe, then (if needed) read; a context manager."""

    def __init__(self, config: Config, now_ts: float, keys: Iterable[str] = ()):
        self.config = config
        self.now = datetime.fromtimestamp(now_ts, timezone.utc)
        self.rules = RecordRules.for_config(config)
        self.file_keys = set(keys)           # translation keys of the record files' stories
        self.extra = MARGIN
        self._src = None

    def __enter__(self) -> "SourceView":
        from ..database import open_source
        c = self.config
        self._src = open_source(c.source, tz=c.tz, date_order=c.date_order, category_feeds=c.category_feeds)
        self._src.__enter__()
        try:
            self._probe()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._src is not None:
            src, self._src = self._src, None
            src.__exit__(None, None, None)

    def _probe(self) -> None:
        c = self.config
        self.selection = self._src.select(c.languages, c.max_items, self.now, extra=self.extra)
        self.versions = self._src.translations(self.selection.translation_keys() | self.file_keys, self.now,
                                               c.languages)
        self.fingerprint = self._src.fingerprint(self.selection, self.versions)
        due = self._src.next_due(self.now)
        self.next_due = due.timestamp() if due is not None else None

    @property
    def warnings(self) -> list[str]:
        return list(self._src.warnings) if self._src is not None else []

    def read(self, more_keys: Iterable[str] = ()) -> SourceArticles:
        """The chosen rows in full, validated; feeds left short by rejected rows are chosen again
        with more spares. more_keys: translation keys of file stories not known at the probe."""
        c = self.config
        missing = set(more_keys) - self.file_keys - self.selection.translation_keys()
        if missing:
            for key, langs in self._src.translations(missing, self.now, c.languages).items():
                self.versions.setdefault(key, {}).update(langs)
        problems: dict[str, list[RecordError]] = {}
        articles: dict[str, Article] = {}
        warnings: list[str] = []
        while True:
            wanted = [p for p in self.selection.picks() if p.id not in articles and p.id not in problems]
            self._check(self._src.load(wanted), articles, problems, warnings)
            short = [key for key, picks in self.selection.feeds.items()
                     if key not in self.selection.exhausted
                     and sum(p.id in articles for p in picks) < c.max_items]
            if not short or self.extra > 64 * (c.max_items + MARGIN):
                break
            self.extra *= 4
            self.selection = self._src.select(c.languages, c.max_items, self.now, extra=self.extra)
        version_picks = [p for langs in self.versions.values() for p in langs.values()
                         if p.id not in articles and p.id not in problems]
        self._check(self._src.load(version_picks), articles, problems, warnings)
        chosen = {key: [articles[p.id] for p in picks if p.id in articles]
                  for key, picks in self.selection.feeds.items()}
        versions = {key: {lang: articles[p.id] for lang, p in langs.items() if p.id in articles}
                    for key, langs in self.versions.items()}
        found = [e for errors in problems.values() for e in errors]
        found += [_repeated(pick) for pick in self.selection.repeated]
        return SourceArticles(chosen, versions, found, warnings + self.warnings, len(articles) + len(problems))

    def _check(self, records, articles: dict, problems: dict, warnings: list[str]) -> None:
        for ident, record in records.items():
            article, errors, notes = self.rules.check(record.record, record.source, record.line)
            if article is None:
                problems[ident] = errors
            else:
                articles[ident] = article
                warnings.extend(notes)


def _repeated(pick) -> RecordError:
    return RecordError(pick.source, pick.line, "id", (
        f'"{pick.id}" is given by more than one row (expected an id unique across the site; '
        "the first row was kept)"))


def merge(config: Config, file_chosen: dict[FeedKey, list[Article]],
          file_version_articles: dict[str, dict[str, Article]], db: SourceArticles, file_ids: dict[str, str]) -> tuple[dict[FeedKey, list[Article]],
                                                                 dict[str, dict[str, Translation]],
                                                                 list[RecordError]]:
    """Both sources' entries per feed, newest first by (published, id), max_items each; and each
    story's newest version per language from either. file_ids: id -> "FILE:LINE" of every database
    id a record file already uses (those rows are left out and reported)."""
    problems = [RecordError(a.source, a.line, "id", (
        f'"{a.id}" is already used by {file_ids[a.id]} (expected an id unique across the site; '
        "the first record was kept)"))
        for a in _unique(a for arts in db.chosen.values() for a in arts) if a.id in file_ids]
    chosen: dict[FeedKey, list[Article]] = {}
    for key in sorted(set(file_chosen) | set(db.chosen), key=lambda k: (k[0], k[1] or "")):
        pool = list(file_chosen.get(key, ())) + [a for a in db.chosen.get(key, ()) if a.id not in file_ids]
        pool.sort(key=lambda a: (a.published.timestamp(), a.id), reverse=True)
        chosen[key] = pool[:config.max_items]
    keys = {a.translation_key for arts in chosen.values() for a in arts if a.translation_key}
    versions: dict[str, dict[str, Translation]] = {}
    for key in keys:
        best: dict[str, Article] = dict(file_version_articles.get(key, {}))
        for lang, article in db.versions.get(key, {}).items():
            held = best.get(lang)
            if article.id not in file_ids and (held is None or (article.published.timestamp(), article.id) >
                                               (held.published.timestamp(), held.id)):
                best[lang] = article
        if best:
            versions[key] = {lang: Translation(a.lang, a.url, a.title) for lang, a in best.items()}
    return chosen, versions, problems


def _unique(articles: Iterable[Article]) -> list[Article]:
    seen: dict[str, Article] = {}
    for article in articles:
        seen.setdefault(article.id, article)
    return list(seen.values())


def check_source(config: Config, index, now_ts: float) -> tuple[list[RecordError], list[str], int]:
    """Every row of the database judged by the record rules, as `feedpub check` does for record
    files: (problems, warnings, valid rows). A row repeating the id of the row before it, or an
    id a record file already uses (index: the check's index of the record files), is a duplicate."""
    from ..database import open_source
    rules = RecordRules.for_config(config)
    problems: list[RecordError] = []
    warnings: list[str] = []
    valid = 0
    batch: list[Article] = []

    def against_files() -> None:
        used = index.locate(a.id for a in batch)
        problems.extend(RecordError(a.source, a.line, "id", (
            f'"{a.id}" is already used by {used[a.id]} (expected an id unique across the site; '
            "the first record was kept)")) for a in batch if a.id in used)
        batch.clear()

    with open_source(config.source, tz=config.tz, date_order=config.date_order,
                     category_feeds=config.category_feeds) as src:
        previous = None
        for record in src.rows():
            article, errors, notes = rules.check(record.record, record.source, record.line)
            problems.extend(errors)
            warnings.extend(notes)
            if article is None:
                continue
            if article.id == previous:
                problems.append(RecordError(record.source, record.line, "id", (
                    f'"{article.id}" is given by more than one row (expected an id unique across the site; '
                    "the first row was kept)")))
                continue
            previous = article.id
            valid += 1
            batch.append(article)
            if len(batch) >= 5000:
                against_files()
        against_files()
        warnings.extend(src.explain())
        warnings.extend(src.warnings)
    return problems, warnings, valid

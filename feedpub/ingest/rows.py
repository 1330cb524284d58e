"""The database side of ingest: the rows of a [source] database as validated Articles, with the record files.

    SourceView(config, now_ts, keys)   the source open for one run (one read-only snapshot): first
                                       the cheap probe (the selection's fingerprint and when the next
                                       scheduled row comes due: all a run with nothing to do needs),
                                       then, when something changed, read()
    ingest_with_source(…, view)        the ingest stage of such a site: the record files (stage.ingest),
                                       the chosen rows in full, checked by the record rules a file
                                       record meets, merged with the files by the rule of selection
                                       (selection.merge) -> a finished Ingested
    check_source(config, index, now)   every row judged, for `feedpub check`

The view must be closed before rendering. Ids are unique across the site: the record
files come first, so a database row whose id a record file already uses is reported and
left out, as is a further row with an id the database already gave.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from ..config import Config
from ..errors import RecordError
from ..model import Article
from ..records import RecordRules
from ..selection import DATABASE_SPARES, FeedKey, article_rank, merge, newest_versions
from .files import SiteFiles
from .index import RecordIndex
from .stage import Ingested, SourceState, ingest, translation

__all__ = ["SourceArticles", "SourceView", "check_source", "ingest_with_source"]

SPARES_GROWTH = 4              # a feed left short by rejected rows is chosen again with this many times the spares
SPARES_CAP = 64                # ... until the spares reach this many times a feed's size


@dataclass
class SourceArticles:
    """What the database gives the feeds."""

    chosen: dict[FeedKey, list[Article]]                      # valid, newest first, up to max_items + spares
    versions: dict[str, dict[str, Article]]                  # translation_key -> lang -> newest version
    problems: list[RecordError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rows: int = 0                                             # rows read in full
    valid: int = 0                                            # of which the record rules accept


class SourceView:
    """The [source] database for one run: probe, then (if needed) read; a context manager."""

    def __init__(self, config: Config, now_ts: float, keys: Iterable[str] = (), *, source=None):
        self.config = config
        self.warm = source                   # an open DatabaseSource kept between runs, or None: open one
        self.now = datetime.fromtimestamp(now_ts, timezone.utc)
        self.rules = RecordRules.for_config(config)
        self.file_keys = set(keys)           # translation keys of the record files' stories
        self.extra = DATABASE_SPARES
        self._src = None

    def __enter__(self) -> "SourceView":
        from ..database import open_site_source
        if self.warm is not None:
            self.warm.renew()                # a new snapshot on the open connection
            self._src = self.warm
        else:
            self._src = open_site_source(self.config)
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
            if src is self.warm:
                src.release()                # the snapshot ends; the connection stays for the next run
            else:
                src.close()

    def _probe(self) -> None:
        c = self.config
        self.selection = self._src.select(c.languages, c.max_items, self.now, extra=self.extra)
        self.stories = self.selection.translation_keys() | self.file_keys
        self.versions = self._src.versions(self.stories, self.now, c.languages)
        due = self._src.next_due(self.now)
        self.next_due = due.timestamp() if due is not None else None
        self.fingerprint = self._src.fingerprint(self.selection, self.versions)   # the rows rejected so far too

    @property
    def warnings(self) -> list[str]:
        return list(self._src.warnings) if self._src is not None else []

    def read(self, more_keys: Iterable[str] = ()) -> SourceArticles:
        """The chosen rows in full, validated; feeds left short by rejected rows are chosen again
        with more spares. more_keys: translation keys of file stories not known at the probe."""
        c = self.config
        problems: dict[str, list[RecordError]] = {}
        articles: dict[str, Article] = {}
        warnings: list[str] = []
        while True:
            wanted = [p for p in self.selection.picks() if p.id not in articles and p.id not in problems]
            self._check(self._src.load(wanted), articles, problems, warnings)
            short = [key for key, picks in self.selection.feeds.items()
                     if key not in self.selection.exhausted
                     and sum(p.id in articles for p in picks) < c.max_items]
            if not short or self.extra > SPARES_CAP * (c.max_items + DATABASE_SPARES):
                break                          # the feeds are full, or their rows are mostly rejected
            self.extra *= SPARES_GROWTH
            self.selection = self._src.select(c.languages, c.max_items, self.now, extra=self.extra)
        missing = (set(more_keys) | self.selection.translation_keys()) - self.stories
        if missing:
            self.versions += self._src.versions(missing, self.now, c.languages)
        self._check(self._src.load(p for p in self.versions if p.id not in articles and p.id not in problems),
                    articles, problems, warnings)
        if self._src is self.warm:
            self._src.forget_unused([*articles, *problems])
        chosen = {key: [articles[p.id] for p in picks if p.id in articles]
                  for key, picks in self.selection.feeds.items()}
        versions = newest_versions(((p.translation_key, p.lang, articles[p.id]) for p in self.versions
                                    if p.id in articles), key=article_rank)      # the newest the rules accept
        found = [e for errors in problems.values() for e in errors]
        found += [_repeated(pick) for pick in self.selection.repeated]
        rejected = self._src.rejected()             # rows read whose ranking values the record rules reject
        for record in rejected:
            found += self.rules.check(record.record, record.source, record.line)[1]
        return SourceArticles(chosen, versions, found, warnings + self.warnings,
                              len(articles) + len(problems) + len(rejected), len(articles))

    def _check(self, records, articles: dict, problems: dict, warnings: list[str]) -> None:
        judged = self._src.judged if self._src is self.warm else None
        for ident, record in records.items():
            verdict = judged.get(ident) if judged is not None else None
            if verdict is not None and verdict[0] is record:
                article, errors, notes = verdict[1]             # the same record the last run judged
            else:
                article, errors, notes = self.rules.check(record.record, record.source, record.line)
                if judged is not None:
                    judged[ident] = (record, (article, errors, notes))
            if article is None:
                problems[ident] = errors
            else:
                articles[ident] = article
                warnings.extend(notes)


def _repeated(pick) -> RecordError:
    return RecordError(pick.source, pick.line, "id", (
        f'"{pick.id}" is given by more than one row (expected an id unique across the site; '
        "the first row was kept)"))


def ingest_with_source(config: Config, site_dir: Path, files: SiteFiles, index: RecordIndex, now_ts: float,
                       view: SourceView, **how) -> Ingested:
    """The ingest stage of a site whose records are (some or all) in a database: the record files first
    (asking for the versions of the database's stories too), then the database's chosen rows in full,
    both merged by the rule of selection. `how`: stage.ingest's keywords (full, workers)."""
    from_files = ingest(config, site_dir, files, index, now_ts, extra_keys=view.selection.translation_keys(),
                        **how)
    file_keys = sorted({a.translation_key for arts in from_files.chosen.values() for a in arts if a.translation_key})
    db = view.read(file_keys)
    db_ids = {a.id for arts in db.chosen.values() for a in arts} | {
        a.id for langs in db.versions.values() for a in langs.values()}
    chosen, versions, duplicates = merge(config.max_items, from_files.chosen, from_files.versions, db.chosen,
                                         db.versions, index.locate(db_ids))
    return Ingested(
        chosen=chosen,
        translations={key: {lang: translation(a) for lang, a in langs.items()} for key, langs in versions.items()},
        versions=versions,
        problems=from_files.problems + db.problems + duplicates,
        warnings=from_files.warnings + db.warnings,
        records=from_files.records + db.valid - len(duplicates),
        files_read=from_files.files_read,
        next_due=min((d for d in (from_files.next_due, view.next_due) if d is not None), default=None),
        racy=from_files.racy,
        source_rows=db.rows,
        source=SourceState(view.fingerprint, file_keys, from_files.next_due))


def check_source(config: Config, index, now_ts: float) -> tuple[list[RecordError], list[str], int]:
    """Every row of the database judged by the record rules, as `feedpub check` does for record
    files: (problems, warnings, valid rows). A row repeating the id of the row before it, or an
    id a record file already uses (index: the check's index of the record files), is a duplicate."""
    from ..database import open_site_source
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

    with open_site_source(config) as src:
        previous = None
        unplaced: list[tuple[object, RecordError]] = []      # rows without a usable id: "row N", found after
        for record in src.rows():
            article, errors, notes = rules.check(record.record, record.source, record.line or "row ?")
            problems.extend(errors)
            warnings.extend(notes)
            if record.line is None:
                unplaced.extend((record.key, error) for error in errors)
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
        numbers: dict = {}
        for key, error in unplaced:             # as a build locates them (row_number), once the stream is read
            if key not in numbers:
                numbers[key] = src.row_number(key)
            error.line = f"row {numbers[key]}"
        warnings.extend(src.explain())
        warnings.extend(src.warnings)
    return problems, warnings, valid

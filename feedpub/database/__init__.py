"""Records from a database: the [source] table of feedpub.toml (see the README, "Reading from a database").

Importing this package is cheap (the standard library only). SQLAlchemy and the
driver are imported by open_source(), so a site without [source] never loads them.

How a build uses it::

    from feedpub.database import open_source          # config.source is a SourceConfig
    with open_source(config.source, tz=config.tz, date_order=config.date_order,
                     category_feeds=config.category_feeds) as src:
        selection = src.select(config.languages, config.max_items, now, extra=10)
        versions = src.versions(selection.translation_keys(), now, config.languages)
        digest = src.fingerprint(selection, versions)    # + config fingerprint + feedpub version
        due = src.next_due(now)                          # when a scheduled row comes due, or None
        if digest != last_digest:
            records = src.load([*selection.picks(), *versions])
    # close before rendering: the source holds one read-only snapshot (a transaction) while open
    for record in records.values():
        article, errors, warnings = rules.check(record.record, record.source, record.line)

`feedpub check` reads `src.rows()` (every row, streamed, in id order) and prints
`src.explain()` and `src.warnings`.

The API
-------
parse_source(table, site_dir) -> SourceConfig
    The [source] table (config.parse_config calls it). ConfigError naming
    `[source] KEY` or `[source.columns] FIELD`. url_env is read later, by open_source.

open_source(cfg, *, tz, date_order="dmy", category_feeds=True, environ=None) -> DatabaseSource
    Connects within connect_timeout and starts ONE transaction: read-only, a
    consistent snapshot (REPEATABLE READ on PostgreSQL and MySQL, BEGIN on a
    read-only SQLite file), so select, translations, fingerprint and load agree.
    Every later failure is a SourceError (a FeedpubError: exit 3, nothing published)
    whose message starts with the label, names the database by its URL with the
    password replaced by ***, and says "no answer … within [source] query_timeout"
    for a timeout, "the connection … was lost" for a dropped connection.
    Context manager; close() rolls back and disconnects.

DatabaseSource
    .label        "feed_articles" (the table as written) or "query": the SOURCE of every location.
    .mode         "sql": the database picks the newest rows (typed columns, PostgreSQL or
                  MySQL/MariaDB); "stream": every row's ranking columns are read and ranked in
                  Python (text dates, SQLite, other dialects). Results are identical.
    .warnings     lines for the user (e.g. the streaming fallback, with its row count and time),
                  filled by select().
    .query        the source as a statement sees it (query.Query): the relation, each field's
                  column and kind, the dialect, the not-draft clause, and rows()/stream()/ask()
                  to run a statement in the snapshot. sqlselect.py and explain.py ask through it.
    .reader       how a row becomes a pick or a record (values.RowReader); it keeps every row
                  read for ranking that the record rules reject (see rejected()).
    .select(languages, max_items, now, extra=0) -> Selection (feedpub.selection: the rule)
        now: aware. Per feed key (lang, None) and, with category feeds, (lang, category)
        for every category some non-draft row published by now carries (named as the
        record rules name it: NFC, single spaces; stored spellings are grouped), the
        newest max_items + extra rows that are not drafts (draft true; NULL is not a
        draft) and are published at or before now, newest first by (published instant,
        id), exactly the file route's order (ties and wall-clock columns included).
        Only rows whose id, lang, published, categories, translation_key (and draft,
        when read in Python) pass the record rules are picked; other fields are not
        looked at, so validate what load() returns and use the extra picks for the
        rejected ones. Every configured language has a key, possibly with no picks.
        Selection.exhausted holds the feeds that have no further qualifying rows; for
        any other feed that keeps fewer than max_items valid records, select again
        with a larger extra. An id is in a feed once: further rows with the same id
        (a view joining an article to two rows) are left out and listed in
        Selection.repeated, to be reported as duplicate ids.
    .versions(keys, now, languages=None) -> [Pick]
        Every version of these stories that is not a draft and is published by now
        (the build links the newest one the record rules accept). Keys are compared as
        stored (a key with surrounding spaces in the database only matches that spelling).
    .translations(keys, now, languages=None) -> {translation_key: {lang: Pick}}
        For each key, per language, the newest of versions().
    .next_due(now) -> datetime | None
        The earliest published instant after now among rows that are not drafts (the
        languages of the last select()); a build at or after it selects differently.
    .load(picks) -> {id: Record}
        The full rows of these picks, as records, keyed by pick id. Within one open
        source (one snapshot) every pick's row is there.
    .fingerprint(selection, versions=()) -> str
        sha256 hex of which rows each feed holds, in order, which rows are the stories'
        versions (versions(), or translations()), every record field of the feeds' rows,
        and of a row that is only a version the fields a feed shows of it or that make it one (id, lang,
        title, url, published, translation_key, draft). Rows are hashed server-side in
        one query (PostgreSQL hashtextextended(ROW(…)::text, 0): md5 of the same text
        took twice as long; MySQL MD5(JSON_ARRAY(…))), in Python elsewhere. Any edit
        that can change a feed changes it (a title
        fixed without touching updated, a category added to an old row, a
        translation's title, a draft published while another row is pulled, a row
        inserted or deleted, a scheduled row coming due); edits to rows no feed
        shows and no story links to do not (an edit to an extra pick does: harmless).
        It does not cover feedpub.toml or feedpub's version: add them.
    .rows() -> Iterator[Record]
        Every row, ordered by id, streamed with a server-side cursor (flat memory),
        all record fields: what check judges.
    .row_number(key) -> int
        Where a row whose id the record rules reject is ("row N"): 1 + the rows whose id
        sorts before it in the database's order (rows without an id share one N).
    .rejected() -> [Record]
        Every row read for its ranking columns (select, versions, next_due) that the
        record rules reject for one of them, in full: a build reports them, so that no
        row it reads is left out in silence.
    .explain() -> list[str]
        Warnings for `check`: the streaming fallback and its reason, and each query a
        build runs that would read a whole big table (PostgreSQL, MySQL: plans;
        SQLite: query plans), naming the index to create.

Pick (frozen): source, id (text, always usable), key (the id column's stored value),
    lang, published (aware), categories (normalised), translation_key, raw_categories;
    .line == id, .location == "SOURCE:ID", .ts == published.timestamp() (with the id, its
    rank: feedpub.selection.rank).

Record (frozen): source, line, record, key. `record` is a dict as a decoded JSON
    record holds it (values.py says how each column type becomes a record value);
    `line` is the row's id as text, or "row N" (row_number) when the record rules reject
    the id (None from rows(), which cannot ask while it streams). Pass source and
    line to RecordRules.check: errors then render as
    `feed_articles:12345: field "published": … (expected …)`, warnings as
    `feed_articles:12345: …`. Note that line is text, not an int like a file's line:
    code that sorts locations must not mix the two.

Merging with record files is the caller's: ids are unique across both sources
(the id is the record's identity forever), and a duplicate is reported against the
location of the record kept.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

from ..sourceconfig import RECORD_FIELDS, SourceConfig, parse_source, redact_url
from ..selection import FeedKey, Selection
from .picks import Pick, Record, Translations

if TYPE_CHECKING:
    from ..config import Config

__all__ = ["FeedKey", "Pick", "RECORD_FIELDS", "Record", "Selection", "SourceConfig", "Translations",
           "open_site_source", "open_source", "parse_source", "redact_url"]


def open_source(cfg: SourceConfig, *, tz, date_order: str = "dmy", category_feeds: bool = True,
                environ: Mapping[str, str] | None = None):
    """Connect (within connect_timeout), start one read-only snapshot, and return a DatabaseSource.

    Raises ConfigError (url_env unset) or SourceError (no SQLAlchemy or driver, no
    connection, no such table or column); the password is in no message.
    """
    from ..errors import SourceError
    cfg = cfg.resolve(environ)
    try:
        from .table import DatabaseSource
    except ImportError as exc:
        if (exc.name or "").split(".")[0] != "sqlalchemy":
            raise
        from ..extras import DIALECT_EXTRAS, install_hint
        raise SourceError(f"{cfg.label}: reading records from a database needs SQLAlchemy: "
                          f"{install_hint(DIALECT_EXTRAS.get(cfg.dialect, 'postgresql'))}") from None
    return DatabaseSource(cfg, tz=tz, date_order=date_order, category_feeds=category_feeds)


def open_site_source(config: "Config"):
    """open_source() for a site's [source], read with the site's zone, date order and category feeds."""
    return open_source(config.source, tz=config.tz, date_order=config.date_order, category_feeds=config.category_feeds)

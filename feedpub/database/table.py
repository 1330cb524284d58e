"""DatabaseSource: the rows of one table, view or query, read as records (see feedpub.database).

It asks through a Query (query.py: the relation, the columns and their kinds, one way to
run a statement) and reads rows with a RowReader (values.py: how a row becomes a record);
in SQL mode the feeds' candidates come from sqlselect.py, otherwise every row's ranking
columns are streamed; either way the chooser of feedpub/selection.py decides.
"""
from __future__ import annotations

import hashlib
import time
from datetime import datetime
from typing import Any, Iterable, Iterator, Mapping

from ..selection import Chooser, Selection, feeds_of, newest_versions
from ..sourceconfig import SourceConfig
from ..text import printable
from .connection import Connection
from .picks import Pick, Record, Translations
from .query import Query
from .values import RowReader, key_text, usable_id

CHUNK = 500                    # ids or keys per IN (…) list
TRANSLATION_FIELDS = ("id", "lang", "title", "url", "published", "translation_key", "draft")


class DatabaseSource:
    """An open source: one connection, one read-only snapshot, until close()."""

    def __init__(self, cfg: SourceConfig, *, tz, date_order: str = "dmy", category_feeds: bool = True):
        self.cfg = cfg
        self.label = cfg.label
        self.category_feeds = category_feeds
        self.warnings: list[str] = []
        self._connection = Connection(cfg)
        try:
            self.query = Query(self._connection, cfg, category_feeds=category_feeds)
        except BaseException:
            self._connection.close()
            raise
        self.reader = RowReader(cfg.label, self.query.kinds, tz, date_order, python_draft=self.query.python_draft)
        self.streaming_reasons = self._streaming_reasons()
        self.mode = "stream" if self.streaming_reasons else "sql"
        self.sql = None                       # sqlselect.SqlChoice, in SQL mode
        if self.mode == "sql":
            from .sqlselect import SqlChoice
            self.sql = SqlChoice(self.query, self.reader)
        self._due: tuple[datetime, datetime | None] | None = None
        self._last_languages: list[str] = []
        self._warned = False
        # Kept between runs (renew()): each row last loaded, with the hash of its record fields, so that a
        # run loads in full only the rows whose hash changed; `judged` is where the caller keeps the
        # record rules' verdict on such a record. None: a one-run source remembers nothing.
        self._kept: dict[str, tuple[tuple[str, ...], Record]] | None = None
        self.judged: dict[str, tuple[Record, Any]] = {}
        self._hashes: dict[str, tuple[str, ...]] = {}     # this snapshot's row hashes, by id

    # --- life cycle ---

    def __enter__(self) -> "DatabaseSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._connection.close()

    def renew(self) -> None:
        """Start another run on this open source (a long-running process keeps it): a new snapshot, and
        nothing remembered from the last run's rows (the categories listed, the rows rejected, the
        warnings, the next due row). The columns and their kinds, read when it was opened, stay."""
        self._connection.renew()
        if self._kept is None:
            self._kept = {}
        self._hashes = {}
        self.warnings = []
        self.reader.rejected.clear()
        self._due = None
        self._warned = False
        if self.sql is not None:
            self.sql.names = None

    def release(self) -> None:
        """The run is done with the database: its snapshot ends, the connection stays open."""
        self._connection.release()

    def _streaming_reasons(self) -> list[str]:
        q = self.query
        d, kind, col = q.dialect, q.kinds, q.names
        if not d.typed:
            if d.name == "sqlite":
                return ["SQLite keeps dates as text"]
            return [f"{self.cfg.dialect} is read through plain SELECTs (only PostgreSQL, MySQL and "
                    "MariaDB choose the newest rows themselves)"]
        reasons = []
        if kind["published"] not in ("aware", "utc", "naive", "number"):
            reasons.append(f"published ({col['published']}) is {q.types['published'] or 'text'}, not a timestamp")
        if q.python_draft:
            reasons.append("draft is neither a boolean nor 0/1")
        if self.category_feeds and "categories" in q.columns and d.category_match(
                q.columns["categories"], kind["categories"], 1) is None:
            reasons.append(f"categories ({col['categories']}) is {q.types['categories'] or 'text'}, not an array "
                           "or JSON")
        return reasons

    # --- the public API (see feedpub.database) ---

    def select(self, languages: Iterable[str], max_items: int, now: datetime, extra: int = 0) -> Selection[Pick]:
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        languages = sorted(set(languages))
        self._last_languages = languages
        need = max_items + extra
        if self.mode == "sql":
            supplied, exhausted = self.sql.select(languages, need, now)
        else:
            supplied, exhausted = self._select_streaming(languages, need, now)
        chooser = Chooser(need, now.timestamp(), unique=True)     # an id once: a view may join one row to two
        for lang in languages:
            chooser.add_feed((lang, None))
        for feed, picks in supplied.items():
            for pick in picks:
                chooser.offer(pick.ts, pick.id, (feed,), pick)
        feeds, repeated = chooser.chosen()
        exhausted |= {(lang, None) for lang in languages if (lang, None) not in supplied}
        unique: dict[tuple, Pick] = {}
        for pick in repeated:
            unique.setdefault((pick.id, pick.published, pick.categories), pick)
        return Selection(feeds=feeds, exhausted=exhausted, repeated=list(unique.values()))

    def _select_streaming(self, languages: list[str] | None, need: int, now: datetime):
        fields = self.query.ranking_fields
        where = ([f"{self.query.columns['lang']} IN :langs"] if languages else []) + (
            [self.query.not_draft] if self.query.not_draft else [])
        started = time.monotonic()
        count = 0
        chooser = Chooser(need, now.timestamp())
        categories = self.category_feeds
        sql = f"SELECT {self.query.select_list(fields)} FROM {self.query.relation}" + (
            f" WHERE {' AND '.join(where)}" if where else "")
        for values in self.query.stream("reading every row's ranking columns", sql,
                                        {"langs": languages} if languages else {}, fields,
                                        expanding=("langs",) if languages else ()):
            count += 1
            pick = self.reader.pick(values)
            if pick is not None:
                chooser.offer(pick.ts, pick.id, feeds_of(pick.lang, pick.categories, categories), pick)
        feeds, _ = chooser.chosen()
        self._due = (now, None if chooser.due is None else chooser.due.published)
        if not self._warned:
            self._warned = True
            self.warnings.append(printable(
                f"{self.label}: {'; '.join(self.streaming_reasons)}: so every build reads the ranking columns of "
                f"every row ({count} rows, {time.monotonic() - started:.1f} s) instead of letting the database "
                "pick the newest (a timestamp or timestamptz published column, a boolean draft and an array or "
                "JSON categories column let it)"))
        return feeds, chooser.complete()

    def translations(self, keys: Iterable[str], now: datetime, languages: Iterable[str] | None = None) -> Translations:
        """translation_key -> language -> the newest (published, id) version that is not a draft and is
        published by now, for these keys (compared as stored: keep keys free of surrounding spaces)."""
        return newest_versions(((p.translation_key, p.lang, p) for p in self.versions(keys, now, languages)),
                               now.timestamp())

    def versions(self, keys: Iterable[str], now: datetime, languages: Iterable[str] | None = None) -> list[Pick]:
        """Every version of these stories that is not a draft and is published by now: the build links
        the newest of them the record rules accept."""
        if "translation_key" not in self.query.columns:
            return []
        keys = sorted({k for k in keys if k})
        fields = ["id", "lang", "published", "translation_key"] + (["draft"] if self.query.python_draft else [])
        q = self.query
        where = [f"{q.columns['translation_key']} IN :keys"] + ([q.not_draft] if q.not_draft else [])
        params: dict[str, Any] = {}
        if languages is not None:
            where.append(f"{self.query.columns['lang']} IN :langs")
            params["langs"] = sorted(set(languages))
        sql = f"SELECT {self.query.select_list(fields)} FROM {self.query.relation} WHERE {' AND '.join(where)}"
        found: list[Pick] = []
        now_ts = now.timestamp()
        for start in range(0, len(keys), CHUNK):
            chunk = self._keys_for("translation_key", keys[start:start + CHUNK])
            rows = self.query.rows("reading translations", sql, {**params, "keys": chunk}, fields,
                                   expanding=("keys",) + (("langs",) if "langs" in params else ()))
            for values in rows:
                pick = self.reader.pick(values)
                if pick is not None and pick.translation_key is not None and pick.ts <= now_ts:
                    found.append(pick)
        return found

    def _keys_for(self, field: str, keys: list[str]) -> list[Any]:
        """Keys as the column compares them: integers for an integer column."""
        if self.query.kinds.get(field) == "number":
            return [int(k) for k in keys if k.lstrip("-").isdigit()] or [0]
        return keys

    def next_due(self, now: datetime) -> datetime | None:
        """The earliest published time after now among rows that are not drafts (None: none scheduled)."""
        if self._due is not None and self._due[0] == now:
            return self._due[1]
        if self.mode == "stream":
            self._select_streaming(self._last_languages or None, 0, now)
            return self._due[1]
        return self.sql.next_due(now, self._last_languages)

    def load(self, picks: Iterable[Pick]) -> dict[str, Record]:
        """The full record of each pick, by id (a pick whose row is gone since is left out). A source kept
        between runs reads only the rows whose record fields' hash changed since it last read them."""
        wanted: dict[str, Pick] = {}
        for pick in picks:
            wanted.setdefault(pick.id, pick)
        if self._kept is None:
            return self._load(wanted)
        unknown = [p.key for ident, p in wanted.items() if ident not in self._hashes]
        if unknown:
            self._note_hashes(self._row_hashes(unknown, self.query.fields))
        found: dict[str, Record] = {}
        missing: dict[str, Pick] = {}
        for ident, pick in wanted.items():
            kept = self._kept.get(ident)
            if kept is not None and len(kept[0]) == 1 and kept[0] == self._hashes.get(ident):
                found[ident] = kept[1]          # the same row, unchanged: as read last time
            else:
                missing[ident] = pick
        loaded = self._load(missing)
        for ident, record in loaded.items():
            hashes = self._hashes.get(ident)
            if hashes is not None and len(hashes) == 1:                  # a repeated id is always read again
                self._kept[ident] = (hashes, record)
        found.update(loaded)
        return found

    def forget_unused(self, used: Iterable[str]) -> None:
        """Keep only these rows for the next run (a long-running process's memory stays flat)."""
        if self._kept is not None:
            used = set(used)
            self._kept = {i: v for i, v in self._kept.items() if i in used}
            self.judged = {i: v for i, v in self.judged.items() if i in used}

    def _load(self, wanted: dict[str, Pick]) -> dict[str, Record]:
        if not wanted:
            return {}
        fields = self.query.fields
        q = self.query
        sql = f"SELECT {q.select_list(fields)} FROM {q.relation} WHERE {q.columns['id']} IN :keys"
        found: dict[str, Record] = {}
        keys = [p.key for p in wanted.values()]
        for start in range(0, len(keys), CHUNK):
            for values in self.query.rows("reading records", sql, {"keys": keys[start:start + CHUNK]}, fields,
                                          expanding=("keys",)):
                ident = usable_id(values["id"])
                pick = wanted.get(ident) if ident is not None else None
                if pick is None:
                    continue
                held = found.get(ident)
                if held is not None and not self._same_published(values, pick):
                    continue                    # a repeated id: keep the row the pick was made from
                found[ident] = Record(self.label, ident, self.reader.record(values), values["id"])
        return found

    def _same_published(self, values: dict, pick: Pick) -> bool:
        return self.reader.instant(values["published"]) == pick.published

    def rows(self) -> Iterator[Record]:
        """Every row, in id order, as a record: what `feedpub check` judges. Streamed (a server-side
        cursor): memory stays flat however many rows there are. A row whose id the record rules
        reject has line None: it is "row N", N = row_number(record.key), asked once the stream is
        read (MySQL runs no other statement while it streams)."""
        fields = self.query.fields
        sql = f"SELECT {self.query.select_list(fields)} FROM {self.query.relation} ORDER BY {self.query.columns['id']}"
        for values in self.query.stream("reading every row", sql, {}, fields):
            yield Record(self.label, usable_id(values["id"]), self.reader.record(values), values["id"])

    def rejected(self) -> list[Record]:
        """Every row this source read for its ranking columns (select, versions, next_due) that the
        record rules reject for one of them, in full and located as rows() locates it: the build
        reports them, so that no row it read is left out in silence."""
        q = self.query
        found: list[Record] = []
        keys = [k for k in self.reader.rejected if k is not None]
        sql = f"SELECT {q.select_list(q.fields)} FROM {q.relation} WHERE {q.columns['id']} IN :keys"
        batches = [(sql, {"keys": keys[i:i + CHUNK]}) for i in range(0, len(keys), CHUNK)]
        if None in self.reader.rejected:
            batches.append((f"SELECT {q.select_list(q.fields)} FROM {q.relation} WHERE {q.columns['id']} IS NULL",
                            {}))
        for statement, params in batches:
            for values in q.rows("reading the rows the record rules reject", statement, params, q.fields,
                                 expanding=("keys",) if params else ()):
                if not self.reader.rejects(values):
                    continue                    # the valid row of a repeated id: a pick of its own
                ident = usable_id(values["id"])
                line = ident if ident is not None else f"row {self.row_number(values['id'])}"
                found.append(Record(self.label, line, self.reader.record(values), values["id"]))
        return found

    def row_number(self, key: Any) -> int:
        """Where a row whose id the record rules reject is: 1 + the rows whose id sorts before `key`
        (None: rows without an id), in the database's own order, so that build and check agree."""
        q = self.query
        col = q.columns["id"]

        def count(where: str, params: dict) -> int:
            return q.rows("locating a row", f"SELECT count(*) FROM {q.relation} WHERE {where}", params, ["n"])[0]["n"]

        nulls_first = q.dialect.nulls_first
        if key is None:
            return 1 + (0 if nulls_first else count(f"{col} IS NOT NULL", {}))
        return 1 + count(f"{col} < :v", {"v": key}) + (count(f"{col} IS NULL", {}) if nulls_first else 0)

    def fingerprint(self, selection: Selection[Pick], versions: Iterable[Pick] | Translations = ()) -> str:
        """A digest of what the feeds are made of: which rows each feed holds, in order, and every
        record field of those rows; of a row that is only a story's version (versions(), or the newest
        per language as translations() gives them), what a feed shows of it (language, URL, title) and
        what makes it a version. Hashed by the database where it can."""
        if isinstance(versions, Mapping):
            versions = [p for langs in versions.values() for p in langs.values()]
        picks: dict[str, Pick] = {p.id: p for p in selection.picks()}
        linked: dict[str, Pick] = {}
        stories: set[tuple[str, str, str]] = set()
        for pick in versions:
            stories.add((pick.translation_key or "", pick.lang, pick.id))
            if pick.id not in picks:
                linked.setdefault(pick.id, pick)
        hashes = self._row_hashes([p.key for p in picks.values()], self.query.fields)
        self._note_hashes(hashes)                        # load() needs no second look
        shown = [f for f in TRANSLATION_FIELDS if f in self.query.columns]
        for ident, values in self._row_hashes([p.key for p in linked.values()], shown).items():
            hashes.setdefault(ident, []).extend(f"translation {v}" for v in values)
        rejected = [k for k in self.reader.rejected if k is not None]       # a fix to one must be seen
        for ident, values in self._row_hashes(rejected, self.query.fields).items():
            hashes.setdefault(ident, []).extend(f"rejected {v}" for v in values)
        if None in self.reader.rejected:
            hashes["rejected rows without an id"] = [repr(sorted(
                (f, _stable(v)) for f, v in self.reader.rejected[None].items()))]
        digest = hashlib.sha256(b"feedpub.database 2\0")
        for key in sorted(selection.feeds, key=lambda k: (k[0], k[1] or "")):
            digest.update(repr((key, [p.id for p in selection.feeds[key]], key in selection.exhausted)).encode())
        digest.update(repr(sorted(stories)).encode("utf-8", "surrogatepass"))
        for ident in sorted(hashes):
            digest.update(repr((ident, sorted(hashes[ident]))).encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def _note_hashes(self, hashes: dict[str, list[str]]) -> None:
        """This snapshot's hashes of the record fields, by id (one per row holding the id)."""
        self._hashes.update((ident, tuple(sorted(found))) for ident, found in hashes.items())

    def _row_hashes(self, keys: list[Any], hashed: list[str]) -> dict[str, list[str]]:
        columns = [self.query.columns[f] for f in hashed]
        expr = self.query.dialect.row_hash(columns)
        if expr is not None:
            q = self.query
            sql = f"SELECT {q.columns['id']}, {expr} FROM {q.relation} WHERE {q.columns['id']} IN :keys"
            fields = ["id", "hash"]
        else:
            sql = f"SELECT {', '.join(columns)} FROM {self.query.relation} WHERE {self.query.columns['id']} IN :keys"
            fields = hashed
        hashes: dict[str, list[str]] = {}
        for start in range(0, len(keys), CHUNK):
            for values in self.query.rows("hashing the chosen rows", sql, {"keys": keys[start:start + CHUNK]},
                                          fields, expanding=("keys",)):
                ident = key_text(values["id"]) or repr(values["id"])
                if expr is None:
                    value = hashlib.sha256(repr([_stable(values[f]) for f in fields]).encode(
                        "utf-8", "surrogatepass")).hexdigest()
                else:
                    value = str(values["hash"])
                hashes.setdefault(ident, []).append(value)
        return hashes

    def explain(self) -> list[str]:
        from .explain import explain
        return explain(self)


def _stable(value: Any) -> Any:
    """A value whose repr() is the same in every process (a memoryview's is not)."""
    if isinstance(value, (memoryview, bytearray)):
        return bytes(value)
    return value

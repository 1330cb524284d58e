"""DatabaseSource: the rows of one table, view or query, read as records (see feedpub.database)."""
from __future__ import annotations

import hashlib
import time
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator, Mapping

from sqlalchemy import bindparam, text
from sqlalchemy.exc import SQLAlchemyError

from ..errors import SourceError
from ..text import printable
from ..sourceconfig import RECORD_FIELDS, REQUIRED_FIELDS, SourceConfig
from .connection import Connection
from ..selection import Chooser, Selection, feeds_of, newest_versions
from .picks import Pick, Record, Translations
from .values import categories_of, draft_value, instant, json_value, key_text, record_of, usable_id

CHUNK = 500                    # ids or keys per IN (…) list
TRANSLATION_FIELDS = ("id", "lang", "title", "url", "published", "translation_key", "draft")
BATCH = 2000                   # rows per fetch when streaming


class DatabaseSource:
    """An open source: one connection, one read-only snapshot, until close()."""

    def __init__(self, cfg: SourceConfig, *, tz, date_order: str = "dmy", category_feeds: bool = True):
        self.cfg = cfg
        self.label = cfg.label
        self.tz = tz
        self.date_order = date_order
        self.category_feeds = category_feeds
        self.warnings: list[str] = []
        self._db = Connection(cfg)
        try:
            self._inspect()
        except BaseException:
            self._db.close()
            raise
        self._names: dict[str, dict[str, set[str]]] | None = None
        self._due: tuple[datetime, datetime | None] | None = None
        self._last_languages: list[str] = []
        self._category_memo: dict = {}
        self._warned = False

    # --- life cycle ---

    def __enter__(self) -> "DatabaseSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    # --- what the source looks like ---

    def _inspect(self) -> None:
        d = self._db.dialect
        q = d.quote
        cfg = self.cfg
        self.rel = (".".join(q(part) for part in cfg.table.split(".", 1)) if cfg.table else f"({cfg.query})") + " src"
        with self._db.guard(f"cannot read {'the table' if cfg.table else 'the query'}"):
            result = self._db.conn.execute(text(f"SELECT * FROM {self.rel} WHERE 1=0"))
            description = result.cursor.description
            result.close()
        kinds = d.kinds(description)
        names = {c.lower(): c for c in kinds}
        self.col: dict[str, str] = {}              # field -> "src.<quoted column>"
        self.kind: dict[str, str] = {}
        missing = []
        for field in RECORD_FIELDS:
            column = cfg.columns[field]
            actual = column if column in kinds else names.get(column.lower())
            if actual is None:
                if field in REQUIRED_FIELDS or field in cfg.explicit:
                    missing.append(f'"{column}"' + ("" if column == field else f" ({field})"))
                continue
            self.col[field] = f"src.{q(actual)}"
            self.kind[field] = kinds[actual][0]
        if missing:
            raise SourceError(printable(
                f"{self.label}: no column {', '.join(missing)} (expected the record fields as columns, or "
                f"[source.columns] naming the column of each; the columns are: {', '.join(kinds) or 'none'})"))
        self.fields = [f for f in RECORD_FIELDS if f in self.col]
        self._not_draft = d.not_draft(self.col["draft"], self.kind["draft"]) if "draft" in self.col else None
        self._python_draft = "draft" in self.col and self._not_draft is None
        self.streaming_reasons = self._streaming_reasons()
        self.mode = "stream" if self.streaming_reasons else "sql"

    def _streaming_reasons(self) -> list[str]:
        d, kind = self._db.dialect, self.kind
        if not d.typed:
            if d.name == "sqlite":
                return ["SQLite keeps dates as text"]
            return [f"{self._db.engine.dialect.name} is read through plain SELECTs (only PostgreSQL, MySQL and "
                    "MariaDB choose the newest rows themselves)"]
        reasons = []
        if kind["published"] not in ("aware", "utc", "naive", "number"):
            reasons.append(f"published ({self.col['published'][4:]}) is text, not a timestamp")
        if self._python_draft:
            reasons.append("draft is neither a boolean nor 0/1")
        if self.category_feeds and "categories" in self.col and d.category_match(
                self.col["categories"], kind["categories"], 1) is None:
            reasons.append(f"categories ({self.col['categories'][4:]}) is text, not an array or JSON")
        return reasons

    # --- one row's values ---

    def _adapt(self, field: str, value: Any) -> Any:
        if self.kind.get(field) == "utc" and isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value

    def _ranking_fields(self) -> list[str]:
        fields = ["id", "lang", "published"]
        if self.category_feeds and "categories" in self.col:
            fields.append("categories")
        if "translation_key" in self.col:
            fields.append("translation_key")
        if self._python_draft:
            fields.append("draft")
        return fields

    def _categories(self, value: Any) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
        """(categories as the record rules keep them or None when they reject them, the stored
        names), remembered: a newsroom's rows share a few hundred category lists."""
        try:
            memo = tuple(value) if isinstance(value, list) else value
            known = self._category_memo.get(memo)
        except TypeError:                                  # unhashable (nested JSON): not remembered
            memo = known = None
        if known is None:
            decoded = json_value("categories", value)
            raw = tuple(c for c in decoded if isinstance(c, str)) if isinstance(decoded, list) else ()
            known = (categories_of(value), raw)
            if memo is not None and len(self._category_memo) < 100_000:
                self._category_memo[memo] = known
        return known

    def _select_list(self, fields: list[str]) -> str:
        return ", ".join(self.col[f] for f in fields)

    def _pick(self, values: Mapping[str, Any]) -> Pick | None:
        """The pick of a row's ranking values, or None when the record rules would reject the row
        for one of them (it never ranks, as an invalid record never does)."""
        ident = usable_id(values["id"])
        lang = values["lang"]
        when = instant(self._adapt("published", values["published"]), self.tz, self.date_order)
        if ident is None or not isinstance(lang, str) or when is None:
            return None
        if self._python_draft:
            draft = draft_value(values["draft"])
            if draft is not None and draft is not False:
                return None
        cats: tuple[str, ...] = ()
        raw: tuple[str, ...] = ()
        if "categories" in values:
            cats, raw = self._categories(values["categories"])
            if cats is None:
                return None
        tkey = None
        if "translation_key" in values and values["translation_key"] is not None:
            tkey = key_text(values["translation_key"])
            if tkey is None or not tkey.strip():
                return None
            tkey = tkey.strip()
        return Pick(self.label, ident, values["id"], lang, when, cats, tkey, raw)

    # --- running queries ---

    def _rows(self, what: str, sql: str, params: dict | None = None, fields: list[str] | None = None,
              expanding: tuple[str, ...] = ()) -> list[dict]:
        statement = text(sql)
        if expanding:
            statement = statement.bindparams(*(bindparam(name, expanding=True) for name in expanding))
        with self._db.guard(what):
            rows = self._db.conn.execute(statement, params or {}).all()
        if fields is None:
            return [dict(r._mapping) for r in rows]
        return [dict(zip(fields, r)) for r in rows]

    def _stream(self, what: str, sql: str, params: dict, fields: list[str],
                expanding: tuple[str, ...] = ()) -> Iterator[dict]:
        statement = text(sql)
        if expanding:
            statement = statement.bindparams(*(bindparam(name, expanding=True) for name in expanding))
        with self._db.guard(what):
            result = self._db.conn.execute(statement, params,
                                           execution_options={"stream_results": True, "max_row_buffer": BATCH})
        try:
            while True:
                with self._db.guard(what):
                    batch = result.fetchmany(BATCH)
                if not batch:
                    return
                for row in batch:
                    yield dict(zip(fields, row))
        finally:
            try:
                result.close()
            except (SQLAlchemyError, OSError):     # the connection failed mid-stream; guard reported it
                pass

    # --- the public API (see feedpub.database) ---

    def select(self, languages: Iterable[str], max_items: int, now: datetime, extra: int = 0) -> Selection[Pick]:
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        languages = sorted(set(languages))
        self._last_languages = languages
        need = max_items + extra
        if self.mode == "sql":
            from .sqlselect import select_in_sql
            supplied, exhausted = select_in_sql(self, languages, need, now)
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
        fields = self._ranking_fields()
        where = ([f"{self.col['lang']} IN :langs"] if languages else []) + (
            [self._not_draft] if self._not_draft else [])
        started = time.monotonic()
        count = 0
        chooser = Chooser(need, now.timestamp())
        categories = self.category_feeds
        for values in self._stream("reading every row's ranking columns",
                                   f"SELECT {self._select_list(fields)} FROM {self.rel}"
                                   + (f" WHERE {' AND '.join(where)}" if where else ""),
                                   {"langs": languages} if languages else {}, fields,
                                   expanding=("langs",) if languages else ()):
            count += 1
            pick = self._pick(values)
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
        if "translation_key" not in self.col:
            return []
        keys = sorted({k for k in keys if k})
        fields = ["id", "lang", "published", "translation_key"] + (["draft"] if self._python_draft else [])
        where = [f"{self.col['translation_key']} IN :keys"] + ([self._not_draft] if self._not_draft else [])
        params: dict[str, Any] = {}
        if languages is not None:
            where.append(f"{self.col['lang']} IN :langs")
            params["langs"] = sorted(set(languages))
        sql = f"SELECT {self._select_list(fields)} FROM {self.rel} WHERE {' AND '.join(where)}"
        found: list[Pick] = []
        now_ts = now.timestamp()
        for start in range(0, len(keys), CHUNK):
            chunk = self._keys_for("translation_key", keys[start:start + CHUNK])
            rows = self._rows("reading translations", sql, {**params, "keys": chunk}, fields,
                              expanding=("keys",) + (("langs",) if "langs" in params else ()))
            for values in rows:
                pick = self._pick(values)
                if pick is not None and pick.translation_key is not None and pick.ts <= now_ts:
                    found.append(pick)
        return found

    def _keys_for(self, field: str, keys: list[str]) -> list[Any]:
        """Keys as the column compares them: integers for an integer column."""
        if self.kind.get(field) == "number":
            return [int(k) for k in keys if k.lstrip("-").isdigit()] or [0]
        return keys

    def next_due(self, now: datetime) -> datetime | None:
        """The earliest published time after now among rows that are not drafts (None: none scheduled)."""
        if self._due is not None and self._due[0] == now:
            return self._due[1]
        if self.mode == "stream":
            self._select_streaming(self._last_languages or None, 0, now)
            return self._due[1]
        from .sqlselect import next_due_in_sql
        return next_due_in_sql(self, now)

    def load(self, picks: Iterable[Pick]) -> dict[str, Record]:
        """The full record of each pick, by id (a pick whose row is gone since is left out)."""
        wanted: dict[str, Pick] = {}
        for pick in picks:
            wanted.setdefault(pick.id, pick)
        fields = self.fields
        sql = f"SELECT {self._select_list(fields)} FROM {self.rel} WHERE {self.col['id']} IN :keys"
        found: dict[str, Record] = {}
        keys = [p.key for p in wanted.values()]
        for start in range(0, len(keys), CHUNK):
            for values in self._rows("reading records", sql, {"keys": keys[start:start + CHUNK]}, fields,
                                     expanding=("keys",)):
                ident = usable_id(values["id"])
                pick = wanted.get(ident) if ident is not None else None
                if pick is None:
                    continue
                held = found.get(ident)
                if held is not None and not self._same_published(values, pick):
                    continue                    # a repeated id: keep the row the pick was made from
                found[ident] = Record(self.label, ident, self._record(values), values["id"])
        return found

    def _same_published(self, values: dict, pick: Pick) -> bool:
        return instant(self._adapt("published", values["published"]), self.tz, self.date_order) == pick.published

    def _record(self, values: Mapping[str, Any]) -> dict:
        return record_of({f: self._adapt(f, v) for f, v in values.items()})

    def rows(self) -> Iterator[Record]:
        """Every row, in id order, as a record: what `feedpub check` judges. Streamed (a server-side
        cursor): memory stays flat however many rows there are. A row whose id the record rules
        reject, or whose id repeats the previous row's, is located as "row N" (its position here)."""
        fields = self.fields
        sql = f"SELECT {self._select_list(fields)} FROM {self.rel} ORDER BY {self.col['id']}"
        previous = None
        for number, values in enumerate(self._stream("reading every row", sql, {}, fields), 1):
            ident = usable_id(values["id"])
            line = ident if ident is not None and ident != previous else f"row {number}"
            previous = ident
            yield Record(self.label, line, self._record(values), values["id"])

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
        hashes = self._row_hashes(list(picks.values()), self.fields)
        shown = [f for f in TRANSLATION_FIELDS if f in self.col]
        for ident, values in self._row_hashes(list(linked.values()), shown).items():
            hashes.setdefault(ident, []).extend(f"translation {v}" for v in values)
        digest = hashlib.sha256(b"feedpub.database 2\0")
        for key in sorted(selection.feeds, key=lambda k: (k[0], k[1] or "")):
            digest.update(repr((key, [p.id for p in selection.feeds[key]], key in selection.exhausted)).encode())
        digest.update(repr(sorted(stories)).encode("utf-8", "surrogatepass"))
        for ident in sorted(hashes):
            digest.update(repr((ident, sorted(hashes[ident]))).encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def _row_hashes(self, picks: list[Pick], hashed: list[str]) -> dict[str, list[str]]:
        columns = [self.col[f] for f in hashed]
        expr = self._db.dialect.row_hash(columns)
        if expr is not None:
            sql = f"SELECT {self.col['id']}, {expr} FROM {self.rel} WHERE {self.col['id']} IN :keys"
            fields = ["id", "hash"]
        else:
            sql = f"SELECT {', '.join(columns)} FROM {self.rel} WHERE {self.col['id']} IN :keys"
            fields = hashed
        hashes: dict[str, list[str]] = {}
        keys = [p.key for p in picks]
        for start in range(0, len(keys), CHUNK):
            for values in self._rows("hashing the chosen rows", sql, {"keys": keys[start:start + CHUNK]}, fields,
                                     expanding=("keys",)):
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

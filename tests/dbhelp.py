"""Support for the database tests: a fresh PostgreSQL database per test, records as rows, and the
file route's selection rule written out plainly (the reference the database selection must equal)."""
from __future__ import annotations

import itertools
import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
LANGUAGES = {"vi": None, "en": None}
BASE_URL = "https://tinlongan.example.vn"
VN = ZoneInfo("Asia/Ho_Chi_Minh")
READER = "feedpub_reader"
READER_PASSWORD = "r3ad:only@/%pw"            # characters a URL must escape
_numbers = itertools.count(1)

PG_TYPED = """CREATE TABLE {name} (
    id text PRIMARY KEY, lang text NOT NULL, title text, url text, published timestamptz, updated timestamptz,
    summary text, content text, author jsonb, categories text[], image jsonb, translation_key text,
    draft boolean NOT NULL DEFAULT false)"""
PG_TEXT = """CREATE TABLE {name} (
    id text, lang text, title text, url text, published text, updated text, summary text, content text,
    author text, categories text, image text, translation_key text, draft boolean)"""
FIELDS = ("id", "lang", "title", "url", "published", "updated", "summary", "content", "author", "categories",
          "image", "translation_key", "draft")
SQLITE_TEXT = PG_TEXT.format(name="feed_articles")


def sqlite_table(path: Path, records, schema: str = SQLITE_TEXT) -> Path:
    """A SQLite file holding these records in feed_articles, every value as text_row writes it."""
    with sqlite3.connect(path) as conn:
        conn.execute(schema)
        conn.executemany(f"INSERT INTO feed_articles ({', '.join(FIELDS)}) VALUES ({', '.join('?' * len(FIELDS))})",
                         [tuple(text_row(r)[f] for f in FIELDS) for r in records])
    conn.close()
    return path


class PgDatabase:
    """A new database in the test cluster; `admin` is an engine with every right, `reader_url` a URL
    for a role that may only read what it is granted (grant())."""

    def __init__(self, server, name: str | None = None):
        import sqlalchemy as sa
        self.server = server
        self.name = name or f"feedpub_test_{next(_numbers)}"
        root = sa.create_engine(server.url(), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with root.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {self.name}")
            exists = conn.exec_driver_sql(f"SELECT 1 FROM pg_roles WHERE rolname = '{READER}'").first()
            if not exists:
                conn.execute(sa.text(f"CREATE ROLE {READER} LOGIN PASSWORD '{READER_PASSWORD}'"))
            conn.exec_driver_sql(f"REVOKE CONNECT ON DATABASE {self.name} FROM PUBLIC")
        root.dispose()
        self.admin_url = server.url(database=self.name)
        self.reader_url = server.url(READER, READER_PASSWORD, database=self.name)
        self.admin = sa.create_engine(self.admin_url, poolclass=sa.pool.NullPool)

    def execute(self, sql: str, params=None) -> None:
        import sqlalchemy as sa
        with self.admin.begin() as conn:
            conn.execute(sa.text(sql), params or {})

    def grant(self, *relations: str) -> None:
        self.execute(f"GRANT CONNECT ON DATABASE {self.name} TO {READER}")
        self.execute(f"GRANT USAGE ON SCHEMA public TO {READER}")
        for relation in relations:
            self.execute(f"GRANT SELECT ON {relation} TO {READER}")

    def drop(self) -> None:
        import sqlalchemy as sa
        self.admin.dispose()
        root = sa.create_engine(self.server.url(), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with root.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
        root.dispose()


def sample_records() -> list[dict]:
    """Every record of the bundled sample site, in the order the file route reads them."""
    records = []
    for path in sorted((DATA / "articles").rglob("*")):
        if path.suffix == ".jsonl":
            records += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        elif path.suffix == ".json":
            value = json.loads(path.read_text(encoding="utf-8-sig"))
            records += value if isinstance(value, list) else [value]
    return records


def aware(value, tz=VN, order: str = "dmy"):
    from feedpub.dates import parse_datetime
    from feedpub.errors import DateError
    if value is None:
        return None
    try:
        return parse_datetime(value, tz, order=order)[0]
    except DateError:
        return None


def typed_row(record: dict, tz=VN) -> dict:
    """A record as the columns of PG_TYPED hold it."""
    row = {name: record.get(name) for name in FIELDS}
    row["published"] = aware(record.get("published"), tz)
    row["updated"] = aware(record.get("updated"), tz)
    for name in ("author", "image"):
        row[name] = None if row[name] is None else json.dumps(row[name], ensure_ascii=False)
    row["draft"] = bool(record.get("draft"))
    return row


def text_row(record: dict) -> dict:
    """A record as the text columns of PG_TEXT (or SQLite) hold it: dates exactly as written."""
    row = {name: record.get(name) for name in FIELDS}
    for name in ("author", "categories", "image"):
        if row[name] is not None and not isinstance(row[name], str):
            row[name] = json.dumps(row[name], ensure_ascii=False)
    for name in ("published", "updated"):
        if isinstance(row[name], (int, float)):
            row[name] = str(row[name])
    row["draft"] = record.get("draft")
    return row


def insert_sql(table: str, casts: dict[str, str] | None = None) -> str:
    casts = casts or {}
    values = ", ".join(f"CAST(:{f} AS {casts[f]})" if f in casts else f":{f}" for f in FIELDS)
    return f"INSERT INTO {table} ({', '.join(FIELDS)}) VALUES ({values})"


PG_TYPED_CASTS = {"author": "jsonb", "image": "jsonb"}


def load_typed(db: PgDatabase, records, table: str = "feed_articles", tz=VN) -> None:
    db.execute(PG_TYPED.format(name=table))
    if records:
        db.execute(insert_sql(table, PG_TYPED_CASTS), [typed_row(r, tz) for r in records])
    db.grant(table)


def reference(records, *, need: int, now: datetime, tz=VN, order: str = "dmy", categories: bool = True,
              languages=LANGUAGES) -> dict:
    """What each feed carries under the file route's rule: valid records that are not drafts and are
    published by now, newest first by (published, id), the first `need`."""
    from feedpub.records import RecordRules
    rules = RecordRules(languages, BASE_URL, tz, order)
    pools: dict = {}
    for number, record in enumerate(records, 1):
        article, errors, _ = rules.check(record, "ref", number)
        if article is None or article.draft or article.published > now:
            continue
        keys = [(article.lang, None)] + ([(article.lang, c) for c in article.categories] if categories else [])
        for key in keys:
            pools.setdefault(key, []).append(article)
    result = {key: [a.id for a in sorted(arts, key=lambda a: (a.published.timestamp(), a.id), reverse=True)[:need]]
              for key, arts in pools.items()}
    for lang in languages:
        result.setdefault((lang, None), [])
    return result


def chosen(selection) -> dict:
    return {key: [p.id for p in picks] for key, picks in selection.feeds.items()}


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def validate_record(record, source, line, *, languages, base_url, tz, order: str = "dmy"):
    """(article, errors, warnings) of one record under the record rules of a site with these settings."""
    from feedpub.records import RecordRules
    return RecordRules(languages, base_url, tz, order).check(record, source, line)

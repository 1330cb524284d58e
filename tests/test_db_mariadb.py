"""Records from a real MariaDB (Debian's mariadb-server, when it is installed): DATETIME in the site
zone, TIMESTAMP in UTC, JSON categories matched in SQL. Skipped with the reason when the server
cannot start here; FEEDPUB_REQUIRE_MARIADB=1 makes that a failure."""
from __future__ import annotations

import itertools
import time
from datetime import timezone

import pytest

import dbhelp
from dbhelp import VN, chosen, reference, sample_records, utc

from feedpub.database import open_source, parse_source
from feedpub.errors import SourceError

NOW = utc(2026, 11, 29, 12)
_tables = itertools.count(1)


@pytest.fixture
def maria(mariadb_server):
    import sqlalchemy as sa
    engine = sa.create_engine(mariadb_server.url(), poolclass=sa.pool.NullPool,
                              connect_args={"init_command": "SET time_zone = '+00:00'"})
    yield mariadb_server, engine
    engine.dispose()


def load(engine, records, published_type: str) -> str:
    import sqlalchemy as sa
    table = f"articles_{next(_tables)}"
    with engine.begin() as conn:
        conn.exec_driver_sql(f"""CREATE TABLE {table} (id VARCHAR(100) PRIMARY KEY, lang VARCHAR(8) NOT NULL,
            title TEXT, url TEXT, published {published_type}, updated DATETIME, summary TEXT, content MEDIUMTEXT,
            author TEXT, categories JSON, image JSON, translation_key VARCHAR(100),
            draft BOOLEAN NOT NULL DEFAULT 0, INDEX (lang, published), INDEX (translation_key))""")
        rows = []
        for record in records:
            row = dbhelp.text_row(record)
            when = dbhelp.aware(record["published"])
            row["published"] = (when.astimezone(timezone.utc) if published_type == "TIMESTAMP"
                                else when.astimezone(VN)).replace(tzinfo=None)
            row["updated"] = None
            row["draft"] = bool(record.get("draft"))
            rows.append(row)
        conn.execute(sa.text(dbhelp.insert_sql(table)), rows)
    return table


def open_maria(server, table, **keys):
    cfg = parse_source({"url": server.url(), "table": table, **keys}, dbhelp.ROOT)
    return open_source(cfg, tz=VN)


@pytest.mark.parametrize("published_type", ["DATETIME", "TIMESTAMP"])
@pytest.mark.parametrize("pool", [3, 2000])
def test_selection_in_sql_is_the_file_rule(maria, monkeypatch, published_type, pool):
    from feedpub.database import sqlselect
    monkeypatch.setattr(sqlselect, "POOL", pool)
    server, engine = maria
    records = sample_records()
    table = load(engine, records, published_type)
    with open_maria(server, table) as src:
        assert src.mode == "sql", src.streaming_reasons
        assert src.query.kinds["published"] == ("utc" if published_type == "TIMESTAMP" else "naive")
        selection = src.select(["vi", "en"], 2, NOW, 1)
        versions = src.translations(selection.translation_keys(), NOW)
        loaded = src.load(selection.picks())
        fingerprint = src.fingerprint(selection, versions)
    assert chosen(selection) == reference(records, need=3, now=NOW)
    assert set(loaded) == {p.id for p in selection.picks()}
    with engine.begin() as conn:
        first = selection.feeds[("vi", None)][0].id
        conn.exec_driver_sql(f"UPDATE {table} SET title = 'Sửa' WHERE id = '{first}'")
    with open_maria(server, table) as src:
        again = src.select(["vi", "en"], 2, NOW, 1)
        assert src.fingerprint(again, src.translations(again.translation_keys(), NOW)) != fingerprint


def test_read_only_and_timeouts(maria):
    server, engine = maria
    table = load(engine, sample_records()[:3], "DATETIME")
    with open_maria(server, table) as src:
        with pytest.raises(SourceError) as info:
            src.query.rows("deleting", f"DELETE FROM {table}")
        assert "READ ONLY" in str(info.value).upper()
    started = time.monotonic()
    with pytest.raises(SourceError) as info:
        with open_maria(server, None, query=f"SELECT t.* FROM {table} t WHERE SLEEP(2) = 0", query_timeout=1) as src:
            src.select(["vi"], 3, NOW)
    assert time.monotonic() - started < 4.5
    assert "no answer from mysql+pymysql://admin:***@" in str(info.value)
    assert server.password not in str(info.value)

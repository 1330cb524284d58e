"""Records from a SQLite file, through the standard library's driver: dates are text there, so every
build ranks the rows in Python, read in one snapshot of a file feedpub never writes to."""
from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path

import pytest

import dbhelp
from dbhelp import VN, chosen, reference, sample_records, utc

from feedpub.database import open_source, parse_source
from feedpub.errors import SourceError
from dbhelp import validate_record

pytest.importorskip("sqlalchemy")
NOW = utc(2026, 11, 29, 12)
SCHEMA = dbhelp.SQLITE_TEXT
write = dbhelp.sqlite_table


def edit(path: Path, sql: str) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(sql)
    conn.close()


def open_file(site: Path, name: str = "cms.db", **keys):
    keys.setdefault("table", "feed_articles")
    return open_source(parse_source({"url": f"sqlite:///{name}", **keys}, site), tz=VN)


@pytest.fixture
def cms(tmp_path) -> Path:
    write(tmp_path / "cms.db", sample_records())
    return tmp_path


@pytest.mark.parametrize("max_items,extra", [(3, 0), (2, 3), (50, 0)])
def test_selection_is_the_file_rule(cms, max_items, extra):
    with open_file(cms) as src:
        assert src.mode == "stream"
        selection = src.select(["vi", "en"], max_items, NOW, extra)
        assert len(src.warnings) == 1 and src.warnings[0].startswith("feed_articles: SQLite keeps dates as text")
    assert chosen(selection) == reference(sample_records(), need=max_items + extra, now=NOW)


def test_translations_schedule_and_load(tmp_path):
    records = [
        {"id": "vi-1", "lang": "vi", "title": "Một", "url": "/1", "published": "01/11/2026 08:00", "translation_key": "k"},
        {"id": "en-1", "lang": "en", "title": "One", "url": "/e1", "published": "November 2, 2026 9:00 AM",
         "translation_key": "k", "categories": ["Politics"], "author": {"name": "Ann"}},
        {"id": "en-2", "lang": "en", "title": "Two", "url": "/e2", "published": "05/12/2026 08:00", "translation_key": "k"},
        {"id": "en-3", "lang": "en", "title": "Three", "url": "/e3", "published": "03/12/2026 08:00", "draft": True},
    ]
    write(tmp_path / "cms.db", records)
    with open_file(tmp_path) as src:
        selection = src.select(["vi", "en"], 5, NOW)
        versions = src.translations(selection.translation_keys(), NOW)
        due = src.next_due(NOW)
        loaded = src.load(selection.picks())
    assert {k: {lang: p.id for lang, p in v.items()} for k, v in versions.items()} == {"k": {"vi": "vi-1",
                                                                                              "en": "en-1"}}
    assert due == utc(2026, 12, 5, 1)
    article, errors, _ = validate_record(loaded["en-1"].record, "feed_articles", "en-1", languages=dbhelp.LANGUAGES,
                                         base_url=dbhelp.BASE_URL, tz=VN)
    assert errors == [] and article.author.name == "Ann" and article.categories == ("Politics",)


def test_rows_locate_a_bad_date(tmp_path):
    write(tmp_path / "cms.db", [
        {"id": "ok", "lang": "vi", "title": "t", "url": "/ok", "published": "02/12/2021 - 23:30"},
        {"id": "bad", "lang": "vi", "title": "t", "url": "/bad", "published": "5h trước"},
        {"id": None, "lang": "vi", "title": "t", "url": "/none", "published": "02/12/2021"},
    ])
    with open_file(tmp_path) as src:
        rows = [(r, r.line or f"row {src.row_number(r.key)}") for r in src.rows()]
    lines = {line: [str(e) for e in validate_record(r.record, r.source, line, languages=dbhelp.LANGUAGES,
                                                    base_url=dbhelp.BASE_URL, tz=VN)[1]] for r, line in rows}
    assert lines["ok"] == []
    assert lines["bad"][0].startswith('feed_articles:bad: field "published": "5h trước" is not a valid date')
    assert lines["row 1"] == ['feed_articles:row 1: field "id": missing (expected a non-empty string, unique across '
                              'the site)']


def fingerprint(site: Path, now=NOW) -> str:
    with open_file(site) as src:
        selection = src.select(["vi", "en"], 3, now)
        return src.fingerprint(selection, src.translations(selection.translation_keys(), now))


def test_fingerprint_follows_edits(cms):
    first = fingerprint(cms)
    assert fingerprint(cms) == first
    edit(cms / "cms.db", "UPDATE feed_articles SET summary = 'sửa' WHERE id = 'vi-2022-01-hoc-sinh-tro-lai-truong'")
    second = fingerprint(cms)
    assert second != first
    edit(cms / "cms.db", "UPDATE feed_articles SET title = 'Old one' WHERE id = (SELECT id FROM feed_articles "
                         "WHERE lang = 'vi' AND translation_key IS NULL AND categories IS NULL ORDER BY published "
                         "LIMIT 1)")
    edit(cms / "cms.db", "UPDATE feed_articles SET categories = '[\"Lưu trữ\"]' WHERE id = (SELECT id FROM "
                         "feed_articles WHERE lang = 'en' ORDER BY published LIMIT 1)")
    assert fingerprint(cms) != second


def test_the_file_is_opened_read_only_and_never_created(cms, tmp_path):
    before = hashlib.sha256((cms / "cms.db").read_bytes()).hexdigest()
    with open_file(cms) as src:
        with pytest.raises(SourceError) as info:
            src.query.rows("deleting", "DELETE FROM feed_articles")
        assert "readonly" in str(info.value).replace("-", "")
    assert hashlib.sha256((cms / "cms.db").read_bytes()).hexdigest() == before
    with pytest.raises(SourceError) as info:
        open_file(tmp_path, "missing.db")
    assert str(info.value).startswith(f"feed_articles: cannot connect to sqlite:///{tmp_path}/missing.db: ")
    assert not (tmp_path / "missing.db").exists()
    (tmp_path / "notes.db").write_text("not a database\n" * 100)
    with pytest.raises(SourceError) as info:
        open_file(tmp_path, "notes.db")
    assert "file is not a database" in str(info.value)


def test_a_slow_query_ends_at_query_timeout(cms):
    slow = ("SELECT f.* FROM feed_articles f JOIN (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
            "WHERE x < 1000000000) SELECT max(x) AS m FROM c) ON 1")
    started = time.monotonic()
    with pytest.raises(SourceError) as info:
        with open_file(cms, table=None, query=slow, query_timeout=0.5) as src:
            src.select(["vi"], 3, NOW)
    assert time.monotonic() - started < 3
    assert "no answer from sqlite:///" in str(info.value) and "query_timeout = 0.5 s" in str(info.value)


def test_explain_asks_for_an_index_on_translation_keys(cms):
    with open_file(cms) as src:
        warnings = src.explain()
    assert warnings[0].startswith("feed_articles: SQLite keeps dates as text")
    assert warnings[1:] == [
        "feed_articles: looking up translations reads all of feed_articles (a whole-table scan); create an index: "
        "CREATE INDEX feedpub_translation_key ON feed_articles (translation_key)",
        "feed_articles: reading records by id reads all of feed_articles (a whole-table scan); create an index: "
        "CREATE INDEX feedpub_id ON feed_articles (id)"]
    edit(cms / "cms.db", "CREATE INDEX feedpub_translation_key ON feed_articles (translation_key)")
    edit(cms / "cms.db", "CREATE UNIQUE INDEX feedpub_id ON feed_articles (id)")
    with open_file(cms) as src:
        assert len(src.explain()) == 1


@pytest.mark.parametrize("make", ["fifo", "directory", "link to a fifo"])
def test_a_database_that_is_no_regular_file_is_refused_at_once(tmp_path, make):
    """Opening a FIFO would block inside the output lock, where connect_timeout does not reach."""
    import os
    import shutil
    from conftest import DATA, run_cli
    site = Path(shutil.copytree(DATA, tmp_path / "site"))
    target = site / "cms.db"
    if make == "fifo":
        os.mkfifo(target)
    elif make == "directory":
        target.mkdir()
    else:
        os.mkfifo(tmp_path / "fifo")
        target.symlink_to(tmp_path / "fifo")
    config = site / "feedpub.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[source]\nurl = "sqlite:///cms.db"\ntable = "t"\n',
                      encoding="utf-8")
    started = time.monotonic()
    proc = run_cli("build", "--data", site, "--out", tmp_path / "out", cwd=tmp_path, timeout=20)
    assert time.monotonic() - started < 15
    assert proc.returncode == 3
    what = "a folder" if make == "directory" else "a FIFO"
    assert proc.stderr.strip() == (f"feedpub: t: cannot connect to sqlite:///{site}/cms.db: cannot be read: {what}, "
                                   "not a regular file (expected a SQLite database file)")
    assert not (tmp_path / "out" / "vi").exists()

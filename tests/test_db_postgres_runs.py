"""A real PostgreSQL as cron meets it: the selection fingerprint that catches every edit that changes a
feed, timeouts, dropped connections, a stopped server, passwords that never show, a read-only snapshot,
and the plans `check` explains."""
from __future__ import annotations

import os
import signal
import socket
import time
from datetime import timedelta

import pytest

import dbhelp
from dbhelp import VN, load_typed, utc

from feedpub.database import open_source, parse_source
from feedpub.errors import SourceError

NOW = utc(2026, 11, 29, 12)


def open_db(db, *, url=None, **keys):
    keys.setdefault("table", "feed_articles")
    return open_source(parse_source({"url": url or db.reader_url, **keys}, dbhelp.ROOT), tz=VN)


def story(ident, lang, day, key=None, cats=(), **more):
    return {"id": ident, "lang": lang, "title": f"Title {ident}", "url": f"/{ident}",
            "published": f"2026-11-{day:02d}T08:00:00+07:00", "updated": f"2026-11-{day:02d}T09:00:00+07:00",
            "translation_key": key, "categories": list(cats), **more}


NEWSROOM = [
    story("v1", "vi", 1, "k1", ["Chính trị"]), story("v2", "vi", 2, None, ["Kinh tế"]),
    story("v3", "vi", 3, None, ["Chính trị"]), story("v4", "vi", 4, "k4", ["Kinh tế"]),
    story("v5", "vi", 5, None, ["Chính trị"]), story("v6", "vi", 6, "k6", ["Chính trị"]),
    story("e1", "en", 1, "k1", ["Politics"]), story("e2", "en", 20, None, ["Economy"]),
    story("e3", "en", 21, None, ["Politics"]), story("e4", "en", 22, "k4", ["Economy"]),
    story("e6", "en", 2, "k6"),                          # old: in no English feed, only a translation of v6
    story("v0", "vi", 1, None, ["Chính trị"]),            # old: in no feed, no story
    story("vd", "vi", 7, None, ["Chính trị"], draft=True),
    story("vs", "vi", 30, None, ["Chính trị"], published="2026-12-10T08:00:00+07:00"),
]


def fingerprint(db, now=NOW, max_items=3):
    with open_db(db) as src:
        selection = src.select(["vi", "en"], max_items, now)
        translations = src.translations(selection.translation_keys(), now)
        return src.fingerprint(selection, translations)


@pytest.fixture
def newsroom(pg):
    load_typed(pg, NEWSROOM)
    return pg


def test_nothing_changed_same_fingerprint(newsroom):
    assert fingerprint(newsroom) == fingerprint(newsroom)


@pytest.mark.parametrize("edit", [
    "UPDATE feed_articles SET title = 'Fixed typo' WHERE id = 'v6'",                      # updated not bumped
    "UPDATE feed_articles SET categories = categories || '{Lưu trữ}' WHERE id = 'v1'",      # old row, new category
    "UPDATE feed_articles SET categories = '{Chính trị,Kinh tế}' WHERE id = 'v2'",          # old row joins a feed
    "UPDATE feed_articles SET title = 'Translated anew' WHERE id = 'e6'",                  # only a translation
    "UPDATE feed_articles SET draft = (id = 'v6') WHERE id IN ('vd', 'v6')",                # publish one, pull one
    "UPDATE feed_articles SET image = '{\"url\": \"/i.jpg\"}' WHERE id = 'e4'",
    "DELETE FROM feed_articles WHERE id = 'v5'",
    "INSERT INTO feed_articles (id, lang, title, url, published) VALUES ('v9', 'vi', 'New', '/v9', '2026-11-28')",
])
def test_every_edit_that_changes_a_feed_changes_the_fingerprint(newsroom, edit):
    before = fingerprint(newsroom)
    newsroom.execute(edit)
    assert fingerprint(newsroom) != before


@pytest.mark.parametrize("edit", [
    "UPDATE feed_articles SET title = 'Quiet fix' WHERE id = 'v0'",                        # in no feed, no story
    "UPDATE feed_articles SET content = '<p>new</p>' WHERE id = 'vs'",                     # scheduled, not due
    "UPDATE feed_articles SET title = 'Draft edit' WHERE id = 'vd'",
    "UPDATE feed_articles SET content = '<p>Only the story link shows this row</p>' WHERE id = 'e6'",
])
def test_edits_no_feed_shows_leave_it(newsroom, edit):
    before = fingerprint(newsroom)
    newsroom.execute(edit)
    assert fingerprint(newsroom) == before


def test_a_scheduled_row_coming_due_changes_the_fingerprint(newsroom):
    with open_db(newsroom) as src:
        src.select(["vi", "en"], 3, NOW)
        due = src.next_due(NOW)
    assert due == utc(2026, 12, 10, 1)
    assert fingerprint(newsroom, now=due - timedelta(seconds=1)) != fingerprint(newsroom, now=due)
    assert fingerprint(newsroom, now=utc(2026, 12, 1)) == fingerprint(newsroom, now=utc(2026, 12, 9))


def test_one_snapshot_for_the_whole_run(newsroom):
    """Select, translations, fingerprint and load read one snapshot: a commit in between is not half-seen."""
    with open_db(newsroom) as src:
        selection = src.select(["vi"], 3, NOW)
        newsroom.execute("UPDATE feed_articles SET title = 'Changed meanwhile' WHERE id = 'v6'")
        newsroom.execute("DELETE FROM feed_articles WHERE id = 'v5'")
        records = src.load(selection.picks())
        assert records["v6"].record["title"] == "Title v6" and "v5" in records
        read_only = src.query.rows("asking", "SHOW transaction_read_only", fields=["v"])[0]["v"]
        isolation = src.query.rows("asking", "SHOW transaction_isolation", fields=["v"])[0]["v"]
    assert (read_only, isolation) == ("on", "repeatable read")


def test_even_a_superuser_source_cannot_write(newsroom):
    with open_db(newsroom, url=newsroom.admin_url) as src:
        with pytest.raises(SourceError) as info:
            src.query.rows("deleting", "DELETE FROM feed_articles")
    assert "read-only transaction" in str(info.value)


# --- never hangs ------------------------------------------------------------------------------------


def test_a_slow_query_ends_at_query_timeout(newsroom):
    query = "SELECT f.* FROM feed_articles f CROSS JOIN pg_sleep(5)"
    started = time.monotonic()
    with open_db(newsroom, table=None, query=query, query_timeout=1) as src:
        with pytest.raises(SourceError) as info:
            src.select(["vi"], 3, NOW)
    assert time.monotonic() - started < 4
    message = str(info.value)
    assert message.startswith("query: choosing the newest rows: no answer from postgresql+psycopg://feedpub_reader:***@")
    assert message.endswith("within [source] query_timeout = 1 s; nothing was published")


def _backend_pid(db) -> int:
    import sqlalchemy as sa
    with db.admin.connect() as conn:
        return conn.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE application_name = 'feedpub' "
                                    "AND datname = :db"), {"db": db.name}).scalar_one()


def test_a_server_that_stops_answering_ends_at_query_timeout(newsroom):
    """A backend that neither answers nor times itself out (here: stopped with SIGSTOP): the client's
    own watchdog ends the query."""
    with open_db(newsroom, query_timeout=1) as src:
        pid = _backend_pid(newsroom)
        os.kill(pid, signal.SIGSTOP)
        started = time.monotonic()
        try:
            with pytest.raises(SourceError) as info:
                src.select(["vi"], 3, NOW)
        finally:
            os.kill(pid, signal.SIGCONT)
    assert 1 <= time.monotonic() - started < 6
    assert "no answer from postgresql+psycopg://feedpub_reader:***@" in str(info.value)


def test_a_dropped_connection_is_one_clear_error(newsroom):
    import sqlalchemy as sa
    with open_db(newsroom) as src:
        with newsroom.admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": _backend_pid(newsroom)})
        with pytest.raises(SourceError) as info:
            src.select(["vi"], 3, NOW)
    assert "the connection to postgresql+psycopg://feedpub_reader:***@" in str(info.value)
    assert "was lost" in str(info.value) and "nothing was published" in str(info.value)


def test_a_stopped_server_and_one_that_never_answers(postgres_server):
    """A cluster of its own (the test run's must keep running), stopped under an open source."""
    import dbservers
    server = dbservers.start_postgres()
    try:
        db = dbhelp.PgDatabase(server)
        load_typed(db, NEWSROOM)
        url = db.reader_url
        src = open_db(db)
        server.stop("immediate")
        with pytest.raises(SourceError) as info:
            src.select(["vi"], 3, NOW)
        src.close()
        assert "was lost" in str(info.value)
        started = time.monotonic()
        with pytest.raises(SourceError) as info:
            open_db(db, url=url)
        assert time.monotonic() - started < 5
        assert str(info.value).startswith("feed_articles: cannot connect to postgresql+psycopg://feedpub_reader:***@")
    finally:
        server.remove()
    with socket.socket() as silent:                      # accepts connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(SourceError) as info:
            open_source(parse_source({"url": f"postgresql://u:pw@127.0.0.1:{port}/db", "table": "t",
                                      "connect_timeout": 2}, dbhelp.ROOT), tz=VN)
    assert 1.5 < time.monotonic() - started < 6
    assert "connect_timeout = 2 s" in str(info.value)


# --- never leaks ------------------------------------------------------------------------------------


def _forms(password: str) -> list[str]:
    from urllib.parse import quote
    return [password, quote(password, safe=""), password[:6]]


def test_no_error_shows_the_password(newsroom, postgres_server):
    wrong = dbhelp.READER_PASSWORD + "x"
    bad_url = newsroom.reader_url.replace(
        __import__("urllib.parse").parse.quote(dbhelp.READER_PASSWORD, safe=""),
        __import__("urllib.parse").parse.quote(wrong, safe=""))
    messages = []
    for url, keys in [(bad_url, {}), (newsroom.reader_url, {"table": "nowhere"}),
                      (newsroom.reader_url, {"table": None, "query": "SELECT nonsense"}),
                      (newsroom.reader_url.replace(newsroom.name, "no_such_db"), {})]:
        with pytest.raises(SourceError) as info:
            open_db(newsroom, url=url, **keys)
        messages.append(str(info.value))
    assert "password authentication failed" in messages[0]
    for message in messages:
        assert "feedpub_reader:***@" in message
        for form in _forms(dbhelp.READER_PASSWORD) + _forms(wrong) + _forms(postgres_server.password):
            assert form not in message, message


def test_url_from_the_environment(newsroom, monkeypatch):
    monkeypatch.setenv("FEEDPUB_TEST_DB", newsroom.reader_url)
    cfg = parse_source({"url_env": "FEEDPUB_TEST_DB", "table": "feed_articles"}, dbhelp.ROOT)
    with open_source(cfg, tz=VN) as src:
        assert [p.id for p in src.select(["vi"], 2, NOW).feeds[("vi", None)]] == ["v6", "v5"]


# --- check explains the plans ------------------------------------------------------------------------


def test_explain_names_the_indexes_a_big_table_needs(pg):
    load_typed(pg, [])
    pg.execute("INSERT INTO feed_articles (id, lang, title, url, published, categories, translation_key, draft) "
               "SELECT 'r' || n, CASE WHEN n % 2 = 0 THEN 'vi' ELSE 'en' END, repeat('t', 200), '/r/' || n, "
               "timestamptz '2020-01-01' + n * interval '7 minutes', "
               "ARRAY['c' || (n % 12), 'd' || (n % 7)], 'k' || (n / 2), n % 50 = 0 FROM generate_series(1, 40000) n")
    pg.execute("ANALYZE feed_articles")
    with open_db(pg) as src:
        warnings = src.explain()
        selection = src.select(["vi", "en"], 5, NOW)
    assert len(selection.feeds) == 2 + 13 + 13           # vi: even n, so c0, c2 … c10 and d0 … d6
    expected = {
        "the newest rows of a language": "CREATE INDEX ON feed_articles (lang, published DESC) WHERE draft IS NOT TRUE",
        "a category's newest rows": "CREATE INDEX ON feed_articles USING gin (categories)",
        "listing the categories": "CREATE INDEX ON feed_articles (lang, categories) WHERE draft IS NOT TRUE",
        "looking up translations": "CREATE INDEX ON feed_articles (translation_key)",
    }
    assert len(warnings) == len(expected)
    for (what, index), line in zip(expected.items(), warnings):
        assert line == (f"feed_articles: {what} reads all of feed_articles (a whole-table scan); "
                        f"create an index: {index}")
        pg.execute(index)
    pg.execute("ANALYZE feed_articles")
    with open_db(pg) as src:
        assert src.explain() == []
        assert dbhelp.chosen(src.select(["vi", "en"], 5, NOW)) == dbhelp.chosen(selection)

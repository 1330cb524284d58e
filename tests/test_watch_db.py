"""`feedpub watch` on a database, against real servers: PostgreSQL's LISTEN/NOTIFY with the README's
trigger run verbatim (for a table, and for the tables behind the worked example's view), a server
stopped and started and a backend terminated while watching, and the sources that send no
notifications (SQLite, MariaDB), asked at an interval. The `notify_channel` key is PostgreSQL's alone."""
from __future__ import annotations

import re
from pathlib import Path

import feedparser
import pytest

import dbhelp
from conftest import DATA
from dbhelp import VN
from feedpub.errors import ConfigError
from feedpub.sourceconfig import parse_source
from feedpub.watch import Watcher
from test_db_readme import cms  # noqa: F401 (the fixture: the worked example's CMS database)
from test_watch import Lines, wait_until

README = dbhelp.ROOT / "README.md"
NEVER = 3600.0                              # no polling, no heartbeat: only a notification can start a rebuild


def realtime_sql() -> list[str]:
    """The SQL blocks of the README's "Real-time" section, in order: the function, the trigger for a
    table, the triggers for the worked example's view."""
    text = README.read_text(encoding="utf-8")
    start = text.index("## Real-time: feedpub watch")
    return re.findall(r"```sql\n(.*?)```", text[start:text.index("\n## ", start + 1)], re.S)


def site_with(tmp_path: Path, source: str) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    (site / "feedpub.toml").write_text((DATA / "feedpub.toml").read_text(encoding="utf-8") + "\n[source]\n" + source,
                                       encoding="utf-8")
    return site


def titles(out: Path, lang: str = "vi") -> list[str]:
    return [e.title for e in feedparser.parse((out / lang / "rss.xml").read_bytes()).entries]


def watching(site: Path, out: Path, **how) -> tuple[Watcher, Lines]:
    lines = Lines()
    watcher = Watcher(site, out, log=lines.append, heartbeat=NEVER, **how)
    assert watcher.rebuild() is not None, lines
    watcher.start()
    return watcher, lines


def table_with_trigger(db, tmp_path: Path) -> Path:
    """The sample records in the typed table, the README's trigger on it, and a site watching it."""
    function, for_a_table, _ = realtime_sql()
    dbhelp.load_typed(db, dbhelp.sample_records())
    db.execute(function)
    db.execute(for_a_table)
    return site_with(tmp_path, f'url = "{db.reader_url}"\ntable = "feed_articles"\nnotify_channel = "feedpub"\n')


def story(n: int, **more) -> dict:
    return {"id": f"live-{n}", "lang": "vi", "title": f"Tin nóng {n}", "url": f"/vi/live-{n}",
            "published": f"2026-01-0{n}T08:00:00+07:00", **more}


# --- the trigger, as the README gives it -------------------------------------------------------------


def test_the_readmes_trigger_on_a_table_announces_every_commit(pg, tmp_path):
    site = table_with_trigger(pg, tmp_path)
    out = tmp_path / "out"
    watcher, lines = watching(site, out, database_interval=NEVER)
    try:
        builds = watcher.builds
        pg.execute(dbhelp.insert_sql("feed_articles", dbhelp.PG_TYPED_CASTS), dbhelp.typed_row(story(1)))
        wait_until(lambda: titles(out)[:1] == ["Tin nóng 1"], what="the inserted row")
        pg.execute("UPDATE feed_articles SET title = 'Tin nóng 1 (sửa)' WHERE id = 'live-1'")
        wait_until(lambda: titles(out)[:1] == ["Tin nóng 1 (sửa)"], what="the edited title")
        pg.execute("DELETE FROM feed_articles WHERE id = 'live-1'")
        wait_until(lambda: "Tin nóng 1 (sửa)" not in titles(out), what="the deleted row gone")
        assert watcher.builds - builds <= 6 and watcher.last_error is None, lines
    finally:
        watcher.stop()


def test_the_readmes_triggers_behind_the_worked_examples_view(cms, tmp_path, monkeypatch):
    from test_db_readme import fill, schema_and_view
    schema, feedpub_part = schema_and_view()
    cms.execute(schema)
    fill(cms)
    cms.execute(feedpub_part)
    function, _, for_the_view = realtime_sql()
    cms.execute(function)
    cms.execute(for_the_view)
    monkeypatch.setenv("FEEDPUB_DATABASE_URL", f"postgresql://feeds:change%20me@127.0.0.1:{cms.server.port}/cms")
    text = README.read_text(encoding="utf-8")
    toml = next(b for b in re.findall(r"```toml\n(.*?)```", text, re.S) if "notify_channel" in b)
    site = site_with(tmp_path, toml.split("[source]\n", 1)[1])
    out = tmp_path / "out"
    watcher, lines = watching(site, out, database_interval=NEVER)
    try:
        cms.execute("""INSERT INTO articles (id, lang, slug, title, author_id, status, published_at)
                       VALUES (9001, 'vi', 'tin-nong', 'Tin nóng từ tòa soạn', 1, 'published', '2026-01-05 08:00+07')""")
        wait_until(lambda: titles(out)[:1] == ["Tin nóng từ tòa soạn"], what="a new article")
        entry = lambda: feedparser.parse((out / "vi" / "rss.xml").read_bytes()).entries[0]     # noqa: E731
        cms.execute("INSERT INTO categories (id, name) VALUES (9001, 'Tin nóng') ON CONFLICT DO NOTHING")
        cms.execute("INSERT INTO article_categories (article_id, category_id) VALUES (9001, 9001)")
        wait_until(lambda: "Tin nóng" in [t.term for t in entry().get("tags", [])], what="its new category")
        author = entry().get("author", "")
        cms.execute("UPDATE authors SET display_name = 'Tòa soạn trực' WHERE id = 1")
        wait_until(lambda: "Tòa soạn trực" in entry().get("author", ""), what="its author renamed")
        assert author != entry().get("author") and watcher.last_error is None, lines
    finally:
        watcher.stop()


# --- faults ----------------------------------------------------------------------------------------------


@pytest.fixture
def own_server():
    """A PostgreSQL cluster of this test's own, which it may stop, start and terminate backends of."""
    import dbservers
    try:
        server = dbservers.start_postgres()
    except dbservers.Unavailable as exc:
        pytest.fail(f"PostgreSQL cannot run here: {exc}")
    yield server
    server.remove()


def test_a_terminated_backend_and_a_restarted_server_lose_no_commit(own_server, tmp_path):
    db = dbhelp.PgDatabase(own_server)
    try:
        site = table_with_trigger(db, tmp_path)
        out = tmp_path / "out"
        watcher, lines = watching(site, out, database_interval=NEVER)
        insert = dbhelp.insert_sql("feed_articles", dbhelp.PG_TYPED_CASTS)
        try:
            # Every feedpub connection cut, and a row committed at once: its notification reaches nobody.
            db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'feedpub'")
            db.execute(insert, dbhelp.typed_row(story(1)))
            wait_until(lambda: titles(out)[:1] == ["Tin nóng 1"], what="the row committed while nobody listened")

            own_server.stop("fast")
            own_server.start()
            db.admin.dispose()
            wait_until(lambda: watcher._listener is not None, timeout=30, what="listening again")
            db.execute(insert, dbhelp.typed_row(story(2)))
            wait_until(lambda: titles(out)[:1] == ["Tin nóng 2"], what="a row after the restart")
            assert watcher.last_error is None
        finally:
            watcher.stop()
        lost = [line for line in lines if "listening on feedpub" in line and "was lost" in line]
        assert len(lost) <= 2, lines                          # once per loss, not once per retry
        assert not any("Traceback" in line for line in lines)
    finally:
        db.drop()


# --- sources that send no notifications --------------------------------------------------------------


# --- a kept source reads again only what changed -------------------------------------------------------


def test_a_kept_source_reads_again_only_the_rows_whose_fields_changed_every_field_counting(pg):
    """Between two runs of `feedpub watch`, the rows loaded last time are reused when the database's hash of
    their record fields is unchanged, and read again when any field changed: one UPDATE for each field
    the source reads (query.fields), copying another row's value, so every column's change is seen."""
    from datetime import datetime, timezone
    from feedpub.database import open_source
    dbhelp.load_typed(pg, dbhelp.sample_records())
    pg.grant("feed_articles")
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    src = open_source(parse_source({"url": pg.reader_url, "table": "feed_articles"}, Path(".")), tz=VN)
    try:
        def run():
            src.release()
            src.renew()
            selection = src.select(["vi", "en"], 50, now)
            src.fingerprint(selection)
            return selection, src.load(selection.picks())

        selection, first = run()
        _, again = run()
        assert again.keys() == first.keys() and all(again[i] is first[i] for i in first)   # nothing read again
        picks = {p.id: p for p in selection.picks()}
        target, other = sorted(first)[:2]
        fields = [f for f in src.query.fields if f != "id"]
        assert {"title", "published", "content", "categories"} <= set(fields)
        for field in fields:
            column = src.query.names[field]
            pg.execute(f"UPDATE feed_articles SET {column} = (SELECT {column} FROM feed_articles WHERE id = :other) "
                       "WHERE id = :target", {"other": other, "target": target})
            src.release()
            src.renew()
            kept = src.load([picks[target], picks[other]])          # no fingerprint first: load asks the hashes
            assert kept[other] is first[other], field
            if first[target].record.get(field) != first[other].record.get(field):
                assert kept[target] is not first[target], field
            assert kept[target].record.get(field) == first[other].record.get(field), field
    finally:
        src.close()


def test_sqlite_is_asked_at_an_interval(tmp_path):
    import sqlite3
    cms = tmp_path / "cms.db"
    dbhelp.sqlite_table(cms, dbhelp.sample_records())
    site = site_with(tmp_path, f'url = "sqlite:///{cms}"\ntable = "feed_articles"\n')
    out = tmp_path / "out"
    watcher, lines = watching(site, out, database_interval=0.3)
    try:
        with sqlite3.connect(cms) as conn:
            row = dbhelp.text_row(story(1))
            conn.execute(f"INSERT INTO feed_articles ({', '.join(dbhelp.FIELDS)}) VALUES "
                         f"({', '.join('?' * len(dbhelp.FIELDS))})", tuple(row[f] for f in dbhelp.FIELDS))
        conn.close()
        wait_until(lambda: titles(out)[:1] == ["Tin nóng 1"], what="the inserted row")
    finally:
        watcher.stop()
    assert [line for line in lines if "rebuilt" in line][1:] == [lines[-1]]     # quiet while nothing changed


def test_mariadb_is_asked_at_an_interval(mariadb_server, tmp_path):
    import sqlalchemy as sa
    from test_db_mariadb import load
    engine = sa.create_engine(mariadb_server.url(), poolclass=sa.pool.NullPool,
                              connect_args={"init_command": "SET time_zone = '+00:00'"})
    try:
        table = load(engine, dbhelp.sample_records(), "DATETIME")
        site = site_with(tmp_path, f'url = "{mariadb_server.url()}"\ntable = "{table}"\n')
        out = tmp_path / "out"
        watcher, lines = watching(site, out, database_interval=0.3)
        try:
            with engine.begin() as conn:
                conn.execute(sa.text(f"INSERT INTO {table} (id, lang, title, url, published, draft) VALUES "
                                     "('live-1', 'vi', 'Tin nóng 1', '/vi/live-1', '2026-01-01 08:00:00', 0)"))
            wait_until(lambda: titles(out)[:1] == ["Tin nóng 1"], what="the inserted row")
        finally:
            watcher.stop()
    finally:
        engine.dispose()


# --- the key ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["sqlite:///cms.db", "mysql+pymysql://feeds@db/cms", "mariadb://feeds@db/cms",
                                 "mssql+pyodbc://feeds@db/cms", "oracle://feeds@db/cms"])
def test_a_channel_for_a_database_without_listen_is_a_config_error_naming_the_key(url, monkeypatch):
    with pytest.raises(ConfigError) as given:
        parse_source({"url": url, "table": "t", "notify_channel": "feedpub"}, dbhelp.ROOT)
    assert str(given.value).startswith("feedpub.toml: [source] notify_channel: ")
    monkeypatch.setenv("CMS_URL", url)
    through_env = parse_source({"url_env": "CMS_URL", "table": "t", "notify_channel": "feedpub"}, dbhelp.ROOT)
    with pytest.raises(ConfigError) as resolved:
        through_env.resolve()
    assert str(resolved.value) == str(given.value)


@pytest.mark.parametrize("url", ["postgresql://feeds@db/cms", "postgresql+psycopg://feeds@db/cms",
                                 "postgres://feeds@db/cms"])
def test_a_channel_for_postgresql_is_kept(url):
    assert parse_source({"url": url, "table": "t", "notify_channel": "feedpub"}, dbhelp.ROOT).notify_channel == "feedpub"


@pytest.mark.parametrize("name", ["", "Feedpub", "1feedpub", "feed pub", "feed-pub", "x" * 64, 7, True])
def test_a_channel_name_must_be_a_plain_identifier(name):
    with pytest.raises(ConfigError) as given:
        parse_source({"url": "postgresql://feeds@db/cms", "table": "t", "notify_channel": name}, dbhelp.ROOT)
    assert str(given.value).startswith("feedpub.toml: [source] notify_channel: ") and "channel name" in str(given.value)

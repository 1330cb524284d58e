"""The [source] table: one ConfigError naming [source] KEY for each mistake; no password in any message."""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from feedpub.config import parse_config
from feedpub.database import RECORD_FIELDS, parse_source, redact_url
from feedpub.errors import ConfigError
from feedpub.model import Article

SITE = Path("/srv/news/site")
SECRET = "s3cr%40t:pw"                        # s3cr@t:pw, percent-encoded as a URL needs it


def error(table: dict) -> str:
    with pytest.raises(ConfigError) as info:
        parse_source(table, SITE)
    return str(info.value)


def test_record_fields_are_one_list_the_articles_fields():
    from feedpub import model, records, sourceconfig
    assert RECORD_FIELDS == tuple(f.name for f in dataclasses.fields(Article) if f.name not in ("source", "line"))
    assert RECORD_FIELDS is model.RECORD_FIELDS is records.FIELDS is sourceconfig.RECORD_FIELDS
    assert sourceconfig.REQUIRED_FIELDS == tuple(records.REQUIRED)


def test_a_table_with_renamed_columns():
    cfg = parse_source({"url": "postgresql://feeds@db.internal/cms", "table": "cms.feed_articles",
                        "columns": {"published": "created_at", "id": "post_id"}}, SITE)
    assert (cfg.label, cfg.table, cfg.query, cfg.dialect) == ("cms.feed_articles", "cms.feed_articles", None,
                                                              "postgresql")
    assert cfg.columns["published"] == "created_at" and cfg.columns["title"] == "title"
    assert cfg.explicit == {"published", "id"}
    assert (cfg.connect_timeout, cfg.query_timeout) == (10.0, 30.0)


def test_a_query_is_labelled_query_and_loses_its_semicolon():
    cfg = parse_source({"url": "sqlite:///cms.db", "query": "SELECT * FROM posts ;\n", "query_timeout": 5,
                        "connect_timeout": 2.5}, SITE)
    assert (cfg.label, cfg.query, cfg.query_timeout, cfg.connect_timeout) == ("query", "SELECT * FROM posts", 5.0, 2.5)


@pytest.mark.parametrize("written,resolved", [
    ("sqlite:///cms.db", "sqlite:////srv/news/site/cms.db"),
    ("sqlite:///../db/cms.db?timeout=3", "sqlite:////srv/news/db/cms.db?timeout=3"),
    ("sqlite:////var/lib/cms/cms.db", "sqlite:////var/lib/cms/cms.db"),
    ("sqlite+pysqlite:///my%20cms.db", "sqlite+pysqlite:////srv/news/site/my%20cms.db"),
])
def test_sqlite_paths_resolve_against_the_site(written, resolved):
    assert parse_source({"url": written, "table": "t"}, SITE).url == resolved


def test_url_env_is_read_when_the_source_opens():
    cfg = parse_source({"url_env": "FEEDPUB_DATABASE_URL", "table": "t"}, SITE)
    assert cfg.url is None and cfg.shown_url == "$FEEDPUB_DATABASE_URL"
    resolved = cfg.resolve({"FEEDPUB_DATABASE_URL": f"postgresql://feeds:{SECRET}@db/cms"})
    assert resolved.url == f"postgresql://feeds:{SECRET}@db/cms"
    assert resolved.shown_url == "postgresql://feeds:***@db/cms"
    assert cfg.resolve({"FEEDPUB_DATABASE_URL": "sqlite:///x.db"}).url == "sqlite:////srv/news/site/x.db"
    with pytest.raises(ConfigError) as info:
        cfg.resolve({})
    assert str(info.value) == ("feedpub.toml: [source] url_env: the environment variable FEEDPUB_DATABASE_URL is "
                               "not set (expected it to hold the database's URL)")
    with pytest.raises(ConfigError) as info:
        cfg.resolve({"FEEDPUB_DATABASE_URL": f"feeds:{SECRET}@db"})
    assert SECRET not in str(info.value) and "s3cr@t" not in str(info.value)


@pytest.mark.parametrize("table,message", [
    ({"url": "sqlite:///a.db", "tabel": "t"}, "[source] tabel: unknown key (did you mean table?)"),
    ({"url": "sqlite:///a.db", "table": "t", "columns": {"publised": "p"}},
     "[source.columns] publised: unknown key (did you mean published?)"),
    ({"url": "sqlite:///a.db", "table": "t", "columns": {"published": "created at"}},
     "[source.columns] published: 'created at' is not a column name"),
    ({"url": "sqlite:///a.db", "table": "t", "columns": {"published": 3}}, "[source.columns] published: 3 is not"),
    ({"url": "sqlite:///a.db", "table": "t", "columns": "published"}, "[source.columns] must be a table"),
    ({"table": "t"}, "[source] url: missing (expected the database's URL"),
    ({"url": "sqlite:///a.db", "url_env": "X", "table": "t"}, "[source] url_env: both url and url_env are set"),
    ({"url_env": "NOT A NAME", "table": "t"}, "[source] url_env: 'NOT A NAME' is not an environment variable name"),
    ({"url": "sqlite:///a.db"}, "[source] table: missing (expected the table or view"),
    ({"url": "sqlite:///a.db", "table": "t", "query": "SELECT 1"}, "[source] query: both table and query are set"),
    ({"url": "sqlite:///a.db", "table": "t; DROP TABLE x"}, "[source] table: 't; DROP TABLE x' is not a table name"),
    ({"url": "sqlite:///a.db", "table": ""}, "[source] table: '' is not valid (expected a non-empty string)"),
    ({"url": "sqlite://", "table": "t"}, "[source] url: sqlite:// does not name a database file"),
    ({"url": "sqlite:///:memory:", "table": "t"}, "[source] url: sqlite:///:memory: does not name a database file"),
    ({"url": "cms.db", "table": "t"}, "[source] url: cms.db is not a database URL"),
    ({"url": "sqlite:///a.db", "table": "t", "query_timeout": 0}, "[source] query_timeout: 0 is not valid"),
    ({"url": "sqlite:///a.db", "table": "t", "connect_timeout": True}, "[source] connect_timeout: True is not valid"),
    ({"url": "sqlite:///a.db", "table": "t", "query_timeout": 7200}, "at most 3600"),
])
def test_mistakes_name_the_key(table, message):
    assert message in error(table)
    assert error(table).startswith("feedpub.toml: [source")


@pytest.mark.parametrize("url", [
    f"postgresql://feeds:{SECRET}@db.internal:5432/cms",
    f"postgresql+psycopg://feeds:{SECRET}@db.internal/cms?sslmode=require",
    f"mysql+pymysql://feeds:{SECRET}@db/cms?charset=utf8mb4",
    f"postgresql://feeds@db.internal/cms?password={SECRET}",
    f"postgresql://feeds:{SECRET}@[::1]:5432/cms",
])
def test_no_message_shows_the_password(url):
    shown = redact_url(url)
    assert "***" in shown
    assert "s3cr@t" not in shown and SECRET not in shown and "s3cr%2540t" not in shown
    cfg = parse_source({"url": url, "table": "t"}, SITE)
    assert SECRET not in repr(cfg) and "s3cr" not in repr(cfg)
    bad = error({"url": url + " x", "table": "t"})
    assert "s3cr" not in bad and "***" in bad


def test_a_url_without_password_is_shown_whole():
    assert redact_url("postgresql://feeds@db.internal/cms") == "postgresql://feeds@db.internal/cms"
    assert redact_url("sqlite:////srv/cms.db") == "sqlite:////srv/cms.db"


def test_parse_config_reads_the_source_table(tmp_path):
    text = """
[site]
base_url = "https://news.example.vn"
[languages.vi]
title = "Tin"
description = "Tin tức"
[source]
url = "sqlite:///cms.db"
table = "feed_articles"
[source.columns]
published = "created_at"
"""
    config = parse_config(text, site_dir=tmp_path)
    assert config.source.url == f"sqlite:///{tmp_path}/cms.db"
    assert config.source.columns["published"] == "created_at"
    assert parse_config(text.split("[source]")[0]).source is None
    with pytest.raises(ConfigError) as info:
        parse_config(text.replace("[source]", "[sources]"))
    assert str(info.value) == "feedpub.toml: sources: unknown key (did you mean source?)"
    with pytest.raises(ConfigError) as info:
        parse_config(text.replace('table = "feed_articles"', 'tables = "feed_articles"'))
    assert str(info.value) == "feedpub.toml: [source] tables: unknown key (did you mean table?)"


def test_a_file_only_build_never_imports_a_database_library(site, tmp_path):
    """Sites without [source] keep their start-up time: neither SQLAlchemy nor a driver is imported."""
    import subprocess
    import sys
    from conftest import NOW_ARG
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "feedpub", "build", "--data", str(site),
                           "--out", str(tmp_path / "out"), "--now", NOW_ARG, "--quiet"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in done.stderr.splitlines()
                if line.startswith("import time:")}
    assert "feedpub" in imported
    assert not imported & {"sqlalchemy", "psycopg", "psycopg_binary", "pymysql", "greenlet"}


def test_a_missing_driver_names_the_extra_to_install(tmp_path):
    pytest.importorskip("sqlalchemy")
    from feedpub.database import open_source
    from feedpub.errors import SourceError
    from zoneinfo import ZoneInfo
    cfg = parse_source({"url": f"postgresql+nodriver://u:{SECRET}@h/d", "table": "t"}, tmp_path)
    with pytest.raises(SourceError) as info:
        open_source(cfg, tz=ZoneInfo("UTC"))
    assert str(info.value).startswith("t: postgresql+nodriver://u:***@h/d: SQLAlchemy has no dialect for it")
    cfg = parse_source({"url": f"postgresql+pg8000://u:{SECRET}@h/d", "table": "t"}, tmp_path)
    with pytest.raises(SourceError) as info:
        open_source(cfg, tz=ZoneInfo("UTC"))
    assert "pg8000" in str(info.value) and str(info.value).endswith(f"{sys.executable} -m pip install pg8000")
    assert "s3cr" not in str(info.value)


@pytest.mark.parametrize("url,why", [
    ("postgresql://u:pw@[::1/cms", "Invalid IPv6 URL"),
    ("postgresql://u:pw@db.internal:54x2/cms", "Port could not be cast to integer value as '54x2'"),
    ("mysql+pymysql://u:pw@db:99999/cms", "Port out of range 0-65535"),
])
def test_a_url_sqlalchemy_cannot_read_is_a_config_error_from_the_file_or_the_environment(tmp_path, url, why):
    from conftest import DATA
    import os
    import shutil
    import subprocess
    import sys
    site = Path(shutil.copytree(DATA, tmp_path / "site"))
    config = site / "feedpub.toml"
    base = config.read_text(encoding="utf-8")
    shown = redact_url(url)
    for key, env in (("url", {}), ("url_env", {"FEEDPUB_TEST_URL": url})):
        value = url if key == "url" else "FEEDPUB_TEST_URL"
        config.write_text(base + f'\n[source]\n{key} = "{value}"\ntable = "t"\n', encoding="utf-8")
        proc = subprocess.run([sys.executable, "-m", "feedpub", "build", "--data", str(site), "--out",
                               str(tmp_path / "out")], capture_output=True, text=True, timeout=60,
                              env={**os.environ, **env})
        assert proc.returncode == 3, proc.stderr
        assert proc.stderr.strip() == (f"feedpub: feedpub.toml: [source] {key}: {shown} is not a valid URL: {why} "
                                       "(expected DIALECT[+DRIVER]://USER[:PASSWORD]@HOST[:PORT]/DATABASE, an IPv6 "
                                       "address in brackets, a port from 0 to 65535)")
        assert ":pw@" not in proc.stderr


# --- the password, redacted by parsing the URL, never by searching the message ------------------

REFERENCE = "zzzz-not-in-any-message"


def _failure(url: str) -> str:
    from zoneinfo import ZoneInfo
    from feedpub.database import open_source
    from feedpub.errors import SourceError
    pytest.importorskip("sqlalchemy")
    with pytest.raises(SourceError) as info:
        open_source(parse_source({"url": url, "table": "t", "connect_timeout": 2}, SITE), tz=ZoneInfo("UTC"))
    return str(info.value)


@pytest.mark.parametrize("scheme", ["postgresql", "mysql+pymysql"])
@pytest.mark.parametrize("password", ["on", "a", "%25", "***", "127.0.0.1", "connect", "refused", "t"])
def test_a_password_never_changes_a_message_whatever_its_text(scheme, password):
    """Nothing listens on port 9: the message must be the same whatever the password, even when the
    password is a word of the message, its host, a single letter or ***."""
    def url(pw: str) -> str:
        return f"{scheme}://feeds:{pw}@127.0.0.1:9/cms"

    expected = _failure(url(REFERENCE))
    assert f"{scheme}://feeds:***@127.0.0.1:9/cms" in expected and REFERENCE not in expected
    assert _failure(url(password)) == expected
    query = _failure(f"{scheme}://feeds@127.0.0.1:9/cms?password={password}")
    assert query == _failure(f"{scheme}://feeds@127.0.0.1:9/cms?password={REFERENCE}")


def test_redacting_a_message_parses_what_holds_a_password():
    from feedpub.sourceconfig import redact_text
    assert redact_text("could not parse 'postgresql://u:on@host/db' (on connect)") == (
        "could not parse 'postgresql://u:***@host/db' (on connect)")
    assert redact_text("bad conninfo: host=db password=on user=u; connection refused") == (
        "bad conninfo: host=db password=*** user=u; connection refused")
    assert redact_text("postgresql://u@db/cms?sslmode=require&password=a and a word") == (
        "postgresql://u@db/cms?sslmode=require&password=*** and a word")
    assert redact_text("no password here: connect on a") == "no password here: connect on a"

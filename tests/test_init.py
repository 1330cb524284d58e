"""`feedpub init`: a new site builds and validates with no edit, from record files or from PostgreSQL, and
its feedpub.toml names every key feedpub reads, with its default."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import feedparser
import pytest

from conftest import ROOT, run_cli
from feedpub import config, htmlpolicy, sourceconfig
from feedpub.scaffold import SQL_NAME, config_text, postgresql_sql

NOW_LATER = "2026-01-01T00:00:00+07:00"


def every_key() -> dict[str, tuple[str, ...]]:
    """Table -> keys, from the code's own lists of what each table of feedpub.toml may hold."""
    return {"site": config.KNOWN_KEYS["site"], "languages.vi": config.KNOWN_KEYS["languages.*"],
            "html": htmlpolicy._CONFIG_KEYS, "source": sourceconfig.SOURCE_KEYS}


def tables_of(text: str) -> dict[str, list[str]]:
    """Table -> the lines under it (commented or not) of a feedpub.toml."""
    tables: dict[str, list[str]] = {}
    current = ""
    for line in text.splitlines():
        bare = line.lstrip("# ").rstrip()
        heading = re.match(r"\[([a-z.]+)\]", bare)
        if heading:
            current = heading.group(1)
            tables.setdefault(current, [])
            continue
        tables.setdefault(current, []).append(line)
    return tables


@pytest.mark.parametrize("source", ["files", "postgresql"])
def test_every_key_of_every_table_is_written_with_its_default_and_a_comment(source):
    tables = tables_of(config_text(source))
    for table, keys in every_key().items():
        if table == "source" and source == "files":
            continue
        lines = tables[table]
        for key in keys:
            if key == "columns":
                assert "source.columns" in tables, "[source.columns]"
                continue
            line = next((l for l in lines if re.match(rf"#?\s*{key} = ", l)), None)
            assert line is not None, f"[{table}] {key}"
            assert re.search(r" # \S", line.split(" = ", 1)[1]), f"[{table}] {key}: no explanation"
    defaults = tomllib.loads(config_text(source))
    assert defaults["site"]["max_items"] == config.DEFAULT_MAX_ITEMS
    assert defaults["site"]["timezone"] == config.DEFAULT_TIMEZONE == "Asia/Ho_Chi_Minh"
    assert defaults["site"]["date_order"] == config.DATE_ORDERS[0]
    assert list(defaults["languages"]) == ["vi", "en"]


def test_init_build_validate_with_no_edit(tmp_path):
    result = run_cli("init", "site", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["created site/feedpub.toml", "created site/articles/sample.jsonl", "next:",
                                          "  feedpub build --data site --out public", "  feedpub validate public"]
    for step in result.stdout.splitlines()[3:]:
        args = step.split()[1:]
        done = run_cli(*args, cwd=tmp_path)
        assert done.returncode == 0, (step, done.stdout, done.stderr)
    vi = feedparser.parse((tmp_path / "public" / "vi" / "atom.xml").read_bytes())
    en = feedparser.parse((tmp_path / "public" / "en" / "atom.xml").read_bytes())
    assert [e.title for e in vi.entries] == ["Chào mừng đến với trang tin"]
    assert [e.title for e in en.entries] == ["Welcome to the news site"]
    assert any(link.get("hreflang") == "en" for link in vi.entries[0].links)       # the translation between them


def test_init_never_overwrites_anything(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "feedpub.toml").write_text("mine\n", encoding="utf-8")
    result = run_cli("init", site)
    assert result.returncode == 3
    assert result.stderr == (f"feedpub: {site}/feedpub.toml: already exists; feedpub init never overwrites a file "
                             "(expected a new or empty folder)\n")
    assert (site / "feedpub.toml").read_text(encoding="utf-8") == "mine\n"
    assert not (site / "articles").exists()                   # nothing else was written either
    assert run_cli("init", site, "--source", "mysql").returncode == 2


def test_the_sql_init_writes_is_the_readmes_worked_example():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("### A worked example: PostgreSQL")
    blocks = re.findall(r"```sql\n(.*?)```", text[start:text.index("\n## ", start)], re.S)
    assert postgresql_sql().split("\n\n", 1)[1] == "\n".join(blocks)
    assert blocks[0].startswith("CREATE DATABASE cms;\n")
    assert any(block.startswith("INSERT INTO") for block in blocks)


def test_init_for_postgresql_builds_from_the_database_its_sql_creates(tmp_path, postgres_server):
    import dbservers
    result = run_cli("init", "site", "--source", "postgresql", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    steps = [line.strip() for line in result.stdout.splitlines()[result.stdout.splitlines().index("next:") + 1:]]
    assert steps[0] == f"sudo -u postgres psql -v ON_ERROR_STOP=1 -f site/{SQL_NAME}"
    url = re.fullmatch(r"export FEEDPUB_DATABASE_URL='(.*)'", steps[1]).group(1)
    psql = dbservers.postgres_bin() / "psql"
    env = dict(os.environ, PGPASSWORD=postgres_server.password)
    try:
        run = subprocess.run([str(psql), "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(postgres_server.port),
                              "-U", "postgres", "-d", "postgres", "-f", f"site/{SQL_NAME}"],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        env = dict(os.environ, FEEDPUB_DATABASE_URL=url.replace("@localhost/", f"@127.0.0.1:{postgres_server.port}/"))
        for step in steps[2:]:
            done = subprocess.run([sys.executable, "-m", "feedpub", *step.split()[1:]], cwd=tmp_path, env=env,
                                  capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, (step, done.stdout, done.stderr)
        vi = feedparser.parse((tmp_path / "public" / "vi" / "atom.xml").read_bytes())
        assert [e.title for e in vi.entries] == ["Tin thứ hai", "Chào mừng đến với trang tin"]     # not the draft
        en = json.loads((tmp_path / "public" / "en" / "feed.json").read_bytes())
        assert [item["title"] for item in en["items"]] == ["Welcome to the news site"]
        assert en["items"][0]["_feedpub"]["translations"][0]["language"] == "vi"
    finally:
        subprocess.run([str(psql), "-h", "127.0.0.1", "-p", str(postgres_server.port), "-U", "postgres", "-d",
                        "postgres", "-c", "DROP DATABASE IF EXISTS cms WITH (FORCE)", "-c", "DROP ROLE IF EXISTS feeds"],
                       env=dict(os.environ, PGPASSWORD=postgres_server.password), capture_output=True, timeout=60)

"""feedpub build and check with a [source] database: the same records in a table and as JSON files
give byte-identical feeds; the database is read in full only when a feed would change; records
from both are merged, ids unique across both."""
from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import feedparser
import pytest

import dbhelp
import feedpub
from conftest import DATA, NOW, published, run_cli, NOW_ARG

pytest.importorskip("sqlalchemy")
def database_site(tmp_path: Path, records: list[dict], *, keep_files: bool = False) -> Path:
    site = Path(shutil.copytree(DATA, tmp_path / "db-site"))
    if not keep_files:
        shutil.rmtree(site / "articles")
    dbhelp.sqlite_table(site / "cms.db", records)
    config = site / "feedpub.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[source]\nurl = "sqlite:///cms.db"\n'
                      'table = "feed_articles"\n', encoding="utf-8")
    return site


def feeds_only(out: Path) -> dict[str, bytes]:
    return {rel: data for rel, data in published(out).items() if not rel.startswith(".feedpub")}


def test_the_same_records_in_a_table_and_as_files_give_the_same_feeds(tmp_path):
    files_report = feedpub.build(DATA, tmp_path / "from-files", now=NOW, state_path=tmp_path / "f.sqlite")
    site = database_site(tmp_path, dbhelp.sample_records())
    db_report = feedpub.build(site, tmp_path / "from-db", now=NOW)
    assert files_report.errors == db_report.errors == []
    assert feeds_only(tmp_path / "from-db") == feeds_only(tmp_path / "from-files")
    assert db_report.source_rows > 0


def test_nothing_changed_means_no_rendering_and_an_edit_is_seen(tmp_path):
    site = database_site(tmp_path, dbhelp.sample_records())
    out = tmp_path / "out"
    feedpub.build(site, out, now=NOW)
    again = feedpub.build(site, out, now=NOW)
    assert again.skipped
    with sqlite3.connect(site / "cms.db") as conn:            # a title fixed without touching updated
        conn.execute("UPDATE feed_articles SET title = 'Tiêu đề đã sửa' WHERE id = "
                     "(SELECT id FROM feed_articles WHERE lang = 'vi' ORDER BY published DESC LIMIT 1)")
    conn.close()
    edited = feedpub.build(site, out, now=NOW)
    assert not edited.skipped and "vi/rss.xml" in edited.changed
    assert "Tiêu đề đã sửa".encode() in (out / "vi" / "rss.xml").read_bytes()


def test_files_and_a_table_merge_and_an_id_in_both_is_reported(tmp_path):
    records = dbhelp.sample_records()
    copied = next(r for r in records if r["lang"] == "vi")
    in_table = [r for r in records if r["lang"] == "en"] + [dict(copied, title="A copy in the database")]
    site = database_site(tmp_path, in_table, keep_files=True)
    for path in (site / "articles").rglob("*"):
        if path.is_file() and path.suffix in (".json", ".jsonl"):
            kept = []
            text = path.read_text(encoding="utf-8-sig")
            doc = [json.loads(x) for x in text.splitlines() if x.strip()] if path.suffix == ".jsonl" else json.loads(text)
            for rec in doc if isinstance(doc, list) else [doc]:
                if rec["lang"] != "en":
                    kept.append(rec)
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept), encoding="utf-8")
            path.rename(path.with_suffix(".jsonl"))
    report = feedpub.build(site, tmp_path / "out", now=NOW)
    reference = feedpub.build(DATA, tmp_path / "ref", now=NOW, state_path=tmp_path / "r.sqlite")
    # the copy counts once; the scheduled English article, in the table, is not read until it comes due
    scheduled = [r for r in in_table if dbhelp.aware(r["published"]) > NOW]
    assert len(scheduled) == 1 and report.records == reference.records - 1 == 19
    assert [e.split(": field")[0] for e in report.errors] == [f"feed_articles:{copied['id']}"]
    assert "is already used by articles/" in report.errors[0]
    assert feeds_only(tmp_path / "out") == feeds_only(tmp_path / "ref")
    checked = feedpub.check(site, now=NOW)
    assert [e.split(": field")[0] for e in checked.errors] == [f"feed_articles:{copied['id']}"]


def test_a_database_only_site_counts_the_records_it_published(tmp_path):
    records = [r for r in dbhelp.sample_records() if not r.get("draft") and dbhelp.aware(r["published"]) <= NOW][:3]
    site = database_site(tmp_path, records)
    report = feedpub.build(site, tmp_path / "out", now=NOW)
    shown = {e.id for lang in ("vi", "en")
             for e in feedparser.parse((tmp_path / "out" / lang / "atom.xml").read_bytes()).entries}
    assert report.records == len(shown) == 3 and report.source_rows == 3
    proc = run_cli("build", "--data", site, "--out", tmp_path / "cli", "--now", NOW_ARG, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("3 records, 0 record files read, 3 database rows read, 0 rejected")


def test_check_reads_every_row_and_build_reports_a_bad_chosen_row(tmp_path):
    records = dbhelp.sample_records()
    bad = dict(records[0], id="vi-bad-date", published="31/02/2026 08:00")
    old_bad = dict(records[0], id="vi-old-bad", published="2001-13-01")
    site = database_site(tmp_path, records + [bad, old_bad])
    proc = run_cli("check", "--data", site, "--now", NOW_ARG, cwd=tmp_path)
    assert proc.returncode == 1
    assert "feed_articles:vi-bad-date: field \"published\"" in proc.stderr
    assert "feed_articles:vi-old-bad: field \"published\"" in proc.stderr
    build = run_cli("build", "--data", site, "--out", tmp_path / "out", "--now", NOW_ARG, "--quiet", cwd=tmp_path)
    assert build.returncode in (0, 1) and "Traceback" not in build.stderr


# --------------------------------------------------------------------------- a real PostgreSQL


def postgres_site(tmp_path: Path, pg, records: list[dict], *, extra: str = "") -> Path:
    dbhelp.load_typed(pg, records)
    pg.execute("CREATE INDEX ON feed_articles (lang, published DESC) WHERE NOT coalesce(draft, false)")
    site = Path(shutil.copytree(DATA, tmp_path / "pg-site"))
    shutil.rmtree(site / "articles")
    config = site / "feedpub.toml"
    config.write_text(config.read_text(encoding="utf-8") + f'\n[source]\nurl_env = "FEEDPUB_TEST_DB"\n'
                      f'table = "feed_articles"\n{extra}', encoding="utf-8")
    return site


def test_postgresql_gives_the_file_routes_feeds_and_a_lost_server_leaves_them(tmp_path, pg, monkeypatch):
    monkeypatch.setenv("FEEDPUB_TEST_DB", pg.reader_url)
    site = postgres_site(tmp_path, pg, dbhelp.sample_records())
    feedpub.build(DATA, tmp_path / "from-files", now=NOW, state_path=tmp_path / "f.sqlite")
    out = tmp_path / "out"
    report = feedpub.build(site, out, now=NOW)
    assert report.errors == [] and report.source_rows > 0
    assert feeds_only(out) == feeds_only(tmp_path / "from-files")
    assert feedpub.build(site, out, now=NOW).skipped
    before = published(out)
    monkeypatch.setenv("FEEDPUB_TEST_DB", pg.reader_url.replace(str(pg.server.port), "9"))   # nothing listens
    proc = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, cwd=tmp_path, timeout=120)
    assert proc.returncode == 3 and "Traceback" not in proc.stderr
    assert "feedpub: feed_articles" in proc.stderr or "[source]" in proc.stderr
    password = pg.reader_url.split(":")[2].split("@")[0]
    assert password not in proc.stderr
    assert published(out) == before

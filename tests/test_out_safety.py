"""Nothing outside OUT is ever changed, the cache is feedpub's own file, and a refused run leaves nothing.

The faults these close: removing stale feeds through a folder that became a link (files deleted
outside OUT), a manifest entry reached through a link, OUT/.feedpub as a link to someone else's
folder, another program's SQLite database taken for an old cache and wiped, --state naming a file
feedpub publishes, a refused run leaving its cache and lock in the folder it refused, two runs both
believing they hold the lock, and a full disk reported as an internal error.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import feedparser
import pytest

import feedpub
from conftest import NOW, NOW_ARG, copy_site, published, record, run_cli, write_jsonl
from feedpub.errors import CacheError, PublishError
from feedpub.layout import LOCK_NAME, MANIFEST, PRIVATE_DIR, STATE_NAME, out_paths
from feedpub.manifest import manifest_bytes, read_manifest
from feedpub.publish import OutputLock
from hazards import checksum


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return copy_site(tmp_path / "site")


def listing(root: Path) -> dict[str, bytes | None]:
    """Every entry under root (links as links) -> bytes, or None for a folder."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        found[rel] = None if path.is_dir() and not path.is_symlink() else (
            os.readlink(path).encode() if path.is_symlink() else path.read_bytes())
    return found


def without_language(site: Path, lang: str) -> None:
    config = site / "feedpub.toml"
    text = config.read_text(encoding="utf-8")
    start = text.index(f"[languages.{lang}]")
    end = text.find("[languages.", start + 1)
    config.write_text(text[:start] + (text[end:] if end != -1 else ""), encoding="utf-8")


# --- nothing outside OUT is ever removed or written -----------------------------------------------


def test_a_language_folder_moved_away_behind_a_link_keeps_its_files(site, tmp_path):
    """Build; move OUT/vi elsewhere and leave a link in its place (as a deploy script or shared
    storage does); retire [languages.vi]: the files at the link's target are not feedpub's to delete."""
    out, moved = tmp_path / "out", tmp_path / "shared" / "vi"
    feedpub.build(site, out, now=NOW)
    moved.parent.mkdir()
    (out / "vi").rename(moved)
    (out / "vi").symlink_to(moved, target_is_directory=True)
    before = listing(moved)
    assert len([rel for rel, data in before.items() if data is not None]) >= 8
    without_language(site, "vi")
    report = feedpub.build(site, out, now=NOW)
    assert listing(moved) == before
    assert (out / "vi").is_symlink()
    said = [w for w in report.warnings if w.startswith(f"{out / 'vi'}: ")]
    assert said == [f"{out / 'vi'}: a symbolic link (feedpub never follows one inside the folders it writes); the "
                    f"{len(before) - sum(d is None for d in before.values())} file(s) feedpub published below it, no "
                    "longer produced, were left alone"]
    assert not any(rel.startswith("vi/") for rel in read_manifest(out).files)     # said once, then forgotten
    again = feedpub.build(site, out, now=NOW, full=True)
    assert not any("vi/" in w for w in again.warnings) and listing(moved) == before


def test_a_manifest_entry_behind_a_link_is_not_followed_on_full(site, tmp_path):
    out, foreign = tmp_path / "out", tmp_path / "foreign"
    feedpub.build(site, out, now=NOW)
    foreign.mkdir()
    (foreign / "secret.txt").write_bytes(b"not feedpub's")
    (out / "ext").symlink_to(foreign, target_is_directory=True)
    manifest = read_manifest(out).files | {"ext/secret.txt"}
    (out / MANIFEST).write_bytes(manifest_bytes(manifest))
    proc = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, "--full", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (foreign / "secret.txt").read_bytes() == b"not feedpub's"
    assert f"warning: {out / 'ext'}: a symbolic link (feedpub never follows one inside the folders it writes); " \
           "the 1 file(s) feedpub published below it, no longer produced, were left alone\n" in proc.stderr


def test_a_private_folder_that_is_a_link_to_someone_elses_folder_is_refused(site, tmp_path):
    out, foreign = tmp_path / "out", tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "manifest.json").write_bytes(b'{"theirs": true}\n')
    (foreign / "state.sqlite").write_bytes(b"a text file of theirs\n")
    out.mkdir()
    (out / PRIVATE_DIR).symlink_to(foreign, target_is_directory=True)
    before = checksum(foreign)
    proc = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.startswith(f"feedpub: {out}: {PRIVATE_DIR} is a symbolic link")
    assert checksum(foreign) == before
    assert sorted(p.name for p in out.iterdir()) == [PRIVATE_DIR]       # no lock left behind either


# --- the cache is feedpub's own file, positively ---------------------------------------------------


def meta_and_files_database(path: Path, *, wal: bool = False) -> sqlite3.Connection:
    """Another program's database whose tables are named like an old feedpub cache's: meta(key, value)
    and files, with a hundred rows. Left open (the program is running)."""
    db = sqlite3.connect(path, isolation_level=None)
    if wal:
        db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    db.execute("CREATE TABLE files (path TEXT PRIMARY KEY, size INTEGER, owner TEXT)")
    db.execute("INSERT INTO meta VALUES ('meta', '{}')")
    db.executemany("INSERT INTO files VALUES (?, ?, ?)", [(f"/srv/{n}", n, "ops") for n in range(100)])
    return db


@pytest.mark.parametrize("wal", [False, True], ids=["rollback journal", "WAL, open"])
def test_another_programs_database_named_like_an_old_cache_is_never_wiped(site, tmp_path, wal):
    path = tmp_path / "app.sqlite"
    db = meta_and_files_database(path, wal=wal)
    try:
        proc = run_cli("build", "--data", site, "--out", tmp_path / "out", "--now", NOW_ARG, "--state", path,
                       cwd=tmp_path)
        assert proc.returncode == 3, proc.stderr
        assert f"{path}: is an SQLite database" in proc.stderr and "not a feedpub cache" in proc.stderr
        assert db.execute("SELECT count(*) FROM files").fetchone() == (100,)
    finally:
        db.close()
    check = sqlite3.connect(path)
    assert check.execute("SELECT count(*) FROM files").fetchone() == (100,)
    assert check.execute("PRAGMA application_id").fetchone() == (0,)
    check.close()


def test_another_programs_database_reached_through_a_link_in_the_private_folder(site, tmp_path):
    out = tmp_path / "out"
    feedpub.build(site, out, now=NOW)
    path = tmp_path / "app.sqlite"
    meta_and_files_database(path).close()
    before = path.read_bytes()
    (out / STATE_NAME).unlink()
    (out / STATE_NAME).symlink_to(path)
    proc = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    assert f"{out / STATE_NAME}: is a symbolic link" in proc.stderr
    assert path.read_bytes() == before


def test_a_cache_carries_feedpubs_application_id_and_schema_version(site, tmp_path):
    from feedpub.cache import APPLICATION_ID, SCHEMA
    feedpub.build(site, tmp_path / "out", now=NOW)
    db = sqlite3.connect(tmp_path / "out" / STATE_NAME)
    assert db.execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)
    assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA,)
    db.close()


def test_a_cache_of_an_older_schema_is_ours_and_rebuilt(site, tmp_path):
    out = tmp_path / "out"
    feedpub.build(site, out, now=NOW)
    db = sqlite3.connect(out / STATE_NAME)
    db.execute("PRAGMA user_version = 1")
    db.execute("DROP TABLE cands")
    db.commit()
    db.close()
    report = feedpub.build(site, out, now=NOW)
    assert report.errors == [] and not report.skipped
    assert feedpub.build(site, out, now=NOW).skipped


@pytest.mark.parametrize("rel", ["index.html", "vi/rss.xml", "elsewhere/state.sqlite", ".", MANIFEST,
                                 f"{PRIVATE_DIR}/.state.sqlite.1.feedpub-tmp"])
def test_state_may_not_name_a_path_feedpub_publishes(site, tmp_path, rel):
    """Checked before anything is created: no cache posing as the site's index page, no OUT."""
    out = tmp_path / "out"
    proc = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, "--state", out / rel, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"feedpub: {out / rel}: the cache would be among the files feedpub publishes")
    assert not out.exists()


SAMPLE_FEEDS = [("vi", None), ("en", None), ("vi", "thoi-su")]
# One path of each kind layout.out_paths names (the cache's own kinds aside: --state may live there).
ONE_OF_EACH_KIND = sorted({p.kind: p.path for p in out_paths(SAMPLE_FEEDS, 4242)
                           if p.kind not in ("private folder", "cache", "cache journal")}.values())


@pytest.mark.parametrize("option", ["--report", "--metrics"])
@pytest.mark.parametrize("rel", ONE_OF_EACH_KIND + ["."])
def test_report_and_metrics_may_not_name_any_path_in_out(site, tmp_path, option, rel):
    """A path of every kind layout.out_paths names (and OUT itself): a usage error before anything is made,
    and the file is not written after the run either."""
    out = tmp_path / "out"
    proc = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, option, out / rel, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"feedpub: {option} {out / rel}: inside the output directory {out}")
    assert not out.exists()


def test_report_and_metrics_outside_out_are_written(site, tmp_path):
    out = tmp_path / "out"
    proc = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, "--report", tmp_path / "r.json",
                   "--metrics", tmp_path / "m.prom", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["exit_status"] == 0
    from prometheus_client.parser import text_string_to_metric_families
    families = {f.name: f for f in text_string_to_metric_families((tmp_path / "m.prom").read_text(encoding="utf-8"))}
    assert [s.value for s in families["feedpub_last_run_exit_status"].samples] == [0]


def test_state_inside_the_private_folder_is_fine(site, tmp_path):
    out = tmp_path / "out"
    state = out / PRIVATE_DIR / "other.sqlite"
    feedpub.build(site, out, now=NOW, state_path=state)
    assert feedpub.build(site, out, now=NOW, state_path=state).skipped
    assert state.is_file()


# --- a refused run leaves nothing behind ------------------------------------------------------------


def test_a_refused_run_leaves_the_folder_as_it_found_it(site, tmp_path):
    web = tmp_path / "www"
    web.mkdir()
    (web / "index.html").write_bytes(b"<h1>Someone's home page</h1>")
    (web / "about").mkdir()
    before = listing(web)
    proc = run_cli("build", "--data", site, "--out", web, "--now", NOW_ARG, cwd=tmp_path)
    assert proc.returncode == 3 and "index.html exists and was not written by feedpub" in proc.stderr
    assert listing(web) == before                               # no .feedpub/, no .feedpub.lock


def test_a_refused_run_removes_the_cache_it_made_at_state(site, tmp_path):
    web = tmp_path / "www"
    web.mkdir()
    (web / "feeds.opml").write_bytes(b"<opml/>")
    state = tmp_path / "caches" / "site" / "state.sqlite"
    with pytest.raises(PublishError):
        feedpub.build(site, web, now=NOW, state_path=state)
    assert not (tmp_path / "caches").exists()
    assert sorted(p.name for p in web.iterdir()) == ["feeds.opml"]


def test_a_refused_run_into_a_new_output_folder_removes_it(site, tmp_path):
    (site / "articles" / "2021" / "x.jsonl").write_text('{"id": "x"}\n', encoding="utf-8")
    proc = run_cli("build", "--data", site, "--out", tmp_path / "new" / "out", "--now", NOW_ARG, "--strict",
                   cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    assert not (tmp_path / "new").exists()


def test_a_refused_run_keeps_what_was_there_before_it(site, tmp_path):
    """Only what this run created goes: an existing cache and lock stay."""
    out = tmp_path / "out"
    feedpub.build(site, out, now=NOW)
    (out / "vi" / "rss.xml").unlink()
    (out / "vi" / "rss.xml").write_bytes(b"someone replaced it")
    (out / MANIFEST).unlink()                                  # ... and feedpub no longer knows it
    with pytest.raises(PublishError):
        feedpub.build(site, out, now=NOW, full=True)
    assert (out / STATE_NAME).is_file() and (out / LOCK_NAME).is_file()


def test_a_waiter_on_a_removed_lock_file_never_shares_the_lock(tmp_path):
    """Run A made the lock file and gives up without publishing, so it removes the file while B waits
    on it; C then makes a new lock file and holds it. When A lets go, B holds the old, removed file:
    it must notice, and wait for C, not publish beside it."""
    out = tmp_path / "out"
    out.mkdir()
    a = OutputLock(out, wait=0).__enter__()
    entered = threading.Event()
    b = OutputLock(out, wait=10)

    def waiter():
        b.__enter__()
        entered.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.3)                           # B has opened the file A locked, and waits
    os.unlink(out / LOCK_NAME)                # A removes what it made...
    c = OutputLock(out, wait=0).__enter__()   # ... C makes a new lock file and takes it
    a.__exit__(None, None, None)              # A lets go of the old one
    try:
        assert not entered.wait(0.5), "B took the lock while C held it"
    finally:
        c.__exit__(None, None, None)
    assert entered.wait(5), "B never got the lock once C let go"
    thread.join()
    b.__exit__(None, None, None)


# --- a full disk is said as such ---------------------------------------------------------------------


def test_a_full_disk_while_the_cache_grows_is_exit_3_naming_the_cache(site, tmp_path, monkeypatch):
    out = tmp_path / "out"
    feedpub.build(site, out, now=NOW)
    before = published(out)
    real = sqlite3.connect

    def full(path, *args, **kwargs):                 # the cache may not grow by one page
        db = real(path, *args, **kwargs)
        if str(path).endswith("state.sqlite"):
            pages = db.execute("PRAGMA page_count").fetchone()[0]
            db.execute(f"PRAGMA max_page_count = {max(pages, 1)}")
        return db

    monkeypatch.setattr(sqlite3, "connect", full)
    for n in range(60):                              # new records the index must find room for
        write_jsonl(site / "articles" / f"new-{n}.jsonl",
                    *[record(id=f"vi-new-{n}-{k}", url=f"/vi/new-{n}-{k}", content="<p>x</p>" * 50)
                      for k in range(20)])
    with pytest.raises(PublishError) as info:
        feedpub.build(site, out, now=NOW)
    monkeypatch.undo()
    message = str(info.value)
    assert message.startswith(f"{out / STATE_NAME}: cannot be written: No space left on device (ENOSPC)")
    assert published(out) == before

"""OUT may be shared: feedpub overwrites and deletes only the files it wrote itself (its manifest)."""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

import feedpub
from conftest import NOW, NOW_ARG, copy_site, published, run_cli, write_jsonl, record
from feedpub.errors import OutputConflictError
from feedpub.manifest import MANIFEST, read_manifest


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return copy_site(tmp_path / "site")


def web_root(root: Path, files: dict[str, bytes]) -> dict[str, bytes]:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return files


def everything(root: Path) -> dict[str, bytes]:
    """Every file of root but feedpub's private lock and cache."""
    return {rel: p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not (rel := p.relative_to(root).as_posix()).startswith(".feedpub")}


OTHERS = {
    "about/index.html": b"<h1>About us</h1>",
    "docs/feed.json": b'{"mine": true}',
    "docs/rss.xml": b"<rss>someone else's</rss>",
    "vi/notes.txt": b"kept",
    "style.css": b"body{}",
}


def test_files_beside_the_feeds_are_never_touched(site, tmp_path):
    out = tmp_path / "www"
    web_root(out, OTHERS)
    report = feedpub.build(site, out, now=NOW)
    assert report.errors == [] and report.changed
    for rel, data in OTHERS.items():
        assert (out / rel).read_bytes() == data
    assert {f.path for f in report.feeds} <= read_manifest(out).files
    assert not read_manifest(out).files & set(OTHERS)


def test_a_file_feedpub_would_write_that_is_not_its_own_stops_the_run(site, tmp_path):
    out = tmp_path / "www"
    before = web_root(out, {**OTHERS, "index.html": b"<h1>Home page</h1>"})
    proc = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, cwd=tmp_path)
    assert proc.returncode == 3
    assert f"{out}: index.html exists and was not written by feedpub" in proc.stderr
    assert "nothing was published" in proc.stderr and "Traceback" not in proc.stderr
    assert everything(out) == before                           # not one feed
    assert not (out / MANIFEST).exists()


@pytest.mark.parametrize("rel", ["vi/rss.xml", "en/categories/politics/atom.xml", "feeds.opml", "feed.css"])
def test_every_kind_of_output_is_checked_before_anything_is_written(site, tmp_path, rel):
    out = tmp_path / "www"
    before = web_root(out, {rel: b"not feedpub's"})
    with pytest.raises(OutputConflictError) as info:
        feedpub.build(site, out, now=NOW)
    assert [path for path, _ in info.value.conflicts] == [rel]
    assert everything(out) == before


def test_a_folder_where_a_feed_goes_is_a_conflict_too(site, tmp_path):
    out = tmp_path / "www"
    web_root(out, {"vi/rss.xml/readme.txt": b"a folder named like a feed"})
    (out / "en").write_bytes(b"a file where the en/ folder goes")
    with pytest.raises(OutputConflictError) as info:
        feedpub.build(site, out, now=NOW)
    reasons = dict(info.value.conflicts)
    assert reasons["vi/rss.xml"] == "is a directory"
    assert reasons["en"] == "is a file where feedpub needs a folder"
    assert not any(path.startswith("en/") for path in reasons)          # the folder is named once


def test_a_folder_that_leads_outside_out_is_refused(site, tmp_path):
    out, elsewhere = tmp_path / "www", tmp_path / "elsewhere"
    elsewhere.mkdir()
    out.mkdir()
    (out / "vi").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(OutputConflictError) as info:
        feedpub.build(site, out, now=NOW)
    assert dict(info.value.conflicts) == {
        "vi": "is a symbolic link (feedpub never follows one inside the folders it writes)"}
    assert list(elsewhere.iterdir()) == []


def test_a_folder_linked_to_another_inside_out_is_refused_too(site, tmp_path):
    """Only real folders: a link inside OUT is never followed, wherever it leads."""
    out = tmp_path / "www"
    (out / "vi-real").mkdir(parents=True)
    (out / "vi").symlink_to("vi-real", target_is_directory=True)
    with pytest.raises(OutputConflictError) as info:
        feedpub.build(site, out, now=NOW)
    assert [path for path, _ in info.value.conflicts] == ["vi"]
    assert list((out / "vi-real").iterdir()) == []


def test_stale_feeds_are_removed_from_the_manifest_alone(site, tmp_path):
    out = tmp_path / "www"
    feedpub.build(site, out, now=NOW)
    lookalikes = web_root(out, {"xx/rss.xml": b"<rss/>", "vi/categories/old/atom.xml": b"<feed/>",
                                "zz/index.html": b"<p>", **OTHERS})
    ours = [rel for rel in read_manifest(out).files if rel.startswith("vi/categories/")]
    # Drop every Vietnamese category: their feeds are no longer produced.
    config = site / "feedpub.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("[site]\n", "[site]\ncategory_feeds = false\n", 1),
                      encoding="utf-8")
    report = feedpub.build(site, out, now=NOW)
    assert report.errors == []
    for rel in ours:
        assert not (out / rel).exists()
    for rel, data in lookalikes.items():
        assert (out / rel).read_bytes() == data
    assert not any(r.startswith("vi/categories/") for r in read_manifest(out).files)


def test_a_lost_manifest_means_conflicts_not_deletions(site, tmp_path):
    out = tmp_path / "www"
    feedpub.build(site, out, now=NOW, state_path=tmp_path / "cache.sqlite")
    before = published(out)
    (out / MANIFEST).unlink()
    with pytest.raises(OutputConflictError) as info:
        feedpub.build(site, out, now=NOW, state_path=tmp_path / "cache.sqlite", full=True)
    assert len(info.value.conflicts) == len(before)
    assert published(out) == before


def test_an_output_published_before_manifests_existed_is_adopted(site, tmp_path):
    """An OUT from a feedpub that kept no manifest: its cache inside OUT listed what it published."""
    out = tmp_path / "www"
    feedpub.build(site, out, now=NOW)
    files = sorted(read_manifest(out).files)
    (out / MANIFEST).unlink()
    cache = out / ".feedpub" / "state.sqlite"
    cache.unlink()
    db = sqlite3.connect(cache)
    db.executescript("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                     "CREATE TABLE files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, ino INTEGER,"
                     " scan BLOB NOT NULL);")
    meta = {"schema": 5, "version": "0.1.0", "fingerprint": "x", "outputs": {rel: [1, 1] for rel in files}}
    db.execute("INSERT INTO meta VALUES ('meta', ?)", (json.dumps(meta),))
    db.commit()
    db.close()
    write_jsonl(site / "articles" / "new.jsonl", record(id="vi-new", published="28/11/2026 08:00"))
    report = feedpub.build(site, out, now=NOW)
    assert report.errors == [] and "vi/rss.xml" in report.changed
    assert read_manifest(out).files == set(files)


def test_the_manifest_lists_exactly_what_was_published(site, tmp_path):
    out = tmp_path / "www"
    feedpub.build(site, out, now=NOW)
    manifest = read_manifest(out)
    assert manifest.origin == "manifest"
    assert manifest.files == set(published(out)) - {MANIFEST}
    assert not any(rel.startswith(".") for rel in manifest.files)


def test_a_damaged_manifest_protects_rather_than_deletes(site, tmp_path):
    out = tmp_path / "www"
    feedpub.build(site, out, now=NOW, state_path=tmp_path / "cache.sqlite")
    (out / MANIFEST).write_text('{"format": "feedpub-manifest", "files": ["../../etc/passwd"]}')
    assert read_manifest(out).origin == "damaged"
    before = published(out)
    with pytest.raises(OutputConflictError):
        feedpub.build(site, out, now=NOW, state_path=tmp_path / "cache.sqlite", full=True)
    assert published(out) == before
    assert os.path.exists("/etc/passwd")


@pytest.mark.parametrize("inside", ["articles", "articles/public", "articles/2021/out"])
def test_an_output_folder_among_the_records_is_refused_before_anything_is_written(site, tmp_path, inside):
    """Every *.json under articles/ is a record file: feeds written there would be read back as records."""
    before = everything(site)
    proc = run_cli("build", "--data", site, "--out", site / inside, "--now", NOW_ARG, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == (f"feedpub: {site / inside}: the output folder is inside {site / 'articles'}, where every "
                           "*.json file is read as records (expected an output folder outside it, such as public)\n")
    assert everything(site) == before


def test_an_output_folder_reached_through_a_link_into_the_records_is_refused(site, tmp_path):
    (tmp_path / "www").symlink_to(site / "articles", target_is_directory=True)
    with pytest.raises(feedpub.FeedpubError, match="the output folder is inside"):
        feedpub.build(site, tmp_path / "www", now=NOW)


def test_the_site_folder_itself_may_hold_the_output(site, tmp_path):
    report = feedpub.build(site, site / "public", now=NOW)
    assert report.errors == [] and report.changed
    again = feedpub.build(site, site / "public", now=NOW)
    assert again.errors == [] and not again.changed


@pytest.mark.parametrize("state", ["articles/state.json", "articles/cache/state.sqlite"])
def test_a_cache_among_the_records_is_refused_before_anything_is_written(site, tmp_path, state):
    before = everything(site)
    proc = run_cli("build", "--data", site, "--out", tmp_path / "out", "--state", site / state, "--now", NOW_ARG,
                   cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == (f"feedpub: {site / state}: the cache is inside {site / 'articles'}, where the record "
                           "files are (expected a path outside it; by default the cache lives in OUT/.feedpub/)\n")
    assert everything(site) == before
    assert not (tmp_path / "out").exists()

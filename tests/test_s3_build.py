"""`feedpub build --out s3://BUCKET/PREFIX` against a real S3 server (rclone serve s3), beside the same
site built to a folder: the same bytes, only changed objects written, feedpub's own objects only,
the no-op's one request, faults that leave the old feeds served, credentials never shown."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import feedparser
import pytest

import feedpub
from conftest import NOW, NOW_ARG, published, run_cli
from feedpub.errors import CacheError, LockedError
from feedpub.fsops import Tree
from feedpub.layout import KINDS, kind_of
from feedpub.publish import OutputLock
from feedpub.publishconfig import parse_target
from feedpub.s3.manifest import MANIFEST
from feedpub.s3.route import default_state_path
from s3server import BUCKET, KEY_ID, SECRET

PREFIX = "news"
TARGET = f"s3://{BUCKET}/{PREFIX}"
NEW_ARTICLE = {"id": "vi-new", "lang": "vi", "title": "Cầu mới nối hai bờ sông", "url": "/vi/giao-thong/cau-moi.html",
               "published": "2026-11-28T08:00:00+07:00", "summary": "Cây cầu mới thông xe.",
               "content": "<p>Cầu dài 1,2 km.</p>", "categories": ["Giao thông"]}


def records(site: Path) -> Path:
    return site / "articles" / "records.jsonl"


def add_article(site: Path, article: dict = NEW_ARTICLE) -> None:
    with records(site).open("a", encoding="utf-8") as f:
        f.write(json.dumps(article, ensure_ascii=False) + "\n")


def retire(site: Path, lang: str) -> None:
    """The language's records and its [languages.LANG] table gone: the site no longer publishes it."""
    lines = records(site).read_text(encoding="utf-8").splitlines(keepends=True)
    records(site).write_text("".join(line for line in lines if json.loads(line)["lang"] != lang), encoding="utf-8")
    toml = site / "feedpub.toml"
    kept, inside = [], False
    for line in toml.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.startswith("["):
            inside = line.strip() == f"[languages.{lang}]"
        if not inside:
            kept.append(line)
    toml.write_text("".join(kept), encoding="utf-8")


def in_bucket(s3) -> dict[str, bytes]:
    """Every object feedpub publishes under the prefix (its manifest aside), by path relative to it."""
    return {key.removeprefix(f"{PREFIX}/"): data for key, data in s3.objects(f"{PREFIX}/").items()
            if key != f"{PREFIX}/{MANIFEST}"}


def stamps(s3) -> dict[str, tuple]:
    return {key.removeprefix(f"{PREFIX}/"): stamp for key, stamp in s3.stamps(f"{PREFIX}/").items()}


def writes(requests) -> tuple[set[str], set[str]]:
    """The object keys (relative to the prefix, the manifest aside) a run PUT and DELETEd."""
    def rel(r):
        return r.key.removeprefix(f"{PREFIX}/")
    return ({rel(r) for r in requests if r.method == "PUT" and rel(r) != MANIFEST},
            {rel(r) for r in requests if r.method == "DELETE"})


def differing(before: dict[str, bytes], after: dict[str, bytes]) -> set[str]:
    return {rel for rel in after if before.get(rel) != after[rel]}


def build_both(site: Path, disk: Path, **kw):
    """The site built to a folder and to the bucket, as the same run would."""
    on_disk = feedpub.build(site, disk, now=NOW, **kw)
    return on_disk, feedpub.build(site, TARGET, now=NOW, **kw)


def test_the_command_publishes_the_same_bytes_to_a_bucket_as_to_a_folder_with_headers_per_kind(
        s3, fixture_site, tmp_path):
    disk = tmp_path / "out"
    assert run_cli("build", "--data", fixture_site, "--out", disk, "--now", NOW_ARG).returncode == 0
    proc = run_cli("build", "--data", fixture_site, "--out", TARGET, "--now", NOW_ARG, "--report",
                   tmp_path / "report.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert in_bucket(s3) == published(disk)                     # every file, byte for byte
    assert f"{TARGET}/vi/rss.xml: 3 items, updated" in proc.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["out"] == TARGET and report["files_updated"] == len(published(disk))
    for rel in published(disk):                                 # generated from what the site publishes
        kind = kind_of(rel)
        head = s3.head(f"{PREFIX}/{rel}")
        assert (head["ContentType"], head["CacheControl"]) == (f"{kind.media_type}; charset=utf-8",
                                                               kind.cache_control), rel
    assert {kind_of(rel).key for rel in published(disk)} == {kind.key for kind in KINDS}
    feed = feedparser.parse(in_bucket(s3)["vi/rss.xml"])
    assert not feed.bozo and [e.title for e in feed.entries] == [
        e.title for e in feedparser.parse((disk / "vi/rss.xml").read_bytes()).entries]
    assert not (tmp_path / "public").exists()


def test_a_run_with_nothing_to_do_asks_the_bucket_once_and_writes_nothing(s3, fixture_site, tmp_path):
    argv = ["build", "--data", fixture_site, "--out", TARGET, "--now", NOW_ARG]
    assert run_cli(*argv, cwd=tmp_path).returncode == 0
    before = stamps(s3)
    s3.proxy.reset()
    proc = run_cli(*argv, cwd=tmp_path)
    requests = s3.proxy.taken()
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"nothing changed: 27 feed files in {TARGET} are up to date")
    assert len(requests) <= 2 and [r.method for r in requests] == ["HEAD"]
    assert stamps(s3) == before                               # ETag and Last-Modified: CDN caches stay valid
    assert not (tmp_path / "public").exists()                 # no local OUT is looked at, or made


def test_one_new_article_puts_exactly_the_files_it_changes(s3, fixture_site, tmp_path):
    disk = tmp_path / "out"
    build_both(fixture_site, disk)
    old_disk, old_stamps = published(disk), stamps(s3)
    add_article(fixture_site)
    s3.proxy.reset()
    on_disk = feedpub.build(fixture_site, disk, now=NOW)
    s3.proxy.reset()
    report = feedpub.build(fixture_site, TARGET, now=NOW)
    put, deleted = writes(s3.proxy.taken())
    changed = differing(old_disk, published(disk))
    assert "vi/rss.xml" in changed and "en/rss.xml" not in changed
    assert put == changed == set(report.updated) == set(on_disk.updated) and not deleted
    assert report.files_changed == len(changed)
    assert in_bucket(s3) == published(disk)
    now_stamps = stamps(s3)                                   # the others keep their ETag and Last-Modified
    assert {rel for rel in now_stamps if old_stamps.get(rel) != now_stamps[rel]} == changed | {MANIFEST}


def test_a_retired_language_has_its_objects_deleted_and_no_other_object_is_touched(s3, fixture_site, tmp_path):
    others = {f"{PREFIX}/about/index.html": b"<h1>About</h1>", f"{PREFIX}/en/notes.txt": b"kept",
              f"{PREFIX}/en/categories/sport/rss.xml": b"<rss>theirs</rss>", "elsewhere/en/rss.xml": b"<rss/>"}
    for key, data in others.items():
        s3.put(key, data)
    disk = tmp_path / "out"
    build_both(fixture_site, disk)
    old_disk = published(disk)
    retire(fixture_site, "en")
    feedpub.build(fixture_site, disk, now=NOW)
    s3.proxy.reset()
    report = feedpub.build(fixture_site, TARGET, now=NOW)
    put, deleted = writes(s3.proxy.taken())
    gone = set(old_disk) - set(published(disk))
    assert gone == {rel for rel in old_disk if rel.startswith("en/")} and "en/rss.xml" in gone
    assert deleted == gone == set(report.removed)
    assert put == differing(old_disk, published(disk))
    assert {k: v for k, v in s3.objects().items() if k in others} == others
    assert {rel: data for rel, data in in_bucket(s3).items() if f"{PREFIX}/{rel}" not in others} == published(disk)


def test_an_object_feedpub_did_not_write_at_one_of_its_keys_stops_the_command_with_exit_3(s3, fixture_site, tmp_path):
    s3.put(f"{PREFIX}/vi/atom.xml", b"<feed>the newsroom's own</feed>")
    proc = run_cli("build", "--data", fixture_site, "--out", TARGET, "--now", NOW_ARG, cwd=tmp_path)
    assert proc.returncode == 3
    assert f"{TARGET}: vi/atom.xml exists and was not written by feedpub: nothing was published" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not writes(s3.proxy.taken())[0]
    assert s3.objects(f"{PREFIX}/") == {f"{PREFIX}/vi/atom.xml": b"<feed>the newsroom's own</feed>"}


def test_a_server_stopped_midway_fails_with_exit_3_the_old_feeds_served_and_the_next_run_completes(
        s3, fixture_site, tmp_path):
    disk = tmp_path / "out"
    build_both(fixture_site, disk)
    old = in_bucket(s3)
    add_article(fixture_site)
    add_article(fixture_site, {**NEW_ARTICLE, "id": "vi-new-2", "url": "/vi/moi/2.html", "categories": ["Mới"]})
    feedpub.build(fixture_site, disk, now=NOW)
    new = published(disk)
    uploads = []

    def stop_after_three(request):
        if request.method == "PUT" and not request.key.endswith(MANIFEST):
            uploads.append(request.key)
            if len(uploads) == 4:
                s3.stop()                                     # the store goes away mid-publish
        return None

    s3.proxy.fault = stop_after_three
    proc = run_cli("build", "--data", fixture_site, "--out", TARGET, "--now", NOW_ARG, cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    assert "the next run completes the publish" in proc.stderr and "Traceback" not in proc.stderr
    s3.proxy.fault = None
    s3.start()
    after = in_bucket(s3)
    assert all(after[rel] in (old.get(rel), new[rel]) for rel in after)      # each object old or new, none half
    assert feedparser.parse(after["vi/rss.xml"]).entries                     # a feed is still served
    assert set(json.loads(s3.objects(f"{PREFIX}/{MANIFEST}")[f"{PREFIX}/{MANIFEST}"])["objects"]) == set(old)
    proc = run_cli("build", "--data", fixture_site, "--out", TARGET, "--now", NOW_ARG, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert in_bucket(s3) == new


@pytest.mark.parametrize("wrong", [
    {"AWS_SECRET_ACCESS_KEY": "wr0ng-Secret-Value-Zq81Xk"},
    {"AWS_ACCESS_KEY_ID": "nosuchkeyidatall"},
    {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None},
])
def test_wrong_credentials_exit_3_and_no_secret_is_in_any_output(s3, fixture_site, tmp_path, monkeypatch, wrong):
    for name, value in wrong.items():
        if value is None:
            monkeypatch.delenv(name)
        else:
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("FEEDPUB_DEBUG", "1")                    # even a run that shows tracebacks shows none here
    report, metrics = tmp_path / "report.json", tmp_path / "metrics.prom"
    proc = run_cli("build", "--data", fixture_site, "--out", TARGET, "--now", NOW_ARG, "--report", report,
                   "--metrics", metrics, cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    said = proc.stdout + proc.stderr + report.read_text() + metrics.read_text()
    assert "credentials" in proc.stderr and "Traceback" not in said
    for secret in (SECRET, "wr0ng-Secret-Value-Zq81Xk"):
        assert secret not in said
    assert not writes(s3.proxy.taken())[0] and in_bucket(s3) == {}


def test_the_publish_table_names_the_target_and_endpoint_when_the_command_does_not(s3, fixture_site, tmp_path,
                                                                                    monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    toml = fixture_site / "feedpub.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + f'\n[publish]\ntarget = "{TARGET}/"\nendpoint_url = "{s3.url}"\n',
                    encoding="utf-8")
    proc = run_cli("build", "--data", fixture_site, "--now", NOW_ARG, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"{TARGET}/vi/rss.xml: 3 items, updated" in proc.stdout
    assert "vi/rss.xml" in in_bucket(s3) and not (tmp_path / "public").exists()
    disk = tmp_path / "elsewhere"                                 # --out still wins
    assert run_cli("build", "--data", fixture_site, "--out", disk, "--now", NOW_ARG).returncode == 0
    assert published(disk) == in_bucket(s3)


def test_an_object_changed_behind_feedpubs_back_is_restored_by_a_full_run(s3, fixture_site, tmp_path):
    disk = tmp_path / "out"
    build_both(fixture_site, disk)
    s3.put(f"{PREFIX}/vi/rss.xml", b"<rss>edited by hand</rss>")
    assert feedpub.build(fixture_site, TARGET, now=NOW).skipped      # the no-op asks only for the manifest
    s3.proxy.reset()
    report = feedpub.build(fixture_site, TARGET, now=NOW, full=True)
    assert writes(s3.proxy.taken())[0] == {"vi/rss.xml"} and report.updated == ["vi/rss.xml"]
    assert in_bucket(s3) == published(disk)


def test_the_cache_and_lock_are_local_and_the_lock_serialises_runs_on_this_machine(s3, fixture_site, tmp_path):
    state = default_state_path(parse_target(TARGET), s3.url)
    assert state.is_relative_to(tmp_path / "xdg-state" / "feedpub" / "s3")
    with Tree.open(state.parent) as folder, OutputLock(folder, 0):
        with pytest.raises(LockedError):
            feedpub.build(fixture_site, TARGET, now=NOW, wait=0)
    assert not writes(s3.proxy.taken())[0]
    feedpub.build(fixture_site, TARGET, now=NOW)
    assert state.is_file()
    mine = tmp_path / "mine.sqlite"
    mine.write_bytes(b"not a cache, someone's file")
    with pytest.raises(CacheError, match="not a feedpub cache; feedpub never changes a file it did not create"):
        feedpub.build(fixture_site, TARGET, now=NOW, state_path=mine)
    assert mine.read_bytes() == b"not a cache, someone's file"


def test_the_purge_command_gets_the_url_of_every_object_written_or_deleted(s3, fixture_site, tmp_path):
    calls = tmp_path / "calls.jsonl"
    script = tmp_path / "purge.py"
    script.write_text(f"import json, sys\nopen({str(calls)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n")
    toml = fixture_site / "feedpub.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + f'\n[publish]\npurge_command = ["{sys.executable}", "{script}"]\n',
                    encoding="utf-8")
    feedpub.build(fixture_site, TARGET, now=NOW)
    calls.unlink()
    add_article(fixture_site)
    retire(fixture_site, "en")
    report = feedpub.build(fixture_site, TARGET, now=NOW)
    urls = [url for line in calls.read_text().splitlines() for url in json.loads(line)]
    assert report.updated and report.removed
    assert sorted(urls) == sorted(f"https://news.example.vn/feeds/{rel}" for rel in report.updated + report.removed)


def test_a_bad_s3_target_on_the_command_line_is_a_usage_error_that_quotes_no_credential(fixture_site, tmp_path):
    for target, says in ((f"s3://{KEY_ID}:{SECRET}@{BUCKET}/news", "holds a user name or password"),
                         ("s3://ab/news", "'ab' is not a bucket name"), ("s3://feeds/a/../b", "has an empty, . or ..")):
        proc = run_cli("build", "--data", fixture_site, "--out", target, "--now", NOW_ARG, cwd=tmp_path)
        assert proc.returncode == 2 and says in proc.stderr and SECRET not in proc.stderr, proc.stderr


@pytest.mark.parametrize("command", ["validate", "serve"])
@pytest.mark.parametrize("how", ["argument", "environment"])
def test_a_command_that_reads_a_local_folder_refuses_a_bucket_target(tmp_path, monkeypatch, command, how):
    """FEEDPUB_OUT=s3://… set for build must not make serve or validate look for a folder "s3:"."""
    if how == "environment":
        monkeypatch.setenv("FEEDPUB_OUT", "s3://news/feeds")
    proc = run_cli(*([command, "s3://news/feeds"] if how == "argument" else [command]), cwd=tmp_path, timeout=30)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"feedpub: {command}: Invalid value for 'out': s3://news/feeds is a bucket target: ")
    assert not (tmp_path / "s3:").exists()

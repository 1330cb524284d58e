"""Incremental builds give exactly the bytes of a fresh full build, and read only what changed.

Each step edits a tmp_path copy of the sample site, runs an incremental build
into the same OUT (with a state file), and compares every output file with a
build of the same input into a fresh OUT with full=True and a fresh state.
Files modified within the last seconds are re-read on purpose (their mtime
cannot be trusted yet), so every edit here gets an explicit mtime in the past.
"""
from __future__ import annotations

import itertools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conftest import copy_site, index_rows, published, record, write_jsonl
import feedpub
from feedpub import publish

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2030, 6, 1, 0, 0, tzinfo=TZ)
RECORD_FILES = 15          # record files of the sample site

DRAGON_EN = "2021/11/dragon-fruit-chau-thanh.json"       # en, Agriculture + Economy, translated
ROAD_EN = "2021/12/provincial-road-830.json"             # en, the only Traffic record
EXPORT = "export-2022.jsonl"                             # vi and en records, one per line
NEW_RECORD = {
    "id": "en-2022-02-sports-day", "lang": "en", "title": "Long An holds its first provincial sports day",
    "url": "/en/sports/long-an-sports-day.html", "published": "2022-02-12T08:00:00+07:00",
    "summary": "Athletes from every district met in Tan An.", "content": "<p>Running, rowing and football.</p>",
    "author": "Long An News", "categories": ["Sports", "Society"],
}


class Site:
    """A copy of the sample site plus a clock for distinct, past mtimes."""

    def __init__(self, root: Path):
        shutil.copytree(DATA, root)
        self.root = root
        self.articles = root / "articles"
        self._base = time.time() - 20000
        self._ticks = itertools.count(1)
        for path in root.rglob("*"):
            os.utime(path, (self._base, self._base))

    def stamp(self, path: Path) -> None:
        when = self._base + 60 * next(self._ticks)      # every edit gets its own mtime, all > 1 h ago
        os.utime(path, (when, when))

    def write_record(self, rel: str, record, *, raw: str | None = None) -> Path:
        path = self.articles / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(raw if raw is not None else json.dumps(record, ensure_ascii=False, indent=2),
                        encoding="utf-8")
        self.stamp(path)
        return path

    def read_record(self, rel: str) -> dict:
        return json.loads((self.articles / rel).read_text(encoding="utf-8"))

    def edit(self, rel: str, **changes) -> Path:
        record = self.read_record(rel)
        record.update(changes)
        return self.write_record(rel, record)

    def edit_line(self, rel: str, index: int, **changes) -> Path:
        path = self.articles / rel
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        record = json.loads(lines[index])
        record.update(changes)
        lines[index] = json.dumps(record, ensure_ascii=False) + "\n"
        path.write_text("".join(lines), encoding="utf-8")
        self.stamp(path)
        return path

    def delete(self, rel: str) -> None:
        (self.articles / rel).unlink()




class Builds:
    """The incremental OUT and state under test, and fresh full builds to compare with."""

    def __init__(self, site: Site, tmp: Path):
        self.site, self.tmp = site, tmp
        self.out = tmp / "out"
        self.state = self.out / ".feedpub" / "state.sqlite"     # the default place: feedpub's own folder
        self._fresh = itertools.count(1)

    def incremental(self, **kwargs) -> feedpub.BuildReport:
        return feedpub.build(self.site.root, self.out, now=kwargs.pop("now", NOW), state_path=self.state,
                             **kwargs)

    def fresh(self, now: datetime = NOW) -> tuple[feedpub.BuildReport, dict[str, bytes]]:
        n = next(self._fresh)
        out = self.tmp / f"fresh-{n}"
        report = feedpub.build(self.site.root, out, now=now, full=True,
                               state_path=self.tmp / f"fresh-{n}-state" / "state.sqlite")
        return report, published(out)

    def check(self, report: feedpub.BuildReport, now: datetime = NOW) -> dict[str, bytes]:
        """The incremental OUT and report match a fresh full build of the same input."""
        expected_report, expected = self.fresh(now)
        actual = published(self.out)
        missing = sorted(set(expected) - set(actual))
        extra = sorted(set(actual) - set(expected))
        differ = sorted(rel for rel in set(expected) & set(actual) if expected[rel] != actual[rel])
        assert (missing, extra, differ) == ([], [], []), "incremental output differs from a full build"
        assert report.errors == expected_report.errors
        assert report.records == expected_report.records
        assert [(f.path, f.items) for f in report.feeds] == [(f.path, f.items) for f in expected_report.feeds]
        return actual


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch):
    """These tests compare bytes and counts, not durability (test_publish and test_stress do):
    skipping fsync keeps the many in-process builds fast on a busy disk."""
    monkeypatch.setattr(publish.os, "fsync", lambda fd: None)


@pytest.fixture
def builds(tmp_path: Path) -> Builds:
    b = Builds(Site(tmp_path / "site"), tmp_path)
    first = b.incremental()
    assert first.files_read == RECORD_FILES and first.errors == [] and not first.skipped
    return b


def changed_files(before: dict[str, bytes], after: dict[str, bytes]) -> set[str]:
    return {rel for rel in set(before) | set(after) if before.get(rel) != after.get(rel)}


# --------------------------------------------------------------------------- one edit at a time


def test_change_one_json_record(builds):
    before = published(builds.out)
    builds.site.edit(DRAGON_EN, title="Dragon fruit farmers in Chau Thanh find new buyers")
    report = builds.incremental()
    assert report.files_read == 1
    after = builds.check(report)
    changed = changed_files(before, after)
    assert {"en/rss.xml", "en/atom.xml", "en/feed.json", "en/categories/agriculture/rss.xml"} <= changed
    assert b"find new buyers" in after["en/rss.xml"]
    assert set(report.changed) >= {"en/rss.xml", "en/atom.xml", "en/feed.json"}


def test_change_one_line_of_a_jsonl_file(builds):
    builds.site.edit_line(EXPORT, 1, title="Students in Long An are back in their classrooms")
    report = builds.incremental()
    assert report.files_read == 1
    after = builds.check(report)
    assert b"back in their classrooms" in after["en/feed.json"]


def test_add_a_record_file(builds):
    before = published(builds.out)
    builds.site.write_record("2022/02/sports-day.json", NEW_RECORD)
    report = builds.incremental()
    assert report.files_read == 1
    after = builds.check(report)
    assert "en/categories/sports/rss.xml" in after and "en/categories/sports/rss.xml" not in before
    assert b"en-2022-02-sports-day" in after["en/feed.json"]


def test_delete_a_record_file(builds):
    before = published(builds.out)
    assert "en/categories/traffic/rss.xml" in before
    builds.site.delete(ROAD_EN)
    report = builds.incremental()
    assert report.files_read == 0
    after = builds.check(report)
    assert not any(rel.startswith("en/categories/traffic/") for rel in after)
    assert b"en-2021-12-provincial-road-830" not in after["en/feed.json"]
    # The vi story no longer links to a translation that is gone.
    assert b"provincial-road-830.html" not in after["vi/feed.json"]


@pytest.mark.parametrize("rel", ["2021/00-duplicate.json", "zz/duplicate.json"],
                         ids=["sorts-first-wins", "sorts-last-rejected"])
def test_add_a_file_with_a_duplicate_id(builds, rel):
    original = builds.site.read_record(DRAGON_EN)
    builds.site.write_record(rel, {**original, "title": "The duplicate's own title"})
    report = builds.incremental()
    assert report.files_read == 1
    after = builds.check(report)
    assert len(report.errors) == 1 and '"en-2021-11-dragon-fruit-chau-thanh"' in report.errors[0]
    wins = rel.startswith("2021/00")
    assert (b"The duplicate's own title" in after["en/rss.xml"]) is wins
    # ...and removing it again restores the original winner.
    builds.site.delete(rel)
    report = builds.incremental()
    assert report.files_read == 0 and report.errors == []
    builds.check(report)


def test_record_becomes_invalid_then_valid_again(builds):
    good = builds.site.read_record(DRAGON_EN)
    builds.site.edit(DRAGON_EN, published="the day after tomorrow")
    report = builds.incremental()
    assert report.files_read == 1
    after = builds.check(report)
    assert len(report.errors) == 1 and DRAGON_EN in report.errors[0]
    assert b"en-2021-11-dragon-fruit-chau-thanh" not in after["en/rss.xml"]

    builds.site.write_record(DRAGON_EN, good)
    report = builds.incremental()
    assert report.files_read == 1
    after = builds.check(report)
    assert report.errors == []
    assert b"en-2021-11-dragon-fruit-chau-thanh" in after["en/rss.xml"]


def test_unparseable_file_then_fixed(builds):
    good = (builds.site.articles / EXPORT).read_text(encoding="utf-8")
    builds.site.write_record(EXPORT, None, raw=good[: len(good) // 2])
    report = builds.incremental()
    assert report.files_read == 1 and report.errors
    builds.check(report)
    builds.site.write_record(EXPORT, None, raw=good)
    report = builds.incremental()
    assert report.files_read == 1 and report.errors == []
    builds.check(report)


def test_every_step_in_sequence(builds):
    """The steps above one after another on the same OUT and state."""
    site = builds.site
    good = site.read_record(ROAD_EN)
    steps = [
        ("change", lambda: site.edit(DRAGON_EN, title="Step one"), 1),
        ("add", lambda: site.write_record("2022/02/sports-day.json", NEW_RECORD), 1),
        ("delete", lambda: site.delete(ROAD_EN), 0),
        ("duplicate", lambda: site.write_record("2021/00-dup.json", {**NEW_RECORD, "title": "Dup"}), 1),
        ("invalid", lambda: site.edit("2022/02/sports-day.json", url="not a url at all"), 1),
        ("valid", lambda: site.edit("2022/02/sports-day.json", url=NEW_RECORD["url"]), 1),
        ("restore", lambda: site.write_record(ROAD_EN, good), 1),
        ("jsonl", lambda: site.edit_line(EXPORT, 0, title="Học sinh trở lại trường"), 1),
        ("nothing", lambda: None, 0),
    ]
    for name, step, reads in steps:
        step()
        report = builds.incremental()
        assert report.files_read == reads, name
        builds.check(report)
        assert report.skipped is (name == "nothing"), name


def test_unchanged_input_with_later_now_reads_nothing(builds):
    later = datetime(2031, 1, 1, 7, 0, tzinfo=TZ)
    report = builds.incremental(now=later)
    assert report.files_read == 0 and not report.skipped
    builds.check(report, now=later)
    # Back to the earlier clock: cached scans made "in the future" must not be trusted.
    report = builds.incremental()
    builds.check(report)


# --------------------------------------------------------------------------- lost, damaged or foreign state


def _corrupt_meta(value: str):
    def corrupt(state: Path) -> None:
        with sqlite3.connect(state) as db:
            db.execute("UPDATE meta SET value = ? WHERE key = 'meta'", (value,))
    return corrupt


def _reshape_meta(**changes):
    """Keep the state's identity (schema, version, config) but give some entries a wrong shape."""
    def corrupt(state: Path) -> None:
        with sqlite3.connect(state) as db:
            meta = json.loads(db.execute("SELECT value FROM meta WHERE key = 'meta'").fetchone()[0])
            meta.update(changes)
            db.execute("UPDATE meta SET value = ? WHERE key = 'meta'", (json.dumps(meta),))
    return corrupt


def _corrupt_scans(state: Path) -> None:
    """What the index keeps of each file, unreadable: its problems, and a table it needs."""
    with sqlite3.connect(state) as db:
        db.execute("UPDATE files SET report = ?", (b"\x93\xff\x00garbage",))
        db.execute("DROP TABLE floors")


def _truncate(state: Path) -> None:
    data = state.read_bytes()
    state.write_bytes(data[: len(data) // 2])


def _scramble_pages(state: Path) -> None:
    data = bytearray(state.read_bytes())
    for i in range(100, len(data), 7):
        data[i] = (data[i] * 31 + 7) % 256
    state.write_bytes(bytes(data))


CORRUPTIONS = {
    "deleted": lambda state: state.unlink(),
    "garbage-text": lambda state: state.write_bytes(b"this is not a database\n" * 50),
    "empty": lambda state: state.write_bytes(b""),
    "truncated": _truncate,
    "scrambled-pages": _scramble_pages,
    "random-scans": _corrupt_scans,
    "meta-not-json": _corrupt_meta("{not json"),
    "meta-null": _corrupt_meta("null"),
    "meta-list": _corrupt_meta("[1, 2, 3]"),
    "meta-outputs-wrong-shape": _reshape_meta(outputs={"en/rss.xml": "x"}),
    "meta-summary-wrong-shape": _reshape_meta(summary={"feeds": [1, 2]}),
}
KEEPS_NOOP = {"random-scans"}       # the no-op check never needs the scans: skipping is right


@pytest.mark.parametrize("damage", list(CORRUPTIONS), ids=list(CORRUPTIONS))
def test_lost_or_damaged_state_rebuilds_correctly(builds, damage):
    before = published(builds.out)
    CORRUPTIONS[damage](builds.state)
    report = builds.incremental()
    assert report.skipped is (damage in KEEPS_NOOP)
    assert report.errors == []
    after = builds.check(report)
    assert after == before
    # The damaged state was replaced by a working one: the next run is a no-op again.
    again = builds.incremental()
    assert again.skipped and again.files_read == 0


@pytest.mark.parametrize("damage", ["deleted", "garbage-text", "random-scans", "meta-list"])
def test_damaged_state_plus_an_edit_rebuilds_correctly(builds, damage):
    builds.site.edit(DRAGON_EN, title="Edited while the cache was lost")
    CORRUPTIONS[damage](builds.state)
    report = builds.incremental()
    assert report.files_read == RECORD_FILES
    after = builds.check(report)
    assert b"Edited while the cache was lost" in after["en/rss.xml"]


def test_damaged_state_from_the_command_line_is_no_traceback(builds):
    builds.state.write_bytes(b"\x00garbage" * 300)
    builds.site.edit(DRAGON_EN, title="Rebuilt from the command line")
    proc = subprocess.run([sys.executable, "-m", "feedpub", "build", "--data", str(builds.site.root),
                           "--out", str(builds.out), "--state", str(builds.state),
                           "--now", "2030-06-01T00:00:00+07:00"],
                          capture_output=True, text=True, timeout=30, cwd=builds.tmp)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and "Traceback" not in proc.stdout
    after = builds.check(feedpub.build(builds.site.root, builds.out, now=NOW, state_path=builds.state))
    assert b"Rebuilt from the command line" in after["en/rss.xml"]


def test_lost_state_without_input_change_rewrites_nothing(builds):
    stamps = {p: p.stat().st_mtime_ns for p in builds.out.rglob("*")
              if p.is_file() and ".feedpub" not in p.relative_to(builds.out).parts[0]}
    builds.state.unlink()
    report = builds.incremental()
    assert report.files_read == RECORD_FILES and not report.skipped
    assert report.changed == []
    builds.check(report)
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps


def test_lost_state_and_a_vanished_category(builds):
    """The previous outputs are only known from the state; losing it must not leave stale feeds behind."""
    assert "en/categories/traffic/rss.xml" in published(builds.out)
    builds.state.unlink()
    builds.site.delete(ROAD_EN)
    report = builds.incremental()
    builds.check(report)


def _edit_config(builds: Builds, old: str, new: str | None) -> None:
    """Replace old by new in feedpub.toml; new=None cuts the file from old to its end."""
    path = builds.site.root / "feedpub.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text[:text.index(old)] if new is None else text.replace(old, new, 1), encoding="utf-8")
    builds.site.stamp(path)


@pytest.mark.parametrize(("old", "new"), [
    ('title = "Long An News - Latest news"', 'title = "Long An News"'),
    ("max_items = 50", "max_items = 3"),
    ('timezone = "Asia/Ho_Chi_Minh"', 'timezone = "Asia/Bangkok"'),
    ("[languages.vi]", '# a comment changes the bytes, not the meaning\n[languages.vi]'),
], ids=["en-title", "max-items", "timezone", "comment-only"])
def test_config_change_rebuilds_everything(builds, old, new):
    _edit_config(builds, old, new)
    report = builds.incremental()
    assert report.files_read == RECORD_FILES and not report.skipped
    builds.check(report)
    again = builds.incremental()
    assert again.skipped and again.files_read == 0


@pytest.mark.parametrize(("old", "new"), [
    ("max_items = 50", "max_items = 50\ncategory_feeds = false"),
    ("[languages.en]", None),
], ids=["category-feeds-off", "language-removed"])
def test_config_change_that_drops_feeds_removes_them(builds, old, new):
    before = published(builds.out)
    _edit_config(builds, old, new)
    report = builds.incremental()
    assert report.files_read == RECORD_FILES
    after = builds.check(report)
    assert set(after) < set(before)


def test_a_change_no_feed_shows_rewrites_nothing_and_a_visible_one_rewrites_its_feeds(tmp_path):
    import shutil
    from conftest import FIXTURE, NOW
    site = Path(shutil.copytree(FIXTURE, tmp_path / "site"))
    out = tmp_path / "out"
    feedpub.build(site, out, now=NOW)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and ".feedpub" not in str(p)}
    records = site / "articles" / "records.jsonl"
    lines = records.read_text(encoding="utf-8").splitlines()
    # vi-draft (line 4) is in no feed.
    lines[3] = lines[3].replace('"title":"', '"title":"Sửa: ', 1)
    assert '"id":"vi-draft"' in lines[3] and "Sửa: " in lines[3]
    records.write_text("\n".join(lines) + "\n", encoding="utf-8")
    past = time.time() - 600
    os.utime(records, (past, past))
    report = feedpub.build(site, out, now=NOW)
    assert report.files_read == 1 and not report.skipped and report.changed == []
    assert {p: p.stat().st_mtime_ns for p in before} == before
    assert published(out) == published(_fresh(site, tmp_path / "ref1"))

    lines[5] = lines[5].replace('"title":"', '"title":"Sửa: ', 1)        # vi-bridge: in the vi feed
    assert "Sửa: " in lines[5]
    records.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.utime(records, (past + 1, past + 1))
    report = feedpub.build(site, out, now=NOW)
    assert {"vi/rss.xml", "vi/atom.xml", "vi/feed.json"} <= set(report.changed)
    # en-bridge links to it by title in Atom and JSON; RSS carries no translation links
    assert {"en/atom.xml", "en/feed.json"} <= set(report.changed) and "en/rss.xml" not in report.changed
    assert published(out) == published(_fresh(site, tmp_path / "ref2"))


def _fresh(site: Path, dest: Path) -> Path:
    from conftest import NOW
    feedpub.build(site, dest, now=NOW, full=True, state_path=dest.parent / f"{dest.name}.sqlite")
    return dest


def test_a_file_changed_a_moment_before_a_run_is_read_again_by_the_next(tmp_path):
    """mtime and ctime are coarse on some file systems: an edit in the same tick as a run's read
    would keep the signature. A file that recent is read again by the next run, which is no no-op."""
    site = copy_site(tmp_path / "site")
    out = tmp_path / "out"
    feedpub.build(site, out, now=NOW)
    fresh = write_jsonl(site / "articles" / "just-now.jsonl",
                        {"id": "vi-just-now", "lang": "vi", "title": "Vừa viết", "url": "/vi/vua-viet",
                         "published": "28/11/2026 08:00"})
    first = feedpub.build(site, out, now=NOW)
    assert first.files_read == 1 and not first.skipped
    second = feedpub.build(site, out, now=NOW)
    assert not second.skipped and second.files_read == 1           # read again, though nothing changed
    past = time.time() - 60
    os.utime(fresh, (past, past))
    third = feedpub.build(site, out, now=NOW)                       # no longer recent: read once more...
    assert third.files_read == 1
    assert feedpub.build(site, out, now=NOW).skipped                # ...and then left alone


def test_only_the_feeds_a_new_article_enters_are_rendered(builds, monkeypatch):
    """Sanitising and rendering cost most of an incremental run: a feed whose content did not change
    keeps its files as they are, and the result is still what a full build gives."""
    from feedpub import render_xml
    before = {p: p.stat().st_mtime_ns for p in builds.out.rglob("*.xml")}
    rendered = []
    original = render_xml.render_rss
    monkeypatch.setattr(render_xml, "render_rss",
                        lambda feed, *a, **k: rendered.append((feed.lang, feed.category)) or original(feed, *a, **k))
    record = dict(NEW_RECORD, categories=["Politics"], published="2026-11-28T08:00:00+07:00")
    builds.site.write_record("2026/new-politics.json", record)
    report = builds.incremental()
    assert sorted(rendered, key=lambda k: (k[0], k[1] or "")) == [("en", None), ("en", "Politics")]
    builds.check(report)
    after = {p: p.stat().st_mtime_ns for p in builds.out.rglob("*.xml")}
    untouched = {p for p in before if before[p] == after.get(p)}
    assert builds.out / "vi" / "rss.xml" in untouched and builds.out / "en" / "rss.xml" not in untouched


def test_an_index_updated_file_by_file_equals_one_built_afresh(site, tmp_path):
    """Rows written as a difference (a rescanned file keeps its unchanged rows): after appends,
    edits, removed lines and a duplicated id, the index holds exactly what a --full run builds."""
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    feedpub.build(site, out, now=NOW)
    news = site / "articles" / "news.jsonl"
    write_jsonl(news, *[record(id=f"vi-n{i}", url=f"/vi/n{i}", published=f"1{i}/11/2026 08:00") for i in range(8)],
                record(id="vi-n7", url="/vi/n7-again"))                      # a duplicate, for now
    feedpub.build(site, out, now=NOW)
    assert ("vi-n7",) in index_rows(out / ".feedpub" / "state.sqlite")["dups"]
    lines = news.read_text(encoding="utf-8").splitlines()
    lines[8] = json.dumps(record(id="vi-own", url="/vi/own"), ensure_ascii=False)   # its id changed in place
    edited = json.loads(lines[1])
    edited["published"] = "27/11/2026 09:30"
    lines[1] = json.dumps(edited, ensure_ascii=False)                       # a record edited
    del lines[3:6]                                                           # three removed: the rest move up
    lines.append(json.dumps(dict(json.loads(lines[0]), title="Trùng"), ensure_ascii=False))   # a duplicated id
    news.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with open(news, "a", encoding="utf-8") as handle:                        # and one appended
        handle.write(json.dumps(dict(json.loads(lines[0]), id="vi-later", url="/vi/later"), ensure_ascii=False) + "\n")
    past = time.time() - 60
    os.utime(news, (past, past))
    feedpub.build(site, out, now=NOW)
    feedpub.build(site, fresh, now=NOW, full=True)
    incremental = index_rows(out / ".feedpub" / "state.sqlite")
    assert incremental == index_rows(fresh / ".feedpub" / "state.sqlite")
    assert incremental["dups"] == [("vi-n0",)]

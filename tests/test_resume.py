"""A JSONL file that only grew is read from where its last scan stopped, and the index it leaves
is exactly the one a --full run builds.

The scan of a JSONL file read to a newline leaves a resume point (the offset, the line, a SHA-256
of the bytes before). The next run reads such a file from there when those bytes still hash the
same, merging the new lines with what the index kept: an appended line costs itself, not the whole
file. A half-written last line is left for the next run, which goes on from the newline before it.
Anything else (an edited or truncated line, a last line taken as a record before its newline came,
the clock gone back) reads the whole file, as before.
"""
from __future__ import annotations

import json
import os
import random
import sqlite3
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import feedpub
from conftest import index_rows, published
from feedpub.ingest import workers
from feedpub.ingest.index import RecordIndex

START = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
CATEGORIES = ["Thời sự", "Kinh tế", "Nông nghiệp", "Giao thông"]
CONFIG = """[site]
base_url = "https://tin.example.vn"
timezone = "Asia/Ho_Chi_Minh"
max_items = 3
title = "Tin"

[languages.vi]
title = "Tin"
description = "Tin mới"

[languages.en]
title = "News"
description = "Latest news"
"""
STATIC_FILES = 8          # files left alone: the changed ones stay few, so runs update the index file by file


class Newsroom:
    """A small site with two JSONL files written to as a newsroom's exporters would, and a clock."""

    def __init__(self, root: Path, seed: int):
        self.root = root
        self.rng = random.Random(seed)
        self.now = START
        self.numbers = iter(range(10**6))
        self.ids: list[str] = []
        self.rest: dict[Path, str] = {}          # the rest of a half-written line, per file
        (root / "articles").mkdir(parents=True)
        (root / "feedpub.toml").write_text(CONFIG, encoding="utf-8")
        past = time.time() - 7200
        for n in range(STATIC_FILES):
            path = root / "articles" / f"static-{n}.jsonl"
            path.write_text("".join(self.line() for _ in range(4)), encoding="utf-8")
            os.utime(path, (past, past))
        self.live = [root / "articles" / "live.jsonl", root / "articles" / "wire.jsonl"]
        for path in self.live:            # more than a feed keeps of one file (max_items + spares): some are cut
            bom = "\ufeff" if path.name == "wire.jsonl" else ""      # one written by a tool that starts with a BOM
            path.write_text(bom + "".join(self.line() for _ in range(80)), encoding="utf-8")
            os.utime(path, (past, past))

    def record(self) -> dict:
        rng = self.rng
        number = next(self.numbers)
        ident = rng.choice(self.ids) if self.ids and rng.random() < 0.1 else f"r{number}"   # now and then a used id
        self.ids.append(ident)
        lang = rng.choice(["vi", "en"])
        when = self.now + timedelta(minutes=rng.randint(-3000, 600))                        # some scheduled
        found = {"id": ident, "lang": lang, "title": f"Tin {number}", "url": f"/{lang}/tin-{number}.html",
                 "published": when.isoformat(), "content": f"<p>Bài {number}.</p>",
                 "categories": rng.sample(CATEGORIES, rng.randint(0, 2))}
        if rng.random() < 0.1:
            found["draft"] = True
        if rng.random() < 0.2:
            found["translation_key"] = f"story-{rng.randint(0, 5)}"
        return found

    def line(self) -> str:
        roll = self.rng.random()
        if roll < 0.05:
            return "{not json\n"
        if roll < 0.08:
            return "\n"
        if roll < 0.11:
            return json.dumps({"id": f"bad{next(self.numbers)}", "lang": "vi"}) + "\n"        # no title, url, ...
        return json.dumps(self.record(), ensure_ascii=False) + ("\r\n" if roll > 0.9 else "\n")

    # --- what happens to a live file between two runs ---

    def append(self, path: Path) -> str:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write("".join(self.line() for _ in range(self.rng.randint(1, 6))))
        return "append"

    def append_unterminated(self, path: Path) -> str:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(self.line().rstrip("\n"))
        return "unterminated"

    def append_half(self, path: Path) -> str:
        """A writer in the middle of a line: the first half of a record now, the rest next time."""
        text = json.dumps(self.record(), ensure_ascii=False) + "\n"
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text[:len(text) // 2])
        self.rest[path] = text[len(text) // 2:]
        later = time.time() + 3600                   # still being written when the --full run reads it too
        os.utime(path, (later, later))
        return "half"

    def terminate(self, path: Path) -> str:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write("\n")
        return "terminate"

    def edit(self, path: Path) -> str:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        lines[self.rng.randrange(len(lines))] = self.line()
        path.write_text("".join(lines), encoding="utf-8")
        return "edit"

    def truncate(self, path: Path) -> str:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        path.write_text("".join(lines[:max(1, len(lines) - 2)]), encoding="utf-8")
        return "truncate"

    def replace(self, path: Path) -> str:
        """An exporter that writes a new file and renames it over the old one: the same lines, and more."""
        fresh = path.with_suffix(".tmp")
        fresh.write_text(path.read_text(encoding="utf-8") + "".join(self.line() for _ in range(2)), encoding="utf-8")
        os.replace(fresh, path)
        return "replace"

    def step(self) -> list[str]:
        rng = self.rng
        self.now += timedelta(minutes=rng.choice([0, 5, 90, 600]))
        done = []
        for path in rng.sample(self.live, rng.randint(1, 2)):
            if path in self.rest:                   # the writer finishes its line first
                with open(path, "a", encoding="utf-8") as handle:
                    handle.write(self.rest.pop(path))
                done.append("rest")
            act = rng.choices([self.append, self.append_half, self.append_unterminated, self.terminate, self.edit,
                               self.truncate, self.replace], weights=[8, 2, 1, 1, 1, 1, 1])[0]
            done.append(act(path))
        return done


@pytest.fixture
def scans(monkeypatch) -> list:
    """(path, first line read, whether a resume point was offered) of every scan the index asks for."""
    seen = []
    original = workers.scan_file

    def scan_file(site_dir, path, *args, resume=None, **kwargs):
        scan = original(site_dir, path, *args, resume=resume, **kwargs)
        seen.append((path, scan.since, resume is not None))
        return scan

    monkeypatch.setattr(workers, "scan_file", scan_file)
    return seen


@pytest.mark.parametrize("seed", range(4))
def test_files_read_from_where_they_stopped_index_exactly_what_a_full_run_does(tmp_path, scans, seed):
    room = Newsroom(tmp_path / "site", seed)
    out = tmp_path / "out"
    feedpub.build(room.root, out, now=room.now)
    for step in range(25):
        done = room.step()
        feedpub.build(room.root, out, now=room.now)
        fresh = tmp_path / f"fresh-{step}"
        feedpub.build(room.root, fresh, now=room.now, full=True, state_path=tmp_path / f"fresh-{step}.sqlite")
        assert index_rows(out / ".feedpub" / "state.sqlite") == index_rows(tmp_path / f"fresh-{step}.sqlite"), done
        assert published(out) == published(fresh), done
    resumed = [scan for scan in scans if scan[1] > 0]
    refused = [scan for scan in scans if scan[2] and scan[1] == 0]
    assert len(resumed) >= 10, scans              # the case at hand: most runs read only the new lines
    assert refused, scans                         # and an edited or truncated file was read whole


def test_an_appended_line_is_all_the_next_run_reads(tmp_path, scans):
    room = Newsroom(tmp_path / "site", 7)
    live = room.live[0]
    with open(live, "a", encoding="utf-8") as handle:
        handle.write("".join(json.dumps(room.record(), ensure_ascii=False) + "\n" for _ in range(2000)))
    out = tmp_path / "out"
    feedpub.build(room.root, out, now=room.now)
    feedpub.build(room.root, out, now=room.now)               # read once more: it changed a moment ago
    lines = len(live.read_bytes().splitlines())
    scans.clear()
    extra = dict(room.record(), id="breaking", published=room.now.isoformat(), lang="vi", draft=False)
    with open(live, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(extra, ensure_ascii=False) + "\n")
    report = feedpub.build(room.root, out, now=room.now)
    assert scans == [("articles/live.jsonl", lines + 1, True)]
    assert "vi/rss.xml" in report.changed and b"breaking" in (out / "vi" / "rss.xml").read_bytes()


def test_a_half_written_line_is_read_whole_by_the_next_run_and_only_it(tmp_path, scans):
    room = Newsroom(tmp_path / "site", 11)
    live = room.live[0]
    out = tmp_path / "out"
    feedpub.build(room.root, out, now=room.now)
    room.append(live)
    feedpub.build(room.root, out, now=room.now)               # leaves a resume point at the end
    lines = len(live.read_bytes().splitlines())
    text = json.dumps(dict(room.record(), id="breaking", lang="vi", published=room.now.isoformat(), draft=False),
                      ensure_ascii=False) + "\n"
    with open(live, "a", encoding="utf-8") as handle:
        handle.write(text[:40])
    scans.clear()
    feedpub.build(room.root, out, now=room.now)
    assert scans == [("articles/live.jsonl", lines + 1, True)]
    assert b"breaking" not in (out / "vi" / "rss.xml").read_bytes()
    with open(live, "a", encoding="utf-8") as handle:
        handle.write(text[40:])
    scans.clear()
    feedpub.build(room.root, out, now=room.now)
    assert scans == [("articles/live.jsonl", lines + 1, True)]     # from the newline before the half line
    assert b"breaking" in (out / "vi" / "rss.xml").read_bytes()


def test_a_resume_point_is_not_used_once_the_clock_went_back(tmp_path):
    """What a scan cut is known to rank below what it kept only while those stay published."""
    room = Newsroom(tmp_path / "site", 3)
    out = tmp_path / "out"
    feedpub.build(room.root, out, now=room.now)
    room.append(room.live[0])
    feedpub.build(room.root, out, now=room.now)
    db = sqlite3.connect(out / ".feedpub" / "state.sqlite")
    try:
        index = RecordIndex(db)
        later = index.resume("articles/live.jsonl", room.now.timestamp(), 19)
        assert later is not None and later.offset == room.live[0].stat().st_size
        assert index.resume("articles/live.jsonl", room.now.timestamp() - 60, 19) is None
    finally:
        db.close()


def test_a_resume_point_hands_the_scan_at_most_what_it_keeps_per_feed():
    """A file once read keeping every candidate (starved) may hold thousands of them in the index:
    its resume point gives the newest `keep` of each feed (equal ranks: the earlier line), and the
    feed as cut, never them all."""
    import msgspec
    from feedpub.cache import TABLES
    from feedpub.ingest.scan import FileScan
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.executescript(TABLES)
    index = RecordIndex(db)
    now = 1_000_000.0
    cands = [["vi", "", now - n // 2, f"r{n // 2}", n + 1, n * 10] for n in range(10)]      # pairs of equal rank
    cands += [["vi", "A", now - 1, "r1", 3, 20], ["en", "", now + 50, "later", 11, 100]]
    scan = FileScan("articles/a.jsonl", (1, 1, 1, 1), now, 11, [], [], msgspec.json.encode([]),
                    msgspec.json.encode(cands), b"[]", 0, (120, 12, b"h" * 32))
    index.update([scan], full=True)
    resume = index.resume("articles/a.jsonl", now, keep=3)
    assert sorted(resume.cands, key=lambda c: (c[0], c[1], -c[2], c[4])) == [
        ("vi", "", now, "r0", 1, 0), ("vi", "", now, "r0", 2, 10), ("vi", "", now - 1, "r1", 3, 20),
        ("vi", "A", now - 1, "r1", 3, 20)]                      # the scheduled one is not handed over
    assert resume.cut == [("vi", "")]
    assert (resume.offset, resume.line, resume.records) == (120, 12, 11)

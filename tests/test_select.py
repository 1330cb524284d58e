"""The rule of selection on a real index of record files: which records each feed carries, and which
version a translation link points at."""
from __future__ import annotations

import sqlite3

import msgspec
import pytest

from feedpub.cache import TABLES
from feedpub.ingest.index import RecordIndex
from feedpub.ingest.scan import FileScan

NOW = 1_000_000.0
LANGS = ("en", "vi")


def file_scan(path: str, records: list[dict], *, cut: dict | None = None) -> FileScan:
    """A file's scan as the scanner would make it: every record a candidate of its feeds."""
    ids, cands = [], []
    for n, r in enumerate(records, 1):
        ts = None if r.get("draft") else r["ts"]
        ids.append([r["id"], n, n * 100, r.get("key"), r["lang"], ts])
        if ts is not None:
            for cat in ["", *r.get("cats", [])]:
                cands.append([r["lang"], cat, ts, r["id"], n, n * 100])
    floors = [[lang, cat, ts, ident] for (lang, cat), (ts, ident) in (cut or {}).items()]
    enc = msgspec.json.encode
    return FileScan(path, (1, 1, 1, 1), NOW, len(records), [], [], enc(ids), enc(cands), enc(floors))


@pytest.fixture
def index():
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.executescript(TABLES)
    yield RecordIndex(db)
    db.close()


def chosen(index, **kw):
    sel = index.select(LANGS, max_items=kw.pop("max_items", 3), now_ts=kw.pop("now_ts", NOW),
                       category_feeds=kw.pop("category_feeds", True))
    return sel, {key: [c.id for c in picks] for key, picks in sel.feeds.items()}


def rec(ident, ts, lang="vi", **more):
    return {"id": ident, "ts": ts, "lang": lang, **more}


def test_newest_first_by_published_then_id_and_only_max_items(index):
    index.update([file_scan("articles/a.jsonl", [rec("a", 10), rec("b", 30), rec("c", 20), rec("d", 30),
                                                 rec("e", 5)])], full=True)
    _, feeds = chosen(index)
    assert feeds[("vi", None)] == ["d", "b", "c"]
    assert feeds[("en", None)] == []                        # every configured language has a feed


def test_drafts_never_and_scheduled_records_once_due(index):
    index.update([file_scan("articles/a.jsonl", [rec("draft", 10, draft=True), rec("later", NOW + 60),
                                                 rec("now", NOW)])], full=True)
    sel, feeds = chosen(index)
    assert feeds[("vi", None)] == ["now"]
    assert sel.next_due == NOW + 60
    _, later = chosen(index, now_ts=NOW + 60)
    assert later[("vi", None)] == ["later", "now"]


def test_the_first_use_of_an_id_wins_by_path_then_line_and_the_others_are_reported(index):
    index.update([file_scan("articles/b.jsonl", [rec("same", 50), rec("x", 1)]),
                  file_scan("articles/a.jsonl", [rec("other", 2), rec("same", 40)])], full=True)
    sel, feeds = chosen(index)
    assert feeds[("vi", None)] == ["same", "other", "x"]
    assert [c.ts for c in sel.feeds[("vi", None)]][:1] == [40]      # a.jsonl:2, not b.jsonl:1
    assert [str(p) for p in sel.problems] == [
        'articles/b.jsonl:1: field "id": "same" is already used by articles/a.jsonl:2 '
        "(expected an id unique across the site; the first record was kept)"]


def test_duplicates_follow_an_incremental_change(index):
    index.update([file_scan("articles/a.jsonl", [rec("one", 1)]), file_scan("articles/b.jsonl", [rec("two", 2)])],
                 full=True)
    assert chosen(index)[0].problems == []
    index.update([file_scan("articles/b.jsonl", [rec("one", 3)])])             # b now repeats a's id
    sel, feeds = chosen(index)
    assert feeds[("vi", None)] == ["one"] and len(sel.problems) == 1
    index.update([], removed=["articles/a.jsonl"])                             # a gone: b's copy is the first
    sel, feeds = chosen(index)
    assert feeds[("vi", None)] == ["one"] and sel.problems == []


def test_category_feeds_only_when_on(index):
    index.update([file_scan("articles/a.jsonl", [rec("a", 1, cats=["Kinh tế"]), rec("b", 2)])], full=True)
    _, feeds = chosen(index)
    assert feeds[("vi", "Kinh tế")] == ["a"]
    _, off = chosen(index, category_feeds=False)
    assert ("vi", "Kinh tế") not in off


def test_a_file_whose_unkept_records_could_enter_a_feed_is_starved(index):
    # b.jsonl kept only its newest candidates (down to ts 50); duplicates push the feed below that.
    index.update([file_scan("articles/a.jsonl", [rec("p", 90), rec("q", 80), rec("r", 70)]),
                  file_scan("articles/b.jsonl", [rec("p", 60), rec("q", 55), rec("r", 50)],
                            cut={("vi", ""): (50, "r")})], full=True)
    sel, _ = chosen(index, max_items=5)
    assert sel.starved == {index.fid("articles/b.jsonl")}
    enough, _ = chosen(index, max_items=3)
    assert enough.starved == set()                           # the picks all rank above b's floor


def test_translation_links_point_at_the_newest_published_version_per_language(index):
    index.update([file_scan("articles/a.jsonl", [
        rec("vi-1", 10, key="k"), rec("en-old", 5, "en", key="k"), rec("en-new", 8, "en", key="k"),
        rec("en-draft", 9, "en", key="k", draft=True), rec("en-later", NOW + 1, "en", key="k")])], full=True)
    sel, _ = chosen(index)
    best = index.translations({"k"}, sel.losers, NOW)
    assert {lang: c.id for lang, c in best["k"].items()} == {"vi": "vi-1", "en": "en-new"}
    assert index.translations(set(), sel.losers, NOW) == {}


@pytest.mark.parametrize("seed", range(5))
def test_feeds_and_next_due_agree_with_a_pass_over_every_candidate(index, seed):
    """The index finds its feeds and the next scheduled record with a few seeks per feed; the
    answers are those of one aggregate over every candidate, whatever the languages, categories
    (the empty one, prefixes of each other) and times."""
    import random
    rng = random.Random(seed)
    cats = ["A", "AB", "B", "Thời sự", "Z"]
    records = [rec(f"r{n}", NOW + rng.randint(-500, 500), lang=rng.choice(["en", "vi", "vi-x", "zh"]),
                   cats=rng.sample(cats, rng.randint(0, 3))) for n in range(rng.randint(0, 60))]
    index.update([file_scan("articles/a.jsonl", records)], full=True)
    db = index.db
    for now in (NOW - 600, NOW - 1, NOW, NOW + 250, NOW + 600):
        assert index.feeds(now) == [tuple(row) for row in db.execute(
            "SELECT lang, cat FROM cands WHERE ts <= ? GROUP BY lang, cat ORDER BY lang, cat", (now,))]
        assert index.next_due(now) == db.execute("SELECT min(ts) FROM cands WHERE ts > ?", (now,)).fetchone()[0]

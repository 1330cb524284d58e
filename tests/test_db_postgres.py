"""Records from a real PostgreSQL: the selection per feed, translations, schedules, every row for
check, and the record rules' errors located as TABLE:ID. The cluster is the test run's throwaway one
(conftest.postgres_server); each test gets a database of its own."""
from __future__ import annotations

import dataclasses

import random
from urllib.parse import unquote
import unicodedata
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

import dbhelp
from dbhelp import VN, chosen, load_typed, reference, sample_records, utc

from feedpub.database import open_source, parse_source
from feedpub.errors import SourceError
from dbhelp import validate_record

NOW = utc(2026, 11, 29, 12)


def open_db(db, *, tz=VN, order="dmy", category_feeds=True, url=None, **keys):
    keys.setdefault("table", "feed_articles")
    cfg = parse_source({"url": url or db.reader_url, **keys}, dbhelp.ROOT)
    return open_source(cfg, tz=tz, date_order=order, category_feeds=category_feeds)


def validate(rec, tz=VN, order="dmy"):
    return validate_record(rec.record, rec.source, rec.line, languages=dbhelp.LANGUAGES, base_url=dbhelp.BASE_URL,
                           tz=tz, order=order)


# --- the selection ---------------------------------------------------------------------------------


@pytest.mark.parametrize("max_items,extra", [(3, 0), (2, 2), (50, 0)])
def test_sample_site_selection_is_the_file_rule(pg, max_items, extra):
    records = sample_records()
    load_typed(pg, records)
    with open_db(pg) as src:
        assert src.mode == "sql" and src.warnings == []
        selection = src.select(["vi", "en"], max_items, NOW, extra)
    assert chosen(selection) == reference(records, need=max_items + extra, now=NOW)
    for key, picks in selection.feeds.items():
        assert all(p.location == f"feed_articles:{p.id}" for p in picks)
        assert (key in selection.exhausted) == (len(reference(records, need=10**6, now=NOW)[key]) <= len(picks))


def test_selection_matches_the_built_language_feeds(pg, site, tmp_path):
    """The same records as files, built by feedpub itself: each language feed holds the same items."""
    import json
    import feedpub
    from conftest import NOW as BUILD_NOW
    feedpub.build(site, tmp_path / "out", now=BUILD_NOW)
    load_typed(pg, sample_records())
    with open_db(pg) as src:
        selection = src.select(["vi", "en"], 50, BUILD_NOW)
    for lang in ("vi", "en"):
        feed = json.loads((tmp_path / "out" / lang / "feed.json").read_text(encoding="utf-8"))
        built = [item["id"].rsplit("/", 1)[1] for item in feed["items"]]
        assert [p.id for p in selection.feeds[(lang, None)]] == [unquote(i)
                                                              for i in built]


def _synthetic(seed: int, count: int, tz=VN, naive=False) -> list[dict]:
    """Records built to stress the ranking: tied instants, categories written in several ways
    (decomposed, spaced), drafts, scheduled rows, translations."""
    rng = random.Random(seed)
    base = datetime(2026, 3, 1, 8, 0)
    moments = [base + timedelta(minutes=rng.choice([0, 0, 5, 60, 61, 600]) * i) for i in range(count // 3 + 1)]
    names = ["Chính trị", "Kinh tế", "Đời sống", "Thể thao", "Văn hóa"]
    written = {n: [n, unicodedata.normalize("NFD", n), f" {n.replace(' ', '  ')} "] for n in names}
    records = []
    for i in range(count):
        when = rng.choice(moments)
        cats = rng.sample(names, rng.choice([0, 1, 1, 2, 3]))
        published = when.isoformat() if naive else when.replace(tzinfo=tz).isoformat()
        records.append({
            "id": rng.choice([f"r{i:04d}", f"R-{i}", f"{i}"]), "lang": rng.choice(["vi", "en", "vi"]),
            "title": f"Bài {i}", "url": f"/a/{i}", "published": published,
            "categories": [rng.choice(written[c]) for c in cats],
            "translation_key": f"story-{i // 2}" if i % 3 else None, "draft": rng.random() < 0.08,
        })
    # a rare category whose rows are all old, and one only a scheduled row holds
    records.append({"id": "old-1", "lang": "vi", "title": "Cũ", "url": "/old/1", "published": "2018-01-01T00:00:00+07:00",
                    "categories": ["Lưu trữ"]})
    records.append({"id": "soon-1", "lang": "vi", "title": "Sắp", "url": "/soon/1", "published": "2027-01-01T00:00:00+07:00",
                    "categories": ["Sắp ra mắt"]})
    return records


@pytest.mark.parametrize("pool,need", [(4, 3), (12, 5), (2000, 5), (7, 1)])
def test_synthetic_selection_is_exact(pg, monkeypatch, pool, need):
    """Ties at every LIMIT's edge, categories short in the pool, categories only old rows hold:
    the database's choice is exactly the record rules' choice."""
    from feedpub.database import sqlselect
    monkeypatch.setattr(sqlselect, "POOL", pool)
    records = _synthetic(seed=pool * 31 + need, count=240)
    load_typed(pg, records)
    now = utc(2026, 3, 9)
    with open_db(pg) as src:
        selection = src.select(["vi", "en"], need, now)
    expected = reference(records, need=need, now=now)
    assert chosen(selection) == expected
    assert ("vi", "Lưu trữ") in selection.feeds and ("vi", "Sắp ra mắt") not in selection.feeds


def test_categories_listed_without_the_loose_index_scan(pg, monkeypatch):
    """Where the database would read the whole table to hop between categories, one DISTINCT
    query lists them instead: the same feeds."""
    from feedpub.database import dialects, sqlselect
    monkeypatch.setattr(sqlselect, "POOL", 5)
    monkeypatch.setattr(dialects, "BIG_RELATION_PAGES", 0)
    records = _synthetic(seed=7, count=120)
    load_typed(pg, records)
    now = utc(2026, 3, 9)
    with open_db(pg) as src:
        assert chosen(src.select(["vi", "en"], 4, now)) == reference(records, need=4, now=now)


def test_category_feeds_off_reads_only_language_feeds(pg):
    records = _synthetic(seed=3, count=60)
    load_typed(pg, records)
    now = utc(2026, 3, 9)
    with open_db(pg, category_feeds=False) as src:
        selection = src.select(["vi", "en"], 5, now)
    assert set(selection.feeds) == {("vi", None), ("en", None)}
    assert chosen(selection) == reference(records, need=5, now=now, categories=False)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Asia/Ho_Chi_Minh"])
def test_timestamps_without_zone_are_site_wall_time(pg, zone):
    """A `timestamp` column is wall time in the site zone, as an ISO date without offset in a record
    file: around a clock change the order of wall times and instants differ, and the instants win."""
    tz = ZoneInfo(zone)
    pg.execute(dbhelp.PG_TYPED.format(name="feed_articles").replace("published timestamptz", "published timestamp"))
    rows, records = [], []
    fall = {"Europe/Berlin": datetime(2026, 10, 25, 1, 0), "America/New_York": datetime(2026, 11, 1, 0, 0),
            "Asia/Ho_Chi_Minh": datetime(1975, 6, 12, 22, 0)}[zone]
    spring = {"Europe/Berlin": datetime(2026, 3, 29, 1, 0), "America/New_York": datetime(2026, 3, 8, 1, 0),
              "Asia/Ho_Chi_Minh": datetime(1959, 12, 31, 22, 0)}[zone]
    for n in range(60):
        around = fall if n % 2 else spring
        wall = around + timedelta(minutes=7 * (n // 2))
        record = {"id": f"w{n:02d}", "lang": "vi", "title": "t", "url": f"/w/{n}", "published": wall.isoformat(),
                  "categories": ["Giờ"]}
        records.append(record)
        rows.append({**{f: None for f in dbhelp.FIELDS}, **record, "categories": ["Giờ"], "draft": False,
                     "published": wall})
    pg.execute(dbhelp.insert_sql("feed_articles", dbhelp.PG_TYPED_CASTS), rows)
    pg.grant("feed_articles")
    for now in (utc(2026, 11, 29), (fall + timedelta(minutes=70)).replace(tzinfo=tz), utc(2026, 3, 29, 1, 30)):
        with open_db(pg, tz=tz) as src:
            for need in (3, 8):
                assert chosen(src.select(["vi"], need, now)) == reference(records, need=need, now=now, tz=tz,
                                                                         languages={"vi": None})


@pytest.mark.parametrize("column,value", [("bigint", 1764400000), ("date", "2026-11-29"),
                                          ("numeric", 1764400000.5)])
def test_other_typed_date_columns(pg, column, value):
    pg.execute(dbhelp.PG_TYPED.format(name="feed_articles").replace("published timestamptz", f"published {column}"))
    rows = [{**{f: None for f in dbhelp.FIELDS}, "id": f"n{i}", "lang": "en", "title": "t", "url": "/n",
             "published": value if i == 0 else (value if isinstance(value, str) else value - i * 3600),
             "draft": False} for i in range(4)]
    pg.execute(dbhelp.insert_sql("feed_articles", {"published": column, **dbhelp.PG_TYPED_CASTS}), rows)
    pg.grant("feed_articles")
    with open_db(pg) as src:
        assert src.mode == "sql"
        selection = src.select(["en"], 2, utc(2027, 1, 1))
        records = {r.line: r.record for r in src.rows()}
    assert chosen(selection)[("en", None)] == reference(list(records.values()), need=2, now=utc(2027, 1, 1),
                                                        languages={"en": None})[("en", None)]


# --- text dates: every shape, streamed ---------------------------------------------------------------


@pytest.mark.parametrize("order", ["dmy", "mdy"])
def test_text_dates_are_read_like_files_and_streamed(pg, order):
    records = sample_records()
    if order == "mdy":
        records = [r for r in records if _readable(r, order)]
    pg.execute(dbhelp.PG_TEXT.format(name="feed_articles"))
    pg.execute(dbhelp.insert_sql("feed_articles"), [dbhelp.text_row(r) for r in records])
    pg.grant("feed_articles")
    with open_db(pg, order=order) as src:
        assert src.mode == "stream"
        selection = src.select(["vi", "en"], 4, NOW)
        assert len(src.warnings) == 1 and "published (published) is text" in src.warnings[0]
        assert "every row" in src.warnings[0]
        explained = src.explain()
    assert chosen(selection) == reference(records, need=4, now=NOW, order=order)
    assert any("ranks them in Python" in line for line in explained)


def _readable(record, order):
    """Valid when numeric dates are read month first (the selection ranks by published only; a
    record the rules reject for another field is the integrator's to drop)."""
    article, _, _ = validate_record(record, "x", 1, languages=dbhelp.LANGUAGES, base_url=dbhelp.BASE_URL, tz=VN,
                                    order=order)
    return article is not None


# --- translations and schedules ---------------------------------------------------------------------


def _story(ident, lang, published, key, **more):
    return {"id": ident, "lang": lang, "title": f"Title {ident}", "url": f"/{ident}", "published": published,
            "translation_key": key, **more}


def test_translations_are_the_newest_published_version_per_language(pg):
    records = [
        _story("vi-1", "vi", "2026-11-01T08:00:00+07:00", "k1"),
        _story("en-1", "en", "2026-11-01T09:00:00+07:00", "k1"),
        _story("en-1b", "en", "2026-11-02T09:00:00+07:00", "k1"),              # newer English version wins
        _story("en-1c", "en", "2026-11-03T09:00:00+07:00", "k1", draft=True),  # a draft never does
        _story("en-1d", "en", "2026-12-24T09:00:00+07:00", "k1"),              # nor a scheduled one
        _story("vi-2", "vi", "2026-11-05T08:00:00+07:00", "k2"),
        _story("en-3", "en", "2026-11-05T08:00:00+07:00", "k3"),
    ]
    load_typed(pg, records)
    with open_db(pg) as src:
        versions = src.translations(["k1", "k2", "missing"], NOW)
    assert {k: {lang: p.id for lang, p in v.items()} for k, v in versions.items()} == {
        "k1": {"vi": "vi-1", "en": "en-1b"}, "k2": {"vi": "vi-2"}}


def test_next_due_is_the_earliest_scheduled_row(pg):
    records = [_story("a", "vi", "2026-11-01T08:00:00+07:00", None),
               _story("b", "vi", "2026-12-01T08:00:00+07:00", None, draft=True),
               _story("c", "en", "2026-12-05T08:00:00+07:00", None),
               _story("d", "vi", "2026-12-03T08:00:00+07:00", None)]
    load_typed(pg, records)
    with open_db(pg) as src:
        src.select(["vi", "en"], 5, NOW)
        assert src.next_due(NOW) == datetime(2026, 12, 3, 1, tzinfo=timezone.utc)
        assert src.next_due(utc(2026, 12, 4)) == datetime(2026, 12, 5, 1, tzinfo=timezone.utc)
        assert src.next_due(utc(2027, 1, 1)) is None
        later = src.select(["vi", "en"], 5, utc(2026, 12, 4))
    assert [p.id for p in later.feeds[("vi", None)]] == ["d", "a"]


# --- every row, for check ---------------------------------------------------------------------------


def test_rows_judge_every_row_and_locate_problems(pg):
    pg.execute(dbhelp.PG_TEXT.format(name="feed_articles"))
    good = _story("vi-ok", "vi", "02/12/2021 - 23:30", None)
    rows = [dbhelp.text_row(r) for r in (
        good,
        _story("vi-bad-date", "vi", "31/02/2021 - 23:30", None),
        _story(None, "vi", "02/12/2021 - 23:30", None),
        _story("vi-ok", "vi", "03/12/2021 - 23:30", None),
        _story("vi-cats", "vi", "03/12/2021 - 23:30", None, categories='["ok", 3]'),
    )]
    pg.execute(dbhelp.insert_sql("feed_articles"), rows)
    pg.grant("feed_articles")
    with open_db(pg) as src:
        seen = [dataclasses.replace(rec, line=rec.line or f"row {src.row_number(rec.key)}") for rec in src.rows()]
        selection = src.select(["vi"], 10, NOW)
    assert len(seen) == 5
    lines = {}
    for rec in seen:
        article, errors, _ = validate(rec)
        lines[rec.line] = [str(e) for e in errors]
    assert lines["vi-bad-date"] == ['feed_articles:vi-bad-date: field "published": "31/02/2021 - 23:30" is not a '
                                    'valid date: day 31 is out of range for February 2021 (expected DD/MM/YYYY '
                                    '[HH:MM])']
    assert lines["vi-cats"] == ['feed_articles:vi-cats: field "categories": contains the number 3 (expected a list '
                                'of non-empty strings)']
    assert lines["vi-ok"] == []
    assert sorted(rec.line for rec in seen) == ["row 5", "vi-bad-date", "vi-cats", "vi-ok", "vi-ok"]
    assert lines["row 5"] == ['feed_articles:row 5: field "id": missing (expected a non-empty string, unique across '
                              'the site)']                  # PostgreSQL orders a NULL id after every other
    with open_db(pg) as src:
        assert (src.row_number(None), src.row_number("vi-bad-date"), src.row_number("vi-ok")) == (5, 1, 3)
    assert [p.id for p in selection.feeds[("vi", None)]].count("vi-bad-date") == 0


def test_infinite_and_ancient_dates_are_one_rows_error(pg):
    load_typed(pg, [_story("fine", "en", "2026-11-01T08:00:00+07:00", None)])
    pg.execute("INSERT INTO feed_articles (id, lang, title, url, published) VALUES "
               "('inf', 'en', 't', '/i', 'infinity'), ('bc', 'en', 't', '/b', '0044-03-15 12:00:00+00 BC')")
    with open_db(pg) as src:
        errors = {rec.line: [str(e) for e in validate(rec)[1]] for rec in src.rows()}
        selection = src.select(["en"], 5, NOW)
    assert errors["fine"] == []
    assert errors["inf"][0].startswith('feed_articles:inf: field "published": "infinity" is not a valid date')
    assert errors["bc"][0].startswith('feed_articles:bc: field "published":')
    assert [p.id for p in selection.feeds[("en", None)]] == ["fine"]


def test_load_gives_records_the_rules_accept(pg):
    records = sample_records()
    load_typed(pg, records)
    with open_db(pg) as src:
        selection = src.select(["vi", "en"], 50, NOW)
        loaded = src.load(selection.picks())
    by_id = {r["id"]: r for r in records}
    assert set(loaded) == {p.id for p in selection.picks()}
    for ident, rec in loaded.items():
        article, errors, _ = validate(rec)
        assert errors == [] and article.id == ident
        expected, _, _ = validate_record(by_id[ident], "x", 1, languages=dbhelp.LANGUAGES, base_url=dbhelp.BASE_URL,
                                         tz=VN)
        for name in ("title", "url", "published", "updated", "summary", "content", "author", "categories", "image",
                     "translation_key"):
            assert getattr(article, name) == getattr(expected, name), name


# --- configuration against the schema ----------------------------------------------------------------


def test_columns_renamed_and_integer_ids(pg):
    pg.execute("CREATE TABLE cms_posts (post_id bigint PRIMARY KEY, language varchar(5), headline text, link text,"
               " created_at timestamptz, status_draft smallint, story bigint)")
    pg.execute("INSERT INTO cms_posts VALUES (7, 'vi', 'Bảy', '/7', '2026-11-01 08:00+07', 0, 70),"
               " (8, 'vi', 'Tám', '/8', '2026-11-02 08:00+07', 1, 80), (9, 'en', 'Nine', '/9', '2026-11-03 08:00+07', 0, 70)")
    pg.grant("cms_posts")
    with open_db(pg, table="cms_posts", columns={"id": "post_id", "lang": "language", "title": "headline",
                                                 "url": "link", "published": "created_at", "draft": "status_draft",
                                                 "translation_key": "story"}) as src:
        selection = src.select(["vi", "en"], 5, NOW)
        versions = src.translations(selection.translation_keys(), NOW)
        records = src.load(selection.picks())
    assert chosen(selection) == {("vi", None): ["7"], ("en", None): ["9"]}
    assert {k: sorted(v) for k, v in versions.items()} == {"70": ["en", "vi"]}
    assert records["7"].location == "cms_posts:7" and records["7"].record["id"] == "7"
    assert validate(records["9"])[0].translation_key == "70"


def test_missing_columns_and_tables_are_one_clear_error(pg):
    pg.execute("CREATE TABLE t (id text, lang text, title text)")
    pg.grant("t")
    with pytest.raises(SourceError) as info:
        open_db(pg, table="t")
    assert str(info.value).startswith('t: no column "url", "published" (expected the record fields as columns')
    with pytest.raises(SourceError) as info:
        open_db(pg, table="t", columns={"url": "title", "published": "created"})
    assert '"created" (published)' in str(info.value)
    with pytest.raises(SourceError) as info:
        open_db(pg, table="nowhere")
    assert str(info.value).startswith('nowhere: cannot read the table: relation "nowhere" does not exist')
    pg.execute("CREATE TABLE secret (id text)")
    with pytest.raises(SourceError) as info:
        open_db(pg, table="secret")
    assert "permission denied" in str(info.value)


def test_a_query_source_is_located_as_query(pg):
    load_typed(pg, [_story("q1", "vi", "2026-11-01T08:00:00+07:00", None),
                    _story("q2", "vi", "2026-11-02T08:00:00+07:00", None, draft=True)])
    query = "SELECT id, lang, upper(title) AS title, url, published, draft FROM feed_articles;"
    with open_db(pg, table=None, query=query) as src:
        selection = src.select(["vi"], 5, NOW)
        records = src.load(selection.picks())
    assert [p.location for p in selection.feeds[("vi", None)]] == ["query:q1"]
    assert records["q1"].record["title"] == "TITLE Q1"


def test_a_short_category_tries_a_window_then_its_index(pg, monkeypatch):
    """A category the pool shows a little of is first looked for in a window just behind the pool;
    when its other rows are all older than the window, its index finds them: still the exact feed."""
    from feedpub.database import sqlselect
    monkeypatch.setattr(sqlselect, "POOL", 10)
    records = [_story(f"n{i:02d}", "vi", f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:00:00+07:00", None,
                      categories=["Thời sự"]) for i in range(40)]
    records += [_story("rare-new", "vi", "2026-11-28T23:00:00+07:00", None, categories=["Hiếm", "Thời sự"])]
    records += [_story(f"rare-old-{i}", "vi", f"2015-03-{1 + i:02d}T08:00:00+07:00", None, categories=["Hiếm"])
                for i in range(12)]
    load_typed(pg, records)
    tried = []
    settle = sqlselect.RankingQuery.settle

    def spy(self, *args, **kwargs):
        result = settle(self, *args, **kwargs)
        tried.append((self.floor is not None, self.materialized, result and result[1]))
        return result

    monkeypatch.setattr(sqlselect.RankingQuery, "settle", spy)
    with open_db(pg) as src:
        selection = src.select(["vi"], 4, NOW)
    assert chosen(selection) == reference(records, need=4, now=NOW, languages={"vi": None})
    assert [p.id for p in selection.feeds[("vi", "Hiếm")]] == ["rare-new", "rare-old-11", "rare-old-10",
                                                             "rare-old-9"]
    assert tried == [(False, False, 10), (True, False, 1), (False, True, 4)]     # pool, window, index


def test_an_id_twice_is_in_a_feed_once_and_reported(pg):
    """A view that joins one article to two rows (two authors, say) gives its id twice."""
    load_typed(pg, [_story("one", "vi", "2026-11-01T08:00:00+07:00", None, categories=["A"]),
                    _story("two", "vi", "2026-11-02T08:00:00+07:00", None, categories=["A"])])
    pg.execute("CREATE VIEW doubled AS SELECT f.* FROM feed_articles f CROSS JOIN (VALUES (1), (2)) n(k) "
               "WHERE f.id = 'two' OR n.k = 1")
    pg.grant("doubled")
    with open_db(pg, table="doubled") as src:
        selection = src.select(["vi"], 5, NOW)
    assert chosen(selection) == {("vi", None): ["two", "one"], ("vi", "A"): ["two", "one"]}
    assert [p.id for p in selection.repeated] == ["two"]

"""Which records a feed carries (feedpub/selection.py): the chooser on its own, then the same records
built from record files, SQLite, PostgreSQL and MariaDB, whose feeds (read back with feedparser) must
carry the same items and the same translation links: ties, drafts, scheduled articles, an invalid
newest translation and a tie across the edge of a feed included."""
from __future__ import annotations

import itertools
import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import feedparser
import pytest

import dbhelp
import feedpub
from conftest import DATA
from dbhelp import VN
from feedpub.selection import Chooser, choose, feeds_of, newest_versions, rank

# --- the chooser --------------------------------------------------------------------------------


class C:
    """A candidate as the suppliers hand it over: a rank and whatever they need to find it again."""

    def __init__(self, ts, ident, tag=""):
        self.ts, self.id, self.tag = ts, ident, tag

    def __repr__(self):
        return f"{self.id}{self.tag}@{self.ts}"


def test_newest_first_by_published_then_id_and_need():
    picked = choose([C(10, "a"), C(30, "b"), C(20, "c"), C(30, "d"), C(5, "e")], 3)
    assert [c.id for c in picked] == ["d", "b", "c"]
    assert [c.id for c in choose([C(1, "x"), C(2, "y")], None)] == ["y", "x"]
    assert choose([C(1, "x")], 0) == []


def test_the_order_given_never_changes_the_choice():
    cands = [C(t, i) for t, i in [(5, "a"), (5, "b"), (5, "c"), (4, "z"), (6, "a0"), (5, "bb")]]
    expected = [c.id for c in sorted(cands, key=lambda c: (c.ts, c.id), reverse=True)[:4]]
    for order in itertools.permutations(cands):
        assert [c.id for c in choose(order, 4)] == expected


def test_equal_ranks_keep_the_first_offered_or_the_greater_order():
    first, second = C(5, "same", "#1"), C(5, "same", "#2")
    assert choose([first, second], 1) == [first]
    chooser = Chooser(1)
    chooser.offer(5, "same", ["f"], "line 9", order=-9)
    chooser.offer(5, "same", ["f"], "line 2", order=-2)         # an earlier line of the same file
    assert chooser.chosen()[0]["f"] == ["line 2"]


def test_drafts_never_and_scheduled_ones_set_next_due():
    chooser = Chooser(5, now_ts=100, keep_scheduled=True)
    chooser.offer(50, "draft", ["f"], "d", draft=True)
    chooser.offer(200, "later", ["f"], "l")
    chooser.offer(150, "sooner", ["f"], "s")
    chooser.offer(100, "now", ["f"], "n")
    assert chooser.chosen()[0] == {"f": ["n"]}
    assert (chooser.next_due, chooser.due) == (150, "s")
    assert [(feed, ident) for feed, _, ident, _ in chooser.scheduled] == [("f", "later"), ("f", "sooner")]


def test_every_feed_of_a_record_and_which_feeds_were_cut():
    assert feeds_of("vi", ("Kinh tế", "Xã hội"), True) == [("vi", None), ("vi", "Kinh tế"), ("vi", "Xã hội")]
    assert feeds_of("vi", ("Kinh tế",), False) == [("vi", None)]
    chooser = Chooser(2)
    for ts, ident, cats in [(1, "a", ["x"]), (2, "b", ["x", "y"]), (3, "c", ["x"])]:
        chooser.offer(ts, ident, feeds_of("vi", cats, True), ident)
    feeds, _ = chooser.chosen()
    assert feeds == {("vi", None): ["c", "b"], ("vi", "x"): ["c", "b"], ("vi", "y"): ["b"]}
    assert chooser.complete() == {("vi", "y")}
    assert chooser.lowest(("vi", "x")) == rank(2, "b")


def test_an_id_once_per_feed_when_unique():
    chooser = Chooser(3, unique=True)
    for ts, ident in [(3, "a"), (2, "a"), (1, "b")]:
        chooser.offer(ts, ident, ["f"], f"{ident}{ts}")
    assert chooser.chosen() == ({"f": ["a3", "b1"]}, ["a2"])


def test_translation_links_point_at_the_newest_eligible_version():
    versions = [("k", "en", C(5, "old")), ("k", "en", C(8, "new")), ("k", "en", C(8, "a-tie")),
                ("k", "en", C(20, "later")), ("k", "vi", C(1, "vi")), ("j", "en", C(2, "j"))]
    best = newest_versions(versions, now_ts=10)
    assert {k: {lang: c.id for lang, c in v.items()} for k, v in best.items()} == {
        "k": {"en": "new", "vi": "vi"}, "j": {"en": "j"}}


# --- every backend chooses the same ---------------------------------------------------------------

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
LATER = NOW + timedelta(days=3)               # the scheduled articles have come due
MAX_ITEMS = 3


def _rec(ident, lang, when, *, cats=None, key=None, **more):
    record = {"id": ident, "lang": lang, "title": f"Bài {ident}", "url": f"/{lang}/{ident}.html",
              "published": when, "summary": f"Tóm tắt {ident}.", "content": f"<p>{ident}</p>"}
    if cats:
        record["categories"] = cats
    if key:
        record["translation_key"] = key
    record.update(more)
    return record


def corpus() -> list[dict]:
    """Ties inside and across a feed's edge, a draft and a scheduled article on top, stories whose newest
    version is invalid, a draft or scheduled, and enough older records to fill every feed."""
    records = [
        # four records at one instant: the feed keeps three of them, by id
        _rec("vi-a", "vi", "20/11/2026 08:00", cats=["Kinh tế"], key="s1"),
        _rec("vi-b", "vi", "20/11/2026 08:00", cats=["Kinh tế"]),
        _rec("vi-c", "vi", "20/11/2026 08:00", cats=["Xã hội"], key="s2"),
        _rec("vi-h", "vi", "20/11/2026 08:00", cats=["Xã hội", "Kinh tế"]),
        _rec("vi-d", "vi", "21/11/2026 08:00", cats=["Kinh tế"], draft=True),           # newest: a draft
        _rec("vi-e", "vi", "30/11/2026 08:00", cats=["Kinh tế"], key="s2"),             # scheduled
        _rec("vi-f", "vi", "19/11/2026 08:00", cats=["Xã hội"], key="s3"),
        _rec("vi-g", "vi", "2026-11-19T01:00:00Z", key="s3"),                           # the same instant as vi-f
        _rec("en-a", "en", "2026-11-18T08:00:00+07:00", key="s1", cats=["Economy"]),
        _rec("en-b", "en", "2026-11-19T08:00:00+07:00", key="s1", url="ftp://example.vn/en-b"),   # invalid
        _rec("en-c", "en", "2026-11-19T10:00:00+07:00", key="s1", draft=True),
        _rec("en-d", "en", "2026-12-01T08:00:00+07:00", key="s1"),                       # scheduled
        _rec("en-e", "en", "2026-11-17T08:00:00+07:00", key="s2", cats=["Economy"]),
        _rec("en-f", "en", "2026-11-17T08:00:00+07:00", key="s3"),
    ]
    for n in range(24):                       # older ones: many at one instant, across a LIMIT's edge
        day = "01/10/2026 08:00" if n % 3 else f"{n + 1:02d}/09/2026 08:00"
        records.append(_rec(f"vi-old-{n:02d}", "vi", day, cats=["Kinh tế", "Xã hội"][: 1 + n % 2]))
        records.append(_rec(f"en-old-{n:02d}", "en", day, cats=["Economy"] if n % 2 else None))
    return records


def reference(records, now: datetime) -> dict:
    """The rule written out plainly: valid, not a draft, published by now, newest max_items by
    (published, id); each story's newest such version per language."""
    from feedpub.records import RecordRules
    rules = RecordRules(dbhelp.LANGUAGES, dbhelp.BASE_URL, VN)
    valid = [a for a in (rules.check(r, "ref", n)[0] for n, r in enumerate(records, 1)) if a is not None]
    live = [a for a in valid if not a.draft and a.published <= now]
    feeds: dict = {}
    for a in live:
        for key in [(a.lang, None)] + [(a.lang, c) for c in a.categories]:
            feeds.setdefault(key, []).append(a)
    result = {}
    for key, arts in feeds.items():
        top = sorted(arts, key=lambda a: (a.published.timestamp(), a.id), reverse=True)[:MAX_ITEMS]
        result[key] = [(a.id, _links(a, live)) for a in top]
    return result


def _links(article, live) -> dict:
    if not article.translation_key:
        return {}
    best = {}
    for other in live:
        if other.translation_key == article.translation_key and other.lang != article.lang:
            held = best.get(other.lang)
            if held is None or (other.published.timestamp(), other.id) > (held.published.timestamp(), held.id):
                best[other.lang] = other
    return {lang: a.id for lang, a in best.items()}


def carried(out: Path) -> dict:
    """Every feed's entries as a feed reader sees them: (record id, {language: linked record id}), keyed
    (language, category name or None); a category feed's title ends with " – " and its category."""
    result = {}
    for atom in sorted(out.rglob("atom.xml")):
        rel = atom.relative_to(out).parts
        parsed = feedparser.parse(atom.read_bytes())
        assert not parsed.bozo, parsed.bozo_exception
        entries = []
        for entry in parsed.entries:
            links = {link.hreflang: link.href.rsplit("/", 1)[1].removesuffix(".html") for link in entry.links
                     if link.get("hreflang") and link.get("title")}           # the translations carry a title
            entries.append((entry.id.rsplit("/id/", 1)[1], links))
        result[(rel[0], parsed.feed.title.rsplit(" – ", 1)[1] if len(rel) > 2 else None)] = entries
    return result


def site_with(tmp_path: Path, source: str | None) -> Path:
    site = Path(shutil.copytree(DATA, tmp_path / "site"))
    shutil.rmtree(site / "articles")
    toml = site / "feedpub.toml"
    text = toml.read_text(encoding="utf-8").replace("max_items = 50", f"max_items = {MAX_ITEMS}")
    toml.write_text(text + (f"\n[source]\n{source}\n" if source else ""), encoding="utf-8")
    return site


def files_site(tmp_path, records, request) -> Path:
    site = site_with(tmp_path, None)
    (site / "articles").mkdir()
    (site / "articles" / "all.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return site


def sqlite_site(tmp_path, records, request) -> Path:
    site = site_with(tmp_path, 'url = "sqlite:///cms.db"\ntable = "feed_articles"')
    dbhelp.sqlite_table(site / "cms.db", records)
    return site


def postgres_site(tmp_path, records, request) -> Path:
    pg = request.getfixturevalue("pg")
    dbhelp.load_typed(pg, records)
    request.getfixturevalue("monkeypatch").setenv("FEEDPUB_TEST_DB", pg.reader_url)
    return site_with(tmp_path, 'url_env = "FEEDPUB_TEST_DB"\ntable = "feed_articles"')


def postgres_small_pool_site(tmp_path, records, request) -> Path:
    from feedpub.database import sqlselect
    request.getfixturevalue("monkeypatch").setattr(sqlselect, "POOL", 4)   # categories found by windows
    return postgres_site(tmp_path, records, request)


def postgres_text_site(tmp_path, records, request) -> Path:
    pg = request.getfixturevalue("pg")
    pg.execute(dbhelp.PG_TEXT.format(name="feed_articles"))
    pg.execute(dbhelp.insert_sql("feed_articles"), [dbhelp.text_row(r) for r in records])
    pg.grant("feed_articles")
    request.getfixturevalue("monkeypatch").setenv("FEEDPUB_TEST_DB", pg.reader_url)
    return site_with(tmp_path, 'url_env = "FEEDPUB_TEST_DB"\ntable = "feed_articles"')


_maria_tables = itertools.count(1)


def mariadb_site(tmp_path, records, request) -> Path:
    import sqlalchemy as sa
    server = request.getfixturevalue("mariadb_server")
    table = f"selection_{next(_maria_tables)}"
    engine = sa.create_engine(server.url(), poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"""CREATE TABLE {table} (id VARCHAR(100) PRIMARY KEY, lang VARCHAR(8) NOT NULL,
            title TEXT, url TEXT, published DATETIME, updated DATETIME, summary TEXT, content MEDIUMTEXT,
            author TEXT, categories JSON, image JSON, translation_key VARCHAR(100),
            draft BOOLEAN NOT NULL DEFAULT 0, INDEX (lang, published), INDEX (translation_key))""")
        rows = []
        for record in records:
            row = dbhelp.text_row(record)
            row["published"] = dbhelp.aware(record["published"]).astimezone(VN).replace(tzinfo=None)
            row["updated"] = None
            row["draft"] = bool(record.get("draft"))
            rows.append(row)
        conn.execute(sa.text(dbhelp.insert_sql(table)), rows)
    engine.dispose()
    return site_with(tmp_path, f'url = "{server.url()}"\ntable = "{table}"')


BACKENDS = {"files": files_site, "sqlite": sqlite_site, "postgresql": postgres_site,
            "postgresql-windows": postgres_small_pool_site, "postgresql-text": postgres_text_site,
            "mariadb": mariadb_site}


@pytest.mark.parametrize("backend", list(BACKENDS))
def test_every_backend_carries_the_same_records(tmp_path, request, backend):
    records = corpus()
    site = BACKENDS[backend](tmp_path, records, request)
    invalid = next(n for n, r in enumerate(records, 1) if r["id"] == "en-b")
    where = f"articles/all.jsonl:{invalid}" if backend == "files" else ":en-b"
    for when in (NOW, LATER):
        out = tmp_path / f"out-{when:%d}"
        report = feedpub.build(site, out, now=when, state_path=tmp_path / f"state-{when:%d}.sqlite")
        assert carried(out) == reference(records, when)
        assert [e.split(": field")[0] for e in report.errors] == [e.split(": field")[0] for e in report.errors
                                                                   if e.split(": field")[0].endswith(where)]
        assert len(report.errors) == 1 and report.errors[0].endswith(
            'field "url": "ftp://example.vn/en-b" is not an http(s) URL (expected an absolute http(s) URL or a '
            'path starting with /)')


def test_the_reference_sees_what_the_corpus_was_made_for():
    """The corpus holds what the test above is about: a tie cut at a feed's edge, links that skip an
    invalid, a draft and a scheduled version, and a scheduled article that appears later."""
    now, later = reference(corpus(), NOW), reference(corpus(), LATER)
    assert [i for i, _ in now[("vi", None)]] == ["vi-h", "vi-c", "vi-b"]             # vi-a: same instant, cut
    assert dict(now[("vi", "Kinh tế")])["vi-b"] == {}
    assert dict(now[("en", None)])["en-a"] == {"vi": "vi-a"}
    assert dict(now[("vi", "Xã hội")])["vi-c"] == {"en": "en-e"}
    assert [i for i, _ in later[("vi", None)]][0] == "vi-e"
    assert dict(later[("en", None)])["en-d"] == {"vi": "vi-a"}

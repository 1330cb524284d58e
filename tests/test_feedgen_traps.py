"""feedgen 1.0.0's traps, one test each, generated from feedgen_traps.TRAPS.

Each test shows the trap in bare feedgen, then shows feedpub's feeds clear of it. When a feedgen
upgrade fixes a trap, its test fails on the first assertion and says that the workaround may go;
when a workaround breaks, it fails on the second. A trap without a test (or a test without a trap)
fails test_every_trap_has_its_test.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from feedgen.feed import FeedGenerator
from lxml import etree

import feedpub
from conftest import write_jsonl
from feedpub.feedgen_traps import TRAPS

ATOM = "{http://www.w3.org/2005/Atom}"
DC_CREATOR = "{http://purl.org/dc/elements/1.1/}creator"
VN = timezone(timedelta(hours=7))
TOML = """[site]
base_url = "https://news.example.vn"
hub = "https://hub.example.vn/"
category_feeds = false

[languages.vi]
title = "Tin Ví Dụ"
description = "Tin mới nhất"

[languages.en]
title = "Example News"
description = "The latest news"
"""
RECORDS = [
    {"id": "vi-1", "lang": "vi", "title": "Giá < 5 & tăng", "url": "/vi/gia",
     "published": "2021-12-02T23:30:00.5+07:00", "updated": "03/12/2021 08:00", "content": "<p>Nội dung.</p>", "author": "Thanh Ngân",
     "image": {"url": "/img/gia.jpg"}, "translation_key": "gia"},
    {"id": "vi-2", "lang": "vi", "title": "Tin cũ", "url": "/vi/cu", "published": "01/12/2021 - 07:00",
     "content": "<p>Cũ.</p>"},
    {"id": "en-1", "lang": "en", "title": "Prices up", "url": "/en/prices", "published": "02/12/2021 - 22:00",
     "content": "<p>Body.</p>", "translation_key": "gia"},
]


class Ours:
    """feedpub's Vietnamese feeds of RECORDS, parsed."""

    def __init__(self, out: Path):
        self.rss_bytes = (out / "vi" / "rss.xml").read_bytes()
        self.channel = etree.fromstring(self.rss_bytes).find("channel")
        self.atom = etree.fromstring((out / "vi" / "atom.xml").read_bytes())
        self.json = json.loads((out / "vi" / "feed.json").read_text(encoding="utf-8"))

    def item(self, ident: str) -> etree._Element:
        return next(i for i in self.channel.iter("item") if i.findtext("guid").endswith("/" + ident))

    def entry(self, ident: str) -> etree._Element:
        return next(e for e in self.atom.iter(f"{ATOM}entry") if e.findtext(f"{ATOM}id").endswith("/" + ident))


@pytest.fixture(scope="module")
def ours(tmp_path_factory) -> Ours:
    root = tmp_path_factory.mktemp("traps")
    site = root / "site"
    (site / "articles").mkdir(parents=True)
    (site / "feedpub.toml").write_text(TOML, encoding="utf-8")
    write_jsonl(site / "articles" / "a.jsonl", *RECORDS)
    report = feedpub.build(site, root / "out", now=datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert report.errors == [] and report.warnings == []
    return Ours(root / "out")


def bare(*links: dict) -> FeedGenerator:
    """A feed made with feedgen alone, as its documentation shows."""
    fg = FeedGenerator()
    fg.id("https://x.vn/")
    fg.title("T")
    fg.description("D")
    for link in links or ({"href": "https://x.vn/", "rel": "alternate"},):
        fg.link(**link)
    return fg


def bare_entry(fg: FeedGenerator, n: int = 1, **fields):
    fe = fg.add_entry()
    fe.id(f"https://x.vn/id/{n}")
    fe.title(fields.pop("title", f"Bài {n}"))
    fe.link(**fields.pop("link", {"href": f"https://x.vn/{n}"}))
    fe.description("d")
    for name, value in fields.items():       # enclosure=(url, length, type), author={"name": ...}, published=dt
        setter = getattr(fe, name)
        if isinstance(value, tuple):
            setter(*value)
        elif isinstance(value, dict):
            setter(**value)
        else:
            setter(value)
    return fe


def gone(trap: str) -> str:
    return f"feedgen no longer falls into {trap!r}: its workaround in feedgen_traps may go"


PROBES: dict[str, Callable[[Ours], None]] = {}


def probe(name: str):
    def register(function):
        PROBES[name] = function
        return function
    return register


@probe("atom-link-attributes")
def _(ours: Ours) -> None:
    fg = bare()
    bare_entry(fg, link={"href": "https://x.vn/1", "rel": "alternate", "type": "text/html", "hreflang": "en"})
    link = etree.fromstring(fg.atom_str()).find(f"{ATOM}entry/{ATOM}link")
    assert link.get("hreflang") is None and link.get("type") is None, gone("atom-link-attributes")
    links = [(link.get("rel"), link.get("hreflang"), link.get("type"))
             for link in ours.entry("vi-1").iter(f"{ATOM}link")]
    assert links[:2] == [("alternate", "vi", "text/html"), ("alternate", "en", "text/html")], links


@probe("add-entry-prepends")
def _(ours: Ours) -> None:
    fg = bare()
    bare_entry(fg, 1)
    bare_entry(fg, 2)
    ids = [e.findtext(f"{ATOM}id") for e in etree.fromstring(fg.atom_str()).iter(f"{ATOM}entry")]
    assert ids == ["https://x.vn/id/2", "https://x.vn/id/1"], gone("add-entry-prepends")
    assert [e.findtext(f"{ATOM}id").rsplit("/", 1)[1] for e in ours.atom.iter(f"{ATOM}entry")] == ["vi-1", "vi-2"]
    assert [i.findtext("guid").rsplit("/", 1)[1] for i in ours.channel.iter("item")] == ["vi-1", "vi-2"]


@probe("dates-default-to-now")
def _(ours: Ours) -> None:
    before = datetime.now(timezone.utc)
    fg = bare()
    bare_entry(fg)
    atom = etree.fromstring(fg.atom_str())
    stamps = [datetime.fromisoformat(atom.findtext(f"{ATOM}updated")),
              datetime.fromisoformat(atom.findtext(f"{ATOM}entry/{ATOM}updated"))]
    assert all(abs(stamp - before) < timedelta(minutes=5) for stamp in stamps), gone("dates-default-to-now")
    assert ours.atom.findtext(f"{ATOM}updated") == "2021-12-03T08:00:00+07:00"     # the newest update, not now
    assert ours.channel.findtext("lastBuildDate") == "Fri, 03 Dec 2021 08:00:00 +0700"
    assert ours.entry("vi-2").findtext(f"{ATOM}updated") == "2021-12-01T07:00:00+07:00"


@probe("date-strings")
def _(ours: Ours) -> None:
    fg = bare()
    bare_entry(fg, published=datetime(2021, 12, 2, 23, 30, 0, 500000, tzinfo=VN))
    published = etree.fromstring(fg.atom_str()).findtext(f"{ATOM}entry/{ATOM}published")
    assert published == "2021-12-02T23:30:00.500000+07:00", gone("date-strings")
    item = next(i for i in ours.json["items"] if i["id"].endswith("/vi-1"))
    assert ours.entry("vi-1").findtext(f"{ATOM}published") == item["date_published"] == "2021-12-02T23:30:00+07:00"
    assert ours.item("vi-1").findtext("pubDate") == "Thu, 02 Dec 2021 23:30:00 +0700"


@probe("rss-link-is-last-link")
def _(ours: Ours) -> None:
    fg = bare({"href": "https://x.vn/", "rel": "alternate"}, {"href": "https://x.vn/rss.xml", "rel": "self"})
    assert etree.fromstring(fg.rss_str()).findtext("channel/link") == "https://x.vn/rss.xml", \
        gone("rss-link-is-last-link")
    assert ours.channel.findtext("link") == "https://news.example.vn/vi/"


@probe("enclosure-length-none")
def _(ours: Ours) -> None:
    fg = bare()
    bare_entry(fg, enclosure=("https://x.vn/a.jpg", None, "image/jpeg"))
    enclosure = etree.fromstring(fg.rss_str()).find("channel/item/enclosure")
    assert enclosure.get("length") == "None", gone("enclosure-length-none")
    assert ours.item("vi-1").find("enclosure").attrib == {
        "url": "https://news.example.vn/img/gia.jpg", "length": "0", "type": "image/jpeg"}


@probe("rss-one-atom-link")
def _(ours: Ours) -> None:
    fg = bare({"href": "https://x.vn/", "rel": "alternate"}, {"href": "https://x.vn/rss.xml", "rel": "self"},
              {"href": "https://hub.x.vn/", "rel": "hub"})
    rels = [link.get("rel") for link in etree.fromstring(fg.rss_str()).iter(f"{ATOM}link")]
    assert rels == ["self"], gone("rss-one-atom-link")
    assert [(link.get("rel"), link.get("href")) for link in ours.channel.iter(f"{ATOM}link")] == [
        ("self", "https://news.example.vn/feeds/vi/rss.xml"), ("hub", "https://hub.example.vn")]


@probe("rss-name-only-author")
def _(ours: Ours) -> None:
    fg = bare()
    bare_entry(fg, author={"name": "Thanh Ngân"})
    item = etree.fromstring(fg.rss_str()).find("channel/item")
    assert item.find("author") is None and "Thanh Ngân" not in etree.tostring(item, encoding="unicode"), \
        gone("rss-name-only-author")
    assert ours.item("vi-1").findtext(DC_CREATOR) == "Thanh Ngân"


@probe("rss-title-escaping")
def _(ours: Ours) -> None:
    fg = bare()
    bare_entry(fg, title="Giá < 5 & tăng")
    assert "<title>Giá &lt; 5 &amp; tăng</title>".encode() in fg.rss_str(), gone("rss-title-escaping")
    assert "<title>Giá &#x3C; 5 &#x26; tăng</title>".encode() in ours.rss_bytes
    assert ours.item("vi-1").findtext("title") == "Giá < 5 & tăng"          # the same text, parsed


@probe("generator-default")
def _(ours: Ours) -> None:
    rss = etree.fromstring(bare().rss_str()).find("channel")
    assert rss.findtext("generator") == "python-feedgen", gone("generator-default")
    assert rss.findtext("docs").startswith("http://"), gone("generator-default")
    assert ours.channel.findtext("generator").startswith("feedpub")
    assert ours.channel.findtext("docs") == "https://www.rssboard.org/rss-specification"
    assert ours.atom.find(f"{ATOM}generator").text == "feedpub"


@pytest.mark.parametrize("trap", TRAPS, ids=[t.name for t in TRAPS])
def test_the_trap_is_in_feedgen_and_not_in_feedpubs_feeds(trap, ours):
    PROBES[trap.name](ours)


def test_every_trap_has_its_test():
    assert sorted(PROBES) == sorted(t.name for t in TRAPS)

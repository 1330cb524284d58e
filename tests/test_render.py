"""The XML we emit, checked element by element: feedgen 1.0.0's traps stay defeated."""
from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from lxml import etree

import feedpub
from conftest import NOW, record, write_jsonl

ATOM = "{http://www.w3.org/2005/Atom}"
NS = {"a": "http://www.w3.org/2005/Atom", "dc": "http://purl.org/dc/elements/1.1/",
      "media": "http://search.yahoo.com/mrss/", "content": "http://purl.org/rss/1.0/modules/content/"}


def build(site, out, **kw):
    report = feedpub.build(site, out, now=NOW, **kw)
    return report


def xml(path):
    return etree.fromstring(path.read_bytes())


def test_atom_entry_links_keep_rel_type_hreflang_and_length(fixture_site, tmp_path):
    build(fixture_site, tmp_path)
    atom = xml(tmp_path / "vi" / "atom.xml")
    entry = next(e for e in atom.iter(f"{ATOM}entry") if e.findtext(f"{ATOM}id").endswith("/vi-bridge"))
    links = [dict(l.attrib) for l in entry.findall(f"{ATOM}link")]
    assert {"href": "https://news.example.vn/images/cau-moi.jpg", "rel": "enclosure", "type": "image/jpeg",
            "length": "54321"} in links
    translation = [l for l in links if l.get("hreflang") == "en"]
    assert len(translation) == 1 and translation[0]["rel"] == "alternate" and translation[0]["type"] == "text/html"
    own = [l for l in links if l.get("hreflang") == "vi"]
    assert len(own) == 1 and own[0]["rel"] == "alternate"


def test_atom_entry_opens_its_own_page_first_and_last(fixture_site, tmp_path):
    """Readers take the first alternate link (or the first link of any kind), or the last alternate:
    both are the entry's own page; translations sit between them, the image after them."""
    build(fixture_site, tmp_path)
    for lang, other in (("vi", "en"), ("en", "vi")):
        for entry in xml(tmp_path / lang / "atom.xml").iter(f"{ATOM}entry"):
            links = [(l.get("rel"), l.get("hreflang"), l.get("href")) for l in entry.findall(f"{ATOM}link")]
            own = links[0][2]
            assert links[0] == ("alternate", lang, own) and f"/{lang}/" in own, links
            alternates = [l for l in links if l[0] == "alternate"]
            assert alternates[-1][2] == own, links
            if entry.findtext(f"{ATOM}id").endswith("-bridge"):
                assert [(rel, hreflang) for rel, hreflang, _ in links] == [
                    ("alternate", lang), ("alternate", other), ("alternate", None), ("enclosure", None)]
            if not any(hreflang == other for _, hreflang, _ in links):
                assert alternates == [links[0]], links          # no translation: one alternate, no repeat
    vi_only = [e for e in xml(tmp_path / "vi" / "atom.xml").iter(f"{ATOM}entry")
               if e.findtext(f"{ATOM}id").endswith("/vi-school")]
    assert [l.get("hreflang") for l in vi_only[0].findall(f"{ATOM}link")] == ["vi"]


def test_rss_item_link_is_the_items_own_url_not_its_translation(fixture_site, tmp_path):
    build(fixture_site, tmp_path)
    rss = xml(tmp_path / "vi" / "rss.xml")
    item = next(i for i in rss.iter("item") if i.findtext("guid").endswith("/vi-bridge"))
    assert item.findtext("link").startswith("https://news.example.vn/vi/")
    assert item.find("guid").get("isPermaLink") == "false"
    assert item.findtext("dc:creator", namespaces=NS)
    media = item.find("media:content", namespaces=NS)
    assert media.get("url") == "https://news.example.vn/images/cau-moi.jpg"
    assert media.findtext("media:description", namespaces=NS)


def test_channel_has_self_link_first_and_home_page_as_link(fixture_site, tmp_path):
    build(fixture_site, tmp_path)
    channel = xml(tmp_path / "vi" / "rss.xml").find("channel")
    assert channel.findtext("link") == "https://news.example.vn/vi/"
    self_link = channel.find("a:link", namespaces=NS)
    assert (self_link.get("rel"), self_link.get("href"), self_link.get("type")) == (
        "self", "https://news.example.vn/feeds/vi/rss.xml", "application/rss+xml")
    assert channel.findtext("language") == "vi"


def test_entries_are_appended_newest_first(fixture_site, tmp_path):
    build(fixture_site, tmp_path)
    guids = [i.findtext("guid").rsplit("/", 1)[1] for i in xml(tmp_path / "vi" / "rss.xml").iter("item")]
    assert guids == ["vi-school", "vi-bridge", "vi-escape"]


def test_an_image_of_unknown_size_is_an_enclosure_of_length_0(fixture_site, tmp_path):
    write_jsonl(fixture_site / "articles" / "img.jsonl",
                record(id="vi-img", published="2023-01-01T08:00:00+07:00",
                       image={"url": "/images/x.png", "caption": "Chú thích"}))
    build(fixture_site, tmp_path)
    rss_bytes = (tmp_path / "vi" / "rss.xml").read_bytes()
    assert b"None" not in rss_bytes and b"None" not in (tmp_path / "vi" / "atom.xml").read_bytes()
    item = xml(tmp_path / "vi" / "rss.xml").find("channel/item")
    assert dict(item.find("enclosure").attrib) == {"url": "https://news.example.vn/images/x.png", "length": "0",
                                                   "type": "image/png"}
    media = item.find("media:content", namespaces=NS)
    assert media.get("type") == "image/png" and media.get("fileSize") is None
    assert media.findtext("media:description", namespaces=NS) == "Chú thích"
    entry = xml(tmp_path / "vi" / "atom.xml").find(f"{ATOM}entry")
    enclosure = [l for l in entry.findall(f"{ATOM}link") if l.get("rel") == "enclosure"]
    assert enclosure[0].get("length") is None and enclosure[0].get("type") == "image/png"


def test_feed_updated_is_the_newest_entry_update_not_now(fixture_site, tmp_path):
    build(fixture_site, tmp_path)
    atom = xml(tmp_path / "vi" / "atom.xml")
    entry_updates = [e.findtext(f"{ATOM}updated") for e in atom.iter(f"{ATOM}entry")]
    assert atom.findtext(f"{ATOM}updated") == max(entry_updates)
    last_build = parsedate_to_datetime(xml(tmp_path / "vi" / "rss.xml").findtext("channel/lastBuildDate"))
    assert last_build == datetime.fromisoformat(max(entry_updates))
    assert last_build.utcoffset() == timedelta(hours=7)


def test_historical_offsets_come_from_the_iana_database(fixture_site, tmp_path):
    write_jsonl(fixture_site / "articles" / "old.jsonl",
                record(id="vi-1970", published="01/01/1970 00:00", title="Năm 1970"),
                record(id="vi-1900", published="01/01/1900 12:00", title="Năm 1900"))
    feedpub.build(fixture_site, tmp_path, now=NOW)
    (fixture_site / "feedpub.toml").write_text(
        (fixture_site / "feedpub.toml").read_text().replace("max_items = 3", "max_items = 20"))
    feedpub.build(fixture_site, tmp_path, now=NOW)
    rss = xml(tmp_path / "vi" / "rss.xml")
    dates = {i.findtext("guid").rsplit("/", 1)[1]: i.findtext("pubDate") for i in rss.iter("item")}
    assert dates["vi-1970"] == "Thu, 01 Jan 1970 00:00:00 +0800"          # South Vietnam 1960–1975
    assert dates["vi-1900"] == "Mon, 01 Jan 1900 04:53:30 +0000"          # +07:06:30 cannot be written
    atom = xml(tmp_path / "vi" / "atom.xml")
    published = {e.findtext(f"{ATOM}id").rsplit("/", 1)[1]: e.findtext(f"{ATOM}published")
                 for e in atom.iter(f"{ATOM}entry")}
    assert published["vi-1970"] == "1970-01-01T00:00:00+08:00"
    assert published["vi-1900"] == "1900-01-01T04:53:30+00:00"


def test_summary_is_plain_text_and_content_is_declared_html(fixture_site, tmp_path):
    write_jsonl(fixture_site / "articles" / "esc.jsonl",
                record(id="vi-esc", published="2023-01-01T08:00:00+07:00", summary="1 < 2 & <b>not bold</b>",
                       content="<p>Đoạn <b>đậm</b></p>"))
    build(fixture_site, tmp_path)
    entry = xml(tmp_path / "vi" / "atom.xml").find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}summary") == "1 < 2 & <b>not bold</b>"
    assert entry.find(f"{ATOM}summary").get("type") in (None, "text")
    assert entry.find(f"{ATOM}content").get("type") == "html"
    assert entry.findtext(f"{ATOM}content") == "<p>Đoạn <b>đậm</b></p>"
    item = xml(tmp_path / "vi" / "rss.xml").find("channel/item")
    assert item.findtext("description") == "1 &lt; 2 &amp; &lt;b&gt;not bold&lt;/b&gt;"   # HTML that shows the text
    assert item.findtext("content:encoded", namespaces=NS) == "<p>Đoạn <b>đậm</b></p>"


def test_generator_does_not_leak_feedgens_version(fixture_site, tmp_path):
    build(fixture_site, tmp_path)
    atom = xml(tmp_path / "vi" / "atom.xml")
    generator = atom.find(f"{ATOM}generator")
    assert generator.text == "feedpub" and generator.get("version") == feedpub.__version__


def test_decomposed_vietnamese_comes_out_composed_and_shares_the_category(fixture_site, tmp_path):
    import unicodedata
    nfd = lambda text: unicodedata.normalize("NFD", text)  # noqa: E731
    write_jsonl(fixture_site / "articles" / "nfd.jsonl",
                record(id="vi-nfd", published="2023-01-01T08:00:00+07:00", title=nfd("Đời sống người dân"),
                       summary=nfd("Tóm tắt"), categories=[nfd("Giáo dục")]),
                record(id="vi-nfc", published="2023-01-02T08:00:00+07:00", title="Giáo dục", categories=["Giáo dục"]))
    feedpub.build(fixture_site, tmp_path, now=NOW)
    entry = next(e for e in xml(tmp_path / "vi" / "atom.xml").iter(f"{ATOM}entry")
                 if e.findtext(f"{ATOM}id").endswith("/vi-nfd"))
    assert entry.findtext(f"{ATOM}title") == "Đời sống người dân"
    assert entry.findtext(f"{ATOM}summary") == "Tóm tắt"
    category = xml(tmp_path / "vi" / "categories" / "giao-duc" / "atom.xml")
    ids = [e.findtext(f"{ATOM}id").rsplit("/", 1)[1] for e in category.iter(f"{ATOM}entry")]
    assert ids[:2] == ["vi-nfc", "vi-nfd"]
    assert not (tmp_path / "vi" / "categories" / "giao-duc-2").exists()


def test_items_shared_by_several_feeds_are_built_once_and_come_out_the_same(fixture_site, tmp_path, monkeypatch):
    """An article in a language feed and its category feeds: feedgen builds its item and entry once
    (render_xml.SharedEntries) and the other feeds carry copies, byte for byte what building it gives."""
    import feedpub.render as render
    from feedpub import render_xml
    captured = []
    original = render.render_outputs
    monkeypatch.setattr(render, "render_outputs", lambda config, feeds, **how: captured.append(list(feeds))
                        or original(config, feeds, **how))
    build(fixture_site, tmp_path / "out")
    feeds, = captured
    built = []
    monkeypatch.setattr(render_xml.FixedEntry, "__init__",
                        lambda self, keep=None: built.append(1) or render_xml.FeedEntry.__init__(self)
                        or setattr(self, "_keep", keep))
    shared = render_xml.SharedEntries(feeds)
    together = [(render_xml.render_rss(f, shared), render_xml.render_atom(f, shared)) for f in feeds]
    distinct = {id(e) for f in feeds for e in f.entries}
    assert len(built) == 2 * len(distinct) < 2 * sum(len(f.entries) for f in feeds)
    assert shared._built == {}                              # nothing kept once its last feed is done
    assert together == [(render_xml.render_rss(f), render_xml.render_atom(f)) for f in feeds]

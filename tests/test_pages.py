"""The pages published beside the feeds: feed pages, the index, feeds.opml, feed.css and the snippet.

Pages are parsed (lxml.html) and compared by value, never by eye or by substring
where structure matters.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import feedparser
import lxml.html
import pytest
from lxml import etree

import feedpub
from feedpub.config import load_config
from feedpub.pages import LABELS, render_pages, render_snippet

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
FEEDS_URL = "https://tinlongan.example.vn/feeds"
SCRIPT_TITLE = '<script>alert("pwned")</script> Tin <b>đậm</b> & "trích dẫn"'
SCRIPT_SUMMARY = '<img src=x onerror=alert(1)> tóm tắt <i>nghiêng</i>'
CONTENT_MARKER = "NOI-DUNG-KHONG-HIEN-TREN-TRANG"
ALTERNATE_TYPES = ["application/rss+xml", "application/atom+xml", "application/feed+json"]


def _write_records(path: Path, *records: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def _hostile_record() -> dict:
    return {
        "id": "vi-test-script", "lang": "vi", "title": SCRIPT_TITLE, "url": "/vi/thu-nghiem/script.html",
        "published": "2021-11-30T08:00:00+07:00", "summary": SCRIPT_SUMMARY,
        "content": f"<p>{CONTENT_MARKER}</p>", "author": "Biên tập viên", "categories": ["Thử nghiệm"],
    }


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The sample site plus one record whose title and summary look like HTML."""
    site = Path(shutil.copytree(DATA, tmp_path_factory.mktemp("pages") / "site"))
    _write_records(site / "articles" / "zz-hostile.jsonl", _hostile_record())
    return site


@pytest.fixture(scope="module")
def out(site, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pages-out") / "public"
    report = feedpub.build(site, out, now=NOW)
    assert report.errors == []
    return out


def page(path: Path):
    return lxml.html.fromstring(path.read_bytes())


def texts(doc, xpath: str) -> list[str]:
    return [" ".join(e.text_content().split()) for e in doc.xpath(xpath)]


def alternates(doc) -> list[dict]:
    return [dict(link.attrib) for link in doc.xpath("/html/head/link[@rel='alternate']")]


def feed_dirs(out: Path) -> list[str]:
    return sorted(p.parent.relative_to(out).as_posix() for p in out.rglob("rss.xml"))


def parse_feed(path: Path):
    feed = feedparser.parse(path.read_bytes())
    assert not feed.bozo, feed.bozo_exception
    return feed


# --- what is published ---------------------------------------------------------------------------


def test_every_feed_has_a_page_and_the_site_an_index_opml_and_stylesheet(out):
    dirs = feed_dirs(out)
    assert "vi" in dirs and "en" in dirs
    assert any(d.startswith("vi/categories/") for d in dirs) and any(d.startswith("en/categories/") for d in dirs)
    for d in dirs:
        assert (out / d / "index.html").is_file(), d
    for name in ("index.html", "feeds.opml", "feed.css"):
        assert (out / name).is_file(), name


def test_render_pages_returns_the_stylesheet_pages_and_opml(site):
    config = load_config(site)
    files = render_pages(config, [])
    assert set(files) == {"feed.css", "index.html", "feeds.opml"}
    assert all(isinstance(v, bytes) for v in files.values())


def test_feeds_point_to_the_stylesheet_written_beside_them(out):
    for d in feed_dirs(out):
        for name in ("rss.xml", "atom.xml"):
            root = etree.parse(str(out / d / name))
            pis = [n for n in root.xpath("/processing-instruction('xml-stylesheet')")]
            assert len(pis) == 1, f"{d}/{name}"
            assert pis[0].get("type") == "text/css"
            href = pis[0].get("href")
            assert href == "../" * (d.count("/") + 1) + "feed.css"          # relative: any host works
            assert (out / d / href).resolve() == (out / "feed.css").resolve()
            assert (out / "feed.css").is_file()


def test_feed_readers_still_parse_every_feed(out):
    for d in feed_dirs(out):
        rss, atom = parse_feed(out / d / "rss.xml"), parse_feed(out / d / "atom.xml")
        assert len(rss.entries) == len(atom.entries) > 0
        assert rss.feed.title == atom.feed.title


def test_feed_css_shows_rss_and_atom_and_hides_the_rest():
    css = (ROOT / "feedpub" / "static" / "feed.css").read_text(encoding="utf-8")
    assert "@namespace atom url(http://www.w3.org/2005/Atom);" in css
    for selector in ("rss *", "atom|feed *", "channel > title", "atom|feed > atom|title", "channel > item",
                     "atom|feed > atom|entry", "item > pubDate", "atom|entry > atom|published",
                     "item > description", "atom|entry > atom|summary", "rss::before", "atom|feed::before"):
        assert selector in css, selector
    assert "xsl" not in css.lower()


# --- feed pages ----------------------------------------------------------------------------------


def test_vietnamese_page_has_autodiscovery_links_for_its_three_formats(out):
    links = alternates(page(out / "vi" / "index.html"))
    assert [link["type"] for link in links] == ALTERNATE_TYPES
    assert [link["href"] for link in links] == [f"{FEEDS_URL}/vi/rss.xml", f"{FEEDS_URL}/vi/atom.xml",
                                                f"{FEEDS_URL}/vi/feed.json"]
    assert {link["hreflang"] for link in links} == {"vi"}
    assert [link["title"] for link in links] == ["Tin Long An - Tin mới nhất (RSS)", "Tin Long An - Tin mới nhất (Atom)",
                                                 "Tin Long An - Tin mới nhất (JSON Feed)"]


def test_category_page_discovers_its_own_feeds_first_then_the_language_feeds(out):
    links = alternates(page(out / "vi" / "categories" / "dan-van" / "index.html"))
    assert [link["href"] for link in links] == [
        f"{FEEDS_URL}/vi/categories/dan-van/rss.xml", f"{FEEDS_URL}/vi/categories/dan-van/atom.xml",
        f"{FEEDS_URL}/vi/categories/dan-van/feed.json",
        f"{FEEDS_URL}/vi/rss.xml", f"{FEEDS_URL}/vi/atom.xml", f"{FEEDS_URL}/vi/feed.json",
    ]
    assert [link["type"] for link in links] == ALTERNATE_TYPES * 2
    assert links[0]["title"] == "Tin Long An - Tin mới nhất – Dân vận (RSS)"
    assert {link["hreflang"] for link in links} == {"vi"}


def test_english_page_discovers_english_feeds(out):
    links = alternates(page(out / "en" / "index.html"))
    assert [(link["type"], link["hreflang"], link["href"]) for link in links] == [
        ("application/rss+xml", "en", f"{FEEDS_URL}/en/rss.xml"),
        ("application/atom+xml", "en", f"{FEEDS_URL}/en/atom.xml"),
        ("application/feed+json", "en", f"{FEEDS_URL}/en/feed.json"),
    ]


def test_vietnamese_page_speaks_vietnamese(out):
    doc = page(out / "vi" / "index.html")
    assert doc.get("lang") == "vi"
    assert texts(doc, "//h2[@id='subscribe-title']") == ["Theo dõi"]
    assert texts(doc, "//h2[@id='news-title']") == ["Tin mới nhất (11 tin)"]
    assert set(texts(doc, "//button[@data-copy]")) == {"Sao chép"}
    assert {b.get("data-done") for b in doc.xpath("//button[@data-copy]")} == {"Đã sao chép"}
    assert texts(doc, "//nav[@aria-labelledby='categories-title']/h2") == ["Chuyên mục"]
    assert texts(doc, "/html/head/title") == ["Tin Long An - Tin mới nhất"]
    assert texts(doc, "//h1") == ["Tin Long An - Tin mới nhất"]
    assert texts(doc, "//p[@class='description']") == ["Tin tức mới nhất về tỉnh Long An"]


def test_english_page_speaks_english(out):
    doc = page(out / "en" / "index.html")
    assert doc.get("lang") == "en"
    assert texts(doc, "//h2[@id='subscribe-title']") == ["Subscribe"]
    assert texts(doc, "//h2[@id='news-title']") == ["Latest news (8 stories)"]
    assert set(texts(doc, "//button[@data-copy]")) == {"Copy"}


def test_items_are_the_feed_entries_newest_first_with_link_date_summary_and_image(out):
    for lang in ("vi", "en"):
        feed = json.loads((out / lang / "feed.json").read_text(encoding="utf-8"))
        assert len(parse_feed(out / lang / "rss.xml").entries) == len(feed["items"])
        doc = page(out / lang / "index.html")
        items = doc.xpath("//ol[@class='items']/li")
        assert len(items) == len(feed["items"])
        for item, entry in zip(items, feed["items"]):
            link = item.xpath(".//h3/a")[0]
            assert link.text_content() == entry["title"]
            assert link.get("href") == entry["url"]
            assert item.xpath(".//p[@class='meta']/time")[0].get("datetime") == entry["date_published"]
            assert [s.text_content() for s in item.xpath(".//p[@class='summary']")] == [entry["summary"]]
            assert item.xpath(".//img/@src") == ([entry["image"]] if "image" in entry else [])


def test_local_dates_are_wall_clock_time_in_the_site_zone(out):
    vi = page(out / "vi" / "index.html")
    lead = vi.xpath("//li[.//a[contains(@href, 'thu-thua-nang-cao-hieu-qua-cong-tac-dan-van')]]")[0]
    time_el = lead.xpath(".//p[@class='meta']/time")[0]
    assert time_el.text == "02/12/2021 - 23:30"
    assert time_el.get("datetime") == "2021-12-02T23:30:00+07:00"
    en = page(out / "en" / "index.html")
    lead = en.xpath("//li[.//a[contains(@href, 'thu-thua-district-steps-up-mass-mobilization-work')]]")[0]
    assert lead.xpath(".//p[@class='meta']/time")[0].text == "3 December 2021, 08:15"
    # Every listed date is written the Vietnamese way on the Vietnamese page.
    import re
    for text in texts(vi, "//p[@class='meta']/time"):
        assert re.fullmatch(r"\d\d/\d\d/\d{4} - \d\d:\d\d", text), text


def test_titles_and_summaries_are_text_never_markup(out):
    doc = page(out / "vi" / "index.html")
    item = doc.xpath("//li[.//a[@href='https://tinlongan.example.vn/vi/thu-nghiem/script.html']]")[0]
    assert item.xpath(".//h3/a")[0].text_content() == SCRIPT_TITLE
    assert item.xpath(".//p[@class='summary']")[0].text_content() == SCRIPT_SUMMARY
    assert item.xpath(".//script | .//b | .//i | .//img[@onerror]") == []
    # The only script on the page is feedpub's own copy-button code.
    scripts = doc.xpath("//script")
    assert len(scripts) == 1 and "navigator.clipboard" in scripts[0].text
    raw = (out / "vi" / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in raw
    assert '<script>alert("pwned")' not in raw
    # The category page and the index escape it too.
    cat = page(out / "vi" / "categories" / "thu-nghiem" / "index.html")
    assert texts(cat, "//h3/a") == [SCRIPT_TITLE]


def test_article_content_is_not_shown_on_pages(out):
    for path in out.rglob("*.html"):
        assert CONTENT_MARKER not in path.read_text(encoding="utf-8"), path
    assert CONTENT_MARKER in (out / "vi" / "rss.xml").read_text(encoding="utf-8")


def test_subscribe_box_shows_the_urls_as_text_and_copy_buttons_only_with_javascript(out):
    doc = page(out / "vi" / "index.html")
    codes = {c.get("id"): c.text for c in doc.xpath("//aside[@class='subscribe']//code")}
    assert codes == {"feed-rss": f"{FEEDS_URL}/vi/rss.xml", "feed-atom": f"{FEEDS_URL}/vi/atom.xml",
                     "feed-json": f"{FEEDS_URL}/vi/feed.json"}
    buttons = doc.xpath("//aside[@class='subscribe']//button")
    assert [b.get("data-copy") for b in buttons] == ["feed-rss", "feed-atom", "feed-json"]
    assert all(b.get("type") == "button" and b.get("hidden") is not None for b in buttons)
    assert [b.get("aria-label") for b in buttons] == ["Sao chép địa chỉ RSS", "Sao chép địa chỉ Atom",
                                                      "Sao chép địa chỉ JSON Feed"]
    assert doc.xpath("//*[@id='copy-status']/@role") == ["status"]


def test_pages_are_accessible_documents(out):
    for path in out.rglob("index.html"):
        doc = page(path)
        assert doc.get("lang"), path
        assert len(doc.xpath("//h1")) == 1, path
        assert len(doc.xpath("//main")) == 1, path
        assert doc.xpath("//meta[@name='viewport']/@content") == ["width=device-width, initial-scale=1"]
        ids = doc.xpath("//@id")
        assert len(ids) == len(set(ids)), path
        for img in doc.xpath("//img"):
            assert img.get("alt") is not None, path
        assert doc.xpath("//a[@class='skip']/@href") == ["#news"] and doc.xpath("//*[@id='news']")


def test_relative_links_between_pages_resolve_inside_out(out):
    for path in out.rglob("*.html"):
        doc = page(path)
        for href in doc.xpath("//a/@href"):
            if urlsplit(href).scheme or href.startswith("#"):
                continue
            target = (path.parent / href).resolve()
            assert target.is_file(), f"{path.relative_to(out)}: {href}"
            assert target.is_relative_to(out.resolve())


def test_category_pages_link_back_to_the_language_page_which_lists_every_category(out):
    """A category page names itself and links to its language's page, which lists every category:
    a list of every sibling on every category page would grow with the square of the categories."""
    doc = page(out / "vi" / "categories" / "dan-van" / "index.html")
    nav = doc.xpath("//nav[@aria-labelledby='categories-title']//a")
    assert [(a.text_content(), a.get("href"), a.get("aria-current")) for a in nav] == [
        ("Tất cả tin", "../../index.html", None), ("Dân vận", "index.html", "page")]
    language = page(out / "vi" / "index.html").xpath("//nav[@aria-labelledby='categories-title']//a/@href")
    assert sorted(language) == sorted(f"categories/{d.split('/')[-1]}/index.html"
                                      for d in feed_dirs(out) if d.startswith("vi/categories/"))
    assert texts(doc, "//h1") == ["Tin Long An - Tin mới nhất – Dân vận"]


def test_index_lists_every_language_and_feed(out):
    doc = page(out / "index.html")
    hrefs = set(doc.xpath("//a/@href"))
    for d in feed_dirs(out):
        assert f"{d}/index.html" in hrefs, d
        for name in ("rss.xml", "atom.xml", "feed.json"):
            assert f"{FEEDS_URL}/{d}/{name}" in hrefs, f"{d}/{name}"
    sections = doc.xpath("//section[@class='language']")
    assert [s.get("lang") for s in sections] == ["en", "vi"]
    assert texts(doc, "//section[@lang='vi']/h2") == ["Tiếng Việt"]
    assert "Tất cả tin" in texts(doc, "//section[@lang='vi']//tbody/tr/th/a")
    assert "feeds.opml" in hrefs
    assert {(a["hreflang"], a["type"]) for a in alternates(doc)} == {
        (lang, t) for lang in ("en", "vi") for t in ALTERNATE_TYPES}


# --- OPML ----------------------------------------------------------------------------------------


def test_opml_lists_every_rss_and_atom_feed_grouped_by_language(out):
    root = etree.parse(str(out / "feeds.opml")).getroot()
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title") == "Tin Long An"
    groups = root.findall("body/outline")
    assert [g.get("language") for g in groups] == ["en", "vi"]
    wanted = {f"{FEEDS_URL}/{d}/{name}" for d in feed_dirs(out) for name in ("rss.xml", "atom.xml")}
    seen = []
    for group in groups:
        lang = group.get("language")
        assert group.get("text")
        for outline in group.findall("outline"):
            assert outline.get("type") == "rss"
            assert outline.get("language") == lang
            assert outline.get("text") and outline.get("title")
            assert outline.get("xmlUrl").startswith(f"{FEEDS_URL}/{lang}/")
            assert outline.get("htmlUrl") == outline.get("xmlUrl").rsplit("/", 1)[0] + "/index.html"
            seen.append(outline.get("xmlUrl"))
    assert sorted(seen) == sorted(wanted)
    titles = {o.get("xmlUrl"): o.get("title") for o in root.iter("outline") if o.get("xmlUrl")}
    assert titles[f"{FEEDS_URL}/vi/rss.xml"] == "Tin Long An - Tin mới nhất (RSS)"
    assert titles[f"{FEEDS_URL}/vi/atom.xml"] == "Tin Long An - Tin mới nhất (Atom)"


def test_opml_stays_valid_xml_with_awkward_titles(tmp_path):
    site = Path(shutil.copytree(DATA, tmp_path / "site"))
    toml = site / "feedpub.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        'title = "Tin Long An"', 'title = "Tin <Long> & \\"An\\" ]]> --"'), encoding="utf-8")
    out = tmp_path / "out"
    feedpub.build(site, out, now=NOW)
    root = etree.parse(str(out / "feeds.opml")).getroot()
    assert root.findtext("head/title") == 'Tin <Long> & "An" ]]> --'
    assert page(out / "index.html").xpath("//p[@class='site-name']")[0].text_content().startswith("Tin <Long> &")


# --- snippet -------------------------------------------------------------------------------------


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "feedpub", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout, env=dict(os.environ, PYTHONWARNINGS="ignore"))


def test_snippet_prints_the_autodiscovery_tags_of_every_language(out):
    result = _cli("snippet", "--data", str(DATA))
    assert result.returncode == 0, result.stderr
    doc = lxml.html.fromstring(f"<html><head>{result.stdout}</head><body></body></html>")
    links = alternates(doc)
    assert len(links) == 6
    assert [(link["hreflang"], link["type"]) for link in links] == [
        (lang, t) for lang in ("en", "vi") for t in ALTERNATE_TYPES]
    # Exactly the tags the language pages carry.
    for lang in ("en", "vi"):
        assert [link for link in links if link["hreflang"] == lang] == alternates(page(out / lang / "index.html"))


def test_snippet_for_one_language_and_an_unknown_one():
    result = _cli("snippet", "--data", str(DATA), "--lang", "vi")
    assert result.returncode == 0, result.stderr
    doc = lxml.html.fromstring(f"<html><head>{result.stdout}</head><body></body></html>")
    assert [link["href"] for link in alternates(doc)] == [
        f"{FEEDS_URL}/vi/rss.xml", f"{FEEDS_URL}/vi/atom.xml", f"{FEEDS_URL}/vi/feed.json"]
    bad = _cli("snippet", "--data", str(DATA), "--lang", "fr")
    assert bad.returncode == 3
    assert "fr" in bad.stderr and bad.stdout == ""
    missing = _cli("snippet", "--data", str(ROOT / "no-such-site"))
    assert missing.returncode == 3 and "feedpub.toml" in missing.stderr


def test_snippet_escapes_titles(tmp_path):
    site = Path(shutil.copytree(DATA, tmp_path / "site"))
    toml = site / "feedpub.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        'title = "Long An News - Latest news"', 'title = "News \\"<now>\\" & more"'), encoding="utf-8")
    text = render_snippet(load_config(site), ["en"])
    assert 'title="News &#34;&lt;now&gt;&#34; &amp; more (RSS)"' in text
    doc = lxml.html.fromstring(f"<html><head>{text}</head><body></body></html>")
    assert alternates(doc)[0]["title"] == 'News "<now>" & more (RSS)'


# --- determinism and fallbacks -------------------------------------------------------------------


def _published(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(out).parts)}


def test_output_is_deterministic(site, out, tmp_path):
    again = tmp_path / "again"
    feedpub.build(site, again, now=NOW + timedelta(days=30))      # another day, another directory
    first, second = _published(out), _published(again)
    assert first.keys() == second.keys()
    pages = [k for k in first if PurePosixPath(k).suffix in (".html", ".opml", ".css")]
    assert len(pages) > 20
    for key in pages:
        assert first[key] == second[key], key


def test_render_pages_twice_gives_the_same_bytes(site, tmp_path, monkeypatch):
    import feedpub.render as render
    captured = []
    original = render.render_outputs

    def spy(config, feeds, **how):          # the Feed models of a real build
        captured.append((config, list(feeds)))
        return original(config, feeds, **how)

    monkeypatch.setattr(render, "render_outputs", spy)
    feedpub.build(site, tmp_path / "out", now=NOW, full=True)
    (config, feeds), = captured
    first = render_pages(config, feeds)
    assert first == render_pages(config, list(reversed(feeds)))
    assert first == {k: v for k, v in _published(tmp_path / "out").items() if k in first}


def test_other_languages_fall_back_to_english_labels_and_dates(tmp_path):
    site = tmp_path / "site"
    (site / "articles").mkdir(parents=True)
    (site / "feedpub.toml").write_text(
        '[site]\nbase_url = "https://nouvelles.example.org"\ntimezone = "Europe/Paris"\n\n'
        '[languages.fr]\ntitle = "Nouvelles"\ndescription = "Les dernières nouvelles"\n', encoding="utf-8")
    _write_records(site / "articles" / "a.jsonl", {
        "id": "fr-1", "lang": "fr", "title": "Un titre", "url": "/fr/un-titre.html",
        "published": "2021-12-02T23:30:00+01:00", "summary": "Résumé.", "content": "<p>Texte.</p>"})
    out = tmp_path / "out"
    report = feedpub.build(site, out, now=NOW)
    assert report.errors == []
    doc = page(out / "fr" / "index.html")
    assert doc.get("lang") == "fr"
    assert texts(doc, "//h2[@id='subscribe-title']") == [LABELS["en"]["subscribe"]]
    assert texts(doc, "//p[@class='meta']/time") == ["2 December 2021, 23:30"]
    assert [link["hreflang"] for link in alternates(doc)] == ["fr"] * 3

"""End to end: the bundled sample site, built by the real command, read back by feedparser."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import feedparser
import pytest

from conftest import NOW_ARG, run_cli

VN = timezone(timedelta(hours=7))
EN_LEAD_URL = "https://tinlongan.example.vn/en/politics/thu-thua-district-steps-up-mass-mobilization-work.html"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("public")
    result = run_cli("build", "--data", "data", "--out", out, "--now", NOW_ARG)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return out


def parse(path):
    feed = feedparser.parse(path.read_bytes())
    assert not feed.bozo, feed.bozo_exception
    return feed


def test_every_language_gets_rss_atom_and_json(built):
    for lang in ("vi", "en"):
        for name in ("rss.xml", "atom.xml", "feed.json"):
            assert (built / lang / name).is_file(), f"{lang}/{name}"


def test_counts_exclude_draft_and_scheduled(built):
    vi, en = parse(built / "vi" / "rss.xml"), parse(built / "en" / "rss.xml")
    assert len(vi.entries) == 10          # 11 Vietnamese records, one draft
    assert len(en.entries) == 8           # 9 English records, one scheduled for 2031
    ids = [e.id for e in vi.entries + en.entries]
    assert not any("tong-ket-dan-van" in i for i in ids)
    assert not any("2031" in i for i in ids)


def test_newest_first_in_every_format(built):
    for lang in ("vi", "en"):
        for name in ("rss.xml", "atom.xml"):
            entries = parse(built / lang / name).entries
            stamps = [e.published_parsed for e in entries]
            assert stamps == sorted(stamps, reverse=True)
        items = json.loads((built / lang / "feed.json").read_text())["items"]
        assert [i["id"] for i in items] == [e.id for e in parse(built / lang / "rss.xml").entries]


def test_the_pages_own_timestamp_is_vietnam_time(built):
    rss = parse(built / "vi" / "rss.xml")
    lead = next(e for e in rss.entries if e.id.endswith("vi-2021-12-thu-thua-dan-van"))
    assert lead.published == "Thu, 02 Dec 2021 23:30:00 +0700"
    atom = parse(built / "vi" / "atom.xml")
    lead = next(e for e in atom.entries if e.id.endswith("vi-2021-12-thu-thua-dan-van"))
    assert lead.published == "2021-12-02T23:30:00+07:00"
    assert datetime(*lead.published_parsed[:6], tzinfo=timezone.utc) == datetime(2021, 12, 2, 23, 30, tzinfo=VN)


def test_explicit_utc_input_is_written_in_site_zone(built):
    rss = parse(built / "en" / "rss.xml")
    shrimp = next(e for e in rss.entries if e.id.endswith("en-2021-11-rice-shrimp-can-duoc"))
    assert shrimp.published == "Fri, 19 Nov 2021 09:10:00 +0700"      # 2021-11-19T02:10:00Z
    assert shrimp.title == 'Rice & shrimp: "the <new> model" pays off'


def test_ids_derive_from_base_url_and_record_id(built):
    rss = parse(built / "vi" / "rss.xml")
    atom = parse(built / "vi" / "atom.xml")
    assert [e.id for e in rss.entries] == [e.id for e in atom.entries]
    assert all(e.id.startswith("https://tinlongan.example.vn/id/") for e in rss.entries)
    assert all(e.guidislink is False for e in rss.entries)


def test_translation_links_point_both_ways(built):
    vi = parse(built / "vi" / "atom.xml")
    en = parse(built / "en" / "atom.xml")
    lead = next(e for e in vi.entries if e.id.endswith("vi-2021-12-thu-thua-dan-van"))
    other = [l for l in lead.links if l.get("hreflang") == "en"]
    assert [l.href for l in other] == [EN_LEAD_URL]
    english = next(e for e in en.entries if e.id.endswith("en-2021-12-thu-thua-mass-mobilization"))
    back = [l for l in english.links if l.get("hreflang") == "vi" and l.rel == "alternate"]
    assert back and back[0].href == lead.link
    assert english.link == [l for l in english.links if l.get("hreflang") == "en"][0].href


def test_rss_channel_link_is_the_home_page_not_the_feed(built):
    rss = parse(built / "vi" / "rss.xml")
    assert rss.feed.link == "https://tinlongan.example.vn/vi/"
    assert rss.feed.language == "vi"


def test_item_fields_are_rich(built):
    rss = parse(built / "vi" / "rss.xml")
    lead = next(e for e in rss.entries if e.id.endswith("vi-2021-12-thu-thua-dan-van"))
    assert lead.author == "Thanh Ngân"
    assert {t.term for t in lead.tags} == {"Chính trị", "Dân vận"}
    assert lead.enclosures[0].href == "https://tinlongan.example.vn/images/2021/12/thu-thua-dan-van.jpg"
    assert lead.enclosures[0].length == "84512"
    assert "<figure>" in lead.content[0].value
    assert 'src="https://tinlongan.example.vn/images/2021/12/thu-thua-dan-van.jpg"' in lead.content[0].value
    assert lead.summary and "<" not in lead.summary


def test_feed_updated_is_newest_item_not_wall_clock(built):
    atom = parse(built / "en" / "atom.xml")
    newest = max(e.updated_parsed for e in atom.entries)
    assert atom.feed.updated_parsed == newest


def test_second_build_is_byte_identical(built, tmp_path):
    again = tmp_path / "again"
    result = run_cli("build", "--data", "data", "--out", again, "--now", NOW_ARG, "--quiet")
    assert result.returncode == 0 and result.stdout == ""
    files = sorted(p.relative_to(built) for p in built.rglob("*") if p.is_file() and ".feedpub" not in str(p))
    assert files
    for rel in files:
        assert (again / rel).read_bytes() == (built / rel).read_bytes(), rel

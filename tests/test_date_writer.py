"""One writer for every date of every format: RSS, Atom, JSON Feed and the pages state the same instant
for every record, whatever shape and fraction of a second the record gave.

The rule for fractions (dates.writing): whole seconds everywhere, a fraction cut off toward the
past, since RFC 822 cannot carry one. The property test builds real sites through feedpub.build
and reads every output back with a strict parser of its format.
"""
from __future__ import annotations

import json
import tempfile
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import lxml.html
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

import feedpub
from conftest import write_jsonl
from feedpub.dates import parse_datetime

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
ATOM = "{http://www.w3.org/2005/Atom}"
NOW = datetime(2200, 1, 1, tzinfo=timezone.utc)
TOML = """[site]
base_url = "https://news.example.vn"
category_feeds = false

[languages.vi]
title = "Tin Ví Dụ"
description = "Tin mới nhất"
"""
OFFSETS = st.sampled_from(["Z", "+07:00", "+08:00", "-03:30", "+05:45", "+14:00", "-12:00"])
# Vietnam's clocks skipped the hour from 23:00 on 31 December 1959 and repeated the one from 23:00 on
# 12 June 1975: local times there are read by the clock-change rule and written as the zone showed them.
CLOCK_CHANGES = st.sampled_from(["1959-12-31T23:{:02d}:{:02d}.{:06d}", "1975-06-12T23:{:02d}:{:02d}.{:06d}"])


@st.composite
def record_dates(draw) -> str | float:
    """A record date in one of the shapes sites print, often with a fraction of a second."""
    when = draw(st.datetimes(min_value=datetime(1912, 1, 1), max_value=datetime(2100, 12, 31)))
    shape = draw(st.sampled_from(["iso-offset", "iso-local", "unix", "rfc822", "page", "clock-change"]))
    if shape == "iso-offset":
        return when.isoformat(timespec="microseconds") + draw(OFFSETS)
    if shape == "iso-local":
        return when.isoformat(timespec="microseconds")
    if shape == "unix":
        return when.replace(tzinfo=timezone.utc).timestamp()             # a JSON number, with its fraction
    if shape == "rfc822":
        return when.strftime("%a, %d %b %Y %H:%M:%S ") + draw(st.sampled_from(["+0700", "GMT", "-0500"]))
    if shape == "page":
        return when.strftime("%d/%m/%Y - %H:%M")
    return draw(CLOCK_CHANGES).format(when.minute, when.second, when.microsecond)


def expected_instant(value: str | float) -> datetime:
    """The record's instant as the reader reads it, cut to the second: the writer's rule."""
    dt = parse_datetime(value, HCM)[0].astimezone(timezone.utc)
    return dt.replace(microsecond=0)


def stated(out: Path) -> dict[str, dict[str, tuple[datetime, ...]]]:
    """Per format, per record id: the instants the format states for it (published, and updated where
    the format has one); per format under "": the feed's own date."""
    found: dict[str, dict[str, tuple[datetime, ...]]] = {}
    rss = etree.parse(str(out / "vi" / "rss.xml")).getroot().find("channel")
    found["rss"] = {i.findtext("guid").rsplit("/", 1)[1]: (parsedate_to_datetime(i.findtext("pubDate")),)
                    for i in rss.iter("item")}
    found["rss"][""] = (parsedate_to_datetime(rss.findtext("lastBuildDate")),)
    atom = etree.parse(str(out / "vi" / "atom.xml")).getroot()
    found["atom"] = {e.findtext(f"{ATOM}id").rsplit("/", 1)[1]: (
        datetime.fromisoformat(e.findtext(f"{ATOM}published")), datetime.fromisoformat(e.findtext(f"{ATOM}updated")))
        for e in atom.iter(f"{ATOM}entry")}
    found["atom"][""] = (datetime.fromisoformat(atom.findtext(f"{ATOM}updated")),)
    items = json.loads((out / "vi" / "feed.json").read_text(encoding="utf-8"))["items"]
    found["json"] = {i["id"].rsplit("/", 1)[1]: (datetime.fromisoformat(i["date_published"]),
                                                 datetime.fromisoformat(i["date_modified"])) for i in items}
    page = lxml.html.parse(str(out / "vi" / "index.html")).getroot()
    found["page"] = {item.xpath(".//h3/a/@href")[0].rsplit("/", 1)[1]: (
        datetime.fromisoformat(item.xpath(".//time/@datetime")[0]),) for item in page.xpath("//li[@class='item']")}
    found["page"][""] = tuple(datetime.fromisoformat(t) for t in page.xpath("//p[@class='updated']/time/@datetime"))
    return found


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dates=st.lists(st.tuples(record_dates(), st.none() | record_dates()), min_size=1, max_size=4))
def test_every_format_states_the_same_instant_for_every_record(dates):
    records = [{"id": f"r{i}", "lang": "vi", "title": f"Bài {i}", "url": f"/vi/r{i}", "published": published,
                "content": "<p>Nội dung.</p>", **({"updated": updated} if updated is not None else {})}
               for i, (published, updated) in enumerate(dates)]
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        (site / "articles").mkdir(parents=True)
        (site / "feedpub.toml").write_text(TOML, encoding="utf-8")
        write_jsonl(site / "articles" / "a.jsonl", *records)
        report = feedpub.build(site, Path(tmp) / "out", now=NOW)
        assert report.errors == []
        found = stated(Path(tmp) / "out")
        page = lxml.html.parse(str(Path(tmp) / "out" / "vi" / "index.html")).getroot()
        visible = {item.xpath(".//h3/a/@href")[0].rsplit("/", 1)[1]: item.xpath(".//time/text()")[0]
                   for item in page.xpath("//li[@class='item']")}
    newest = None
    for record in records:
        published = expected_instant(record["published"])
        updated = expected_instant(record["updated"]) if "updated" in record else published
        newest = max(newest or published, published, updated)
        ident = record["id"]
        assert found["rss"][ident] == found["page"][ident] == (published,), (record, found)
        assert found["atom"][ident] == found["json"][ident] == (published, updated), (record, found)
        # the page's visible text: the same instant on the site zone's wall clock, to the minute
        assert visible[ident] == f"{published.astimezone(HCM):%d/%m/%Y - %H:%M}", record
    assert found["rss"][""] == found["atom"][""] == found["page"][""] == (newest,)

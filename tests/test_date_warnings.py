"""Dates other sites print, through the real build and check: RFC 822's two-digit year, an AM/PM
clock read day first, relative times without "trước", and local times a clock change skipped or
repeated. Warnings reach `build` and `check` alike, through the record rules' own warning path."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest

import dbhelp
import feedpub
from conftest import NOW, write_jsonl
from feedpub.dates import parse_datetime

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
TOML = """[site]
base_url = "https://news.example.vn"
{extra}

[languages.vi]
title = "Tin Ví Dụ"
description = "Tin mới nhất"
"""
ABSOLUTE = "expected the date itself, such as 02/12/2021 - 23:30 or 2021-12-02T23:30:00+07:00"
RFC822_HINT = ("expected RFC 822's [Day, ]DD Mon YY HH:MM[:SS] +HHMM, whose two-digit year needs the time and "
               "offset with it, or D Month YYYY [HH:MM]")


def rec(ident: str, published: str, **fields) -> dict:
    return {"id": ident, "lang": "vi", "title": f"Bài {ident}", "url": f"/vi/{ident}", "published": published,
            "summary": "Tóm tắt.", "content": "<p>Nội dung.</p>", **fields}


def make_site(root: Path, files: dict[str, list[dict]], extra: str = "") -> Path:
    site = root / "site"
    (site / "articles").mkdir(parents=True)
    (site / "feedpub.toml").write_text(TOML.format(extra=extra), encoding="utf-8")
    for name, records in files.items():
        write_jsonl(site / "articles" / name, *records)
    return site


def published_instants(out: Path) -> dict[str, dict[str, datetime]]:
    """Per format, each item's published instant as a reader gets it (ids shortened to the record id)."""
    found = {}
    for name in ("rss.xml", "atom.xml"):
        feed = feedparser.parse((out / "vi" / name).read_bytes())
        assert not feed.bozo, feed.bozo_exception
        found[name] = {e.id.rsplit("/", 1)[1]: datetime(*e.published_parsed[:6], tzinfo=timezone.utc)
                       for e in feed.entries}
    items = json.loads((out / "vi" / "feed.json").read_text(encoding="utf-8"))["items"]
    found["feed.json"] = {i["id"].rsplit("/", 1)[1]: datetime.fromisoformat(i["date_published"]) for i in items}
    return found


# --- RFC 822 with a two-digit year ------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("Sat, 05 Sep 26 17:09:00 +0700", datetime(2026, 9, 5, 17, 9, tzinfo=timezone(timedelta(hours=7)))),
    ("05 Sep 26 17:09 GMT", datetime(2026, 9, 5, 17, 9, tzinfo=timezone.utc)),
    ("Thu, 02 Dec 99 23:30:00 +0700", datetime(1999, 12, 2, 23, 30, tzinfo=timezone(timedelta(hours=7)))),
    ("Fri, 31 Dec 49 08:00:00 -0500", datetime(2049, 12, 31, 8, 0, tzinfo=timezone(timedelta(hours=-5)))),
    ("Sun, 01 Jan 50 00:00:00 +0000", datetime(1950, 1, 1, tzinfo=timezone.utc)),
])
def test_rfc_822_with_a_two_digit_year_is_read_as_rfc_2822_says(text, expected):
    """RFC 2822 §4.3, obs-year: 00-49 is 2000-2049, 50-99 is 1950-1999."""
    for order in ("dmy", "mdy"):
        assert parse_datetime(text, HCM, order=order) == (expected, ())


@pytest.mark.parametrize("text, reason, hint", [
    ("Sun, 05 Sep 26 17:09:00 +0700", 'weekday "Sun" does not match 5 September 2026 (a Saturday), and with a '
     "two-digit year the weekday is what confirms the century; it fits 5 September 1926", RFC822_HINT),
    ("Sat, 05 Sep 26 17:09:00", "the year must have four digits", RFC822_HINT),           # no zone: not RFC 822
    ("Sat, 31 Feb 26 17:09:00 +0700", "day 31 is out of range for February 2026", RFC822_HINT),
    ("05/09/26 17:09:00 +0700", "the year must have four digits", "expected DD/MM/YYYY [HH:MM]"),
    ("02-Dec-21 23:30 +0700", "the year must have four digits", "expected Month D, YYYY or D Month YYYY [HH:MM]"),
])
def test_a_two_digit_year_outside_rfc_822s_shape_stays_refused_with_the_right_hint(text, reason, hint):
    from feedpub.errors import DateError
    with pytest.raises(DateError) as caught:
        parse_datetime(text, HCM)
    assert str(caught.value) == f'"{text}" is not a valid date: {reason} ({hint})'


def test_an_rss_date_with_a_two_digit_year_publishes_the_same_instant_everywhere(tmp_path):
    site = make_site(tmp_path, {"a.jsonl": [rec("outlet", "Sat, 05 Sep 26 17:09:00 +0700")]})
    report = feedpub.build(site, tmp_path / "out", now=datetime(2027, 1, 1, tzinfo=timezone.utc))
    assert report.errors == [] and report.warnings == []
    instant = datetime(2026, 9, 5, 10, 9, tzinfo=timezone.utc)
    assert published_instants(tmp_path / "out") == {name: {"outlet": instant}
                                                    for name in ("rss.xml", "atom.xml", "feed.json")}


# --- an AM/PM clock read day first: one warning per file or source ------------------------------------

TWELVE = ('"{text}" was read day first, as {day}, since date_order is "dmy"; a numeric date with a 12-hour '
          "clock (PM) is usually written month first (.NET's en-US M/d/yyyy h:mm:ss tt), and month-first it is "
          '{month} (set date_order = "mdy" in [site] if this source writes month first; said once per file or '
          "source)")


def _twelve(where: str, text: str, day: str, month: str) -> str:
    return f'{where}: field "published": ' + TWELVE.format(text=text, day=day, month=month)


def test_an_am_pm_date_read_day_first_is_warned_about_once_per_file_in_build_and_check(tmp_path):
    portal = [rec("p1", "9/5/2026 1:30:00 PM"), rec("p2", "10/5/2026 2:30:00 PM"), rec("p3", "11/5/2026 3:30:00 PM")]
    other = [rec("o1", "8/5/2026 1:00:00 PM"), rec("o2", "13/5/2026 4:00:00 PM"),    # 13/5: only day first
             rec("o3", "7/5/2026 8:00:00 CH"), rec("o4", "Thứ Bảy, 9/5/2026 1:30 PM")]  # SA/CH; a weekday
    site = make_site(tmp_path, {"portal.jsonl": portal, "other.jsonl": other})
    expected = sorted([_twelve("articles/portal.jsonl:1", "9/5/2026 1:30:00 PM", "9 May 2026", "5 September 2026"),
                       _twelve("articles/other.jsonl:1", "8/5/2026 1:00:00 PM", "8 May 2026", "5 August 2026")])
    checked = feedpub.check(site)
    assert checked.errors == [] and sorted(checked.warnings) == expected
    built = feedpub.build(site, tmp_path / "out", now=NOW)
    assert built.errors == [] and sorted(built.warnings) == expected
    assert {e["id"].rsplit("/", 1)[1]: e["date_published"] for e in json.loads(
        (tmp_path / "out" / "vi" / "feed.json").read_text(encoding="utf-8"))["items"]}["p1"] == \
        "2026-05-09T13:30:00+07:00"                                  # the site's declared order decides
    month_first = make_site(tmp_path / "mdy", {"portal.jsonl": portal}, extra='date_order = "mdy"')
    assert feedpub.check(month_first).warnings == []


def test_a_database_source_hears_the_am_pm_warning_once_too(tmp_path):
    pytest.importorskip("sqlalchemy")
    site = make_site(tmp_path, {})
    (site / "articles").rmdir()
    dbhelp.sqlite_table(site / "cms.db", [rec("p1", "9/5/2026 1:30:00 PM"), rec("p2", "10/5/2026 2:30:00 PM")])
    config = site / "feedpub.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[source]\nurl = "sqlite:///cms.db"\n'
                      'table = "feed_articles"\n', encoding="utf-8")
    for report in (feedpub.check(site), feedpub.build(site, tmp_path / "out", now=NOW)):
        twelve = [w for w in report.warnings if "12-hour clock" in w]
        assert len(twelve) == 1 and twelve[0].startswith("feed_articles:p"), report.warnings


# --- relative times ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["85 ngày", "3 giờ", "2 hours", "vài phút", "15 mins"])
def test_an_amount_of_time_alone_is_called_a_relative_time(text, tmp_path):
    site = make_site(tmp_path, {"a.jsonl": [rec("r", text)]})
    assert feedpub.check(site).errors == [
        f'articles/a.jsonl:1: field "published": "{text}" is not a valid date: it looks like a relative time (an '
        'amount of time, its "trước" or "ago" left out), which cannot be a feed date: the instant would move '
        f"between runs and readers would see the item jump ({ABSOLUTE})"]


# --- local times the clocks skipped or repeated ---------------------------------------------------

# Asia/Ho_Chi_Minh in the IANA database: +07:00 until 1959-12-31 23:00, then +08:00 (the hour from 23:00
# on 31 December 1959 never happened); back from +08:00 to +07:00 at midnight on 13 June 1975 (the hour
# from 23:00 on 12 June 1975 happened twice).
CLOCK_CHANGES = [
    ("gap", "31/12/1959 23:30", datetime(1959, 12, 31, 16, 30, tzinfo=timezone.utc),
     '"31/12/1959 23:30" does not exist in Asia/Ho_Chi_Minh (the clocks went from +07:00 to +08:00 and skipped '
     "it); read with the offset before the change, it is 1960-01-01T00:30:00+08:00"),
    ("fold", "12/06/1975 23:30", datetime(1975, 6, 12, 15, 30, tzinfo=timezone.utc),
     '"12/06/1975 23:30" happened twice in Asia/Ho_Chi_Minh (the clocks went from +08:00 to +07:00 and repeated '
     "it); read with the offset before the change, as the first of the two, it is 1975-06-12T23:30:00+08:00"),
    ("iso-gap", "1959-12-31T23:59:59", datetime(1959, 12, 31, 16, 59, 59, tzinfo=timezone.utc),
     '"1959-12-31T23:59:59" does not exist in Asia/Ho_Chi_Minh (the clocks went from +07:00 to +08:00 and '
     "skipped it); read with the offset before the change, it is 1960-01-01T00:59:59+08:00"),
]
EXPECTED_TAIL = " (expected a time the zone's clocks showed once, or an explicit offset such as +07:00)"


def test_times_the_clocks_skipped_or_repeated_are_warned_about_naming_the_instant_published(tmp_path):
    records = [rec(ident, text) for ident, text, _, _ in CLOCK_CHANGES]
    records += [rec("explicit", "31/12/1959 23:30 +07:00"), rec("plain", "31/12/1959 22:30")]
    site = make_site(tmp_path, {"a.jsonl": records})
    expected = [f'articles/a.jsonl:{i}: field "published": {note}{EXPECTED_TAIL}'
                for i, (_, _, _, note) in enumerate(CLOCK_CHANGES, 1)]
    assert feedpub.check(site).warnings == expected
    built = feedpub.build(site, tmp_path / "out", now=NOW)
    assert built.warnings == expected
    instants = published_instants(tmp_path / "out")
    for ident, _, instant, _ in CLOCK_CHANGES:
        assert {name: found[ident] for name, found in instants.items()} == dict.fromkeys(instants, instant), ident
    json_items = {i["id"].rsplit("/", 1)[1]: i["date_published"] for i in json.loads(
        (tmp_path / "out" / "vi" / "feed.json").read_text(encoding="utf-8"))["items"]}
    assert json_items["gap"] == "1960-01-01T00:30:00+08:00"          # the instant the warning names
    assert json_items["fold"] == "1975-06-12T23:30:00+08:00"


@pytest.mark.parametrize("zone, text, utc", [
    ("America/New_York", "14/03/2021 02:30", datetime(2021, 3, 14, 7, 30, tzinfo=timezone.utc)),    # gap
    ("America/New_York", "07/11/2021 01:30", datetime(2021, 11, 7, 5, 30, tzinfo=timezone.utc)),    # fold: EDT
    ("Europe/Berlin", "31/10/2021 02:30", datetime(2021, 10, 31, 0, 30, tzinfo=timezone.utc)),      # fold: CEST
])
def test_one_rule_everywhere_the_offset_in_force_before_the_change(zone, text, utc):
    dt, warnings = parse_datetime(text, ZoneInfo(zone))
    assert dt.timestamp() == utc.timestamp() and len(warnings) == 1     # (== is False for a repeated time: PEP 495)

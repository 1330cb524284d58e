"""Dates through the real build and check: the calendar's edges never end a run, check and build
judge every date alike, and a month-first site is read month first everywhere."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import feedparser
import pytest

import feedpub
from conftest import NOW, NOW_ARG, run_cli, write_jsonl, scan_records, scan_rows
from feedpub.config import load_config
from feedpub.errors import UsageError
from feedpub.pipeline import resolve_now
from feedpub.validate import validate_output

VN = timezone(timedelta(hours=7))
TOML = """[site]
base_url = "https://news.example.vn"
{extra}

[languages.vi]
title = "Tin Ví Dụ"
description = "Tin mới nhất"
"""
RANGE = "expected a date from the year 1000 to 9999, in UTC and in the site zone too"
PLACEHOLDER = ('0001-01-01 00:00:00 is the placeholder .NET and SQL exports write for "no date" '
               "(expected a real date such as 02/12/2021 - 23:30)")
AFTER = f"in the site zone (Asia/Ho_Chi_Minh) it falls after the year 9999 ({RANGE})"


def rec(ident: str, **fields) -> dict:
    base = {"id": ident, "lang": "vi", "title": f"Bài {ident}", "url": f"/vi/{ident}",
            "published": "01/11/2026 - 08:00", "summary": "Tóm tắt.", "content": "<p>Nội dung.</p>"}
    base.update(fields)
    return base


def make_site(root: Path, records: list[dict], *, extra: str = "", name: str = "records.jsonl") -> Path:
    site = root / "site"
    (site / "articles").mkdir(parents=True, exist_ok=True)
    (site / "feedpub.toml").write_text(TOML.format(extra=extra), encoding="utf-8")
    write_jsonl(site / "articles" / name, *records)
    return site


def entry_ids(path: Path) -> list[str]:
    feed = feedparser.parse(path.read_bytes())
    assert not feed.bozo, feed.bozo_exception
    return [e.id.rsplit("/", 1)[1] for e in feed.entries]


# --- the calendar's edges: one error line for the record, every other record published ----------

# (record, field, error reason or None when it publishes)
EDGES = [
    (rec("good-1", published="01/11/2026 - 08:00"), None, None),
    (rec("never-updated", published="01/11/2026 - 09:00", updated="0001-01-01T00:00:00"), None, None),
    (rec("max-utc", published="9999-12-31T23:59:59Z"), "published", f'"9999-12-31T23:59:59Z" is not a valid date: {AFTER}'),
    (rec("max-number", published=253402300799), "published", f'"253402300799" is not a valid date: {AFTER}'),
    (rec("min-dmy", published="01/01/0001 00:00"), "published", f'"01/01/0001 00:00" is not a valid date: {PLACEHOLDER}'),
    (rec("min-east", published="1 Jan 0001 00:00 +1400"), "published",
     f'"1 Jan 0001 00:00 +1400" is not a valid date: {PLACEHOLDER}'),
    (rec("min-iso", published="0001-01-01T00:00:00"), "published",
     f'"0001-01-01T00:00:00" is not a valid date: {PLACEHOLDER}'),
    (rec("updated-max", updated="9999-12-31T23:59:59Z"), "updated", f'"9999-12-31T23:59:59Z" is not a valid date: {AFTER}'),
    (rec("updated-number", updated=253402300799), "updated", f'"253402300799" is not a valid date: {AFTER}'),
    (rec("updated-year-one", updated="0001-01-02T00:00:00"), "updated",
     f'"0001-01-02T00:00:00" is not a valid date: year 1 is out of range ({RANGE})'),
    (rec("year-1000", published="1000-01-01T12:00:00Z"), None, None),
    (rec("far-updated", published="01/11/2026 - 10:00", updated="9999-12-31T23:59:59"), None, None),
    (rec("far-future", published="31/12/9999 23:59"), None, None),                # scheduled, not an error
    (rec("good-2", published="02/11/2026 - 08:00"), None, None),
]
EDGE_ERRORS = sorted(f'articles/records.jsonl:{i}: field "{field}": {reason}'
                     for i, (_, field, reason) in enumerate(EDGES, 1) if field)
NEVER_WARNING = ('articles/records.jsonl:2: field "updated": "0001-01-01T00:00:00" is the placeholder .NET and '
                 'SQL exports write for "no date"; read as absent')


def test_dates_at_the_calendars_edges_never_end_a_run(tmp_path):
    """Each of these once ended the run with an internal error (OverflowError) and published
    nothing, while check said "0 problems"."""
    site = make_site(tmp_path, [r for r, _, _ in EDGES])
    out = tmp_path / "out"
    report = feedpub.build(site, out, now=NOW)
    assert sorted(report.errors) == EDGE_ERRORS
    assert NEVER_WARNING in report.warnings
    assert entry_ids(out / "vi" / "rss.xml") == ["good-2", "far-updated", "never-updated", "good-1", "year-1000"]
    assert entry_ids(out / "vi" / "atom.xml") == ["good-2", "far-updated", "never-updated", "good-1", "year-1000"]
    items = json.loads((out / "vi" / "feed.json").read_text(encoding="utf-8"))["items"]
    assert [i["id"].rsplit("/", 1)[1] for i in items] == ["good-2", "far-updated", "never-updated", "good-1",
                                                         "year-1000"]
    by_id = {i["id"].rsplit("/", 1)[1]: i for i in items}
    assert by_id["never-updated"]["date_modified"] == by_id["never-updated"]["date_published"] == \
        "2026-11-01T09:00:00+07:00"
    assert by_id["far-updated"]["date_modified"] == "9999-12-31T23:59:59+07:00"
    assert by_id["year-1000"]["date_published"] == "1000-01-01T12:00:00+00:00"     # local mean time: UTC
    assert not any(r.errors for r in validate_output(out))

    checked = feedpub.check(site, now=NOW)
    assert sorted(checked.errors) == EDGE_ERRORS
    assert NEVER_WARNING in checked.warnings

    again = feedpub.build(site, out, now=NOW + timedelta(minutes=5), full=True)
    assert sorted(again.errors) == EDGE_ERRORS


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00", "01/01/0001 00:00", "1/1/0001 12:00:00 AM",
                                   "0001-01-01T00:00:00Z", -62135596800])
def test_the_placeholder_in_updated_is_absent_with_a_warning_and_in_published_an_error(tmp_path, value):
    site = make_site(tmp_path, [rec("a", updated=value), rec("b", published=value)])
    report = feedpub.build(site, tmp_path / "out", now=NOW)
    shown = f'"{value}"' if isinstance(value, str) else f'"{value!r}"'
    assert report.errors == [f'articles/records.jsonl:2: field "published": {shown} is not a valid date: {PLACEHOLDER}']
    assert report.warnings == [f'articles/records.jsonl:1: field "updated": {shown} is the placeholder .NET and SQL '
                               'exports write for "no date"; read as absent']
    assert entry_ids(tmp_path / "out" / "vi" / "atom.xml") == ["a"]


def test_calendar_edges_in_a_json_file_are_judged_by_the_full_validator_alike(tmp_path):
    site = make_site(tmp_path, [rec("good")])
    (site / "articles" / "more.json").write_text(json.dumps(
        [rec("j-good", published="02/11/2026 - 08:00"), rec("j-max", published="9999-12-31T23:59:59Z"),
         rec("j-never", published="01/11/2026 - 07:00", updated="0001-01-01T00:00:00")]), encoding="utf-8")
    report = feedpub.build(site, tmp_path / "out", now=NOW)
    assert report.errors == [f'articles/more.json:2: field "published": "9999-12-31T23:59:59Z" is not a valid '
                             f"date: {AFTER}"]
    assert entry_ids(tmp_path / "out" / "vi" / "rss.xml") == ["j-good", "good", "j-never"]
    assert feedpub.check(site, now=NOW).errors == report.errors


def test_now_at_the_calendars_edge_is_a_usage_error(tmp_path):
    site = make_site(tmp_path, [rec("a")])
    for now in ("9999-12-31T23:59:59Z", "0001-01-01T00:00:00"):
        result = run_cli("build", "--data", site, "--out", tmp_path / "out", "--now", now)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith(f'feedpub: --now: "{now}" is not a valid date: ')
        assert "internal error" not in result.stderr


# --- check reports exactly what build reports, through the real command ---------------------------

TASK_VALUES = [
    "2/4/2026 3:20:00 PM", "3/7/2026 8:35:37 AM", "08/09/2026 19:38:56", "07/13/2026 09:12:25",
    "13/07/2026 09:12:25", "Thứ Năm, ng&agrave;y 18/06/2020 17:58 PM (GMT+7)", "2026-03-01T09:51:00&#x2B;07:00",
    "Sun Mar 01 2026 09:51:10 GMT+0700 (Indochina Time)", "20260307000500", "20260307", "1772333470",
    "5h trước", "19 giờ trước", "Updated: 1 hour 27 min ago", "3 ngày trước", "vừa xong", "hôm qua", "yesterday",
    "02/12/2021 23:30 GMT+20", "2021-12-02T23:30:00+15:00", "Thứ Năm, 02/12/2021 23:30 (GMT+7)11",
    "02/12/2021 23:30 Ã¢â‚¬", "<![CDATA[Thu, 02 Dec 2021 23:30:00 +0700]]>", 20260307, 20260307000500,
    "Wednesday, 2/4/2026", "Thứ Năm, 2/4/2026 15:20", "0001-01-01T00:00:00", "9999-12-31T23:59:59Z", 253402300799,
    "2021-12-02T23:30:00+0760", "Sun Mar 01 2026 09:51:10 GMT+0700 (GMT+07:00)", "20260307T000500Z",
    "2026030700", "Cách đây 2 giờ", "02 Tháng Mười Hai 2021", "2 thg 12, 2021",
]


def task_records() -> list[dict]:
    records = []
    for i, value in enumerate(TASK_VALUES):
        records.append(rec(f"p{i}", published=value))
        records.append(rec(f"u{i}", updated=value))
    return records


def stderr_lines(result) -> tuple[list[str], list[str]]:
    lines = result.stderr.splitlines()
    return (sorted(l for l in lines if l.startswith("articles/")),
            sorted(l for l in lines if l.startswith("warning: ")))


@pytest.mark.parametrize("order", ["dmy", "mdy"])
def test_check_reports_exactly_what_build_reports(tmp_path, order):
    site = make_site(tmp_path, task_records(), extra=f'date_order = "{order}"')
    built = run_cli("build", "--data", site, "--out", tmp_path / "out", "--now", NOW_ARG)
    checked = run_cli("check", "--data", site, "--now", NOW_ARG)
    assert (built.returncode, checked.returncode) == (1, 1), built.stderr + checked.stderr
    assert "internal error" not in built.stderr + checked.stderr
    build_errors, build_warnings = stderr_lines(built)
    check_errors, check_warnings = stderr_lines(checked)
    assert build_errors == check_errors
    assert build_warnings == check_warnings
    assert len(check_errors) == len(set(check_errors))
    valid_in_mdy_only = 'field "published": "07/13/2026 09:12:25" is not a valid date: month 13 is out of range; ' \
                        "month-first it is 13 July 2026"
    valid_in_dmy_only = 'field "published": "13/07/2026 09:12:25" is not a valid date: month 13 is out of range; ' \
                        "day-first it is 13 July 2026"
    relative = 'field "updated": "5h trước" is not a valid date: it is a relative time'
    assert any(relative in line for line in check_errors)
    assert any(valid_in_mdy_only in line for line in check_errors) == (order == "dmy")
    assert any(valid_in_dmy_only in line for line in check_errors) == (order == "mdy")
    placeholder = 'field "updated": "0001-01-01T00:00:00" is the placeholder'
    assert any(placeholder in line for line in check_warnings)
    for refused in ('"2021-12-02T23:30:00+0760" is not a valid date: offset +07:60 is out of range',
                    '"2026030700" is not a valid date: as a Unix timestamp it is 15 March 2034',
                    '"Cách đây 2 giờ" is not a valid date: it is a relative time'):
        assert any(refused in line for line in check_errors), refused
    for accepted in ("GMT+07:00", "20260307T000500Z", "Tháng Mười Hai", "thg 12"):
        assert not any(accepted in line for line in check_errors), accepted


# --- a month-first site is read month first everywhere ----------------------------------------------


def test_a_month_first_site_is_read_month_first_by_scan_loader_and_feeds(tmp_path):
    records = [rec("a", published="2/4/2026 3:20:00 PM", updated="2/5/2026 8:00:00 AM"),
               rec("b", published="08/09/2026 19:38:56"), rec("c", published="07/13/2026 09:12:25")]
    site = make_site(tmp_path, records, extra='date_order = "mdy"')
    out = tmp_path / "out"
    report = feedpub.build(site, out, now=NOW)
    assert report.errors == []
    feed = feedparser.parse((out / "vi" / "atom.xml").read_bytes())
    got = {e.id.rsplit("/", 1)[1]: (e.published, e.updated) for e in feed.entries}
    assert got == {"a": ("2026-02-04T15:20:00+07:00", "2026-02-05T08:00:00+07:00"),
                   "b": ("2026-08-09T19:38:56+07:00", "2026-08-09T19:38:56+07:00"),
                   "c": ("2026-07-13T09:12:25+07:00", "2026-07-13T09:12:25+07:00")}
    assert feedpub.check(site, now=NOW).errors == []


def test_now_is_read_in_the_sites_order(tmp_path):
    """--now "12/01/2026 00:00" is 1 December on a month-first site: the 30 November article is due,
    the 2 December one is not."""
    records = [rec("due", published="11/30/2026 10:00"), rec("later", published="12/02/2026 10:00")]
    site = make_site(tmp_path, records, extra='date_order = "mdy"')
    result = run_cli("build", "--data", site, "--out", tmp_path / "out", "--now", "12/01/2026 00:00", "--quiet")
    assert result.returncode == 0, result.stderr
    assert entry_ids(tmp_path / "out" / "vi" / "rss.xml") == ["due"]
    result = run_cli("check", "--data", site, "--now", "12/31/2026 00:00")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("value", ["2026-11-30T10:00", "2026-11-30 10:00:59", "2026-11-30T10:00Z",
                                   "2026-11-30T10:00:00+14:00", "2026-11-30T10:00-12:00",
                                   "2026-11-30T10:00+05:45", "1001-01-01T00:00", "9998-12-31T23:59:59", "9999-12-31T23:59:59"])
def test_now_in_iso_form_means_what_the_date_reader_says(tmp_path, value):
    """--now's quick ISO reading and the record date reader agree on every spelling both accept."""
    from feedpub.dates import parse_datetime
    config = load_config(make_site(tmp_path, [rec("a")]))
    assert resolve_now(value, config) == parse_datetime(value, config.tz)[0].timestamp()


@pytest.mark.parametrize("value", ["2026-02-30T10:00", "2026-11-30T10:00-13:00", "2026-11-30T10:00+14:30",
                                   "0001-01-01T00:00", "1000-01-01T00:00", "9999-12-31T23:59:59-05:00"])
def test_now_in_iso_form_out_of_range_is_a_usage_error(tmp_path, value):
    config = load_config(make_site(tmp_path, [rec("a")]))
    with pytest.raises(UsageError):
        resolve_now(value, config)


def test_now_only_valid_in_the_other_order_is_a_usage_error_with_the_hint(tmp_path):
    site = make_site(tmp_path, [rec("a")])
    result = run_cli("check", "--data", site, "--now", "12/31/2026 00:00")
    assert result.returncode == 2
    assert result.stderr == ('feedpub: --now: "12/31/2026 00:00" is not a valid date: month 31 is out of range; '
                             "month-first it is 31 December 2026 (expected DD/MM/YYYY [HH:MM]; set date_order = "
                             '"mdy" in [site] if this source writes month first)\n')


@pytest.mark.parametrize("order", ["dmy", "mdy"])
def test_fast_scan_and_full_validator_read_dates_alike_in_either_order(tmp_path, order):
    site = make_site(tmp_path, task_records(), extra=f'date_order = "{order}"')
    config = load_config(site)
    fast = scan_records(site, "articles/records.jsonl", config, NOW.timestamp())
    thorough = scan_records(site, "articles/records.jsonl", config, NOW.timestamp(), thorough=True)
    assert scan_rows(fast) == scan_rows(thorough)

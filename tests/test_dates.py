"""Dates as news sites print them: parsing, the site zone's history, and feed formats."""
from __future__ import annotations

import locale
import re
import time
import unicodedata
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from feedpub.dates import FORMS, OFFSET_RANGE, OncePerSource, parse_datetime, site_time, write_date
from feedpub.errors import DateError

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
UTC = timezone.utc


@pytest.fixture(autouse=True)
def machine_in_new_york(monkeypatch):
    """Run every test with the machine's zone far from Vietnam, so a parser reading it fails."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def off(hours: int, minutes: int = 0) -> timezone:
    """A fixed offset, as an explicit marker in the input must produce."""
    sign = -1 if hours < 0 else 1
    return timezone(sign * timedelta(hours=abs(hours), minutes=minutes))


def vn(*fields: int) -> datetime:
    """Wall-clock time in the site zone."""
    return datetime(*fields, tzinfo=HCM)


def at(tz: timezone, *fields: int) -> datetime:
    """Wall-clock time at a fixed offset."""
    return datetime(*fields, tzinfo=tz)


NFD_THURSDAY = unicodedata.normalize("NFD", "Thứ Năm, 02/12/2021 - 23:30")

PARSED = [
    # the site's own page, Báo Long An
    ("02/12/2021 - 23:30", vn(2021, 12, 2, 23, 30)),
    ("02/12/2021 - 23:30:45", vn(2021, 12, 2, 23, 30, 45)),
    # Thanh Niên
    ("02/12/2021 23:30", vn(2021, 12, 2, 23, 30)),
    # Tuổi Trẻ
    ("02/12/2021 23:30 GMT+7", at(off(7), 2021, 12, 2, 23, 30)),
    # VnExpress
    ("Thứ năm, 2/12/2021, 23:30 (GMT+7)", at(off(7), 2021, 12, 2, 23, 30)),
    # Dân Trí
    ("Thứ năm, 02/12/2021 - 23:30", vn(2021, 12, 2, 23, 30)),
    # day-first numeric variants
    ("2/12/2021 23:30", vn(2021, 12, 2, 23, 30)),
    ("02-12-2021, 23:30:05", vn(2021, 12, 2, 23, 30, 5)),
    ("02.12.2021 23:30", vn(2021, 12, 2, 23, 30)),
    ("23:30 02/12/2021", vn(2021, 12, 2, 23, 30)),
    ("23:30, 02-12-2021", vn(2021, 12, 2, 23, 30)),
    ("02/12/2021", vn(2021, 12, 2)),
    ("12/02/2021 08:15", vn(2021, 2, 12, 8, 15)),
    ("1/1/2022 0:00", vn(2022, 1, 1)),
    ("31/12/2021 23:59:59", vn(2021, 12, 31, 23, 59, 59)),
    ("29/02/2024 - 12:00", vn(2024, 2, 29, 12)),
    ("02/12/2021 | 23:30", vn(2021, 12, 2, 23, 30)),
    ("2021/12/02 23:30", vn(2021, 12, 2, 23, 30)),
    ("2021.12.02", vn(2021, 12, 2)),
    # weekday prefixes, any spelling and case
    ("Thứ Năm, 02/12/2021 - 23:30", vn(2021, 12, 2, 23, 30)),
    ("THỨ NĂM, 02/12/2021 - 23:30", vn(2021, 12, 2, 23, 30)),
    ("Thứ 5, 02/12/2021 23:30", vn(2021, 12, 2, 23, 30)),
    ("T5, 02/12/2021 23:30", vn(2021, 12, 2, 23, 30)),
    ("Chủ nhật, 05/12/2021", vn(2021, 12, 5)),
    ("CN, 05/12/2021 08:00", vn(2021, 12, 5, 8)),
    ("Thứ Hai, 06/12/2021 - 00:00", vn(2021, 12, 6)),
    ("Thứ Ba, 07/12/2021 - 12:00", vn(2021, 12, 7, 12)),
    ("Thứ Tư, 08/12/2021 - 01:02:03", vn(2021, 12, 8, 1, 2, 3)),
    ("Thứ Sáu | 03/12/2021 | 06:00", vn(2021, 12, 3, 6)),
    ("thứ bảy, 04/12/2021 - 07:00", vn(2021, 12, 4, 7)),
    ("Thứ Năm, 23:30, 02/12/2021", vn(2021, 12, 2, 23, 30)),
    (NFD_THURSDAY, vn(2021, 12, 2, 23, 30)),
    # odd whitespace
    ("02/12/2021\u00a0-\u00a023:30", vn(2021, 12, 2, 23, 30)),
    ("December 2, 2021 11:30\u202fPM", vn(2021, 12, 2, 23, 30)),
    ("  02/12/2021\n\t23:30  ", vn(2021, 12, 2, 23, 30)),
    ("Thứ\u00a0năm,\u00a02/12/2021,\u00a023:30\u00a0(GMT+7)", at(off(7), 2021, 12, 2, 23, 30)),
    # ISO 8601 / RFC 3339
    ("2021-12-02T23:30:00+07:00", at(off(7), 2021, 12, 2, 23, 30)),
    ("2021-12-02T16:30:00Z", at(UTC, 2021, 12, 2, 16, 30)),
    ("2021-12-02T23:30+0700", at(off(7), 2021, 12, 2, 23, 30)),
    ("2021-12-02 23:30", vn(2021, 12, 2, 23, 30)),
    ("2021-12-02", vn(2021, 12, 2)),
    ("2021-12-02T23:30:00.123456+07:00", at(off(7), 2021, 12, 2, 23, 30, 0, 123456)),
    ("2021-12-02T23:30:00.5-05:00", at(off(-5), 2021, 12, 2, 23, 30, 0, 500000)),
    ("2021-12-02 23:30:00 +0700", at(off(7), 2021, 12, 2, 23, 30)),
    ("2021-12-02T23:30:00 GMT+7", at(off(7), 2021, 12, 2, 23, 30)),
    (" 2021-12-02T16:30:00Z ", at(UTC, 2021, 12, 2, 16, 30)),
    # offset markers
    ("02/12/2021 23:30 UTC+7", at(off(7), 2021, 12, 2, 23, 30)),
    ("02/12/2021 23:30 GMT+07:00", at(off(7), 2021, 12, 2, 23, 30)),
    ("02/12/2021 10:30 GMT-3", at(off(-3), 2021, 12, 2, 10, 30)),
    ("02/12/2021 11:30 UTC-5", at(off(-5), 2021, 12, 2, 11, 30)),
    ("02/12/2021 22:00 (GMT+05:30)", at(off(5, 30), 2021, 12, 2, 22)),
    ("02/12/2021 23:30 ICT", at(off(7), 2021, 12, 2, 23, 30)),
    ("02/12/2021 16:30 GMT", at(UTC, 2021, 12, 2, 16, 30)),
    ("02/12/2021 16:30 UTC", at(UTC, 2021, 12, 2, 16, 30)),
    ("02/12/2021 23:30 +07:00", at(off(7), 2021, 12, 2, 23, 30)),
    # RFC 822, as in RSS feeds
    ("Thu, 02 Dec 2021 23:30:00 +0700", at(off(7), 2021, 12, 2, 23, 30)),
    ("Thu, 02 Dec 2021 16:30:00 GMT", at(UTC, 2021, 12, 2, 16, 30)),
    ("Thu, 02 Dec 2021 23:30:00 GMT+7", at(off(7), 2021, 12, 2, 23, 30)),
    ("Thu, 2 Dec 2021 11:30:00 -0500", at(off(-5), 2021, 12, 2, 11, 30)),
    # English prose
    ("December 2, 2021 11:30 PM", vn(2021, 12, 2, 23, 30)),
    ("2 Dec 2021 23:30", vn(2021, 12, 2, 23, 30)),
    ("2 December 2021 23:30", vn(2021, 12, 2, 23, 30)),
    ("Thursday, December 2, 2021 at 11:30 PM", vn(2021, 12, 2, 23, 30)),
    ("Dec. 2, 2021", vn(2021, 12, 2)),
    ("December 2nd, 2021 11:30 p.m.", vn(2021, 12, 2, 23, 30)),
    ("02-Dec-2021 23:30", vn(2021, 12, 2, 23, 30)),
    ("Sep 30, 2021 9:05 AM", vn(2021, 9, 30, 9, 5)),
    ("December 2, 2021 | 11:30 pm GMT+7", at(off(7), 2021, 12, 2, 23, 30)),
    ("2 December 2021 11 PM", vn(2021, 12, 2, 23)),
    # written Vietnamese
    ("ngày 2 tháng 12 năm 2021", vn(2021, 12, 2)),
    ("23:30 ngày 02/12/2021", vn(2021, 12, 2, 23, 30)),
    ("2 tháng 12, 2021", vn(2021, 12, 2)),
    ("tháng 12 2, 2021", vn(2021, 12, 2)),
    ("Thứ Năm, ngày 2 tháng 12 năm 2021 lúc 23:30", vn(2021, 12, 2, 23, 30)),
    ("02/12/2021 lúc 23 giờ 30", vn(2021, 12, 2, 23, 30)),
    ("23 giờ 30 phút ngày 2 tháng 12 năm 2021", vn(2021, 12, 2, 23, 30)),
    ("23g30 02/12/2021", vn(2021, 12, 2, 23, 30)),
    ("23h30, 02/12/2021", vn(2021, 12, 2, 23, 30)),
    ("02/12/2021 9 giờ sáng", vn(2021, 12, 2, 9)),
    ("02/12/2021 8 giờ tối", vn(2021, 12, 2, 20)),
    # 12-hour clocks
    ("02/12/2021 11:30 CH", vn(2021, 12, 2, 23, 30)),
    ("02/12/2021 11:30 SA", vn(2021, 12, 2, 11, 30)),
    ("02/12/2021 12:05 SA", vn(2021, 12, 2, 0, 5)),
    ("02/12/2021 12:05 CH", vn(2021, 12, 2, 12, 5)),
    ("02/12/2021 12:05 AM", vn(2021, 12, 2, 0, 5)),
    ("02/12/2021 12:05 PM", vn(2021, 12, 2, 12, 5)),
    ("02/12/2021 21:07 PM", vn(2021, 12, 2, 21, 7)),
    ("02/12/2021 2:30 chiều", vn(2021, 12, 2, 14, 30)),
]


@pytest.mark.parametrize(("text", "expected"), PARSED, ids=[repr(t) for t, _ in PARSED])
def test_parse_shapes_seen_on_news_sites(text, expected):
    """Each printed shape gives exactly this instant, with this offset and kind of zone."""
    dt, warnings = parse_datetime(text, HCM)
    assert dt == expected
    assert dt.utcoffset() == expected.utcoffset()
    assert dt.tzinfo == expected.tzinfo
    assert dt.replace(tzinfo=None) == expected.replace(tzinfo=None)
    # an AM/PM clock on a numeric date read day first gets a warning about its source (test_date_warnings)
    assert [w for w in warnings if not isinstance(w, OncePerSource)] == []


def test_table_is_large_enough():
    """The table covers at least 60 printed shapes."""
    assert len(PARSED) >= 60


def test_gmt_plus_is_east_of_greenwich():
    """GMT+7 is seven hours ahead of UTC, not the POSIX reading of seven behind."""
    dt, _ = parse_datetime("02/12/2021 23:30 GMT+7", HCM)
    assert dt.utcoffset() == timedelta(hours=7)
    assert dt == datetime(2021, 12, 2, 16, 30, tzinfo=UTC)
    for text in ("Thứ năm, 2/12/2021, 23:30 (GMT+7)", "02/12/2021 23:30 UTC+7", "02/12/2021 23:30 GMT+07:00"):
        assert parse_datetime(text, HCM)[0].utcoffset() == timedelta(hours=7)


def test_utc_minus_is_west_of_greenwich():
    """UTC-5 is five hours behind UTC."""
    dt, _ = parse_datetime("02/12/2021 11:30 UTC-5", HCM)
    assert dt.utcoffset() == timedelta(hours=-5)
    assert dt == datetime(2021, 12, 2, 16, 30, tzinfo=UTC)


def test_explicit_offset_is_fixed_not_the_site_zone():
    """A date with an offset keeps that offset even in a year the site zone was +08:00."""
    dt, _ = parse_datetime("01/01/1970 00:00 +07:00", HCM)
    assert dt.tzinfo == timezone(timedelta(hours=7))
    assert dt == datetime(1969, 12, 31, 17, 0, tzinfo=UTC)


# --- timestamps ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1638462600, datetime(2021, 12, 2, 16, 30, tzinfo=UTC)),
        (1638462600.5, datetime(2021, 12, 2, 16, 30, 0, 500000, tzinfo=UTC)),
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
        (-86400, datetime(1969, 12, 31, tzinfo=UTC)),
    ],
)
def test_unix_timestamp_is_that_instant_in_utc(value, expected):
    """A JSON number is seconds since the epoch, returned in UTC."""
    dt, warnings = parse_datetime(value, HCM)
    assert dt == expected
    assert dt.tzinfo is UTC
    assert warnings == ()


# --- the site zone's history -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("01/01/1970 00:00", timedelta(hours=8)),   # South Vietnam 1960-1975
        ("01/01/1944 12:00", timedelta(hours=8)),   # 1943-1945
        ("15/06/1945 12:00", timedelta(hours=9)),   # 1945
        ("01/01/1930 12:00", timedelta(hours=7)),
        ("02/12/2021 - 23:30", timedelta(hours=7)),
        ("01/01/1900 00:00", timedelta(hours=7, minutes=6, seconds=30)),  # local mean time
    ],
)
def test_naive_dates_follow_the_zone_history(text, offset):
    """Naive input gets the offset the IANA database gives for that date, never a fixed +7."""
    dt, _ = parse_datetime(text, HCM)
    assert dt.tzinfo is HCM
    assert dt.utcoffset() == offset


def test_1970_is_plus_eight():
    """01/01/1970 00:00 in Saigon is 16:00 UTC the day before."""
    dt, _ = parse_datetime("01/01/1970 00:00", HCM)
    assert dt == datetime(1969, 12, 31, 16, 0, tzinfo=UTC)
    assert write_date(site_time(dt, HCM), "rfc822") == "Thu, 01 Jan 1970 00:00:00 +0800"


def test_site_time_uses_utc_before_1911():
    """An offset with seconds (+07:06:30) cannot be written, so site_time returns UTC."""
    dt, _ = parse_datetime("01/01/1900 00:00", HCM)
    shown = site_time(dt, HCM)
    assert shown == dt
    assert shown.tzinfo is UTC
    assert shown == datetime(1899, 12, 31, 16, 53, 30, tzinfo=UTC)
    assert write_date(shown, "rfc822") == "Sun, 31 Dec 1899 16:53:30 +0000"
    assert write_date(shown, "rfc3339") == "1899-12-31T16:53:30+00:00"


def test_formats_never_write_seconds_in_an_offset():
    """Even handed a +07:06:30 datetime directly, the formatters write a valid offset."""
    dt, _ = parse_datetime("01/01/1900 00:00", HCM)
    assert re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}", write_date(dt, "rfc822"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", write_date(dt, "rfc3339"))
    assert write_date(dt, "rfc822") == "Sun, 31 Dec 1899 16:53:30 +0000"
    assert write_date(dt, "rfc3339") == "1899-12-31T16:53:30+00:00"


def test_site_time_converts_to_the_site_zone():
    """A UTC instant is shown in the site zone with that date's offset."""
    shown = site_time(datetime(2021, 12, 2, 16, 30, tzinfo=UTC), HCM)
    assert shown.tzinfo is HCM
    assert shown.replace(tzinfo=None) == datetime(2021, 12, 2, 23, 30)
    assert shown.utcoffset() == timedelta(hours=7)
    shown = site_time(datetime(1970, 1, 1, tzinfo=UTC), HCM)
    assert shown.replace(tzinfo=None) == datetime(1970, 1, 1, 8, 0)


def test_site_time_rejects_naive():
    """A naive datetime has no instant; converting it would read the machine zone."""
    with pytest.raises(ValueError):
        site_time(datetime(2021, 12, 2, 23, 30), HCM)


def test_gap_in_another_zone_is_read_with_the_offset_before_the_change_and_warned_about():
    """A wall time skipped by DST is read with the offset before the change (02:30 EST), and shown
    as the zone's clocks showed that instant: 03:30 EDT."""
    new_york = ZoneInfo("America/New_York")
    dt, warnings = parse_datetime("14/03/2021 02:30", new_york)
    assert dt == datetime(2021, 3, 14, 7, 30, tzinfo=UTC)
    assert dt.replace(tzinfo=None) == datetime(2021, 3, 14, 3, 30)
    assert dt.utcoffset() == timedelta(hours=-4)
    assert warnings == ('"14/03/2021 02:30" does not exist in America/New_York (the clocks went from -05:00 to '
                        "-04:00 and skipped it); read with the offset before the change, it is "
                        "2021-03-14T03:30:00-04:00 (expected a time the zone's clocks showed once, or an explicit "
                        "offset such as +07:00)",)


def test_machine_zone_is_new_york_during_tests():
    """The autouse fixture really moves the machine zone, so the tests above can fail."""
    assert time.localtime(0).tm_hour == 19


# --- weekdays --------------------------------------------------------------


def test_wrong_weekday_warns_and_the_date_wins():
    """A Saturday printed on a Thursday keeps the Thursday and adds one warning."""
    dt, warnings = parse_datetime("Thứ Bảy, 02/12/2021 - 23:30", HCM)
    assert dt == vn(2021, 12, 2, 23, 30)
    assert warnings == ('weekday "Thứ Bảy" does not match 02/12/2021 (a Thursday); the date wins',)


def test_weekday_of_the_other_order_is_named_in_the_warning():
    """A Friday on 02/12/2021 fits 12 February 2021 (a Friday): the date still wins, and the
    warning says how the date reads month first and which setting gives that reading."""
    dt, warnings = parse_datetime("Thứ Sáu, 02/12/2021 - 23:30", HCM)
    assert dt == vn(2021, 12, 2, 23, 30)
    assert warnings == ('weekday "Thứ Sáu" does not match 02/12/2021 (a Thursday); the date wins; '
                        'month-first it is Friday 12 February 2021 '
                        '(set date_order = "mdy" in [site] if this source writes month first)',)


def test_wrong_english_weekday_warns():
    """English weekdays are checked too."""
    dt, warnings = parse_datetime("Friday, December 2, 2021 11:30 PM", HCM)
    assert dt == vn(2021, 12, 2, 23, 30)
    assert warnings == ('weekday "Friday" does not match 02/12/2021 (a Thursday); the date wins',)


def test_wrong_decomposed_weekday_is_quoted_composed():
    """The warning quotes the weekday after NFC normalisation."""
    text = unicodedata.normalize("NFD", "Thứ Bảy, 02/12/2021")
    _, warnings = parse_datetime(text, HCM)
    assert warnings == ('weekday "Thứ Bảy" does not match 02/12/2021 (a Thursday); the date wins',)


@pytest.mark.parametrize(
    ("weekday", "day"),
    [
        ("Thứ Hai", 6), ("Thứ Ba", 7), ("Thứ Tư", 8), ("Thứ Năm", 9), ("Thứ Sáu", 10),
        ("Thứ Bảy", 11), ("Chủ Nhật", 12),
        ("Thứ 2", 6), ("Thứ 3", 7), ("Thứ 4", 8), ("Thứ 5", 9), ("Thứ 6", 10), ("Thứ 7", 11),
        ("T2", 6), ("T3", 7), ("T4", 8), ("T5", 9), ("T6", 10), ("T7", 11), ("CN", 12),
        ("thứ hai", 6), ("CHỦ NHẬT", 12), ("Thứ bẩy", 11),
        ("Monday", 6), ("Tue", 7), ("Wed", 8), ("Thursday", 9), ("Thu", 9), ("Fri", 10),
        ("Saturday", 11), ("Sun", 12),
    ],
)
def test_right_weekday_gives_no_warning(weekday, day):
    """Every spelling of the correct weekday passes silently (6-12 December 2021 is Monday-Sunday)."""
    dt, warnings = parse_datetime(f"{weekday}, {day:02d}/12/2021 - 08:00", HCM)
    assert dt == vn(2021, 12, day, 8)
    assert warnings == ()


# --- errors ----------------------------------------------------------------

ANY = ("expected a date such as 02/12/2021 - 23:30, 2021-12-02T23:30:00+07:00 "
       "or December 2, 2021 11:30 PM")
DMY = "expected DD/MM/YYYY [HH:MM]"
YMD = "expected YYYY-MM-DD[THH:MM[:SS]][+HH:MM]"
EN = "expected Month D, YYYY or D Month YYYY [HH:MM]"
TIME = "expected HH:MM from 00:00 to 23:59"
H12 = "expected an hour from 1 to 12 before AM/PM, SA/CH"
OFFSET = "expected an offset from -12:00 to +14:00, such as +07:00, GMT+7 or UTC-5"
STAMP = "expected a string, or a Unix timestamp in seconds as a JSON number"
ABSOLUTE = "expected the date itself, such as 02/12/2021 - 23:30 or 2021-12-02T23:30:00+07:00"
DIGITS = "expected YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, or a Unix timestamp in seconds"

ERRORS = [
    ("31/02/2021 - 23:30", '"31/02/2021 - 23:30"', f"day 31 is out of range for February 2021 ({DMY})"),
    ("29/02/2021", '"29/02/2021"', f"day 29 is out of range for February 2021 ({DMY})"),
    ("00/12/2021", '"00/12/2021"', f"day 0 is out of range for December 2021 ({DMY})"),
    ("02/13/2021", '"02/13/2021"', "month 13 is out of range; month-first it is 13 February 2021 "
                                   f'({DMY}; set date_order = "mdy" in [site] if this source writes month first)'),
    ("02/31/2021", '"02/31/2021"', f"month 31 is out of range ({DMY})"),
    ("02/12/2021 25:00", '"02/12/2021 25:00"', f"hour 25 is out of range ({TIME})"),
    ("02/12/2021 23:60", '"02/12/2021 23:60"', f"minute 60 is out of range ({TIME})"),
    ("2021-02-30", '"2021-02-30"', f"day 30 is out of range for February 2021 ({YMD})"),
    ("2021-12-02T24:00:00", '"2021-12-02T24:00:00"', f"hour 24 is out of range ({TIME})"),
    ("32 December 2021", '"32 December 2021"', f"day 32 is out of range for December 2021 ({EN})"),
    ("", '""', f"it is empty ({ANY})"),
    ("   ", '"   "', f"it is empty ({ANY})"),
    ("\u00a0\n\t", '"\\xa0\\n\\t"', f"it is empty ({ANY})"),
    ("not a date", '"not a date"', f"no day, month and year found ({ANY})"),
    ("hôm qua", '"hôm qua"', "it is a relative time, which cannot be a feed date: the instant would move "
                             f"between runs and readers would see the item jump ({ABSOLUTE})"),
    ("23:30", '"23:30"', f"no day, month and year found ({ANY})"),
    ("Thứ Năm", '"Thứ Năm"', f"no day, month and year found ({ANY})"),
    ("Foo 2, 2021", '"Foo 2, 2021"', f"no day, month and year found ({ANY})"),
    ("02/12/21 23:30", '"02/12/21 23:30"', f"the year must have four digits ({DMY})"),
    ("2021120", '"2021120"', f"digits alone are not a date ({DIGITS})"),
    ("hello 02/12/2021", '"hello 02/12/2021"', f'unexpected "hello" ({ANY})'),
    ("02/12/2021 03/12/2021", '"02/12/2021 03/12/2021"', f'unexpected "03/12/2021" ({ANY})'),
    ("13:30 SA 02/12/2021", '"13:30 SA 02/12/2021"', f"hour 13 cannot be used with SA ({H12})"),
    ("02/12/2021 13:30 AM", '"02/12/2021 13:30 AM"', f"hour 13 cannot be used with AM ({H12})"),
    ("02/12/2021 23:30 GMT+25", '"02/12/2021 23:30 GMT+25"', f"offset +25:00 is out of range ({OFFSET})"),
    ("02/12/2021 23:30 +07:00 GMT+8", '"02/12/2021 23:30 +07:00 GMT+8"',
     f"it has two different offsets ({OFFSET})"),
    (None, '"None"', f"null is not accepted ({STAMP})"),
    (True, '"True"', f"a bool is not accepted ({STAMP})"),
    (False, '"False"', f"a bool is not accepted ({STAMP})"),
    ([], '"[]"', f"a list is not accepted ({STAMP})"),
    ({"date": "02/12/2021"}, "\"{'date': '02/12/2021'}\"", f"a dict is not accepted ({STAMP})"),
    (float("nan"), '"nan"', f"timestamp out of range ({STAMP})"),
    (1638462600000, '"1638462600000"', f"timestamp out of range ({STAMP}; this looks like milliseconds)"),
]


@pytest.mark.parametrize(("value", "quoted", "reason"), ERRORS, ids=[repr(v) for v, _, _ in ERRORS])
def test_not_a_date_raises_with_input_and_expectation(value, quoted, reason):
    """Each bad value raises DateError naming the input, what was wrong and what was expected."""
    with pytest.raises(DateError) as caught:
        parse_datetime(value, HCM)
    message = str(caught.value)
    assert message == f"{quoted} is not a valid date: {reason}"
    assert "\n" not in message
    assert "(expected " in message


def test_error_table_is_large_enough():
    """The error table covers at least 15 cases."""
    assert len(ERRORS) >= 15


def test_long_input_is_truncated_to_one_line():
    """A long, multi-line input is quoted on one line, cut to about 60 characters."""
    text = "Lorem ipsum dolor sit amet,\nconsectetur adipiscing elit, sed do eiusmod tempor incididunt"
    with pytest.raises(DateError) as caught:
        parse_datetime(text, HCM)
    message = str(caught.value)
    assert "\n" not in message
    quoted = message.split(" is not a valid date")[0]
    assert quoted == '"Lorem ipsum dolor sit amet, consectetur adipiscing elit, ..."'
    assert len(quoted) <= 62


def test_date_error_is_a_value_error():
    """Callers may catch DateError as a ValueError."""
    with pytest.raises(ValueError):
        parse_datetime("31/02/2021", HCM)


# --- round trip ------------------------------------------------------------

VN_WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")


def _hour12(t: datetime) -> int:
    return t.hour % 12 or 12


def _gmt(t: datetime) -> str:
    minutes = t.utcoffset() // timedelta(minutes=1)
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"GMT{sign}{hours}" + (f":{minutes:02d}" if minutes else "")


SHAPES = {
    "iso": (False, lambda t: t.isoformat()),
    "rfc822": (False, lambda t: write_date(t, "rfc822")),
    "rfc3339": (False, lambda t: write_date(t, "rfc3339")),
    "page": (True, lambda t: f"{t.day:02d}/{t.month:02d}/{t.year} - {t.hour:02d}:{t.minute:02d}"),
    "gmt": (False, lambda t: f"{t.day:02d}/{t.month:02d}/{t.year} {t.hour:02d}:{t.minute:02d} ({_gmt(t)})"),
    "weekday": (True, lambda t: f"{VN_WEEKDAYS[t.weekday()]}, {t.day}/{t.month}/{t.year}, "
                                f"{t.hour:02d}:{t.minute:02d}"),
    "written": (True, lambda t: f"ngày {t.day} tháng {t.month} năm {t.year} lúc {t.hour:02d}:{t.minute:02d}"),
    "written_time_first": (True, lambda t: f"{t.hour} giờ {t.minute} ngày {t.day} tháng {t.month} năm {t.year}"),
    "twelve_vi": (True, lambda t: f"{t.day:02d}/{t.month:02d}/{t.year} {_hour12(t):02d}:{t.minute:02d} "
                                  f"{'SA' if t.hour < 12 else 'CH'}"),
    "english": (True, lambda t: f"{EN_MONTHS[t.month - 1]} {t.day}, {t.year} {_hour12(t)}:{t.minute:02d} "
                                f"{'AM' if t.hour < 12 else 'PM'}"),
}

instants = st.datetimes(min_value=datetime(1912, 1, 2), max_value=datetime(2100, 12, 30)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=UTC)
)
site_zones = st.one_of(
    st.just(HCM),
    st.sampled_from(OFFSET_RANGE).map(lambda m: timezone(timedelta(minutes=m))),
)


@settings(max_examples=400)
@given(instant=instants, tz=site_zones, shape=st.sampled_from(sorted(SHAPES)))
def test_round_trip_in_every_shape(instant, tz, shape):
    """Format an instant in the site zone in each shape, parse it back: same instant, same offset."""
    naive, render = SHAPES[shape]
    local = instant.astimezone(tz)
    assume(not (naive and local.fold))   # the repeated hour of a clock change has no naive spelling
    dt, warnings = parse_datetime(render(local), tz)
    assert dt == instant
    assert dt.utcoffset() == local.utcoffset()
    assert warnings == ()


# --- writing ---------------------------------------------------------------


def test_write_date_rfc822_exact():
    """RSS dates are RFC 822 with a four-digit year and a +HHMM offset."""
    assert write_date(vn(2021, 12, 2, 23, 30), "rfc822") == "Thu, 02 Dec 2021 23:30:00 +0700"
    assert write_date(at(UTC, 2021, 12, 2, 16, 30, 5, 999999), "rfc822") == "Thu, 02 Dec 2021 16:30:05 +0000"
    assert write_date(at(off(-3, 30), 2022, 1, 5, 7, 5), "rfc822") == "Wed, 05 Jan 2022 07:05:00 -0330"
    assert write_date(vn(1970, 1, 1), "rfc822") == "Thu, 01 Jan 1970 00:00:00 +0800"


def test_write_date_rfc3339_exact():
    """Atom and JSON Feed dates: whole seconds (a fraction cut off, as RFC 822 must), UTC written +00:00."""
    assert write_date(vn(2021, 12, 2, 23, 30), "rfc3339") == "2021-12-02T23:30:00+07:00"
    assert write_date(at(UTC, 2021, 12, 2, 16, 30, 0, 123456), "rfc3339") == "2021-12-02T16:30:00+00:00"
    assert write_date(at(off(-5), 2021, 12, 2, 11, 30, 59), "rfc3339") == "2021-12-02T11:30:59-05:00"
    assert write_date(at(off(5, 45), 2021, 12, 2, 22, 15), "rfc3339") == "2021-12-02T22:15:00+05:45"


def test_write_date_page_exact():
    """Pages show the wall clock in the reader's language."""
    assert write_date(vn(2021, 12, 2, 23, 30), "page", "vi") == "02/12/2021 - 23:30"
    assert write_date(vn(2022, 1, 5, 7, 5), "page", "vi") == "05/01/2022 - 07:05"
    assert write_date(vn(2021, 12, 2, 23, 30), "page", "en") == "2 December 2021, 23:30"
    assert write_date(vn(2022, 1, 5, 7, 5), "page", "en") == "5 January 2022, 07:05"


def test_a_page_in_another_language_gets_the_english_date():
    """Only vi has a page format of its own; every other language is written as English."""
    assert write_date(vn(2021, 12, 2, 23, 30), "page", "fr") == "2 December 2021, 23:30"
    with pytest.raises(ValueError):
        write_date(vn(2021, 12, 2, 23, 30), "http-date")


@pytest.mark.parametrize("form", FORMS)
def test_write_date_rejects_naive(form):
    """A naive datetime has no offset to write."""
    with pytest.raises(ValueError):
        write_date(datetime(2021, 12, 2, 23, 30), form)


def test_write_date_ignores_locale():
    """Day and month names stay English under a Vietnamese LC_TIME (when the machine has one)."""
    saved = locale.setlocale(locale.LC_TIME)
    try:
        for name in ("vi_VN.UTF-8", "vi_VN.utf8", "vi_VN"):
            try:
                locale.setlocale(locale.LC_TIME, name)
                break
            except locale.Error:
                continue
        assert write_date(vn(2021, 12, 2, 23, 30), "rfc822") == "Thu, 02 Dec 2021 23:30:00 +0700"
        assert write_date(vn(2021, 12, 2, 23, 30), "page", "en") == "2 December 2021, 23:30"
    finally:
        locale.setlocale(locale.LC_TIME, saved)


# --- prose our own shapes do not cover: python-dateutil reads it, offsets stay ours ------------

PROSE = [
    ("2021 December 2 23:30", datetime(2021, 12, 2, 23, 30, tzinfo=HCM)),
    ("Thu Dec  2 23:30:00 2021", datetime(2021, 12, 2, 23, 30, tzinfo=HCM)),
    ("Dec 2nd 2021, 11:30 p.m. GMT+7", datetime(2021, 12, 2, 23, 30, tzinfo=timezone(timedelta(hours=7)))),
    ("Updated: Thursday, 2 December 2021 11:30 PM +0700",
     datetime(2021, 12, 2, 23, 30, tzinfo=timezone(timedelta(hours=7)))),
    ("2nd December 2021 13:45 UTC", datetime(2021, 12, 2, 13, 45, tzinfo=timezone.utc)),
]


@pytest.mark.parametrize("text, expected", PROSE)
def test_dateutil_reads_other_english_prose_with_our_offsets(text, expected):
    dt, warnings = parse_datetime(text, HCM)
    assert dt == expected
    assert dt.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("text", [
    "Thursday 2nd December 2021 at 11.30pm",     # a time we cannot read ourselves is refused, not guessed
    "Someday in December 2021",                  # no day
    "December 2021",                             # no day: dateutil would fill one in silently
])
def test_prose_that_is_incomplete_or_ambiguous_is_an_error(text):
    with pytest.raises(DateError):
        parse_datetime(text, HCM)


@pytest.mark.parametrize("text", [
    "Mar 1st 2026, 9:51 a.m. -0500 (GMT+7)",
    "Thursday 2nd December 2021 11:30 PM +0800 UTC+7",
])
def test_prose_with_two_different_offsets_is_an_error_not_one_of_them(text):
    """The offset written right after the time counts in prose read by dateutil too."""
    with pytest.raises(DateError) as caught:
        parse_datetime(text, HCM)
    assert "it has two different offsets" in str(caught.value)

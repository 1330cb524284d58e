"""Dates at the ends of the calendar: published correctly or rejected with a reason, never a crash."""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedpub.dates import OFFSET_RANGE, YEAR_RANGE, parse_datetime, range_problem, site_time, write_date
from feedpub.errors import DateError, PlaceholderDateError

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
UTC = timezone.utc
RANGE = "expected a date from the year 1000 to 9999, in UTC and in the site zone too"
PLACEHOLDER = ('0001-01-01 00:00:00 is the placeholder .NET and SQL exports write for "no date" '
               "(expected a real date such as 02/12/2021 - 23:30)")
STAMP = "expected a string, or a Unix timestamp in seconds as a JSON number"

ACCEPTED = [
    ("9999-12-31T23:59:59", datetime(9999, 12, 31, 23, 59, 59, tzinfo=HCM)),
    ("31/12/9999 23:59", datetime(9999, 12, 31, 23, 59, tzinfo=HCM)),
    ("9999-12-31T16:59:59Z", datetime(9999, 12, 31, 16, 59, 59, tzinfo=UTC)),
    (253402275599, datetime(9999, 12, 31, 16, 59, 59, tzinfo=UTC)),
    ("1000-01-01T12:00:00Z", datetime(1000, 1, 1, 12, tzinfo=UTC)),
    ("1000-01-01T07:00:00+07:00", datetime(1000, 1, 1, 7, tzinfo=timezone(timedelta(hours=7)))),
    ("01/01/1000 12:00", datetime(1000, 1, 1, 12, tzinfo=HCM)),
    ("1 Jan 1000 15:00 +1400", datetime(1000, 1, 1, 15, tzinfo=timezone(timedelta(hours=14)))),
    ("Fri, 31 Dec 9999 04:00:00 -1200", datetime(9999, 12, 31, 4, tzinfo=timezone(timedelta(hours=-12)))),
]


@pytest.mark.parametrize(("value", "expected"), ACCEPTED, ids=[repr(v) for v, _ in ACCEPTED])
def test_dates_near_the_ends_of_the_supported_range_publish(value, expected):
    """Accepted means writable: in the site zone, as RSS and Atom dates, as a page date."""
    dt, warnings = parse_datetime(value, HCM)
    assert (dt, dt.utcoffset(), warnings) == (expected, expected.utcoffset(), ())
    shown = site_time(dt, HCM)
    assert len(write_date(shown, "rfc822").split()[3]) == 4
    assert write_date(shown, "rfc3339")[:4].isdigit()
    assert len(shown.strftime("%Y")) == 4           # feedgen writes RSS dates with strftime
    assert write_date(shown, "page", "vi")
    assert math.isfinite(dt.timestamp())


REJECTED = [
    ("9999-12-31T23:59:59Z", "in the site zone (Asia/Ho_Chi_Minh) it falls after the year 9999"),
    (253402300799, "in the site zone (Asia/Ho_Chi_Minh) it falls after the year 9999"),
    ("9999-12-31T23:59:59-12:00", "in UTC it falls after the year 9999"),
    ("Fri, 31 Dec 9999 23:00:00 -0100", "in UTC it falls after the year 9999"),
    ("1000-01-01T00:00:00+07:00", "in UTC it falls before the year 1000"),
    ("1 Jan 1000 00:00 +1400", "in UTC it falls before the year 1000"),
    ("Fri, 31 Dec 9999 12:00:00 -1200", "in UTC it falls after the year 9999"),
    ("0999-12-31T23:59:59", "year 999 is out of range"),
    ("31/12/0999 23:59", "year 999 is out of range"),
    ("0001-01-02T00:00:00", "year 1 is out of range"),
    ("01/01/0001 00:01", "year 1 is out of range"),
    ("0001-01-01T00:00:01Z", "year 1 is out of range"),
    ("0000-01-01", "year 0 is out of range"),
    ("00/00/0000", "year 0 is out of range"),
    (-62135596801, f"timestamp out of range"),
    (253402300800, f"timestamp out of range"),
    (1e20, "timestamp out of range"),
    (-1e20, "timestamp out of range"),
    (float("inf"), "timestamp out of range"),
    (float("-inf"), "timestamp out of range"),
    (2**63, "timestamp out of range"),
    (-(2**63), "timestamp out of range"),
]


@pytest.mark.parametrize(("value", "reason"), REJECTED, ids=[repr(v) for v, _ in REJECTED])
def test_dates_beyond_the_supported_range_are_one_error_with_a_reason(value, reason):
    with pytest.raises(DateError) as caught:
        parse_datetime(value, HCM)
    assert not isinstance(caught.value, PlaceholderDateError)
    message = str(caught.value)
    shown = f'"{value!r}"' if not isinstance(value, str) else f'"{value}"'
    assert message.startswith(f"{shown} is not a valid date: ")
    if reason == "timestamp out of range":
        assert f"timestamp out of range ({STAMP}" in message
    else:
        assert message.endswith(f"{reason} ({RANGE})")


PLACEHOLDERS = ["0001-01-01T00:00:00", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+00:00", "0001-01-01 00:00",
                "0001-01-01", "01/01/0001 00:00", "1/1/0001 12:00:00 AM", "1 Jan 0001 00:00 +1400",
                "0001-01-01T00:00:00.0000000", "00010101", "00010101000000", -62135596800, -62135596800.0]


@pytest.mark.parametrize("value", PLACEHOLDERS, ids=repr)
@pytest.mark.parametrize("order", ["dmy", "mdy"])
def test_the_net_and_sql_placeholder_is_its_own_error(value, order):
    """0001-01-01 00:00:00 in any shape is "no date": a PlaceholderDateError, which an optional
    field reads as absent."""
    with pytest.raises(PlaceholderDateError) as caught:
        parse_datetime(value, HCM, order=order)
    shown = f'"{value!r}"' if not isinstance(value, str) else f'"{value}"'
    assert str(caught.value) == f"{shown} is not a valid date: {PLACEHOLDER}"
    assert caught.value.shown == shown


def test_a_site_zone_west_of_greenwich_can_push_a_date_before_the_year_1000():
    """1000-01-01 02:00 UTC is still 999 in New York (local mean time -04:56:02)."""
    with pytest.raises(DateError) as caught:
        parse_datetime("1000-01-01T02:00:00Z", ZoneInfo("America/New_York"))
    assert str(caught.value).endswith(f"in the site zone (America/New_York) it falls before the year 1000 ({RANGE})")
    assert parse_datetime("1000-01-01T02:00:00Z", HCM)[0] == datetime(1000, 1, 1, 2, tzinfo=UTC)


def test_range_problem_is_the_one_rule():
    assert YEAR_RANGE == range(1000, 10000)
    assert range_problem(datetime(2026, 3, 1, tzinfo=UTC)) is None
    assert range_problem(datetime(9999, 12, 31, 23, tzinfo=UTC)) is None
    assert range_problem(datetime(9999, 12, 31, 23, tzinfo=UTC), HCM) == (
        "in the site zone (Asia/Ho_Chi_Minh) it falls after the year 9999")
    assert range_problem(datetime(1000, 1, 1, tzinfo=timezone(timedelta(hours=1)))) == (
        "in UTC it falls before the year 1000")
    assert range_problem(datetime(1, 1, 1, tzinfo=UTC)) == "year 1 is out of range"
    with pytest.raises(ValueError):
        range_problem(datetime(1, 1, 1))


def test_site_time_of_an_unshowable_instant_is_a_date_error_not_an_overflow():
    with pytest.raises(DateError) as caught:
        site_time(datetime(9999, 12, 31, 23, tzinfo=UTC), HCM)
    assert str(caught.value) == ("9999-12-31T23:00:00+00:00 cannot be shown in Asia/Ho_Chi_Minh: in the site "
                                 f"zone (Asia/Ho_Chi_Minh) it falls after the year 9999 ({RANGE})")


# --- property: whatever the value, parse -> site time -> every format raises only DateError --------

ZONES = [HCM, UTC, ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Etc/GMT+12"), ZoneInfo("America/New_York"),
         ZoneInfo("Asia/Kolkata")]
EDGE_YEARS = st.one_of(st.integers(0, 12), st.integers(995, 1002), st.integers(9995, 9999), st.integers(1, 9999))
EXTREME_OFFSETS = st.integers(-23 * 60 - 59, 23 * 60 + 59)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _sign(minutes: int) -> str:
    return "-" if minutes < 0 else "+"


@st.composite
def date_strings(draw):
    y, mo, d = draw(EDGE_YEARS), draw(st.integers(0, 13)), draw(st.integers(0, 32))
    h, mi, s = draw(st.integers(0, 24)), draw(st.integers(0, 60)), draw(st.integers(0, 60))
    o = draw(EXTREME_OFFSETS)
    oh, om = divmod(abs(o), 60)
    sg = _sign(o)
    mon = MONTHS[(mo - 1) % 12]
    shapes = [
        f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}",
        f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{sg}{oh:02d}:{om:02d}",
        f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z",
        f"{d:02d}/{mo:02d}/{y:04d} - {h:02d}:{mi:02d}",
        f"{mo}/{d}/{y:04d} {h % 12 or 12}:{mi:02d}:{s:02d} {'AM' if h < 12 else 'PM'}",
        f"{d}/{mo}/{y:04d} {h:02d}:{mi:02d} (GMT{sg}{oh})",
        f"Thu, {d:02d} {mon} {y:04d} {h:02d}:{mi:02d}:{s:02d} {sg}{oh:02d}{om:02d}",
        f"{d} {mon} {y:04d} {h:02d}:{mi:02d} {sg}{oh:02d}{om:02d}",
        f"Sun {mon} {d:02d} {y:04d} {h:02d}:{mi:02d}:{s:02d} GMT{sg}{oh:02d}{om:02d} (Somewhere Time)",
        f"{y:04d}{mo:02d}{d:02d}{h:02d}{mi:02d}{s:02d}",
        f"{y:04d}{mo:02d}{d:02d}",
        f"ngày {d} tháng {mo} năm {y:04d} lúc {h} giờ {mi}",
        f"{mon} {d}, {y:04d} {h % 12 or 12}:{mi:02d} {'AM' if h < 12 else 'PM'} GMT{sg}{oh}",
    ]
    return draw(st.sampled_from(shapes))


EXTREME_NUMBERS = st.one_of(
    st.integers(-62135596900, -62135596700), st.integers(-62135700000, -62100000000),
    st.integers(253402200000, 253402400000), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.integers(10_000_000, 99_999_999),
    st.integers(10**13, 10**14),
)


@settings(max_examples=1500, deadline=None)
@given(value=st.one_of(date_strings(), EXTREME_NUMBERS, st.integers(0, 99999999999999).map(str)),
       tz=st.sampled_from(ZONES), order=st.sampled_from(["dmy", "mdy"]))
def test_only_date_error_ever_escapes_and_accepted_dates_render_everywhere(value, tz, order):
    try:
        dt, _ = parse_datetime(value, tz, order=order)
    except DateError:
        return
    assert range_problem(dt, tz) is None
    assert dt.utcoffset() // timedelta(minutes=1) in OFFSET_RANGE or dt.tzinfo is tz
    local = site_time(dt, tz)
    for rendered in (write_date(local, "rfc822").split()[3], write_date(local, "rfc3339")[:4],
                     local.strftime("%Y"), write_date(dt, "rfc3339")[:4], write_date(dt, "rfc822").split()[3]):
        assert len(rendered) == 4 and rendered.isdigit()
    assert write_date(local, "page", "vi") and write_date(local, "page", "en")
    assert math.isfinite(dt.timestamp())
    # The same instant. (Not local == dt: PEP 495 makes an inter-zone == false for a wall time
    # that a zone shows twice, such as 01:00 on the night daylight saving time ends.)
    assert local.timestamp() == dt.timestamp()


@settings(max_examples=500, deadline=None)
@given(dt=st.datetimes(timezones=st.integers(-23 * 60 - 59, 23 * 60 + 59).map(
    lambda m: timezone(timedelta(minutes=m)))), tz=st.sampled_from(ZONES))
def test_site_time_and_the_formats_raise_only_date_error_for_any_aware_datetime(dt, tz):
    try:
        local = site_time(dt, tz)
    except DateError:
        return
    write_date(local, "rfc822")
    write_date(local, "rfc3339")

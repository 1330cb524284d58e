"""Numeric dates are read in the order the site declares ([site] date_order), never another."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from feedpub.config import DATE_ORDERS, parse_config
from feedpub.dates import OncePerSource, parse_datetime
from feedpub.errors import ConfigError, DateError

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
EAST7 = timezone(timedelta(hours=7))
DMY = "expected DD/MM/YYYY [HH:MM]"
MDY = "expected MM/DD/YYYY [HH:MM]"
ANY = ("expected a date such as 02/12/2021 - 23:30, 2021-12-02T23:30:00+07:00 "
       "or December 2, 2021 11:30 PM")
EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def vn(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=HCM)


def east7(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=EAST7)


# (text, reading under "dmy", reading under "mdy"): valid both ways, so the setting decides
BOTH_ORDERS = [
    ("2/4/2026 3:20:00 PM", vn(2026, 4, 2, 15, 20), vn(2026, 2, 4, 15, 20)),
    ("3/7/2026 8:35:37 AM", vn(2026, 7, 3, 8, 35, 37), vn(2026, 3, 7, 8, 35, 37)),
    ("08/09/2026 19:38:56", vn(2026, 9, 8, 19, 38, 56), vn(2026, 8, 9, 19, 38, 56)),
    ("11/10/2025 - 06:05", vn(2025, 10, 11, 6, 5), vn(2025, 11, 10, 6, 5)),
    ("05.06.2026 10:00", vn(2026, 6, 5, 10), vn(2026, 5, 6, 10)),
    ("05-06-2026, 10:00:01", vn(2026, 6, 5, 10, 0, 1), vn(2026, 5, 6, 10, 0, 1)),
    ("10:00 05/06/2026", vn(2026, 6, 5, 10), vn(2026, 5, 6, 10)),
    ("05/06/2026", vn(2026, 6, 5), vn(2026, 5, 6)),
    ("05/06/2026 10:00 GMT+7", east7(2026, 6, 5, 10), east7(2026, 5, 6, 10)),
    ("5/6/2026, 10:00 (GMT+7)", east7(2026, 6, 5, 10), east7(2026, 5, 6, 10)),
    ("5/6/2026 10:00:00 AM +07:00", east7(2026, 6, 5, 10), east7(2026, 5, 6, 10)),
    ("1/2/2026 12:00:00 AM", vn(2026, 2, 1), vn(2026, 1, 2)),
    ("5/6/2026\u00a010:00", vn(2026, 6, 5, 10), vn(2026, 5, 6, 10)),
    # the same either way: equal numbers, year first, or a month in words
    ("06/06/2026 10:00", vn(2026, 6, 6, 10), vn(2026, 6, 6, 10)),
    ("2026/05/06 10:00", vn(2026, 5, 6, 10), vn(2026, 5, 6, 10)),
    ("2026-05-06T10:00:00+07:00", east7(2026, 5, 6, 10), east7(2026, 5, 6, 10)),
    ("2026-05-06 10:00", vn(2026, 5, 6, 10), vn(2026, 5, 6, 10)),
    ("6 May 2026 10:00", vn(2026, 5, 6, 10), vn(2026, 5, 6, 10)),
    ("May 6, 2026 10:00 AM", vn(2026, 5, 6, 10), vn(2026, 5, 6, 10)),
    ("ngày 5 tháng 6 năm 2026", vn(2026, 6, 5), vn(2026, 6, 5)),
    ("Wed, 06 May 2026 10:00:00 +0700", east7(2026, 5, 6, 10), east7(2026, 5, 6, 10)),
]


@pytest.mark.parametrize(("text", "dmy", "mdy"), BOTH_ORDERS, ids=[t for t, _, _ in BOTH_ORDERS])
def test_the_declared_order_decides(text, dmy, mdy):
    """Each order reads the numbers its own way; shapes that name the month or put the year first
    read the same under both."""
    for order, expected in (("dmy", dmy), ("mdy", mdy)):
        dt, warnings = parse_datetime(text, HCM, order=order)
        assert (dt, dt.utcoffset()) == (expected, expected.utcoffset()), order
        # an AM/PM clock read day first, where month first gives another date: the source may be en-US
        twelve_hour_day_first = order == "dmy" and (" AM" in text or " PM" in text) and dmy != mdy
        assert [w.key for w in warnings if isinstance(w, OncePerSource)] == (
            ["twelve-hour-day-first"] if twelve_hour_day_first else []), order
        assert [w for w in warnings if not isinstance(w, OncePerSource)] == [], order


def test_day_first_is_the_default():
    assert parse_datetime("2/4/2026 3:20:00 PM", HCM)[0] == vn(2026, 4, 2, 15, 20)


# (text, the order it is valid in, its date): only one reading is a date
ONE_ORDER = [
    ("07/13/2026 09:12:25", "mdy", vn(2026, 7, 13, 9, 12, 25)),
    ("13/07/2026 09:12:25", "dmy", vn(2026, 7, 13, 9, 12, 25)),
    ("12/25/2025 - 08:00", "mdy", vn(2025, 12, 25, 8)),
    ("25/12/2025 - 08:00", "dmy", vn(2025, 12, 25, 8)),
    ("1/31/2026 11:59:59 PM", "mdy", vn(2026, 1, 31, 23, 59, 59)),
    ("31/1/2026 23:59:59", "dmy", vn(2026, 1, 31, 23, 59, 59)),
    ("09/30/2026 10:00 (GMT+7)", "mdy", east7(2026, 9, 30, 10)),
    ("30/09/2026 10:00 (GMT+7)", "dmy", east7(2026, 9, 30, 10)),
    ("02/29/2028", "mdy", vn(2028, 2, 29)),
    ("Monday, 12/28/2026", "mdy", vn(2026, 12, 28)),
]
SETTING = {"dmy": ("day-first", "day first"), "mdy": ("month-first", "month first")}


@pytest.mark.parametrize(("text", "valid_in", "expected"), ONE_ORDER, ids=[t for t, _, _ in ONE_ORDER])
def test_a_date_valid_only_in_the_other_order_is_rejected_with_that_reading(text, valid_in, expected):
    """Read in its own order it is that date; under the other setting it is an error that says how
    it would read and which setting gives that reading, never a silent date."""
    dt, warnings = parse_datetime(text, HCM, order=valid_in)
    assert (dt, dt.utcoffset(), warnings) == (expected, expected.utcoffset(), ())
    other = "mdy" if valid_in == "dmy" else "dmy"
    reading, words = SETTING[valid_in]
    month = max(int(n) for n in text.split(", ")[-1].split()[0].split("/")[:2])
    long = f"{expected.day} {expected.strftime('%B')} {expected.year}"
    with pytest.raises(DateError) as caught:
        parse_datetime(text, HCM, order=other)
    assert str(caught.value) == (
        f'"{text}" is not a valid date: month {month} is out of range; {reading} it is {long} '
        f'({DMY if other == "dmy" else MDY}; set date_order = "{valid_in}" in [site] '
        f"if this source writes {words})")


def test_the_hint_names_the_other_reading_and_the_setting():
    with pytest.raises(DateError) as caught:
        parse_datetime("07/13/2026 09:12:25", HCM)
    assert str(caught.value) == (
        '"07/13/2026 09:12:25" is not a valid date: month 13 is out of range; month-first it is '
        '13 July 2026 (expected DD/MM/YYYY [HH:MM]; set date_order = "mdy" in [site] if this source '
        "writes month first)")


NEITHER = [
    ("02/30/2026", "dmy", f"month 30 is out of range ({DMY})"),
    ("02/30/2026", "mdy", f"day 30 is out of range for February 2026 ({MDY})"),
    ("30/02/2026", "dmy", f"day 30 is out of range for February 2026 ({DMY})"),
    ("30/02/2026", "mdy", f"month 30 is out of range ({MDY})"),
    ("13/13/2026", "dmy", f"month 13 is out of range ({DMY})"),
    ("13/13/2026", "mdy", f"month 13 is out of range ({MDY})"),
    ("00/05/2026", "mdy", f"month 0 is out of range ({MDY})"),
    ("07/13/26 09:12", "dmy", f"the year must have four digits ({DMY})"),
    ("07/13/26 09:12", "mdy", f"the year must have four digits ({MDY})"),
    ("2/29/2026", "mdy", f"day 29 is out of range for February 2026 ({MDY})"),
]


@pytest.mark.parametrize(("text", "order", "reason"), NEITHER, ids=[f"{t} {o}" for t, o, _ in NEITHER])
def test_a_date_valid_in_neither_order_gets_the_plain_reason(text, order, reason):
    """No reading to suggest: the reason and the shape the setting expects."""
    with pytest.raises(DateError) as caught:
        parse_datetime(text, HCM, order=order)
    assert str(caught.value) == f'"{text}" is not a valid date: {reason}'


@pytest.mark.parametrize("order", DATE_ORDERS)
@pytest.mark.parametrize("text", ["2/4/2026 and 15:20", "5/6/2026 and noon"])
def test_numeric_dates_never_reach_the_prose_reader(text, order):
    """English prose goes to python-dateutil only when it names its month in words: a numeric
    date there would be read in dateutil's order, not the site's."""
    with pytest.raises(DateError):
        parse_datetime(text, HCM, order=order)


# --- weekdays keep being checked against the date the setting gives ------------------------


def test_weekday_agrees_with_the_month_first_reading():
    """4 February 2026 is a Wednesday: no warning under "mdy"."""
    assert parse_datetime("Wednesday, 2/4/2026 3:20 PM", HCM, order="mdy") == (vn(2026, 2, 4, 15, 20), ())
    assert parse_datetime("Thứ Tư, 2/4/2026 15:20", HCM, order="mdy") == (vn(2026, 2, 4, 15, 20), ())


def test_weekday_of_the_day_first_reading_warns_under_mdy_and_names_the_setting():
    """2 April 2026 is a Thursday: under "mdy" the date (4 February) wins, the warning says how
    the date reads day first and which setting gives that reading."""
    dt, warnings = parse_datetime("Thứ Năm, 2/4/2026 15:20", HCM, order="mdy")
    assert dt == vn(2026, 2, 4, 15, 20)
    assert warnings == ('weekday "Thứ Năm" does not match 02/04/2026 (a Wednesday); the date wins; '
                        'day-first it is Thursday 2 April 2026 '
                        '(set date_order = "dmy" in [site] if this source writes day first)',)


def test_weekday_of_the_month_first_reading_warns_under_dmy_and_names_the_setting():
    dt, warnings = parse_datetime("Wednesday, 2/4/2026 3:20 PM", HCM, order="dmy")
    assert dt == vn(2026, 4, 2, 15, 20)
    assert warnings == ('weekday "Wednesday" does not match 02/04/2026 (a Thursday); the date wins; '
                        'month-first it is Wednesday 4 February 2026 '
                        '(set date_order = "mdy" in [site] if this source writes month first)',)


@pytest.mark.parametrize("order", DATE_ORDERS)
def test_weekday_matching_neither_reading_is_a_plain_warning(order):
    """Sunday is neither 2 April nor 4 February 2026: the date wins, nothing to suggest."""
    dt, warnings = parse_datetime("Sunday, 2/4/2026", HCM, order=order)
    shown, real = ("02/04/2026", "Thursday") if order == "dmy" else ("02/04/2026", "Wednesday")
    assert warnings == (f'weekday "Sunday" does not match {shown} (a {real}); the date wins',)


def test_a_date_the_same_in_both_orders_suggests_nothing():
    """06/06/2026 is a Saturday either way: a wrong weekday has no other reading to offer."""
    _, warnings = parse_datetime("Monday, 06/06/2026", HCM, order="mdy")
    assert warnings == ('weekday "Monday" does not match 06/06/2026 (a Saturday); the date wins',)


def test_an_unknown_order_is_a_programming_error():
    with pytest.raises(ValueError) as caught:
        parse_datetime("05/06/2026", HCM, order="ymd")
    assert not isinstance(caught.value, DateError)


# --- the setting ----------------------------------------------------------------------------

SITE = '[site]\nbase_url = "https://news.example.vn"\n{extra}\n[languages.vi]\ntitle = "T"\ndescription = "D"\n'


def test_date_order_setting_defaults_to_day_first():
    assert parse_config(SITE.format(extra="")).date_order == "dmy"
    assert parse_config(SITE.format(extra='date_order = "mdy"')).date_order == "mdy"
    assert parse_config(SITE.format(extra='date_order = "dmy"')).date_order == "dmy"


@pytest.mark.parametrize("value", ['"ymd"', '"MDY"', '""', "1", "true", '["mdy"]'])
def test_date_order_setting_must_be_dmy_or_mdy(value):
    with pytest.raises(ConfigError) as caught:
        parse_config(SITE.format(extra=f"date_order = {value}"))
    message = str(caught.value)
    assert message.startswith("feedpub.toml: [site] date_order: ")
    assert message.endswith('is not valid (expected "dmy" for day-first dates such as 13/07/2026, '
                            'or "mdy" for month-first dates such as 07/13/2026)')


@pytest.mark.parametrize("order", DATE_ORDERS)
def test_every_configured_order_is_one_the_reader_knows(order):
    parse_datetime("05/06/2026", HCM, order=order)


# --- round trip: a month-first writer, read under both settings -----------------------------


def _h12(t: datetime) -> int:
    return t.hour % 12 or 12


def _ampm(t: datetime) -> str:
    return "AM" if t.hour < 12 else "PM"


MONTH_FIRST = {
    "dotnet": (HCM, lambda t: f"{t.month}/{t.day}/{t.year} {_h12(t)}:{t.minute:02d}:{t.second:02d} {_ampm(t)}"),
    "padded": (HCM, lambda t: f"{t.month:02d}/{t.day:02d}/{t.year} {t.hour:02d}:{t.minute:02d}:{t.second:02d}"),
    "page": (HCM, lambda t: f"{t.month:02d}/{t.day:02d}/{t.year} - {t.hour:02d}:{t.minute:02d}"),
    "dashes": (HCM, lambda t: f"{t.month:02d}-{t.day:02d}-{t.year}, {t.hour:02d}:{t.minute:02d}"),
    "dots": (HCM, lambda t: f"{t.month}.{t.day}.{t.year} {t.hour}:{t.minute:02d}"),
    "time_first": (HCM, lambda t: f"{t.hour:02d}:{t.minute:02d} {t.month}/{t.day}/{t.year}"),
    "weekday": (HCM, lambda t: f"{EN_DAYS[t.weekday()]}, {t.month}/{t.day}/{t.year} "
                               f"{_h12(t)}:{t.minute:02d} {_ampm(t)}"),
    "gmt": (EAST7, lambda t: f"{t.month}/{t.day}/{t.year} {t.hour:02d}:{t.minute:02d} (GMT+7)"),
    "offset": (EAST7, lambda t: f"{t.month}/{t.day}/{t.year} {t.hour:02d}:{t.minute:02d}:{t.second:02d} +07:00"),
    "date_only": (HCM, lambda t: f"{t.month}/{t.day}/{t.year}"),
}
PRECISION = {"page": "minute", "dashes": "minute", "dots": "minute", "time_first": "minute", "weekday": "minute",
             "gmt": "minute", "date_only": "day"}


def _truncated(t: datetime, shape: str) -> datetime:
    if PRECISION.get(shape) == "day":
        return t.replace(hour=0, minute=0, second=0)
    if PRECISION.get(shape) == "minute":
        return t.replace(second=0)
    return t


@settings(max_examples=500)
@given(wall=st.datetimes(min_value=datetime(1912, 1, 1), max_value=datetime(2200, 12, 31)).map(
           lambda d: d.replace(microsecond=0)),
       shape=st.sampled_from(sorted(MONTH_FIRST)))
def test_month_first_round_trip(wall, shape):
    """Written month first: "mdy" gives it back exactly; "dmy" gives the day-first reading of the
    same digits when that is a date, or rejects it with the hint, and nothing else."""
    zone, render = MONTH_FIRST[shape]
    wall = _truncated(wall, shape)
    assume(not (zone is HCM and _clock_change(wall)))   # times a clock change skips or repeats: test_date_warnings
    text = render(wall)
    expected = wall.replace(tzinfo=zone)

    dt, warnings = parse_datetime(text, HCM, order="mdy")
    assert (dt, dt.utcoffset(), dt.replace(tzinfo=None)) == (expected, expected.utcoffset(), wall)
    assert warnings == ()

    try:
        swapped = wall.replace(month=wall.day, day=wall.month)
    except ValueError:
        swapped = None
    if swapped is None:
        with pytest.raises(DateError) as caught:
            parse_datetime(text, HCM, order="dmy")
        assert 'set date_order = "mdy" in [site] if this source writes month first' in str(caught.value)
        assert f"month-first it is {wall.day} {wall.strftime('%B')} {wall.year}" in str(caught.value)
        return
    assume(not (zone is HCM and _clock_change(swapped)))
    dt, warnings = parse_datetime(text, HCM, order="dmy")
    assert dt.replace(tzinfo=None) == swapped
    assert dt.tzinfo == zone
    if shape == "weekday" and swapped.weekday() != wall.weekday():
        assert len(warnings) == 1 and "month-first it is" in warnings[0]
    elif shape == "dotnet" and swapped != wall:        # an AM/PM clock read day first: said once per source
        assert [w.key for w in warnings if isinstance(w, OncePerSource)] == ["twelve-hour-day-first"]
        assert f"month-first it is {wall.day} {wall.strftime('%B')} {wall.year}" in warnings[0]
    else:
        assert warnings == ()


def _clock_change(wall: datetime) -> bool:
    """True for a wall time Vietnam's clocks skipped or showed twice."""
    return wall.replace(tzinfo=HCM, fold=1).utcoffset() != wall.replace(tzinfo=HCM).utcoffset()

"""More shapes sites print: character references, JavaScript dates, compact stamps, relative times,
offsets beyond the real world, and junk around a date."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from feedpub.dates import OFFSET_RANGE, fixed_offset, parse_datetime
from feedpub.errors import DateError

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
UTC = timezone.utc
ORDERS = ("dmy", "mdy")
ANY = ("expected a date such as 02/12/2021 - 23:30, 2021-12-02T23:30:00+07:00 "
       "or December 2, 2021 11:30 PM")
OFFSET = "expected an offset from -12:00 to +14:00, such as +07:00, GMT+7 or UTC-5"
STAMP = "expected a string, or a Unix timestamp in seconds as a JSON number"
DIGITS = "expected YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, or a Unix timestamp in seconds"
ABSOLUTE = "expected the date itself, such as 02/12/2021 - 23:30 or 2021-12-02T23:30:00+07:00"
RELATIVE = ("is a relative time, which cannot be a feed date: the instant would move between runs "
            "and readers would see the item jump")


def off(minutes: int) -> timezone:
    return timezone(timedelta(minutes=minutes))


def vn(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=HCM)


def at(minutes: int, *fields: int) -> datetime:
    return datetime(*fields, tzinfo=off(minutes))


def parsed(value, order="dmy"):
    dt, warnings = parse_datetime(value, HCM, order=order)
    return dt, dt.utcoffset(), warnings


def rejected(value, order="dmy") -> str:
    with pytest.raises(DateError) as caught:
        parse_datetime(value, HCM, order=order)
    return str(caught.value)


# --- HTML character references ---------------------------------------------------------------

REFERENCES = [
    ("Thứ Năm, ng&agrave;y 18/06/2020 17:58 PM (GMT+7)", at(420, 2020, 6, 18, 17, 58)),
    ("2026-03-01T09:51:00&#x2B;07:00", at(420, 2026, 3, 1, 9, 51)),
    ("2026-03-01T09:51:00&#43;07:00", at(420, 2026, 3, 1, 9, 51)),
    ("2026-03-01T09:51:00&plus;07:00", at(420, 2026, 3, 1, 9, 51)),
    ("01/03/2026&nbsp;-&nbsp;09:51", vn(2026, 3, 1, 9, 51)),
    ("01/03/2026 &ndash; 09:51", vn(2026, 3, 1, 9, 51)),
    ("Ch&#7911; nh&#7853;t, 01/03/2026 09:51", vn(2026, 3, 1, 9, 51)),
    ("Th&#x1EE9; Hai, 02/03/2026 - 07:15", vn(2026, 3, 2, 7, 15)),
    ("09:51 &#124; 01/03/2026", vn(2026, 3, 1, 9, 51)),
    ("March 1, 2026 9:51&#8239;AM", vn(2026, 3, 1, 9, 51)),
    ("01/03/2026 09:51&#8203;", vn(2026, 3, 1, 9, 51)),
]


@pytest.mark.parametrize(("text", "expected"), REFERENCES, ids=[t for t, _ in REFERENCES])
@pytest.mark.parametrize("order", ORDERS)
def test_character_references_are_decoded_before_reading(text, expected, order):
    if order == "mdy" and "/" in text and not text.startswith("2026"):
        expected = None                     # numeric: read month first below
    if expected is None:
        return
    assert parsed(text, order) == (expected, expected.utcoffset(), ())


def test_character_references_under_mdy_read_month_first():
    assert parsed("03/01/2026&nbsp;-&nbsp;09:51", "mdy") == (vn(2026, 3, 1, 9, 51), timedelta(hours=7), ())
    assert parsed("Ch&#7911; nh&#7853;t, 03/01/2026 09:51", "mdy")[0] == vn(2026, 3, 1, 9, 51)


def test_character_references_are_decoded_once_and_the_message_shows_the_decoded_text():
    """&amp;agrave; decodes to the text "&agrave;", which is not part of a date."""
    assert rejected("ng&amp;agrave;y 18/06/2020") == (
        '"ng&agrave;y 18/06/2020" is not a valid date: unexpected "ng&agrave;y" ' f"({ANY})")
    assert rejected("2026-03-01T09:51:00&#x2B;15:00") == (
        '"2026-03-01T09:51:00+15:00" is not a valid date: offset +15:00 is out of range ' f"({OFFSET})")


# --- JavaScript Date.toString() -------------------------------------------------------------

JAVASCRIPT = [
    ("Sun Mar 01 2026 09:51:10 GMT+0700 (Indochina Time)", at(420, 2026, 3, 1, 9, 51, 10)),
    ("Sun Mar 01 2026 09:51:10 GMT+0700 (Giờ Đông Dương)", at(420, 2026, 3, 1, 9, 51, 10)),
    ("Sun Mar 01 2026 09:51:10 GMT+0700 (ICT)", at(420, 2026, 3, 1, 9, 51, 10)),
    ("Sun Mar 01 2026 09:51:10 GMT+0700", at(420, 2026, 3, 1, 9, 51, 10)),
    ("Sat Feb 28 2026 21:51:10 GMT-0500 (Eastern Standard Time)", at(-300, 2026, 2, 28, 21, 51, 10)),
    ("Sun Mar 01 2026 02:51:10 GMT+0000 (Coordinated Universal Time)", at(0, 2026, 3, 1, 2, 51, 10)),
    ("Sun Mar 01 2026 08:21:10 GMT+0530 (India Standard Time)", at(330, 2026, 3, 1, 8, 21, 10)),
    ("Sun Mar 01 2026 16:36:10 GMT+1345 (Chatham Daylight Time)", at(825, 2026, 3, 1, 16, 36, 10)),
    ("Sun Mar 01 2026 09:51:10 GMT+0700 (heure normale d\u2019Indochine)", at(420, 2026, 3, 1, 9, 51, 10)),
]


@pytest.mark.parametrize(("text", "expected"), JAVASCRIPT, ids=[t for t, _ in JAVASCRIPT])
@pytest.mark.parametrize("order", ORDERS)
def test_javascript_date_strings_use_the_offset_and_ignore_the_zone_name(text, expected, order):
    """GMT+0700 is seven hours east, as JavaScript means it; the name in parentheses is a label."""
    assert parsed(text, order) == (expected, expected.utcoffset(), ())


def test_javascript_weekday_is_checked():
    dt, _, warnings = parsed("Mon Mar 01 2026 09:51:10 GMT+0700 (Indochina Time)")
    assert dt == at(420, 2026, 3, 1, 9, 51, 10)
    assert warnings == ('weekday "Mon" does not match 01/03/2026 (a Sunday); the date wins',)


@pytest.mark.parametrize(("text", "expected"), [
    ("Sun Mar 01 2026 09:51:10 GMT+0700 (GMT+07:00)", at(420, 2026, 3, 1, 9, 51, 10)),
    ("Sun Mar 01 2026 09:51:10 GMT+0700 (GMT+0700)", at(420, 2026, 3, 1, 9, 51, 10)),
    ("Sat Feb 28 2026 21:51:10 GMT-0500 (GMT-05:00)", at(-300, 2026, 2, 28, 21, 51, 10)),
    ("Sun Mar 01 2026 08:21:10 GMT+0530 (UTC+05:30)", at(330, 2026, 3, 1, 8, 21, 10)),
])
def test_javascript_label_may_be_the_offset_again_where_the_zone_has_no_name(text, expected):
    assert parsed(text) == (expected, expected.utcoffset(), ())


@pytest.mark.parametrize(("text", "reason"), [
    ("Sun Mar 01 2026 09:51:10 GMT+0700 (GMT+08:00)", "it has two different offsets"),
    ("Sun Mar 01 2026 09:51:10 GMT+0700 (GMT+07:60)", "offset +07:60 is out of range"),
    ("Sun Mar 01 2026 09:51:10 GMT+0700 (Indochina Time) x", 'unexpected "x"'),
    ("Sun Mar 01 2026 09:51:10 GMT+1500 (Nowhere Time)", "offset +15:00 is out of range"),
    ("Sun Mar 01 2026 09:51:10 (Indochina Time)", 'unexpected "Indochina Time"'),
    ("Sun Mar 01 2026 09:51:10 GMT+711", 'unexpected "+711"'),
])
def test_javascript_shapes_that_are_not_quite(text, reason):
    """A label without an offset, or anything after it, is not guessed at."""
    assert rejected(text).startswith(f'"{text}" is not a valid date: {reason} (')


# --- compact stamps and Unix timestamps --------------------------------------------------------

DIGIT_STRINGS = [
    ("20260307000500", vn(2026, 3, 7, 0, 5)),
    ("20260307235959", vn(2026, 3, 7, 23, 59, 59)),
    ("202603072359", vn(2026, 3, 7, 23, 59)),
    ("20260307", vn(2026, 3, 7)),
    ("19700101", vn(1970, 1, 1)),                   # +08:00, the zone's offset that year
    (" 20260307 ", vn(2026, 3, 7)),
    ("1772333470", datetime(2026, 3, 1, 2, 51, 10, tzinfo=UTC)),    # ten digits: Unix seconds
    ("999999999", datetime(2001, 9, 9, 1, 46, 39, tzinfo=UTC)),     # nine digits
]


@pytest.mark.parametrize(("text", "expected"), DIGIT_STRINGS, ids=[t for t, _ in DIGIT_STRINGS])
@pytest.mark.parametrize("order", ORDERS)
def test_digit_strings_are_compact_stamps_or_unix_seconds_by_length(text, expected, order):
    """8, 12 and 14 digits: YYYYMMDD[HHMM[SS]] in the site zone; 9 or 10: Unix seconds, in UTC."""
    dt, offset, warnings = parsed(text, order)
    assert (dt, offset, warnings) == (expected, expected.utcoffset(), ())
    assert dt.tzinfo == expected.tzinfo


DIGIT_ERRORS = [
    ("20261307", f"month 13 is out of range (expected YYYYMMDD)"),
    ("20260230", f"day 30 is out of range for February 2026 (expected YYYYMMDD)"),
    ("20260307250000", "hour 25 is out of range (expected HH:MM from 00:00 to 23:59)"),
    ("202603072360", "minute 60 is out of range (expected HH:MM from 00:00 to 23:59)"),
    ("20260307000560", "second 60 is out of range (expected HH:MM from 00:00 to 23:59)"),
    ("2026030", f"digits alone are not a date ({DIGITS})"),
    ("20260307000", f"digits alone are not a date ({DIGITS})"),
    ("1772333470123", f"digits alone are not a date ({DIGITS}; this looks like milliseconds)"),
    ("202603070005001", f"digits alone are not a date ({DIGITS})"),
]


@pytest.mark.parametrize(("text", "reason"), DIGIT_ERRORS, ids=[t for t, _ in DIGIT_ERRORS])
def test_digit_strings_that_are_not_dates(text, reason):
    assert rejected(text) == f'"{text}" is not a valid date: {reason}'


ISO_BASIC_STAMPS = [
    ("20260307T000500", vn(2026, 3, 7, 0, 5)),
    ("20260307T2359", vn(2026, 3, 7, 23, 59)),
    ("20260307t000500", vn(2026, 3, 7, 0, 5)),
    ("20260306T170500Z", datetime(2026, 3, 6, 17, 5, tzinfo=UTC)),
    ("20260306T170500.250Z", datetime(2026, 3, 6, 17, 5, 0, 250000, tzinfo=UTC)),
    ("20260307T000500+0700", at(420, 2026, 3, 7, 0, 5)),
    ("20260307T000500+07", at(420, 2026, 3, 7, 0, 5)),
    ("20260306T120500-05:00", at(-300, 2026, 3, 6, 12, 5)),
]


@pytest.mark.parametrize(("text", "expected"), ISO_BASIC_STAMPS, ids=[t for t, _ in ISO_BASIC_STAMPS])
@pytest.mark.parametrize("order", ORDERS)
def test_iso_basic_stamps_read_like_compact_stamps_with_their_offset(text, expected, order):
    """YYYYMMDDTHHMM[SS]: the site zone unless an offset or Z follows."""
    assert parsed(text, order) == (expected, expected.utcoffset(), ())


@pytest.mark.parametrize(("text", "reason"), [
    ("20260230T000500", "day 30 is out of range for February 2026 (expected YYYYMMDDTHHMMSS)"),
    ("20261307T0005", "month 13 is out of range (expected YYYYMMDDTHHMM)"),
    ("20260307T240000", "hour 24 is out of range (expected HH:MM from 00:00 to 23:59)"),
    ("20260307T006000", "minute 60 is out of range (expected HH:MM from 00:00 to 23:59)"),
    ("20260307T000500+1500", f"offset +15:00 is out of range ({OFFSET})"),
    ("20260307T000500+0760", f"offset +07:60 is out of range ({OFFSET})"),
])
def test_iso_basic_stamps_that_are_not_dates(text, reason):
    assert rejected(text) == f'"{text}" is not a valid date: {reason}'


@pytest.mark.parametrize(("text", "unix", "stamp"), [
    ("2026030700", "15 March 2034", "7 March 2026 00h"),
    ("2026030723", "15 March 2034", "7 March 2026 23h"),
    ("1999123123", "7 May 2033", "31 December 1999 23h"),
])
def test_ten_digits_that_are_also_yyyymmddhh_are_not_guessed(text, unix, stamp):
    """Unix seconds that start 19 or 20 lie after 2030; the same digits may be an hour stamp."""
    assert rejected(text) == (f'"{text}" is not a valid date: as a Unix timestamp it is {unix}, but it looks '
                              f"like {stamp} written YYYYMMDDHH ({DIGITS})")


@pytest.mark.parametrize(("text", "expected"), [
    ("2026030724", datetime(2034, 3, 15, 10, 18, 44, tzinfo=UTC)),     # hour 24: only Unix seconds
    ("2013131300", datetime(2033, 10, 17, 3, 8, 20, tzinfo=UTC)),         # month 13: only Unix seconds
    ("200000000", datetime(1976, 5, 3, 19, 33, 20, tzinfo=UTC)),        # nine digits: only Unix seconds
])
def test_ten_digits_that_can_only_be_unix_seconds_are(text, expected):
    assert parsed(text) == (expected, timedelta(0), ())


@pytest.mark.parametrize(("value", "expected"), [
    (1772333470, datetime(2026, 3, 1, 2, 51, 10, tzinfo=UTC)),
    (1772333470.25, datetime(2026, 3, 1, 2, 51, 10, 250000, tzinfo=UTC)),
    (126230400, datetime(1974, 1, 1, tzinfo=UTC)),
    (9999999, datetime(1970, 4, 26, 17, 46, 39, tzinfo=UTC)),       # seven digits: no YYYYMMDD lookalike
    (19999999, datetime(1970, 8, 20, 11, 33, 19, tzinfo=UTC)),      # month 99: not a YYYYMMDD date
])
def test_json_numbers_are_unix_seconds(value, expected):
    assert parsed(value) == (expected, timedelta(0), ())


@pytest.mark.parametrize(("value", "reason"), [
    (20260307, 'as a Unix timestamp it is 23 August 1970, but it looks like 7 March 2026 written YYYYMMDD '
               f'({STAMP}; write the date as the string "20260307")'),
    (20260307.0, 'as a Unix timestamp it is 23 August 1970, but it looks like 7 March 2026 written YYYYMMDD '
                 f'({STAMP}; write the date as the string "20260307")'),
    (20260307000500, f'timestamp out of range ({STAMP}; this looks like YYYYMMDDHHMMSS, which must be the '
                     'string "20260307000500")'),
    (1772333470123, f"timestamp out of range ({STAMP}; this looks like milliseconds)"),
])
def test_json_numbers_that_look_like_another_shape_are_rejected_with_the_fix(value, reason):
    """A number in YYYYMMDD shape reads as a moment in 1970: it is refused, not guessed."""
    assert rejected(value) == f'"{value!r}" is not a valid date: {reason}'


# --- relative times ------------------------------------------------------------------------------

RELATIVE_TIMES = [
    ("5h trước", None), ("19 giờ trước", None), ("3 ngày trước", None), ("2 phút trước", None),
    ("1 giờ 27 phút trước", None), ("vừa xong", None), ("hôm qua", None), ("Hôm nay", None),
    ("yesterday", None), ("Yesterday", None), ("today", None), ("just now", None),
    ("2 hours ago", None), ("an hour ago", None),
    ("Updated: 1 hour 27 min ago", "1 hour 27 min ago"),
    ("Cập nhật 5 giờ trước", "5 giờ trước"),
    ("hôm qua lúc 08:30", "hôm qua"),
    ("Yesterday at 8:30 PM", "Yesterday"),
    ("Thứ Năm, 02/12/2021 (3 ngày trước)", "3 ngày trước"),
    ("09:15 hôm nay", "hôm nay"),
    ("Cách đây 2 giờ", None), ("cách đây khoảng 3 ngày", None), ("cách đây vài phút", None),
    ("Đăng cách đây 5 phút", "cách đây 5 phút"),
    ("02/12/2021 23:30 (cách đây 2 giờ)", "cách đây 2 giờ"),
]


@pytest.mark.parametrize(("text", "fragment"), RELATIVE_TIMES, ids=[t for t, _ in RELATIVE_TIMES])
@pytest.mark.parametrize("order", ORDERS)
def test_relative_times_are_rejected_because_they_would_move(text, fragment, order):
    """The instant "5h trước" names moves with the clock: the item would jump between runs."""
    what = "it" if fragment is None else f'"{fragment}"'
    assert rejected(text, order) == f'"{text}" is not a valid date: {what} {RELATIVE} ({ABSOLUTE})'


# --- offsets: one rule, -12:00 to +14:00 -------------------------------------------------------

OFFSET_SHAPES = {
    "iso": lambda s, h, m: f"2026-03-01T09:51:00{s}{h:02d}:{m:02d}",
    "iso_compact": lambda s, h, m: f"2026-03-01T09:51:00{s}{h:02d}{m:02d}",
    "page_gmt": lambda s, h, m: f"01/03/2026 09:51 GMT{s}{h}" + (f":{m:02d}" if m else ""),
    "page_paren": lambda s, h, m: f"01/03/2026 - 09:51 (GMT{s}{h}" + (f":{m:02d}" if m else "") + ")",
    "utc_word": lambda s, h, m: f"Thứ Hai, 01/03/2026, 09:51 UTC{s}{h:02d}:{m:02d}",
    "numeric": lambda s, h, m: f"01/03/2026 09:51 {s}{h:02d}:{m:02d}",
    "rfc822": lambda s, h, m: f"Sun, 01 Mar 2026 09:51:00 {s}{h:02d}{m:02d}",
    "javascript": lambda s, h, m: f"Sun Mar 01 2026 09:51:00 GMT{s}{h:02d}{m:02d} (Somewhere Time)",
    "prose": lambda s, h, m: f"Mar 1st 2026, 9:51 a.m. {s}{h:02d}{m:02d}",
}


@pytest.mark.parametrize("shape", sorted(OFFSET_SHAPES))
@pytest.mark.parametrize(("sign", "hours", "minutes"), [("+", 14, 0), ("-", 12, 0), ("+", 0, 0), ("+", 5, 45),
                                                        ("-", 9, 30), ("+", 12, 45)])
def test_every_real_offset_is_accepted_in_every_shape(shape, sign, hours, minutes):
    total = (hours * 60 + minutes) * (1 if sign == "+" else -1)
    dt, offset, warnings = parsed(OFFSET_SHAPES[shape](sign, hours, minutes))
    assert (dt.replace(tzinfo=None), offset) == (datetime(2026, 3, 1, 9, 51), timedelta(minutes=total))


@pytest.mark.parametrize("shape", sorted(OFFSET_SHAPES))
@pytest.mark.parametrize(("sign", "hours", "minutes"), [("+", 14, 1), ("+", 15, 0), ("+", 20, 0), ("-", 12, 1),
                                                        ("-", 13, 0), ("+", 23, 59), ("+", 7, 60), ("-", 5, 75)])
def test_every_offset_beyond_the_real_world_is_rejected_in_every_shape(shape, sign, hours, minutes):
    """Three places once checked the range three ways (GMT+20 and +15:00 got through); now
    every shape asks the same rule and says the same thing."""
    text = OFFSET_SHAPES[shape](sign, hours, minutes)
    message = rejected(text)
    assert f"offset {sign}{hours:02d}:{minutes:02d} is out of range ({OFFSET})" in message


def test_gmt_plus_20_and_plus_15_are_beyond_the_real_world():
    assert rejected("01/03/2026 09:51 GMT+20").endswith(f"offset +20:00 is out of range ({OFFSET})")
    assert rejected("2026-03-01T09:51:00+15:00").endswith(f"offset +15:00 is out of range ({OFFSET})")


def test_fixed_offset_is_the_one_rule():
    assert OFFSET_RANGE.start == -12 * 60 and OFFSET_RANGE.stop - 1 == 14 * 60
    assert fixed_offset(420) == timezone(timedelta(hours=7))
    assert fixed_offset(420) is fixed_offset(420)
    assert fixed_offset(0) is timezone.utc
    assert fixed_offset(-720).utcoffset(None) == timedelta(hours=-12)
    assert fixed_offset(840).utcoffset(None) == timedelta(hours=14)
    for minutes, shown in ((841, "+14:01"), (-721, "-12:01"), (1200, "+20:00"), (-1439, "-23:59")):
        with pytest.raises(ValueError) as caught:
            fixed_offset(minutes)
        assert str(caught.value) == f"offset {shown} is out of range (expected an offset from -12:00 to +14:00)"


# --- junk around a date --------------------------------------------------------------------------

JUNK = [
    ("Thứ Năm, 02/12/2021 23:30 (GMT+7)11", 'unexpected "11"'),
    ("Thứ Năm, 02/12/2021 - 23:30 (GMT+7) 11", 'unexpected "11"'),
    ("02/12/2021 23:30 Ã¢â‚¬", 'unexpected "Ã¢â‚¬"'),
    ("02/12/2021 23:30 â€“", 'unexpected "â€“"'),
    ("Thá»© NÄƒm, 02/12/2021", 'unexpected "Thá»© NÄƒm"'),
    ("<![CDATA[Thu, 02 Dec 2021 23:30:00 +0700]]>", 'unexpected "<![CDATA[ , ]]>"'),
    ("<pubDate>Thu, 02 Dec 2021 23:30:00 +0700</pubDate>", 'unexpected "<pubDate> , </pubDate>"'),
    ("2021-12-02T23:30:00+07:00\"", 'unexpected "T \""'),
    ("02/12/2021 23:30 GMT+711", 'unexpected "+711"'),
    ("02/12/2021 23:30 ?", 'unexpected "?"'),
    ("\ufffd02/12/2021 23:30", 'unexpected "\ufffd"'),
]


@pytest.mark.parametrize(("text", "reason"), JUNK, ids=[t for t, _ in JUNK])
@pytest.mark.parametrize("order", ORDERS)
def test_junk_around_a_date_is_rejected_never_guessed(text, reason, order):
    message = rejected(text, order)
    assert message.split(" is not a valid date: ", 1)[1].startswith(f"{reason} (")


# --- Vietnamese months in words --------------------------------------------------------------------

MONTH_WORDS = [
    ("02 Tháng Mười Hai 2021", vn(2021, 12, 2)),
    ("Thứ Năm, 02 Tháng Mười Hai 2021", vn(2021, 12, 2)),
    ("02 Tháng Mười Một 2021 23:30", vn(2021, 11, 2, 23, 30)),
    ("02 Tháng Mười 2021", vn(2021, 10, 2)),
    ("02 tháng Giêng 2022", vn(2022, 1, 2)),
    ("02 tháng Một 2022", vn(2022, 1, 2)),
    ("05 tháng Chạp 2021", vn(2021, 12, 5)),
    ("ngày 02 tháng Năm năm 2021", vn(2021, 5, 2)),
    ("02 Tháng Tư 2021", vn(2021, 4, 2)),
    ("02 tháng Bẩy 2021", vn(2021, 7, 2)),
    ("Tháng Mười Một 02, 2021", vn(2021, 11, 2)),
    ("2 thg 12, 2021", vn(2021, 12, 2)),
    ("2 thg 12 2021 23:30", vn(2021, 12, 2, 23, 30)),
    ("thg 11 2, 2021", vn(2021, 11, 2)),
]


@pytest.mark.parametrize(("text", "expected"), MONTH_WORDS, ids=[t for t, _ in MONTH_WORDS])
@pytest.mark.parametrize("order", ORDERS)
def test_months_in_vietnamese_words_and_abbreviations(text, expected, order):
    """Windows' vi-VN long dates name the month ("Tháng Mười Hai"); CLDR's medium dates abbreviate
    it ("thg 12"). Neither is a numeric date, so the site's order does not apply."""
    assert parsed(text, order) == (expected, expected.utcoffset(), ())


def test_a_weekday_that_disagrees_with_a_month_in_words_is_warned_about():
    dt, _, warnings = parsed("Thứ Hai, 02 Tháng Mười Hai 2021")
    assert dt == vn(2021, 12, 2)
    assert len(warnings) == 1 and "does not match" in warnings[0]


@pytest.mark.parametrize("text", ["Thursday, 02-Dec-21 23:30:00 UTC", "Dec 2, 21", "2 December 21 23:30"])
@pytest.mark.parametrize("order", ORDERS)
def test_a_two_digit_year_is_refused_in_prose_too(text, order):
    """python-dateutil would pick a century by a window around today: a guess, never taken."""
    assert rejected(text, order) == (f'"{text}" is not a valid date: the year must have four digits '
                                     "(expected Month D, YYYY or D Month YYYY [HH:MM])")

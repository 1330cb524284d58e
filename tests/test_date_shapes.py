"""Offsets beyond the real world: one rule, -12:00 to +14:00, in every shape."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from feedpub.dates import OFFSET_RANGE, fixed_offset, parse_datetime
from feedpub.errors import DateError

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
OFFSET = "expected an offset from -12:00 to +14:00, such as +07:00, GMT+7 or UTC-5"


def parsed(value):
    dt, warnings = parse_datetime(value, HCM)
    return dt, dt.utcoffset(), warnings


def rejected(value) -> str:
    with pytest.raises(DateError) as caught:
        parse_datetime(value, HCM)
    return str(caught.value)


# --- offsets: one rule, -12:00 to +14:00 -------------------------------------------------------

OFFSET_SHAPES = {
    "iso": lambda s, h, m: f"2026-03-01T09:51:00{s}{h:02d}:{m:02d}",
    "iso_compact": lambda s, h, m: f"2026-03-01T09:51:00{s}{h:02d}{m:02d}",
    "page_gmt": lambda s, h, m: f"01/03/2026 09:51 GMT{s}{h}" + (f":{m:02d}" if m else ""),
    "page_paren": lambda s, h, m: f"01/03/2026 - 09:51 (GMT{s}{h}" + (f":{m:02d}" if m else "") + ")",
    "utc_word": lambda s, h, m: f"Thứ Hai, 01/03/2026, 09:51 UTC{s}{h:02d}:{m:02d}",
    "numeric": lambda s, h, m: f"01/03/2026 09:51 {s}{h:02d}:{m:02d}",
    "rfc822": lambda s, h, m: f"Sun, 01 Mar 2026 09:51:00 {s}{h:02d}{m:02d}",
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
                                                        ("-", 13, 0), ("+", 23, 59)])
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

"""The pieces of a printed date, each turned into a checked value or a reason it is impossible.

The reader (reader.py) finds a weekday, an offset marker, a time of day and a
date in a string with the patterns of shapes.py; the functions here read each
match: a calendar date in the site's declared order, a 24-hour clock, a fixed
offset that a real zone uses, the warning for a weekday that disagrees.
Each failure is a Reject carrying the reason and the hint, so every message
says what was wrong and what was expected; the reader adds the input.
"""
from __future__ import annotations

import re
from calendar import monthrange
from datetime import date, timezone

from .limits import OFFSET_RANGE, fixed_offset
from .shapes import (DATE_SHAPES, EN_DAYS, EN_MONTHS, HINT_12H, HINT_ANY, HINT_NUMERIC, HINT_OFFSET, HINT_RANGE,
                     HINT_TIME, MONTH_NUMBERS, NUMERIC, OTHER_ORDER, PM_WORDS, SHORT_YEAR, WEEKDAY_NUMBERS)

__all__ = [
    "PlaceholderReject", "Reject", "check_clock", "clock_fields", "clock_offset", "find_date", "long_date",
    "named_offset", "pick_offset", "take", "valid_date", "weekday_warnings", "written_offset",
]


class Reject(Exception):
    """Why a string is not a date, and what was expected; the caller adds the input."""

    def __init__(self, reason: str, hint: str):
        super().__init__(reason)
        self.reason = reason
        self.hint = hint


class PlaceholderReject(Reject):
    """The "no date" placeholder: rejected, but as PlaceholderDateError."""


def take(pattern: re.Pattern[str], text: str) -> tuple[re.Match[str] | None, str]:
    """First match of pattern, and the text with that match blanked out."""
    m = pattern.search(text)
    if m is None:
        return None, text
    return m, f"{text[:m.start()]} {text[m.end():]}"


# --- dates -----------------------------------------------------------------


def find_date(text: str, order: str) -> tuple[date, date | None, str]:
    """The first date shape found in text, checked; the other order's reading of a numeric
    date (None when there is none or it is the same day); and the text without the date."""
    for pattern, hint in DATE_SHAPES:
        m, rest = take(pattern, text)
        if m is not None:
            if pattern is NUMERIC:
                return (*_numeric_date(m, order), rest)
            return _checked_date(m, hint), None, rest
    if SHORT_YEAR.search(text):
        raise Reject("the year must have four digits", HINT_NUMERIC[order])
    if text.strip().isdigit():
        raise Reject("digits alone are not a date", HINT_ANY)
    raise Reject("no day, month and year found", HINT_ANY)


def _numeric_date(m: re.Match[str], order: str) -> tuple[date, date | None]:
    """A numeric date read in the declared order, and its reading in the other order.

    A date valid only in the other order is rejected with that reading and the
    setting that would give it: the site's declaration decides, never the digits.
    """
    a, b, year = int(m["a"]), int(m["b"]), int(m["y"])
    day, month = (b, a) if order == "mdy" else (a, b)
    other = _maybe_date(year, day, month) if day != month else None
    try:
        return valid_date(year, month, day, HINT_NUMERIC[order]), other
    except Reject as why:
        if other is None:
            raise
        setting, reading, words = OTHER_ORDER[order]
        raise Reject(f"{why.reason}; {reading} it is {long_date(other)}",
                      f'{why.hint}; set date_order = "{setting}" in [site] if this source writes {words}') from None


def _maybe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _checked_date(m: re.Match[str], hint: str) -> date:
    """A date from a match's d/m/y (or month name) groups, with a reason when impossible."""
    groups = m.groupdict()
    year, day = int(groups["y"]), int(groups["d"])
    month = int(groups["m"]) if groups.get("m") else MONTH_NUMBERS[groups["mon"][:3].lower()]
    return valid_date(year, month, day, hint)


def valid_date(year: int, month: int, day: int, hint: str) -> date:
    """date(year, month, day), or the reason it is impossible."""
    if year < 1:
        raise Reject(f"year {year} is out of range", HINT_RANGE)
    if not 1 <= month <= 12:
        raise Reject(f"month {month} is out of range", hint)
    last = monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise Reject(f"day {day} is out of range for {EN_MONTHS[month - 1]} {year}", hint)
    return date(year, month, day)


def long_date(day: date) -> str:
    """'13 July 2026': a date no reader can take in the wrong order."""
    return f"{day.day} {EN_MONTHS[day.month - 1]} {day.year}"


# --- time of day -----------------------------------------------------------


def clock_fields(clock: re.Match[str] | None) -> tuple[int, int, int, int]:
    """(hour, minute, second, microsecond) of a time match; midnight when there is none."""
    if clock is None:
        return 0, 0, 0, 0
    hour = int(clock["h"])
    minute = int(clock["m"] or clock["m2"] or 0)
    second = int(clock["s"] or 0)
    micro = int((clock["f"] or "0")[:6].ljust(6, "0"))
    if clock["ampm"]:
        hour = _twelve_hour(hour, clock["ampm"])
    check_clock(hour, minute, second)
    return hour, minute, second, micro


def check_clock(hour: int, minute: int, second: int) -> None:
    if hour > 23:
        raise Reject(f"hour {hour} is out of range", HINT_TIME)
    if minute > 59:
        raise Reject(f"minute {minute} is out of range", HINT_TIME)
    if second > 59:
        raise Reject(f"second {second} is out of range", HINT_TIME)


def _twelve_hour(hour: int, marker: str) -> int:
    """24-hour value of a 12-hour clock; '21:07 PM' stays 21:07 because pages print that."""
    word = marker.replace(".", "").lower()
    if word in PM_WORDS:
        if hour == 0:
            raise Reject(f"hour 0 cannot be used with {marker.upper()}", HINT_12H)
        return hour + 12 if hour < 12 else hour
    if hour > 12:
        raise Reject(f"hour {hour} cannot be used with {marker.upper()}", HINT_12H)
    return 0 if hour == 12 else hour


# --- offsets ---------------------------------------------------------------


def named_offset(m: re.Match[str] | None) -> timezone | None:
    """Fixed offset of GMT/UTC/UT[±H[:MM]|±HHMM] (sign as written, not POSIX) or ICT."""
    if m is None:
        return None
    if m["ict"]:
        return fixed_offset(7 * 60)
    if not m["sign"]:
        return timezone.utc
    if m["hh"]:
        zone = _offset_zone(m["sign"], int(m["hh"]), int(m["mm"]))
    else:
        zone = _offset_zone(m["sign"], int(m["h"]), int(m["m"] or 0))
    if m["lsign"]:                      # "GMT+0700 (GMT+07:00)": the label repeats the offset
        pick_offset(zone, _offset_zone(m["lsign"], int(m["lh"]), int(m["lm"])))
    return zone


def clock_offset(clock: re.Match[str] | None) -> timezone | None:
    """Fixed offset written right after a time: +07:00, +0700, -05 or Z."""
    if clock is None:
        return None
    if clock["z"]:
        return timezone.utc
    if not clock["sign"]:
        return None
    return _offset_zone(clock["sign"], int(clock["oh"]), int(clock["om"] or 0))


def written_offset(m: re.Match[str] | None) -> timezone | None:
    """+HH:MM / -HHMM (or +HH) written after a time."""
    if m is None:
        return None
    return _offset_zone(m["sign"], int(m["h"]), int(m["m"] or 0))


def _offset_zone(sign: str, hours: int, minutes: int) -> timezone:
    """The fixed zone of a signed offset as written, rejecting those no real zone uses."""
    total = hours * 60 + minutes
    if sign != "+":
        total = -total
    if minutes > 59 or total not in OFFSET_RANGE:
        shown = "+" if sign == "+" else "-"
        raise Reject(f"offset {shown}{hours:02d}:{minutes:02d} is out of range", HINT_OFFSET)
    return fixed_offset(total)


def pick_offset(named: timezone | None, written: timezone | None) -> timezone | None:
    """The single explicit offset of a string; two that disagree are an error."""
    if named is not None and written is not None and named != written:
        raise Reject("it has two different offsets", HINT_OFFSET)
    return named or written


# --- weekday ---------------------------------------------------------------


def weekday_warnings(m: re.Match[str] | None, day: date, other: date | None,
                      order: str) -> tuple[str, ...]:
    """A warning when the printed weekday disagrees with the date; the date wins. When it
    matches the other order's reading instead, the warning says so and names the setting."""
    if m is None:
        return ()
    shown = m.group(0).rstrip(".")
    key = "".join(shown.split()).lower()
    number = WEEKDAY_NUMBERS.get(key, WEEKDAY_NUMBERS.get(key[:3]))
    if number == day.weekday():
        return ()
    first, second = (day.month, day.day) if order == "mdy" else (day.day, day.month)
    warning = (f'weekday "{shown}" does not match {first:02d}/{second:02d}/{day.year:04d} '
               f"(a {EN_DAYS[day.weekday()]}); the date wins")
    if other is not None and number == other.weekday():
        setting, reading, words = OTHER_ORDER[order]
        warning += (f"; {reading} it is {EN_DAYS[number]} {long_date(other)} "
                    f'(set date_order = "{setting}" in [site] if this source writes {words})')
    return (warning,)

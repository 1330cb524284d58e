"""Reading a record's date: a string or a number in, an aware datetime and its warnings out.

parse_datetime tries the cheap shapes first (ISO 8601 and the site's own
DD/MM/YYYY - HH:MM, which are nearly every date a real export holds), then
normalises the string and reads it again: digits alone as a compact stamp
or Unix seconds, otherwise piece by piece (weekday, offset, time, date; see
pieces.py) with nothing left over. Only when that fails is the text checked
for a relative time, refused because its instant moves with the clock, and
for English prose that python-dateutil reads. Every refusal becomes one
DateError that quotes the input and says what was expected.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timezone, tzinfo

from ..errors import DateError, PlaceholderDateError
from .limits import REAL_OFFSET_TEXTS, REAL_OFFSETS, fixed_offset, offset_text, range_problem, zone_name
from .pieces import (PlaceholderReject, Reject, check_clock, clock_fields, clock_offset, find_date, long_date,
                     named_offset, pick_offset, take, valid_date, weekday_warnings, written_offset)
from .shapes import (EN_DAYS, FAST_ISO, FAST_PAGE, HINT_ABSOLUTE, HINT_ANY, HINT_DIGITS, HINT_EN, HINT_PLACEHOLDER,
                     HINT_RANGE, HINT_RFC822, HINT_STAMP, INVISIBLE, ISO_BASIC, ISO_OFFSET_TAIL, MONTH_NUMBERS,
                     NAMED_OFFSET, NOISE, NOISE_EDGES, NUMBERS_WITH_SEPARATOR, NUMERIC_OFFSET, OTHER_ORDER, PROSE,
                     PROSE_MONTH, RELATIVE, RELATIVE_AMOUNT, RFC822_LIKE, RFC822_SHORT_YEAR, TIME, VN_MONTH_NUMBERS,
                     VN_MONTH_WORD, WEEKDAY)

__all__ = ["OncePerSource", "SaidOnce", "parse_datetime", "prefix_note"]

_MAX_QUOTE = 60
_PLACEHOLDER = datetime(1, 1, 1)
_DEFAULTS = (datetime(2001, 2, 3), datetime(2002, 4, 5))


def parse_datetime(value: str | int | float, tz: tzinfo, *,
                   order: str = "dmy") -> tuple[datetime, tuple[str, ...]]:
    """Return (aware datetime, warnings) for a record date; naive input is wall time in tz.

    order is how the site writes numeric dates: "dmy" (day first) or "mdy"
    (month first), the [site] date_order setting.
    Raises DateError, or PlaceholderDateError (a DateError) for 0001-01-01 00:00:00.
    """
    if order not in OTHER_ORDER:
        raise ValueError(f'date order {order!r} is not "dmy" or "mdy"')
    if isinstance(value, str):
        dt = _parse_fast(value, tz, order)
        if dt is not None and 1000 < dt.year < 9999:
            return _local_time(value, dt, tz, ())
        dt, warnings = _parse_text(value, tz, order)
        return _local_time(value, dt, tz, warnings)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            dt = _from_timestamp(value)
            if not 1973 < dt.year < 9999:         # 1970-1973: what YYYYMMDD numbers read as
                _check_timestamp(value, dt, tz)
        except Reject as why:
            raise _error(repr(value), why) from None
        return dt, ()
    kind = "null" if value is None else f"a {type(value).__name__}"
    raise DateError(
        f"{_quote(repr(value))} is not a valid date: {kind} is not accepted ({HINT_STAMP})"
    )


class OncePerSource(str):
    """A warning about how a whole source writes its dates, not about one record: a record file or a
    database source hears it once (SaidOnce), from the first record that shows it. key names the kind."""

    key: str

    def __new__(cls, text: str, key: str) -> "OncePerSource":
        note = super().__new__(cls, text)
        note.key = key
        return note


def prefix_note(prefix: str, note: str) -> str:
    """prefix + note, still a OncePerSource when note is one."""
    return OncePerSource(prefix + note, note.key) if isinstance(note, OncePerSource) else prefix + note


class SaidOnce:
    """Which sources have had which once-per-source warning: keep() drops the repeats."""

    def __init__(self) -> None:
        self._said: set[tuple[str, str]] = set()

    def keep(self, source: str, notes: list[str]) -> list[str]:
        kept = []
        for note in notes:
            if isinstance(note, OncePerSource):
                if (source, note.key) in self._said:
                    continue
                self._said.add((source, note.key))
            kept.append(note)
        return kept


# --- local times the site zone skips or repeats ------------------------------


def _local_time(value: str, dt: datetime, tz: tzinfo, warnings: tuple[str, ...]) -> tuple[datetime, tuple[str, ...]]:
    """dt, and a warning when it is a wall-clock time in the site zone that did not exist (the clocks
    jumped over it: a DST gap, Saigon's move to +08:00 at the end of 1959) or happened twice (the
    clocks went back). One rule picks the instant, RFC 5545's (§3.3.5) and Python's fold=0: the
    offset in force before the change, so a repeated time is its first occurrence and a skipped one
    is read as if the clocks had not moved yet, then shown as the zone's clocks showed it."""
    if dt.tzinfo is not tz:
        return dt, warnings
    # the same wall time with fold=1 (the constructor: three times cheaper than dt.replace(fold=1))
    before = tz.utcoffset(dt)
    after = tz.utcoffset(datetime(dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond, tz, fold=1))
    if before == after:
        return dt, warnings
    real = dt.astimezone(timezone.utc).astimezone(tz)
    change = f"the clocks went from {offset_text(before)} to {offset_text(after)}"
    if real.replace(tzinfo=None) != dt.replace(tzinfo=None):
        what = f"does not exist in {zone_name(tz)} ({change} and skipped it); read with the offset before the change"
    else:
        what = (f"happened twice in {zone_name(tz)} ({change} and repeated it); read with the offset before the "
                "change, as the first of the two")
    note = (f"{_quote(value)} {what}, it is {real.isoformat()} (expected a time the zone's clocks showed once, "
            "or an explicit offset such as +07:00)")
    return real, warnings + (note,)


# --- fast shapes -----------------------------------------------------------


def _parse_fast(text: str, tz: tzinfo, order: str) -> datetime | None:
    """ISO 8601 or D/M/YYYY[ - HH:MM[:SS]] in the site's order, or None to let the general
    reader explain. The caller checks the year range."""
    if FAST_ISO.match(text):
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            return None
        if dt.tzinfo is None:
            return dt.replace(tzinfo=tz)
        if text[-6:] in REAL_OFFSET_TEXTS or text[-1:] in "Zz":
            return dt
        # fromisoformat carries a minute 60 over (+0760 is +08:00): only a well-formed offset
        # of a real zone is taken here; the general reader explains any other.
        if ISO_OFFSET_TAIL.search(text) and dt.utcoffset() in REAL_OFFSETS:
            return dt
        return None
    m = FAST_PAGE.fullmatch(text)
    if m is None:
        return None
    day, _, month, year, hour, minute, second, sign, hours, sign2, hours2 = m.groups()
    if order == "mdy":
        day, month = month, day
    if sign or sign2:
        minutes = int(hours or hours2) * 60
        try:
            tz = fixed_offset(minutes if (sign or sign2) == "+" else -minutes)
        except ValueError:
            return None
    try:
        return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                        int(second or 0), tzinfo=tz)
    except ValueError:
        return None


# --- numbers ---------------------------------------------------------------


def _check_timestamp(value: int | float, dt: datetime, tz: tzinfo) -> None:
    """Reject a number that is a date written YYYYMMDD (read as seconds it falls in 1970-1973,
    which no feed carries), and the edges of the calendar."""
    if 10_000_000 <= value < 100_000_000 and value == int(value):
        stamp = _compact_date(str(int(value)))
        if stamp is not None:
            raise Reject(
                f"as a Unix timestamp it is {long_date(dt)}, but it looks like {long_date(stamp)} "
                f"written YYYYMMDD", f'{HINT_STAMP}; write the date as the string "{int(value)}"')
    if not 1000 < dt.year < 9999:
        _check_edges(dt, tz)


def _from_timestamp(value: int | float) -> datetime:
    """A Unix timestamp in seconds as that instant in UTC."""
    try:
        return datetime.fromtimestamp(value, timezone.utc)
    except (OverflowError, OSError, ValueError):
        hint = HINT_STAMP
        digits = str(int(value)) if value == value and abs(value) != float("inf") else ""
        if len(digits) == 14 and value == int(value) and _compact_date(digits) is not None:
            hint += f'; this looks like YYYYMMDDHHMMSS, which must be the string "{digits}"'
        elif 1e11 < abs(value) < 3e14:
            hint += "; this looks like milliseconds"
        raise Reject("timestamp out of range", hint) from None


def _compact_date(digits: str) -> date | None:
    """The date of YYYYMMDD... digits, or None when they do not form one."""
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


# --- general reader --------------------------------------------------------


def _parse_text(value: str, tz: tzinfo, order: str) -> tuple[datetime, tuple[str, ...]]:
    """Normalise, retry the fast shapes, then read the string piece by piece; check the range."""
    text = _normalise(value)
    try:
        if not text:
            raise Reject("it is empty", HINT_ANY)
        dt, warnings = _parse_fast(text, tz, order), ()
        if dt is None:
            dt, warnings = _read_text(text, tz, order)
        if not 1000 < dt.year < 9999:
            _check_edges(dt, tz)
        return dt, warnings
    except Reject as why:
        raise _error(text or value, why) from None


def _error(shown: str, why: Reject) -> DateError:
    message = f"{_quote(shown)} is not a valid date: {why.reason} ({why.hint})"
    if isinstance(why, PlaceholderReject):
        return PlaceholderDateError(message, _quote(shown))
    return DateError(message)


def _check_edges(dt: datetime, tz: tzinfo) -> None:
    """Reject the "no date" placeholder and dates outside the supported range."""
    if dt.replace(tzinfo=None) == _PLACEHOLDER:
        raise PlaceholderReject('0001-01-01 00:00:00 is the placeholder .NET and SQL exports write for "no date"',
                                HINT_PLACEHOLDER)
    problem = range_problem(dt, tz)
    if problem is not None:
        raise Reject(problem, HINT_RANGE)


def _read_text(text: str, tz: tzinfo, order: str) -> tuple[datetime, tuple[str, ...]]:
    """Digits alone, the pieces of a printed date, or English prose; relative times refused."""
    if text.isdigit() and text.isascii():
        return _digits(text, tz), ()
    basic = ISO_BASIC.fullmatch(text)
    if basic is not None:
        return _iso_basic(basic, tz), ()
    rfc822 = RFC822_SHORT_YEAR.fullmatch(text)
    if rfc822 is not None:
        return _rfc822_short_year(rfc822, tz), ()
    try:
        return _read_pieces(text, tz, order)
    except Reject as why:
        relative = RELATIVE.search(text)
        if relative is not None:
            what = "it" if relative.group(0) == text else f'"{relative.group(0)}"'
            raise Reject(
                f"{what} is a relative time, which cannot be a feed date: the instant would move "
                "between runs and readers would see the item jump", HINT_ABSOLUTE) from None
        if RELATIVE_AMOUNT.fullmatch(text):
            raise Reject(
                'it looks like a relative time (an amount of time, its "trước" or "ago" left out), which '
                "cannot be a feed date: the instant would move between runs and readers would see the item "
                "jump", HINT_ABSOLUTE) from None
        found = _dateutil_prose(text, tz, order) if PROSE.search(text) else None
        if found is None:
            raise why
        return found, ()


def _digits(text: str, tz: tzinfo) -> datetime:
    """YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS in the site zone; 9 or 10 digits are Unix seconds,
    unless 10 digits could as well be YYYYMMDDHH (then neither reading is guessed)."""
    if len(text) in (9, 10):
        dt = _from_timestamp(int(text))            # 1973-2286
        stamp = _compact_date(text) if len(text) == 10 and text[:2] in ("19", "20") else None
        if stamp is not None and int(text[8:]) < 24:
            # 2026030700 is 15 March 2034 in Unix seconds, or 7 March 2026 00h written YYYYMMDDHH:
            # both are possible, so neither is guessed (real Unix seconds starting 19 or 20 lie
            # after 2030, where no article is)
            raise Reject(f"as a Unix timestamp it is {long_date(dt)}, but it looks like {long_date(stamp)} "
                         f"{text[8:]}h written YYYYMMDDHH", HINT_DIGITS)
        return dt
    if len(text) not in (8, 12, 14):
        hint = HINT_DIGITS + ("; this looks like milliseconds" if len(text) == 13 else "")
        raise Reject("digits alone are not a date", hint)
    shape = "YYYYMMDDHHMMSS"[:len(text)]
    day = valid_date(int(text[:4]), int(text[4:6]), int(text[6:8]), f"expected {shape}")
    hour, minute, second = int(text[8:10] or 0), int(text[10:12] or 0), int(text[12:14] or 0)
    check_clock(hour, minute, second)
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=tz)


def _rfc822_short_year(m, tz: tzinfo) -> datetime:
    """RFC 822's date-time with a two-digit year, read as RFC 2822 §4.3 says (obs-year: 00-49 is
    20xx, 50-99 is 19xx). The weekday, when given, must agree: it is what confirms the century."""
    yy = int(m["y"])
    year = yy + (2000 if yy < 50 else 1900)
    day = valid_date(year, MONTH_NUMBERS[m["mon"].lower()], int(m["d"]), HINT_RFC822)
    hour, minute, second = int(m["hh"]), int(m["mi"]), int(m["ss"] or 0)
    check_clock(hour, minute, second)
    if m["dow"]:
        shown = m["dow"].lower()
        if shown != EN_DAYS[day.weekday()][:3].lower():
            other = _maybe_date(year + (100 if yy >= 50 else -100), day.month, day.day)
            fits = f"; it fits {long_date(other)}" if other and EN_DAYS[other.weekday()][:3].lower() == shown else ""
            raise Reject(f'weekday "{m["dow"]}" does not match {long_date(day)} (a {EN_DAYS[day.weekday()]}), and '
                         f"with a two-digit year the weekday is what confirms the century{fits}", HINT_RFC822)
    offset = timezone.utc if m["z"] else written_offset(m)
    return datetime(year, day.month, day.day, hour, minute, second, tzinfo=offset)


def _maybe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _iso_basic(m, tz: tzinfo) -> datetime:
    """ISO 8601 basic format, 20260307T000500[.f][Z|±HH[MM]]: in the site zone unless it has an offset."""
    digits = m["date"]
    shape = "YYYYMMDDTHHMM" + ("SS" if m["ss"] else "")
    day = valid_date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]), f"expected {shape}")
    hour, minute, second = int(m["hh"]), int(m["mi"]), int(m["ss"] or 0)
    check_clock(hour, minute, second)
    micro = int((m["f"] or "0")[:6].ljust(6, "0"))
    offset = timezone.utc if m["z"] else written_offset(m) if m["sign"] else None
    return datetime(day.year, day.month, day.day, hour, minute, second, micro, tzinfo=offset or tz)


def _normalise(value: str) -> str:
    """Character references decoded, NFC, no invisible characters, every run of whitespace
    (NBSP, tabs, newlines) one space."""
    if "&" in value:
        import html
        value = html.unescape(value)
    text = value
    text = unicodedata.normalize("NFC", text).translate(INVISIBLE)
    return " ".join(text.split())


def _read_pieces(text: str, tz: tzinfo, order: str) -> tuple[datetime, tuple[str, ...]]:
    """Take out weekday, offset, time and date; whatever remains must be punctuation or filler."""
    whole = text
    weekday, text = take(WEEKDAY, text)
    if "th" in text.lower():
        text = VN_MONTH_WORD.sub(_month_number, text)
    named, text = take(NAMED_OFFSET, text)
    clock, text = take(TIME, text)
    day, other, text = find_date(text, order)
    if not NOISE.fullmatch(text):
        leftover = " ".join(text.split()).strip(NOISE_EDGES)
        raise Reject(f'unexpected "{leftover}"', HINT_ANY)
    hour, minute, second, micro = clock_fields(clock)
    offset = pick_offset(named_offset(named), clock_offset(clock))
    dt = datetime(day.year, day.month, day.day, hour, minute, second, micro, tzinfo=offset or tz)
    if weekday is not None:         # a printed weekday confirms the order, or its own warning names the setting
        return dt, weekday_warnings(weekday, day, other, order)
    return dt, _twelve_hour_day_first(whole, clock, day, other, order)


def _twelve_hour_day_first(text: str, clock, day: date, other: date | None, order: str) -> tuple[str, ...]:
    """A numeric date with an AM/PM clock is usually month first (.NET's en-US "M/d/yyyy h:mm:ss tt",
    what government portals export): read day first, as the site declares, it gets a warning once per
    source when the other order would give another real date and no weekday settles it. Vietnamese
    SA/CH (vi-VN's designators) go with day-first dates, so they get none."""
    if order != "dmy" or other is None or clock is None or not clock["ampm"]:
        return ()
    marker = clock["ampm"].replace(".", "").upper()
    if marker not in ("AM", "PM"):
        return ()
    setting, reading, words = OTHER_ORDER[order]
    return (OncePerSource(
        f"{_quote(text)} was read day first, as {long_date(day)}, since date_order is \"dmy\"; a numeric date "
        f"with a 12-hour clock ({marker}) is usually written month first (.NET's en-US M/d/yyyy h:mm:ss tt), and "
        f'{reading} it is {long_date(other)} (set date_order = "{setting}" in [site] if this source writes '
        f"{words}; said once per file or source)", "twelve-hour-day-first"),)


def _month_number(m) -> str:
    return f"tháng {VN_MONTH_NUMBERS[''.join(m['word'].lower().split())]}"


def _quote(text: str) -> str:
    """Input for an error message: one line, control characters escaped, about 60 characters."""
    shown = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    if len(shown) > _MAX_QUOTE:
        shown = shown[: _MAX_QUOTE - 3] + "..."
    return f'"{shown}"'


# --- English prose ---------------------------------------------------------


def _dateutil_prose(text: str, tz: tzinfo, order: str) -> datetime | None:
    """English prose our own shapes do not cover, read by python-dateutil.

    Offsets are taken out first and applied here, because dateutil reads
    "GMT+7" the POSIX way (UTC-7). Only text that names its month in words
    goes to dateutil, so no numeric date is ever read in an order the site did
    not declare. A result counts only when the text itself gave day, month and
    year: parsing with two different defaults must agree.
    """
    named, rest = take(NAMED_OFFSET, text)
    written, rest = take(NUMERIC_OFFSET, rest)
    clock, rest = take(TIME, rest)
    if not PROSE_MONTH.search(rest) or NUMBERS_WITH_SEPARATOR.search(rest):
        return None
    try:
        offset = pick_offset(pick_offset(named_offset(named), written_offset(written)), clock_offset(clock))
        hour, minute, second, micro = clock_fields(clock)
    except Reject:
        return None
    from dateutil import parser
    import warnings
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            first, other = (parser.parse(rest, dayfirst=order == "dmy", default=d) for d in _DEFAULTS)
    except (ValueError, OverflowError):
        return None
    if first.date() != other.date() or first.tzinfo is not None or first.time() != other.time() or (
            first.hour, first.minute, first.second) != (0, 0, 0):
        return None                 # a field missing, a zone name, or a time we could not read ourselves
    if not re.search(rf"(?<![0-9]){first.year:04d}(?![0-9])", rest):
        # dateutil makes "02-Dec-21" 2021 by a window around today: a guess, refused as in numeric dates;
        # RFC 822's shape has its own reading, but only with the time and offset it requires
        raise Reject("the year must have four digits", HINT_RFC822 if RFC822_LIKE.search(text) else HINT_EN)
    return first.replace(hour=hour, minute=minute, second=second, microsecond=micro, tzinfo=offset or tz)

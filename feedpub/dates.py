"""Read the dates news sites print, and write them back for feeds and pages.

Policy (see the README, "Dates"):

- An explicit offset (``+07:00``, ``+0700``, ``Z``, ``GMT+7``, ``UTC-5``, ``ICT``,
  ``GMT``, JavaScript's ``GMT+0700 (Indochina Time)``) is taken as given and
  yields a fixed ``datetime.timezone``. ``GMT+7`` means seven hours *ahead* of
  UTC, as every news site means it. Only offsets real zones use are accepted,
  ``OFFSET_RANGE`` (-12:00 to +14:00); ``fixed_offset`` is the one place that
  says so.
- A date without an offset is wall-clock time in the site zone, localised
  through the IANA database (``dt.replace(tzinfo=tz)``, fold=0), so a 1970
  Saigon date gets +08:00. Nothing here reads the machine's zone or locale.
- Numeric dates are read in the order the site declares: ``"dmy"`` (the
  default: ``12/02/2021`` is 12 February) or ``"mdy"`` (``2/4/2026`` is
  4 February). A four-digit year in front (``2021/12/02``) makes them
  year-first either way. A date that is only valid in the other order is an
  error that says how it would read; it is never read that way.
- A string of 8, 12 or 14 digits is ``YYYYMMDD[HHMM[SS]]`` in the site zone; one
  of 9 or 10 digits, or a JSON number, is a Unix timestamp in seconds.
- HTML character references (``ng&agrave;y``, ``&#x2B;07:00``) are decoded first.
- Relative times (``5h trước``, ``2 hours ago``, ``hôm qua``) are errors: the
  instant they name moves with the clock.
- Every date must lie within ``YEAR_RANGE`` (1000-9999: RSS and Atom write
  four-digit years) as written, in UTC and in the site zone; ``range_problem``
  is the one rule. ``0001-01-01 00:00:00``, the "no date" placeholder of .NET
  and SQL exports, raises ``PlaceholderDateError`` so that an optional field
  can read it as absent.
- A weekday that disagrees with its date is a warning; the date wins.
- Feeds cannot write an offset with seconds, so ``site_time`` falls back to
  UTC for the local mean time the zone database uses before 1911.

Parsing tries two fast shapes first (ISO 8601 and the site's own
``DD/MM/YYYY - HH:MM``), then takes the string apart piece by piece: weekday,
offset marker, time of day, date, and checks that nothing else is left.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta, timezone, tzinfo

from .errors import DateError, PlaceholderDateError

__all__ = [
    "OFFSET_RANGE",
    "YEAR_RANGE",
    "fixed_offset",
    "format_local",
    "format_rfc822",
    "format_rfc3339",
    "parse_datetime",
    "range_problem",
    "site_time",
]

OFFSET_RANGE = range(-12 * 60, 14 * 60 + 1)
"""UTC offsets, in minutes east of Greenwich, that real time zones use: -12:00 to +14:00."""

YEAR_RANGE = range(1000, 10000)
"""Years a published date may have as written, in UTC and in the site zone (four digits)."""

_MINUTE = timedelta(minutes=1)
_MAX_QUOTE = 60

_EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EN_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
_MONTH_NUMBERS = {name[:3].lower(): number for number, name in enumerate(_EN_MONTHS, 1)}

_HINT_ANY = (
    "expected a date such as 02/12/2021 - 23:30, 2021-12-02T23:30:00+07:00 "
    "or December 2, 2021 11:30 PM"
)
_HINT_NUMERIC = {"dmy": "expected DD/MM/YYYY [HH:MM]", "mdy": "expected MM/DD/YYYY [HH:MM]"}
_HINT_YMD = "expected YYYY-MM-DD[THH:MM[:SS]][+HH:MM]"
_HINT_VN = "expected ngày D tháng M năm YYYY [HH:MM]"
_HINT_EN = "expected Month D, YYYY or D Month YYYY [HH:MM]"
_HINT_TIME = "expected HH:MM from 00:00 to 23:59"
_HINT_12H = "expected an hour from 1 to 12 before AM/PM, SA/CH"
_HINT_OFFSET = "expected an offset from -12:00 to +14:00, such as +07:00, GMT+7 or UTC-5"
_HINT_STAMP = "expected a string, or a Unix timestamp in seconds as a JSON number"
_HINT_DIGITS = (
    "expected YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, or a Unix timestamp in seconds"
)
_HINT_RANGE = "expected a date from the year 1000 to 9999, in UTC and in the site zone too"
_HINT_ABSOLUTE = "expected the date itself, such as 02/12/2021 - 23:30 or 2021-12-02T23:30:00+07:00"
_HINT_PLACEHOLDER = "expected a real date such as 02/12/2021 - 23:30"
_OTHER_ORDER = {
    "dmy": ("mdy", "month-first", "month first"),
    "mdy": ("dmy", "day-first", "day first"),
}
_PLACEHOLDER = datetime(1, 1, 1)

# --- fast shapes -----------------------------------------------------------

_FAST_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]|\Z)")
_FAST_PAGE = re.compile(
    r"([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]{4})"
    r"(?:(?: - |, | )([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?"
    r"(?: \((?:GMT|UTC)([+-])([0-9]{1,2})\)| (?:GMT|UTC)([+-])([0-9]{1,2}))?)?"
)
_FIXED_ZONES: dict[int, timezone] = {0: timezone.utc}
_REAL_OFFSETS = frozenset(timedelta(minutes=m) for m in OFFSET_RANGE)
_REAL_OFFSET_TEXTS = frozenset(                         # "+07:00": cheaper to look up than a timedelta
    f"{'-' if m < 0 else '+'}{abs(m) // 60:02d}:{abs(m) % 60:02d}" for m in OFFSET_RANGE)

# --- pieces of a general date string (matched case-insensitively) ----------

_WEEKDAY = re.compile(
    r"(?<!\w)(?:"
    r"thứ\s?(?:hai|ba|tư|bốn|năm|sáu|bảy|bẩy|[2-7])|chủ\s?nhật|chủ\s?nhựt"
    r"|thu\s?(?:hai|ba|tu|nam|sau|bay)|chu\s?nhat"
    r"|t[2-7]|cn"
    r"|mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?"
    r"|fri(?:day)?|sat(?:urday)?|sun(?:day)?"
    r")\.?(?!\w)",
    re.I,
)
_WEEKDAY_NUMBERS = {
    "thứhai": 0, "thứba": 1, "thứtư": 2, "thứbốn": 2, "thứnăm": 3, "thứsáu": 4,
    "thứbảy": 5, "thứbẩy": 5, "chủnhật": 6, "chủnhựt": 6,
    "thuhai": 0, "thuba": 1, "thutu": 2, "thunam": 3, "thusau": 4, "thubay": 5,
    "chunhat": 6, "cn": 6,
    **{f"thứ{n}": n - 2 for n in range(2, 8)},
    **{f"t{n}": n - 2 for n in range(2, 8)},
    **{name[:3].lower(): number for number, name in enumerate(_EN_DAYS)},
}

# GMT/UTC/UT with an optional signed offset (H, HH, H:MM, HH:MM or HHMM), or ICT. JavaScript's
# Date.toString() follows GMT+HHMM with the zone's name in parentheses: a label, not read.
_NAMED_OFFSET = re.compile(
    r"\(?\s?(?<![^\W\d_])(?:"
    r"(?P<base>gmt|utc|ut)(?![^\W\d_])"
    r"(?:\s?(?P<sign>[+\-\u2212\u2013])\s?"
    r"(?:(?P<hh>[0-9]{2})(?P<mm>[0-9]{2})|(?P<h>[0-9]{1,2})(?::(?P<m>[0-9]{2}))?)(?![0-9])"
    r"(?:\s?\((?P<label>[^\W\d_](?:[^\W\d_]|[ .'\u2019-]){0,60})\))?)?"
    r"|(?P<ict>ict)(?![^\W\d_])"
    r")\s?\)?",
    re.I,
)

_TIME = re.compile(
    r"""
    (?<![0-9:+\u2212])(?<![0-9]-)
    (?P<h>[0-9]{1,2})
    (?:
        :(?P<m>[0-9]{2})(?::(?P<s>[0-9]{2})(?:\.(?P<f>[0-9]+))?)?(?![0-9])
      | \s?(?:giờ|h|g)(?:\s?(?P<m2>[0-9]{1,2})(?:\s?(?:phút|p))?)?(?!\w)
      | (?=\s?[ap]\.?m(?![^\W\d_]))
    )
    (?:\s?(?P<ampm>[ap]\.?m\.?(?![^\W\d_])|(?:sa|ch|sáng|chiều|tối)(?!\w)))?
    (?:\s?(?P<sign>[+\-\u2212])(?P<oh>[0-9]{2})(?::?(?P<om>[0-9]{2}))?(?![0-9/.\-:])
      | (?P<z>z)(?!\w))?
    """,
    re.I | re.X,
)
_PM_WORDS = frozenset({"pm", "ch", "chiều", "tối"})

_MONTH_NAME = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?"
    r"|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
    r"(?![^\W\d_])\.?"
)
_ORDINAL = r"(?:st|nd|rd|th)?"
# Numbers in the site's declared order: a/b are day/month ("dmy") or month/day ("mdy").
_NUMERIC = re.compile(r"(?<![0-9])(?P<a>[0-9]{1,2})([/.-])(?P<b>[0-9]{1,2})\2(?P<y>[0-9]{4})(?![0-9])")
_DATE_SHAPES = (
    (_NUMERIC, None),
    (re.compile(r"(?<![0-9])(?P<y>[0-9]{4})([/.-])(?P<m>[0-9]{1,2})\2(?P<d>[0-9]{1,2})(?![0-9])"), _HINT_YMD),
    (re.compile(
        r"(?<![0-9])(?P<d>[0-9]{1,2})\s?tháng\s?(?P<m>[0-9]{1,2})(?:\s?năm\s?|\s?,\s?|\s|/)(?P<y>[0-9]{4})(?![0-9])",
        re.I), _HINT_VN),
    (re.compile(
        r"(?<!\w)(?:tháng|thg)\s?(?P<m>[0-9]{1,2})\s(?P<d>[0-9]{1,2}),?\s?(?P<y>[0-9]{4})(?![0-9])",
        re.I), _HINT_VN),
    (re.compile(
        rf"(?<![0-9])(?P<d>[0-9]{{1,2}}){_ORDINAL}(?:\s?of\s|\s|-)?{_MONTH_NAME}(?:,?\s?|-)(?P<y>[0-9]{{4}})(?![0-9])",
        re.I), _HINT_EN),
    (re.compile(
        rf"(?<!\w){_MONTH_NAME}(?:\s|-)?(?P<d>[0-9]{{1,2}}){_ORDINAL}(?:,\s?|\s|-)(?P<y>[0-9]{{4}})(?![0-9])",
        re.I), _HINT_EN),
)
_SHORT_YEAR = re.compile(r"(?<![0-9])[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{2}(?![0-9])")

_NOISE = re.compile(
    r"(?:[\s,;|()\[\]./·•:\-\u2013\u2014]"
    r"|(?<!\w)(?:lúc|ngày|vào|đăng|cập nhật|at|on|t|published|updated|posted)(?!\w))*",
    re.I,
)
_NOISE_EDGES = " ,;|()[]./·•:-\u2013\u2014"
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))

# "5h trước", "19 giờ trước", "1 hour 27 min ago", "vừa xong", "hôm qua", "yesterday": times that
# move with the clock of whoever reads the page.
_RELATIVE = re.compile(
    r"(?<!\w)(?:"
    r"(?:(?:[0-9]+|an?|một|vài|mấy)\s?[^\W\d_]+\.?\s?){1,3}(?:trước|ago)"
    r"|vừa\s(?:xong|mới|đăng|cập\snhật)|mới\s(?:đây|đăng|cập\snhật)|just\snow|moments?\sago"
    r"|hôm\s(?:qua|nay|kia)|(?:sáng|trưa|chiều|tối|đêm)\s(?:qua|nay)|(?:tuần|tháng)\s(?:trước|này|qua)"
    r"|năm\s(?:ngoái|nay)|yesterday|today|tonight|last\s(?:night|week|month|year)"
    r")(?!\w)",
    re.I,
)


class _Reject(Exception):
    """Why a string is not a date, and what was expected; the caller adds the input."""

    def __init__(self, reason: str, hint: str):
        super().__init__(reason)
        self.reason = reason
        self.hint = hint


class _Placeholder(_Reject):
    """The "no date" placeholder: rejected, but as PlaceholderDateError."""


# --- public API ------------------------------------------------------------


def parse_datetime(value: str | int | float, tz: tzinfo, *,
                   order: str = "dmy") -> tuple[datetime, tuple[str, ...]]:
    """Return (aware datetime, warnings) for a record date; naive input is wall time in tz.

    order is how the site writes numeric dates: "dmy" (day first) or "mdy"
    (month first), the [site] date_order setting.
    Raises DateError, or PlaceholderDateError (a DateError) for 0001-01-01 00:00:00.
    """
    if order not in _OTHER_ORDER:
        raise ValueError(f'date order {order!r} is not "dmy" or "mdy"')
    if isinstance(value, str):
        dt = _parse_fast(value, tz, order)
        if dt is not None and 1000 < dt.year < 9999:
            return dt, ()
        return _parse_text(value, tz, order)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            dt = _from_timestamp(value)
            if not 1973 < dt.year < 9999:         # 1970-1973: what YYYYMMDD numbers read as
                _check_timestamp(value, dt, tz)
        except _Reject as why:
            raise _error(repr(value), why) from None
        return dt, ()
    kind = "null" if value is None else f"a {type(value).__name__}"
    raise DateError(
        f"{_quote(repr(value))} is not a valid date: {kind} is not accepted ({_HINT_STAMP})"
    )


def fixed_offset(minutes: int) -> timezone:
    """The fixed zone `minutes` east of UTC (UTC itself for 0), cached.

    ValueError unless minutes is in OFFSET_RANGE: no real zone is further
    from Greenwich than -12:00 or +14:00, so such an offset is a typo.
    """
    zone = _FIXED_ZONES.get(minutes)
    if zone is None:
        if minutes not in OFFSET_RANGE:
            raise ValueError(f"offset {_offset_text(minutes, ':')} is out of range "
                             "(expected an offset from -12:00 to +14:00)")
        zone = _FIXED_ZONES[minutes] = timezone(timedelta(minutes=minutes))
    return zone


def range_problem(dt: datetime, tz: tzinfo | None = None) -> str | None:
    """Why an aware datetime cannot be published, or None when it can.

    Its year must be in YEAR_RANGE as written (in its own offset), in UTC, and
    in the site zone tz when one is given: RSS and Atom write four-digit years,
    and every one of these renderings is written somewhere.
    """
    if 1000 < _require_aware(dt).year < 9999:           # no offset (less than a day) moves it out
        return None
    if dt.year not in YEAR_RANGE:
        return f"year {dt.year} is out of range"
    side = "before the year 1000" if dt.year < 5000 else "after the year 9999"
    try:
        utc = dt.replace(tzinfo=None) - dt.utcoffset()
    except OverflowError:
        utc = None
    if utc is None or utc.year not in YEAR_RANGE:
        return f"in UTC it falls {side}"
    if tz is not None:
        try:
            local = dt.astimezone(tz)
        except OverflowError:
            local = None
        if local is None or local.year not in YEAR_RANGE:
            return f"in the site zone ({_zone_name(tz)}) it falls {side}"
    return None


def site_time(dt: datetime, tz: tzinfo) -> datetime:
    """dt in the site zone, or in UTC when that offset has seconds, which feeds cannot write.

    DateError when the site zone cannot show dt (beyond the calendar's ends);
    every date parse_datetime returns can be shown.
    """
    try:
        local = _require_aware(dt).astimezone(tz)
        if local.utcoffset() % _MINUTE:
            return dt.astimezone(timezone.utc)
    except OverflowError:
        raise DateError(f"{dt.isoformat()} cannot be shown in {_zone_name(tz)}: "
                        f"{range_problem(dt, tz) or 'it is out of range'} ({_HINT_RANGE})") from None
    return local


def format_rfc822(dt: datetime) -> str:
    """RSS date such as 'Thu, 02 Dec 2021 23:30:00 +0700', English names whatever the locale."""
    dt = _writable(dt)
    return (
        f"{_EN_DAYS[dt.weekday()][:3]}, {dt.day:02d} {_EN_MONTHS[dt.month - 1][:3]} "
        f"{dt.year:04d} {dt.hour:02d}:{dt.minute:02d}:{dt.second:02d} {_offset(dt, '')}"
    )


def format_rfc3339(dt: datetime) -> str:
    """Atom date such as '2021-12-02T23:30:00+07:00'; microseconds are dropped."""
    dt = _writable(dt)
    return (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}"
        f"T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}{_offset(dt, ':')}"
    )


def format_local(dt: datetime, lang: str) -> str:
    """Wall-clock date for pages: vi '02/12/2021 - 23:30', en '2 December 2021, 23:30'."""
    primary = lang.split("-")[0].split("_")[0].lower()
    if primary == "vi":
        return f"{dt.day:02d}/{dt.month:02d}/{dt.year:04d} - {dt.hour:02d}:{dt.minute:02d}"
    if primary == "en":
        return f"{dt.day} {_EN_MONTHS[dt.month - 1]} {dt.year:04d}, {dt.hour:02d}:{dt.minute:02d}"
    raise ValueError(f'no local date format for language "{lang}" (expected "vi" or "en")')


# --- fast shapes -----------------------------------------------------------


def _parse_fast(text: str, tz: tzinfo, order: str) -> datetime | None:
    """ISO 8601 or D/M/YYYY[ - HH:MM[:SS]] in the site's order, or None to let the general
    reader explain. The caller checks the year range."""
    if _FAST_ISO.match(text):
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            return None
        if dt.tzinfo is None:
            return dt.replace(tzinfo=tz)
        if text[-6:] in _REAL_OFFSET_TEXTS or dt.utcoffset() in _REAL_OFFSETS:
            return dt
        return None
    m = _FAST_PAGE.fullmatch(text)
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


def _check_timestamp(value: int | float, dt: datetime, tz: tzinfo) -> None:
    """Reject a number that is a date written YYYYMMDD (read as seconds it falls in 1970-1973,
    which no feed carries), and the edges of the calendar."""
    if 10_000_000 <= value < 100_000_000 and value == int(value):
        stamp = _compact_date(str(int(value)))
        if stamp is not None:
            raise _Reject(
                f"as a Unix timestamp it is {_long_date(dt)}, but it looks like {_long_date(stamp)} "
                f"written YYYYMMDD", f'{_HINT_STAMP}; write the date as the string "{int(value)}"')
    if not 1000 < dt.year < 9999:
        _check_edges(dt, tz)


def _from_timestamp(value: int | float) -> datetime:
    """A Unix timestamp in seconds as that instant in UTC."""
    try:
        return datetime.fromtimestamp(value, timezone.utc)
    except (OverflowError, OSError, ValueError):
        hint = _HINT_STAMP
        digits = str(int(value)) if value == value and abs(value) != float("inf") else ""
        if len(digits) == 14 and value == int(value) and _compact_date(digits) is not None:
            hint += f'; this looks like YYYYMMDDHHMMSS, which must be the string "{digits}"'
        elif 1e11 < abs(value) < 3e14:
            hint += "; this looks like milliseconds"
        raise _Reject("timestamp out of range", hint) from None


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
            raise _Reject("it is empty", _HINT_ANY)
        dt, warnings = _parse_fast(text, tz, order), ()
        if dt is None:
            dt, warnings = _read_text(text, tz, order)
        if not 1000 < dt.year < 9999:
            _check_edges(dt, tz)
        return dt, warnings
    except _Reject as why:
        raise _error(text or value, why) from None


def _error(shown: str, why: _Reject) -> DateError:
    message = f"{_quote(shown)} is not a valid date: {why.reason} ({why.hint})"
    if isinstance(why, _Placeholder):
        return PlaceholderDateError(message, _quote(shown))
    return DateError(message)


def _check_edges(dt: datetime, tz: tzinfo) -> None:
    """Reject the "no date" placeholder and dates outside the supported range."""
    if dt.replace(tzinfo=None) == _PLACEHOLDER:
        raise _Placeholder('0001-01-01 00:00:00 is the placeholder .NET and SQL exports write for "no date"',
                           _HINT_PLACEHOLDER)
    problem = range_problem(dt, tz)
    if problem is not None:
        raise _Reject(problem, _HINT_RANGE)


def _read_text(text: str, tz: tzinfo, order: str) -> tuple[datetime, tuple[str, ...]]:
    """Digits alone, the pieces of a printed date, or English prose; relative times refused."""
    if text.isdigit() and text.isascii():
        return _digits(text, tz), ()
    try:
        return _read_pieces(text, tz, order)
    except _Reject as why:
        relative = _RELATIVE.search(text)
        if relative is not None:
            what = "it" if relative.group(0) == text else f'"{relative.group(0)}"'
            raise _Reject(
                f"{what} is a relative time, which cannot be a feed date: the instant would move "
                "between runs and readers would see the item jump", _HINT_ABSOLUTE) from None
        found = _dateutil_prose(text, tz, order) if _PROSE.search(text) else None
        if found is None:
            raise why
        return found, ()


def _digits(text: str, tz: tzinfo) -> datetime:
    """YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS in the site zone; 9 or 10 digits are Unix seconds."""
    if len(text) in (9, 10):
        return _from_timestamp(int(text))          # 1973-2286: no YYYYMMDD lookalike
    if len(text) not in (8, 12, 14):
        hint = _HINT_DIGITS + ("; this looks like milliseconds" if len(text) == 13 else "")
        raise _Reject("digits alone are not a date", hint)
    shape = "YYYYMMDDHHMMSS"[:len(text)]
    day = _valid_date(int(text[:4]), int(text[4:6]), int(text[6:8]), f"expected {shape}")
    hour, minute, second = int(text[8:10] or 0), int(text[10:12] or 0), int(text[12:14] or 0)
    _check_clock(hour, minute, second)
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=tz)


_PROSE = re.compile(r"[a-z]{3,}", re.I)
_PROSE_MONTH = re.compile(r"(?<![^\W\d_])" + _MONTH_NAME, re.I)
_NUMBERS_WITH_SEPARATOR = re.compile(r"[0-9]\s?[/.\-]\s?[0-9]")
_NUMERIC_OFFSET = re.compile(r"(?<=\d)\s?(?P<sign>[+-])(?P<h>[0-9]{2}):?(?P<m>[0-9]{2})\b")
_DEFAULTS = (datetime(2001, 2, 3), datetime(2002, 4, 5))


def _dateutil_prose(text: str, tz: tzinfo, order: str) -> datetime | None:
    """English prose our own shapes do not cover, read by python-dateutil.

    Offsets are taken out first and applied here, because dateutil reads
    "GMT+7" the POSIX way (UTC-7). Only text that names its month in words
    goes to dateutil, so no numeric date is ever read in an order the site did
    not declare. A result counts only when the text itself gave day, month and
    year: parsing with two different defaults must agree.
    """
    named, rest = _take(_NAMED_OFFSET, text)
    written, rest = _take(_NUMERIC_OFFSET, rest)
    clock, rest = _take(_TIME, rest)
    if not _PROSE_MONTH.search(rest) or _NUMBERS_WITH_SEPARATOR.search(rest):
        return None
    try:
        offset = _pick_offset(_pick_offset(_named_offset(named), _written_offset(written)), _clock_offset(clock))
        hour, minute, second, micro = _clock_fields(clock)
    except _Reject:
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
    return first.replace(hour=hour, minute=minute, second=second, microsecond=micro, tzinfo=offset or tz)


def _written_offset(m: re.Match[str] | None) -> timezone | None:
    """+HH:MM / -HHMM written after a time."""
    if m is None:
        return None
    return _offset_zone(m["sign"], int(m["h"]), int(m["m"]))


def _normalise(value: str) -> str:
    """Character references decoded, NFC, no invisible characters, every run of whitespace
    (NBSP, tabs, newlines) one space."""
    if "&" in value:
        import html
        value = html.unescape(value)
    text = value
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    return " ".join(text.split())


def _read_pieces(text: str, tz: tzinfo, order: str) -> tuple[datetime, tuple[str, ...]]:
    """Take out weekday, offset, time and date; whatever remains must be punctuation or filler."""
    weekday, text = _take(_WEEKDAY, text)
    named, text = _take(_NAMED_OFFSET, text)
    clock, text = _take(_TIME, text)
    day, other, text = _find_date(text, order)
    if not _NOISE.fullmatch(text):
        leftover = " ".join(text.split()).strip(_NOISE_EDGES)
        raise _Reject(f'unexpected "{leftover}"', _HINT_ANY)
    hour, minute, second, micro = _clock_fields(clock)
    offset = _pick_offset(_named_offset(named), _clock_offset(clock))
    dt = datetime(day.year, day.month, day.day, hour, minute, second, micro, tzinfo=offset or tz)
    return dt, _weekday_warnings(weekday, day, other, order)


def _take(pattern: re.Pattern[str], text: str) -> tuple[re.Match[str] | None, str]:
    """First match of pattern, and the text with that match blanked out."""
    m = pattern.search(text)
    if m is None:
        return None, text
    return m, f"{text[:m.start()]} {text[m.end():]}"


def _find_date(text: str, order: str) -> tuple[date, date | None, str]:
    """The first date shape found in text, checked; the other order's reading of a numeric
    date (None when there is none or it is the same day); and the text without the date."""
    for pattern, hint in _DATE_SHAPES:
        m, rest = _take(pattern, text)
        if m is not None:
            if pattern is _NUMERIC:
                return (*_numeric_date(m, order), rest)
            return _checked_date(m, hint), None, rest
    if _SHORT_YEAR.search(text):
        raise _Reject("the year must have four digits", _HINT_NUMERIC[order])
    if text.strip().isdigit():
        raise _Reject("digits alone are not a date", _HINT_ANY)
    raise _Reject("no day, month and year found", _HINT_ANY)


def _numeric_date(m: re.Match[str], order: str) -> tuple[date, date | None]:
    """A numeric date read in the declared order, and its reading in the other order.

    A date valid only in the other order is rejected with that reading and the
    setting that would give it: the site's declaration decides, never the digits.
    """
    a, b, year = int(m["a"]), int(m["b"]), int(m["y"])
    day, month = (b, a) if order == "mdy" else (a, b)
    other = _maybe_date(year, day, month) if day != month else None
    try:
        return _valid_date(year, month, day, _HINT_NUMERIC[order]), other
    except _Reject as why:
        if other is None:
            raise
        setting, reading, words = _OTHER_ORDER[order]
        raise _Reject(f"{why.reason}; {reading} it is {_long_date(other)}",
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
    month = int(groups["m"]) if groups.get("m") else _MONTH_NUMBERS[groups["mon"][:3].lower()]
    return _valid_date(year, month, day, hint)


def _valid_date(year: int, month: int, day: int, hint: str) -> date:
    """date(year, month, day), or the reason it is impossible."""
    if year < 1:
        raise _Reject(f"year {year} is out of range", _HINT_RANGE)
    if not 1 <= month <= 12:
        raise _Reject(f"month {month} is out of range", hint)
    last = _days_in_month(year, month)
    if not 1 <= day <= last:
        raise _Reject(f"day {day} is out of range for {_EN_MONTHS[month - 1]} {year}", hint)
    return date(year, month, day)


def _long_date(day: date) -> str:
    """'13 July 2026': a date no reader can take in the wrong order."""
    return f"{day.day} {_EN_MONTHS[day.month - 1]} {day.year}"


def _days_in_month(year: int, month: int) -> int:
    """Number of days in a month of the proleptic Gregorian calendar."""
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _clock_fields(clock: re.Match[str] | None) -> tuple[int, int, int, int]:
    """(hour, minute, second, microsecond) of a time match; midnight when there is none."""
    if clock is None:
        return 0, 0, 0, 0
    hour = int(clock["h"])
    minute = int(clock["m"] or clock["m2"] or 0)
    second = int(clock["s"] or 0)
    micro = int((clock["f"] or "0")[:6].ljust(6, "0"))
    if clock["ampm"]:
        hour = _twelve_hour(hour, clock["ampm"])
    _check_clock(hour, minute, second)
    return hour, minute, second, micro


def _check_clock(hour: int, minute: int, second: int) -> None:
    if hour > 23:
        raise _Reject(f"hour {hour} is out of range", _HINT_TIME)
    if minute > 59:
        raise _Reject(f"minute {minute} is out of range", _HINT_TIME)
    if second > 59:
        raise _Reject(f"second {second} is out of range", _HINT_TIME)


def _twelve_hour(hour: int, marker: str) -> int:
    """24-hour value of a 12-hour clock; '21:07 PM' stays 21:07 because pages print that."""
    word = marker.replace(".", "").lower()
    if word in _PM_WORDS:
        if hour == 0:
            raise _Reject(f"hour 0 cannot be used with {marker.upper()}", _HINT_12H)
        return hour + 12 if hour < 12 else hour
    if hour > 12:
        raise _Reject(f"hour {hour} cannot be used with {marker.upper()}", _HINT_12H)
    return 0 if hour == 12 else hour


def _named_offset(m: re.Match[str] | None) -> timezone | None:
    """Fixed offset of GMT/UTC/UT[±H[:MM]|±HHMM] (sign as written, not POSIX) or ICT."""
    if m is None:
        return None
    if m["ict"]:
        return fixed_offset(7 * 60)
    if not m["sign"]:
        return timezone.utc
    if m["hh"]:
        return _offset_zone(m["sign"], int(m["hh"]), int(m["mm"]))
    return _offset_zone(m["sign"], int(m["h"]), int(m["m"] or 0))


def _clock_offset(clock: re.Match[str] | None) -> timezone | None:
    """Fixed offset written right after a time: +07:00, +0700, -05 or Z."""
    if clock is None:
        return None
    if clock["z"]:
        return timezone.utc
    if not clock["sign"]:
        return None
    return _offset_zone(clock["sign"], int(clock["oh"]), int(clock["om"] or 0))


def _offset_zone(sign: str, hours: int, minutes: int) -> timezone:
    """The fixed zone of a signed offset as written, rejecting those no real zone uses."""
    total = hours * 60 + minutes
    if sign != "+":
        total = -total
    if minutes > 59 or total not in OFFSET_RANGE:
        shown = "+" if sign == "+" else "-"
        raise _Reject(f"offset {shown}{hours:02d}:{minutes:02d} is out of range", _HINT_OFFSET)
    return fixed_offset(total)


def _pick_offset(named: timezone | None, written: timezone | None) -> timezone | None:
    """The single explicit offset of a string; two that disagree are an error."""
    if named is not None and written is not None and named != written:
        raise _Reject("it has two different offsets", _HINT_OFFSET)
    return named or written


def _weekday_warnings(m: re.Match[str] | None, day: date, other: date | None,
                      order: str) -> tuple[str, ...]:
    """A warning when the printed weekday disagrees with the date; the date wins. When it
    matches the other order's reading instead, the warning says so and names the setting."""
    if m is None:
        return ()
    shown = m.group(0).rstrip(".")
    key = "".join(shown.split()).lower()
    number = _WEEKDAY_NUMBERS.get(key, _WEEKDAY_NUMBERS.get(key[:3]))
    if number == day.weekday():
        return ()
    first, second = (day.month, day.day) if order == "mdy" else (day.day, day.month)
    warning = (f'weekday "{shown}" does not match {first:02d}/{second:02d}/{day.year:04d} '
               f"(a {_EN_DAYS[day.weekday()]}); the date wins")
    if other is not None and number == other.weekday():
        setting, reading, words = _OTHER_ORDER[order]
        warning += (f"; {reading} it is {_EN_DAYS[number]} {_long_date(other)} "
                    f'(set date_order = "{setting}" in [site] if this source writes {words})')
    return (warning,)


# --- writing ---------------------------------------------------------------


def _require_aware(dt: datetime) -> datetime:
    """dt itself, or ValueError for a naive datetime, whose instant is unknown."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"naive datetime {dt.isoformat()} has no offset; attach the site zone first")
    return dt


def _writable(dt: datetime) -> datetime:
    """dt, or dt in UTC when its offset has seconds, which RFC 822 and RFC 3339 cannot write."""
    if _require_aware(dt).utcoffset() % _MINUTE:
        try:
            return dt.astimezone(timezone.utc)
        except OverflowError:
            raise DateError(f"{dt.isoformat()} cannot be written in UTC: "
                            f"{range_problem(dt) or 'it is out of range'} ({_HINT_RANGE})") from None
    return dt


def _offset(dt: datetime, sep: str) -> str:
    """'+0700' (sep='') or '+07:00' (sep=':'); UTC is written +00:00."""
    return _offset_text(dt.utcoffset() // _MINUTE, sep)


def _offset_text(minutes: int, sep: str) -> str:
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{sep}{minutes:02d}"


def _zone_name(tz: tzinfo) -> str:
    return getattr(tz, "key", None) or str(tz)


def _quote(text: str) -> str:
    """Input for an error message: one line, control characters escaped, about 60 characters."""
    shown = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    if len(shown) > _MAX_QUOTE:
        shown = shown[: _MAX_QUOTE - 3] + "..."
    return f'"{shown}"'

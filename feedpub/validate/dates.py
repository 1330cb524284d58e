"""Date grammars: RFC 822 as RSS 2.0 uses it, RFC 3339 as Atom and JSON Feed 1.1 use it, and the
W3C's profile of ISO 8601 (W3C-DTF) that JSON Feed 1.0 names.

Each check returns a DateCheck: what the specification forbids (errors), what
only feedpub forbids in what it writes (house: a 2-digit year, a named or
military zone), advice (warnings), and the zone and instant when the date
could be read.
"""
from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

__all__ = ["DateCheck", "RFC3339_EXAMPLE", "RFC822_EXAMPLE", "rfc3339", "rfc822", "w3cdtf"]

RFC822_EXAMPLE = '"Thu, 02 Dec 2021 23:30:00 +0700"'
RFC3339_EXAMPLE = "2021-12-02T23:30:00+07:00"
RFC822_REF = "RSS 2.0 date-times (RFC 822 §5)"


@dataclass
class DateCheck:
    errors: list[str] = field(default_factory=list)      # each a phrase that follows the quoted value
    house: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    zone: str | None = None
    when: datetime | None = None


# --- RFC 822 (RSS) ---------------------------------------------------------------------------

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_NAMED_ZONES = {"UT": 0, "GMT": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6,
                "PST": -8, "PDT": -7}
_RFC822 = re.compile(r"(?:(?P<dow>[^\s,]+)\s*,\s*)?(?P<day>\d{1,2})\s+(?P<mon>[^\s\d]+)\s+(?P<year>\d+)\s+"
                     r"(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?\s+(?P<zone>\S+)")


def _rfc822_zone(zone: str, check: DateCheck) -> timezone | None:
    """The zone's offset; errors for what RFC 822 §5.1 does not allow, house rules for the rest."""
    upper = zone.upper()
    zm = re.fullmatch(r"([+-])(\d\d)(\d\d)", zone)
    if zm:
        if int(zm.group(2)) > 23 or int(zm.group(3)) > 59:
            check.errors.append(f'has offset "{zone}" out of range (expected +HHMM, e.g. +0700, or GMT)')
            return None
        sign = 1 if zm.group(1) == "+" else -1
        return timezone(sign * timedelta(hours=int(zm.group(2)), minutes=int(zm.group(3))))
    if upper in _NAMED_ZONES:
        if zone != "GMT":
            check.house.append(f'has time zone "{zone}" (feedpub requires a numeric offset like +0700, or GMT)')
        return timezone(timedelta(hours=_NAMED_ZONES[upper]))
    if len(zone) == 1 and zone.isalpha() and upper != "J":
        check.house.append(f'has the military time zone "{zone}" (feedpub requires a numeric offset like '
                           "+0700, or GMT)")
        check.warnings.append(f'has the military time zone "{zone}", whose sign RFC 822 got backwards: '
                              "readers disagree about it (RFC 1123 §5.2.14; expected a numeric offset)")
        return timezone.utc
    if re.fullmatch(r"[+-]\d\d:\d\d", zone):
        check.errors.append(f'has offset "{zone}" with a colon (expected +HHMM, e.g. {zone.replace(":", "")}, '
                            "or GMT)")
    elif zone.isalpha():
        check.errors.append(f'has time zone "{zone}" (expected a numeric offset like +0700, or GMT)')
    else:
        check.errors.append(f'has offset "{zone}" (expected +HHMM, e.g. +0700, or GMT)')
    return None


def rfc822(value: str) -> DateCheck:
    """An RSS date: RFC 822 §5 with a 2- or 4-digit year, as RSS 2.0 allows."""
    check = DateCheck()
    plain = value.replace("\\(", "").replace("\\)", "")
    while "(" in plain and re.search(r"\([^()]*\)", plain):
        plain = re.sub(r"\s*\([^()]*\)", " ", plain)
    if plain != value:
        check.house.append("has comments in parentheses (feedpub requires the date alone)")
    plain = re.sub(r"\s+,", ",", plain)
    m = _RFC822.fullmatch(plain.strip())
    if not m:
        check.errors.append(f"is not an RFC 822 date-time (expected e.g. {RFC822_EXAMPLE})")
        return check
    dow, mon, year, zone = m.group("dow"), m.group("mon"), m.group("year"), m.group("zone")
    day_name = next((d for d in _DAYS if dow and d.lower() == dow.lower()), None)
    month = next((i for i, name in enumerate(_MONTHS, 1) if name.lower() == mon.lower()), None)
    if dow is not None and day_name is None:
        check.errors.append(f'has day name "{dow}" (expected one of {", ".join(_DAYS)})')
    if month is None:
        check.errors.append(f'has month name "{mon}" (expected one of {", ".join(_MONTHS)})')
    if (dow is not None and day_name is not None and dow != day_name) or (month and mon != _MONTHS[month - 1]):
        check.house.append("has a day or month name in the wrong case (feedpub requires e.g. Thu, Dec)")
    if len(year) not in (2, 4):
        check.errors.append(f'has year "{year}" (expected a 4-digit year)')
        return check
    if len(year) == 2:
        check.house.append(f'has year "{year}" (feedpub requires a 4-digit year)')
    tz = _rfc822_zone(zone, check)
    if month is None:
        return check
    full_year = int(year) if len(year) == 4 else (1900 + int(year) if int(year) >= 50 else 2000 + int(year))
    try:
        second = int(m.group("s") or 0)
        if second > 60:
            raise ValueError("second out of range")
        when = datetime(full_year, month, int(m.group("day")), int(m.group("h")), int(m.group("mi")),
                        min(second, 59), tzinfo=tz or timezone.utc)
    except ValueError:
        check.errors.append("is not a real date and time")
        return check
    if day_name is not None:
        real = _DAYS[date(full_year, month, int(m.group("day"))).weekday()]
        if real != day_name:
            check.errors.append(f"has the wrong weekday (expected {real})")
    if tz is not None:
        check.zone, check.when = zone, when
    return check


# --- RFC 3339 (Atom, JSON Feed) ------------------------------------------------------------------

_RFC3339 = re.compile(r"(?P<date>(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2}))(?P<sep>[Tt ]?)"
                      r"(?:(?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?P<frac>\.\d+)?)?)?(?P<zone>.*)", re.S)


def rfc3339(value: str, *, upper: bool) -> DateCheck:
    """An RFC 3339 date-time. upper: Atom (RFC 4287 §3.3) wants an uppercase T and Z."""
    check = DateCheck()
    m = _RFC3339.fullmatch(value)
    if not m or not m.group("h"):
        check.errors.append(f"is not an RFC 3339 date-time (expected e.g. {RFC3339_EXAMPLE})")
        return check
    sep, zone = m.group("sep"), m.group("zone")
    if sep == " " or sep == "":
        check.errors.append('has no "T" between date and time (expected e.g. %s)' % RFC3339_EXAMPLE)
    elif sep == "t" and upper:
        check.errors.append('has a lowercase "t" (expected an uppercase T)')
    if m.group("s") is None:
        check.errors.append(f"has no seconds (expected e.g. {RFC3339_EXAMPLE})")
    tz = None
    zm = re.fullmatch(r"([+-])(\d\d):(\d\d)", zone)
    if zone == "Z" or (zone == "z" and not upper):
        tz = timezone.utc
    elif zone == "z":
        check.errors.append('has a lowercase "z" (expected an uppercase Z)')
    elif zm and int(zm.group(2)) <= 23 and int(zm.group(3)) <= 59:
        sign = 1 if zm.group(1) == "+" else -1
        tz = timezone(sign * timedelta(hours=int(zm.group(2)), minutes=int(zm.group(3))))
    elif zone == "":
        check.errors.append("has no UTC offset (expected Z or +HH:MM, e.g. +07:00)")
    elif re.fullmatch(r"[+-]\d{4}", zone):
        check.errors.append(f'has offset "{zone}" without a colon (expected {zone[:3]}:{zone[3:]})')
    elif re.fullmatch(r"[+-]\d\d:\d\d:\d\d(\.\d+)?", zone):
        check.errors.append(f'has offset "{zone}" with seconds (expected +HH:MM, e.g. {zone[:6]})')
    else:
        check.errors.append(f'has offset "{zone}" (expected Z or +HH:MM, e.g. +07:00)')
    try:
        y, mo, d = int(m.group("y")), int(m.group("mo")), int(m.group("d"))
        h, mi, s = int(m.group("h")), int(m.group("mi")), int(m.group("s") or 0)
        if h > 23 or mi > 59 or s > 60 or not 1 <= mo <= 12 or not 1 <= d <= monthrange(y, mo)[1]:
            raise ValueError
        when = datetime(y, mo, d, h, mi, min(s, 59), tzinfo=tz or timezone.utc)
    except ValueError:
        check.errors.append("is not a real date and time")
        return check
    if tz is not None:
        check.zone, check.when = zone, when
    return check


# --- W3C-DTF (JSON Feed 1.0: "ISO 8601 format", linking www.w3.org/TR/NOTE-datetime) ----------------

_W3CDTF = re.compile(r"(?P<y>\d{4})(?:-(?P<mo>\d{2})(?:-(?P<d>\d{2})"
                     r"(?:T(?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?(?P<zone>Z|[+-]\d{2}:\d{2})?)?)?)?")


def w3cdtf(value: str) -> DateCheck:
    """A date in the W3C's profile of ISO 8601: YYYY, YYYY-MM, YYYY-MM-DD, or a date and a time
    to the minute, second or fraction with its zone (Z or +hh:mm). RFC 3339's date-times are all
    of this shape; JSON Feed 1.0 allows the shorter forms too."""
    check = DateCheck()
    m = _W3CDTF.fullmatch(value)
    if not m:
        check.errors.append("is not an ISO 8601 date (expected the W3C profile, e.g. 2021-12-02T23:30:00+07:00 "
                            "or 2021-12-02)")
        return check
    if m.group("h") and not m.group("zone"):
        check.errors.append("has a time but no UTC offset (expected Z or +HH:MM, e.g. +07:00)")
        return check
    zone = m.group("zone")
    tz = timezone.utc
    if zone and zone != "Z":
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 23 or minutes > 59:
            check.errors.append(f'has offset "{zone}" out of range (expected +HH:MM, e.g. +07:00)')
            return check
        tz = timezone((1 if zone[0] == "+" else -1) * timedelta(hours=hours, minutes=minutes))
    try:
        y, mo, d = int(m.group("y")), int(m.group("mo") or 1), int(m.group("d") or 1)
        h, mi, sec = int(m.group("h") or 0), int(m.group("mi") or 0), int(m.group("s") or 0)
        if h > 23 or mi > 59 or sec > 60 or not 1 <= mo <= 12 or not 1 <= d <= monthrange(y, mo)[1]:
            raise ValueError
        when = datetime(y, mo, d, h, mi, min(sec, 59), tzinfo=tz)
    except ValueError:
        check.errors.append("is not a real date and time")
        return check
    check.zone, check.when = zone, when
    return check

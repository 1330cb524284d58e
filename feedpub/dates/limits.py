"""The two limits every date obeys, read or written: offsets real zones use, four-digit years.

Both the reader and the writer ask these, so they live below both: an offset
outside OFFSET_RANGE is a typo (no zone is further from Greenwich than -12:00
or +14:00), and a year outside YEAR_RANGE cannot be written in RSS or Atom.
fixed_offset and range_problem are the one place each rule is applied.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo

__all__ = [
    "OFFSET_RANGE", "REAL_OFFSETS", "REAL_OFFSET_TEXTS", "YEAR_RANGE",
    "fixed_offset", "offset_text", "range_problem", "require_aware", "zone_name",
]

OFFSET_RANGE = range(-12 * 60, 14 * 60 + 1)
"""UTC offsets, in minutes east of Greenwich, that real time zones use: -12:00 to +14:00."""

YEAR_RANGE = range(1000, 10000)
"""Years a published date may have as written, in UTC and in the site zone (four digits)."""

REAL_OFFSETS = frozenset(timedelta(minutes=m) for m in OFFSET_RANGE)
REAL_OFFSET_TEXTS = frozenset(                         # "+07:00": cheaper to look up than a timedelta
    f"{'-' if m < 0 else '+'}{abs(m) // 60:02d}:{abs(m) % 60:02d}" for m in OFFSET_RANGE)
_FIXED_ZONES: dict[int, timezone] = {0: timezone.utc}


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
    if 1000 < require_aware(dt).year < 9999:           # no offset (less than a day) moves it out
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
            return f"in the site zone ({zone_name(tz)}) it falls {side}"
    return None


def require_aware(dt: datetime) -> datetime:
    """dt itself, or ValueError for a naive datetime, whose instant is unknown."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"naive datetime {dt.isoformat()} has no offset; attach the site zone first")
    return dt


def _offset_text(minutes: int, sep: str) -> str:
    """'+0700' (sep='') or '+07:00' (sep=':') for an offset in minutes east of UTC."""
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{sep}{minutes:02d}"


def offset_text(offset: timedelta) -> str:
    """'+07:00' for an offset, with its seconds when it has some ('+07:06:30', local mean time)."""
    seconds = int(offset.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}:{minutes:02d}" + (f":{seconds:02d}" if seconds else "")


def zone_name(tz: tzinfo) -> str:
    """The IANA name of a zone for messages, or its str() for any other tzinfo."""
    return getattr(tz, "key", None) or str(tz)


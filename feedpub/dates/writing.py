"""Writing an aware datetime: in the site zone, as RSS and Atom dates, and for pages.

site_time gives the wall-clock time a feed shows; the formatters write it.
Feeds can carry an offset only to the minute, so a date whose zone offset has
seconds (local mean time, which the zone database uses before 1911) is
written in UTC instead; a naive datetime is refused, its instant being
unknown. Month and day names are English whatever the machine's locale.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from email.utils import format_datetime

from ..errors import DateError
from .limits import range_problem, require_aware, zone_name
from .shapes import EN_MONTHS, HINT_RANGE

__all__ = ["format_local", "format_rfc3339", "format_rfc822", "site_time"]

_MINUTE = timedelta(minutes=1)


def site_time(dt: datetime, tz: tzinfo) -> datetime:
    """dt in the site zone, or in UTC when that offset has seconds, which feeds cannot write.

    DateError when the site zone cannot show dt (beyond the calendar's ends);
    every date parse_datetime returns can be shown.
    """
    try:
        local = require_aware(dt).astimezone(tz)
        if local.utcoffset() % _MINUTE:
            return dt.astimezone(timezone.utc)
    except OverflowError:
        raise DateError(f"{dt.isoformat()} cannot be shown in {zone_name(tz)}: "
                        f"{range_problem(dt, tz) or 'it is out of range'} ({HINT_RANGE})") from None
    return local


def format_rfc822(dt: datetime) -> str:
    """RSS date such as 'Thu, 02 Dec 2021 23:30:00 +0700', English names whatever the locale.

    email.utils names days and months from its own English table, never the
    locale's, and writes the offset as +HHMM, UTC as +0000 (usegmt=True would
    write "GMT", the form of HTTP headers, not of these feeds).
    """
    return format_datetime(_writable(dt))


def format_rfc3339(dt: datetime) -> str:
    """Atom date such as '2021-12-02T23:30:00+07:00'; microseconds are dropped, UTC is +00:00."""
    return _writable(dt).isoformat(timespec="seconds")


def format_local(dt: datetime, lang: str) -> str:
    """Wall-clock date for pages: vi '02/12/2021 - 23:30', en '2 December 2021, 23:30'."""
    primary = lang.split("-")[0].split("_")[0].lower()
    if primary == "vi":
        return f"{dt.day:02d}/{dt.month:02d}/{dt.year:04d} - {dt.hour:02d}:{dt.minute:02d}"
    if primary == "en":
        return f"{dt.day} {EN_MONTHS[dt.month - 1]} {dt.year:04d}, {dt.hour:02d}:{dt.minute:02d}"
    raise ValueError(f'no local date format for language "{lang}" (expected "vi" or "en")')


def _writable(dt: datetime) -> datetime:
    """dt, or dt in UTC when its offset has seconds, which RFC 822 and RFC 3339 cannot write."""
    if require_aware(dt).utcoffset() % _MINUTE:
        try:
            return dt.astimezone(timezone.utc)
        except OverflowError:
            raise DateError(f"{dt.isoformat()} cannot be written in UTC: "
                            f"{range_problem(dt) or 'it is out of range'} ({HINT_RANGE})") from None
    return dt

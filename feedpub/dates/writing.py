"""Writing an aware datetime: in the site zone, and as every format writes a date, by one function.

site_time gives the wall-clock time a feed shows; write_date writes every date feedpub publishes
(RSS, Atom, JSON Feed, the pages, OPML): feedgen's own date strings are replaced by its output
(feedgen_traps.py), so no two formats can disagree about an instant.

Fractions of a second are cut off, toward the past: RSS's RFC 822 cannot carry them, so the only
way every format states the same instant is whole seconds in all of them. Cutting never moves a
date later (rounding could carry 23:59:59.6 on 31 December into the next day, the next year, or
past the year 9999 that RSS and Atom can write), keeps the order of any two dates, and is what
Python's timespec="seconds" and email.utils always did here.

Feeds can carry an offset only to the minute, so a date whose zone offset has seconds (local mean
time, which the zone database uses before 1911) is written in UTC instead; a naive datetime is
refused, its instant being unknown. Month and day names are English whatever the machine's locale.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from email.utils import format_datetime

from ..errors import DateError
from .limits import range_problem, require_aware, zone_name
from .shapes import EN_MONTHS, HINT_RANGE

__all__ = ["FORMS", "site_time", "write_date"]

_MINUTE = timedelta(minutes=1)
FORMS = ("rfc822", "rfc3339", "page")


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


def write_date(dt: datetime, form: str, lang: str = "en") -> str:
    """dt, cut to whole seconds, in its own offset, as one of FORMS writes it:

    - "rfc822": RSS, OPML: 'Thu, 02 Dec 2021 23:30:00 +0700' (UTC as +0000; usegmt would write
      "GMT", the form of HTTP headers, not of these feeds); English names whatever the locale;
    - "rfc3339": Atom, JSON Feed, the pages' <time datetime>: '2021-12-02T23:30:00+07:00' (UTC as +00:00);
    - "page": the pages' wall-clock text in lang: vi '02/12/2021 - 23:30', en (and any other
      language) '2 December 2021, 23:30'.
    """
    whole = _writable(dt).replace(microsecond=0)
    if form == "rfc822":
        return format_datetime(whole)
    if form == "rfc3339":
        return whole.isoformat()
    if form == "page":
        if lang.split("-")[0].split("_")[0].lower() == "vi":
            return f"{whole.day:02d}/{whole.month:02d}/{whole.year:04d} - {whole.hour:02d}:{whole.minute:02d}"
        return f"{whole.day} {EN_MONTHS[whole.month - 1]} {whole.year:04d}, {whole.hour:02d}:{whole.minute:02d}"
    raise ValueError(f"date form {form!r} (expected one of {', '.join(FORMS)})")


def _writable(dt: datetime) -> datetime:
    """dt, or dt in UTC when its offset has seconds, which RFC 822 and RFC 3339 cannot write."""
    if require_aware(dt).utcoffset() % _MINUTE:
        try:
            return dt.astimezone(timezone.utc)
        except OverflowError:
            raise DateError(f"{dt.isoformat()} cannot be written in UTC: "
                            f"{range_problem(dt) or 'it is out of range'} ({HINT_RANGE})") from None
    return dt

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
- ``write_date`` writes every date of every format (RSS, Atom, JSON Feed,
  pages, OPML), whole seconds, a fraction cut off toward the past.

Parsing tries two fast shapes first (ISO 8601 and the site's own
``DD/MM/YYYY - HH:MM``), then takes the string apart piece by piece: weekday,
offset marker, time of day, date, and checks that nothing else is left.

The package, by responsibility:

- ``shapes``: the grammar, i.e. the compiled patterns, word tables and hints;
- ``limits``: the offset and year rules (``OFFSET_RANGE``, ``YEAR_RANGE``,
  ``fixed_offset``, ``range_problem``), which reading and writing share;
- ``pieces``: one matched piece (date, time, offset, weekday) into a checked value;
- ``reader``: ``parse_datetime``, the fast shapes, the piece-by-piece reader,
  the python-dateutil fallback for English prose, relative times and junk refused;
- ``writing``: ``site_time`` and ``write_date``, the one writer of dates;
- ``clock``: ``read_now``, the instant a run builds at (the clock, or ``--now``).

Only the names below are the API; the modules are free to change.
"""
from __future__ import annotations

from importlib import import_module

# Each name from the module that defines it, when first asked for: `dates.limits` alone (what a
# run that reads no record needs, to judge --now) then costs no patterns compiled by the reader.
_HOMES = {
    "OFFSET_RANGE": "limits", "YEAR_RANGE": "limits", "fixed_offset": "limits", "range_problem": "limits",
    "parse_datetime": "reader", "OncePerSource": "reader", "SaidOnce": "reader", "prefix_note": "reader",
    "FORMS": "writing", "site_time": "writing", "write_date": "writing", "read_now": "clock",
}

__all__ = [
    "FORMS",
    "OFFSET_RANGE",
    "OncePerSource",
    "SaidOnce",
    "YEAR_RANGE",
    "fixed_offset",
    "parse_datetime",
    "prefix_note",
    "range_problem",
    "read_now",
    "site_time",
    "write_date",
]


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = globals()[name] = getattr(import_module(f".{home}", __name__), name)
    return value

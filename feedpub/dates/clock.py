"""The instant a run builds at: the clock, or the `--now` a user gave (a string or an aware datetime).

A string is read like a record date (the site zone unless it names an offset; the
site's date order), with a fast path for the ISO shape a scheduler passes, which
needs none of the reader's patterns.
"""
from __future__ import annotations

import re
import time
from datetime import datetime, tzinfo

from .limits import REAL_OFFSETS, range_problem

__all__ = ["read_now"]

_ISO_NOW = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2})?(?:Z|[+-][0-9]{2}:[0-5][0-9])?")


def read_now(now: datetime | str | None, tz: tzinfo, order: str = "dmy") -> float:
    """The run's "now" as a Unix timestamp. DateError for a string that is no date; ValueError for
    a naive datetime (it would mean the machine's zone, which feedpub never reads)."""
    if now is None:
        return time.time()
    if isinstance(now, str):
        if _ISO_NOW.fullmatch(now):
            try:
                stamp = datetime.fromisoformat(now)
            except ValueError:                 # an impossible date: the reader says why
                stamp = None
            if stamp is not None:
                stamp = stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=tz)
                if stamp.utcoffset() in REAL_OFFSETS and range_problem(stamp, tz) is None:
                    return stamp.timestamp()
        from .reader import parse_datetime
        return parse_datetime(now, tz, order=order)[0].timestamp()
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    return now.timestamp()

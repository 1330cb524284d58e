"""Pure helpers that rank picks: newest first by (published, id), as select.py ranks file records.

The database orders rows by its own published column; these helpers make that
order exactly the record rules' order: ties at a LIMIT's edge are fetched too, and a
wall-clock column is widened by `offset_window` around a zone's offset changes
(where wall times and instants disagree).
"""
from __future__ import annotations

import heapq
import itertools
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable

from .model import FeedKey, Pick

_SAMPLES = 4 * 24 * 2          # every 30 minutes over four days


def offset_window(tz, around) -> timedelta:
    """How much the zone's UTC offset varies within two days of `around` (a naive wall time or a
    date): two wall times further apart than this are in the same order as their instants."""
    if isinstance(around, datetime):
        base = around.replace(tzinfo=None)
    elif isinstance(around, date):
        base = datetime.combine(around, time())
    else:
        return timedelta(0)
    try:
        start = base.replace(tzinfo=timezone.utc) - timedelta(days=2)
        offsets = {(start + timedelta(minutes=30 * i)).astimezone(tz).utcoffset() for i in range(_SAMPLES + 1)}
    except (OverflowError, ValueError):             # the calendar's edges: no real article lives there
        return timedelta(0)
    return max(offsets) - min(offsets)


def newest_first(picks: Iterable[Pick]) -> list[Pick]:
    return sorted(picks, key=lambda p: p.rank, reverse=True)


class TopN:
    """The n highest-ranked picks pushed, and how many were pushed in all."""

    __slots__ = ("n", "heap", "count", "_seq")

    def __init__(self, n: int):
        self.n = n
        self.heap: list = []
        self.count = 0
        self._seq = itertools.count()

    def push(self, pick: Pick) -> None:
        self.count += 1
        if self.n <= 0:
            return
        item = (*pick.rank, -next(self._seq), pick)       # equal ranks: the first pushed wins
        if len(self.heap) < self.n:
            heapq.heappush(self.heap, item)
        elif item > self.heap[0]:
            heapq.heapreplace(self.heap, item)

    def result(self) -> list[Pick]:
        return [item[-1] for item in sorted(self.heap, reverse=True)]


def stream_feeds(picks: Iterable[Pick], need: int, *, categories: bool) -> tuple[dict[FeedKey, list[Pick]], set]:
    """Every feed's `need` newest picks from all of them (each pick already filtered: valid,
    not a draft, published by now); the second value holds the feeds that got every row."""
    tops: dict[FeedKey, TopN] = {}
    for pick in picks:
        keys = [(pick.lang, None)] + ([(pick.lang, c) for c in pick.categories] if categories else [])
        for key in keys:
            top = tops.get(key)
            if top is None:
                top = tops[key] = TopN(need)
            top.push(pick)
    feeds = {key: top.result() for key, top in tops.items()}
    return feeds, {key for key, top in tops.items() if top.count <= need}

"""Pure functions that rank picks: newest first by (published, id), as select.py ranks file records.

The database orders rows by its own published column; these functions make that
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


def stream_feeds(picks: Iterable[Pick], need: int, *, categories: bool) -> tuple[dict[FeedKey, list[Pick]], set]:
    """Every feed's `need` newest picks from all of them (each pick already filtered: valid,
    not a draft, published by now); the second value holds the feeds that got every row.

    One pass, a heap of `need` per feed (memory does not grow with the rows), and a row older
    than a full feed's weakest pick costs one comparison: this runs once per row of a table."""
    heaps: dict[FeedKey, list] = {}
    counts: dict[FeedKey, int] = {}
    order = itertools.count()
    for pick in picks:
        ts, ident = pick.rank
        keys = [(pick.lang, None)]
        if categories and pick.categories:
            keys += [(pick.lang, c) for c in pick.categories]
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
            heap = heaps.get(key)
            if heap is None:
                heap = heaps[key] = []
            if len(heap) < need:
                heapq.heappush(heap, (ts, ident, -next(order), pick))
                continue
            if not heap:
                continue
            low = heap[0]
            if ts < low[0] or (ts == low[0] and ident <= low[1]):     # equal ranks: the first pushed wins
                continue
            heapq.heapreplace(heap, (ts, ident, -next(order), pick))
    feeds = {key: [item[-1] for item in sorted(heap, reverse=True)] for key, heap in heaps.items()}
    return feeds, {key for key, count in counts.items() if count <= need}

"""Pick what each feed carries from the scans of all record files (pure).

Rules: the first record with an id wins (files in path order, then line);
drafts never appear; a record appears once its published time is at or before
"now"; each feed keeps the newest max_items, newest first by (published, id).
"""
from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from .errors import RecordError
from .scan import MARGIN, FileScan, Rank, Trans

FeedKey = tuple[str, "str | None"]      # (language, category or None for the language feed)


@dataclass(frozen=True, slots=True)
class Pick:
    path: str
    rank: Rank


@dataclass
class Selection:
    feeds: dict[FeedKey, list[Pick]]                       # newest first
    translations: dict[str, dict[str, Trans]]              # translation_key -> lang -> published version
    errors: list[str] = field(default_factory=list)        # duplicate ids
    starved: list[str] = field(default_factory=list)       # files to rescan keeping every candidate
    next_due: float | None = None                          # earliest scheduled record still in the future


def _sort_key(pick: Pick) -> tuple[float, str]:
    return (pick.rank.ts, pick.rank.id)


def select(scans: list[FileScan], *, languages, max_items: int, now_ts: float,
           category_feeds: bool = True) -> Selection:
    """Choose every feed's entries from per-file candidates."""
    first, errors, dups = _first_occurrences(scans)
    starved = [s.path for s in scans if not s.complete and dups[s.path] > MARGIN]

    pools: dict[FeedKey, list[Pick]] = defaultdict(list)
    next_due = None
    for scan in scans:
        for rank in (*scan.ranks, *scan.future):
            if rank.ts > now_ts:
                next_due = rank.ts if next_due is None else min(next_due, rank.ts)
                continue
            if rank.id in first and first[rank.id] != (scan.path, rank.line):
                continue
            pick = Pick(scan.path, rank)
            pools[(rank.lang, None)].append(pick)
            if category_feeds:
                for cat in rank.cats:
                    pools[(rank.lang, cat)].append(pick)

    feeds = {key: heapq.nlargest(max_items, picks, key=_sort_key) for key, picks in pools.items()}
    for lang in languages:
        feeds.setdefault((lang, None), [])
    keys = {p.rank.key for picks in feeds.values() for p in picks if p.rank.key is not None}
    return Selection(feeds=feeds, translations=_translations(scans, keys, first, now_ts),
                     errors=errors, starved=starved, next_due=next_due)


def _first_occurrences(scans: list[FileScan]) -> tuple[dict[str, tuple[str, int]], list[str], Counter]:
    """Where each duplicated id first appears, one error per later copy, and copies per file.

    Only duplicated ids get an entry (a set finds them), which keeps memory
    small for a site of hundreds of thousands of unique ids.
    """
    seen: set[str] = set()
    total = 0
    for scan in scans:
        seen.update(scan.ids)
        total += len(scan.ids)
    repeated: set[str] = set()
    if len(seen) != total:                # some id occurs twice: find which
        seen.clear()
        for scan in scans:
            for ident in scan.ids:
                if ident in seen:
                    repeated.add(ident)
                else:
                    seen.add(ident)
    del seen
    first: dict[str, tuple[str, int]] = {}
    errors: list[str] = []
    dups: Counter[str] = Counter()
    if not repeated:
        return first, errors, dups
    for scan in scans:
        for ident, line in zip(scan.ids, scan.line_numbers()):
            if ident not in repeated:
                continue
            if ident not in first:
                first[ident] = (scan.path, line)
                continue
            dups[scan.path] += 1
            where = first[ident]
            errors.append(str(RecordError(scan.path, line, "id", (
                f'"{ident}" is already used by {where[0]}:{where[1]} '
                "(expected an id unique across the site; the first record was kept)"))))
    return first, errors, dups


def _translations(scans, keys: set[str], first, now_ts: float) -> dict[str, dict[str, Trans]]:
    """For each wanted story, its newest published version in each language."""
    result: dict[str, dict[str, Trans]] = defaultdict(dict)
    if not keys:
        return {}
    for scan in scans:
        if keys.isdisjoint(scan.t_key):
            continue
        lines = None
        for i, key, lang, url, ts, offset in scan.translations():
            if key in keys and ts <= now_ts:
                lines = lines or scan.line_numbers()
                ident, line = scan.ids[i], lines[i]
                if ident in first and first[ident] != (scan.path, line):
                    continue
                best = result[key].get(lang)
                if best is None or (ts, ident) > (best.ts, best.id):
                    result[key][lang] = Trans(key, lang, ident, scan.path, line, offset, url, "", ts)
    return dict(result)

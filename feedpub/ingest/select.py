"""Choose what each feed carries, from the index (the rules of selection, in one place).

- The first record with an id wins: files in path order, then line; every
  later use of the id is reported and left out.
- Drafts never appear; a record appears once its published time is at or
  before "now"; a feed keeps the newest max_items, newest first by
  (published, id).
- Each story's translation links point at the newest published version in
  each other language.

A file keeps only its newest candidates per feed (scan.MARGIN beyond
max_items). If the records left out by duplicates could let one of its unkept
records into a feed, the file is "starved": it must be read again keeping
every candidate, and the selection made again.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import RecordError
from .index import Candidate, RecordIndex

__all__ = ["FeedKey", "Selection", "select", "translations"]

FeedKey = tuple[str, "str | None"]        # (language, category or None for the language feed)


@dataclass
class Selection:
    feeds: dict[FeedKey, list[Candidate]]                  # newest first
    losers: set[tuple[int, int]]                           # (fid, line) of every later use of an id
    problems: list[RecordError] = field(default_factory=list)   # those duplicate ids
    starved: set[int] = field(default_factory=set)         # fids to read again keeping every candidate
    next_due: float | None = None                          # earliest scheduled record still in the future


def select(index: RecordIndex, languages, *, max_items: int, now_ts: float, category_feeds: bool) -> Selection:
    """Every feed's entries: the newest max_items candidates that are not later uses of an id."""
    losers, problems = index.duplicates()
    feeds: dict[FeedKey, list[Candidate]] = {(lang, None): [] for lang in languages}
    starved: set[int] = set()
    for lang, cat in index.feeds(now_ts):
        if lang not in languages or (cat and not category_feeds):
            continue
        picks = _newest(index, lang, cat, now_ts, max_items, losers)
        feeds[(lang, cat or None)] = picks
        starved |= _starved(index, lang, cat, picks, max_items)
    return Selection(feeds, losers, problems, starved, index.next_due(now_ts))


def _newest(index: RecordIndex, lang: str, cat: str, now_ts: float, max_items: int,
            losers: set[tuple[int, int]]) -> list[Candidate]:
    picks: list[Candidate] = []
    offset, page = 0, max_items + 16
    while len(picks) < max_items:
        rows = index.newest(lang, cat, now_ts, page, offset)
        picks += [c for c in rows if c.spot not in losers]
        if len(rows) < page:
            break
        offset += page
    return picks[:max_items]


def _starved(index: RecordIndex, lang: str, cat: str, picks: list[Candidate], max_items: int) -> set[int]:
    """Files whose unkept candidates for this feed could rank among the picks."""
    if len(picks) < max_items:
        return {fid for fid, _, _ in index.floors(lang, cat)}
    last = (picks[-1].ts, picks[-1].id)
    return {fid for fid, ts, ident in index.floors(lang, cat) if (ts, ident) >= last}


def translations(index: RecordIndex, keys: set[str], losers: set[tuple[int, int]],
                 now_ts: float) -> dict[str, dict[str, Candidate]]:
    """For each story, its newest published version in each language (by published, then id)."""
    best: dict[str, dict[str, Candidate]] = {}
    if not keys:
        return best
    for key, lang, cand in index.versions(keys, now_ts):
        if cand.spot in losers:
            continue
        versions = best.setdefault(key, {})
        held = versions.get(lang)
        if held is None or (cand.ts, cand.id) > (held.ts, held.id):
            versions[lang] = cand
    return best

"""Which records a feed carries: the rule of selection, for record files and database rows alike.

    feed          (language, category or None): a record is in its language's feed and, with
                  category feeds on, in the feed of each of its categories (feeds_of)
    rank          (published as Unix time, id): a feed is newest first by it, the id breaking ties
    eligible      not a draft, and published at or before now; the earliest later one is next_due
    size          the newest max_items of the eligible candidates
    ids           an id is used once: a later use is left out and reported (the suppliers say
                  which use is later: record files by path and line, database rows by rank)
    translations  a story's link in each language points at its newest eligible version
    two sources   record files and database rows merge by rank; an id a record file uses is the
                  record file's (merge)

The index of the record files (ingest/index.py), each file's scan (ingest/scan.py) and
the database's SQL (database/sqlselect.py) only supply candidates, filtered and ordered
for speed; what is chosen, ties included, is decided here by one Chooser.
"""
from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Iterable, TypeVar

from .errors import RecordError
from .model import Article

__all__ = ["DATABASE_SPARES", "SCAN_SPARES", "Chooser", "FeedKey", "Selection", "article_rank", "choose",
           "feeds_of", "merge", "newest_first", "newest_versions", "rank"]

FeedKey = tuple[str, "str | None"]        # (language, category or None for the language feed)
C = TypeVar("C")

SCAN_SPARES = 16
"""Candidates a record file keeps per feed beyond max_items (and the index pages through beyond it):
a few later uses of an id, left out once the index knows them all, never leave a feed short."""

DATABASE_SPARES = 16
"""Rows a database is asked for per feed beyond max_items: they stand in for rows the record rules
reject or whose id a record file already uses."""


def rank(ts: float, ident: str) -> tuple[float, str]:
    """What orders a feed, newest first when reversed: (published as Unix time, id)."""
    return (ts, ident)


def ranked(candidate: Any) -> tuple[float, str]:
    """The rank of a candidate that carries `ts` and `id` (the index's Candidate, a database Pick)."""
    return (candidate.ts, candidate.id)


def article_rank(article: Article) -> tuple[float, str]:
    return (article.published.timestamp(), article.id)


def feeds_of(lang: str, categories: Iterable[str], category_feeds: bool, *, language_feed: Any = None) -> list:
    """The feeds a record is in: its language's, and each category's when category feeds are on.
    language_feed: what names the language feed's category ("" where the index stores it)."""
    feeds = [(lang, language_feed)]
    if category_feeds and categories:
        feeds += [(lang, cat) for cat in categories]
    return feeds


class Chooser:
    """The newest `need` eligible candidates of every feed (None: all of them), offered one at a time
    in any order.

    One heap per feed keeps memory bounded by need whatever the number of candidates, and a
    candidate older than a full feed's weakest costs one comparison. Of equal ranks (one id
    given twice at one instant) the one offered first is kept: `order` says which that is (a
    larger order wins; by default the order of the offers). With unique, a feed holds an id
    once: a later (lower-ranked) use is left out and listed in `repeated`.
    """

    __slots__ = ("need", "now_ts", "unique", "heaps", "cut", "next_due", "due", "scheduled", "keep_scheduled",
                 "_offers")

    def __init__(self, need: int | None, now_ts: float = float("inf"), *, unique: bool = False,
                 keep_scheduled: bool = False):
        self.need = need
        self.now_ts = now_ts
        self.unique = unique
        self.keep_scheduled = keep_scheduled
        self.heaps: dict[Any, list] = {}
        self.cut: set = set()                   # feeds that left out at least one candidate
        self.next_due: float | None = None      # the earliest published time after now_ts offered
        self.due: Any = None                    # the item published then
        self.scheduled: list = []               # (feed, ts, id, item) of each one, with keep_scheduled
        self._offers = itertools.count()

    def offer(self, ts: float, ident: str, feeds: Iterable, item: Any, order: Any = None, draft: bool = False) -> None:
        if draft:
            return
        if ts > self.now_ts:                    # not yet: it comes due later
            if self.next_due is None or ts < self.next_due:
                self.next_due, self.due = ts, item
            if self.keep_scheduled:
                self.scheduled.extend((feed, ts, ident, item) for feed in feeds)
            return
        entry = (ts, ident, -next(self._offers) if order is None else order, item)
        need, heaps = self.need, self.heaps
        for feed in feeds:
            heap = heaps.get(feed)
            if heap is None:
                heap = heaps[feed] = []
            if need is None or len(heap) < need:
                heapq.heappush(heap, entry)
                continue
            self.cut.add(feed)
            if heap and entry > heap[0]:
                heapq.heapreplace(heap, entry)

    def add_feed(self, feed) -> None:
        """A feed the result holds even when no candidate is offered to it."""
        self.heaps.setdefault(feed, [])

    def full(self, feed) -> bool:
        return self.need is not None and len(self.heaps.get(feed, ())) >= self.need

    def lowest(self, feed) -> tuple[float, str]:
        """The rank of the weakest candidate a feed keeps (it must keep one)."""
        low = self.heaps[feed][0]
        return (low[0], low[1])

    def entries(self, feed) -> list[tuple[float, str, Any, Any]]:
        """(ts, id, order, item) of what a feed keeps, in no particular order."""
        return self.heaps.get(feed, [])

    def chosen(self) -> tuple[dict[Any, list], list]:
        """Every feed's items, newest first; and, with unique, the later uses of an id left out."""
        feeds: dict[Any, list] = {}
        repeated: list = []
        for feed, heap in self.heaps.items():
            entries = sorted(heap, reverse=True)
            if not self.unique:
                feeds[feed] = [entry[3] for entry in entries]
                continue
            seen: set[str] = set()
            kept = []
            for entry in entries:
                if entry[1] in seen:
                    repeated.append(entry[3])
                else:
                    seen.add(entry[1])
                    kept.append(entry[3])
            feeds[feed] = kept
        return feeds, repeated

    def complete(self) -> set:
        """The feeds that kept every candidate offered to them."""
        return set(self.heaps) - self.cut


def choose(candidates: Iterable[C], need: int | None, *, key: Callable[[C], tuple[float, str]] = ranked) -> list[C]:
    """One feed's newest `need` of these candidates, newest first (equal ranks: the first given wins)."""
    chooser = Chooser(need)
    for candidate in candidates:
        ts, ident = key(candidate)
        chooser.offer(ts, ident, (None,), candidate)
    return chooser.chosen()[0].get(None, [])


def newest_first(candidates: Iterable[C], *, key: Callable[[C], tuple[float, str]] = ranked) -> list[C]:
    """Every candidate, newest first by rank (equal ranks keep the order given)."""
    return sorted(candidates, key=key, reverse=True)


def newest_versions(versions: Iterable[tuple[str, str, C]], now_ts: float = float("inf"), *,
                    key: Callable[[C], tuple[float, str]] = ranked) -> dict[str, dict[str, C]]:
    """The translation rule: for each story (translation key), its newest version in each language
    published by now_ts, from (key, language, candidate); the suppliers leave drafts out."""
    best: dict[str, dict[str, C]] = {}
    held_rank: dict[tuple[str, str], tuple[float, str]] = {}
    for story, lang, candidate in versions:
        rank_ = key(candidate)
        if rank_[0] > now_ts:
            continue
        held = held_rank.get((story, lang))
        if held is None or rank_ > held:
            held_rank[(story, lang)] = rank_
            best.setdefault(story, {})[lang] = candidate
    return best


@dataclass
class Selection(Generic[C]):
    """What every feed carries, newest first, and what the run must know besides.

    Each supplier fills what it knows: record files their duplicate ids (`losers`,
    `problems`) and the files to read again in full (`starved`); a database the feeds
    it holds entirely (`exhausted`), the later uses of an id it left out (`repeated`)
    and the rows it read whose ranking values the record rules reject (`rejected`).
    """

    feeds: dict[FeedKey, list[C]]
    exhausted: set[FeedKey] = field(default_factory=set)       # feeds holding every eligible candidate there is
    next_due: float | None = None                               # earliest eligible-later published time, if known
    repeated: list[C] = field(default_factory=list)             # later uses of an id, left out (database rows)
    rejected: list = field(default_factory=list)                # rows read that the record rules reject (database)
    problems: list[RecordError] = field(default_factory=list)   # duplicate ids, as errors (record files)
    losers: set = field(default_factory=set)                    # (fid, line) of each later use of an id (record files)
    starved: set = field(default_factory=set)                   # record files to read again keeping every candidate

    def picks(self) -> list[C]:
        """Every candidate once (one in several feeds is one), in feed order."""
        seen: dict[str, C] = {}
        for key in sorted(self.feeds, key=lambda k: (k[0], k[1] or "")):
            for pick in self.feeds[key]:
                seen.setdefault(pick.id, pick)
        return list(seen.values())

    def translation_keys(self) -> set[str]:
        return {p.translation_key for picks in self.feeds.values() for p in picks if p.translation_key}


def merge(max_items: int, file_chosen: dict[FeedKey, list[Article]], file_versions: dict[str, dict[str, Article]],
          db_chosen: dict[FeedKey, list[Article]], db_versions: dict[str, dict[str, Article]],
          file_ids: dict[str, str]) -> tuple[dict[FeedKey, list[Article]], dict[str, dict[str, Article]],
                                             list[RecordError]]:
    """Record files and database rows together: each feed's newest max_items from both, and each
    story's newest version per language from either. An id a record file uses is the record file's
    (file_ids: id -> "FILE:LINE"): a database row with it is left out and reported."""
    taken: dict[str, Article] = {}
    for article in itertools.chain((a for arts in db_chosen.values() for a in arts),
                                   (a for langs in db_versions.values() for a in langs.values())):
        if article.id in file_ids:
            taken.setdefault(article.id, article)
    problems = [RecordError(a.source, a.line, "id", (
        f'"{a.id}" is already used by {file_ids[a.id]} (expected an id unique across the site; '
        "the first record was kept)")) for a in taken.values()]
    chosen: dict[FeedKey, list[Article]] = {}
    for key in sorted(set(file_chosen) | set(db_chosen), key=lambda k: (k[0], k[1] or "")):
        pool = list(file_chosen.get(key, ())) + [a for a in db_chosen.get(key, ()) if a.id not in taken]
        chosen[key] = choose(pool, max_items, key=article_rank)
    stories = {a.translation_key for arts in chosen.values() for a in arts if a.translation_key}
    candidates = [(story, lang, a) for story in sorted(stories) for lang, a in file_versions.get(story, {}).items()]
    candidates += [(story, lang, a) for story in sorted(stories) for lang, a in db_versions.get(story, {}).items()
                   if a.id not in taken]
    return chosen, newest_versions(candidates, key=article_rank), problems

"""The values a database source hands to the build: picks (what ranks a row), selections, records.

Light on purpose (no SQLAlchemy): the integrator may keep these in its cache.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

FeedKey = tuple[str, "str | None"]      # (language, category or None for the language feed)


@dataclass(frozen=True, slots=True)
class Pick:
    """One row chosen for a feed (or as a translation): what ranks it, and where it is.

    `id` is the record id exactly as the record rules read it (the id column as text);
    `key` is the id column's value as the database holds it (load() asks for it).
    Rows whose id the record rules would reject are never picked (see `rows()`).
    """

    source: str                   # the table's name, or "query": the SOURCE of SOURCE:LINE
    id: str
    key: Any
    lang: str
    published: datetime           # aware: the instant the record rules read from the published column
    categories: tuple[str, ...] = ()        # as the record rules keep them (NFC, single spaces)
    translation_key: str | None = None
    raw_categories: tuple[str, ...] = ()    # as stored: the names a category query asks for

    @property
    def line(self) -> str:
        """The LINE of SOURCE:LINE: the id (a pick's id is always usable)."""
        return self.id

    @property
    def location(self) -> str:
        return f"{self.source}:{self.id}"

    @property
    def rank(self) -> tuple[float, str]:
        """What orders picks, newest first when reversed: (published as Unix time, id), as select.py does."""
        return (self.published.timestamp(), self.id)


@dataclass(frozen=True, slots=True)
class Record:
    """One row as a record: RecordRules.check(record.record, record.source, record.line) judges it."""

    source: str                   # the table's name, or "query"
    line: str                     # the id as text, or "row N" when the id is unusable or repeated
    record: dict                  # field -> value, as a decoded JSON record would hold it
    key: Any = None               # the id column's value as stored

    @property
    def location(self) -> str:
        return f"{self.source}:{self.line}"


@dataclass
class Selection:
    """The newest rows of every feed, newest first by (published, id).

    Each feed holds up to max_items + extra picks: the extra ones stand in for picks
    the record rules reject or that lose an id to a record file. A feed in
    `exhausted` holds every row that qualifies; for any other, if fewer than
    max_items survive, select again with a larger extra.

    An id is in a feed once: a further row with the same id (a view joining one
    article to two rows, a table without a unique id) is left out of the feed and
    listed in `repeated`, for the caller to report as a duplicate id.
    """

    feeds: dict[FeedKey, list[Pick]]
    exhausted: set[FeedKey] = field(default_factory=set)
    max_items: int = 0
    extra: int = 0
    now: datetime | None = None
    repeated: list[Pick] = field(default_factory=list)

    def picks(self) -> list[Pick]:
        """Every pick once (a row in several feeds is one pick), in feed order."""
        seen: dict[str, Pick] = {}
        for key in sorted(self.feeds, key=lambda k: (k[0], k[1] or "")):
            for pick in self.feeds[key]:
                seen.setdefault(pick.id, pick)
        return list(seen.values())

    def translation_keys(self) -> set[str]:
        return {p.translation_key for picks in self.feeds.values() for p in picks if p.translation_key}


Translations = dict[str, dict[str, Pick]]
"""translation_key -> language -> the newest published, non-draft version in that language."""

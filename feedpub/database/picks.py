"""What a database source hands to the build: picks (what ranks a row) and records (a whole row).

Light on purpose (no SQLAlchemy): the integrator may keep these in its cache. Which
picks a feed carries is the rule of feedpub/selection.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


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
    def ts(self) -> float:
        """published as Unix time: with the id, what ranks the pick (selection.rank)."""
        return self.published.timestamp()

    @property
    def rank(self) -> tuple[float, str]:
        return (self.published.timestamp(), self.id)


@dataclass(frozen=True, slots=True)
class Record:
    """One row as a record: RecordRules.check(record.record, record.source, record.line) judges it."""

    source: str                   # the table's name, or "query"
    line: str | None              # the id as text; "row N" (or None from rows(): see row_number) when unusable
    record: dict                  # field -> value, as a decoded JSON record would hold it
    key: Any = None               # the id column's value as stored

    @property
    def location(self) -> str:
        return f"{self.source}:{self.line}"


Translations = dict[str, dict[str, Pick]]
"""translation_key -> language -> the newest published, non-draft version in that language."""

"""Database values -> the values of a record, so that a row meets exactly the rules a record file meets.

Pure (no database, no SQLAlchemy). The driver hands over Python values; each
becomes what a JSON record would hold, and records.RecordRules.check judges it:

- a timestamp with a zone (timestamptz) -> an ISO 8601 string with its offset (UTC);
- a timestamp without one, or a date -> an ISO 8601 string without an offset, so the
  record rules read it as wall time in the site zone;
- a number (Unix seconds) -> the number; text dates -> the text, read in every shape
  the file route reads, in the site's date_order;
- categories: an array or JSON array as a list, JSON text decoded; author and image:
  a JSON object (or JSON text holding one) as a dict, other author text as the name;
- draft: a boolean, or 0/1 as false/true; ids and translation keys that are integers
  (or UUIDs, or whole decimals) become their text.

Anything else passes through unchanged, and the record rules reject it with the
same message a record file gets. A RowReader does this for one source (its column
kinds, the site's zone and date order): a row's ranking columns as a Pick, a whole
row as a record.
"""
from __future__ import annotations

import functools
import json
import uuid
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Iterable, Mapping

from ..dates import parse_datetime, range_problem
from ..errors import DateError
from ..limits import too_deep
from ..records import Problem, RecordRules, plain
from .picks import Pick

# The checkers that depend on no site setting (an id, a list of categories), for judging a row's
# ranking columns exactly as the record rules will judge the record.
_RULES = RecordRules((), "https://example.invalid", timezone.utc)

DATE_FIELDS = ("published", "updated")
JSON_FIELDS = ("categories", "author", "image")

# The column kinds (dialects.py) whose values can be what each record field holds, and how a message
# says so. A column of any other kind cannot hold one valid value of its field: a configuration error
# (ColumnTypeError), not a row's. Text is accepted wherever a record file could hold a string.
_TEXT = ({"text", "bytes"}, "text")
ACCEPTED: dict[str, tuple[set[str], str]] = {
    "id": ({"text", "number", "uuid"}, "text, an integer or a UUID"),
    "lang": ({"text"}, "text"),
    "title": _TEXT, "url": _TEXT, "summary": _TEXT, "content": _TEXT,
    "published": ({"aware", "utc", "naive", "number", "text", "bytes"},
                  "a timestamp with or without time zone, a date, a number of Unix seconds, or text"),
    "updated": ({"aware", "utc", "naive", "number", "text", "bytes"},
                "a timestamp with or without time zone, a date, a number of Unix seconds, or text"),
    "author": ({"text", "bytes", "jsonb", "json", "jsontext"}, "text (the name) or JSON"),
    "categories": ({"array", "jsonb", "json", "jsontext", "text", "bytes"}, "an array of text, JSON, or JSON text"),
    "image": ({"jsonb", "json", "jsontext", "text", "bytes"}, "JSON, or JSON text"),
    "translation_key": ({"text", "number", "uuid"}, "text, an integer or a UUID"),
    "draft": ({"bool", "number", "text"}, "a boolean, or an integer 0 or 1"),
}


def unusable_columns(kinds: Mapping[str, str]) -> list[tuple[str, str]]:
    """(field, what its column should be) for each field whose column kind cannot hold its values."""
    return [(f, ACCEPTED[f][1]) for f, kind in kinds.items() if kind not in ACCEPTED[f][0]]


def key_text(value: Any) -> str | None:
    """An id or translation key as text: integers, UUIDs and whole decimals become their digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return str(int(value))
    if isinstance(value, uuid.UUID):
        return str(value)
    return None


def usable_id(value: Any) -> str | None:
    """The row's id as the record rules accept it (check_id), or None when they would reject it."""
    text = key_text(value)
    if text is None:
        return None
    try:
        return _RULES.id(text)
    except Problem:
        return None


def date_value(value: Any) -> Any:
    """A date column's value as a record holds it (see the module docstring)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            return value.astimezone(timezone.utc).isoformat()
        return value.replace(tzinfo=None).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):             # NaN and ±Infinity stay floats: the date reader refuses them
        return int(value) if value.is_finite() and value == value.to_integral_value() else float(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _text_or_bytes(value)
    return value


def _text_or_bytes(value: Any) -> Any:
    try:
        return bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        return bytes(value)


def _json(value: str) -> Any:
    """JSON text decoded, or the text itself when it is not JSON (the record rules then reject it)."""
    try:
        return json_loads(value)
    except (ValueError, RecursionError):
        return value


def json_loads(data: str | bytes) -> Any:
    """json.loads, unless the text nests deeper than a record may (record_depth): then TooDeep, which
    the record rules reject, naming the depth. The database drivers decode JSON columns with it too."""
    return too_deep(data) or json.loads(data)


def json_value(name: str, value: Any) -> Any:
    """categories, author or image as a record holds it."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = _text_or_bytes(value)
    if isinstance(value, tuple):
        return list(value)
    if not isinstance(value, str):
        return value
    text = value.strip()
    if name == "author" and not text.startswith("{"):
        return value                                   # a name
    if name == "categories" and not text.startswith("["):
        return value if text else []                   # "" from a text column: no categories
    return _json(text)


def draft_value(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, Decimal)) and value in (0, 1):
        return bool(value)
    return value


def record_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row (record field -> the value of its column; absent columns absent) -> a record dict."""
    record: dict[str, Any] = {}
    for name, value in row.items():
        if name in ("id", "translation_key"):
            text = key_text(value)
            record[name] = text if text is not None and not isinstance(value, str) else value
        elif name in DATE_FIELDS:
            record[name] = date_value(value)
        elif name in JSON_FIELDS:
            record[name] = json_value(name, value)
        elif name == "draft":
            record[name] = draft_value(value)
        elif isinstance(value, (bytes, bytearray, memoryview)):
            record[name] = _text_or_bytes(value)
        else:
            record[name] = value
    return record


def instant(value: Any, tz, order: str) -> datetime | None:
    """The aware instant a published value stands for under the record rules, or None when they
    reject it (such a row never ranks: it is not a valid record)."""
    if isinstance(value, datetime):           # what parse_datetime makes of the ISO text date_value gives
        aware = value if value.tzinfo is not None and value.utcoffset() is not None else value.replace(tzinfo=tz)
        if range_problem(aware, tz) is None:  # the dates package's one year rule
            return aware.astimezone(timezone.utc) if aware is value else aware
    value = date_value(value)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    try:
        return parse_datetime(value, tz, order=order)[0]
    except (DateError, ValueError, OverflowError):
        return None


def categories_of(value: Any) -> tuple[str, ...] | None:
    """The categories as the record rules keep them (check_categories: NFC, one space), or None
    when the rules reject the field (such a row is not a valid record)."""
    try:
        return _RULES.categories(json_value("categories", value))
    except Problem:
        return None


def normalised_names(values: Iterable[Any]) -> dict[str, set[str]]:
    """Stored category names (raw) grouped by the name the record rules make of each."""
    groups: dict[str, set[str]] = {}
    for raw in values:
        if isinstance(raw, str):
            name = _plain_name(raw)
            if name:
                groups.setdefault(name, set()).add(raw)
    return groups


@functools.lru_cache(maxsize=4096)
def _plain_name(raw: str) -> str:
    """A category name as the record rules keep it (a site has a few dozen: each is worked out once)."""
    return plain(raw)


class RowReader:
    """How the rows of one source become records and picks: its column kinds, the site's zone and order.

    Every row read for its ranking columns goes through pick(): one the record rules reject for
    one of them (not a draft: a draft is valid, and simply never shown) is kept in `rejected`,
    so that the build reads it in full and reports it as check does. No row read is dropped
    in silence.
    """

    def __init__(self, label: str, kinds: Mapping[str, str], tz, date_order: str = "dmy", *,
                 python_draft: bool = False):
        self.label = label
        self.kinds = dict(kinds)
        self.tz = tz
        self.date_order = date_order
        self.python_draft = python_draft
        self.rejected: dict[Any, dict] = {}        # stored id -> the ranking values read (None: rows without an id)
        self._category_memo: dict = {}

    def value(self, field: str, value: Any) -> Any:
        """A column's value as the driver gives it, made exact: a MySQL TIMESTAMP is UTC."""
        if self.kinds.get(field) == "utc" and isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value

    def instant(self, published: Any) -> datetime | None:
        """The instant a published column's value stands for, or None when the record rules reject it."""
        return instant(self.value("published", published), self.tz, self.date_order)

    def record(self, values: Mapping[str, Any]) -> dict:
        """A whole row (field -> value) as a record."""
        return record_of({f: self.value(f, v) for f, v in values.items()})

    def categories(self, value: Any) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
        """(categories as the record rules keep them or None when they reject them, the stored
        names), remembered: a newsroom's rows share a few hundred category lists."""
        try:
            memo = tuple(value) if isinstance(value, list) else value
            known = self._category_memo.get(memo)
        except TypeError:                                  # unhashable (nested JSON): not remembered
            memo = known = None
        if known is None:
            decoded = json_value("categories", value)
            raw = tuple(c for c in decoded if isinstance(c, str)) if isinstance(decoded, list) else ()
            known = (categories_of(value), raw)
            if memo is not None and len(self._category_memo) < 100_000:
                self._category_memo[memo] = known
        return known

    def pick(self, values: Mapping[str, Any], *, keep: bool = True) -> Pick | None:
        """The pick of a row's ranking values; None for a draft, and for a row the record rules reject
        for one of them (it never ranks, as an invalid record never does; unless keep is false, it is
        kept in `rejected`). Runs once per row a build ranks: the common path calls nothing extra."""
        ident = usable_id(values["id"])
        lang = values["lang"]
        published = values["published"]
        if self.kinds.get("published") == "utc" and isinstance(published, datetime) and published.tzinfo is None:
            published = published.replace(tzinfo=timezone.utc)
        when = instant(published, self.tz, self.date_order)
        if ident is None or not isinstance(lang, str) or when is None:
            return self._reject(values, keep)
        if self.python_draft:
            draft = draft_value(values["draft"])
            if draft is True:
                return None                                # a draft: valid, and never shown
            if draft is not None and draft is not False:
                return self._reject(values, keep)
        cats: tuple[str, ...] = ()
        raw: tuple[str, ...] = ()
        if "categories" in values:
            cats, raw = self.categories(values["categories"])
            if cats is None:
                return self._reject(values, keep)
        tkey = None
        if "translation_key" in values and values["translation_key"] is not None:
            tkey = key_text(values["translation_key"])
            if tkey is None or not tkey.strip():
                return self._reject(values, keep)
            tkey = tkey.strip()
        return Pick(self.label, ident, values["id"], lang, when, cats, tkey, raw)

    def rejects(self, values: Mapping[str, Any]) -> bool:
        """Would the record rules reject this row for one of its ranking values? (Nothing is kept.)"""
        return self.pick(values, keep=False) is None and not self._is_draft(values)

    def _reject(self, values: Mapping[str, Any], keep: bool) -> None:
        if keep and not self._is_draft(values):            # a draft is left out, whatever else it holds
            self.rejected.setdefault(_hashable(values.get("id")), dict(values))
        return None

    def _is_draft(self, values: Mapping[str, Any]) -> bool:
        return self.python_draft and "draft" in values and draft_value(values["draft"]) is True


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value

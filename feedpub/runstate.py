"""What one run leaves for the next: the typed state the cache keeps, and the "nothing to do" rule.

The cache (cache.py) stores one RunState per OUT; the pipeline reads it at the
start of a run and writes a new one once the run has published. It is stored as
JSON (the standard library's: a run with nothing to do imports nothing more)
and every field is checked against its type when read back (READERS, one
reader per field): a state that does not read as this type (an older or
damaged cache) is no state at all, and the run rebuilds.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Callable

__all__ = ["FeedRow", "Problem", "READERS", "RunState", "Summary", "decode_state"]

# One feed as the last run reported it: path, items, language, category, kind, newest item's time.
FeedRow = tuple[str, int, str, "str | None", str, "float | None"]
# One rejected record: source, line (or row key), field, message.
Problem = tuple[str, "int | str", "str | None", str]


@dataclass
class Summary:
    """What the last run reported, so that a run with nothing to do reports the same."""

    feeds: list[FeedRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    records: int = 0


@dataclass
class RunState:
    """Everything a run needs to know about the last one. The first three fields say whose state
    it is: a state of another schema, feedpub version or configuration is not used."""

    schema: int = 0
    version: str = ""
    fingerprint: str = ""                        # the configuration's (config.fingerprint)
    indexed: bool = False                        # the cache's record index holds the site's records
    files: str | None = None                     # the record files' signatures; None: one too fresh to trust
    now_ts: float | None = None                  # the clock the last run built at
    next_due: float | None = None                # the first scheduled article still to come
    feeds: dict[str, str] = field(default_factory=dict)     # each feed's content digest, by "lang[/category]"
    layout: str | None = None                    # a digest of which feeds there are
    outputs: dict[str, tuple[int, int]] | None = None       # every file published: size, mtime (ns)
    summary: Summary = field(default_factory=Summary)
    source: str | None = None                    # the [source] selection's fingerprint
    file_keys: list[str] = field(default_factory=list)      # translation keys of the record files' stories
    file_due: float | None = None                # the record files' own next scheduled article
    # A bucket target's (s3/route.py): where (its endpoint and s3:// URL), and the ETag of the manifest
    # the last run left there, which a run with nothing to do asks for (one request). None for a folder.
    bucket: tuple[str, str] | None = None

    def belongs_to(self, schema: int, version: str, fingerprint: str) -> bool:
        return (self.schema, self.version, self.fingerprint) == (schema, version, fingerprint)

    def nothing_to_do(self, *, files: str, source: str | None, now_ts: float, next_due: float | None,
                      intact: Callable[[dict[str, tuple[int, int]]], bool]) -> bool:
        """True when the inputs (the record files' digest, a [source]'s fingerprint), the clock and
        the published files (`intact` checks them) are exactly as the last run left them, and no
        scheduled article (the first one still to come: next_due) has come due since."""
        if self.outputs is None or self.files != files or self.source != source:
            return False
        if self.now_ts is None or now_ts < self.now_ts:
            return False
        if next_due is not None and now_ts >= next_due:
            return False
        return intact(self.outputs)

    def encode(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))


class _Unreadable(ValueError):
    """A stored value that is not of its field's type."""


def _check(ok: bool):
    if not ok:
        raise _Unreadable


def _int(v: Any) -> int:
    _check(type(v) is int)
    return v


def _number(v: Any) -> float:
    _check(type(v) in (int, float))
    return float(v)


def _text(v: Any) -> str:
    _check(type(v) is str)
    return v


def _flag(v: Any) -> bool:
    _check(type(v) is bool)
    return v


def _optional(read: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda v: None if v is None else read(v)


def _list_of(read: Callable[[Any], Any]) -> Callable[[Any], list]:
    def reader(v: Any) -> list:
        _check(type(v) is list)
        return [read(item) for item in v]
    return reader


def _row_of(*reads: Callable[[Any], Any]) -> Callable[[Any], tuple]:
    def reader(v: Any) -> tuple:
        _check(type(v) is list and len(v) == len(reads))
        return tuple(read(item) for read, item in zip(reads, v))
    return reader


def _text_map(read: Callable[[Any], Any]) -> Callable[[Any], dict]:
    def reader(v: Any) -> dict:
        _check(type(v) is dict)
        return {_text(k): read(item) for k, item in v.items()}
    return reader


def _summary(v: Any) -> Summary:
    _check(type(v) is dict and set(v) <= {"feeds", "problems", "records"})
    return Summary(
        feeds=_list_of(_row_of(_text, _int, _text, _optional(_text), _text, _optional(_number)))(v.get("feeds", [])),
        problems=_list_of(_row_of(_text, lambda x: x if type(x) is str else _int(x), _optional(_text), _text))(
            v.get("problems", [])),
        records=_int(v.get("records", 0)))


# One reader per field of RunState: the stored JSON value -> the field's value, or _Unreadable.
READERS: dict[str, Callable[[Any], Any]] = {
    "schema": _int, "version": _text, "fingerprint": _text, "indexed": _flag,
    "files": _optional(_text), "now_ts": _optional(_number), "next_due": _optional(_number),
    "feeds": _text_map(_text), "layout": _optional(_text),
    "outputs": _optional(_text_map(_row_of(_int, _int))), "summary": _summary,
    "source": _optional(_text), "file_keys": _list_of(_text), "file_due": _optional(_number),
    "bucket": _optional(_row_of(_text, _text)),
}
_FIELDS = {f.name for f in fields(RunState)}


def decode_state(data: bytes | str | None) -> RunState | None:
    """The state stored as data, or None when there is none or it is not one this version wrote
    (a field of the wrong type; fields it does not know are left out)."""
    if not data:
        return None
    try:
        raw = json.loads(data)
        _check(type(raw) is dict)
        return RunState(**{name: READERS[name](value) for name, value in raw.items() if name in _FIELDS})
    except (ValueError, TypeError, RecursionError):
        return None

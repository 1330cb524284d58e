"""Turn the bytes of a record file into JSON values, one record at a time, whatever the bytes hold.

Shared by the scan and the loader so that both read a file alike: a UTF-8 BOM
is skipped, a record nested too deeply for the decoder is one bad record (not a
crashed run, and not a lost file: the other records of a JSON array are still
read), and keys that occur twice in one object can be found for a warning.
How deep a record may nest is limits.py's record_depth: the decoders stop far
beyond it (about a thousand levels), and the record rules check the values they
read against it.
"""
from __future__ import annotations

import json
import re
from typing import Any

import msgspec

from ..limits import json_depth, over

BOM = b"\xef\xbb\xbf"

_ANY = msgspec.json.Decoder()
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{},]', re.S)


class BadRecord(Exception):
    """A record whose JSON text cannot be decoded; the message says why, for an error line."""


def too_deep(text: bytes) -> BadRecord:
    """The error of JSON text nested deeper than the decoder follows, naming its depth and the limit."""
    return BadRecord(over("record_depth", f"nests {json_depth(text):,} levels deep"))


def without_bom(data: bytes) -> bytes:
    return data[3:] if data.startswith(BOM) else data


def encoding_problem(head: bytes) -> str | None:
    """What is wrong with a record file that starts with these bytes, when it is not UTF-8 at all:
    UTF-16 or UTF-32 (as Windows tools save text), which would otherwise fail on every line."""
    zeros = [b == 0 for b in head[:4]]
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")) or zeros in (
            [False, True, True, True], [True, True, True, False]):      # "{" then three NULs, or after them
        kind = "UTF-32"
    elif head.startswith((b"\xff\xfe", b"\xfe\xff")) or zeros[:2] in ([False, True], [True, False]):
        kind = "UTF-16"
    else:
        return None
    return f"the file is {kind} text, not UTF-8 (expected UTF-8 encoded JSON: save the file as UTF-8)"


def decode_one(text: bytes) -> Any:
    """One JSON value (a JSONL line); BadRecord when it is not JSON or is too deep."""
    try:
        return _ANY.decode(text)
    except RecursionError:
        raise too_deep(text) from None
    except msgspec.DecodeError as exc:
        raise BadRecord(json_problem(exc)) from None


def json_problem(exc: Exception) -> str:
    text = str(exc)
    if "UTF-8" in text:
        return "not UTF-8 text (expected a UTF-8 encoded JSON record)"
    return f"not valid JSON: {text} (expected one JSON object)"


def json_file_records(data: bytes) -> list[Any | BadRecord]:
    """The records of a .json file (one value or an array of them), in order. A record too deep
    to decode becomes a BadRecord in its place; a file that is not JSON raises BadRecord."""
    problem = encoding_problem(data[:4])
    if problem:
        raise BadRecord(problem)
    data = without_bom(data)
    if not data.strip():
        raise BadRecord("the file is empty (expected a JSON object, or an array of them)")
    try:
        value = _ANY.decode(data)
    except RecursionError:
        return _split_array(data)
    except msgspec.DecodeError as exc:
        raise BadRecord(json_problem(exc)) from None
    return value if isinstance(value, list) else [value]


def _split_array(data: bytes) -> list[Any | BadRecord]:
    """A top-level array decoded element by element (only after the whole failed for depth):
    a scan of brackets, commas and strings finds where each element starts and ends."""
    records: list[Any | BadRecord] = []
    depth, start = 0, 0
    for m in _TOKENS.finditer(data):
        token = m.group()
        if token[:1] == b'"':
            continue
        if token in (b"[", b"{"):
            depth += 1
            if depth == 1:
                if token != b"[" or data[:m.start()].strip():
                    raise too_deep(data)
                start = m.end()
        elif token in (b"]", b"}"):
            depth -= 1
            if depth == 0:
                piece = data[start:m.start()]
                if piece.strip() or records:
                    records.append(_element(piece))
                return records
        elif depth == 1:                                  # a comma between two records
            records.append(_element(data[start:m.start()]))
            start = m.end()
    raise too_deep(data)


def _element(text: bytes) -> Any | BadRecord:
    text = text.strip()
    try:
        return decode_one(text)
    except BadRecord as bad:
        return bad


def duplicate_keys(text: bytes) -> list[str]:
    """Keys that occur more than once in one object of this JSON text, in order of discovery
    (the decoders keep the last value silently)."""
    found: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict:
        seen: set[str] = set()
        for key, _ in items:
            if key in seen and key not in found:
                found.append(key)
            seen.add(key)
        return dict(items)

    try:
        json.loads(without_bom(text), object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        return []
    return found

"""Every limit on what an input can make feedpub do, in one table: name, value, unit, what it guards.

Each limit is checked before the step whose cost it bounds (the JSON decoder, the HTML parser, the
TOML parser, the feeds a record's categories fan out to), so an input within every limit costs time
and output in proportion to its size, and an input over one is refused quickly as that input's
error: a record's (its file and line, or its row), a record file's, feedpub.toml's, or for
`feedpub validate` that file's finding. The message names the limit, the value found and how to
change it: a site sets the settable limits in a [limits] table of feedpub.toml; the fixed ones say
why they are fixed.

A new limit is one entry in LIMITS; the README's table and the tests that exercise every limit
(tests/test_limits_matrix.py) are generated from it.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate
from types import MappingProxyType
from typing import Mapping

__all__ = ["DEFAULTS", "DEFAULT_LIMITS", "LIMITS", "Limit", "Limits", "TooDeep", "json_depth", "over", "parse_limits",
           "value_depth"]

KIB = 1 << 10
MIB = 1 << 20


@dataclass(frozen=True, slots=True)
class Limit:
    """One input dimension and its limit."""

    name: str              # the key in [limits] of feedpub.toml, and in every message
    value: int             # the default
    unit: str              # what value counts: "bytes", "characters", "levels", "categories", ""
    measures: str          # what is measured
    guards: str            # what the limit protects: the cost it bounds
    above: str             # what happens to an input over it
    fixed: str = ""        # why it cannot be changed; empty: [limits] sets it
    inputs: tuple[str, ...] = ("record",)   # where it is checked: record, record file, database row,
    #                                         feedpub.toml, validate

    @property
    def settable(self) -> bool:
        return not self.fixed

    def amount(self, number: int) -> str:
        """'2,000,000 characters', '64 levels', '9223372036854775807'."""
        return f"{number:,} {self.unit}" if self.unit else str(number)

    def how_to_change(self) -> str:
        if self.fixed:
            return f"fixed: {self.fixed}"
        return f"set {self.name} = N in [limits] of feedpub.toml to change it"


RECORD_ERROR = "that record is rejected (its file and line, or its row, named), the other records publish"

LIMITS: tuple[Limit, ...] = (
    Limit("json_file_bytes", 64 * MIB, "bytes", "one *.json record file",
          "memory: a .json file is read and decoded whole (a big export belongs in JSONL, read a line at a time)",
          "the file is one error and is not read; the other files publish", inputs=("record file",)),
    Limit("jsonl_line_bytes", 16 * MIB, "bytes", "one line of a *.jsonl record file",
          "memory: a line is held whole while it is decoded; a longer one is skipped unread, in bounded memory",
          "that line is rejected, the rest of the file is read", inputs=("record file",)),
    Limit("record_depth", 64, "levels", "nesting of a record's values (the record is level 1, its "
          "categories, author or image level 2)",
          "the decoders and the checks that walk a value: nothing recurses without bound",
          RECORD_ERROR, fixed="a record's fields nest 3 levels deep; the same limit holds for the JSON "
          "columns of a database, which are read before any site setting is", inputs=("record", "database row")),
    Limit("html_characters", 8_000_000, "characters", "an article body (content)",
          "the HTML sanitiser: its parser's time and memory grow with the body", RECORD_ERROR),
    Limit("html_depth", 256, "levels", "nesting of an article body's elements, as an HTML parser holds "
          "them open (an upper bound, measured in one pass before parsing)",
          "the HTML sanitiser: its parser walks the open elements for every tag, so a deep body costs "
          "the square of its depth (20,000 nested <div> took 1.4 s, 80,000 took 23 s)", RECORD_ERROR),
    Limit("categories", 64, "categories", "categories of one record",
          "output: each category is a feed carrying the record with all its categories, so one "
          "record's output grows with the square of its categories", RECORD_ERROR,
          fixed="the database route ranks rows by their categories before any site setting is read"),
    Limit("integer", 2**63 - 1, "", "a whole number in a record (image.length)",
          "the cache and the fingerprint, which hold 64-bit integers", RECORD_ERROR,
          fixed="SQLite, msgspec and the feeds' readers hold 64-bit integers"),
    Limit("url_length", 4096, "characters", "one URL: url, image.url, author.uri, and the URLs of "
          "feedpub.toml", "every step that reads a URL, and the readers that fetch it", RECORD_ERROR),
    Limit("id_length", 200, "characters", "a record's id, and a translation key",
          "the ids in every guid, the index and the cache", RECORD_ERROR,
          fixed="an id is part of every item's guid forever: a longer limit would make some sites' "
          "ids valid in one place and not another"),
    Limit("date_length", 256, "characters", "a date (published, updated) written as text",
          "the date reader, which tries many shapes on the text (about 5 microseconds a character)",
          RECORD_ERROR, fixed="the longest date shape, with HTML character references, is under 100 characters"),
    Limit("config_depth", 32, "levels", "nesting of arrays, inline tables and dotted keys in feedpub.toml",
          "the TOML parser, which recurses for every level (the document is level 1, [site] level 2)",
          "the configuration is an error (exit 3)",
          fixed="it is checked before [limits] can be read; feedpub.toml's own tables nest 3 levels",
          inputs=("feedpub.toml",)),
    Limit("config_bytes", MIB, "bytes", "feedpub.toml",
          "memory and the TOML parser: the file is read whole before it is parsed",
          "the configuration is an error (exit 3)",
          fixed="it is read before [limits] can be; a site's feedpub.toml is a few kilobytes",
          inputs=("feedpub.toml",)),
    Limit("validate_file_bytes", 256 * MIB, "bytes", "one file `feedpub validate` checks",
          "memory: a feed is read whole before it is parsed", "that file is one finding; the others are checked",
          fixed="`feedpub validate` reads no feedpub.toml; the largest feeds in the wild are a few megabytes",
          inputs=("validate",)),
    Limit("validate_json_depth", 64, "levels", "nesting of a JSON file `feedpub validate` reads",
          "the JSON parser, which recurses for every level", "that file is one finding; the others are checked",
          fixed="`feedpub validate` reads no feedpub.toml; a JSON Feed nests 4 levels", inputs=("validate",)),
)

BY_NAME: Mapping[str, Limit] = MappingProxyType({limit.name: limit for limit in LIMITS})
DEFAULTS: Mapping[str, int] = MappingProxyType({limit.name: limit.value for limit in LIMITS})
SETTABLE = tuple(limit.name for limit in LIMITS if limit.settable)
MAX_SETTING = 2**40            # a setting above this is a typo, not a site


class Limits(Mapping[str, int]):
    """The limits in force for a site (immutable): the defaults, with [limits] of feedpub.toml
    applied. limits["html_depth"] and limits.html_depth read the same number."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, int]):
        self._values = dict(values)

    def __getitem__(self, name: str) -> int:
        return self._values[name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, name: str) -> int:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __reduce__(self):
        return Limits, (self._values,)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._values.items())))

    def __repr__(self) -> str:
        return f"Limits({self._values!r})"


DEFAULT_LIMITS = Limits(DEFAULTS)


def parse_limits(table: object) -> Limits:
    """The [limits] table of feedpub.toml -> Limits; ValueError naming the key for anything else."""
    if not isinstance(table, dict):
        raise ValueError(f"must be a table of limits (expected some of: {', '.join(SETTABLE)})")
    values = dict(DEFAULTS)
    for key, value in table.items():
        limit = BY_NAME.get(key)
        if limit is None:
            import difflib
            near = difflib.get_close_matches(key, SETTABLE, n=1, cutoff=0.6)
            raise ValueError(f"{key}: unknown key ({f'did you mean {near[0]}?' if near else 'expected one of: ' + ', '.join(SETTABLE)})")
        if not limit.settable:
            raise ValueError(f"{key}: this limit is fixed ({limit.fixed})")
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SETTING:
            raise ValueError(f"{key}: {value!r} is not valid (expected a whole number of {limit.unit} from 1 to {MAX_SETTING:,})")
        values[key] = value
    return Limits(values)


def over(name: str, found: str, limits: Mapping[str, int] | None = None) -> str:
    """The message for an input over a limit: what was found, then the limit and how to change it.

    found completes the subject ("is 250 characters long", "nests 300 levels deep"); the result reads
    'is 250 characters long (expected at most 200 characters: limit id_length, fixed: …)'.
    """
    limit = BY_NAME[name]
    value = (limits or DEFAULTS)[name]
    return f"{found} (expected at most {limit.amount(value)}: limit {name}, {limit.how_to_change()})"


class TooDeep:
    """Stands for a JSON value nested deeper than record_depth, which was never decoded (a database
    column's): the record rules reject the field it is in, naming the depth."""

    __slots__ = ("depth",)

    def __init__(self, depth: int):
        self.depth = depth                     # the value's own depth: [] is 1

    def __repr__(self) -> str:
        return f"TooDeep({self.depth})"


# --- measures used by more than one reader ---------------------------------------------------------

_DELTA = [0] * 256
_DELTA[ord("[")] = _DELTA[ord("{")] = 1
_DELTA[ord("]")] = _DELTA[ord("}")] = -1
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth(data: bytes | str) -> int:
    """How deep the arrays and objects of this JSON text nest (0 for a scalar), in one linear pass
    at C speed: strings are cut out, the brackets left are summed. Exact for valid JSON; for text
    that is not, some number the decoder will refuse anyway."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if b'"' in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
        data = b"".join(data.split(b'"')[::2])          # outside the strings
    brackets = data.translate(None, _NOT_BRACKET)
    if not brackets:
        return 0
    return max(accumulate(map(_DELTA.__getitem__, brackets)))


def depth_problem(data: bytes | str, name: str) -> str | None:
    """The message when this JSON text nests deeper than the limit `name` allows, else None: one
    call before a recursive decoder (json.loads, a database driver's) is handed the text."""
    depth = json_depth(data)
    return over(name, f"nests {depth:,} levels deep") if depth > DEFAULTS[name] else None


def too_deep(data: bytes | str) -> TooDeep | None:
    """TooDeep when this JSON text (a database column's) nests deeper than a record's field may,
    measured before a recursive decoder is handed it; None when it may be decoded."""
    depth = json_depth(data)
    return TooDeep(depth) if depth + 1 > DEFAULTS["record_depth"] else None


def value_depth(value: object) -> int:
    """How deep a decoded value's lists and dicts nest (0 for a scalar), walking without recursion
    (so a value of any depth costs time in proportion to its size, and never a RecursionError)."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, (list, tuple)):
            continue
        deepest = max(deepest, level)
        pending.extend((child, level + 1) for child in item if isinstance(child, (dict, list, tuple)))
    return deepest

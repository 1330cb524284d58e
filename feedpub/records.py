"""The record rules, declared once: every field of a record checked and turned into a clean Article.

`RecordRules(config)` holds one checker per field. Two paths use them:

- `check(record, source, line)`: a decoded JSON object (a dict) -> Article, or
  the problems found (one RecordError per bad field) -> what `feedpub check`
  says, and what the build publishes.
- `rank(record)`: the scan's fast path, for a record decoded by msgspec into
  `FastRecord` (JSON types checked in C, article bodies left undecoded). It
  calls the same field checkers on the same values and returns only what ranks
  a record; when any checker objects it returns None and the record goes
  through `check`, which says why. So the fast path can only decide faster,
  never differently.

Each checker returns the clean value or raises Problem(message). Messages end
in "(expected …)"; RecordError adds file, line and field.
"""
from __future__ import annotations

import posixpath
import re
import unicodedata
from datetime import datetime
from typing import Any, Callable, NamedTuple
from urllib.parse import urlsplit

import msgspec

from .dates import SaidOnce, parse_datetime, prefix_note
from .errors import DateError, PlaceholderDateError, RecordError
from .htmlpolicy import html_depth_over
from .limits import DEFAULT_LIMITS, DEFAULTS, Limits, TooDeep, over, value_depth
from .model import IMAGE_TYPES, RECORD_FIELDS, Article, Author, Image
from .text import has_illegal_xml, printable, strip_illegal_xml
from .urls import UrlError, resolve

__all__ = ["FIELDS", "FastRecord", "MAX_ID_LENGTH", "Problem", "Ranked", "RecordRules", "describe", "plain"]

MISSING = object()
MAX_ID_LENGTH = DEFAULTS["id_length"]
MAX_DATE_LENGTH = DEFAULTS["date_length"]
MAX_INTEGER = DEFAULTS["integer"]
MAX_DEPTH = DEFAULTS["record_depth"]
MAX_CATEGORIES = DEFAULTS["categories"]
FIELDS = RECORD_FIELDS
REQUIRED = {
    "id": "a non-empty string, unique across the site",
    "lang": "a configured language code",
    "title": "non-empty text",
    "url": "an absolute http(s) URL or a path starting with /",
    "published": "a date such as 02/12/2021 - 23:30 or 2021-12-02T23:30:00+07:00",
}
_ID_EXPECTED = (f"1 to {MAX_ID_LENGTH} printable characters, unique across the site: no control, format, "
                "bidi or line-break characters, no whitespace but plain spaces")
_KEY_EXPECTED = (f"1 to {MAX_ID_LENGTH} printable characters shared by the language versions of one story: "
                 "no control, format, bidi or line-break characters")
_URL_EXPECTED = "an absolute http(s) URL or a path starting with /"
_MIME = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")

_EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s\x00-\x1f\x7f-\x9f]+\.[^@\s\x00-\x1f\x7f-\x9f]+")
_STRING_OR_NULL = (ord('"'), ord("n"))


class Problem(Exception):
    """One field's problem, without its location; `sub` names a member of an object field."""

    def __init__(self, message: str, sub: str | None = None):
        super().__init__(message)
        self.sub = sub


def describe(value: Any) -> str:
    """Short rendering of a bad value for an error line."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        try:
            shown = repr(value)
        except ValueError:                                  # an integer of thousands of digits
            return "a number too long to show"
        return f"the number {shown if len(shown) <= 40 else shown[:37] + '...'}"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "…"
        return '"' + printable(shown) + '"'
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _depth_guard(value: Any) -> None:
    """Problem when an object or list field's value nests deeper than a record may (record_depth:
    the record is level 1, the field's own list or object level 2)."""
    if isinstance(value, TooDeep):
        depth = value.depth + 1
    elif isinstance(value, (dict, list)):
        for item in value.values() if type(value) is dict else value:
            if isinstance(item, (dict, list)):
                break
        else:
            return                                          # flat, as every valid record's are
        depth = value_depth(value) + 1
        if depth <= MAX_DEPTH:
            return
    else:
        return
    raise Problem(over("record_depth", f"nests {depth:,} levels deep"))


def _integer_guard(value: int, field: str = "", sub: str | None = None) -> None:
    if not -MAX_INTEGER - 1 <= value <= MAX_INTEGER:
        raise Problem(over("integer", f"{describe(value)} is too large"), sub)


def clean_text(value: str, notes: list[str] | None = None, field: str = "") -> str:
    """value without the characters feedpub never writes into XML (a warning says how many went)."""
    value, count = strip_illegal_xml(value)
    if count and notes is not None:
        notes.append(f'field "{field}": removed {count} control character(s) that XML cannot carry')
    return value


def plain(value: str, notes: list[str] | None = None, field: str = "") -> str:
    """A plain-text field as feeds carry it: XML-safe, NFC (Vietnamese arrives composed and
    decomposed), every run of whitespace one space, no leading or trailing space.

    Text that is printable (no control, format or separator but U+0020) holds no
    other whitespace, so it is already clean when it has no doubled or outer
    space and is NFC: the common case costs three C calls.
    """
    if (value.isprintable() and value[:1] != " " and value[-1:] != " " and "  " not in value
            and unicodedata.is_normalized("NFC", value)):
        return value
    return unicodedata.normalize("NFC", " ".join(clean_text(value, notes, field).split()))


def _string(value: Any, expected: str) -> str:
    if type(value) is not str:
        raise Problem(f"{describe(value)} is not text (expected {expected})")
    return value


_SCALAR = str | int | float | bool | None


class FastRecord(msgspec.Struct):
    """What the fast path decodes: JSON types checked in C, the bodies kept as raw JSON. A record
    this does not fit (a wrong type, a missing field) goes to RecordRules.check as a dict."""

    id: str
    lang: str
    title: str
    url: str
    published: str | int | float
    updated: str | int | float | None = None
    summary: msgspec.Raw = msgspec.Raw(b"null")
    content: msgspec.Raw = msgspec.Raw(b"null")
    author: str | dict[str, _SCALAR] | None = None         # objects of plain values only: a nested
    categories: list | None = None
    image: dict[str, _SCALAR] | None = None                # member takes the full check (record_depth)
    translation_key: str | None = None
    draft: bool | None = None


class Ranked(NamedTuple):
    """What ranks a valid record (a tuple: one is made per record)."""

    ts: float                      # published, as a Unix timestamp
    id: str
    lang: str
    categories: tuple[str, ...]
    translation_key: str | None
    draft: bool


class RecordRules:
    """The record rules of one site: its languages, base URL, time zone and date order."""

    def __init__(self, languages, base_url: str, tz, order: str = "dmy", limits: Limits = DEFAULT_LIMITS):
        self.languages = frozenset(languages)
        self.base_url = base_url
        self.tz = tz
        self.order = order
        self.limits = limits
        self._url_length = limits.url_length
        self._html_characters = limits.html_characters
        self._expected_lang = "one of: " + ", ".join(sorted(self.languages))
        self._category_lists: dict[tuple, tuple[str, ...]] = {}
        self._said_once = SaidOnce()        # warnings about a whole source's dates: one per file or source

    @classmethod
    def for_config(cls, config) -> "RecordRules":
        return cls(config.languages, config.base_url, config.tz, config.date_order, config.limits)

    # --- one checker per field ---------------------------------------------------------------

    def id(self, value: Any) -> str:
        """An id is the item's identity forever (it is in every guid): short, printable, one line.
        str.isprintable() is exactly that rule: no Unicode "Other" or "Separator" but the space."""
        text = _string(value, REQUIRED["id"]).strip(" ")
        if not text or not text.isprintable():
            raise Problem(f"{describe(value)} is not a usable id (expected {_ID_EXPECTED})")
        if len(text) > MAX_ID_LENGTH:
            raise Problem(over("id_length", f"is {len(text):,} characters long"))
        return text

    def lang(self, value: Any) -> str:
        if type(value) is not str or value not in self.languages:
            raise Problem(f"{describe(value)} is not a configured language (expected {self._expected_lang})")
        return value

    def title(self, value: Any, notes: list[str] | None = None) -> str:
        text = plain(_string(value, REQUIRED["title"]), notes, "title")
        if not text:
            raise Problem(f"is empty (expected {REQUIRED['title']})")
        return text

    def url(self, value: Any) -> str:
        """Resolve a record URL against base_url and convert it to a URI (urls.resolve)."""
        text = _string(value, _URL_EXPECTED)
        if len(text) > self._url_length:
            raise Problem(over("url_length", f"is {len(text):,} characters long", self.limits))
        try:
            return resolve(text, self.base_url)
        except UrlError as exc:
            shown = describe(value)
            if exc.kind == "shape":
                raise Problem(f"{shown} is not a URL (expected {_URL_EXPECTED})") from None
            if exc.kind == "scheme":
                raise Problem(f"{shown} is not an http(s) URL (expected {_URL_EXPECTED})") from None
            raise Problem(f"{shown} is not a valid URL: {printable(str(exc))} (expected {_URL_EXPECTED})") from None

    def date(self, value: Any, notes: list[str] | None = None, field: str = "published", *,
             optional: bool = False) -> datetime | None:
        """A record date read in the site's order ([site] date_order). In an optional field the
        "no date" placeholder of .NET and SQL exports (0001-01-01 00:00:00) is absent: None."""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise Problem(f"{describe(value)} is not a date (expected a date string or a Unix timestamp)")
        if type(value) is str:
            if len(value) > MAX_DATE_LENGTH:
                raise Problem(over("date_length", f"is {len(value):,} characters long"))
        elif type(value) is int:
            _integer_guard(value)
        try:
            dt, found = parse_datetime(value, self.tz, order=self.order)
        except PlaceholderDateError as exc:
            if not optional:
                raise Problem(str(exc)) from None
            if notes is not None:
                notes.append(f'field "{field}": {exc.shown} is the placeholder .NET and SQL exports write for '
                             '"no date"; read as absent')
            return None
        except DateError as exc:
            raise Problem(str(exc)) from None
        if notes is not None:
            notes.extend(prefix_note(f'field "{field}": ', note) for note in found)
        return dt

    def updated(self, value: Any, notes: list[str] | None = None) -> datetime | None:
        if value is None or value is MISSING:
            return None
        return self.date(value, notes, "updated", optional=True)

    def text(self, value: Any, notes: list[str] | None, field: str) -> str | None:
        """summary and content: text or null. An article body (content) must be within the HTML
        limits, measured before the sanitiser's parser ever sees it."""
        if value is None or value is MISSING:
            return None
        text = _string(value, "text")
        if field == "content":
            self.html_limits(text)
        text = clean_text(text, notes, field)
        return text if text.strip() else None

    def html_limits(self, html: str) -> None:
        """Problem when an article body is too long or nests too deep for the sanitiser to be cheap."""
        if len(html) > self._html_characters:
            raise Problem(over("html_characters", f"is {len(html):,} characters long", self.limits))
        depth = html_depth_over(html, self.limits.html_depth)
        if depth:
            raise Problem(over("html_depth", f"nests at least {depth:,} elements deep", self.limits))

    def author(self, value: Any) -> Author | None:
        if value is None or value is MISSING:
            return None
        if type(value) is str:
            name = plain(value)
            return Author(name) if name else None
        _depth_guard(value)
        if not isinstance(value, dict):
            raise Problem(f'{describe(value)} is not an author (expected a name or {{"name": …, "email": …, "uri": …}})')
        name = value.get("name")
        if type(name) is not str or not plain(name):
            raise Problem("missing or empty (expected a non-empty name)", "name")
        email = value.get("email")
        if email is not None and (type(email) is not str or not _EMAIL.fullmatch(email) or has_illegal_xml(email)):
            raise Problem(f"{describe(email)} is not an e-mail address (expected name@example.vn)", "email")
        uri = value.get("uri")
        if uri is not None:
            try:
                uri = self.url(uri)
            except Problem as exc:
                raise Problem(str(exc), "uri") from None
        return Author(plain(name), email, uri)

    def categories(self, value: Any) -> tuple[str, ...]:
        """Clean, de-duplicated category names; a site reuses a few lists, so results are remembered."""
        if value is None or value is MISSING:
            return ()
        _depth_guard(value)
        if not isinstance(value, list):
            raise Problem(f"{describe(value)} is not a list (expected a list of strings)")
        if len(value) > MAX_CATEGORIES:
            raise Problem(over("categories", f"has {len(value):,} categories"))
        key = tuple(value) if all(type(item) is str for item in value) else None
        known = self._category_lists.get(key) if key is not None else None
        if known is not None:
            return known
        result: dict[str, None] = {}                      # in order, each name once
        for item in value:
            name = plain(item) if type(item) is str else ""
            if not name:
                raise Problem(f"contains {describe(item)} (expected a list of non-empty strings)")
            result[name] = None
        names = tuple(result)
        if key is not None and len(self._category_lists) < 4096:
            self._category_lists[key] = names
        return names

    def image(self, value: Any, notes: list[str] | None = None, *, build: bool = True) -> Image | None:
        """The image, or (build=False, for ranking) only the verdict: same checks, nothing made
        (a FastRecord's image holds plain values only, so its depth needs no walk)."""
        if value is None or value is MISSING:
            return None
        if build:
            _depth_guard(value)
        if not isinstance(value, dict):
            raise Problem(f'{describe(value)} is not an image (expected {{"url": …, "caption": …, "type": …, "length": …}})')
        if "url" not in value:
            raise Problem(f"missing (expected {_URL_EXPECTED})", "url")
        try:
            url = self.url(value["url"])
        except Problem as exc:
            raise Problem(str(exc), "url") from None
        caption = value.get("caption")
        if caption is not None and type(caption) is not str:
            raise Problem(f"{describe(caption)} is not text (expected text)", "caption")
        mime = value.get("type")
        if mime is not None and (type(mime) is not str or not _MIME.fullmatch(mime.lower())):
            raise Problem(f'{describe(mime)} is not a MIME type (expected e.g. "image/jpeg")', "type")
        length = value.get("length")
        if length is not None and (type(length) is not int or length < 0):
            raise Problem(f"{describe(length)} is not a size (expected a whole number of bytes)", "length")
        if length is not None and length > MAX_INTEGER:
            _integer_guard(length, sub="length")
        if not build:
            return None
        if mime is not None and not mime.lower().startswith("image/"):
            # Readers show an enclosure as a picture only when its type says image/: a wrong type
            # would make the image vanish, so the URL's extension says instead.
            if notes is not None:
                notes.append(f'field "image.type": "{printable(mime)}" is not an image type; the type is '
                             "taken from the image URL instead")
            mime = None
        if mime is None:
            mime = IMAGE_TYPES.get(posixpath.splitext(urlsplit(url).path)[1].lower())
        if caption is not None:
            caption = plain(caption, notes, "image.caption") or None
        return Image(url, caption, mime.lower() if mime else None, length)

    def translation_key(self, value: Any) -> str | None:
        if value is None or value is MISSING:
            return None
        text = _string(value, "a non-empty string").strip()
        if not text:
            raise Problem("is empty (expected a non-empty string shared by the language versions of one story)")
        if not text.isprintable():
            raise Problem(f"{describe(value)} is not a usable translation key (expected {_KEY_EXPECTED})")
        if len(text) > MAX_ID_LENGTH:
            raise Problem(over("id_length", f"is {len(text):,} characters long"))
        return text

    def draft(self, value: Any) -> bool:
        if value is None or value is MISSING:
            return False
        if type(value) is not bool:
            raise Problem(f"{describe(value)} is not true or false (expected a boolean)")
        return value

    # --- the two paths ---------------------------------------------------------------------------

    def check(self, record: Any, source: str, line: int | str) -> tuple[Article | None, list[RecordError], list[str]]:
        """Every field of one decoded record: (article or None, its problems, its warnings)."""
        if not isinstance(record, dict):
            return None, [RecordError(source, line, None, f"record is {describe(record)} (expected a JSON object)")], []
        errors: list[RecordError] = []
        notes: list[str] = []
        get = record.get

        def field(name: str, check: Callable[[Any], Any], *, required: bool = False) -> Any:
            value = get(name, MISSING)
            if required and (value is MISSING or value is None):
                errors.append(RecordError(source, line, name, f"missing (expected {REQUIRED[name]})"))
                return None
            try:
                return check(value)
            except Problem as exc:
                errors.append(RecordError(source, line, f"{name}.{exc.sub}" if exc.sub else name, str(exc)))
                return None

        values = {
            "id": field("id", self.id, required=True),
            "lang": field("lang", self.lang, required=True),
            "title": field("title", lambda v: self.title(v, notes), required=True),
            "url": field("url", self.url, required=True),
            "published": field("published", lambda v: self.date(v, notes), required=True),
            "updated": field("updated", lambda v: self.updated(v, notes)),
            "summary": field("summary", lambda v: self.text(v, notes, "summary")),
            "content": field("content", lambda v: self.text(v, notes, "content")),
            "author": field("author", self.author),
            "categories": field("categories", self.categories),
            "image": field("image", lambda v: self.image(v, notes)),
            "translation_key": field("translation_key", self.translation_key),
            "draft": field("draft", self.draft),
        }
        if errors:
            return None, errors, []
        if values["summary"] is not None:
            values["summary"] = plain(values["summary"])
        values["updated"] = values["updated"] or values["published"]
        notes = self._said_once.keep(source, notes)
        where = f"{source}:{line}"
        return Article(**values, source=source, line=line), [], [printable(f"{where}: {n}") for n in notes]

    def rank(self, rec: FastRecord) -> Ranked | None:
        """What ranks a record the checkers all accept, or None to let check() say what is wrong.
        The bodies only have to be text or null; they are read when the record wins a place.

        Each field goes to its checker unless a guard shows, in a few C calls, that the checker
        would accept it as it is and return it unchanged (an id that is printable and unpadded, a
        title that plain() would leave alone, a text author, which no checker refuses): the
        decision is the checkers', only reached sooner. An article body's HTML depth is measured
        when the body is read in full (check(), for every record `feedpub check` reads and for every
        record a build publishes): a deeper body that would win a place is rejected then, and the
        next newest takes its place.
        """
        try:
            ident = rec.id
            if not (0 < len(ident) <= MAX_ID_LENGTH and ident.isprintable() and ident[0] != " " != ident[-1]):
                ident = self.id(ident)
            lang = rec.lang
            if lang not in self.languages:
                return None
            title = rec.title
            if not (title and title.isprintable() and title[0] != " " != title[-1] and "  " not in title
                    and unicodedata.is_normalized("NFC", title)):
                self.title(title)
            url, published = rec.url, rec.published
            if len(url) > self._url_length or type(published) is not float and (
                    len(published) > MAX_DATE_LENGTH if type(published) is str else
                    not -MAX_INTEGER - 1 <= published <= MAX_INTEGER):
                return None
            resolve(url, self.base_url)
            published = parse_datetime(published, self.tz, order=self.order)[0]
            if rec.updated is not None:
                self.updated(rec.updated)
            author = rec.author
            if author is not None and type(author) is not str:
                self.author(author)
            cats = rec.categories
            categories = () if cats is None else (self._category_lists.get(tuple(cats)) if all(
                type(c) is str for c in cats) else None) or self.categories(cats)
            if rec.image is not None:
                self.image(rec.image, build=False)
            key = rec.translation_key
            if key is not None and not (0 < len(key) <= MAX_ID_LENGTH and key.isprintable()
                                        and key[0] != " " != key[-1]):
                key = self.translation_key(key)
            draft = rec.draft is True
        except (Problem, UrlError, DateError):
            return None
        if memoryview(rec.summary)[0] not in _STRING_OR_NULL or memoryview(rec.content)[0] not in _STRING_OR_NULL:
            return None
        if len(rec.content) - 2 > self._html_characters:     # JSON takes at least a byte a character
            return None
        return Ranked(published.timestamp(), ident, lang, categories, key, draft)

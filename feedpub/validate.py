"""Check every field of one record and turn it into a clean, typed Article.

Field checkers are shared by the two ways records arrive: plain decoded JSON
(dicts) and the typed partial decoder used by the fast scan (scan.py). Each
checker returns the clean value or raises _Problem(message); the caller turns
problems into RecordErrors carrying file, line and field.
"""
from __future__ import annotations

import mimetypes
import re
import unicodedata
from datetime import datetime
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from .dates import parse_datetime
from .errors import DateError, PlaceholderDateError, RecordError
from .model import Article, Author, Image
from .text import has_illegal_xml, printable, strip_illegal_xml
from .urls import UrlError, resolve

MISSING = object()
_SPACES = re.compile(r"\s+")
_MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
_EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s\x00-\x1f\x7f-\x9f]+\.[^@\s\x00-\x1f\x7f-\x9f]+")


class _Problem(Exception):
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
        return '"' + shown.replace("\n", " ") + '"'
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def clean_text(value: str, warnings: list[str] | None = None, field: str = "") -> str:
    """Strip characters XML 1.0 cannot carry (warning once per field), keep the rest."""
    value, count = strip_illegal_xml(value)
    if count:
        if warnings is not None:
            warnings.append(f'field "{field}": removed {count} control character(s) that XML cannot carry')
    return value


def plain(value: str, warnings: list[str] | None = None, field: str = "") -> str:
    """A plain-text field as feeds carry it: XML-safe, NFC (Vietnamese arrives composed and
    decomposed), every run of whitespace one space, no leading or trailing space."""
    return unicodedata.normalize("NFC", " ".join(clean_text(value, warnings, field).split()))


def _string(value: Any, expected: str) -> str:
    if not isinstance(value, str):
        raise _Problem(f"{describe(value)} is not text (expected {expected})")
    return value


MAX_ID_LENGTH = 200
_ID_EXPECTED = (f"1 to {MAX_ID_LENGTH} printable characters, unique across the site: no control, format, "
                "bidi or line-break characters, no whitespace but plain spaces")


def check_id(value: Any) -> str:
    """An id is the item's identity forever (it is in every guid): short, printable, one line.
    str.isprintable() is exactly that rule: no Unicode "Other" or "Separator" but the ASCII space."""
    text = _string(value, "a non-empty string, unique across the site").strip(" ")
    if not text or not text.isprintable():
        raise _Problem(f"{describe(value)} is not a usable id (expected {_ID_EXPECTED})")
    if len(text) > MAX_ID_LENGTH:
        raise _Problem(f"is {len(text)} characters long (expected {_ID_EXPECTED})")
    return text


def check_lang(value: Any, languages: Mapping[str, Any]) -> str:
    expected = "one of: " + ", ".join(sorted(languages))
    if not isinstance(value, str) or value not in languages:
        raise _Problem(f"{describe(value)} is not a configured language (expected {expected})")
    return value


def check_title(value: Any, warnings: list[str] | None = None) -> str:
    text = plain(_string(value, "non-empty text"), warnings, "title")
    if not text:
        raise _Problem("is empty (expected non-empty text)")
    return text


def check_url(value: Any, base_url: str, *, expected: str = "an absolute http(s) URL or a path starting with /") -> str:
    """Resolve a record URL against base_url and convert it to a URI (urls.resolve); only http(s) URLs survive."""
    text = _string(value, expected)
    try:
        return resolve(text, base_url)
    except UrlError as exc:
        shown = printable(describe(value))
        if exc.kind == "shape":
            raise _Problem(f"{shown} is not a URL (expected {expected})") from None
        if exc.kind == "scheme":
            raise _Problem(f"{shown} is not an http(s) URL (expected {expected})") from None
        raise _Problem(f"{shown} is not a valid URL: {printable(str(exc))} (expected {expected})") from None


def check_date(value: Any, tz: ZoneInfo, warnings: list[str] | None = None, field: str = "", *,
               order: str = "dmy", optional: bool = False) -> datetime | None:
    """A record date read in the site's order ([site] date_order). In an optional field the
    "no date" placeholder of .NET and SQL exports (0001-01-01 00:00:00) is absent: None."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _Problem(f"{describe(value)} is not a date (expected a date string or a Unix timestamp)")
    try:
        dt, notes = parse_datetime(value, tz, order=order)
    except PlaceholderDateError as exc:
        if not optional:
            raise _Problem(str(exc)) from None
        if warnings is not None:
            warnings.append(f'field "{field}": {exc.shown} is the placeholder .NET and SQL exports write for '
                            '"no date"; read as absent')
        return None
    except DateError as exc:
        raise _Problem(str(exc)) from None
    if warnings is not None:
        warnings.extend(f'field "{field}": {note}' for note in notes)
    return dt


def check_optional_text(value: Any, warnings: list[str] | None, field: str) -> str | None:
    if value is None or value is MISSING:
        return None
    text = clean_text(_string(value, "text"), warnings, field)
    return text if text.strip() else None


def check_author(value: Any, base_url: str) -> Author | None:
    if value is None or value is MISSING:
        return None
    if isinstance(value, str):
        name = plain(value)
        return Author(name) if name else None
    if not isinstance(value, dict):
        raise _Problem(f'{describe(value)} is not an author (expected a name or {{"name": …, "email": …, "uri": …}})')
    name = value.get("name")
    if not isinstance(name, str) or not plain(name):
        raise _Problem("missing or empty (expected a non-empty name)", "name")
    email = value.get("email")
    if email is not None and (not isinstance(email, str) or not _EMAIL.fullmatch(email) or has_illegal_xml(email)):
        raise _Problem(f"{describe(email)} is not an e-mail address (expected name@example.vn)", "email")
    uri = value.get("uri")
    if uri is not None:
        try:
            uri = check_url(uri, base_url)
        except _Problem as exc:
            raise _Problem(str(exc), "uri") from None
    return Author(plain(name), email, uri)


def check_categories(value: Any) -> tuple[str, ...]:
    if value is None or value is MISSING:
        return ()
    if not isinstance(value, list):
        raise _Problem(f"{describe(value)} is not a list (expected a list of strings)")
    result: list[str] = []
    for item in value:
        name = plain(item) if isinstance(item, str) else ""
        if not name:
            raise _Problem(f"contains {describe(item)} (expected a list of non-empty strings)")
        if name not in result:
            result.append(name)
    return tuple(result)


def check_image(value: Any, base_url: str, warnings: list[str] | None = None) -> Image | None:
    if value is None or value is MISSING:
        return None
    if not isinstance(value, dict):
        raise _Problem(f'{describe(value)} is not an image (expected {{"url": …, "caption": …, "type": …, "length": …}})')
    if "url" not in value:
        raise _Problem("missing (expected an absolute http(s) URL or a path starting with /)", "url")
    try:
        url = check_url(value["url"], base_url)
    except _Problem as exc:
        raise _Problem(str(exc), "url") from None
    caption = value.get("caption")
    if caption is not None and not isinstance(caption, str):
        raise _Problem(f"{describe(caption)} is not text (expected text)", "caption")
    mime = value.get("type")
    if mime is not None and (not isinstance(mime, str) or not _MIME.match(mime.lower())):
        raise _Problem(f'{describe(mime)} is not a MIME type (expected e.g. "image/jpeg")', "type")
    if mime is None:
        mime = mimetypes.guess_type(urlsplit(url).path)[0]
    length = value.get("length")
    if length is not None and (isinstance(length, bool) or not isinstance(length, int) or length < 0):
        raise _Problem(f"{describe(length)} is not a size (expected a whole number of bytes)", "length")
    if caption is not None:
        caption = plain(caption, warnings, "image.caption") or None
    return Image(url, caption, mime.lower() if mime else None, length)


def check_translation_key(value: Any) -> str | None:
    if value is None or value is MISSING:
        return None
    text = _string(value, "a non-empty string").strip()
    if not text:
        raise _Problem("is empty (expected a non-empty string shared by the language versions of one story)")
    return text


def check_draft(value: Any) -> bool:
    if value is None or value is MISSING:
        return False
    if not isinstance(value, bool):
        raise _Problem(f"{describe(value)} is not true or false (expected a boolean)")
    return value


def validate_record(record: Any, source: str, line: int, *, languages: Mapping[str, Any],
                    base_url: str, tz: ZoneInfo,
                    order: str = "dmy") -> tuple[Article | None, list[RecordError], list[str]]:
    """Check every field of one decoded record; return (article or None, errors, warnings).

    order is how the site writes numeric dates ([site] date_order)."""
    if not isinstance(record, dict):
        return None, [RecordError(source, line, None, f"record is {describe(record)} (expected a JSON object)")], []
    errors: list[RecordError] = []
    warnings: list[str] = []
    get = record.get

    def field(name: str, check: Callable[[Any], Any], *, required: bool = False) -> Any:
        value = get(name, MISSING)
        if required and (value is MISSING or value is None):
            errors.append(RecordError(source, line, name, f"missing (expected {_REQUIRED[name]})"))
            return None
        try:
            return check(value)
        except _Problem as exc:
            errors.append(RecordError(source, line, f"{name}.{exc.sub}" if exc.sub else name, str(exc)))
            return None

    values = {
        "id": field("id", check_id, required=True),
        "lang": field("lang", lambda v: check_lang(v, languages), required=True),
        "title": field("title", lambda v: check_title(v, warnings), required=True),
        "url": field("url", lambda v: check_url(v, base_url), required=True),
        "published": field("published", lambda v: check_date(v, tz, warnings, "published", order=order),
                           required=True),
        "updated": field("updated", lambda v: None if v is MISSING or v is None else check_date(
            v, tz, warnings, "updated", order=order, optional=True)),
        "summary": field("summary", lambda v: check_optional_text(v, warnings, "summary")),
        "content": field("content", lambda v: check_optional_text(v, warnings, "content")),
        "author": field("author", lambda v: check_author(v, base_url)),
        "categories": field("categories", check_categories),
        "image": field("image", lambda v: check_image(v, base_url, warnings)),
        "translation_key": field("translation_key", check_translation_key),
        "draft": field("draft", check_draft),
    }
    if errors:
        return None, errors, []
    if values["summary"] is not None:
        values["summary"] = plain(values["summary"])
    values["updated"] = values["updated"] or values["published"]
    warnings = [f"{source}:{line}: {w}" for w in warnings]
    return Article(**values, source=source, line=line), [], warnings


_REQUIRED = {
    "id": "a non-empty string, unique across the site",
    "lang": "a configured language code",
    "title": "non-empty text",
    "url": "an absolute http(s) URL or a path starting with /",
    "published": "a date such as 02/12/2021 - 23:30 or 2021-12-02T23:30:00+07:00",
}

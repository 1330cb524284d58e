"""JSON Feed 1.0 and 1.1 (jsonfeed.org/version/1, /version/1.1): each feed by its own version's rules.

1.1 says a 1.0 feed stays valid forever, so a 1.0 feed is checked by 1.0's
rules: "author" is its field (not deprecated), "authors" and "language" are
1.1's (1.0 readers ignore them: a warning), a number as an item id is coerced
by readers (a warning; 1.1 wants a string), dates are ISO 8601 in the W3C's
profile rather than RFC 3339. Both versions: a key the spec does not define
must be an extension, named "_" and a letter; HTML belongs in content_html
only, so markup in a plain-text field (title, summary, content_text, tags,
names) is reported.

A .json file that does not name a JSON Feed version is reported as
unidentified, not skipped.
"""
from __future__ import annotations

import difflib
import json
import re
from typing import Any

from ..limits import depth_problem
from .common import C1, line_col
from .dates import DateCheck, rfc3339, w3cdtf
from .report import Report, quote
from .values import absolute_uri_problem, html_in_text, http_problem, language_problem, mime_problem

__all__ = ["JSONFEED_VERSION", "KEYS", "PLAIN_TEXT", "VERSIONS", "check_jsonfeed"]

JSONFEED_VERSION = "https://jsonfeed.org/version/1.1"
VERSIONS = {"https://jsonfeed.org/version/1": "1.0", JSONFEED_VERSION: "1.1"}
_PREFIXES = ("https://jsonfeed.org/version/", "http://jsonfeed.org/version/", "https://www.jsonfeed.org/version/",
             "http://www.jsonfeed.org/version/")

# Every key each version defines, per kind of object. A key outside its version's set must be an
# extension ("_" and a letter); a key only the other version defines is that version's field.
_TOP_1_0 = {"version", "title", "home_page_url", "feed_url", "description", "user_comment", "next_url", "icon",
            "favicon", "author", "expired", "hubs", "items"}
_ITEM_1_0 = {"id", "url", "external_url", "title", "content_html", "content_text", "summary", "image",
             "banner_image", "date_published", "date_modified", "author", "tags", "attachments"}
_AUTHOR = {"name", "url", "avatar"}
_ATTACHMENT = {"url", "mime_type", "title", "size_in_bytes", "duration_in_seconds"}
_HUB = {"type", "url"}
KEYS = {
    "1.0": {"feed": _TOP_1_0, "item": _ITEM_1_0, "author": _AUTHOR, "attachment": _ATTACHMENT, "hub": _HUB},
    "1.1": {"feed": _TOP_1_0 | {"authors", "language"}, "item": _ITEM_1_0 | {"authors", "language"},
            "author": _AUTHOR, "attachment": _ATTACHMENT, "hub": _HUB},
}
# The fields that hold plain text: "the only place HTML is allowed in this format is in content_html".
PLAIN_TEXT = {"feed": ("title", "description"), "item": ("title", "summary", "content_text"),
              "author": ("name",), "attachment": ("title",)}
_EXTENSION = re.compile(r"_[^\W\d_]")
_FEED_STRINGS = ("description", "user_comment", "next_url", "icon", "favicon", "language")
_ITEM_STRINGS = ("content_html", "content_text", "url", "external_url", "title", "summary", "image",
                 "banner_image", "language")


class _Feed:
    """The version a feed is checked by, and the label its findings cite."""

    def __init__(self, version: str):
        self.version = version
        self.spec = f"JSON Feed {version}"
        self.other = "1.0" if version == "1.1" else "1.1"

    def keys(self, obj: dict, kind: str, where: str, report: Report) -> None:
        """Keys this version does not define: the other version's fields, extensions, mistakes."""
        known = KEYS[self.version][kind]
        for key in obj:
            if key in known:
                continue
            if key.startswith("_"):
                if not _EXTENSION.match(key) or "." in key:
                    report.error(f'{where}the extension "{key}" is not a valid name (expected "_" and a letter, '
                                 'and no ".", e.g. "_blue_shed")', f"{self.spec} extensions")
            elif key in KEYS[self.other][kind]:
                report.warn(f'{where}"{key}" is a JSON Feed {self.other} field, which {self.spec} does not define: '
                            f"readers of {self.version} ignore it (expected the version that defines it)",
                            f"{self.spec} {kind}")
            else:
                near = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.75)
                hint = f'; did you mean "{near[0]}"?' if near else ""
                report.error(f'{where}"{key}" is not a {self.spec} field{hint} (expected the spec\'s fields, or a '
                             f'custom one named "_" and a letter, e.g. "_{key.lstrip("_") or "x"}")',
                             f"{self.spec} extensions")

    def plain_text(self, obj: dict, kind: str, where: str, report: Report) -> None:
        """Markup in a field the spec calls plain text: readers show it as it is."""
        values = [(f'"{key}"', obj[key]) for key in PLAIN_TEXT.get(kind, ()) if isinstance(obj.get(key), str)]
        if kind == "item" and isinstance(obj.get("tags"), list):
            values += [(f"tag {quote(t)}", t) for t in obj["tags"] if isinstance(t, str)]
        for label, value in values:
            markup = html_in_text(value)
            if markup:
                report.warn(f"{where}{label} contains {quote(markup)}, which readers show as it is: it is plain "
                            "text (expected HTML only in content_html)", f"{self.spec} items")

    def date(self, value: str) -> DateCheck:
        return rfc3339(value, upper=False) if self.version == "1.1" else w3cdtf(value)


def check_jsonfeed(data: bytes, report: Report) -> str:
    """Check a .json file; "jsonfeed", or "unknown" when it is not JSON naming a JSON Feed version."""
    if data.startswith(b"\xef\xbb\xbf"):
        report.error("starts with a UTF-8 byte order mark (expected none; RFC 8259 forbids it)", "RFC 8259 §8.1")
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        report.error(f"is not valid UTF-8: byte 0x{data[exc.start]:02X} at line {line}, offset {exc.start}",
                     "RFC 8259 §8.1")
        return "jsonfeed" if b"jsonfeed.org/version" in data[:65536] else "unknown"
    too_deep = depth_problem(data, "validate_json_depth")       # json.loads recurses for every level
    if too_deep:
        report.error(too_deep, "feedpub limit")
        return "jsonfeed" if "jsonfeed.org/version" in text[:65536] else "unknown"
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        report.error(f"is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", "RFC 8259")
        return "jsonfeed" if "jsonfeed.org/version" in text[:65536] else "unknown"
    if not isinstance(doc, dict):
        report.error(f'top level is a JSON {json_type(doc)} (expected an object with "version": '
                     f"{quote(JSONFEED_VERSION)})", "JSON Feed 1.1 top-level")
        return "unknown"
    version = doc.get("version")
    if not (isinstance(version, str) and version.startswith(_PREFIXES)):
        report.error('cannot be identified as a JSON Feed: no "version" naming https://jsonfeed.org/version/… '
                     f"(expected a JSON object with \"version\": {quote(JSONFEED_VERSION)})", "JSON Feed 1.1 version")
        return "unknown"
    feed = _Feed(_version(version, report))
    m = C1.search(text)
    if m:
        report.house(f"{line_col(text, m.start())}: C1 control character U+{ord(m.group()):04X} "
                     "(expected none; text decoded with the wrong codec?)", "no C1 controls")
    check_top(doc, feed, report)
    items = doc.get("items")
    if isinstance(items, list):
        seen: dict[str, int] = {}
        for i, item in enumerate(items, 1):
            check_item(item, i, feed, report, seen)
    return "jsonfeed"


def _version(version: str, report: Report) -> str:
    """The version whose rules apply: the one named, or the nearest for a misspelt URL."""
    known = VERSIONS.get(version)
    if known == "1.0":
        report.house(f'is JSON Feed 1.0 (feedpub writes 1.1: expected "version": {quote(JSONFEED_VERSION)})',
                     "JSON Feed 1.1")
    if known is not None:
        return known
    tail = version.rsplit("/version/", 1)[1].rstrip("/")
    nearest = "1.0" if tail in ("1", "1.0") else "1.1"
    exact = next(url for url, v in VERSIONS.items() if v == nearest)
    if tail in ("1", "1.0", "1.1"):
        report.error(f'feed: "version" is {quote(version)} (expected exactly {quote(exact)}: readers compare '
                     "the string)", f"JSON Feed {nearest} top-level")
    else:
        report.warn(f'feed: "version" is {quote(version)}, a version this checker does not know (expected '
                    f'"https://jsonfeed.org/version/1" or {quote(JSONFEED_VERSION)}; checked by {nearest}\'s rules)',
                    f"JSON Feed {nearest} top-level")
    return nearest


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "array",
            dict: "object"}.get(type(value), type(value).__name__)


def _check_url(value: str, where: str, key: str, report: Report, ref: str) -> None:
    problem = absolute_uri_problem(value, iri=False)
    if problem:
        report.error(f'{where}"{key}" {quote(value)} {problem} (expected an absolute URL)', ref)
    elif http_problem(value):
        report.house(f'{where}"{key}" {quote(value)} is not an absolute http(s) URL: {http_problem(value)}',
                     "http(s) URLs")


def check_top(doc: dict, feed: _Feed, report: Report) -> None:
    ref = f"{feed.spec} top-level"
    title = doc.get("title")
    if "title" not in doc:
        report.error('feed: "title" is missing (expected a non-empty string)', ref)
    elif not isinstance(title, str):
        report.error(f'feed: "title" is a {json_type(title)} (expected a non-empty string)', ref)
    elif not title.strip():
        report.error('feed: "title" is empty (expected a non-empty string)', ref)
    items = doc.get("items")
    if "items" not in doc:
        report.error('feed: "items" is missing (expected an array of items)', ref)
    elif not isinstance(items, list):
        report.error(f'feed: "items" is a {json_type(items)} (expected an array)', ref)
    elif not items:
        report.warn('feed: "items" is empty (valid, e.g. for a language with nothing published yet; readers '
                    "show an empty feed)", ref)
    for key in ("home_page_url", "feed_url"):
        if key not in doc:
            report.warn(f'feed: no "{key}" (the spec strongly recommends it)', ref)
        elif not isinstance(doc[key], str):
            report.error(f'feed: "{key}" is a {json_type(doc[key])} (expected a URL string)', ref)
        else:
            _check_url(doc[key], "feed: ", key, report, ref)
    feed.keys(doc, "feed", "feed: ", report)
    for key in _FEED_STRINGS:
        if key in doc and not isinstance(doc[key], str) and key in KEYS[feed.version]["feed"]:
            report.error(f'feed: "{key}" is a {json_type(doc[key])} (expected a string)', ref)
    feed.plain_text(doc, "feed", "feed: ", report)
    if feed.version == "1.1" and isinstance(doc.get("language"), str) and language_problem(doc["language"]):
        report.error(f'feed: "language" {quote(doc["language"])} {language_problem(doc["language"])}', ref)
    if "expired" in doc and not isinstance(doc["expired"], bool):
        report.error(f'feed: "expired" is a {json_type(doc["expired"])} (expected true or false)', ref)
    _check_authors(doc, "feed: ", feed, report)
    if "hubs" in doc:
        hubs = doc["hubs"]
        if not isinstance(hubs, list):
            report.error(f'feed: "hubs" is a {json_type(hubs)} (expected an array)', ref)
        else:
            for j, hub in enumerate(hubs, 1):
                if not isinstance(hub, dict) or not isinstance(hub.get("type"), str) \
                        or not isinstance(hub.get("url"), str):
                    report.error(f'feed: hub {j} (expected an object with string "type" and "url")', ref)
                else:
                    feed.keys(hub, "hub", f"feed: hub {j} ", report)
                    _check_url(hub["url"], "feed: ", f"hubs[{j}].url", report, ref)


def _check_authors(obj: dict, where: str, feed: _Feed, report: Report) -> None:
    """1.0's "author" object, and 1.1's "authors" array. 1.1 deprecates "author" alone and lets a feed
    keep it beside "authors" for older readers, telling readers to prefer "authors"."""
    ref = f"{feed.spec} authors"
    authors = obj.get("authors") if feed.version == "1.1" else None
    if "author" in obj:
        if feed.version == "1.1" and "authors" not in obj:
            report.warn(f'{where}"author" is deprecated in JSON Feed 1.1 (expected "authors", an array)', ref)
        if not isinstance(obj["author"], dict):
            report.error(f'{where}"author" is a {json_type(obj["author"])} (expected an object)', ref)
        else:
            _check_author(obj["author"], f'{where}"author" ', feed, report, ref)
            if isinstance(authors, list) and authors and obj["author"] != authors[0]:
                report.warn(f'{where}"author" differs from the first of "authors": readers that know only '
                            'JSON Feed 1.0 show another author than the rest (valid: 1.1 readers prefer "authors")',
                            ref)
    if authors is None and "authors" not in obj or feed.version == "1.0":
        return
    if not isinstance(authors, list):
        report.error(f'{where}"authors" is a {json_type(authors)} (expected an array of objects)', ref)
        return
    for j, author in enumerate(authors, 1):
        if not isinstance(author, dict):
            report.error(f"{where}author {j} is a {json_type(author)} (expected an object)", ref)
            continue
        _check_author(author, f"{where}author {j} ", feed, report, ref)


def _check_author(author: dict, where: str, feed: _Feed, report: Report, ref: str) -> None:
    if not any(k in author for k in ("name", "url", "avatar")):
        report.error(f'{where}has none of "name", "url", "avatar" (expected at least one)', ref)
    for k in ("name", "url", "avatar"):
        if k in author and not isinstance(author[k], str):
            report.error(f'{where}"{k}" is a {json_type(author[k])} (expected a string)', ref)
    for k in ("url", "avatar"):
        if isinstance(author.get(k), str):
            _check_url(author[k], where, k, report, ref)
    feed.keys(author, "author", where, report)
    feed.plain_text(author, "author", where, report)


def check_item(item: Any, index: int, feed: _Feed, report: Report, seen: dict[str, int]) -> None:
    ref = f"{feed.spec} items"
    if not isinstance(item, dict):
        report.error(f"item {index}: is a {json_type(item)} (expected an object)", ref)
        return
    ident = item.get("id")
    if feed.version == "1.0" and isinstance(ident, (int, float)) and not isinstance(ident, bool):
        report.warn(f'item {index}: "id" is a number {json.dumps(ident)}, which readers turn into a string '
                    "(expected a string)", ref)
        ident = json.dumps(ident)
    where = f"item {index} ({ident}): " if isinstance(ident, str) and ident else f"item {index}: "
    if "id" not in item:
        report.error(f'{where}no "id" (expected a unique string)', ref)
    elif not isinstance(ident, str):
        report.error(f'{where}"id" is a {json_type(ident)} {json.dumps(ident)} (expected a string)', ref)
    elif not ident.strip():
        report.error(f'{where}"id" is empty (expected a unique string)', ref)
    elif ident in seen:
        report.error(f'{where}"id" {quote(ident)} is also the id of item {seen[ident]} (expected unique ids)', ref)
    else:
        seen[ident] = index
    if "content_html" not in item and "content_text" not in item:
        report.error(f'{where}has neither "content_html" nor "content_text" (expected at least one)', ref)
    feed.keys(item, "item", where, report)
    for key in _ITEM_STRINGS:
        if key in item and not isinstance(item[key], str) and key in KEYS[feed.version]["item"]:
            report.error(f'{where}"{key}" is a {json_type(item[key])} (expected a string)', ref)
    feed.plain_text(item, "item", where, report)
    for key in ("url", "external_url", "image", "banner_image"):
        if isinstance(item.get(key), str):
            _check_url(item[key], where, key, report, ref)
    if feed.version == "1.1" and isinstance(item.get("language"), str) and language_problem(item["language"]):
        report.error(f'{where}"language" {quote(item["language"])} {language_problem(item["language"])}', ref)
    _check_item_dates(item, where, feed, report)
    if "tags" in item and not (isinstance(item["tags"], list) and all(isinstance(t, str) for t in item["tags"])):
        report.error(f'{where}"tags" (expected an array of strings)', ref)
    _check_authors(item, where, feed, report)
    if "attachments" in item:
        _check_attachments(item["attachments"], where, feed, report)


def _check_item_dates(item: dict, where: str, feed: _Feed, report: Report) -> None:
    ref = f"{feed.spec} items ({'RFC 3339' if feed.version == '1.1' else 'ISO 8601, W3C profile'})"
    dates = {}
    for key in ("date_published", "date_modified"):
        if key not in item:
            continue
        value = item[key]
        if not isinstance(value, str):
            expected = "an RFC 3339 string" if feed.version == "1.1" else "an ISO 8601 string"
            report.error(f'{where}"{key}" is a {json_type(value)} (expected {expected})', ref)
            continue
        check = feed.date(value)
        for p in check.errors:
            report.error(f'{where}"{key}" {quote(value)} {p}', ref)
        if not check.errors:
            dates[key] = check.when
            if report.offset and check.zone and not report.offset.matches_rfc3339(check.zone):
                report.house(f'{where}"{key}" {quote(value)} has offset {check.zone} (expected '
                             f"{report.offset.rfc3339}, the site's UTC offset)", "--expect-offset")
    if "date_published" not in item:
        report.warn(f'{where}no "date_published" (readers cannot order it)', f"{feed.spec} items")
    if "date_published" in dates and "date_modified" in dates and dates["date_modified"] < dates["date_published"]:
        report.warn(f'{where}"date_modified" is earlier than "date_published"', f"{feed.spec} items")


def _check_attachments(attachments: Any, where: str, feed: _Feed, report: Report) -> None:
    ref = f"{feed.spec} attachments"
    if not isinstance(attachments, list):
        report.error(f'{where}"attachments" is a {json_type(attachments)} (expected an array)', ref)
        return
    for j, att in enumerate(attachments, 1):
        if not isinstance(att, dict):
            report.error(f"{where}attachment {j} is a {json_type(att)} (expected an object)", ref)
            continue
        url, mime = att.get("url"), att.get("mime_type")
        if not isinstance(url, str):
            report.error(f'{where}attachment {j} "url" is missing or not a string (expected an absolute URL)', ref)
        else:
            _check_url(url, f"{where}attachment {j} ", "url", report, ref)
        if not isinstance(mime, str) or mime_problem(mime):
            report.error(f'{where}attachment {j} "mime_type" '
                         + (quote(mime) if isinstance(mime, str) else "is missing or not a string")
                         + " (expected a MIME type like image/jpeg)", ref)
        if "title" in att and not isinstance(att["title"], str):
            report.error(f'{where}attachment {j} "title" is a {json_type(att["title"])} (expected a string)', ref)
        for k in ("size_in_bytes", "duration_in_seconds"):
            if k in att and (isinstance(att[k], bool) or not isinstance(att[k], (int, float))):
                report.error(f'{where}attachment {j} "{k}" is a {json_type(att[k])} (expected a number)', ref)
        feed.keys(att, "attachment", f"{where}attachment {j} ", report)
        feed.plain_text(att, "attachment", f"{where}attachment {j} ", report)

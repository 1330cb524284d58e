"""JSON Feed 1.1 (jsonfeed.org/version/1.1): top-level members, items, authors, attachments.

A .json file that does not name a JSON Feed version is reported as
unidentified, not skipped.
"""
from __future__ import annotations

import json
from typing import Any

from ..limits import depth_problem
from .common import C1, line_col
from .dates import rfc3339
from .report import Report, quote
from .values import absolute_uri_problem, http_problem, language_problem, mime_problem

__all__ = ["JSONFEED_VERSION", "check_jsonfeed"]

JSONFEED_VERSION = "https://jsonfeed.org/version/1.1"
SPEC = "JSON Feed 1.1"
_FEED_STRINGS = ("description", "user_comment", "next_url", "icon", "favicon", "language")
_ITEM_STRINGS = ("content_html", "content_text", "url", "external_url", "title", "summary", "image",
                 "banner_image", "language")


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
                     f"{quote(JSONFEED_VERSION)})", f"{SPEC} top-level")
        return "unknown"
    version = doc.get("version")
    if not (isinstance(version, str) and version.startswith(("https://jsonfeed.org/version/",
                                                             "http://jsonfeed.org/version/"))):
        report.error('cannot be identified as a JSON Feed: no "version" naming https://jsonfeed.org/version/… '
                     f"(expected a JSON object with \"version\": {quote(JSONFEED_VERSION)})", f"{SPEC} version")
        return "unknown"
    m = C1.search(text)
    if m:
        report.house(f"{line_col(text, m.start())}: C1 control character U+{ord(m.group()):04X} "
                     "(expected none; text decoded with the wrong codec?)", "no C1 controls")
    check_top(doc, report)
    items = doc.get("items")
    if isinstance(items, list):
        seen: dict[str, int] = {}
        for i, item in enumerate(items, 1):
            check_item(item, i, report, seen)
    return "jsonfeed"


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


def check_top(doc: dict, report: Report) -> None:
    ref = f"{SPEC} top-level"
    version = doc.get("version")
    if version != JSONFEED_VERSION:
        report.error(f'feed: "version" is {quote(str(version))} (expected {quote(JSONFEED_VERSION)})', ref)
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
    for key in _FEED_STRINGS:
        if key in doc and not isinstance(doc[key], str):
            report.error(f'feed: "{key}" is a {json_type(doc[key])} (expected a string)', ref)
    if isinstance(doc.get("language"), str) and language_problem(doc["language"]):
        report.error(f'feed: "language" {quote(doc["language"])} {language_problem(doc["language"])}', ref)
    if "expired" in doc and not isinstance(doc["expired"], bool):
        report.error(f'feed: "expired" is a {json_type(doc["expired"])} (expected true or false)', ref)
    _check_authors(doc, "feed: ", report)
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
                    _check_url(hub["url"], "feed: ", f"hubs[{j}].url", report, ref)


def _check_authors(obj: dict, where: str, report: Report) -> None:
    """JSON Feed 1.1 lets a feed keep 1.0's "author" beside "authors" for older readers; alone it is
    deprecated, and beside "authors" it must name the same first author."""
    ref = f"{SPEC} authors"
    authors = obj.get("authors")
    if "author" in obj:
        if "authors" not in obj:
            report.warn(f'{where}"author" is deprecated in JSON Feed 1.1 (expected "authors", an array)', ref)
        if not isinstance(obj["author"], dict):
            report.error(f'{where}"author" is a {json_type(obj["author"])} (expected an object)', ref)
        else:
            _check_author(obj["author"], f'{where}"author" ', report, ref)
            if isinstance(authors, list) and authors and obj["author"] != authors[0]:
                report.error(f'{where}"author" differs from the first of "authors" '
                             "(expected the same author, kept for JSON Feed 1.0 readers)", ref)
    if "authors" not in obj:
        return
    if not isinstance(authors, list):
        report.error(f'{where}"authors" is a {json_type(authors)} (expected an array of objects)', ref)
        return
    for j, author in enumerate(authors, 1):
        if not isinstance(author, dict):
            report.error(f"{where}author {j} is a {json_type(author)} (expected an object)", ref)
            continue
        _check_author(author, f"{where}author {j} ", report, ref)


def _check_author(author: dict, where: str, report: Report, ref: str) -> None:
    if not any(k in author for k in ("name", "url", "avatar")):
        report.error(f'{where}has none of "name", "url", "avatar" (expected at least one)', ref)
    for k in ("name", "url", "avatar"):
        if k in author and not isinstance(author[k], str):
            report.error(f'{where}"{k}" is a {json_type(author[k])} (expected a string)', ref)
    for k in ("url", "avatar"):
        if isinstance(author.get(k), str):
            _check_url(author[k], where, k, report, ref)


def check_item(item: Any, index: int, report: Report, seen: dict[str, int]) -> None:
    ref = f"{SPEC} items"
    if not isinstance(item, dict):
        report.error(f"item {index}: is a {json_type(item)} (expected an object)", ref)
        return
    ident = item.get("id")
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
    for key in _ITEM_STRINGS:
        if key in item and not isinstance(item[key], str):
            report.error(f'{where}"{key}" is a {json_type(item[key])} (expected a string)', ref)
    for key in ("url", "external_url", "image", "banner_image"):
        if isinstance(item.get(key), str):
            _check_url(item[key], where, key, report, ref)
    if isinstance(item.get("language"), str) and language_problem(item["language"]):
        report.error(f'{where}"language" {quote(item["language"])} {language_problem(item["language"])}', ref)
    _check_item_dates(item, where, report)
    if "tags" in item and not (isinstance(item["tags"], list) and all(isinstance(t, str) for t in item["tags"])):
        report.error(f'{where}"tags" (expected an array of strings)', ref)
    _check_authors(item, where, report)
    if "attachments" in item:
        _check_attachments(item["attachments"], where, report)


def _check_item_dates(item: dict, where: str, report: Report) -> None:
    ref = f"{SPEC} items (RFC 3339)"
    dates = {}
    for key in ("date_published", "date_modified"):
        if key not in item:
            continue
        value = item[key]
        if not isinstance(value, str):
            report.error(f'{where}"{key}" is a {json_type(value)} (expected an RFC 3339 string)', ref)
            continue
        check = rfc3339(value, upper=False)
        for p in check.errors:
            report.error(f'{where}"{key}" {quote(value)} {p}', ref)
        if not check.errors:
            dates[key] = check.when
            if report.offset and check.zone and not report.offset.matches_rfc3339(check.zone):
                report.house(f'{where}"{key}" {quote(value)} has offset {check.zone} (expected '
                             f"{report.offset.rfc3339}, the site's UTC offset)", "--expect-offset")
    if "date_published" not in item:
        report.warn(f'{where}no "date_published" (readers cannot order it)', f"{SPEC} items")
    if "date_published" in dates and "date_modified" in dates and dates["date_modified"] < dates["date_published"]:
        report.warn(f'{where}"date_modified" is earlier than "date_published"', f"{SPEC} items")


def _check_attachments(attachments: Any, where: str, report: Report) -> None:
    ref = f"{SPEC} attachments"
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

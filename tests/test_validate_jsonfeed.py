"""JSON Feed 1.0 and 1.1, each by its own rules: feeds written from the two specifications.

JSON Feed 1.1 says a 1.0 feed stays valid forever. The generated cases come from the checker's
own tables (KEYS: the fields each version defines per kind of object; PLAIN_TEXT: the fields
that hold plain text), so a field added there is covered here.
"""
from __future__ import annotations

import copy
import json

import pytest

from feedpub.validate import validate_bytes
from feedpub.validate.jsonfeed import KEYS, PLAIN_TEXT, VERSIONS

V10, V11 = "https://jsonfeed.org/version/1", "https://jsonfeed.org/version/1.1"

# The example of jsonfeed.org/version/1, with an author, a date to the minute as the W3C's
# profile of ISO 8601 allows, and a podcast attachment.
FEED_1_0 = {
    "version": V10,
    "title": "My Example Feed",
    "home_page_url": "https://example.org/",
    "feed_url": "https://example.org/feed.json",
    "author": {"name": "Brent", "url": "https://example.org/brent"},
    "items": [
        {"id": "2", "content_text": "This is a second item.", "url": "https://example.org/second-item",
         "date_published": "2017-05-17T10:02-05:00"},
        {"id": "1", "content_html": "<p>Hello, world!</p>", "url": "https://example.org/initial-post",
         "summary": "The first post.", "date_published": "2017-05-16T08:00:00.5Z", "date_modified": "2017-05-18",
         "tags": ["hello"], "author": {"name": "Manton"},
         "attachments": [{"url": "https://example.org/1.mp3", "mime_type": "audio/mpeg", "size_in_bytes": 89970,
                          "duration_in_seconds": 6629}]},
    ],
}
FEED_1_1 = {
    "version": V11,
    "title": "My Example Feed",
    "home_page_url": "https://example.org/",
    "feed_url": "https://example.org/feed.json",
    "language": "en-US",
    "authors": [{"name": "Brent"}],
    "hubs": [{"type": "WebSub", "url": "https://hub.example.org/"}],
    "items": [
        {"id": "1", "content_html": "<p>Hello, world!</p>", "url": "https://example.org/initial-post",
         "summary": "The first post.", "date_published": "2017-05-16T08:00:00Z", "language": "en",
         "authors": [{"name": "Manton"}], "_blue_shed": {"explicit": False},
         "attachments": [{"url": "https://example.org/1.mp3", "mime_type": "audio/mpeg", "title": "Episode 1"}]},
    ],
}
FEEDS = {"1.0": FEED_1_0, "1.1": FEED_1_1}


def findings(doc: dict, *, spec_only: bool = True) -> list[tuple[str, str]]:
    data = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    return [(f.label, f.message) for f in validate_bytes(data, "feed.json", spec_only=spec_only).findings]


def test_both_example_feeds_are_valid_by_their_own_version():
    assert findings(FEED_1_0) == []
    assert findings(FEED_1_1) == []


def test_a_1_0_feed_is_not_rejected_for_its_version_only_reminded_that_feedpub_writes_1_1():
    assert findings(FEED_1_0, spec_only=False) == [
        ("feedpub rule", 'is JSON Feed 1.0 (feedpub writes 1.1: expected "version": '
                         '"https://jsonfeed.org/version/1.1")')]


def test_1_0_rules_author_is_its_field_ids_are_coerced_dates_are_the_w3c_profile():
    doc = copy.deepcopy(FEED_1_0)
    doc["items"][0]["id"] = 2
    doc["items"][1]["date_published"] = "16/05/2017"
    assert findings(doc) == [
        ("warning", 'item 1: "id" is a number 2, which readers turn into a string (expected a string)'),
        ("error", 'item 2 (1): "date_published" "16/05/2017" is not an ISO 8601 date (expected the W3C profile, '
                  "e.g. 2021-12-02T23:30:00+07:00 or 2021-12-02)")]
    newer = copy.deepcopy(FEED_1_1)
    newer["items"][0]["id"] = 2
    newer["items"][0]["date_published"] = "2017-05-16"
    assert findings(newer) == [
        ("error", 'item 1: "id" is a number 2 (expected a string)'),
        ("error", 'item 1: "date_published" "2017-05-16" is not an RFC 3339 date-time (expected e.g. '
                  "2021-12-02T23:30:00+07:00)")]


@pytest.mark.parametrize("kind", ["feed", "item"])
@pytest.mark.parametrize("key", sorted(KEYS["1.1"]["item"] - KEYS["1.0"]["item"]))
def test_a_1_1_field_in_a_1_0_feed_is_a_warning_not_an_error(kind, key):
    doc = copy.deepcopy(FEED_1_0)
    target = doc if kind == "feed" else doc["items"][0]
    target[key] = [{"name": "An"}] if key == "authors" else "vi"
    where = "feed: " if kind == "feed" else "item 1 (2): "
    assert findings(doc) == [
        ("warning", f'{where}"{key}" is a JSON Feed 1.1 field, which JSON Feed 1.0 does not define: readers of '
                    "1.0 ignore it (expected the version that defines it)")]


def _objects(doc: dict, version: str) -> dict[str, dict]:
    """The object of each kind KEYS names, inside a copy of the version's example feed."""
    item = doc["items"][-1]
    if version == "1.0":
        author = item.setdefault("author", {"name": "An"})
    else:
        author = item.setdefault("authors", [{"name": "An"}])[0]
    doc.setdefault("hubs", [{"type": "WebSub", "url": "https://hub.example.org/"}])
    return {"feed": doc, "item": item, "author": author, "attachment": item["attachments"][0], "hub": doc["hubs"][0]}


@pytest.mark.parametrize("version, kind", [(v, k) for v in sorted(KEYS) for k in sorted(KEYS[v])])
def test_a_custom_field_needs_the_underscore_prefix_in_every_object(version, kind):
    doc = copy.deepcopy(FEEDS[version])
    _objects(doc, version)[kind]["custom_field"] = "x"
    found = [(label, m) for label, m in findings(doc) if label == "error"]
    assert len(found) == 1 and found[0][1].endswith(
        f'"custom_field" is not a JSON Feed {version} field (expected the spec\'s fields, or a custom one named '
        '"_" and a letter, e.g. "_custom_field")'), found
    doc = copy.deepcopy(FEEDS[version])
    _objects(doc, version)[kind]["_custom"] = {"about": "https://example.org/ext"}
    assert findings(doc) == []


def test_a_misspelt_field_is_named_and_an_extension_name_must_start_with_a_letter():
    doc = copy.deepcopy(FEED_1_1)
    doc["items"][0]["date_publish"] = "2017-05-16T08:00:00Z"
    doc["items"][0]["_1password"] = {}
    assert findings(doc) == [
        ("error", 'item 1 (1): "date_publish" is not a JSON Feed 1.1 field; did you mean "date_published"? (expected '
                  'the spec\'s fields, or a custom one named "_" and a letter, e.g. "_date_publish")'),
        ("error", 'item 1 (1): the extension "_1password" is not a valid name (expected "_" and a letter, and no '
                  '".", e.g. "_blue_shed")')]


@pytest.mark.parametrize("version, kind, key", [(v, k, f) for v in sorted(KEYS) for k, fields in PLAIN_TEXT.items()
                                                for f in fields if f in KEYS[v][k]])
def test_html_in_a_plain_text_field_is_reported(version, kind, key):
    """The spec: "the only place HTML is allowed in this format is in content_html"."""
    doc = copy.deepcopy(FEEDS[version])
    obj = _objects(doc, version)[kind]
    obj[key] = "Giá lúa <b>tăng</b>"
    if key == "content_text":
        obj.pop("content_html", None)
    found = findings(doc)
    assert len(found) == 1 and found[0][0] == "warning", found
    assert found[0][1].endswith(f'"{key}" contains "<b>", which readers show as it is: it is plain text '
                                "(expected HTML only in content_html)")


def test_html_in_an_item_summary_the_issue_shape():
    doc = copy.deepcopy(FEED_1_1)
    doc["items"][0]["summary"] = '<p>Giá lúa <a href="https://example.org/gia">tăng</a></p>'
    doc["items"][0]["tags"] = ["<i>Kinh tế</i>"]
    assert findings(doc) == [
        ("warning", 'item 1 (1): "summary" contains "<p>", which readers show as it is: it is plain text '
                    "(expected HTML only in content_html)"),
        ("warning", 'item 1 (1): tag "<i>Kinh tế</i>" contains "<i>", which readers show as it is: it is plain '
                    "text (expected HTML only in content_html)")]


def test_versions_known_and_a_near_miss():
    assert set(VERSIONS.values()) == set(KEYS)
    doc = dict(FEED_1_0, version="http://jsonfeed.org/version/1")
    assert findings(doc) == [
        ("error", 'feed: "version" is "http://jsonfeed.org/version/1" (expected exactly '
                  '"https://jsonfeed.org/version/1": readers compare the string)')]
    future = dict(FEED_1_1, version="https://jsonfeed.org/version/1.2")
    assert findings(future) == [
        ("warning", 'feed: "version" is "https://jsonfeed.org/version/1.2", a version this checker does not know '
                    '(expected "https://jsonfeed.org/version/1" or "https://jsonfeed.org/version/1.1"; checked by '
                    "1.1's rules)")]

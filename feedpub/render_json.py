"""Serialize a Feed as JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/)."""
from __future__ import annotations

import msgspec

from .dates import write_date
from .model import Feed

VERSION = "https://jsonfeed.org/version/1.1"
EXTENSION = "_feedpub"      # JSON Feed extensions start with an underscore


def render_json(feed: Feed) -> bytes:
    """Same items, ids, order and dates as the XML feeds; translations in the _feedpub extension."""
    doc: dict = {
        "version": VERSION,
        "title": feed.title,
        "home_page_url": feed.link,
        "feed_url": feed.urls.json,
        "description": feed.description,
        "language": feed.lang,
        "authors": [{"name": feed.author}] if feed.author else [],
    }
    if feed.hub:
        doc["hubs"] = [{"type": "WebSub", "url": feed.hub}]
    doc["items"] = [_item(entry) for entry in feed.entries]
    return msgspec.json.format(msgspec.json.encode(doc), indent=2) + b"\n"


def _item(entry) -> dict:
    a = entry.article
    item: dict = {"id": entry.guid, "url": a.url, "title": a.title}
    if a.content:
        item["content_html"] = a.content
    else:
        item["content_text"] = a.summary or a.title
    if a.summary:
        item["summary"] = a.summary
    if a.image:
        item["image"] = a.image.url
    item["date_published"] = write_date(a.published, "rfc3339")
    item["date_modified"] = write_date(a.updated, "rfc3339")
    if a.author:
        author = {"name": a.author.name}
        if a.author.uri:
            author["url"] = a.author.uri
        item["authors"] = [author]
        item["author"] = author     # JSON Feed 1.0's field, which 1.1 lets feeds keep for older readers
    if a.categories:
        item["tags"] = list(a.categories)
    item["language"] = a.lang
    if a.image:
        attachment = {"url": a.image.url, "mime_type": a.image.type or "image/jpeg"}
        if a.image.caption:
            attachment["title"] = a.image.caption
        if a.image.length is not None:
            attachment["size_in_bytes"] = a.image.length
        item["attachments"] = [attachment]
    if entry.translations:
        item[EXTENSION] = {"translations": [{"language": t.lang, "url": t.url, **({"title": t.title} if t.title else {})}
                                            for t in entry.translations]}
    return item

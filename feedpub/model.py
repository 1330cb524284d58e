"""Typed values that flow through feedpub: validated articles and per-language feed models.

Everything here is frozen and carries aware datetimes only; the serializers
(render_*.py) turn a Feed into bytes and never see a raw record.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timezone

EMPTY_SITE_DATE = datetime(2000, 1, 1, tzinfo=timezone.utc)   # "updated" of feeds when the site has nothing published

# An image's type by its file extension: a fixed table, not the system's mime.types, so the same
# records give the same feeds on every machine (and the preview server the same headers).
IMAGE_TYPES = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".jpe": "image/jpeg", ".jfif": "image/jpeg", ".png": "image/png",
    ".gif": "image/gif", ".webp": "image/webp", ".avif": "image/avif", ".svg": "image/svg+xml", ".bmp": "image/bmp",
    ".tif": "image/tiff", ".tiff": "image/tiff", ".ico": "image/vnd.microsoft.icon", ".heic": "image/heic",
    ".heif": "image/heif", ".jxl": "image/jxl",
}


@dataclass(frozen=True, slots=True)
class Author:
    name: str
    email: str | None = None
    uri: str | None = None


@dataclass(frozen=True, slots=True)
class Image:
    url: str                      # absolute http(s) URL
    caption: str | None = None    # plain text
    type: str | None = None       # MIME type, e.g. image/jpeg
    length: int | None = None     # bytes, when known


@dataclass(frozen=True, slots=True)
class Article:
    """One validated record: every field checked, text cleaned, URLs absolute."""

    id: str
    lang: str
    title: str                    # plain text
    url: str                      # absolute http(s) URL
    published: datetime           # aware
    updated: datetime             # aware, defaults to published
    summary: str | None = None    # plain text
    content: str | None = None    # HTML
    author: Author | None = None
    categories: tuple[str, ...] = ()
    image: Image | None = None
    translation_key: str | None = None
    draft: bool = False
    source: str = ""              # file the record came from, relative to the site
    line: int = 0                 # line (JSONL) or record index (JSON) in that file


RECORD_FIELDS = tuple(f.name for f in fields(Article) if f.name not in ("source", "line"))
"""Every field of a record, in order: an Article's fields but where it came from."""


@dataclass(frozen=True, slots=True)
class Translation:
    """Another language version of the same story (same translation_key)."""

    lang: str
    url: str
    title: str


@dataclass(frozen=True, slots=True)
class Entry:
    article: Article
    guid: str                     # stable id: base_url + record id, never the title or URL
    translations: tuple[Translation, ...] = ()


@dataclass(frozen=True, slots=True)
class FeedUrls:
    """Absolute URLs where the feeds of one language (or category) are published."""

    rss: str
    atom: str
    json: str
    page: str                     # the human-readable feed page (index.html)


@dataclass(frozen=True, slots=True)
class Feed:
    """One language's (or one category's) feed, ready to serialize in any format."""

    lang: str
    title: str
    description: str
    link: str                     # the language's home page (not the feed)
    id: str                       # Atom feed id, stable
    urls: FeedUrls
    updated: datetime             # newest included entry's update time, never the wall clock
    entries: tuple[Entry, ...]    # newest first
    author: str | None = None
    copyright: str | None = None
    hub: str | None = None        # WebSub hub URL
    category: str | None = None   # set for a category feed
    category_slug: str | None = None
    stylesheet: str | None = None # URL of the CSS that makes the XML readable in a browser
    site_title: str = ""
    generator_version: str = ""

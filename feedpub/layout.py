"""Where everything lives in OUT: feed folders, file names and their public URLs (pure).

The only module that spells out the output layout; feeds, pages, the run and
the preview server all ask here. Which of those files feedpub itself wrote is
the manifest's business (manifest.py).

    OUT/index.html  feeds.opml  feed.css
    OUT/<lang>/rss.xml  atom.xml  feed.json  index.html
    OUT/<lang>/categories/<slug>/rss.xml  atom.xml  feed.json  index.html
    OUT/.feedpub/   the manifest and the cache (never published)
"""
from __future__ import annotations

from dataclasses import dataclass

from .model import FeedUrls

__all__ = ["FEED_FILES", "FORMATS", "INDEX", "KINDS", "OPML", "PRIVATE_DIR", "STYLESHEET", "FeedFormat", "FileKind",
           "feed_dir", "feed_files", "feed_urls", "is_feed_file", "kind_of", "stylesheet_href"]

INDEX = "index.html"          # the human-readable page of a feed folder, and of OUT itself
OPML = "feeds.opml"
STYLESHEET = "feed.css"
PRIVATE_DIR = ".feedpub"      # manifest and cache: under OUT, never published


@dataclass(frozen=True, slots=True)
class FeedFormat:
    key: str                  # attribute of model.FeedUrls
    name: str                 # as pages name it
    file: str                 # file name inside a feed folder
    media_type: str           # what readers expect to be served


FORMATS = (
    FeedFormat("rss", "RSS", "rss.xml", "application/rss+xml"),
    FeedFormat("atom", "Atom", "atom.xml", "application/atom+xml"),
    FeedFormat("json", "JSON Feed", "feed.json", "application/feed+json"),
)
FEED_FILES = frozenset(f.file for f in FORMATS)


def feed_dir(lang: str, slug: str | None = None) -> str:
    """Folder of a language's feed, or of one of its category feeds, relative to OUT."""
    return f"{lang}/categories/{slug}" if slug else lang


def feed_files(lang: str, slug: str | None = None) -> dict[str, str]:
    """Format key -> path relative to OUT, for one feed (plus "page" for its index.html)."""
    base = feed_dir(lang, slug)
    return {**{f.key: f"{base}/{f.file}" for f in FORMATS}, "page": f"{base}/{INDEX}"}


def is_feed_file(relpath: str) -> bool:
    """True for an RSS, Atom or JSON Feed file as feedpub names them."""
    return relpath.rsplit("/", 1)[-1] in FEED_FILES and "/" in relpath


def stylesheet_href(lang: str, slug: str | None = None) -> str:
    """The stylesheet, relative to a feed folder, so a feed reads well wherever OUT is served."""
    return "../" * (feed_dir(lang, slug).count("/") + 1) + STYLESHEET


def feed_urls(feeds_url: str, lang: str, slug: str | None = None) -> FeedUrls:
    """Where one feed's files are published: feeds_url (OUT as the world sees it) plus their paths."""
    return FeedUrls(**{key: f"{feeds_url}/{rel}" for key, rel in feed_files(lang, slug).items()})


@dataclass(frozen=True, slots=True)
class FileKind:
    """One kind of file feedpub publishes: the name it has in OUT, the media type it is served as
    (UTF-8, always), and how long a cache may keep it by default (an object store's
    Cache-Control; [publish.cache_control] sets it per kind, by key)."""

    key: str                  # names the kind in [publish.cache_control]
    file: str                 # the file name every file of this kind has
    media_type: str
    cache_control: str


FEED_CACHE_CONTROL = "public, max-age=300"        # a reader sees a new item within five minutes
KINDS = (
    *(FileKind(f.key, f.file, f.media_type, FEED_CACHE_CONTROL) for f in FORMATS),
    FileKind("page", INDEX, "text/html", FEED_CACHE_CONTROL),
    FileKind("opml", OPML, "text/x-opml", "public, max-age=3600"),
    FileKind("stylesheet", STYLESHEET, "text/css", "public, max-age=86400"),   # changes only with feedpub
)
_KIND_BY_FILE = {kind.file: kind for kind in KINDS}


def kind_of(relpath: str) -> FileKind:
    """The kind of a file feedpub publishes, from its name (KeyError for a name feedpub never writes)."""
    return _KIND_BY_FILE[relpath.rsplit("/", 1)[-1]]

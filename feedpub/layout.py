"""Where everything lives in OUT: feed folders, file names and their public URLs (pure).

The only module that spells out the output layout; feeds, pages, the run and
the preview server all ask here. Which of those files feedpub itself wrote is
the manifest's business (manifest.py).

    OUT/index.html  feeds.opml  feed.css
    OUT/<lang>/rss.xml  atom.xml  feed.json  index.html
    OUT/<lang>/categories/<slug>/rss.xml  atom.xml  feed.json  index.html
    OUT/.feedpub/   the manifest and the cache (never published)
    OUT/.feedpub.lock   held while a run publishes

`out_paths` lists every one of them for a given site, with its kind: the
tests that put a hostile file in each place iterate over it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from .model import FeedUrls

__all__ = ["CACHE_JOURNALS", "FEED_FILES", "FORMATS", "INDEX", "KINDS", "LEGACY_CACHE", "LOCK_NAME", "MANIFEST",
           "OPML", "PRIVATE_DIR", "STATE_NAME", "STYLESHEET", "TEMP_NAME", "TMP_SUFFIX", "FeedFormat", "FileKind",
           "OutPath", "feed_dir", "feed_files", "feed_urls", "is_feed_file", "kind_of", "out_paths", "stylesheet_href",
           "temp_name"]

INDEX = "index.html"          # the human-readable page of a feed folder, and of OUT itself
OPML = "feeds.opml"
STYLESHEET = "feed.css"
PRIVATE_DIR = ".feedpub"      # manifest and cache: under OUT, never published
MANIFEST = f"{PRIVATE_DIR}/manifest.json"     # the files feedpub published here (manifest.py)
STATE_NAME = f"{PRIVATE_DIR}/state.sqlite"    # the cache, unless --state puts it elsewhere (cache.py)
LEGACY_CACHE = STATE_NAME     # where a feedpub that kept no manifest listed what it published
CACHE_JOURNALS = ("-journal", "-wal", "-shm")   # the files SQLite keeps beside a database
LOCK_NAME = f"{PRIVATE_DIR}.lock"             # held while a run publishes (publish.py)
TMP_SUFFIX = f"{PRIVATE_DIR}-tmp"             # a file being written: .NAME.PID.feedpub-tmp beside NAME
TEMP_NAME = re.compile(r"\..+\.[0-9]+" + re.escape(TMP_SUFFIX))


def temp_name(name: str, pid: int) -> str:
    """The temporary file beside `name` that process `pid` writes before renaming it into place."""
    return f".{name}.{pid}{TMP_SUFFIX}"


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


@dataclass(frozen=True, slots=True)
class OutPath:
    path: str                 # relative to OUT, POSIX
    kind: str                 # one of OUT_KINDS


OUT_KINDS = ("folder", "feed", "page", "site file", "private folder", "manifest", "cache", "cache journal",
             "lock", "temp")


def out_paths(feeds: Iterable[tuple[str, str | None]], pid: int) -> list[OutPath]:
    """Every path the OUT of a site with these feeds ((language, category slug or None) pairs) holds
    or may hold while a run by process `pid` publishes, each with its kind: the folders, every
    feed's files and page, the site's own files, the private folder with the manifest and the
    cache (and the journals SQLite keeps beside it), the lock, and the temporary names."""
    found: dict[str, str] = {}
    files: list[str] = [INDEX, OPML, STYLESHEET]
    for lang, slug in sorted(set(feeds), key=lambda f: (f[0], f[1] or "")):
        base = feed_dir(lang, slug)
        parts = base.split("/")
        for depth in range(1, len(parts) + 1):
            found.setdefault("/".join(parts[:depth]), "folder")
        for key, rel in feed_files(lang, slug).items():
            found[rel] = "page" if key == "page" else "feed"
            files.append(rel)
    found.update({INDEX: "page", OPML: "site file", STYLESHEET: "site file"})
    found[PRIVATE_DIR] = "private folder"
    found[MANIFEST] = "manifest"
    found[STATE_NAME] = "cache"
    found.update({STATE_NAME + suffix: "cache journal" for suffix in CACHE_JOURNALS})
    found[LOCK_NAME] = "lock"
    for rel in [*files, MANIFEST, STATE_NAME]:
        folder, _, name = rel.rpartition("/")
        found[f"{folder}/{temp_name(name, pid)}" if folder else temp_name(name, pid)] = "temp"
    return [OutPath(path, kind) for path, kind in sorted(found.items())]

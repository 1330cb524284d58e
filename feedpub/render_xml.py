"""Serialize a Feed as RSS 2.0 or Atom 1.0 bytes with feedgen.

This module and feedgen_traps.py are the only ones that import feedgen. feedgen 1.0.0's traps
(a feedgen default or a bug that would publish a wrong feed) are listed, each with its
workaround, in feedgen_traps.TRAPS; the workaround lives there or, where it is only a matter of
calling feedgen the right way, here at the call, named by the trap.

An article in a language feed and in its category feeds is the same item in each: with a
SharedEntries for the run, feedgen builds its RSS item and Atom entry once, and the other feeds
get copies of those elements (_Copied), which feedgen appends as it appends its own.
"""
from __future__ import annotations

import copy
import html
from collections import Counter
from functools import partial

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from .feedgen_traps import ATOM_NS, UNKNOWN_LENGTH, FixedEntry, add_hub_link, plain_titles, set_date
from .model import Entry, Feed

MEDIA_NS = "http://search.yahoo.com/mrss/"
DC_NS = "http://purl.org/dc/elements/1.1/"
GENERATOR_URI = "https://pypi.org/project/feedpub/"
RSS_DOCS = "https://www.rssboard.org/rss-specification"


class _Copied(FeedEntry):
    """An item or entry feedgen already built for another feed of the run: a fresh copy each time."""

    def __init__(self, element):
        super().__init__()
        self._element = element

    def atom_entry(self, extensions=True):
        return copy.deepcopy(self._element)

    rss_entry = atom_entry


class SharedEntries:
    """The elements built for entries that more than one of a run's feeds carry, each kept until
    its last feed has taken its copy (so memory holds only the entries still to be reused)."""

    def __init__(self, feeds):
        self._uses = Counter(id(entry) for feed in feeds for entry in feed.entries)
        self._left: dict[tuple[str, int], int] = {}
        self._built: dict[tuple[str, int], object] = {}

    def reuse(self, fmt: str, entry: Entry):
        """The element built for entry in this format by an earlier feed, or None."""
        key = (fmt, id(entry))
        element = self._built.get(key)
        if element is not None:
            self._left[key] -= 1
            if not self._left[key]:
                del self._built[key], self._left[key]
        return element

    def keeper(self, fmt: str, entry: Entry):
        """What to hand FixedEntry: stores its element when later feeds will want it."""
        left = self._uses[id(entry)] - 1
        if left < 1:
            return None
        return partial(self._store, (fmt, id(entry)), left)

    def _store(self, key, left: int, element) -> None:
        self._built[key], self._left[key] = element, left


class _FeedExtras(BaseExtension):
    """Stylesheet processing instruction; the feed's own date (date-strings) and, in RSS, the hub
    link (rss-one-atom-link)."""

    def __init__(self):
        self.stylesheet = None
        self.hub = None
        self.updated = None

    def extend_ns(self):
        return {}

    def extend_rss(self, rss):
        channel = rss.find("channel")
        set_date(channel.find("lastBuildDate"), self.updated, "rfc822")
        if self.hub:
            add_hub_link(channel, self.hub)
        self._stylesheet(rss)
        return rss

    def extend_atom(self, feed):
        set_date(feed.find("updated"), self.updated, "rfc3339")
        self._stylesheet(feed)
        return feed

    def _stylesheet(self, root):
        if self.stylesheet:
            root.addprevious(etree.PI("xml-stylesheet", f'type="text/css" href="{self.stylesheet}"'))


class _ItemExtras(BaseEntryExtension):
    """dc:creator (rss-name-only-author) and media:content (with the caption) inside an RSS item."""

    def __init__(self):
        self.creator = None
        self.image = None

    def extend_rss(self, item):
        if self.creator:
            etree.SubElement(item, f"{{{DC_NS}}}creator").text = self.creator
        if self.image:
            attrs = {"url": self.image.url, "medium": "image"}
            if self.image.type:
                attrs["type"] = self.image.type
            if self.image.length is not None:
                attrs["fileSize"] = str(self.image.length)
            content = etree.SubElement(item, f"{{{MEDIA_NS}}}content", attrs)
            if self.image.caption:
                etree.SubElement(content, f"{{{MEDIA_NS}}}description", type="plain").text = self.image.caption
        return item

    def extend_atom(self, entry):
        return entry


class _Namespaces(BaseExtension):
    def extend_ns(self):
        return {"dc": DC_NS, "media": MEDIA_NS}


def _generator(feed: Feed, self_type: str, self_url: str) -> FeedGenerator:
    fg = FeedGenerator()
    fg.register_extension("extras", _FeedExtras, _ItemExtras, atom=True, rss=True)
    fg.extras.stylesheet = feed.stylesheet
    fg.extras.hub = feed.hub
    fg.extras.updated = feed.updated
    fg.id(feed.id)
    fg.title(feed.title)
    fg.description(feed.description)
    fg.language(feed.lang)
    fg.link(href=self_url, rel="self", type=self_type)        # rss-link-is-last-link: the self link first
    fg.link(href=feed.link, rel="alternate", type="text/html")
    if feed.copyright:
        fg.rights(feed.copyright)
    fg.generator("feedpub", version=feed.generator_version or None, uri=GENERATOR_URI)    # generator-default
    fg.updated(feed.updated)                                  # dates-default-to-now
    return fg


def _entry(fg: FeedGenerator, fmt: str, entry: Entry, shared: SharedEntries | None) -> FeedEntry | None:
    """Add entry to fg: a copy of the element another feed built, or (returned) a new FeedEntry to fill."""
    if shared is not None:
        element = shared.reuse(fmt, entry)
        if element is not None:
            fg.add_entry(_Copied(element), order="append")
            return None
    keep = shared.keeper(fmt, entry) if shared is not None else None
    return fg.add_entry(FixedEntry(keep), order="append")       # add-entry-prepends


def render_rss(feed: Feed, shared: SharedEntries | None = None) -> bytes:
    """RSS 2.0 with content:encoded, dc:creator, media:content and a self link."""
    fg = _generator(feed, "application/rss+xml", feed.urls.rss)
    fg.register_extension("ns", _Namespaces, None, atom=False, rss=True)
    fg.docs(RSS_DOCS)                                         # generator-default
    for entry in feed.entries:
        fe = _entry(fg, "rss", entry, shared)
        if fe is None:
            continue
        _common(fe, entry)
        a = entry.article
        summary = html.escape(a.summary, quote=False) if a.summary else None
        if summary:
            fe.description(summary)
            if a.content:
                fe.content(a.content, type="html")
        else:
            fe.description(a.content or html.escape(a.title, quote=False))
        fe.link(href=a.url, rel="alternate")                  # the only alternate: the item <link>
        if a.image:                                           # readers without Media RSS need the enclosure
            length = str(a.image.length) if a.image.length is not None else UNKNOWN_LENGTH  # enclosure-length-none
            fe.enclosure(a.image.url, length, a.image.type or "image/jpeg")
        fe.extras.creator = a.author.name if a.author else None   # rss-name-only-author
        fe.extras.image = a.image
    return plain_titles(fg.rss_str(pretty=True))              # rss-title-escaping


def render_atom(feed: Feed, shared: SharedEntries | None = None) -> bytes:
    """Atom 1.0 with html content, per-entry authors, enclosures and hreflang translation links."""
    fg = _generator(feed, "application/atom+xml", feed.urls.atom)
    fg.subtitle(feed.description)
    if feed.hub:
        fg.link(href=feed.hub, rel="hub")
    fg.author(name=feed.author)
    for entry in feed.entries:
        fe = _entry(fg, "atom", entry, shared)
        if fe is None:
            continue
        _common(fe, entry)
        a = entry.article
        if a.summary:
            fe.summary(a.summary)
        if a.content:
            fe.content(a.content, type="html")
        if a.author:
            fe.author(name=a.author.name, email=a.author.email, uri=a.author.uri)
        # Readers disagree on which alternate link is "the" link: gofeed, SimplePie, XML::Feed and
        # rss-parser take the first (Ruby's rss the first <link> of any kind), feedparser and
        # newsboat the last. So the entry's own page comes first, its translations after it, and,
        # when there are translations, the own page once more without hreflang (a distinct
        # type/hreflang pair, as RFC 4287 requires) after them; the image comes last.
        fe.link(href=a.url, rel="alternate", type="text/html", hreflang=a.lang)
        for t in entry.translations:
            fe.link(href=t.url, rel="alternate", type="text/html", hreflang=t.lang, title=t.title)
        if entry.translations:
            fe.link(href=a.url, rel="alternate", type="text/html")
        if a.image:
            fe.link(href=a.image.url, rel="enclosure", type=a.image.type,
                    length=str(a.image.length) if a.image.length is not None else None)
    return fg.atom_str(pretty=True)


def _common(fe: FeedEntry, entry: Entry) -> None:
    a = entry.article
    fe.id(entry.guid)                                         # RSS guid isPermaLink="false", Atom id
    fe.title(a.title)
    fe.published(a.published)
    fe.updated(a.updated)                                     # dates-default-to-now
    for cat in a.categories:
        fe.category(term=cat)

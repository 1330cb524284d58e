"""feedgen 1.0.0's traps, and the workaround for each: the one home of what feedpub does around feedgen.

feedgen stays the RSS and Atom writer, but each of its traps below would publish a wrong feed.
TRAPS lists them; the code under it is every workaround; tests/test_feedgen_traps.py has one
test per entry that fails when bare feedgen no longer falls into the trap (the workaround may
go) or when feedpub's output does (the workaround broke), so an upgrade shows at once which are
still needed. render_xml.py uses these pieces and holds no workaround of its own.
"""
from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from feedgen.entry import FeedEntry
from lxml import etree

from .dates import write_date

__all__ = ["ATOM_NS", "TRAPS", "UNKNOWN_LENGTH", "FixedEntry", "Trap", "add_hub_link", "plain_titles",
           "set_date"]

ATOM_NS = "http://www.w3.org/2005/Atom"
UNKNOWN_LENGTH = "0"        # the RSS Profile's enclosure length for a size the publisher cannot know
_LINK_ATTRS = ("rel", "type", "hreflang", "title", "length")
_RSS_TITLE = re.compile(rb"<title>([^<]*)</title>")


@dataclass(frozen=True)
class Trap:
    name: str
    feedgen: str        # what feedgen 1.0.0 does
    workaround: str     # what feedpub does about it, and where


TRAPS = (
    Trap("atom-link-attributes", "Atom entry links lose every attribute but href (upstream #135)",
         "FixedEntry.atom_entry sets rel, type, hreflang, title and length again"),
    Trap("add-entry-prepends", "add_entry() puts each new entry first",
         "render_xml adds entries with order='append', newest first as the feed orders them"),
    Trap("dates-default-to-now", "a feed's updated and lastBuildDate and an entry's updated default to the "
                                 "time of the run", "render_xml sets every one (the same input, the same bytes)"),
    Trap("date-strings", "dates are written by feedgen's own formatters: Atom with isoformat() (a fraction of a "
                         "second as .500000), RSS with strftime under a process-wide setlocale",
         "set_date replaces every date's text with dates.write_date's, the one writer of every format"),
    Trap("rss-link-is-last-link", "the RSS channel's <link>, and an item's, is the last link added",
         "render_xml adds the self link first and the home page last, and gives an RSS item its own link only"),
    Trap("enclosure-length-none", 'an enclosure without a length writes length="None"',
         'the length is always given, UNKNOWN_LENGTH ("0") when the record has none'),
    Trap("rss-one-atom-link", "RSS keeps one atom:link (rel=self) and drops rel=hub",
         "add_hub_link puts the hub link after the self link"),
    Trap("rss-name-only-author", "an author with a name but no e-mail address vanishes from RSS",
         "render_xml writes the byline as dc:creator"),
    Trap("rss-title-escaping", "titles are escaped as &lt; and &amp;, which readers that show RSS titles as "
                               "HTML turn back into markup", "plain_titles rewrites them as &#x3C; and &#x26;, "
                                                            "as the RSS Profile asks, in the output bytes"),
    Trap("generator-default", "the generator is python-feedgen with feedgen's version, and RSS <docs> an "
                              "http:// URL", "render_xml sets both"),
)


class FixedEntry(FeedEntry):
    """A FeedEntry whose Atom links keep their attributes (atom-link-attributes) and whose dates are
    written by dates.write_date (date-strings).

    keep, when given, receives a copy of each finished element (render_xml's SharedEntries)."""

    def __init__(self, keep: Callable[[etree._Element], None] | None = None):
        super().__init__()
        self._keep = keep

    def atom_entry(self, extensions=True):
        entry = super().atom_entry(extensions=extensions)
        elements = [e for e in entry if e.tag == "link"]
        for element, data in zip(elements, self.link() or [], strict=True):   # same links, same order
            for key in _LINK_ATTRS:
                if data.get(key) not in (None, ""):
                    element.set(key, str(data[key]))
        set_date(entry.find("updated"), self.updated(), "rfc3339")
        set_date(entry.find("published"), self.published(), "rfc3339")
        if self._keep is not None:
            self._keep(copy.deepcopy(entry))
        return entry

    def rss_entry(self, extensions=True):
        item = super().rss_entry(extensions=extensions)
        set_date(item.find("pubDate"), self.pubDate(), "rfc822")
        if self._keep is not None:
            self._keep(copy.deepcopy(item))
        return item


def set_date(element: etree._Element | None, value: datetime | None, form: str) -> None:
    """The date element feedgen wrote, its text now dates.write_date's (date-strings)."""
    if element is not None and value is not None:
        element.text = write_date(value, form)


def add_hub_link(channel: etree._Element, hub: str) -> None:
    """atom:link rel="hub" right after the self link, which is all feedgen keeps (rss-one-atom-link)."""
    self_link = channel.find(f"{{{ATOM_NS}}}link")
    self_link.addnext(etree.Element(f"{{{ATOM_NS}}}link", href=hub, rel="hub"))


def plain_titles(rss: bytes) -> bytes:
    """RSS titles are plain text: & and < written as hex references, as the RSS Profile asks, so
    readers that treat titles as HTML show them instead of swallowing a "tag" (rss-title-escaping)."""
    return _RSS_TITLE.sub(_plain_title, rss)


def _plain_title(match: re.Match) -> bytes:
    return b"<title>" + match.group(1).replace(b"&lt;", b"&#x3C;").replace(b"&amp;", b"&#x26;") + b"</title>"

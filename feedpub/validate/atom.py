"""Atom 1.0 documents (RFC 4287): the feed, its entries, and Atom Entry Documents.

Which elements each Atom element may hold and how often; attributes Atom does
not define; language tags; all metadata before the first entry. The
constructs themselves are checked in atomparts.py.
"""
from __future__ import annotations

from datetime import datetime

from lxml import etree

from .atomparts import (check_category, check_content, check_date, check_id, check_iri_element, check_links,
                        check_person, check_text)
from .common import A, ATOM_NS, XML_BASE, XML_LANG, children, tag_name, text_of
from .report import Report, quote
from .values import language_problem, reference_iri_problem

__all__ = ["check_atom", "check_atom_entry", "check_atom_entry_document"]

RFC = "RFC 4287"
_TEXT_CONSTRUCTS = ("title", "subtitle", "rights", "summary")
_ATTRS = {
    "link": {"href", "rel", "type", "hreflang", "title", "length"},
    "category": {"term", "scheme", "label"},
    "generator": {"uri", "version"},
    "content": {"type", "src"},
    "title": {"type"}, "subtitle": {"type"}, "rights": {"type"}, "summary": {"type"},
}
_METADATA = {"author", "category", "contributor", "generator", "icon", "id", "link", "logo", "rights", "subtitle",
             "title", "updated"}
_CHILDREN = {
    "feed": _METADATA | {"entry"},
    "source": _METADATA,
    "entry": {"author", "category", "content", "contributor", "id", "link", "published", "rights", "source",
              "summary", "title", "updated"},
    "author": {"name", "uri", "email"}, "contributor": {"name", "uri", "email"},
}
FEED, SOURCE = "§4.1.1", "§4.2.11"     # the two elements that hold a feed's metadata
_SIMPLE = {"id", "updated", "published", "icon", "logo", "name", "uri", "email", "generator", "category", "link"}
_FEED_ONCE = ("generator", "icon", "logo", "rights", "subtitle")
_ENTRY_ONCE = ("content", "published", "rights", "source", "summary")


def _entry_label(entry: etree._Element, index: int) -> str:
    ident = text_of(entry.find(A + "id"))
    return f"entry {index} ({ident}): " if ident else f"entry {index}: "


def _check_counts(parent: etree._Element, where: str, at_most_once, report: Report, *, section: str) -> None:
    """Exactly one id, title and updated; at most one of the others named."""
    for name in ("id", "title", "updated"):
        n = len(parent.findall(A + name))
        if n != 1:
            report.error(f"{where}{n} <{name}> elements (expected exactly one)", f"{RFC} {section}")
    for name in at_most_once:
        n = len(parent.findall(A + name))
        if n > 1:
            report.error(f"{where}{n} <{name}> elements (expected at most one)", f"{RFC} {section}")


def check_structure(root: etree._Element, report: Report) -> None:
    """Every Atom element: known children only, no text where elements belong, defined attributes only,
    and only text inside the simple elements; language tags and xml:base everywhere."""
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        qn = etree.QName(el)
        lang = el.get(XML_LANG)
        if lang is not None and lang != "" and language_problem(lang):
            report.error(f"line {el.sourceline}: <{tag_name(el)}> has xml:lang={quote(lang)}, which "
                         f"{language_problem(lang)}",
                         "XML 1.0 §2.12, BCP 47")
        base = el.get(XML_BASE)
        if base is not None and reference_iri_problem(base):
            report.error(f"line {el.sourceline}: <{tag_name(el)}> has xml:base={quote(base)}, which "
                         f"{reference_iri_problem(base)}", "XML Base, RFC 3987")
        if qn.namespace != ATOM_NS:
            continue
        local = qn.localname
        for attr in el.attrib:
            if not attr.startswith("{") and attr not in _ATTRS.get(local, set()):
                report.error(f"line {el.sourceline}: <{local}> has attribute {attr}={quote(el.get(attr))} "
                             "that Atom does not define (expected only xml:* or namespaced attributes)", f"{RFC} §6.3")
        allowed = _CHILDREN.get(local)
        kids = children(el)
        if local in _SIMPLE:
            if kids and local not in ("category", "link"):
                report.error(f"line {kids[0].sourceline}: <{local}> contains the element <{tag_name(kids[0])}> "
                             "(expected text only)", f"{RFC} §3")
        elif allowed is not None:
            for kid in kids:
                kq = etree.QName(kid)
                if kq.namespace == ATOM_NS and kq.localname not in allowed:
                    report.error(f"line {kid.sourceline}: <{local}> contains <{kq.localname}>, which Atom does "
                                 f"not define there", f"{RFC} §4.1" if local in ("feed", "entry", "source")
                                 else f"{RFC} §3.2")
            stray = next((t.strip() for t in [el.text] + [k.tail for k in el] if t and t.strip()), None)
            if stray:
                report.error(f"line {el.sourceline}: <{local}> contains the text {quote(stray)} outside any "
                             "element (expected only elements)", f"{RFC} §4.1")


def check_atom(feed: etree._Element, report: Report) -> None:
    check_structure(feed, report)
    check_order(feed, report)
    _check_metadata(feed, "feed: ", report, section=FEED)
    feed_authors = feed.findall(A + "author")
    entries = feed.findall(A + "entry")
    if not entries:
        report.warn("feed: has no <entry> (valid, e.g. for a language with nothing published yet; readers show "
                    "an empty feed)", f"{RFC} §4.1.1")
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries, 1):
        check_atom_entry(entry, i, report, seen, feed_has_author=bool(feed_authors))


def check_atom_entry_document(entry: etree._Element, report: Report) -> None:
    """An Atom Entry Document (§4.1.2): one entry as the root; feedpub itself writes only feeds."""
    report.house("is an Atom Entry Document (feedpub writes feeds: expected <feed> as the root)", "Atom feeds")
    check_structure(entry, report)
    check_atom_entry(entry, 1, report, {}, feed_has_author=False)


def _check_metadata(parent: etree._Element, where: str, report: Report, *, section: str) -> None:
    """What atom:feed and atom:source share: counts, id, updated, text, people, links, the rest.

    In a feed (§4.1.1) id, title and updated are required; in an entry's source (§4.2.11) each is
    optional, and every other rule is the same."""
    if section == SOURCE:
        for name in ("id", "title", "updated") + _FEED_ONCE:
            n = len(parent.findall(A + name))
            if n > 1:
                report.error(f"{where}{n} <{name}> elements (expected at most one)", f"{RFC} {section}")
    else:
        _check_counts(parent, where, _FEED_ONCE, report, section=section)
    check_id(parent, where, report)
    for el in parent.findall(A + "updated"):
        check_date(el, where, report)
    for name in ("title", "subtitle", "rights"):
        for el in parent.findall(A + name):
            check_text(el, where, report)
    for el in parent.findall(A + "author") + parent.findall(A + "contributor"):
        check_person(el, where, report)
    check_links(parent, where, report, level="feed" if section == FEED else "source")
    for el in parent.findall(A + "category"):
        check_category(el, where, report)
    for name, sec in (("icon", "§4.2.5"), ("logo", "§4.2.8")):
        for el in parent.findall(A + name):
            check_iri_element(el, where, report, f"{RFC} {sec}")
    for el in parent.findall(A + "generator"):
        if el.get("uri") is not None:
            problem = reference_iri_problem(el.get("uri"))
            if problem:
                report.error(f"{where}<generator> uri {quote(el.get('uri'))} {problem}", f"{RFC} §4.2.4")


def check_atom_entry(entry: etree._Element, index: int, report: Report, seen: dict[str, int], *,
                     feed_has_author: bool) -> None:
    where = _entry_label(entry, index)
    _check_counts(entry, where, _ENTRY_ONCE, report, section="§4.1.2")
    ident = check_id(entry, where, report)
    if ident:
        if ident in seen:
            report.house(f"{where}<id> {quote(ident)} is also the id of entry {seen[ident]} (feedpub requires "
                         "unique ids; Atom allows the same entry twice with different <updated>)", "unique ids")
        else:
            seen[ident] = index
    dates: dict[str, datetime | None] = {}
    for name in ("updated", "published"):
        for el in entry.findall(A + name):
            dates[name] = check_date(el, where, report)
    if entry.find(A + "published") is None:
        report.house(f"{where}has no <published> (feedpub requires the publication date; many readers "
                     "show no date with <updated> alone)", "entry published")
    if dates.get("updated") and dates.get("published") and dates["updated"] < dates["published"]:
        report.warn(f"{where}<updated> is earlier than <published> (expected updated >= published)",
                    f"{RFC} §4.2.9")
    for name in _TEXT_CONSTRUCTS:
        for el in entry.findall(A + name):
            check_text(el, where, report)
    authors = entry.findall(A + "author")
    source = entry.find(A + "source")
    if source is not None:
        authors = authors + source.findall(A + "author")
        _check_metadata(source, f"{where}<source>: ", report, section=SOURCE)
    for el in entry.findall(A + "author") + entry.findall(A + "contributor"):
        check_person(el, where, report)
    if not authors and not feed_has_author:
        report.error(f"{where}has no <author> and neither has the feed "
                     "(expected an author in the feed or in every entry)", f"{RFC} §4.1.1")
    for el in entry.findall(A + "category"):
        check_category(el, where, report)
    alternates = check_links(entry, where, report, level="entry")
    content = entry.find(A + "content")
    if content is not None:
        check_content(content, entry, where, report)
    elif not alternates:
        report.error(f'{where}has neither <content> nor <link rel="alternate"> (expected at least one)',
                     f"{RFC} §4.1.2")
    if content is not None and not alternates:
        report.warn(f'{where}has no <link rel="alternate"> (expected the article\'s URL; readers link to it)',
                    f"{RFC} §4.1.2")


def check_order(feed: etree._Element, report: Report) -> None:
    """RFC 4287 appendix B: all feed metadata comes before the first entry (extensions: feedpub's rule)."""
    seen_entry = False
    for el in children(feed):
        if el.tag == A + "entry":
            seen_entry = True
        elif seen_entry and etree.QName(el).namespace == ATOM_NS:
            report.error(f"feed: <{tag_name(el)}> (line {el.sourceline}) comes after the first <entry> "
                         "(expected all feed-level elements before the entries)", f"{RFC} appendix B")
        elif seen_entry:
            report.house(f"feed: <{tag_name(el)}> (line {el.sourceline}) comes after the first <entry> "
                         "(feedpub requires all feed-level elements before the entries)", "metadata first")

"""RSS 2.0 (rssboard.org/rss-specification) and the RSS Board's Best Practices Profile.

The core elements (no namespace) are checked against the specification's
list: an unknown one is a typo (<pubdate>), a second <language> or
<generator> an error. Extension elements feedpub writes are checked in
rssext.py; others are left alone.
"""
from __future__ import annotations

import difflib
import re

from lxml import etree

from .common import check_text_only, children, tag_name, text_of
from .dates import RFC822_REF, rfc822
from .report import Report, quote
from .rssext import check_rss_channel_extensions, check_rss_item_extensions, check_rss_plain_text
from .values import (absolute_uri_problem, http_problem, language_problem, mime_problem, rss_contact_form_problem,
                     rss_contact_problem)

__all__ = ["CORE", "TEXT_ELEMENTS", "check_rss"]

SPEC = "RSS 2.0"
_CHANNEL = {"title", "link", "description", "language", "copyright", "managingEditor", "webMaster", "pubDate",
            "lastBuildDate", "category", "generator", "docs", "cloud", "ttl", "image", "rating", "textInput",
            "skipHours", "skipDays", "item"}
_ITEM = {"title", "link", "description", "author", "category", "comments", "enclosure", "guid", "pubDate", "source"}
_IMAGE = {"url", "title", "link", "width", "height", "description"}
_TEXT_INPUT = {"title", "description", "name", "link"}
_REPEATABLE = {"category", "item"}
CORE = {"channel": _CHANNEL, "item": _ITEM, "image": _IMAGE, "textInput": _TEXT_INPUT}
# The core elements that hold text: all but the containers and the empty <enclosure> and <cloud>.
TEXT_ELEMENTS = frozenset().union(*CORE.values()) - {"item", "image", "textInput", "cloud", "skipHours",
                                                     "skipDays", "enclosure"}
_ATTRIBUTES = {"rss": {"version"}, "guid": {"isPermaLink"}, "source": {"url"}, "enclosure": {"url", "length", "type"},
               "category": {"domain"}, "cloud": {"domain", "port", "path", "registerProcedure", "protocol"}}
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def check_rss(root: etree._Element, report: Report) -> None:
    version = root.get("version")
    if version is None:
        report.error('<rss> has no version attribute (expected version="2.0")', f"{SPEC} <rss>")
    elif version != "2.0":
        report.error(f'<rss> has version={quote(version)} (expected "2.0": this checker knows RSS 2.0)',
                     f"{SPEC} <rss>")
    _check_attributes(root, report)
    _check_text_between(root, "<rss>", report)
    channels = root.findall("channel")
    for el in children(root):
        if not etree.QName(el).namespace and el.tag != "channel":
            report.error(f"<rss> contains <{el.tag}> (expected only <channel>)", f"{SPEC} <rss>")
    if len(channels) != 1:
        report.error(f"<rss> has {len(channels)} <channel> elements (expected exactly one)", f"{SPEC} <rss>")
        if not channels:
            return
    channel = channels[0]
    check_channel(channel, report)
    items = channel.findall("item")
    if not items:
        report.warn("channel: has no <item> (valid, e.g. for a language with nothing published yet; "
                    "readers show an empty feed)", f"{SPEC} <channel>")
    seen: dict[str, int] = {}
    for i, item in enumerate(items, 1):
        check_item(item, i, report, seen)


def _check_core_children(parent: etree._Element, allowed: set[str], where: str, name: str, report: Report) -> None:
    """Unknown core elements (typos such as <pubdate>) and repeated ones; text between elements."""
    counts: dict[str, int] = {}
    for el in children(parent):
        if etree.QName(el).namespace:
            continue
        tag = el.tag
        if tag not in allowed:
            near = difflib.get_close_matches(tag, sorted(allowed), n=1, cutoff=0.6) or \
                [a for a in allowed if a.lower() == tag.lower()]
            hint = f"; did you mean <{near[0]}>?" if near else ""
            report.error(f"{where}<{tag}> is not an RSS 2.0 element of <{name}> (line {el.sourceline}{hint}) "
                         "(expected the specification's elements, or extensions in their own namespace)",
                         f"{SPEC} <{name}>")
            continue
        counts[tag] = counts.get(tag, 0) + 1
        if tag in TEXT_ELEMENTS:
            check_text_only(el, where, f"{SPEC} <{tag}>", report)
    for tag, n in sorted(counts.items()):
        if n > 1 and tag not in _REPEATABLE and not (name == "item" and tag == "enclosure"):
            report.error(f"{where}{n} <{tag}> elements (expected at most one)", f"{SPEC} <{name}>")
    _check_text_between(parent, f"<{name}>", report, where)


def _check_text_between(parent: etree._Element, name: str, report: Report, where: str = "") -> None:
    texts = [parent.text] + [c.tail for c in parent]
    stray = next((t.strip() for t in texts if t and t.strip()), None)
    if stray:
        report.error(f"{where}{name} contains the text {quote(stray)} outside any element (expected only elements)",
                     f"{SPEC} {name}")


def _check_attributes(el: etree._Element, report: Report, where: str = "") -> None:
    allowed = _ATTRIBUTES.get(el.tag if isinstance(el.tag, str) else "", set())
    for attr in el.attrib:
        if not attr.startswith("{") and attr not in allowed:
            report.error(f"{where}<{el.tag}> has the attribute {attr}={quote(el.get(attr))}, which RSS 2.0 does "
                         "not define (expected only namespaced attributes)", f"{SPEC} <{el.tag}>")


def check_url(value: str, where: str, name: str, report: Report, *, ref: str, http_only: bool = False) -> None:
    """An absolute URL, and a URI (RSS 2.0 has no IRIs); feedpub's own URLs are http(s) too.

    http_only: the specification itself asks for an http URL (<enclosure>).
    """
    problem = absolute_uri_problem(value, iri=False)
    if problem:
        report.error(f"{where}{name} {quote(value)} {problem} (expected an absolute URL)", ref)
        return
    problem = http_problem(value)
    if problem and http_only:
        report.error(f"{where}{name} {quote(value)} is not an http(s) URL: {problem}", ref)
    elif problem:
        report.house(f"{where}{name} {quote(value)} is not an http(s) URL: {problem} "
                     "(feedpub requires http:// or https:// URLs)", "http(s) URLs")


def check_channel(channel: etree._Element, report: Report) -> None:
    where = "channel: "
    _check_core_children(channel, _CHANNEL, where, "channel", report)
    for name in ("title", "link", "description"):
        found = channel.find(name)
        if found is None:
            report.error(f"channel: no <{name}> (expected exactly one)", f"{SPEC} <channel>")
        elif not text_of(found):
            report.warn(f"channel: <{name}> is empty (expected text)", f"{SPEC} <channel>")
            report.house(f"channel: <{name}> is empty (feedpub requires text)", f"channel {name}")
    link = channel.find("link")
    if link is not None and text_of(link):
        check_url(text_of(link), where, "<link>", report, ref=f"{SPEC} <channel> <link>")
    for el in channel.findall("title") + channel.findall("category"):
        check_rss_plain_text(el, where, report)
    lang = channel.find("language")
    if lang is None:
        report.warn("channel: no <language> (expected the feed's language code, e.g. vi or en)", "RSS Profile")
    else:
        problem = language_problem(text_of(lang))
        if problem:
            report.error(f"channel: <language> {quote(text_of(lang))} {problem}", f"{SPEC} <language>")
    for name in ("managingEditor", "webMaster"):
        for el in channel.findall(name):
            check_contact(el, where, report)
    for name in ("pubDate", "lastBuildDate"):
        for el in channel.findall(name):
            check_date(el, where, report)
    for el in channel.findall("docs"):
        check_url(text_of(el), where, "<docs>", report, ref=f"{SPEC} <docs>")
    for el in channel.findall("ttl"):
        if not re.fullmatch(r"[0-9]+", text_of(el)) or int(text_of(el)) == 0:
            report.error(f"channel: <ttl> {quote(text_of(el))} is not a number of minutes (expected a positive "
                         "whole number)", f"{SPEC} <ttl>")
    for el in channel.findall("category"):
        _check_attributes(el, report, where)
    for el in channel.findall("image"):
        check_image(el, report)
    for el in channel.findall("textInput"):
        check_text_input(el, report)
    for el in channel.findall("cloud"):
        check_cloud(el, report)
    for el in channel.findall("skipHours"):
        _check_skip(el, "hour", [str(h) for h in range(24)], 24, report)
    for el in channel.findall("skipDays"):
        _check_skip(el, "day", list(_DAY_NAMES), 7, report)
    check_rss_channel_extensions(channel, report)


def check_image(image: etree._Element, report: Report) -> None:
    where = "channel: <image>: "
    _check_core_children(image, _IMAGE, where, "image", report)
    for name in ("url", "title", "link"):
        if image.find(name) is None:
            report.error(f"{where}no <{name}> (expected one)", f"{SPEC} <image>")
        elif not text_of(image.find(name)):
            report.warn(f"{where}<{name}> is empty (expected text)", f"{SPEC} <image>")
    for name in ("url", "link"):
        if text_of(image.find(name)):
            check_url(text_of(image.find(name)), where, f"<{name}>", report, ref=f"{SPEC} <image>")
    for name, most in (("width", 144), ("height", 400)):
        el = image.find(name)
        if el is not None:
            value = text_of(el)
            if not re.fullmatch(r"[0-9]+", value) or int(value) == 0:
                report.error(f"{where}<{name}> {quote(value)} is not a positive number of pixels", f"{SPEC} <image>")
            elif int(value) > most:
                report.error(f"{where}<{name}> {value} is more than the maximum {most}", f"{SPEC} <image>")


def check_text_input(el: etree._Element, report: Report) -> None:
    where = "channel: <textInput>: "
    _check_core_children(el, _TEXT_INPUT, where, "textInput", report)
    for name in ("title", "description", "name", "link"):
        if el.find(name) is None:
            report.error(f"{where}no <{name}> (expected one)", f"{SPEC} <textInput>")
    if text_of(el.find("link")):
        check_url(text_of(el.find("link")), where, "<link>", report, ref=f"{SPEC} <textInput>")
    name = el.find("name")
    if name is not None and not re.fullmatch(r"[A-Za-z_:][A-Za-z0-9_:.-]*", text_of(name)):
        report.error(f"{where}<name> {quote(text_of(name))} is not a form field name (expected a letter, then "
                     "letters, digits, -, _, : or .)", f"{SPEC} <textInput>")


def check_cloud(el: etree._Element, report: Report) -> None:
    where = "channel: "
    _check_attributes(el, report, where)
    for attr in ("domain", "port", "path", "registerProcedure", "protocol"):
        if el.get(attr) is None:
            report.error(f"{where}<cloud> has no {attr} attribute (expected domain, port, path, "
                         "registerProcedure and protocol)", f"{SPEC} <cloud>")
    port = el.get("port")
    if port is not None and (not re.fullmatch(r"[0-9]+", port) or not 0 < int(port) < 65536):
        report.error(f"{where}<cloud> has port={quote(port)} (expected a port number)", f"{SPEC} <cloud>")
    protocol = el.get("protocol")
    if protocol is not None and protocol not in ("xml-rpc", "soap", "http-post"):
        report.error(f'{where}<cloud> has protocol={quote(protocol)} (expected "xml-rpc", "soap" or "http-post")',
                     f"{SPEC} <cloud>")
    if children(el) or (el.text or "").strip():
        report.error(f"{where}<cloud> is not empty (expected only attributes)", f"{SPEC} <cloud>")


def _check_skip(el: etree._Element, child: str, allowed: list[str], most: int, report: Report) -> None:
    name = etree.QName(el).localname
    where = f"channel: <{name}>: "
    seen: set[str] = set()
    values = []
    for sub in children(el):
        if etree.QName(sub).namespace:
            continue
        if sub.tag != child:
            report.error(f"{where}<{sub.tag}> is not an RSS 2.0 element of <{name}> (expected <{child}>)",
                         f"{SPEC} <{name}>")
            continue
        value = text_of(sub)
        if child == "hour" and value == "24":
            report.warn(f"{where}<hour> 24 is the obsolete way to write midnight (expected 0)", f"{SPEC} <{name}>")
            value = "0"
        values.append(value)
        if value not in allowed:
            shown = "0 to 23" if child == "hour" else ", ".join(allowed)
            report.error(f"{where}<{child}> {quote(value)} (expected one of {shown})", f"{SPEC} <{name}>")
        elif value in seen:
            report.error(f"{where}<{child}> {quote(text_of(sub))} appears twice (expected each at most once)",
                         f"{SPEC} <{name}>")
        seen.add(value)
    if not values:
        report.error(f"{where}has no <{child}> (expected at least one)", f"{SPEC} <{name}>")
    if len(values) > most:
        report.error(f"{where}{len(values)} <{child}> elements (expected at most {most})", f"{SPEC} <{name}>")
    _check_text_between(el, f"<{name}>", report, "channel: ")


def _item_label(item: etree._Element, index: int) -> str:
    ident = text_of(item.find("guid")) or text_of(item.find("link"))
    return f"item {index} ({ident}): " if ident else f"item {index}: "


def check_item(item: etree._Element, index: int, report: Report, seen: dict[str, int]) -> None:
    where = _item_label(item, index)
    _check_core_children(item, _ITEM, where, "item", report)
    title = text_of(item.find("title"))
    if item.find("title") is None and item.find("description") is None:
        report.error(f"{where}has neither <title> nor <description> (expected at least one)", f"{SPEC} <item>")
    elif not title:
        report.house(f"{where}has no <title> (feedpub requires one; RSS allows a description alone, "
                     "but many readers reject such items)", "item title")
    link = item.find("link")
    if link is None or not text_of(link):
        report.house(f"{where}has no <link> (feedpub requires the article's absolute URL)", "item link")
    else:
        check_url(text_of(link), where, "<link>", report, ref=f"{SPEC} <item> <link>")
    for el in item.findall("comments"):
        check_url(text_of(el), where, "<comments>", report, ref=f"{SPEC} <comments>")
    for el in item.findall("source"):
        _check_attributes(el, report, where)
        if el.get("url") is None:
            report.error(f"{where}<source> has no url attribute (expected the source feed's URL)", f"{SPEC} <source>")
        else:
            check_url(el.get("url"), where, "<source> url", report, ref=f"{SPEC} <source>")
    for el in item.findall("category"):
        _check_attributes(el, report, where)
    check_guid(item, where, report, seen, index)
    for el in item.findall("title") + item.findall("category"):
        check_rss_plain_text(el, where, report)
    pub = item.find("pubDate")
    if pub is None:
        report.house(f"{where}has no <pubDate> (feedpub requires the publication date; readers sort items by it)",
                     "item pubDate")
    else:
        check_date(pub, where, report)
    for el in item.findall("author"):
        check_contact(el, where, report)
    check_enclosures(item, where, report)
    check_rss_item_extensions(item, where, report)


def check_contact(el: etree._Element, where: str, report: Report) -> None:
    """<author>, <managingEditor>, <webMaster>: an e-mail address (RSS 2.0), as "address (Name)" (feedpub)."""
    value, name = text_of(el), el.tag
    problem = rss_contact_problem(value)
    hint = "; use <dc:creator> for a name alone" if name == "author" else ""
    if problem:
        report.error(f"{where}<{name}> {quote(value)} {problem}{hint}", f"{SPEC} <{name}>")
    elif rss_contact_form_problem(value):
        report.house(f"{where}<{name}> {quote(value)} {rss_contact_form_problem(value)} (feedpub requires the "
                     "form the RSS Profile recommends)", "RSS Profile <author>")


def check_enclosures(item: etree._Element, where: str, report: Report) -> None:
    enclosures = item.findall("enclosure")
    if len(enclosures) > 1:
        report.warn(f"{where}{len(enclosures)} <enclosure> elements (expected at most one; many readers show "
                    "only the first)", "RSS Profile <enclosure>")
    for enc in enclosures:
        _check_attributes(enc, report, where)
        url, length, etype = enc.get("url"), enc.get("length"), enc.get("type")
        ref = f"{SPEC} <enclosure>"
        if url is None:
            report.error(f"{where}<enclosure> has no url attribute (expected the file's http URL)", ref)
        else:
            check_url(url, where, "<enclosure> url", report, ref=ref, http_only=True)
        if length is None:
            report.error(f"{where}<enclosure> has no length attribute (expected its size in bytes)", ref)
        elif not re.fullmatch(r"[0-9]+", length):
            report.error(f"{where}<enclosure> length {quote(length)} is not a number of bytes (expected digits)", ref)
        if etype is None:
            report.error(f"{where}<enclosure> has no type attribute (expected a MIME type like image/jpeg)", ref)
        elif mime_problem(etype):
            report.error(f"{where}<enclosure> type {quote(etype)} {mime_problem(etype)}", ref)


def check_guid(item: etree._Element, where: str, report: Report, seen: dict[str, int], index: int) -> None:
    guid = item.find("guid")
    ref = f"{SPEC} <guid>"
    if guid is None:
        report.house(f"{where}has no <guid> (feedpub requires a permanent unique id)", "item guid")
        return
    _check_attributes(guid, report, where)
    value = text_of(guid)
    perma = guid.get("isPermaLink")
    if perma not in (None, "true", "false"):
        report.error(f'{where}<guid> has isPermaLink={quote(perma)} (expected "true" or "false")', ref)
    if not value and perma == "false":
        report.warn(f"{where}<guid> is empty (expected a permanent unique id)", ref)
        report.house(f"{where}<guid> is empty (feedpub requires a permanent unique id)", "item guid")
        return
    if not value and perma in (None, "true"):
        report.error(f'{where}<guid> is empty but is a permalink (expected its URL, or isPermaLink="false")', ref)
        return
    if perma in (None, "true"):
        declared = 'isPermaLink="true"' if perma == "true" else "no isPermaLink, which means true,"
        problem = absolute_uri_problem(value, iri=False)
        scheme = value.split(":", 1)[0].lower()
        if problem:
            report.error(f'{where}<guid> {quote(value)} has {declared} but {problem} (expected a URL, '
                         'or isPermaLink="false")', ref)
        elif scheme not in ("http", "https") and perma is None:
            # the default only lets a reader "assume" a permalink: an id in another scheme is legal
            report.warn(f'{where}<guid> {quote(value)} has {declared} but is not a URL a browser can open, '
                        'and readers may take it for the item\'s link (expected an http(s) URL, or '
                        'isPermaLink="false")', ref)
        elif scheme not in ("http", "https"):
            report.error(f'{where}<guid> {quote(value)} has {declared} but is not a URL a browser can open '
                         '(expected an http(s) URL, or isPermaLink="false")', ref)
        elif http_problem(value):
            report.house(f'{where}<guid> {quote(value)} has {declared} but is not a valid http(s) URL: '
                         f'{http_problem(value)}', "http(s) URLs")
    if value in seen:
        report.error(f"{where}<guid> {quote(value)} is also the guid of item {seen[value]} (expected unique guids)",
                     "RSS Profile <guid>")
    else:
        seen[value] = index


def check_date(el: etree._Element, where: str, report: Report) -> None:
    value = text_of(el)
    name = tag_name(el)
    check = rfc822(value)
    for p in check.errors:
        report.error(f"{where}{name} {quote(value)} {p}", RFC822_REF)
    for p in check.house:
        report.house(f"{where}{name} {quote(value)} {p}", "RFC 822 dates")
    for p in check.warnings:
        report.warn(f"{where}{name} {quote(value)} {p}", RFC822_REF)
    if not check.errors and report.offset and check.zone and not report.offset.matches_rfc822(check.zone):
        report.house(f"{where}{name} {quote(value)} has offset {check.zone} (expected {report.offset.rfc822}, "
                     "the site's UTC offset)", "--expect-offset")

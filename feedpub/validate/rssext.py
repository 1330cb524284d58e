"""The RSS extensions feedpub writes: atom:link (self, hub), content:encoded, dc:creator and Media RSS.

Media RSS (www.rssboard.org/media-rss): every attribute of <media:content>
and the type of <media:description>. Other extension elements are left alone.
"""
from __future__ import annotations

import re

from lxml import etree

from .common import ATOM_LINK, CONTENT_ENCODED, DC_CREATOR, MEDIA_NS, check_text_only, children, text_of
from .report import Report, quote
from .values import absolute_uri_problem, http_problem, language_problem, mime_problem, reference_iri_problem

__all__ = ["check_rss_channel_extensions", "check_rss_item_extensions", "check_rss_plain_text"]

M = "{%s}" % MEDIA_NS
MEDIA = "Media RSS"
_MEDIUMS = ("image", "audio", "video", "document", "executable")
_EXPRESSIONS = ("sample", "full", "nonstop")
_INTEGER_ATTRS = ("fileSize", "channels", "height", "width")
_POSITIVE_ATTRS = ("fileSize", "height", "width")
_FLOAT_ATTRS = ("bitrate", "framerate", "samplingrate")
_MEDIA_ATTRS = {"url", "fileSize", "type", "medium", "isDefault", "expression", "bitrate", "framerate",
                "samplingrate", "channels", "duration", "height", "width", "lang"}


def check_rss_channel_extensions(channel: etree._Element, report: Report) -> None:
    """The channel's atom:link elements (self and hub), and media:content at channel level."""
    link = text_of(channel.find("link"))
    selfs = [el for el in channel.findall(ATOM_LINK) if el.get("rel") == "self"]
    if not selfs:
        report.warn('channel: no <atom:link rel="self"> (expected one giving the feed\'s own URL, '
                    'type="application/rss+xml")', "RSS Profile <atom:link>")
    elif len(selfs) > 1:
        report.error(f'channel: {len(selfs)} <atom:link rel="self"> elements (expected one)', "RSS Profile <atom:link>")
    for el in channel.findall(ATOM_LINK):
        href = el.get("href")
        rel = el.get("rel") or "alternate"
        if href is None:
            report.error(f'channel: <atom:link rel={quote(rel)}> has no href (expected a URL)', "RFC 4287 §4.2.7.1")
            continue
        problem = reference_iri_problem(href)
        if problem is None and rel == "self" and http_problem(href):
            report.house(f'channel: <atom:link rel="self"> href {quote(href)} is not an absolute http(s) URL '
                         "(feedpub requires the feed's own URL)", "self link")
        elif problem:
            report.error(f"channel: <atom:link rel={quote(rel)}> href {quote(href)} {problem}", "RFC 4287 §4.2.7.1")
    for el in selfs[:1]:
        stype = el.get("type")
        if stype is None:
            report.warn('channel: <atom:link rel="self"> has no type (expected type="application/rss+xml")',
                        "RSS Profile <atom:link>")
        elif stype != "application/rss+xml":
            report.house(f'channel: <atom:link rel="self"> has type {quote(stype)} (feedpub requires '
                         '"application/rss+xml")', "self link")
        href = (el.get("href") or "").strip()
        if link and href and link.rstrip("/") == href.rstrip("/"):
            report.warn(f"channel: <link> {quote(link)} is the feed's own URL (expected the web site's home page; "
                        'the feed URL belongs in <atom:link rel="self">)', "RSS Profile <link>")
    for content in channel.findall(M + "content"):
        check_media_content(content, "channel: ", report)


def check_rss_item_extensions(item: etree._Element, where: str, report: Report) -> None:
    tags = [el.tag for el in children(item)]
    encoded = tags.count(CONTENT_ENCODED)
    if encoded > 1:
        report.error(f"{where}{encoded} <content:encoded> elements (expected at most one)", "RSS Profile "
                     "<content:encoded>")
    for el in item.findall(CONTENT_ENCODED):
        check_text_only(el, where, "RSS content module <content:encoded>", report)
    if encoded:
        if "description" not in tags:
            report.warn(f"{where}has <content:encoded> but no <description> (expected a description too)",
                        "RSS Profile <content:encoded>")
        elif tags.index(CONTENT_ENCODED) < tags.index("description"):
            report.house(f"{where}<content:encoded> comes before <description> (feedpub requires description "
                         "first, as the RSS Profile recommends)", "RSS Profile order")
    if item.find("author") is not None and item.find(DC_CREATOR) is not None:
        report.house(f"{where}has both <author> and <dc:creator> (feedpub requires one of them; the RSS Profile "
                     "says not to use both)", "RSS Profile <dc:creator>")
    for content in item.iter(M + "content"):
        check_media_content(content, where, report)
    check_media_descriptions(item, where, report)
    for group in item.findall(M + "group"):
        check_media_descriptions(group, where, report)


def check_media_content(content: etree._Element, where: str, report: Report) -> None:
    """Media RSS <media:content>: every attribute, and its <media:description> children."""
    name = "<media:content>"
    for attr in content.attrib:
        if not attr.startswith("{") and attr not in _MEDIA_ATTRS:
            report.error(f"{where}{name} has the attribute {attr}={quote(content.get(attr))}, which Media RSS "
                         "does not define", f"{MEDIA} <media:content>")
    url = content.get("url")
    if url is None:
        if content.find(M + "player") is None:
            report.error(f"{where}{name} has no url attribute (expected the media file's URL)",
                         f"{MEDIA} <media:content>")
    else:
        problem = absolute_uri_problem(url, iri=False)
        if problem:
            report.error(f"{where}{name} url {quote(url)} {problem} (expected an absolute URL)",
                         f"{MEDIA} <media:content>")
        elif http_problem(url):
            report.house(f"{where}{name} url {quote(url)} is not an http(s) URL: {http_problem(url)}", "http(s) URLs")
    for attr in _INTEGER_ATTRS:
        value = content.get(attr)
        if value is not None and (not re.fullmatch(r"[0-9]+", value) or (attr in _POSITIVE_ATTRS and int(value) == 0)):
            report.error(f"{where}{name} {attr}={quote(value)} is not a {'positive' if attr in _POSITIVE_ATTRS else ''}"
                         " whole number (expected digits)".replace("a  whole", "a whole"), f"{MEDIA} <media:content>")
    for attr in _FLOAT_ATTRS:
        value = content.get(attr)
        if value is not None and not re.fullmatch(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+", value):
            report.error(f"{where}{name} {attr}={quote(value)} is not a number (expected e.g. 44.1)",
                         f"{MEDIA} <media:content>")
    duration = content.get("duration")
    if duration is not None and not re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", duration):
        report.error(f"{where}{name} duration={quote(duration)} is not a number of seconds", f"{MEDIA} <media:content>")
    for attr, allowed in (("medium", _MEDIUMS), ("expression", _EXPRESSIONS), ("isDefault", ("true", "false"))):
        value = content.get(attr)
        if value is not None and value not in allowed:
            report.error(f"{where}{name} {attr}={quote(value)} (expected one of {', '.join(allowed)})",
                         f"{MEDIA} <media:content>")
    mime = content.get("type")
    if mime is not None and mime_problem(mime):
        report.error(f"{where}{name} type={quote(mime)} {mime_problem(mime)}", f"{MEDIA} <media:content>")
    lang = content.get("lang")
    if lang is not None and language_problem(lang):
        report.error(f"{where}{name} lang={quote(lang)} {language_problem(lang)}", f"{MEDIA} <media:content>")
    check_media_descriptions(content, where, report)


def check_media_descriptions(parent: etree._Element, where: str, report: Report) -> None:
    """At most one <media:description> per item, group or content, of type plain or html."""
    descriptions = parent.findall(M + "description")
    if len(descriptions) > 1:
        report.error(f"{where}<{parent.prefix + ':' if parent.prefix else ''}{etree.QName(parent).localname}> has "
                     f"{len(descriptions)} <media:description> elements (expected at most one)",
                     f"{MEDIA} <media:description>")
    for desc in descriptions:
        dtype = desc.get("type", "plain")
        if dtype not in ("plain", "html"):
            report.error(f'{where}<media:description> has type={quote(dtype)} (expected "plain" or "html")',
                         f"{MEDIA} <media:description>")


_LOOKS_LIKE_MARKUP = re.compile(r"<[/A-Za-z][^<>]{0,30}>?|&#[xX]?[0-9A-Fa-f]+;?")
_HEX_REFS = re.compile(r"&#(?:x3[cC]|60|x26|38);")


def check_rss_plain_text(el: etree._Element, where: str, report: Report) -> None:
    """RSS Profile, character data: plain text that looks like markup must use &#x3C; / &#x26;.

    Some readers render RSS titles as HTML: a title such as 'the <new> model', written
    as 'the &lt;new&gt; model', loses its '<new>' there.
    """
    value = text_of(el)
    m = _LOOKS_LIKE_MARKUP.search(value)
    if not m:
        return
    first = (el.sourceline or 1) - 1
    raw = "\n".join(report.lines[first:first + 1 + value.count("\n")])
    if _HEX_REFS.search(raw):
        return
    report.warn(f"{where}<{el.tag}> {quote(value)} contains {quote(m.group())}, which readers that "
                "render it as HTML will drop (expected & and < written as &#x26; and &#x3C; in plain text)",
                "RSS Profile character data")

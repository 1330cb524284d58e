"""Names and small helpers every XML format check uses."""
from __future__ import annotations

import re

from lxml import etree

from .report import Report

__all__ = ["A", "ATOM_LINK", "ATOM_NS", "C1", "CONTENT_ENCODED", "DC_CREATOR", "MEDIA_NS", "XHTML_NS", "XML_BASE",
           "XML_LANG", "check_text_only", "children", "line_col", "tag_name", "text_of"]

ATOM_NS = "http://www.w3.org/2005/Atom"
XML_NS = "http://www.w3.org/XML/1998/namespace"
XHTML_NS = "http://www.w3.org/1999/xhtml"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
MEDIA_NS = "http://search.yahoo.com/mrss/"

A = "{%s}" % ATOM_NS
XML_LANG = "{%s}lang" % XML_NS
XML_BASE = "{%s}base" % XML_NS
ATOM_LINK = A + "link"
CONTENT_ENCODED = "{%s}encoded" % CONTENT_NS
DC_CREATOR = "{%s}creator" % DC_NS

C1 = re.compile("[\x80-\x9f]")


def text_of(el: etree._Element | None) -> str:
    """All text inside el, stripped ("" for a missing element)."""
    return "".join(el.itertext()).strip() if el is not None else ""


def tag_name(el: etree._Element) -> str:
    """The element's name as written (prefix:local)."""
    qn = etree.QName(el)
    return f"{el.prefix}:{qn.localname}" if el.prefix else qn.localname


def children(el: etree._Element) -> list[etree._Element]:
    """Child elements only (no comments or processing instructions)."""
    return [c for c in el if isinstance(c.tag, str)]


def line_col(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    return f"line {line}, column {pos - (text.rfind(chr(10), 0, pos) + 1) + 1}"


def check_text_only(el: etree._Element, where: str, ref: str, report: Report) -> None:
    """An element that holds text must not hold elements: raw HTML such as <p><a href=...> inside
    a <description> or <b> inside a <title>, written unescaped. Readers take the element's text
    and drop the markup, links and images with it; the HTML must be escaped or in CDATA."""
    kids = children(el)
    if not kids:
        return
    first = tag_name(kids[0])
    more = f" and {len(kids) - 1} more" if len(kids) > 1 else ""
    report.error(f"{where}<{tag_name(el)}> contains the element <{first}>{more} (line {kids[0].sourceline}), "
                 "unescaped: it holds text, so readers keep only the text and lose the markup, links and "
                 f"images (expected the HTML escaped, &lt;{first}&gt;, or inside <![CDATA[...]]>)", ref)

"""Atom 1.0 constructs (RFC 4287 §3, §4.2): text, content, persons, links, categories, dates, ids, URIs.

Values that RFC 4287 calls IRIs (href, src, uri, icon, logo, scheme) are
checked for RFC 3987 syntax; ids must be absolute and hold no whitespace at
all, not even around them.
"""
from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime

from lxml import etree

from .common import A, ATOM_LINK, XHTML_NS, children, tag_name, text_of
from .dates import rfc3339
from .report import Report, quote
from .values import (absolute_uri_problem, email_problem, html_in_text, http_problem, language_problem,
                     mime_problem, positive_integer_problem, reference_iri_problem)

__all__ = ["check_category", "check_content", "check_date", "check_id", "check_iri_element", "check_links",
           "check_person", "check_text"]

RFC = "RFC 4287"
_REGISTERED_RELS = {"alternate", "related", "self", "enclosure", "via", "first", "last", "next", "previous",
                    "prev", "hub", "license", "replies", "edit", "edit-media", "payment", "search", "current",
                    "service", "up", "describedby", "canonical", "icon", "author", "help", "archives", "ostatus",
                    "salmon", "bookmark", "shortlink", "memento", "original", "timegate", "timemap", "preview"}
_REL_NAME = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=@\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef%]+")


def check_text(el: etree._Element, where: str, report: Report) -> None:
    """A text construct (§3.1): type text, html or xhtml, and content to match."""
    name = etree.QName(el).localname
    ttype = el.get("type", "text")
    kids = children(el)
    ref = f"{RFC} §3.1"
    if ttype not in ("text", "html", "xhtml"):
        report.error(f'{where}<{name}> has type={quote(ttype)} (expected "text", "html" or "xhtml")', ref)
    elif ttype == "xhtml":
        if len(kids) != 1 or kids[0].tag != "{%s}div" % XHTML_NS or (el.text or "").strip():
            report.error(f'{where}<{name} type="xhtml"> (expected exactly one XHTML <div> child)', f"{ref}.3")
        else:
            _check_xhtml(kids[0], f"{where}<{name}>", report, f"{ref}.3")
    elif kids:
        report.error(f'{where}<{name} type="{ttype}"> contains the element <{tag_name(kids[0])}> '
                     '(expected escaped text, or type="xhtml")', f"{ref}.1")
    elif ttype == "text":
        markup = html_in_text(text_of(el))
        if markup:
            report.warn(f'{where}<{name}> is plain text but contains {quote(markup)}, which readers will show '
                        'as it is (expected type="html" for markup)', f"{ref}.1")


def check_content(content: etree._Element, entry: etree._Element, where: str, report: Report) -> None:
    """atom:content (§4.1.3): type, src, and what the type says the content is."""
    ctype = content.get("type", "text")
    src = content.get("src")
    kids = children(content)
    ref = f"{RFC} §4.1.3"
    if ctype in ("text", "html"):
        if kids:
            report.error(f'{where}<content type="{ctype}"> contains the element <{tag_name(kids[0])}> '
                         '(expected escaped text, or type="xhtml")', f"{ref}.3")
    elif ctype == "xhtml":
        if len(kids) != 1 or kids[0].tag != "{%s}div" % XHTML_NS:
            report.error(f'{where}<content type="xhtml"> (expected exactly one XHTML <div> child)', f"{ref}.3")
        else:
            _check_xhtml(kids[0], f"{where}<content>", report, f"{ref}.3")
    elif mime_problem(ctype, composite=False):
        report.error(f'{where}<content> has type={quote(ctype)} (expected "text", "html", "xhtml" '
                     "or a non-composite MIME type)", f"{ref}.1")
    elif kids and not ctype.lower().split(";")[0].strip().endswith(("/xml", "+xml")):
        report.error(f"{where}<content type={quote(ctype)}> contains the element <{tag_name(kids[0])}> "
                     "(expected text: only XML media types hold elements)", f"{ref}.3")
    if src is not None and content.get("type") in ("text", "html", "xhtml"):
        report.error(f'{where}<content src="..."> has type={quote(ctype)} (expected a MIME media type, '
                     'e.g. type="text/html", when src is given)', f"{ref}.1")
    if src is not None:
        problem = reference_iri_problem(src)
        if problem:
            report.error(f"{where}<content> src {quote(src)} {problem}", f"{ref}.2")
        if kids or (content.text or "").strip():
            report.error(f'{where}<content src="..."> is not empty (expected no content when src is given)', f"{ref}.2")
    lower = ctype.lower()
    binary = "/" in ctype and not (lower.startswith("text/") or lower.split(";")[0].endswith(("/xml", "+xml")))
    if (src is not None or binary) and entry.find(A + "summary") is None:
        report.error(f"{where}has <content> with src or a non-text type but no <summary> (expected a summary)",
                     f"{RFC} §4.1.1.1")
    if binary and src is None and not kids and not mime_problem(ctype, composite=False):
        data = re.sub(r"\s+", "", content.text or "")
        try:
            base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            report.error(f"{where}<content type={quote(ctype)}> is not Base64 (expected Base64 for a non-text, "
                         "non-XML type)", f"{ref}.3")


def _check_xhtml(div: etree._Element, where: str, report: Report, ref: str) -> None:
    """Inside the XHTML <div>: elements in a namespace (a forgotten xmlns leaves them in none)."""
    for el in div.iter():
        if isinstance(el.tag, str) and not etree.QName(el).namespace:
            report.error(f"{where}: the XHTML element <{el.tag}> (line {el.sourceline}) is in no namespace "
                         "(expected the XHTML namespace)", ref)
            return


def check_person(el: etree._Element, where: str, report: Report) -> None:
    """A person construct (§3.2): one name, at most one uri and email."""
    local = etree.QName(el).localname
    names = el.findall(A + "name")
    if len(names) != 1:
        report.error(f"{where}<{local}> has {len(names)} <name> elements (expected exactly one)", f"{RFC} §3.2.1")
    elif not text_of(names[0]):
        # atomName = element atom:name { text }: the grammar allows it empty
        report.warn(f"{where}<{local}> has an empty <name> (valid, but readers show no name; expected the "
                    "person's name)", f"{RFC} §3.2.1")
        report.house(f"{where}<{local}> has an empty <name> (feedpub requires the person's name)", "person name")
    for sub, most in (("uri", 1), ("email", 1)):
        if len(el.findall(A + sub)) > most:
            report.error(f"{where}<{local}> has {len(el.findall(A + sub))} <{sub}> elements (expected at most one)",
                         f"{RFC} §3.2")
    for kid in children(el):
        qn = etree.QName(kid)
        if qn.namespace == A[1:-1] and qn.localname not in ("name", "uri", "email"):
            report.error(f"{where}<{local}> contains <{qn.localname}>, which Atom does not define "
                         "(expected name, uri, email)", f"{RFC} §3.2")
    for email in el.findall(A + "email"):
        problem = email_problem(text_of(email))
        if problem:
            report.error(f"{where}<{local}> email {quote(text_of(email))} {problem}", f"{RFC} §3.2.3")
    for uri in el.findall(A + "uri"):
        check_iri_element(uri, where, report, f"{RFC} §3.2.2", label=f"<{local}> uri")


def check_iri_element(el: etree._Element, where: str, report: Report, ref: str, *, label: str = "") -> None:
    """An element whose content is an IRI reference (uri, icon, logo)."""
    label = label or f"<{etree.QName(el).localname}>"
    value = el.text or ""
    if not value.strip():
        report.error(f"{where}{label} is empty (expected an IRI)", ref)
    elif value != value.strip():
        report.error(f"{where}{label} {quote(value)} has whitespace around it (expected the IRI alone)", ref)
    else:
        problem = reference_iri_problem(value)
        if problem:
            report.error(f"{where}{label} {quote(value)} {problem}", ref)


def check_id(parent: etree._Element, where: str, report: Report) -> str:
    """atom:id (§4.2.6): an absolute IRI, nothing around it; returns the id as written."""
    el = parent.find(A + "id")
    if el is None:
        return ""
    value = el.text or ""
    ref = f"{RFC} §4.2.6"
    if value != value.strip():
        report.error(f"{where}<id> {quote(value)} has whitespace around it (expected the IRI alone: ids are "
                     "compared character by character)", ref)
        return value.strip()
    problem = absolute_uri_problem(value)
    if problem:
        report.error(f"{where}<id> {quote(value)} {problem} (expected an absolute IRI, e.g. https://... "
                     "or urn:...)", ref)
    return value


def check_date(el: etree._Element, where: str, report: Report) -> datetime | None:
    """A date construct (§3.3): RFC 3339 with uppercase T and Z."""
    value = el.text or ""
    name = etree.QName(el).localname
    check = rfc3339(value, upper=True)
    for p in check.errors:
        report.error(f"{where}<{name}> {quote(value)} {p}", f"{RFC} §3.3")
    if not check.errors and report.offset and check.zone and not report.offset.matches_rfc3339(check.zone):
        report.house(f"{where}<{name}> {quote(value)} has offset {check.zone} (expected {report.offset.rfc3339}, "
                     "the site's UTC offset)", "--expect-offset")
    return None if check.errors else check.when


def check_category(el: etree._Element, where: str, report: Report) -> None:
    """atom:category (§4.2.2): a term, a scheme IRI, a plain-text label."""
    ref = f"{RFC} §4.2.2"
    if el.get("term") is None:
        report.error(f"{where}<category> has no term (expected term=...)", ref)
    elif not el.get("term").strip():
        report.warn(f"{where}<category> has an empty term (expected a name)", ref)
    scheme = el.get("scheme")
    if scheme is not None:
        problem = absolute_uri_problem(scheme)
        if problem:
            report.error(f"{where}<category> scheme {quote(scheme)} {problem}", ref)
    label = el.get("label")
    if label is not None and html_in_text(label):
        report.warn(f"{where}<category> label {quote(label)} contains {quote(html_in_text(label))} (expected "
                    "plain text: readers show it as it is)", ref)


def check_links(parent: etree._Element, where: str, report: Report, *, level: str) -> bool:
    """atom:link (§4.2.7): href, rel, type, hreflang, length; duplicates; the feed's self link.

    Returns True if the parent has an alternate link.
    """
    alternates: dict[tuple[str, str], str] = {}
    selfs = []
    ref = f"{RFC} §4.2.7"
    for link in parent.findall(ATOM_LINK):
        href = link.get("href")
        rel = link.get("rel", "alternate")
        if rel != rel.strip():
            report.warn(f"{where}<link> rel={quote(rel)} has whitespace around it (expected the name alone)",
                        f"{ref}.2")
            rel = rel.strip()
        if href is None:
            report.error(f"{where}<link rel={quote(rel)}> has no href (expected an IRI)", f"{ref}.1")
            continue
        problem = reference_iri_problem(href)
        if problem:
            report.error(f"{where}<link rel={quote(rel)}> href {quote(href)} {problem}", f"{ref}.1")
        if ":" in rel:
            if absolute_uri_problem(rel):
                report.error(f"{where}<link> rel={quote(rel)} {absolute_uri_problem(rel)}", f"{ref}.2")
        elif not _REL_NAME.fullmatch(rel):
            report.error(f"{where}<link> rel={quote(rel)} is not a relation name or IRI", f"{ref}.2")
        elif rel.lower() not in _REGISTERED_RELS:
            report.warn(f"{where}<link> rel={quote(rel)} is not a registered relation (expected e.g. alternate, "
                        "self, enclosure, related, via, or an IRI)", f"{ref}.2")
        length = link.get("length")
        if length is not None and positive_integer_problem(length, zero=True):
            report.error(f"{where}<link rel={quote(rel)}> has length={quote(length)} (expected digits)", f"{ref}.6")
        ltype = link.get("type")
        if ltype is not None and mime_problem(ltype):
            report.error(f"{where}<link rel={quote(rel)}> has type={quote(ltype)}, which {mime_problem(ltype)}",
                         f"{ref}.3")
        hreflang = link.get("hreflang")
        if hreflang is not None and language_problem(hreflang):
            report.error(f"{where}<link> has hreflang={quote(hreflang)}, which {language_problem(hreflang)}",
                         f"{ref}.4")
        title = link.get("title")
        if title is not None and html_in_text(title):
            report.warn(f"{where}<link> title {quote(title)} contains {quote(html_in_text(title))} (expected plain "
                        "text: readers show it as it is)", f"{ref}.5")
        if rel == "self":
            selfs.append(link)
        if rel == "alternate":
            key = (ltype or "", hreflang or "")
            if key in alternates:
                report.error(f'{where}two <link rel="alternate"> with type={quote(key[0])} and '
                             f"hreflang={quote(key[1])}: {quote(alternates[key])} and {quote(href)} "
                             "(expected at most one per type and hreflang)", f"{RFC} §4.1.1")
            else:
                alternates[key] = href
    if level == "feed":
        if not selfs:
            report.warn(f'{where}no <link rel="self"> (expected one giving the feed\'s own URL)', f"{RFC} §4.1.1")
        for link in selfs:
            href = link.get("href") or ""
            if http_problem(href):
                report.house(f'{where}<link rel="self"> href {quote(href)} is not an absolute http(s) URL '
                             "(feedpub requires the feed's own URL: a relative one is lost when the feed is "
                             "saved or forwarded)", "self link")
            stype = link.get("type")
            if stype is not None and stype != "application/atom+xml":
                report.warn(f'{where}<link rel="self"> has type={quote(stype)} (expected "application/atom+xml")',
                            f"{RFC} §4.2.7.3")
    return bool(alternates)

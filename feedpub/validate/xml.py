"""XML files as bytes: encoding, characters and well-formedness, before any format's rules.

XML 1.0 allows any encoding it can name and no XML declaration for UTF-8;
feedpub writes UTF-8 with a declaration saying so, so those are its own rules.
A DOCTYPE and C1 control characters (text decoded with the wrong codec) are
feedpub's rules too: legal XML, but never in what it writes.
"""
from __future__ import annotations

import codecs
import re

from lxml import etree

from ..text import XML_FORBIDDEN
from .common import C1, line_col
from .report import Report, quote

__all__ = ["parse_xml"]

XML_REF = "XML 1.0"
_XML_DECL = re.compile(rb"""<\?xml\s+version\s*=\s*(["'])([^"']*)\1"""
                       rb"""(?:\s+encoding\s*=\s*(["'])([^"']*)\3)?"""
                       rb"""(?:\s+standalone\s*=\s*(["'])(yes|no)\5)?\s*\?>""")
NAMESPACES_REF = "Namespaces in XML 1.0"
# libxml2's namespace errors, by the section of Namespaces in XML 1.0 (Third Edition) each breaks.
_NAMESPACE_SECTIONS = {"WAR_NS_URI": "§3", "NS_ERR_XML_NAMESPACE": "§3", "NS_ERR_QNAME": "§4", "NS_ERR_COLON": "§4",
                       "NS_ERR_UNDEFINED_NAMESPACE": "§5", "NS_ERR_ATTRIBUTE_REDEFINED": "§6.3"}
_NS_URI = re.compile(r"(xmlns(?::[^:]+)?): '(.*)' is not a valid URI", re.S)


def _safe_parser(*, recover: bool = False) -> etree.XMLParser:
    """No entity expansion, no network, no DTD loading."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=False, recover=recover)


def parse_xml(data: bytes, report: Report) -> etree._Element | None:
    """Encoding, characters and well-formedness; the root element, or None when it cannot be parsed."""
    text = check_encoding(data, report)
    if text is None:
        return None
    if not check_characters(text, report):
        return None
    report.lines = text.splitlines()
    parser = _safe_parser()
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        root = _namespace_errors(data, exc, parser.error_log, report)
        if root is None:
            return None
    except (LookupError, ValueError) as exc:
        report.error(f"cannot be parsed: {exc}", f"{XML_REF} §4.3.3")
        return None
    doctype = root.getroottree().docinfo.doctype
    if doctype:
        report.house(f"has a DOCTYPE {quote(doctype)} (feedpub requires none: feeds need no DTD, "
                     "and readers refuse entity declarations)", "no DOCTYPE")
    check_c1_in_tree(root, report, already=C1.search(text) is not None)
    return root


def _namespace_errors(data: bytes, exc: etree.XMLSyntaxError, log, report: Report) -> etree._Element | None:
    """The errors of a parse that failed; the tree when the document can still be checked.

    A namespace violation (a namespace name that is not a URI, a prefix never declared) is not an
    XML 1.0 well-formedness error: it is cited as a Namespaces in XML error. When namespace names
    that are not URIs are all that is wrong, the tree is read anyway for the format's own checks.
    Anything else stops the check there."""
    namespace = [e for e in log if e.domain_name == "NAMESPACE"]
    for e in namespace:
        m = _NS_URI.fullmatch(e.message.strip())
        if m:
            where = "with a space" if " " in m.group(2) else "with a character a URI may not hold"
            message = (f"the namespace name {quote(m.group(2))} ({m.group(1)}) is not a URI reference: it is written "
                       f"{where} (expected a URI, characters such as a space percent-encoded)")
        else:
            message = f"{e.message.strip()} (expected namespace-well-formed XML)"
        section = _NAMESPACE_SECTIONS.get(e.type_name, "")
        report.error(f"line {e.line}: {message}", f"{NAMESPACES_REF} {section}".strip())
    other = [e for e in log if e.domain_name != "NAMESPACE" and e.level_name in ("ERROR", "FATAL")]
    if namespace and not other and all(e.type_name == "WAR_NS_URI" for e in namespace):
        try:
            return etree.fromstring(data, _safe_parser(recover=True))
        except etree.XMLSyntaxError:
            return None
    if other:
        first = other[0]
        report.error(f"line {first.line}: is not well-formed XML: {first.message.strip()}, line {first.line}, "
                     f"column {first.column}", f"{XML_REF} §2.1")
    elif not namespace:
        msg = re.sub(r"\s*\(<string>, line \d+\)$", "", str(exc))
        report.error(f"line {exc.lineno}: is not well-formed XML: {msg}", f"{XML_REF} §2.1")
    return None


def check_encoding(data: bytes, report: Report) -> str | None:
    """The encoding the document declares (or implies), and bytes that are in it; the decoded text.

    feedpub's own rule on top: UTF-8, with an XML declaration saying so, as the very first bytes.
    """
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        report.house("is UTF-16 (byte order mark) (feedpub requires UTF-8)", "UTF-8")
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            report.error("is not valid UTF-16 after its byte order mark", f"{XML_REF} §4.3.3")
            return None
    if data.startswith(b"\xef\xbb\xbf"):
        report.warn("starts with a UTF-8 byte order mark (expected none; some readers mishandle it)", "RSS Profile")
        data = data[3:]
    encoding = "utf-8"
    m = _XML_DECL.match(data)
    if not m:
        if data.lstrip()[:5] == b"<?xml":
            report.error("has text before the XML declaration (expected <?xml ...?> as the very first bytes)",
                         f"{XML_REF} §2.8")
        else:
            report.house('has no XML declaration (feedpub requires <?xml version="1.0" encoding="UTF-8"?> '
                         "on the first line)", "XML declaration")
    else:
        if m.group(2) != b"1.0":
            report.error(f'XML declaration has version="{m.group(2).decode("ascii", "replace")}" (expected "1.0")',
                         f"{XML_REF} §2.8")
        enc = m.group(4)
        if enc is None:
            report.house('XML declaration has no encoding (feedpub requires encoding="UTF-8")', "UTF-8")
        else:
            name = enc.decode("ascii", "replace")
            if name.lower() not in ("utf-8", "utf8"):
                report.house(f'XML declaration says encoding="{name}" (feedpub requires "UTF-8")', "UTF-8")
            try:
                encoding = codecs.lookup(name).name
            except LookupError:
                report.error(f'XML declaration names the unknown encoding "{name}"', f"{XML_REF} §4.3.3")
                return None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        shown = "UTF-8" if encoding == "utf-8" else encoding
        report.error(f"is not valid {shown}: byte 0x{data[exc.start]:02X} at line {line}, "
                     f"offset {exc.start} (expected {shown} text)", f"{XML_REF} §4.3.3")
        return None


def check_characters(text: str, report: Report) -> bool:
    """No character XML 1.0 forbids (False if any); C1 controls (U+0080..U+009F) are feedpub's rule."""
    ok = True
    illegal = list(XML_FORBIDDEN.finditer(text))
    if illegal:
        first = illegal[0]
        more = f" ({len(illegal) - 1} more)" if len(illegal) > 1 else ""
        report.error(f"{line_col(text, first.start())}: character U+{ord(first.group()):04X} is not allowed "
                     f"in XML 1.0{more} (expected no control characters other than tab, newline, return)",
                     f"{XML_REF} §2.2")
        ok = False
    c1 = list(C1.finditer(text))
    if c1:
        first = c1[0]
        more = f" ({len(c1) - 1} more)" if len(c1) > 1 else ""
        report.house(f"{line_col(text, first.start())}: C1 control character U+{ord(first.group()):04X}{more} "
                     "(expected none; text decoded with the wrong codec, e.g. Windows-1252 as Latin-1?)",
                     "no C1 controls")
    return ok


def check_c1_in_tree(root: etree._Element, report: Report, *, already: bool) -> None:
    """C1 controls written as character references (&#x85;) only show up after parsing."""
    if already:
        return
    for el in root.iter():
        values = [el.text, el.tail]
        if isinstance(el.tag, str):
            values.extend(el.attrib.values())
        for value in values:
            if value and C1.search(value):
                ch = C1.search(value).group()
                report.house(f"line {el.sourceline}: C1 control character U+{ord(ch):04X} in a character "
                             "reference (expected none; text decoded with the wrong codec?)", "no C1 controls")
                return

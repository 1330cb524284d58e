"""Two rules about characters, each with one home: what a feed may carry, and what a message may print.

- XML-legal text: XML 1.0 forbids C0 controls (except tab, newline, return),
  lone surrogates and U+FFFE/U+FFFF; feedpub also removes what XML 1.0 §2.2
  discourages and no reader shows: DEL, the C1 controls and every Unicode
  noncharacter. Record text, sanitised HTML and pages all pass through here.
- Printable messages: an error or warning line quotes data; control, format
  and bidi characters in it are escaped (``\\x1b``, ``\\u202e``), so a record
  can neither forge a second log line nor drive the terminal.
"""
from __future__ import annotations

import re

__all__ = ["ILLEGAL_XML", "XML_FORBIDDEN", "has_illegal_xml", "printable", "strip_illegal_xml"]

_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(17))
_FORBIDDEN = "\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"
XML_FORBIDDEN = re.compile(f"[{_FORBIDDEN}]")          # what XML 1.0 itself forbids (the Char production)
# What feedpub never writes. The plain class is slow: its 32 supplementary-plane noncharacters keep
# the regex engine from using its BMP bitmap, so every character of an article body was tested
# against each of them. The first class is the BMP set plus every supplementary code point, tested
# with the bitmap and one range; only a character it matches is checked against the exact class.
ILLEGAL_XML = re.compile(f"[{_FORBIDDEN}\x7f-\x9f\ufdd0-\ufdef\U00010000-\U0010ffff]"
                         f"(?<=[{_FORBIDDEN}\x7f-\x9f{_NONCHARACTERS}])")

def has_illegal_xml(text: str) -> bool:
    """True when text holds a character feedpub never writes into XML."""
    return ILLEGAL_XML.search(text) is not None


def strip_illegal_xml(text: str) -> tuple[str, int]:
    """(text without the characters feedpub never writes into XML, how many were removed)."""
    if ILLEGAL_XML.search(text) is None:
        return text, 0
    return ILLEGAL_XML.subn("", text)


def _escape(char: str) -> str:
    if char.isprintable():
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str) -> str:
    """text for one line of a terminal or log: every character Unicode calls Other or Separator
    (controls, format and bidi marks, line breaks, surrogates, unassigned code points, spaces other
    than U+0020) escaped, so the result is str.isprintable()."""
    if text.isprintable():
        return text
    return "".join(map(_escape, text))

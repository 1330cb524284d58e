"""One rule for XML-legal text and one for printable messages (feedpub.text)."""
from __future__ import annotations

import pytest

from feedpub.text import XML_FORBIDDEN, has_illegal_xml, printable, strip_illegal_xml


@pytest.mark.parametrize("char", ["\x00", "\x08", "\x0b", "\x1f", "\x7f", "\x85", "\x9f", "\ud800", "\udfff",
                                  "\ufdd0", "\ufdef", "\ufffe", "\uffff", "\U0001fffe", "\U0010ffff"])
def test_feedpub_never_writes_controls_surrogates_or_noncharacters(char):
    assert has_illegal_xml(f"a{char}b")
    assert strip_illegal_xml(f"a{char}b{char}") == ("ab", 2)


@pytest.mark.parametrize("text", ["Xã hội 🇻🇳", "tab\tnew\nline\r", "\u00a0\u200b\u202e", "\ufdcf\ufdf0\ufffd"])
def test_legal_text_is_kept_as_is(text):
    assert not has_illegal_xml(text)
    assert strip_illegal_xml(text) == (text, 0)


def test_the_xml_spec_set_is_narrower_than_what_feedpub_removes():
    assert XML_FORBIDDEN.search("\x00") and XML_FORBIDDEN.search("\ufffe")
    assert not XML_FORBIDDEN.search("\x85\x7f\ufdd0\t\n\r")


@pytest.mark.parametrize("raw, shown", [
    ("a\rb", "a\\x0db"),
    ("x\n2021-12-02 fake line", "x\\x0a2021-12-02 fake line"),
    ("\x1b[31mred", "\\x1b[31mred"),
    ("abc\u202edcba", "abc\\u202edcba"),
    ("\u2066iso\u2069", "\\u2066iso\\u2069"),
    ("line\u2028sep", "line\\u2028sep"),
    ("\x85", "\\x85"),
    ("Thứ Năm, 02/12/2021", "Thứ Năm, 02/12/2021"),
])
def test_messages_escape_controls_separators_and_bidi(raw, shown):
    assert printable(raw) == shown
    assert printable(printable(raw)) == shown          # idempotent: escaping twice changes nothing


def test_the_rule_matches_exactly_the_characters_it_names():
    """ILLEGAL_XML is written for speed (a wide first class, then an exact check): it must still
    match exactly XML-forbidden, DEL, C1 and the noncharacters, over every code point."""
    from feedpub.text import ILLEGAL_XML
    nonchars = {*range(0xFDD0, 0xFDF0), *(plane << 16 | low for plane in range(17) for low in (0xFFFE, 0xFFFF))}
    expected = {c for c in range(0x110000)
                if (c < 0x20 and c not in (0x09, 0x0A, 0x0D)) or 0x7F <= c <= 0x9F or 0xD800 <= c <= 0xDFFF
                or c in nonchars}
    text = "".join(map(chr, range(0x110000)))
    assert {ord(m.group()) for m in ILLEGAL_XML.finditer(text)} == expected
    assert ILLEGAL_XML.subn("", text)[1] == len(expected)

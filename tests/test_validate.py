"""feedpub.validate: checks on generated feed files, judged only by their bytes.

Every sample below is a small hand-written feed. The broken ones are modelled on
common real-world mistakes (wrong weekday, offset with a colon in RSS, local time
labelled GMT, missing guid, ...). Each test states the exact findings expected.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from feedpub.validate import FileResult, Finding, format_results, validate_bytes, validate_output

REPO = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------- samples

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"
     xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>Tin Long An</title>
    <link>https://news.example.vn/vi/</link>
    <description>Tin tức mới nhất về tỉnh Long An</description>
    <atom:link href="https://news.example.vn/vi/rss.xml" rel="self" type="application/rss+xml"/>
    <language>vi</language>
    <lastBuildDate>Sat, 04 Dec 2021 08:00:00 +0700</lastBuildDate>
    <item>
      <title>Gió mùa đông bắc tràn về</title>
      <link>https://news.example.vn/vi/gio-mua</link>
      <description>Nhiệt độ giảm mạnh.</description>
      <content:encoded>&lt;p&gt;Nhiệt độ giảm &lt;b&gt;mạnh&lt;/b&gt;.&lt;/p&gt;</content:encoded>
      <guid isPermaLink="false">https://news.example.vn/id/a1</guid>
      <enclosure url="https://news.example.vn/img/a1.jpg" length="24680" type="image/jpeg"/>
      <pubDate>Fri, 03 Dec 2021 23:30:00 +0700</pubDate>
      <dc:creator>Nguyễn Văn An</dc:creator>
    </item>
    <item>
      <title>Giá lúa tăng</title>
      <link>https://news.example.vn/vi/gia-lua</link>
      <description>Giá lúa tăng 5%.</description>
      <guid isPermaLink="false">https://news.example.vn/id/a2</guid>
      <pubDate>Thu, 02 Dec 2021 06:00:00 +0700</pubDate>
    </item>
  </channel>
</rss>
"""

ATOM = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="vi">
  <id>https://news.example.vn/vi/</id>
  <title>Tin Long An</title>
  <updated>2021-12-04T08:00:00+07:00</updated>
  <author><name>Ban biên tập</name></author>
  <link href="https://news.example.vn/vi/atom.xml" rel="self" type="application/atom+xml"/>
  <link href="https://news.example.vn/vi/" rel="alternate" type="text/html"/>
  <subtitle>Tin tức mới nhất</subtitle>
  <entry>
    <id>https://news.example.vn/id/a1</id>
    <title>Gió mùa đông bắc tràn về</title>
    <updated>2021-12-04T08:00:00+07:00</updated>
    <published>2021-12-03T23:30:00+07:00</published>
    <link href="https://news.example.com/en/monsoon" rel="alternate" type="text/html" hreflang="en"/>
    <link href="https://news.example.vn/vi/gio-mua" rel="alternate" type="text/html" hreflang="vi"/>
    <summary>Nhiệt độ giảm mạnh.</summary>
    <content type="html">&lt;p&gt;Nhiệt độ giảm &lt;b&gt;mạnh&lt;/b&gt;.&lt;/p&gt;</content>
  </entry>
  <entry>
    <id>https://news.example.vn/id/a2</id>
    <title>Giá lúa tăng</title>
    <updated>2021-12-02T06:00:00+07:00</updated>
    <published>2021-12-02T06:00:00+07:00</published>
    <link href="https://news.example.vn/vi/gia-lua"/>
    <content type="html">&lt;p&gt;Giá lúa tăng 5%.&lt;/p&gt;</content>
  </entry>
</feed>
"""

JSONFEED = """{
  "version": "https://jsonfeed.org/version/1.1",
  "title": "Tin Long An",
  "home_page_url": "https://news.example.vn/vi/",
  "feed_url": "https://news.example.vn/vi/feed.json",
  "language": "vi",
  "authors": [{"name": "Ban biên tập"}],
  "items": [
    {
      "id": "https://news.example.vn/id/a1",
      "url": "https://news.example.vn/vi/gio-mua",
      "title": "Gió mùa đông bắc tràn về",
      "content_html": "<p>Nhiệt độ giảm mạnh.</p>",
      "date_published": "2021-12-03T23:30:00+07:00",
      "date_modified": "2021-12-04T08:00:00+07:00",
      "tags": ["Thời tiết"],
      "authors": [{"name": "Nguyễn Văn An", "url": "https://news.example.vn/tac-gia/an"}],
      "attachments": [{"url": "https://news.example.vn/img/a1.jpg", "mime_type": "image/jpeg",
                       "size_in_bytes": 24680}]
    },
    {
      "id": "https://news.example.vn/id/a2",
      "content_text": "Giá lúa tăng 5%.",
      "date_published": "2021-12-02T06:00:00+07:00"
    }
  ]
}
"""

I1 = "item 1 (https://news.example.vn/id/a1): "
I2 = "item 2 (https://news.example.vn/id/a2): "
E1 = "entry 1 (https://news.example.vn/id/a1): "
E2 = "entry 2 (https://news.example.vn/id/a2): "


def edit(text: str, old: str, new: str, count: int = 1) -> str:
    """text with old replaced by new; old must occur exactly count times (so no edit silently misses)."""
    assert text.count(old) == count, (old, text.count(old))
    return text.replace(old, new)


def found(data: str | bytes, name: str, offset: str | None = None, *, spec_only: bool = False
          ) -> list[tuple[str, str]]:
    """(label, message) of every finding: label is "error", "feedpub rule" or "warning"."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return [(f.label, f.message) for f in validate_bytes(raw, name, expect_offset=offset, spec_only=spec_only).findings]


def errors(data: str | bytes, name: str, offset: str | None = None) -> list[str]:
    return [m for label, m in found(data, name, offset) if label != "warning"]


# --------------------------------------------------------------------------- the good samples


@pytest.mark.parametrize("offset", [None, "+07:00", "+0700"])
@pytest.mark.parametrize("data,name,kind", [(RSS, "vi/rss.xml", "rss"), (ATOM, "vi/atom.xml", "atom"),
                                            (JSONFEED, "vi/feed.json", "jsonfeed")])
def test_clean_samples_have_no_findings(data, name, kind, offset):
    result = validate_bytes(data.encode(), name, expect_offset=offset)
    assert result == FileResult(name, kind, [])
    assert result.ok


def test_finding_str_names_the_file():
    (finding,) = validate_bytes(edit(RSS, "Fri, 03 Dec", "Thu, 03 Dec").encode(), "vi/rss.xml").findings
    assert finding == Finding("vi/rss.xml", "error", I1 + 'pubDate "Thu, 03 Dec 2021 23:30:00 +0700" has the wrong '
                                                          "weekday (expected Fri)", "RSS 2.0 date-times (RFC 822 §5)")
    assert str(finding) == ('vi/rss.xml: item 1 (https://news.example.vn/id/a1): pubDate '
                            '"Thu, 03 Dec 2021 23:30:00 +0700" has the wrong weekday (expected Fri) '
                            "[RSS 2.0 date-times (RFC 822 §5)]")
    assert finding.label == "error" and not finding.house


def test_bad_expect_offset_is_refused():
    with pytest.raises(ValueError, match="expected a UTC offset like"):
        validate_bytes(RSS.encode(), "vi/rss.xml", expect_offset="ICT")
    with pytest.raises(ValueError):
        validate_output(Path("."), expect_offset="+7")


# --------------------------------------------------------------------------- XML bytes and characters


def test_no_xml_declaration():
    data = RSS.split("\n", 1)[1]
    assert found(data, "vi/rss.xml") == [
        ("feedpub rule", 'has no XML declaration (feedpub requires <?xml version="1.0" encoding="UTF-8"?> on the '
                         "first line)")]
    assert found(data, "vi/rss.xml", spec_only=True) == []


def test_declaration_after_whitespace():
    first, second = errors("\n" + RSS, "vi/rss.xml")
    assert first == "has text before the XML declaration (expected <?xml ...?> as the very first bytes)"
    assert second.startswith("line 2: is not well-formed XML: XML declaration allowed only at the start")


def test_declaration_without_encoding():
    data = edit(RSS, ' encoding="UTF-8"', "")
    assert found(data, "vi/rss.xml") == [("feedpub rule", 'XML declaration has no encoding (feedpub requires encoding="UTF-8")')]


def test_single_quoted_lowercase_utf8_declaration_is_fine():
    data = edit(RSS, '<?xml version="1.0" encoding="UTF-8"?>', "<?xml version='1.0' encoding='utf-8'?>")
    assert found(data, "vi/rss.xml") == []


def test_latin1_declared_ascii_only():
    data = edit(RSS, 'encoding="UTF-8"', 'encoding="ISO-8859-1"').encode("ascii", "xmlcharrefreplace")
    assert found(data, "vi/rss.xml") == [
        ("feedpub rule", 'XML declaration says encoding="ISO-8859-1" (feedpub requires "UTF-8")')]
    assert found(data, "vi/rss.xml", spec_only=True) == []


def test_latin1_declared_and_latin1_bytes():
    data = edit(RSS, 'encoding="UTF-8"', 'encoding="ISO-8859-1"')
    data = edit(data, "Tin tức mới nhất về tỉnh Long An", "Café").encode("utf-8").replace(
        "é".encode("utf-8"), b"\xe9")
    # read as Latin-1, the UTF-8 Vietnamese elsewhere in the file turns into C1 controls: mojibake
    assert found(data, "vi/rss.xml") == [
        ("feedpub rule", 'XML declaration says encoding="ISO-8859-1" (feedpub requires "UTF-8")'),
        ("feedpub rule", "line 12, column 25: C1 control character U+0091 (11 more) (expected none; text decoded "
                         "with the wrong codec, e.g. Windows-1252 as Latin-1?)")]


def test_invalid_utf8():
    data = RSS.encode().replace("Giá lúa tăng</title>".encode(), b"Gi\xe1 l\xfaa</title>")
    result = validate_bytes(data, "vi/rss.xml")
    assert result.kind == "rss"
    assert [(f.level, f.message) for f in result.findings] == [
        ("error", "is not valid UTF-8: byte 0xE1 at line 22, offset 1155 (expected UTF-8 text)")]


def test_utf16_is_refused():
    data = edit(RSS, "UTF-8", "UTF-16").encode("utf-16")
    assert found(data, "vi/rss.xml") == [("feedpub rule", "is UTF-16 (byte order mark) (feedpub requires UTF-8)")]


def test_utf8_bom_is_a_warning():
    assert found(b"\xef\xbb\xbf" + RSS.encode(), "vi/rss.xml") == [
        ("warning", "starts with a UTF-8 byte order mark (expected none; some readers mishandle it)")]


def test_control_character():
    data = edit(RSS, "Giá lúa tăng</title>", "Giá lúa\x0btăng</title>")
    assert found(data, "vi/rss.xml") == [
        ("error", "line 22, column 21: character U+000B is not allowed in XML 1.0 "
                  "(expected no control characters other than tab, newline, return)")]


def test_c1_control_character():
    # U+0092 is what Windows-1252's right quote becomes when the text is decoded as Latin-1
    data = edit(RSS, "Giá lúa tăng</title>", "Giá lúa\u0092s</title>")
    assert found(data, "vi/rss.xml") == [
        ("feedpub rule", "line 22, column 21: C1 control character U+0092 "
                  "(expected none; text decoded with the wrong codec, e.g. Windows-1252 as Latin-1?)")]


def test_c1_control_character_reference():
    data = edit(RSS, "Giá lúa tăng</title>", "Giá lúa&#x92;s</title>")
    assert found(data, "vi/rss.xml") == [
        ("feedpub rule", "line 22: C1 control character U+0092 in a character reference "
                  "(expected none; text decoded with the wrong codec?)")]


def test_not_well_formed():
    data = edit(RSS, "<title>Giá lúa tăng</title>", "<title>Giá lúa tăng")
    (finding,) = validate_bytes(data.encode(), "vi/rss.xml").findings
    assert finding.level == "error"
    assert finding.message.startswith("line 27: is not well-formed XML: Opening and ending tag mismatch: title line 22")


def test_undefined_entity_is_not_well_formed():
    data = edit(RSS, "Giá lúa tăng</title>", "Giá&nbsp;lúa</title>")
    (finding,) = validate_bytes(data.encode(), "vi/rss.xml").findings
    assert finding.message.startswith("line 22: is not well-formed XML: Entity 'nbsp' not defined")


def test_external_entities_are_never_loaded(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    data = edit(RSS, "<rss ", f'<!DOCTYPE rss [<!ENTITY x SYSTEM "{secret.as_uri()}">]>\n<rss ')
    data = edit(data, "<title>Giá lúa tăng</title>", "<title>Giá &x;</title>")
    result = validate_bytes(data.encode(), "vi/rss.xml")
    assert "TOP-SECRET" not in repr(result)
    assert [(f.label, f.message) for f in result.findings] == [
        ("feedpub rule", 'has a DOCTYPE "<!DOCTYPE rss>" (feedpub requires none: feeds need no DTD, and readers '
                         "refuse entity declarations)")]


# --------------------------------------------------------------------------- RSS dates


@pytest.mark.parametrize("date,problem", [
    ("Thu, 03 Dec 2021 23:30:00 +0700", "has the wrong weekday (expected Fri)"),
    ("Fri, 03 Dec 2021 23:30:00 +07:00", 'has offset "+07:00" with a colon (expected +HHMM, e.g. +0700, or GMT)'),
    ("Fri, 03 Dec 2021 23:30:00 ICT", 'has time zone "ICT" (expected a numeric offset like +0700, or GMT)'),
    ("Fri, 03 Dez 2021 23:30:00 +0700", 'has month name "Dez" (expected one of Jan, Feb, Mar, Apr, May, Jun, '
                                        'Jul, Aug, Sep, Oct, Nov, Dec)'),
    ("T6, 03 Dec 2021 23:30:00 +0700", 'has day name "T6" (expected one of Mon, Tue, Wed, Thu, Fri, Sat, Sun)'),
    ("Fri, 31 Nov 2021 23:30:00 +0700", "is not a real date and time"),
    ("03/12/2021 23:30", 'is not an RFC 822 date-time (expected e.g. "Thu, 02 Dec 2021 23:30:00 +0700")'),
    ("2021-12-03T23:30:00+07:00", 'is not an RFC 822 date-time (expected e.g. "Thu, 02 Dec 2021 23:30:00 +0700")'),
])
def test_rss_item_date_problems(date, problem):
    data = edit(RSS, "Fri, 03 Dec 2021 23:30:00 +0700", date)
    assert found(data, "vi/rss.xml") == [("error", f'{I1}pubDate "{date}" {problem}')]


@pytest.mark.parametrize("date,problem", [
    ("Fri, 03 Dec 21 23:30:00 +0700", 'has year "21" (feedpub requires a 4-digit year)'),
    ("Fri, 03 Dec 2021 23:30:00 PST", 'has time zone "PST" (feedpub requires a numeric offset like +0700, or GMT)'),
    ("Fri, 03 Dec 2021 23:30:00 UT", 'has time zone "UT" (feedpub requires a numeric offset like +0700, or GMT)'),
    ("fri, 03 dec 2021 23:30:00 +0700", "has a day or month name in the wrong case (feedpub requires e.g. Thu, Dec)"),
    ("Fri (Friday), 03 Dec 2021 23:30:00 +0700", "has comments in parentheses (feedpub requires the date alone)"),
])
def test_rss_dates_rfc822_allows_but_feedpub_does_not(date, problem):
    """RSS 2.0 allows 2-digit years; RFC 822 named zones, any case and comments: legal, not feedpub's."""
    data = edit(RSS, "Fri, 03 Dec 2021 23:30:00 +0700", date)
    assert found(data, "vi/rss.xml") == [("feedpub rule", f'{I1}pubDate "{date}" {problem}')]
    assert found(data, "vi/rss.xml", spec_only=True) == []


def test_rss_military_zone_is_legal_but_a_warning():
    data = edit(RSS, "Fri, 03 Dec 2021 23:30:00 +0700", "Fri, 03 Dec 2021 23:30:00 A")
    assert found(data, "vi/rss.xml", spec_only=True) == [
        ("warning", f'{I1}pubDate "Fri, 03 Dec 2021 23:30:00 A" has the military time zone "A", whose sign RFC 822 '
                    "got backwards: readers disagree about it (RFC 1123 §5.2.14; expected a numeric offset)")]
    assert ("feedpub rule", f'{I1}pubDate "Fri, 03 Dec 2021 23:30:00 A" has the military time zone "A" (feedpub '
                            "requires a numeric offset like +0700, or GMT)") in found(data, "vi/rss.xml")


@pytest.mark.parametrize("date", ["03 Dec 2021 23:30:00 +0700", "Fri, 3 Dec 2021 23:30 +0700",
                                  "Fri, 03 Dec 2021 16:30:00 GMT", "Fri, 03 Dec 2021 11:30:00 -0500"])
def test_rss_dates_rfc822_allows(date):
    assert found(edit(RSS, "Fri, 03 Dec 2021 23:30:00 +0700", date), "vi/rss.xml") == []


def test_rss_channel_date_problem():
    data = edit(RSS, "Sat, 04 Dec 2021 08:00:00 +0700", "Sat, 04 Dec 2021 08:00:00 +07:00")
    assert errors(data, "vi/rss.xml") == [
        'channel: lastBuildDate "Sat, 04 Dec 2021 08:00:00 +07:00" has offset "+07:00" with a colon '
        "(expected +HHMM, e.g. +0700, or GMT)"]


def test_local_time_labelled_gmt_only_fails_with_expected_offset():
    data = edit(RSS, "Fri, 03 Dec 2021 23:30:00 +0700", "Fri, 03 Dec 2021 23:30:00 GMT")
    assert found(data, "vi/rss.xml") == []
    assert found(data, "vi/rss.xml", "+07:00") == [
        ("feedpub rule", f'{I1}pubDate "Fri, 03 Dec 2021 23:30:00 GMT" has offset GMT '
                  "(expected +0700, the site's UTC offset)")]
    assert found(data, "vi/rss.xml", "+0700") == found(data, "vi/rss.xml", "+07:00")


def test_expected_offset_checks_channel_dates():
    data = edit(RSS, "Sat, 04 Dec 2021 08:00:00 +0700", "Sat, 04 Dec 2021 01:00:00 +0000")
    assert found(data, "vi/rss.xml", "+07:00") == [
        ("feedpub rule", 'channel: lastBuildDate "Sat, 04 Dec 2021 01:00:00 +0000" has offset +0000 '
                  "(expected +0700, the site's UTC offset)")]


def test_expected_utc_offset_accepts_gmt():
    data = RSS.replace(" +0700<", " GMT<")
    assert found(data, "vi/rss.xml", "+00:00") == []
    assert len(errors(data, "vi/rss.xml", "+07:00")) == 3


# --------------------------------------------------------------------------- RSS structure


def test_item_without_link_and_guid():
    data = edit(RSS, "      <link>https://news.example.vn/vi/gia-lua</link>\n", "")
    data = edit(data, '      <guid isPermaLink="false">https://news.example.vn/id/a2</guid>\n', "")
    assert found(data, "vi/rss.xml") == [
        ("feedpub rule", "item 2: has no <link> (feedpub requires the article's absolute URL)"),
        ("feedpub rule", "item 2: has no <guid> (feedpub requires a permanent unique id)")]
    assert found(data, "vi/rss.xml", spec_only=True) == []


def test_item_without_pubdate():
    data = edit(RSS, "      <pubDate>Thu, 02 Dec 2021 06:00:00 +0700</pubDate>\n", "")
    assert found(data, "vi/rss.xml") == [
        ("feedpub rule", f"{I2}has no <pubDate> (feedpub requires the publication date; readers sort items by it)")]


def test_channel_without_items_is_valid():
    """A language with nothing published yet: RSS 2.0 allows a channel without items, and so does feedpub."""
    head, _, _ = RSS.partition("    <item>")
    data = head + "  </channel>\n</rss>\n"
    assert found(data, "vi/rss.xml") == [
        ("warning", "channel: has no <item> (valid, e.g. for a language with nothing published yet; readers show an "
                    "empty feed)")]


def test_guid_that_is_not_a_url_must_say_so():
    data = edit(RSS, '<guid isPermaLink="false">https://news.example.vn/id/a2</guid>', "<guid>a2</guid>")
    assert found(data, "vi/rss.xml") == [
        ("error", 'item 2 (a2): <guid> "a2" has no isPermaLink, which means true, but is not absolute: it has '
                  'no scheme such as https: (expected a URL, or isPermaLink="false")')]
    data = edit(data, "<guid>a2</guid>", '<guid isPermaLink="true">a2</guid>')
    assert found(data, "vi/rss.xml") == [
        ("error", 'item 2 (a2): <guid> "a2" has isPermaLink="true" but is not absolute: it has no scheme such '
                  'as https: (expected a URL, or isPermaLink="false")')]
    data = edit(data, 'isPermaLink="true">a2', 'isPermaLink="false">a2')
    assert found(data, "vi/rss.xml") == []
    data = edit(data, 'isPermaLink="false">a2', 'isPermaLink="no">a2')
    assert errors(data, "vi/rss.xml") == ['item 2 (a2): <guid> has isPermaLink="no" (expected "true" or "false")']


def test_permalink_guid_that_is_a_url_is_fine():
    data = edit(RSS, '<guid isPermaLink="false">https://news.example.vn/id/a2</guid>',
                "<guid>https://news.example.vn/vi/gia-lua</guid>")
    assert found(data, "vi/rss.xml") == []


def test_duplicate_guids():
    data = edit(RSS, "https://news.example.vn/id/a2</guid>", "https://news.example.vn/id/a1</guid>")
    assert found(data, "vi/rss.xml") == [
        ("error", 'item 2 (https://news.example.vn/id/a1): <guid> "https://news.example.vn/id/a1" is also the '
                  "guid of item 1 (expected unique guids)")]


def test_enclosures():
    bad = '<enclosure url="/img/a1.jpg" length="" type="jpeg"/>'
    data = edit(RSS, '<enclosure url="https://news.example.vn/img/a1.jpg" length="24680" type="image/jpeg"/>',
                bad + "\n      " + bad)
    each = [
        ("error", f'{I1}<enclosure> url "/img/a1.jpg" is not absolute: it has no scheme such as https: '
                  "(expected an absolute URL)"),
        ("error", f'{I1}<enclosure> length "" is not a number of bytes (expected digits)'),
        ("error", f'{I1}<enclosure> type "jpeg" is not a MIME type (expected type/subtype, e.g. image/jpeg, '
                  "RFC 2045 §5.1)")]
    assert found(data, "vi/rss.xml") == [
        ("warning", f"{I1}2 <enclosure> elements (expected at most one; many readers show only the first)")] + each * 2


def test_enclosure_without_length():
    data = edit(RSS, ' length="24680"', "")
    assert found(data, "vi/rss.xml") == [
        ("error", f"{I1}<enclosure> has no length attribute (expected its size in bytes)")]


def test_content_encoded_before_description():
    desc = "      <description>Nhiệt độ giảm mạnh.</description>\n"
    data = edit(RSS, desc, "")
    data = edit(data, "      <guid isPermaLink=\"false\">https://news.example.vn/id/a1", desc.rstrip("\n")
                + "\n      <guid isPermaLink=\"false\">https://news.example.vn/id/a1")
    assert found(data, "vi/rss.xml") == [
        ("feedpub rule", f"{I1}<content:encoded> comes before <description> (feedpub requires description first, "
                         "as the RSS Profile recommends)")]


def test_content_encoded_without_description():
    data = edit(RSS, "      <description>Nhiệt độ giảm mạnh.</description>\n", "")
    assert found(data, "vi/rss.xml") == [
        ("warning", f"{I1}has <content:encoded> but no <description> (expected a description too)")]


def test_author_and_dc_creator():
    data = edit(RSS, "<dc:creator>", "<author>an@news.example.vn (Nguyễn Văn An)</author>\n      <dc:creator>")
    assert found(data, "vi/rss.xml") == [
        ("feedpub rule", f"{I1}has both <author> and <dc:creator> (feedpub requires one of them; the RSS Profile "
                         "says not to use both)")]


def test_author_without_email():
    data = edit(RSS, "<dc:creator>Nguyễn Văn An</dc:creator>", "<author>Nguyễn Văn An</author>")
    assert found(data, "vi/rss.xml") == [
        ("error", f'{I1}<author> "Nguyễn Văn An" has no e-mail address (expected e.g. "editor@example.vn (Name)"); '
                  "use <dc:creator> for a name alone")]
    data = edit(data, "<author>Nguyễn Văn An</author>", "<author>Nguyễn Văn An &lt;an@news.example.vn&gt;</author>")
    assert found(data, "vi/rss.xml") == [
        ("feedpub rule", f'{I1}<author> "Nguyễn Văn An <an@news.example.vn>" is not of the form '
                         '"editor@example.vn (Name)" (feedpub requires the form the RSS Profile recommends)')]


def test_item_without_title_and_description():
    data = edit(RSS, "      <title>Giá lúa tăng</title>\n", "")
    assert found(data, "vi/rss.xml") == [
        ("feedpub rule", f"{I2}has no <title> (feedpub requires one; RSS allows a description alone, but many "
                         "readers reject such items)")]
    data = edit(data, "      <description>Giá lúa tăng 5%.</description>\n", "")
    assert found(data, "vi/rss.xml") == [
        ("error", f"{I2}has neither <title> nor <description> (expected at least one)")]


def test_item_link_must_be_absolute():
    data = edit(RSS, "<link>https://news.example.vn/vi/gia-lua</link>", "<link>/vi/gia-lua</link>")
    assert found(data, "vi/rss.xml") == [
        ("error", f'{I2}<link> "/vi/gia-lua" is not absolute: it has no scheme such as https: (expected an absolute URL)')]


def test_channel_required_elements():
    data = edit(RSS, "    <description>Tin tức mới nhất về tỉnh Long An</description>\n", "")
    data = edit(data, "<title>Tin Long An</title>", "<title></title>")
    assert found(data, "vi/rss.xml") == [
        ("warning", "channel: <title> is empty (expected text)"),
        ("feedpub rule", "channel: <title> is empty (feedpub requires text)"),
        ("error", "channel: no <description> (expected exactly one)")]


def test_channel_link_must_be_absolute():
    data = edit(RSS, "<link>https://news.example.vn/vi/</link>", "<link>/vi/</link>")
    assert found(data, "vi/rss.xml") == [
        ("error", 'channel: <link> "/vi/" is not absolute: it has no scheme such as https: (expected an absolute URL)')]


def test_channel_link_pointing_at_the_feed_itself():
    data = edit(RSS, "<link>https://news.example.vn/vi/</link>", "<link>https://news.example.vn/vi/rss.xml</link>")
    assert found(data, "vi/rss.xml") == [
        ("warning", 'channel: <link> "https://news.example.vn/vi/rss.xml" is the feed\'s own URL (expected the web '
                    'site\'s home page; the feed URL belongs in <atom:link rel="self">)')]


def test_self_link_rules():
    line = '    <atom:link href="https://news.example.vn/vi/rss.xml" rel="self" type="application/rss+xml"/>\n'
    assert found(edit(RSS, line, ""), "vi/rss.xml") == [
        ("warning", 'channel: no <atom:link rel="self"> (expected one giving the feed\'s own URL, '
                    'type="application/rss+xml")')]
    assert found(edit(RSS, ' type="application/rss+xml"', ""), "vi/rss.xml") == [
        ("warning", 'channel: <atom:link rel="self"> has no type (expected type="application/rss+xml")')]
    assert found(edit(RSS, 'type="application/rss+xml"', 'type="application/atom+xml"'), "vi/rss.xml") == [
        ("feedpub rule", 'channel: <atom:link rel="self"> has type "application/atom+xml" (feedpub requires '
                         '"application/rss+xml")')]
    assert found(edit(RSS, 'href="https://news.example.vn/vi/rss.xml"', 'href="rss.xml"'), "vi/rss.xml") == [
        ("feedpub rule", 'channel: <atom:link rel="self"> href "rss.xml" is not an absolute http(s) URL '
                         "(feedpub requires the feed's own URL)")]


def test_language():
    assert found(edit(RSS, "    <language>vi</language>\n", ""), "vi/rss.xml") == [
        ("warning", "channel: no <language> (expected the feed's language code, e.g. vi or en)")]
    assert found(edit(RSS, "<language>vi</language>", "<language>vi_VN</language>"), "vi/rss.xml") == [
        ("error", 'channel: <language> "vi_VN" is not a language tag (expected BCP 47, e.g. vi, en or en-US)')]
    assert found(edit(RSS, "<language>vi</language>", "<language>xx-YY</language>"), "vi/rss.xml") == [
        ("error", 'channel: <language> "xx-YY" is not a registered language tag (expected BCP 47 subtags from the '
                  "IANA registry, e.g. vi, en-US)")]


def test_plain_text_that_looks_like_markup():
    data = edit(RSS, "<title>Giá lúa tăng</title>", "<title>Lúa &amp; tôm: mô hình &lt;mới&gt;</title>")
    assert found(data, "vi/rss.xml") == [
        ("warning", 'item 2 (https://news.example.vn/id/a2): <title> "Lúa & tôm: mô hình <mới>" contains "<mới>", '
                    "which readers that render it as HTML will drop (expected & and < written as &#x26; and &#x3C; "
                    "in plain text)")]
    data = edit(data, "&amp; tôm: mô hình &lt;mới&gt;", "&#x26; tôm: mô hình &#x3C;mới&#x3E;")
    assert found(data, "vi/rss.xml") == []
    assert found(edit(RSS, "<title>Giá lúa tăng</title>", "<title>Lúa &amp; tôm &lt; 5%</title>"), "vi/rss.xml") == []


def test_rss_version():
    assert errors(edit(RSS, 'version="2.0"', 'version="0.92"'), "vi/rss.xml") == [
        '<rss> has version="0.92" (expected "2.0": this checker knows RSS 2.0)']


# --------------------------------------------------------------------------- Atom


@pytest.mark.parametrize("date,problem", [
    ("2021-12-03T23:30:00", "has no UTC offset (expected Z or +HH:MM, e.g. +07:00)"),
    ("2021-12-03T23:30:00+0700", 'has offset "+0700" without a colon (expected +07:00)'),
    ("2021-12-03T23:30:00+07:00:00", 'has offset "+07:00:00" with seconds (expected +HH:MM, e.g. +07:00)'),
    ("2021-12-03t23:30:00+07:00", 'has a lowercase "t" (expected an uppercase T)'),
    ("2021-12-03 23:30:00+07:00", 'has no "T" between date and time (expected e.g. 2021-12-02T23:30:00+07:00)'),
    ("2021-12-03T16:30:00z", 'has a lowercase "z" (expected an uppercase Z)'),
    ("2021-12-03T23:30+07:00", "has no seconds (expected e.g. 2021-12-02T23:30:00+07:00)"),
    ("2021-02-29T23:30:00+07:00", "is not a real date and time"),
    ("2021-12-03T23:30:00 ICT", 'has offset " ICT" (expected Z or +HH:MM, e.g. +07:00)'),
    ("03/12/2021 23:30", "is not an RFC 3339 date-time (expected e.g. 2021-12-02T23:30:00+07:00)"),
    ("Fri, 03 Dec 2021 23:30:00 +0700", "is not an RFC 3339 date-time (expected e.g. 2021-12-02T23:30:00+07:00)"),
])
def test_atom_date_problems(date, problem):
    data = edit(ATOM, "<published>2021-12-03T23:30:00+07:00</published>", f"<published>{date}</published>")
    assert found(data, "vi/atom.xml") == [("error", f'{E1}<published> "{date}" {problem}')]


@pytest.mark.parametrize("date", ["2021-12-03T16:30:00Z", "2021-12-03T23:30:00.123456+07:00",
                                  "2021-12-03T11:30:00-05:00"])
def test_atom_dates_allowed(date):
    data = edit(ATOM, "<published>2021-12-03T23:30:00+07:00</published>", f"<published>{date}</published>")
    assert found(data, "vi/atom.xml") == []


def test_atom_expected_offset():
    data = edit(ATOM, "<published>2021-12-03T23:30:00+07:00</published>", "<published>2021-12-03T16:30:00Z</published>")
    data = edit(data, "<updated>2021-12-04T08:00:00+07:00</updated>", "<updated>2021-12-04T01:00:00+00:00</updated>", 2)
    assert found(data, "vi/atom.xml", "+07:00") == [
        ("feedpub rule", 'feed: <updated> "2021-12-04T01:00:00+00:00" has offset +00:00 (expected +07:00, the site\'s UTC offset)'),
        ("feedpub rule", f'{E1}<updated> "2021-12-04T01:00:00+00:00" has offset +00:00 (expected +07:00, the site\'s UTC offset)'),
        ("feedpub rule", f'{E1}<published> "2021-12-03T16:30:00Z" has offset Z (expected +07:00, the site\'s UTC offset)')]
    assert found(data, "vi/atom.xml", "+00:00") == [
        ("feedpub rule", f'{E2}<updated> "2021-12-02T06:00:00+07:00" has offset +07:00 (expected +00:00, the site\'s UTC offset)'),
        ("feedpub rule", f'{E2}<published> "2021-12-02T06:00:00+07:00" has offset +07:00 (expected +00:00, the site\'s UTC offset)')]


def test_entry_without_updated():
    data = edit(ATOM, "    <updated>2021-12-02T06:00:00+07:00</updated>\n", "")
    assert found(data, "vi/atom.xml") == [("error", f"{E2}0 <updated> elements (expected exactly one)")]


def test_entry_without_id_and_title():
    data = edit(ATOM, "    <id>https://news.example.vn/id/a2</id>\n", "")
    data = edit(data, "    <title>Giá lúa tăng</title>\n", "")
    assert found(data, "vi/atom.xml") == [
        ("error", "entry 2: 0 <id> elements (expected exactly one)"),
        ("error", "entry 2: 0 <title> elements (expected exactly one)")]


def test_entry_without_published():
    data = edit(ATOM, "    <published>2021-12-02T06:00:00+07:00</published>\n", "")
    assert found(data, "vi/atom.xml") == [
        ("feedpub rule", f"{E2}has no <published> (feedpub requires the publication date; many readers show no "
                         "date with <updated> alone)")]
    assert found(data, "vi/atom.xml", spec_only=True) == []


def test_updated_before_published_is_a_warning():
    data = edit(ATOM, "<updated>2021-12-02T06:00:00+07:00</updated>", "<updated>2021-12-01T06:00:00+07:00</updated>")
    assert found(data, "vi/atom.xml") == [
        ("warning", f"{E2}<updated> is earlier than <published> (expected updated >= published)")]


def test_feed_required_elements():
    data = edit(ATOM, "  <updated>2021-12-04T08:00:00+07:00</updated>\n  <author>",
                "  <title>Again</title>\n  <author>")
    assert found(data, "vi/atom.xml") == [
        ("error", "feed: 2 <title> elements (expected exactly one)"),
        ("error", "feed: 0 <updated> elements (expected exactly one)")]


def test_ids_must_be_absolute_and_unique():
    data = edit(ATOM, "<id>https://news.example.vn/id/a2</id>", "<id>a2</id>")
    assert found(data, "vi/atom.xml") == [
        ("error", 'entry 2 (a2): <id> "a2" is not absolute: it has no scheme such as https: (expected an absolute '
                  "IRI, e.g. https://... or urn:...)")]
    data = edit(ATOM, "<id>https://news.example.vn/id/a2</id>", "<id>https://news.example.vn/id/a1</id>")
    assert found(data, "vi/atom.xml") == [
        ("feedpub rule", 'entry 2 (https://news.example.vn/id/a1): <id> "https://news.example.vn/id/a1" is also '
                         "the id of entry 1 (feedpub requires unique ids; Atom allows the same entry twice with "
                         "different <updated>)")]
    assert found(data, "vi/atom.xml", spec_only=True) == []
    data = edit(ATOM, "<id>https://news.example.vn/id/a2</id>", "<id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>")
    assert found(data, "vi/atom.xml") == []


def test_author_in_feed_or_every_entry():
    data = edit(ATOM, "  <author><name>Ban biên tập</name></author>\n", "")
    assert found(data, "vi/atom.xml") == [
        ("error", f"{E1}has no <author> and neither has the feed (expected an author in the feed or in every entry)"),
        ("error", f"{E2}has no <author> and neither has the feed (expected an author in the feed or in every entry)")]
    data = edit(data, "    <summary>", "    <author><name>An</name></author>\n    <summary>")
    assert [m[:8] for _, m in found(data, "vi/atom.xml")] == ["entry 2 "]


def test_author_needs_a_name():
    data = edit(ATOM, "<author><name>Ban biên tập</name></author>", "<author><email>bbt@example.vn</email></author>")
    assert found(data, "vi/atom.xml") == [
        ("error", "feed: <author> has 0 <name> elements (expected exactly one)")]


def test_an_empty_author_name_is_valid_atom_but_not_what_feedpub_writes():
    """RFC 4287 §3.2.1: atomName = element atom:name { text }, and text may be empty."""
    data = edit(ATOM, "<author><name>Ban biên tập</name></author>", "<author><name></name></author>")
    assert found(data, "vi/atom.xml", spec_only=True) == [
        ("warning", "feed: <author> has an empty <name> (valid, but readers show no name; expected the person's name)")]
    assert ("feedpub rule", "feed: <author> has an empty <name> (feedpub requires the person's name)") in found(
        data, "vi/atom.xml")


def test_duplicate_alternate_links():
    data = edit(ATOM, 'hreflang="en"/>', 'hreflang="vi"/>')
    assert found(data, "vi/atom.xml") == [
        ("error", f'{E1}two <link rel="alternate"> with type="text/html" and hreflang="vi": '
                  '"https://news.example.com/en/monsoon" and "https://news.example.vn/vi/gio-mua" '
                  "(expected at most one per type and hreflang)")]
    data = edit(ATOM, '  <subtitle>', '  <link href="https://news.example.vn/vi/index.html" type="text/html"/>\n'
                '  <subtitle>')
    assert found(data, "vi/atom.xml") == [
        ("error", 'feed: two <link rel="alternate"> with type="text/html" and hreflang="": '
                  '"https://news.example.vn/vi/" and "https://news.example.vn/vi/index.html" '
                  "(expected at most one per type and hreflang)")]


def test_entry_needs_content_or_alternate_link():
    data = edit(ATOM, '    <link href="https://news.example.vn/vi/gia-lua"/>\n', "")
    assert found(data, "vi/atom.xml") == [        # content is enough for RFC 4287
        ("warning", f'{E2}has no <link rel="alternate"> (expected the article\'s URL; readers link to it)')]
    data = edit(data, '    <content type="html">&lt;p&gt;Giá lúa tăng 5%.&lt;/p&gt;</content>\n',
                "    <summary>Giá lúa tăng 5%.</summary>\n")
    assert found(data, "vi/atom.xml") == [
        ("error", f'{E2}has neither <content> nor <link rel="alternate"> (expected at least one)')]


def test_self_link():
    data = edit(ATOM, '  <link href="https://news.example.vn/vi/atom.xml" rel="self" type="application/atom+xml"/>\n', "")
    assert found(data, "vi/atom.xml") == [("warning", "feed: no <link rel=\"self\"> (expected one giving the feed's own URL)")]
    data = edit(ATOM, 'href="https://news.example.vn/vi/atom.xml"', 'href="atom.xml"')
    assert found(data, "vi/atom.xml") == [
        ("feedpub rule", 'feed: <link rel="self"> href "atom.xml" is not an absolute http(s) URL (feedpub requires '
                         "the feed's own URL: a relative one is lost when the feed is saved or forwarded)")]
    assert found(data, "vi/atom.xml", spec_only=True) == []     # RFC 4287: an IRI reference, resolved as usual


def test_metadata_after_entries():
    data = edit(ATOM, "</feed>", '  <rights xmlns:dc="http://purl.org/dc/elements/1.1/">© Tin Long An</rights>\n</feed>')
    assert found(data, "vi/atom.xml") == [
        ("error", "feed: <rights> (line 28) comes after the first <entry> (expected all feed-level elements before "
                  "the entries)")]


@pytest.mark.parametrize("lang, problem", [
    ("vi_VN", "is not a language tag (expected BCP 47, e.g. vi, en or en-US)"),
    ("tiếng-việt", "is not a language tag (expected BCP 47, e.g. vi, en or en-US)"),
    ("vn", "is not a registered language tag (expected BCP 47 subtags from the IANA registry, e.g. vi, en-US)"),
])
def test_xml_lang(lang, problem):
    data = edit(ATOM, 'xml:lang="vi"', f'xml:lang="{lang}"')
    assert found(data, "vi/atom.xml") == [("error", f'line 2: <feed> has xml:lang="{lang}", which {problem}')]


def test_empty_xml_lang_means_unknown_and_is_valid():
    assert found(edit(ATOM, 'xml:lang="vi"', 'xml:lang=""'), "vi/atom.xml") == []      # XML 1.0 §2.12


def test_hreflang():
    data = edit(ATOM, 'hreflang="en"', 'hreflang="en_US"')
    assert found(data, "vi/atom.xml") == [
        ("error", f'{E1}<link> has hreflang="en_US", which is not a language tag (expected BCP 47, e.g. vi, en or '
                  "en-US)")]


def test_text_and_content_types():
    data = edit(ATOM, "<summary>Nhiệt", '<summary type="markdown">Nhiệt')
    assert found(data, "vi/atom.xml") == [
        ("error", f'{E1}<summary> has type="markdown" (expected "text", "html" or "xhtml")')]
    data = edit(ATOM, '<content type="html">&lt;p&gt;Giá lúa tăng 5%.&lt;/p&gt;</content>',
                '<content type="image/png">aGVsbG8=</content>')
    assert found(data, "vi/atom.xml") == [
        ("error", f"{E2}has <content> with src or a non-text type but no <summary> (expected a summary)")]
    data = edit(ATOM, '<content type="html">&lt;p&gt;Giá lúa tăng 5%.&lt;/p&gt;</content>',
                '<content type="multipart/mixed">x</content>')
    assert found(data, "vi/atom.xml") == [
        ("error", f'{E2}<content> has type="multipart/mixed" (expected "text", "html", "xhtml" or a non-composite '
                  "MIME type)"),
        ("error", f"{E2}has <content> with src or a non-text type but no <summary> (expected a summary)")]
    data = edit(ATOM, '<content type="html">&lt;p&gt;Giá lúa tăng 5%.&lt;/p&gt;</content>',
                '<content type="html"><p xmlns="http://www.w3.org/1999/xhtml">Giá</p></content>')
    assert found(data, "vi/atom.xml") == [
        ("error", f'{E2}<content type="html"> contains the element <p> (expected escaped text, or type="xhtml")')]
    data = edit(ATOM, '<content type="html">&lt;p&gt;Giá lúa tăng 5%.&lt;/p&gt;</content>',
                '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Giá</p></div></content>')
    assert found(data, "vi/atom.xml") == []


def test_undefined_atom_attribute():
    data = edit(ATOM, 'xml:lang="vi">', 'xml:lang="vi" version="1.0">')
    assert found(data, "vi/atom.xml") == [
        ("error", 'line 2: <feed> has attribute version="1.0" that Atom does not define (expected only xml:* or '
                  "namespaced attributes)")]


def test_atom_without_entries_is_valid():
    head, _, _ = ATOM.partition("  <entry>")
    assert found(head + "</feed>\n", "vi/atom.xml") == [
        ("warning", "feed: has no <entry> (valid, e.g. for a language with nothing published yet; readers show an "
                    "empty feed)")]


# --------------------------------------------------------------------------- JSON Feed


def test_json_not_json():
    assert found('{"version": "https://jsonfeed.org/version/1.1", ', "vi/feed.json") == [
        ("error", "is not valid JSON: Expecting property name enclosed in double quotes at line 1, column 49")]


def test_json_bom():
    assert found(b"\xef\xbb\xbf" + JSONFEED.encode(), "vi/feed.json") == [
        ("error", "starts with a UTF-8 byte order mark (expected none; RFC 8259 forbids it)")]


def test_json_not_utf8():
    data = JSONFEED.encode().replace("Giá lúa tăng 5%.".encode(), b"Gi\xe1")
    assert found(data, "vi/feed.json") == [
        ("error", "is not valid UTF-8: byte 0xE1 at line 23, offset 931")]


def test_json_invalid_items():
    data = """{"version": "https://jsonfeed.org/version/1.1", "title": "Broken",
      "home_page_url": "https://news.example.vn/", "feed_url": "https://news.example.vn/feed.json",
      "items": [
        {"title": "no id, no content", "date_published": "03/12/2021 23:30"},
        {"id": 3, "content_html": "<p>id must be a string</p>", "date_published": "2021-12-03T23:30:00"},
        {"id": "x", "content_text": "t", "date_published": "2021-12-03T23:30:00+0700", "tags": "news"},
        {"id": "x", "content_text": "t", "authors": {"name": "An"}, "url": "/vi/x",
         "attachments": [{"url": "https://news.example.vn/a.jpg"}]}
      ]}"""
    assert found(data, "vi/feed.json") == [
        ("error", 'item 1: no "id" (expected a unique string)'),
        ("error", 'item 1: has neither "content_html" nor "content_text" (expected at least one)'),
        ("error", 'item 1: "date_published" "03/12/2021 23:30" is not an RFC 3339 date-time '
                  "(expected e.g. 2021-12-02T23:30:00+07:00)"),
        ("error", 'item 2: "id" is a number 3 (expected a string)'),
        ("error", 'item 2: "date_published" "2021-12-03T23:30:00" has no UTC offset (expected Z or +HH:MM, e.g. +07:00)'),
        ("error", 'item 3 (x): "date_published" "2021-12-03T23:30:00+0700" has offset "+0700" without a colon '
                  "(expected +07:00)"),
        ("error", 'item 3 (x): "tags" (expected an array of strings)'),
        ("error", 'item 4 (x): "id" "x" is also the id of item 3 (expected unique ids)'),
        ("error", 'item 4 (x): "url" "/vi/x" is not absolute: it has no scheme such as https: (expected an '
                  "absolute URL)"),
        ("warning", 'item 4 (x): no "date_published" (readers cannot order it)'),
        ("error", 'item 4 (x): "authors" is a object (expected an array of objects)'),
        ("error", 'item 4 (x): attachment 1 "mime_type" is missing or not a string (expected a MIME type like '
                  "image/jpeg)")]


def test_json_top_level():
    data = """{"version": "https://jsonfeed.org/version/1.1/", "title": 5, "feed_url": "feed.json",
               "authors": [{}], "items": []}"""
    assert found(data, "vi/feed.json") == [
        ("error", 'feed: "version" is "https://jsonfeed.org/version/1.1/" (expected exactly '
                  '"https://jsonfeed.org/version/1.1": readers compare the string)'),
        ("error", 'feed: "title" is a number (expected a non-empty string)'),
        ("warning", 'feed: "items" is empty (valid, e.g. for a language with nothing published yet; readers show '
                    "an empty feed)"),
        ("warning", 'feed: no "home_page_url" (the spec strongly recommends it)'),
        ("error", 'feed: "feed_url" "feed.json" is not absolute: it has no scheme such as https: (expected an '
                  "absolute URL)"),
        ("error", 'feed: author 1 has none of "name", "url", "avatar" (expected at least one)')]
    assert found('{"version": "https://jsonfeed.org/version/1.1", "title": "t", "home_page_url": '
                 '"https://a.vn/", "feed_url": "https://a.vn/feed.json"}', "vi/feed.json") == [
        ("error", 'feed: "items" is missing (expected an array of items)')]
    assert found("[1, 2]", "vi/feed.json") == [
        ("error", 'top level is a JSON array (expected an object with "version": "https://jsonfeed.org/version/1.1")')]


def test_json_expected_offset():
    data = edit(JSONFEED, '"date_published": "2021-12-02T06:00:00+07:00"', '"date_published": "2021-12-01T23:00:00Z"')
    assert found(data, "vi/feed.json") == []
    assert found(data, "vi/feed.json", "+07:00") == [
        ("feedpub rule", 'item 2 (https://news.example.vn/id/a2): "date_published" "2021-12-01T23:00:00Z" has offset Z '
                  "(expected +07:00, the site's UTC offset)")]


def test_json_that_is_not_a_feed_is_an_error_not_a_skip():
    result = validate_bytes(b'{"pages": []}', "search-index.json")
    assert result.kind == "unknown"
    assert [f.message for f in result.errors] == [
        'cannot be identified as a JSON Feed: no "version" naming https://jsonfeed.org/version/… (expected a JSON '
        'object with "version": "https://jsonfeed.org/version/1.1")']
    assert validate_bytes(b'not json', "vi/feed.json").kind == "unknown"
    assert validate_bytes(b'{"version": "https://jsonfeed.org/version/1.1", ', "vi/feed.json").kind == "jsonfeed"


# --------------------------------------------------------------------------- whole directories


def _write(root: Path, rel: str, data: str | bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def test_validate_output_walks_and_skips(tmp_path):
    _write(tmp_path, "vi/rss.xml", RSS)
    _write(tmp_path, "vi/atom.xml", ATOM)
    _write(tmp_path, "vi/feed.json", JSONFEED)
    _write(tmp_path, "vi/index.html", "<!doctype html><title>x</title>")
    _write(tmp_path, "vi/categories/thoi-tiet/rss.xml",
           edit(RSS, "Fri, 03 Dec 2021 23:30:00 +0700", "Fri, 03 Dec 2021 23:30:00 GMT"))
    _write(tmp_path, "en/atom.xml", edit(ATOM, "    <updated>2021-12-02T06:00:00+07:00</updated>\n", ""))
    _write(tmp_path, "en/rss.xml", edit(RSS, "    <language>vi</language>\n", ""))
    _write(tmp_path, "feed.css", "rss { display: block }")
    _write(tmp_path, "feeds.opml", '<?xml version="1.0"?><opml version="2.0"/>')
    _write(tmp_path, "sitemap.xml", '<?xml version="1.0" encoding="UTF-8"?><urlset/>')
    _write(tmp_path, ".feedpub/state.sqlite", b"SQLite format 3\x00")
    _write(tmp_path, ".feedpub/old.xml", "not xml at all")
    _write(tmp_path, ".feedpub.lock", "")

    results = validate_output(tmp_path, expect_offset="+07:00")
    assert [(r.path, r.kind, len(r.errors), len(r.warnings)) for r in results] == [
        ("en/atom.xml", "atom", 1, 0),
        ("en/rss.xml", "rss", 0, 1),
        ("feed.css", "skipped", 0, 0),
        ("feeds.opml", "skipped", 0, 0),
        ("sitemap.xml", "unknown", 1, 0),
        ("vi/atom.xml", "atom", 0, 0),
        ("vi/categories/thoi-tiet/rss.xml", "rss", 1, 0),
        ("vi/feed.json", "jsonfeed", 0, 0),
        ("vi/index.html", "skipped", 0, 0),
        ("vi/rss.xml", "rss", 0, 0),
    ]
    assert format_results(results) == "\n".join([
        "FAIL en/atom.xml (atom): 1 error(s)",
        f"    error: en/atom.xml: {E2}0 <updated> elements (expected exactly one) [RFC 4287 §4.1.2]",
        "OK  en/rss.xml (rss)",
        "    warning: en/rss.xml: channel: no <language> (expected the feed's language code, e.g. vi or en) "
        "[RSS Profile]",
        "FAIL sitemap.xml (unknown): 1 error(s)",
        "    error: sitemap.xml: cannot be identified as a feed: its root element is <urlset> (expected RSS 2.0 "
        '<rss version="2.0"> or Atom 1.0 <feed xmlns="http://www.w3.org/2005/Atom">) [RSS 2.0, RFC 4287]',
        "OK  vi/atom.xml (atom)",
        "FAIL vi/categories/thoi-tiet/rss.xml (rss): 1 error(s)",
        f'    feedpub rule: vi/categories/thoi-tiet/rss.xml: {I1}pubDate "Fri, 03 Dec 2021 23:30:00 GMT" has '
        "offset GMT (expected +0700, the site's UTC offset) [feedpub: --expect-offset]",
        "OK  vi/feed.json (jsonfeed)",
        "OK  vi/rss.xml (rss)",
        "7 files checked, 3 with errors; 3 other files not checked (not feeds)",
    ])
    # without the expected offset, GMT is a legal RSS zone
    assert [r.path for r in validate_output(tmp_path) if r.errors] == ["en/atom.xml", "sitemap.xml"]


def test_validate_output_without_feeds(tmp_path):
    _write(tmp_path, "index.html", "<p>nothing</p>")
    results = validate_output(tmp_path)
    assert results[-1].path == "." and results[-1].errors
    assert format_results(results).splitlines()[-1] == (
        "0 files checked, 1 with errors; 1 other files not checked (not feeds)")
    missing = validate_output(tmp_path / "nope")
    assert len(missing) == 1 and missing[0].errors[0].message.startswith("is not a directory")


# --------------------------------------------------------------------------- a real build


def test_real_build_passes(tmp_path):
    import feedpub

    out = tmp_path / "public"
    feedpub.build(REPO / "data", out, now=datetime(2026, 1, 1, tzinfo=timezone.utc))
    results = validate_output(out, expect_offset="+07:00")
    kinds = {r.kind for r in results}
    assert {"rss", "atom", "jsonfeed"} <= kinds
    assert {"vi/rss.xml", "vi/atom.xml", "vi/feed.json", "en/rss.xml", "en/atom.xml", "en/feed.json"} <= {
        r.path for r in results}
    problems = [str(f) for r in results for f in r.errors]
    assert problems == [], format_results(results)


def test_json_author_beside_authors_is_the_compatible_form():
    """JSON Feed 1.1 lets a feed keep 1.0's "author" for older readers; alone it is only deprecated."""
    author = '"authors": [{"name": "Nguyễn Văn An", "url": "https://news.example.vn/tac-gia/an"}],'
    both = edit(JSONFEED, author, author + '\n      "author": {"name": "Nguyễn Văn An", '
                                           '"url": "https://news.example.vn/tac-gia/an"},')
    assert found(both, "vi/feed.json") == []
    alone = edit(JSONFEED, author, '"author": {"name": "Nguyễn Văn An"},')
    assert found(alone, "vi/feed.json") == [
        ("warning", f'{I1}"author" is deprecated in JSON Feed 1.1 (expected "authors", an array)')]
    other = edit(JSONFEED, author, author + '\n      "author": {"name": "Trần Thị Bình"},')
    assert found(other, "vi/feed.json") == [          # 1.1 allows both: readers are told to prefer "authors"
        ("warning", f'{I1}"author" differs from the first of "authors": readers that know only JSON Feed 1.0 '
                    'show another author than the rest (valid: 1.1 readers prefer "authors")')]
    broken = edit(JSONFEED, author, author + '\n      "author": "Nguyễn Văn An",')
    assert found(broken, "vi/feed.json") == [("error", f'{I1}"author" is a string (expected an object)')]

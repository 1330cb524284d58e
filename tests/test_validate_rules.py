"""feedpub.validate: one test per class of rule, on small feeds written for the purpose.

Each case is a minimal valid RSS 2.0 or Atom 1.0 feed with one thing changed;
the spec rules must catch it with spec_only=True, and the clean variants must
pass without a single error.
"""
from __future__ import annotations

import pytest

from feedpub.validate import validate_bytes
from feedpub.validate.rss import CORE, TEXT_ELEMENTS

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/">
<channel>
<title>Tin</title>
<link>https://x.vn/</link>
<description>Tin mới</description>
<language>vi</language>
<atom:link href="https://x.vn/feeds/vi/rss.xml" rel="self" type="application/rss+xml"/>
{channel}
<item>
<title>Bài một</title>
<link>https://x.vn/bai-1</link>
<guid isPermaLink="false">https://x.vn/id/1</guid>
<pubDate>Thu, 02 Dec 2021 23:30:00 +0700</pubDate>
{item}
</item>
</channel>
</rss>
"""

ATOM = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="vi">
<id>https://x.vn/feeds/vi/</id>
<title>Tin</title>
<updated>2021-12-02T23:30:00+07:00</updated>
<author><name>Ban biên tập</name></author>
<link rel="self" href="https://x.vn/feeds/vi/atom.xml"/>
{feed}
<entry>
<id>https://x.vn/id/1</id>
<title>Bài một</title>
<updated>2021-12-02T23:30:00+07:00</updated>
<published>2021-12-02T23:30:00+07:00</published>
<link href="https://x.vn/bai-1"/>
{entry}
</entry>
</feed>
"""


def rss(channel: str = "", item: str = "") -> bytes:
    return RSS.format(channel=channel, item=item).encode("utf-8")


def atom(feed: str = "", entry: str = "") -> bytes:
    return ATOM.format(feed=feed, entry=entry).encode("utf-8")


def spec_errors(data: bytes, name: str = "vi/feed.xml") -> list[str]:
    return [f.message for f in validate_bytes(data, name, spec_only=True).errors]


def all_findings(data: bytes, name: str = "vi/feed.xml") -> list[tuple[str, str]]:
    return [(f.label, f.message) for f in validate_bytes(data, name).findings]


def test_the_base_feeds_are_clean():
    assert all_findings(rss()) == []
    assert all_findings(atom()) == []


# --------------------------------------------------------------------------- files that are not what they seem


@pytest.mark.parametrize("data, message", [
    (b'<?xml version="1.0" encoding="UTF-8"?>\n<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>T</title>'
     b"</feed>", 'is an Atom 0.3 feed (namespace "http://purl.org/atom/ns#"), an obsolete format'),
    (b'<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/atom"><title>T</title></feed>',
     'root <feed> is in the namespace "http://www.w3.org/2005/atom", which is not Atom\'s'),
    (b'<?xml version="1.0" encoding="UTF-8"?>\n<feed><title>T</title></feed>',
     "root <feed> is in no namespace, so it is not Atom 1.0"),
    (b'<?xml version="1.0" encoding="UTF-8"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
     b'xmlns="http://purl.org/rss/1.0/"><channel/></rdf:RDF>', "is RSS 1.0 (RDF), a format feedpub validate does not"),
    (b'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns="http://example.vn/rss"><channel/></rss>',
     'root <rss> is in the namespace "http://example.vn/rss"'),
    (b'<?xml version="1.0" encoding="UTF-8"?>\n<html><body>404</body></html>',
     "cannot be identified as a feed: its root element is <html>"),
])
def test_a_feed_file_that_cannot_be_identified_is_an_error(data, message):
    result = validate_bytes(data, "vi/atom.xml", spec_only=True)
    assert result.kind == "unknown" and not result.ok
    assert result.errors[0].message.startswith(message)


def test_atom_entry_document_is_checked_and_is_not_what_feedpub_writes():
    doc = (b'<?xml version="1.0" encoding="UTF-8"?>\n<entry xmlns="http://www.w3.org/2005/Atom"><id>urn:uuid:'
           b"1225c695-cfb8-4ebb-aaaa-80da344efa6a</id><title>T</title><updated>2021-12-02T23:30:00Z</updated>"
           b"<published>2021-12-02T23:30:00Z</published><author><name>A</name></author>"
           b'<link href="https://x.vn/a"/></entry>')
    assert spec_errors(doc) == []
    assert [label for label, _ in all_findings(doc)] == ["feedpub rule"]


# --------------------------------------------------------------------------- link and URI syntax


@pytest.mark.parametrize("feed, entry, message", [
    ("", '<link rel="related" href="https://x.vn/a b"/>', '<link rel="related"> href "https://x.vn/a b" contains '
                                                          "whitespace"),
    ("", '<link rel="related" href="https://x.vn/{a}"/>', 'contains "{", which a URI must percent-encode'),
    ("<icon>https://x.vn/a icon.png</icon>", "", '<icon> "https://x.vn/a icon.png" contains whitespace'),
    ("<logo> https://x.vn/logo.png</logo>", "", "has whitespace around it (expected the IRI alone)"),
    ("", "<author><name>A</name><uri>https://x.vn/&lt;a&gt;</uri></author>", '<author> uri "https://x.vn/<a>" '
                                                                            'contains "<"'),
    ("", '<category term="a" scheme="https://x.vn/a b"/>', '<category> scheme "https://x.vn/a b" contains whitespace'),
    ("", '<category term="a" scheme="tags"/>', "is not absolute: it has no scheme"),
    ("<generator uri='https://x.vn/{g}'>g</generator>", "", '<generator> uri "https://x.vn/{g}" contains "{"'),
])
def test_atom_uri_syntax(feed, entry, message):
    errors = spec_errors(atom(feed, entry))
    assert any(message in e for e in errors), errors


@pytest.mark.parametrize("ident, message", [
    (" https://x.vn/id/1", "has whitespace around it (expected the IRI alone: ids are compared character by "),
    ("https://x.vn/id/1\n", "has whitespace around it"),
    ("tag:x.vn:2021:1", "is not a valid tag URI (RFC 4151"),
    ("tag:x.vn,21:1", "is not a valid tag URI"),
    ("urn:uuid:1225c695-cfb8-4ebb-aaaa", "is not a valid UUID URN (RFC 4122"),
    ("urn:x:", "is not a valid URN (RFC 8141"),
    ("https:x.vn/id/1", 'has no "//" and host after "https:"'),
])
def test_atom_id_syntax(ident, message):
    errors = spec_errors(atom().replace(b"<id>https://x.vn/id/1</id>", f"<id>{ident}</id>".encode()))
    assert any(message in e for e in errors), errors


@pytest.mark.parametrize("ident", ["tag:x.vn,2021-12-02:bai/1", "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a",
                                   "urn:isbn:0451450523", "https://báo.example.vn/id/bài-1", "mailto:a@x.vn"])
def test_atom_ids_that_are_valid(ident):
    assert spec_errors(atom().replace(b"<id>https://x.vn/id/1</id>", f"<id>{ident}</id>".encode())) == []


def test_rss_urls_are_uris_not_iris():
    errors = spec_errors(rss().replace(b"<link>https://x.vn/bai-1</link>", "<link>https://x.vn/bài-1</link>".encode()))
    assert errors == ['item 1 (https://x.vn/id/1): <link> "https://x.vn/bài-1" contains "à", which a URI must '
                      "percent-encode (an IRI is not a URI) (expected an absolute URL)"]
    item = '<enclosure url="https://x.vn/ảnh.jpg" length="1" type="image/jpeg"/>'
    assert "which a URI must percent-encode" in spec_errors(rss(item=item))[0]


def test_rss_permalink_guid_syntax():
    data = rss().replace(b'<guid isPermaLink="false">https://x.vn/id/1</guid>', b"<guid>https://x.vn/{1}</guid>")
    assert spec_errors(data) == ['item 1 (https://x.vn/{1}): <guid> "https://x.vn/{1}" has no isPermaLink, which '
                                 'means true, but contains "{", which a URI must percent-encode (expected a URL, '
                                 'or isPermaLink="false")']


@pytest.mark.parametrize("guid", ["tag:x.vn,2021:1", "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"])
def test_a_guid_in_another_scheme_without_ispermalink_is_a_warning(guid):
    """RSS 2.0: with isPermaLink absent (true), a reader "may assume" the guid is the item's URL."""
    data = rss().replace(b'<guid isPermaLink="false">https://x.vn/id/1</guid>', f"<guid>{guid}</guid>".encode())
    assert all_findings(data) == [
        ("warning", f'item 1 ({guid}): <guid> "{guid}" has no isPermaLink, which means true, but is not a URL a '
                    "browser can open, and readers may take it for the item's link (expected an http(s) URL, or "
                    'isPermaLink="false")')]
    explicit = data.replace(b"<guid>", b'<guid isPermaLink="true">')
    assert spec_errors(explicit) == [
        f'item 1 ({guid}): <guid> "{guid}" has isPermaLink="true" but is not a URL a browser can open (expected an '
        'http(s) URL, or isPermaLink="false")']


def test_a_namespace_name_with_a_space_is_a_namespaces_in_xml_error_and_the_rest_is_still_checked():
    data = rss().replace(b'xmlns:media="http://search.yahoo.com/mrss/"',
                         b'xmlns:media="http://search.yahoo.com/mrss/" xmlns:x="http://x.vn/my ns"')
    data = data.replace("<title>Bài một</title>".encode(), b"")
    result = validate_bytes(data, "vi/feed.xml", spec_only=True)
    assert [(f.message, f.ref) for f in result.errors] == [
        ('line 2: the namespace name "http://x.vn/my ns" (xmlns:x) is not a URI reference: it is written with a '
         "space (expected a URI, characters such as a space percent-encoded)", "Namespaces in XML 1.0 §3"),
        ("item 1 (https://x.vn/id/1): has neither <title> nor <description> (expected at least one)", "RSS 2.0 <item>")]
    assert result.kind == "rss"


def test_an_undeclared_prefix_is_a_namespaces_in_xml_error():
    data = rss(item="<x:rating>5</x:rating>")
    assert [(f.message, f.ref) for f in validate_bytes(data, "vi/feed.xml", spec_only=True).errors] == [
        ("line 15: Namespace prefix x on rating is not defined (expected namespace-well-formed XML)",
         "Namespaces in XML 1.0 §5")]


# --------------------------------------------------------------------------- typos and duplicates


def test_unknown_rss_core_element_is_a_typo():
    data = rss(item="<pubdate>Thu, 02 Dec 2021 23:30:00 +0700</pubdate>")
    assert spec_errors(data) == [
        "item 1 (https://x.vn/id/1): <pubdate> is not an RSS 2.0 element of <item> (line 15; did you mean "
        "<pubDate>?) (expected the specification's elements, or extensions in their own namespace)"]
    assert "did you mean <language>?" in spec_errors(rss(channel="<langauge>vi</langauge>"))[0]


@pytest.mark.parametrize("element", ["<language>en</language>", "<copyright>©</copyright>",
                                     "<docs>https://www.rssboard.org/rss-specification</docs>",
                                     "<generator>g</generator>", "<ttl>60</ttl>"])
def test_repeated_channel_element(element):
    channel = element + element if "language" not in element else element
    errors = spec_errors(rss(channel=channel))
    name = element.split(">")[0][1:]
    assert f"channel: 2 <{name}> elements (expected at most one)" in errors


def test_docs_must_be_a_url():
    assert spec_errors(rss(channel="<docs>RSS 2.0 spec</docs>")) == [
        'channel: <docs> "RSS 2.0 spec" contains whitespace (expected an absolute URL)']


@pytest.mark.parametrize("tag, ok", [("vi", True), ("en-US", True), ("zh-Hant-TW", True), ("x-klingon", True),
                                     ("vn", False), ("xx", False), ("en_US", False), ("english", False)])
def test_language_tags_against_the_registry(tag, ok):
    data = rss().replace(b"<language>vi</language>", f"<language>{tag}</language>".encode())
    assert (spec_errors(data) == []) is ok


def test_language_registry_is_not_imported_by_a_build():
    import subprocess
    import sys
    code = ("import sys, feedpub.pipeline, feedpub.cli; "
            "print('langcodes' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_undefined_atom_element():
    assert spec_errors(atom(entry="<pubDate>Thu, 02 Dec 2021</pubDate>")) == [
        "line 15: <entry> contains <pubDate>, which Atom does not define there"]


# --------------------------------------------------------------------------- the extensions feedpub writes


@pytest.mark.parametrize("attrs, message", [
    ('url="https://x.vn/a.jpg" fileSize="-1"', 'fileSize="-1" is not a positive whole number'),
    ('url="https://x.vn/a.jpg" fileSize="0"', 'fileSize="0" is not a positive whole number'),
    ('url="https://x.vn/a.jpg" medium="picture"', 'medium="picture" (expected one of image, audio, video'),
    ('url="https://x.vn/a.jpg" type="jpeg"', 'type="jpeg" is not a MIME type'),
    ('url="https://x.vn/a.jpg" lang="vn"', 'lang="vn" is not a registered language tag'),
    ('url="/a.jpg"', 'url "/a.jpg" is not absolute'),
    ('fileSize="1"', "has no url attribute"),
    ('url="https://x.vn/a.jpg" isDefault="yes"', 'isDefault="yes" (expected one of true, false)'),
    ('url="https://x.vn/a.jpg" size="1"', "has the attribute size=\"1\", which Media RSS does not define"),
])
def test_media_content(attrs, message):
    errors = spec_errors(rss(item=f"<media:content {attrs}/>"))
    assert any(message in e for e in errors), errors


def test_media_description():
    content = ('<media:content url="https://x.vn/a.jpg" medium="image" type="image/jpeg" fileSize="10">'
               '<media:description type="plain">Ảnh</media:description></media:content>')
    assert spec_errors(rss(item=content)) == []
    bad = content.replace('type="plain"', 'type="text/html"')
    assert spec_errors(rss(item=bad)) == [
        'item 1 (https://x.vn/id/1): <media:description> has type="text/html" (expected "plain" or "html")']
    twice = content.replace("</media:content>", "<media:description>Ảnh 2</media:description></media:content>")
    assert "has 2 <media:description> elements (expected at most one)" in spec_errors(rss(item=twice))[0]


@pytest.mark.parametrize("entry, message", [
    ("<summary>Giá &lt;b&gt;tăng&lt;/b&gt;</summary>", '<summary> is plain text but contains "<b>"'),
    ('<category term="a" label="&lt;b&gt;A&lt;/b&gt;"/>', '<category> label "<b>A</b>" contains "<b>"'),
    ('<link rel="related" href="https://x.vn/r" title="&lt;i&gt;r&lt;/i&gt;"/>', '<link> title "<i>r</i>" contains'),
])
def test_html_where_atom_wants_plain_text_is_a_warning(entry, message):
    findings = all_findings(atom(entry=entry))
    assert [label for label, m in findings if message in m] == ["warning"], findings


SOURCE = ("<source><id>https://other.vn/feed</id><title>Other</title><updated>2021-12-01T00:00:00Z</updated>"
          "{}</source>")


@pytest.mark.parametrize("inner, message", [
    ('<category label="Thời sự"/>', "entry 1 (https://x.vn/id/1): <source>: <category> has no term (expected term=...)"),
    ("<icon>not an iri</icon>", "entry 1 (https://x.vn/id/1): <source>: <icon> \"not an iri\" contains whitespace"),
    ('<generator uri="a b">g</generator>', 'entry 1 (https://x.vn/id/1): <source>: <generator> uri "a b" contains'),
    ("<rights>a</rights><rights>b</rights>", "entry 1 (https://x.vn/id/1): <source>: 2 <rights> elements (expected "
                                             "at most one)"),
])
def test_an_entry_source_follows_the_feed_metadata_rules(inner, message):
    """RFC 4287 §4.2.11: atom:source holds the feed's metadata; only id, title and updated become optional."""
    errors = spec_errors(atom(entry=SOURCE.format(inner)))
    assert any(e.startswith(message) for e in errors), errors
    assert spec_errors(atom(entry="<source><category term=\"a\"/></source>")) == []


# --------------------------------------------------------------------------- raw HTML inside RSS text


_CONTAINERS = {"channel": lambda x: rss(channel=x), "item": lambda x: rss(item=x),
               "image": lambda x: rss(channel=f"<image><url>https://x.vn/a.png</url><title>Tin</title>"
                                             f"<link>https://x.vn/</link>{x}</image>"),
               "textInput": lambda x: rss(channel=f"<textInput><title>T</title><description>D</description>"
                                                  f"<name>q</name><link>https://x.vn/s</link>{x}</textInput>")}


@pytest.mark.parametrize("container, tag", sorted((c, t) for c, tags in CORE.items() for t in tags
                                                  if t in TEXT_ELEMENTS))
def test_every_rss_text_element_holding_an_element_is_an_error(container, tag):
    """Generated from the checker's own table of RSS 2.0 elements: each one that holds text."""
    errors = spec_errors(_CONTAINERS[container](f"<{tag}>A <b>b</b></{tag}>"))
    assert any(f"<{tag}> contains the element <b> (line " in e and "readers keep only the text" in e
               for e in errors), errors


def test_raw_html_in_an_rss_description_or_title_is_flagged_as_the_w3c_validator_does():
    item = '<description><p>Giá lúa <a href="https://x.vn/gia">tăng</a>.</p><img src="https://x.vn/a.jpg"/></description>'
    assert spec_errors(rss(item=item)) == [
        "item 1 (https://x.vn/id/1): <description> contains the element <p> and 1 more (line 15), unescaped: it "
        "holds text, so readers keep only the text and lose the markup, links and images (expected the HTML "
        "escaped, &lt;p&gt;, or inside <![CDATA[...]]>)"]
    title = rss().replace("<title>Bài một</title>".encode(), "<title>A <b>b</b></title>".encode())
    assert spec_errors(title) == [
        "item 1 (https://x.vn/id/1): <title> contains the element <b> (line 11), unescaped: it holds text, so "
        "readers keep only the text and lose the markup, links and images (expected the HTML escaped, "
        "&lt;b&gt;, or inside <![CDATA[...]]>)"]
    encoded = ('<description>Giá lúa tăng.</description>'
               '<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/"><p>Giá lúa tăng.</p>'
               '</content:encoded>')
    assert [e.split(": <")[1][:40] for e in spec_errors(rss(item=encoded))] == [
        "content:encoded> contains the element <p"]


@pytest.mark.parametrize("item", [
    "<description>&lt;p&gt;Giá lúa &lt;a href=\"https://x.vn/gia\"&gt;tăng&lt;/a&gt;.&lt;/p&gt;</description>",
    '<description><![CDATA[<p>Giá lúa <a href="https://x.vn/gia">tăng</a>.</p>]]></description>',
])
def test_escaped_or_cdata_html_in_an_rss_description_is_what_the_spec_wants(item):
    assert spec_errors(rss(item=item)) == []


# --------------------------------------------------------------------------- what the formats allow and feedpub does not


@pytest.mark.parametrize("data", [
    atom().replace(b'href="https://x.vn/feeds/vi/atom.xml"', b'href="atom.xml"'),             # relative self href
    atom(entry='<link rel="enclosure" type="audio/mpeg; codecs=mp3" href="https://x.vn/a.mp3"/>'),  # MIME parameters
    atom(entry='<link rel="related" href="ftp://x.vn/a.txt"/>'),                             # any URI scheme
    atom().replace(b'xml:lang="vi"', b'xml:lang=""'),                                         # language unknown
    rss().replace(b"+0700</pubDate>", b"PDT</pubDate>"),                                      # RFC 822 named zone
    rss().replace(b"2021 23:30:00 +0700", b"21 23:30:00 +0700"),                              # 2-digit year (RSS 2.0)
    rss(item='<enclosure url="https://x.vn/a.mp3" length="1" type="audio/mpeg; codecs=mp3"/>'),
    rss().replace(b"<link>https://x.vn/bai-1</link>", b"<link>ftp://x.vn/bai-1</link>"),
])
def test_spec_valid_but_not_what_feedpub_writes(data):
    assert spec_errors(data) == []
    findings = validate_bytes(data, "vi/feed.xml").errors
    assert all(f.house for f in findings)
    assert all("feedpub requires" in f.message for f in findings)


def test_empty_feeds_are_valid():
    head = RSS.split("<item>")[0] + "</channel>\n</rss>\n"
    assert validate_bytes(head.format(channel="").encode(), "vi/rss.xml").ok
    head = ATOM.split("<entry>")[0] + "</feed>\n"
    assert validate_bytes(head.format(feed="").encode(), "vi/atom.xml").ok

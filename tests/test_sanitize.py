"""Tests for feedpub.sanitize: allow-list HTML cleaning, URL absolutising, plain text, config policy."""
from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedpub.htmlpolicy import (
    DEFAULT_ALLOWED_IFRAME_HOSTS,
    DEFAULT_ALLOWED_TAGS,
    DEFAULT_POLICY,
    HtmlPolicy,
    policy_from_config,
)
from feedpub.sanitize import clean_html, strip_illegal_xml_chars

BASE = "https://site.example/tin-tuc/2024/bai-viet.html"
YOUTUBE = "https://www.youtube.com/embed/x"


def clean(html: str, policy: HtmlPolicy = DEFAULT_POLICY) -> str:
    return clean_html(html, BASE, policy)


# --- dangerous markup -------------------------------------------------------

def test_script_and_its_content_vanish():
    assert clean("<p>a</p><script>alert(1)</script><p>b</p>") == "<p>a</p><p>b</p>"


def test_style_element_and_its_content_vanish():
    assert clean("<style>p{color:red}</style>x") == "x"


def test_event_handler_removed_and_src_absolutised():
    assert clean("<img src=x onerror=alert(1)>") == '<img src="https://site.example/tin-tuc/2024/x">'


@pytest.mark.parametrize("href", [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "&#106;avascript:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>",
])
def test_unsafe_link_schemes_dropped(href):
    assert clean(f'<a href="{href}">x</a>') == '<a rel="noopener noreferrer">x</a>'


def test_unsafe_scheme_dropped_from_attributes_nh3_does_not_check():
    html = '<blockquote cite="javascript:alert(1)">q</blockquote><video poster="javascript:x"></video>'
    assert clean(html) == "<blockquote>q</blockquote><video></video>"


def test_style_attribute_removed():
    assert clean('<p style="color:red" class="x" id="y">t</p>') == "<p>t</p>"


def test_unknown_tag_stripped_but_text_kept():
    assert clean("<marquee><h1>Tiêu đề</h1></marquee>") == "Tiêu đề"


def test_noscript_content_vanishes_instead_of_showing_as_text():
    assert clean('<noscript><img src="a.jpg"></noscript>ok') == "ok"


def test_comments_removed():
    assert clean("a<!-- secret -->b") == "ab"


# --- iframes -----------------------------------------------------------------

def test_iframe_from_unknown_host_removed_allowed_one_kept():
    html = f'<iframe src="https://evil.example/"></iframe><iframe src="{YOUTUBE}" width="560"></iframe>'
    assert clean(html) == f'<iframe src="{YOUTUBE}" width="560"></iframe>'


@pytest.mark.parametrize("src", [
    "https://evil.example/",
    "https://www.youtube.com.evil.example/embed/x",
    "https://evil.example\\@www.youtube.com/",
    "https://user@www.youtube.com/embed/x",
    "https://www.youtube.com:8443/embed/x",
    "javascript:alert(1)",
    "/embed/x",
    "",
])
def test_iframe_with_tricky_or_foreign_src_removed_whole(src):
    assert clean(f'<p>a<iframe src="{src}">fallback</iframe>b</p>') == "<p>ab</p>"


def test_iframe_without_src_removed():
    assert clean("<iframe>x</iframe>y") == "y"


def test_allowed_iframe_is_emptied_and_loses_unknown_attributes():
    html = f'<iframe src="{YOUTUBE}" allow="camera" onload="x()"><script>alert(1)</script></iframe>'
    assert clean(html) == f'<iframe src="{YOUTUBE}"></iframe>'


def test_protocol_relative_iframe_src_made_absolute_and_kept():
    html = '<iframe src="//player.vimeo.com/video/1"></iframe>'
    assert clean(html) == '<iframe src="https://player.vimeo.com/video/1"></iframe>'


def test_iframe_dropped_with_content_when_policy_has_no_iframe():
    policy = HtmlPolicy(tags=DEFAULT_ALLOWED_TAGS - {"iframe"})
    assert clean(f'<iframe src="{YOUTUBE}">fallback</iframe>x', policy) == "x"


# --- URLs --------------------------------------------------------------------

def test_root_relative_img_made_absolute():
    assert clean('<img src="/images/a.jpg" alt="Ảnh">') == '<img src="https://site.example/images/a.jpg" alt="Ảnh">'


def test_dot_dot_link_resolved_against_article_url():
    assert clean('<a href="../x">y</a>') == '<a href="https://site.example/tin-tuc/x" rel="noopener noreferrer">y</a>'


def test_absolute_and_mailto_links_kept():
    html = '<a href="https://other.example/a?b=1&amp;c=2">o</a><a href="mailto:toa.soan@site.example">m</a>'
    assert clean(html) == (
        '<a href="https://other.example/a?b=1&amp;c=2" rel="noopener noreferrer">o</a>'
        '<a href="mailto:toa.soan@site.example" rel="noopener noreferrer">m</a>'
    )


def test_vietnamese_urls_in_html_become_uris_like_the_record_urls():
    html = ('<img src="/ảnh/một.jpg" srcset="/ảnh/một-2x.jpg 2x" alt="Ảnh">'
            '<a href="https://báo.example.vn/tin-tức?trang=2#bình-luận">x</a>'
            '<a href="/tin-t%E1%BB%A9c">encoded</a>')
    assert clean(html) == (
        '<img src="https://site.example/%E1%BA%A3nh/m%E1%BB%99t.jpg" '
        'srcset="https://site.example/%E1%BA%A3nh/m%E1%BB%99t-2x.jpg 2x" alt="Ảnh">'
        '<a href="https://xn--bo-mia.example.vn/tin-t%E1%BB%A9c?trang=2#b%C3%ACnh-lu%E1%BA%ADn" '
        'rel="noopener noreferrer">x</a>'
        '<a href="https://site.example/tin-t%E1%BB%A9c" rel="noopener noreferrer">encoded</a>')
    assert clean(clean(html)) == clean(html)


def test_srcset_absolutised_and_unsafe_candidates_dropped():
    html = '<img src="a.jpg" srcset="a.jpg 1x, /b.jpg 2x, javascript:x 3x, https://cdn.example/c.jpg 480w">'
    assert clean(html) == (
        '<img src="https://site.example/tin-tuc/2024/a.jpg" srcset="https://site.example/tin-tuc/2024/a.jpg 1x, '
        'https://site.example/b.jpg 2x, https://cdn.example/c.jpg 480w">'
    )


def test_picture_source_srcset_absolutised():
    html = '<picture><source srcset="/a.webp" type="image/webp"><img src="/a.jpg"></picture>'
    assert clean(html) == (
        '<picture><source srcset="https://site.example/a.webp" type="image/webp">'
        '<img src="https://site.example/a.jpg"></picture>'
    )


def test_video_poster_and_blockquote_cite_absolutised():
    html = '<video poster="p.jpg" controls=""></video><blockquote cite="/nguon">q</blockquote>'
    assert clean(html) == (
        '<video poster="https://site.example/tin-tuc/2024/p.jpg" controls=""></video>'
        '<blockquote cite="https://site.example/nguon">q</blockquote>'
    )


def test_data_uri_image_dropped():
    assert clean('<img src="data:image/png;base64,AAAA" alt="a">') == '<img alt="a">'


def test_kept_attributes():
    html = ('<table><tbody><tr><td colspan="2" rowspan="3">x</td></tr></tbody></table>'
            '<time datetime="2024-05-01T08:00:00+07:00">1/5</time><abbr title="Thành phố">TP</abbr>')
    assert clean(html) == html


def test_base_url_must_be_absolute():
    with pytest.raises(ValueError, match="base_url"):
        clean_html("<p>x</p>", "/relative")


# --- text --------------------------------------------------------------------

def test_vietnamese_nfc_text_preserved_byte_for_byte():
    html = "<p>Chính trị, Đời sống, Kinh tế - Xã hội: người dân ở Huế, Đà Nẵng.</p>"
    assert clean(html).encode() == html.encode()


def test_decomposed_vietnamese_comes_out_nfc():
    nfd = unicodedata.normalize("NFD", "<p title=\"Thời sự\">Thời sự</p>")
    assert clean(nfd) == "<p title=\"Thời sự\">Thời sự</p>"


def test_entities():
    assert clean("<p>Tom &amp; Jerry, AT&T, 1 &lt; 2, &eacute;, &#7885;</p>") == "<p>Tom &amp; Jerry, AT&amp;T, 1 &lt; 2, é, ọ</p>"


def test_illegal_control_chars_removed_from_html_raw_and_as_references():
    assert clean("<p>A\x01B&#1;C&#xFFFE;D\x85E</p>") == "<p>ABCDE</p>"


def test_output_is_deterministic():
    html = '<p title="t" lang="vi"><a href="/a">a</a><img alt="x" src="/i.jpg" width="1" height="2"></p>'
    assert len({clean(html) for _ in range(5)}) == 1


@pytest.mark.parametrize("html", ["<p><select><p>x", "<pre>\nx</pre>", "<pre></a>\n", "<table>x<tr><td>y</table>", "<a href=/a><div><a href=/b>z"])
def test_known_reparse_traps_are_idempotent(html):
    once = clean(html)
    assert clean(once) == once


def test_pre_leading_newline_survives_a_second_parse():
    assert clean("<pre>\n\nx</pre>") == "<pre>\n\nx</pre>"


# --- plain text / XML chars --------------------------------------------------







def test_strip_illegal_xml_chars_counts():
    text = "a\x00b\x08\x0b\x0c\x1fc\ud800\udfffd\x80\x9fe\ufffe\uffff\t\n\r\x7f"
    assert strip_illegal_xml_chars(text) == ("abcde\t\n\r", 12)      # DEL too: one rule, text.ILLEGAL_XML


def test_strip_illegal_xml_chars_keeps_vietnamese():
    assert strip_illegal_xml_chars("Xã hội 🇻🇳") == ("Xã hội 🇻🇳", 0)


# --- policy from config -------------------------------------------------------

def test_config_extra_tag_added():
    policy = policy_from_config({"extra_tags": ["dl", "dt", "dd"]})
    assert {"dl", "dt", "dd", "p"} <= policy.tags
    assert clean("<dl><dt>a</dt><dd>b</dd></dl>", policy) == "<dl><dt>a</dt><dd>b</dd></dl>"
    assert clean("<dl><dt>a</dt></dl>") == "a"


def test_config_allowed_tags_replace_default():
    policy = policy_from_config({"allowed_tags": ["p"]})
    assert policy.tags == frozenset({"p"})
    assert clean("<p><b>x</b></p>", policy) == "<p>x</p>"


def test_config_attributes_and_iframe_hosts():
    policy = policy_from_config({"allowed_attributes": {"p": ["data-x"]}, "iframe_hosts": ["Video.Example"]})
    assert policy.attributes["p"] == frozenset({"data-x"})
    assert policy.attributes["a"] == DEFAULT_POLICY.attributes["a"]
    assert policy.iframe_hosts == frozenset({"video.example"})
    html = '<p data-x="1"></p><iframe src="https://video.example/v"></iframe><iframe src="https://www.youtube.com/embed/x"></iframe>'
    assert clean(html, policy) == '<p data-x="1"></p><iframe src="https://video.example/v"></iframe>'


def test_empty_config_is_default_policy():
    assert policy_from_config({}) == DEFAULT_POLICY
    assert DEFAULT_POLICY.iframe_hosts == DEFAULT_ALLOWED_IFRAME_HOSTS


@pytest.mark.parametrize(("table", "key"), [
    ({"extra_tags": "dl"}, "html.extra_tags"),
    ({"allowed_tags": [1, 2]}, "html.allowed_tags"),
    ({"iframe_hosts": "www.youtube.com"}, "html.iframe_hosts"),
    ({"allowed_attributes": ["p"]}, "html.allowed_attributes"),
    ({"allowed_attributes": {"p": "title"}}, "html.allowed_attributes.p"),
    ({"extra_tags": ["script"]}, "html.extra_tags"),
    ({"allowed_attributes": {"a": ["onclick"]}}, "html.allowed_attributes.a"),
    ({"allowed_attributes": {"p": ["style"]}}, "html.allowed_attributes.p"),
    ({"iframe_hosts": ["https://www.youtube.com/"]}, "html.iframe_hosts"),
    ({"extra_tag": ["dl"]}, "html.extra_tag"),
])
def test_config_errors_name_the_key(table, key):
    with pytest.raises(ValueError) as info:
        policy_from_config(table)
    assert str(info.value).startswith(key)


def _start_tags(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    tags: list = []
    parser = HTMLParser()
    parser.handle_starttag = lambda tag, attrs: tags.append((tag, attrs))
    parser.feed(html)
    parser.close()
    return tags


# --- properties --------------------------------------------------------------

_PIECES = st.sampled_from([
    "<p>", "</p>", "<a href='/x'>", "<a href=\"javascript:alert(1)\">", "</a>", "<b>", "</b>", "<i>", "<br>",
    "<img src=../i.jpg srcset='a.jpg 1x, b.jpg 2x'>", "<img src=x onerror=alert(1)>", "<script>", "</script>",
    "<style>", "<iframe src='https://www.youtube.com/embed/x'>", "<iframe src=//evil.example/>", "</iframe>",
    "<table>", "<tr>", "<td colspan=2>", "</table>", "<ul><li>", "<h1>", "<h2>", "<div>", "</div>", "<noscript>",
    "<svg><style>", "<math>", "<!--", "-->", "<select>", "<textarea>", "&amp;", "&", "&#1;", "&#xD800;", "<", ">",
    "\"", "'", "=", "\x00", "\x0b", "\u0301", "\u0338", "Đời sống ", "Thời sự ", "x", " ", "\n", "<pre>", "<q cite=..>",
    "<video poster=p.jpg>", "<source srcset=',a.jpg'>", "<a href='//[::1'>", "<a href='https://bộ.vn/'>", "<a href='//h:99'>",
])
_HTMLISH = st.one_of(st.lists(_PIECES, max_size=25).map("".join), st.text(max_size=80))


@settings(max_examples=400, deadline=None)
@given(_HTMLISH)
def test_clean_is_idempotent(html):
    once = clean(html)
    assert clean(once) == once


@settings(max_examples=200, deadline=None)
@given(_HTMLISH)
def test_clean_output_is_safe_and_xml_legal(html):
    out = clean(html)
    for tag, attrs in _start_tags(out):
        assert tag in DEFAULT_ALLOWED_TAGS
        for name, value in attrs:
            assert name in DEFAULT_POLICY.attributes.get(tag, set()) | DEFAULT_POLICY.attributes["*"] | {"rel"}
            if name in ("href", "src", "poster", "cite"):
                assert value.startswith(("https://", "mailto:")), value
    assert strip_illegal_xml_chars(out) == (out, 0)
    assert all(unicodedata.is_normalized("NFC", text) for text in re.split(r"<[^>]*>", out))



# Characters whose normal form depends on their neighbours: combining marks (one of them can join
# a ">" into "≯"), Hangul jamo and syllables, Indic two-part vowels, a singleton, decomposed Vietnamese.
_NFC_EDGES = st.lists(st.sampled_from(
    list("<>/ a=\"e") + ["\u0301", "\u0300", "\u0323", "\u0338", "\u0308", "\u0344", "\u1100", "\u1161", "\u11a8",
                          "\uac00", "\u0b47", "\u0b3e", "\u0b4b", "\u212b", "\u00c5", "\u0f73", "\u1ebf", "e\u0302\u0301"]),
    max_size=30).map("".join)


@settings(max_examples=500, deadline=None)
@given(_NFC_EDGES)
def test_nfc_shortcut_gives_what_normalising_each_text_piece_gives(html):
    from feedpub.sanitize import _TAG_OR_TEXT, _nfc_text
    piecewise = _TAG_OR_TEXT.sub(lambda m: m.group(1) or unicodedata.normalize("NFC", m.group(2)), html)
    assert _nfc_text(html) == piecewise

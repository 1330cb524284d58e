"""feedpub.urls: the one http(s) rule, path resolution and IRI -> URI, and every caller using them alike."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import feedpub
from feedpub.config import parse_config
from feedpub.errors import ConfigError
from feedpub.feeds import guid
from feedpub.urls import UrlError, http_url_problem, iri_to_uri, is_http_url, reference_problem, resolve
from feedpub.records import RecordRules
from feedpub.websub import ping_hub
from conftest import NOW, record, scan_records, scan_rows, write_jsonl

BASE = "https://news.example.vn"
CONFIG = parse_config(f'[site]\nbase_url = "{BASE}"\n'
                      '[languages.vi]\ntitle = "T"\ndescription = "D"\n'
                      '[languages.en]\ntitle = "T"\ndescription = "D"\n')


# --------------------------------------------------------------------------- IRI -> URI


@pytest.mark.parametrize("iri, uri", [
    ("https://x.vn/vi/tin-tức/bài-1.html", "https://x.vn/vi/tin-t%E1%BB%A9c/b%C3%A0i-1.html"),
    ("https://x.vn/ảnh/một.jpg", "https://x.vn/%E1%BA%A3nh/m%E1%BB%99t.jpg"),
    ("https://x.vn/tìm?q=thời tiết&trang=2", "https://x.vn/t%C3%ACm?q=th%E1%BB%9Di%20ti%E1%BA%BFt&trang=2"),
    ("https://x.vn/bài#phần-2", "https://x.vn/b%C3%A0i#ph%E1%BA%A7n-2"),
    ("https://x.vn/a?b=c?d#e?f/g", "https://x.vn/a?b=c?d#e?f/g"),
    ("https://x.vn/a#b#c", "https://x.vn/a#b%23c"),
    ("https://báo.example.vn/tin", "https://xn--bo-mia.example.vn/tin"),
    ("https://BÁO.example.vn:8443/", "https://xn--bo-mia.example.vn:8443/"),
    ("https://x.vn/tin-t%E1%BB%A9c", "https://x.vn/tin-t%E1%BB%A9c"),          # already encoded: kept
    ("https://x.vn/tin-t%e1%bb%a9c", "https://x.vn/tin-t%e1%bb%a9c"),          # lowercase escapes kept too
    ("https://x.vn/100%-tin%zz", "https://x.vn/100%25-tin%25zz"),              # a stray % is escaped
    ("https://x.vn/tức%20mới", "https://x.vn/t%E1%BB%A9c%20m%E1%BB%9Bi"),      # mixed: only the raw part
    ("https://x.vn/{a}|b^c`d\"e<f>[g]", "https://x.vn/%7Ba%7D%7Cb%5Ec%60d%22e%3Cf%3E%5Bg%5D"),
    ("https://[2001:db8::1]:8080/ảnh", "https://[2001:db8::1]:8080/%E1%BA%A3nh"),
    ("https://x.vn/😀", "https://x.vn/%F0%9F%98%80"),
    ("/vi/tin-tức", "/vi/tin-t%E1%BB%A9c"),
])
def test_iri_to_uri(iri, uri):
    assert iri_to_uri(iri) == uri
    assert iri_to_uri(uri) == uri                        # converting twice changes nothing
    if uri.startswith("https://"):
        assert http_url_problem(uri) is None


def test_iri_to_uri_does_not_normalise():
    # RFC 3987 §3.1 converts a digital IRI as it is: composed and decomposed letters stay distinct.
    assert iri_to_uri("https://x.vn/t\u1ee9c") == "https://x.vn/t%E1%BB%A9c"
    assert iri_to_uri("https://x.vn/tu\u031b\u0301c") == "https://x.vn/tu%CC%9B%CC%81c"


def test_a_host_with_no_idna_form_is_an_error():
    with pytest.raises(UrlError, match="not a valid international domain name"):
        iri_to_uri("https://" + "á" * 64 + ".vn/")


# --------------------------------------------------------------------------- the http(s) rule


@pytest.mark.parametrize("url, problem", [
    ("https://[::1/x", 'its IPv6 address "[::1" has no closing "]"'),
    ("https://[::g]/x", '"[::g]" is not a valid IPv6 address'),
    ("https://[::1]x/", 'it has "x" after its IPv6 address (expected ":" and a port, or nothing)'),
    ("https://x.vn:99999/", "its port 99999 is out of range (1-65535)"),
    ("https://x.vn:0/", "its port 0 is out of range (1-65535)"),
    ("https://x.vn:8o/", 'its port "8o" is not a number'),
    ("https://x.vn:-1/", 'its port "-1" is not a number'),
    ("https:///x", "it has no host"),
    ("https://:80/x", "it has no host"),
    ("https://x..vn/", 'its host "x..vn" is not a valid host name'),
    ("https://-x.vn/", 'its host "-x.vn" is not a valid host name'),
    ("https://x.vn%2Fy/", 'its host "x.vn%2Fy" is percent-encoded (expected a host name)'),
    ("http://999.1.1.1/", 'its host "999.1.1.1" is not a valid IPv4 address'),
    ("https://x.vn/\u202egpj.exe", "it contains U+202E, a bidi control character"),
    ("https://x.vn/a\u200fb", "it contains U+200F, a bidi control character"),
    ("https://x.vn/\u2066x", "it contains U+2066, a bidi control character"),
    ("https://x.vn/\u200btin", "it contains U+200B, an invisible character"),
    ("https://x.vn/tin\u00adt\u1ee9c", "it contains U+00AD, an invisible character"),
    ("\ufeffhttps://x.vn/a", "it contains U+FEFF, an invisible character"),
    ("https://x.vn/a\u2060b", "it contains U+2060, an invisible character"),
    ("https://x.vn/a b", "it contains whitespace"),
    ("https://x.vn/a\u00a0b", "it contains whitespace (U+00A0)"),
    ("https://x.vn/a\tb", "it contains whitespace (U+0009)"),
    ("https://x.vn/a\x00b", "it contains the control character U+0000"),
    ("https://x.vn/a\x85b", "it contains whitespace (U+0085)"),
    ("https://x.vn/a\x9bb", "it contains the control character U+009B"),
    ("https://x.vn\\evil.vn/", 'it contains a backslash (expected "/")'),
    ("https://user:pass@x.vn/", 'it has a user name or password ("user:pass@") before the host'),
    ("https://x.vn@evil.vn/", 'it has a user name or password ("x.vn@") before the host'),
    ("https://x.vn/tức", 'it contains "ứ" (U+1EE9), which a URI must percent-encode (it is an IRI)'),
    ("https://x.vn/a{b}", 'its path contains "{", which a URI must percent-encode'),
    ("https://x.vn/a%zz", 'its path contains "%zz", which a URI must percent-encode'),
    ("https://x.vn/a?b#c#d", 'its fragment contains "#", which a URI must percent-encode'),
    ("ftp://x.vn/a", 'its scheme "ftp" is not http or https'),
    ("https:x.vn/a", 'it has no "//" and host after "https:"'),
    ("//x.vn/a", "it has no scheme (expected http:// or https://)"),
    ("", "it is empty"),
])
def test_http_url_problems(url, problem):
    assert http_url_problem(url) == problem
    assert not is_http_url(url)


@pytest.mark.parametrize("url", ["https://x.vn", "http://x.vn/", "HTTPS://X.VN/A?b=c#d", "https://x.vn:8080/a",
                                 "https://127.0.0.1/", "https://[::1]/", "https://[2001:db8::1]:443/x",
                                 "https://x_y.example.vn/", "https://x.vn./", "https://x.vn:/a",
                                 "https://x.vn/t%E1%BB%A9c?q=%20#f", "https://x.vn/a(b)!$&'*+,;=:@"])
def test_http_urls_accepted(url):
    assert http_url_problem(url) is None
    assert is_http_url(url)


def test_userinfo_on_request():
    assert is_http_url("https://user@x.vn/", userinfo=True)
    assert not is_http_url("https://user@x.vn/")


@pytest.mark.parametrize("value, expected", [
    ("/vi/tin-tức/bài-1.html", f"{BASE}/vi/tin-t%E1%BB%A9c/b%C3%A0i-1.html"),
    ("/ảnh/một.jpg", f"{BASE}/%E1%BA%A3nh/m%E1%BB%99t.jpg"),
    ("  /vi/a  ", f"{BASE}/vi/a"),
    ("/vi/./x/../a", f"{BASE}/vi/a"),
    ("/vi/../tức", f"{BASE}/t%E1%BB%A9c"),
    ("/tìm?q=gió-mùa#kết-quả", f"{BASE}/t%C3%ACm?q=gi%C3%B3-m%C3%B9a#k%E1%BA%BFt-qu%E1%BA%A3"),
    ("https://báo.example.vn/tin-tức", "https://xn--bo-mia.example.vn/tin-t%E1%BB%A9c"),
])
def test_resolve(value, expected):
    assert resolve(value, BASE + "/tin") == expected


@pytest.mark.parametrize("value, kind", [("//x.vn/a", "shape"), ("a/b", "shape"), ("", "shape"),
                                         ("ftp://x.vn/a", "scheme"), ("javascript:alert(1)", "scheme"),
                                         ("https://[::1/x", "syntax"), ("/a b", "syntax")])
def test_resolve_refuses(value, kind):
    with pytest.raises(UrlError) as info:
        resolve(value, BASE)
    assert info.value.kind == kind


@pytest.mark.parametrize("value, iri, absolute, problem", [
    ("https://x.vn/a", False, True, None),
    ("urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a", False, True, None),
    ("tag:x.vn,2021:a", False, True, None),
    ("../a/b?c#d", False, False, None),
    ("../a/b", False, True, "is not absolute: it has no scheme such as https:"),
    ("https://x.vn/tức", True, True, None),
    ("https://x.vn/tức", False, True, 'contains "ứ", which a URI must percent-encode (an IRI is not a URI)'),
    ("https://x.vn/{a}", True, True, 'contains "{", which a URI must percent-encode'),
    ("https://x.vn/a b", True, False, "contains whitespace"),
    ("https://x.vn/\u202e", True, False, "contains U+202E, a bidi control character (RFC 3987 §4.1)"),
    ("https://x.vn/a\u200bb", True, True, None),          # in the IRI grammar: only feedpub's own input refuses it
    ("1http://x", True, False, 'has an invalid scheme "1http"'),
    ("http://[::1/x", True, True, 'has an IPv6 address "[::1" with no closing "]"'),
    ("http://x.vn:8o/", True, True, 'has a port "8o" that is not a number'),
    ("", True, False, None),
    ("", True, True, "is empty"),
])
def test_reference_problem(value, iri, absolute, problem):
    assert reference_problem(value, iri=iri, absolute=absolute) == problem


# --------------------------------------------------------------------------- every caller


def test_record_urls_are_converted_and_checked():
    rec = record(url="/vi/tin-tức/bài-1.html?trang=2#bình-luận",
                 image={"url": "https://ảnh.example.vn/ảnh/một.jpg", "length": 10},
                 author={"name": "A", "uri": "/tác-giả/a"})
    article, errors, _ = RecordRules.for_config(CONFIG).check(rec, "a.jsonl", 1)
    assert errors == []
    assert article.url == f"{BASE}/vi/tin-t%E1%BB%A9c/b%C3%A0i-1.html?trang=2#b%C3%ACnh-lu%E1%BA%ADn"
    assert article.image.url == "https://xn--nh-k5s.example.vn/%E1%BA%A3nh/m%E1%BB%99t.jpg"
    assert article.image.type == "image/jpeg"
    assert article.author.uri == f"{BASE}/t%C3%A1c-gi%E1%BA%A3/a"


@pytest.mark.parametrize("field, value, message", [
    ("url", "https://[::1/x", '"https://[::1/x" is not a valid URL: its IPv6 address "[::1" has no closing "]"'),
    ("url", "https://x.vn:99999/a", '"https://x.vn:99999/a" is not a valid URL: its port 99999 is out of range '
                                   "(1-65535)"),
    ("url", "/vi/\u202ecod.html", '"/vi/\\u202ecod.html" is not a valid URL: it contains U+202E, '
                                  "a bidi control character"),
    ("url", "https://a:b@x.vn/", '"https://a:b@x.vn/" is not a valid URL: it has a user name or password '
                                 '("a:b@") before the host'),
    ("url", "/vi/tin\u200b-t\u1ee9c.html", '"/vi/tin\\u200b-tức.html" is not a valid URL: it contains U+200B, '
                                         "an invisible character"),
    ("url", "ftp://x.vn/a", '"ftp://x.vn/a" is not an http(s) URL'),
    ("url", "x.vn/a", '"x.vn/a" is not a URL'),
    ("image.url", "https://x.vn:8o/a.jpg", '"https://x.vn:8o/a.jpg" is not a valid URL: its port "8o" is not a number'),
    ("author.uri", "https:///a", '"https:///a" is not a valid URL: it has no host'),
])
def test_malformed_record_urls_are_one_error_line(field, value, message):
    top, _, sub = field.partition(".")
    rec = record(**{top: {"name": "A", sub: value} if top == "author" else {sub: value}} if sub else {top: value})
    article, errors, _ = RecordRules.for_config(CONFIG).check(rec, "articles/a.jsonl", 7)
    assert article is None
    assert [str(e) for e in errors] == [
        f'articles/a.jsonl:7: field "{field}": {message} '
        "(expected an absolute http(s) URL or a path starting with /)"]


def test_build_refuses_what_validate_refuses_and_publishes_the_rest(fixture_site, tmp_path):
    late = "2026-11-28T08:00:00+07:00"           # newer than every fixture article: these would lead the feed
    write_jsonl(fixture_site / "articles" / "x-urls.jsonl",
                record(id="u1", url="https://[::1/x", published=late),
                record(id="u2", url="https://x.vn:99999/", published=late),
                record(id="u3", url="/vi/\u202etxt.exe", published=late),
                record(id="u4", url="/vi/tin-tức/bài-u4.html", published=late))
    report = feedpub.build(fixture_site, tmp_path / "out", now=NOW)
    assert [line.split(": field")[0] for line in report.errors] == [
        "articles/x-urls.jsonl:1", "articles/x-urls.jsonl:2", "articles/x-urls.jsonl:3"]
    rss = (tmp_path / "out" / "vi" / "rss.xml").read_text("utf-8")
    assert "/id/u4<" in rss and "/id/u1<" not in rss and "/id/u2<" not in rss and "/id/u3<" not in rss
    assert "/vi/tin-t%E1%BB%A9c/b%C3%A0i-u4.html" in rss


@pytest.mark.parametrize("key, value, message", [
    ("base_url", "https://[::1/x", "is not a valid URL: its IPv6 address"),
    ("base_url", "https://x.vn:99999", "is not a valid URL: its port 99999 is out of range (1-65535)"),
    ("base_url", "x.vn", "is not an absolute URL (expected http:// or https://…)"),
    ("feeds_url", "https://x.vn/\u202efeeds", "is not a valid URL: it contains U+202E, a bidi control character"),
    ("hub", "https://user:pw@hub.example/", "is not a valid URL: it has a user name or password"),
])
def test_config_urls_are_checked_by_the_same_rule(key, value, message):
    text = f'[site]\nbase_url = "https://news.example.vn"\n{key} = "{value}"\n' \
           '[languages.vi]\ntitle = "T"\ndescription = "D"\n'
    if key == "base_url":
        text = text.replace('base_url = "https://news.example.vn"\n', "", 1)
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert str(info.value).startswith(f"feedpub.toml: [site] {key}: ")
    assert message in str(info.value)


def test_config_language_link_is_checked():
    with pytest.raises(ConfigError, match=r"\[languages.vi\] link: .* is not a valid URL: its port"):
        parse_config('[site]\nbase_url = "https://x.vn"\n'
                     '[languages.vi]\ntitle = "T"\ndescription = "D"\nlink = "https://x.vn:70000/vi/"\n')


def test_config_iris_become_uris_but_ids_keep_the_configured_form():
    config = parse_config('[site]\nbase_url = "https://báo.example.vn/tin-tức/"\n'
                          '[languages.vi]\ntitle = "T"\ndescription = "D"\nlink = "https://báo.example.vn/tiếng-việt/"\n')
    assert config.base_url == "https://xn--bo-mia.example.vn/tin-t%E1%BB%A9c"
    assert config.feeds_url == "https://xn--bo-mia.example.vn/tin-t%E1%BB%A9c/feeds"
    assert config.languages["vi"].link == "https://xn--bo-mia.example.vn/ti%E1%BA%BFng-vi%E1%BB%87t"
    assert guid(config, "bài 1") == "https://báo.example.vn/tin-tức/id/b%C3%A0i%201"
    assert config.feed_id("vi") == "https://báo.example.vn/tin-tức/feeds/vi/"


def test_ids_do_not_depend_on_urls():
    """An id is base_url/id/<percent-encoded record id>: the same before and after URL conversion."""
    assert guid(CONFIG, "vi-2021-12-thu-thua") == f"{BASE}/id/vi-2021-12-thu-thua"
    assert guid(CONFIG, "tin tức/1") == f"{BASE}/id/tin%20t%E1%BB%A9c%2F1"
    assert CONFIG.feed_id("vi") == f"{BASE}/feeds/vi/"


def test_websub_uses_the_same_rule():
    results = ping_hub("https://hub.example:99999/", ["https://x.vn/feeds/vi/rss.xml"], attempts=1)
    assert results[0].detail.startswith("invalid hub URL")
    results = ping_hub("https://[::1/", ["https://x.vn/feeds/vi/rss.xml"], attempts=1)
    assert results[0].detail.startswith("invalid hub URL")


# --------------------------------------------------------------------------- the fast scan agrees

TRICKY_URLS = [
    "/vi/a", "/vi/tin-tức/bài-1.html", "/vi/tin-t%E1%BB%A9c/b%C3%A0i-1.html", "/vi/a?x=tức#mục",
    "/vi/a%zz", "/vi/./b/../c", "/vi/../tức", "/vi/{x}", " /vi/padded ", "https://báo.example.vn/tức",
    "https://x.vn/a", "HTTPS://X.VN/A", "https://x.vn:8080/a", "https://[::1]/a", "https://[::1/x",
    "https://x.vn:99999/a", "https://x.vn:8o/a", "https://a:b@x.vn/", "/vi/\u202eexe", "/vi/a\u200fb",
    "/vi/a b", "//x.vn/a", "ftp://x.vn/a", "https:///a", "https://x..vn/", "https://báo..vn/",
    "https://x.vn/a\\b", "/", "/#", "/?", "https://x.vn/a#b#c",
]


def _scan(tmp_path: Path, recs: list[dict], **kw):
    (tmp_path / "articles").mkdir(exist_ok=True)
    (tmp_path / "articles" / "a.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    return scan_records(tmp_path, "articles/a.jsonl", CONFIG, time.time(), **kw)


@pytest.mark.parametrize("field", ["url", "image", "author"])
def test_fast_scan_and_full_validator_agree_on_tricky_urls(tmp_path, field):
    recs = []
    for i, url in enumerate(TRICKY_URLS):
        value = {"url": url} if field == "image" else {"name": "A", "uri": url} if field == "author" else url
        recs.append(record(id=f"r{i}", translation_key=f"k{i}", **{field: value}))
    fast = _scan(tmp_path, recs)
    thorough = _scan(tmp_path, recs, thorough=True)
    assert scan_rows(fast) == scan_rows(thorough)
    if field == "url":
        assert len(fast.problems) == 13
        # The URL a translation link carries is the record's own, converted once by the record rules.
        rules = RecordRules.for_config(CONFIG)
        urls = {rec["translation_key"]: article.url for rec in recs
                for article, errors, _ in [rules.check(rec, "a", 1)] if article is not None}
        assert urls["k1"] == f"{BASE}/vi/tin-t%E1%BB%A9c/b%C3%A0i-1.html"
        assert urls["k2"] == urls["k1"]
        assert urls["k9"] == "https://xn--bo-mia.example.vn/t%E1%BB%A9c"


def test_a_site_full_of_vietnamese_urls_publishes_uris_in_every_format(fixture_site, tmp_path):
    import re

    from feedpub.validate import validate_output
    late = "2026-11-28T08:00:00+07:00"
    write_jsonl(fixture_site / "articles" / "x-vi.jsonl",
                record(id="vi-url", url="/vi/tin-tức/bài-1.html?trang=2#bình-luận", published=late,
                       content='<p><a href="/vi/thời-tiết">x</a><img src="/ảnh/hai.jpg" alt=""></p>',
                       image={"url": "/ảnh/một.jpg", "caption": "Ảnh", "length": 100},
                       author={"name": "A", "uri": "/tác-giả/a"}, translation_key="k-vi"),
                record(id="en-url", lang="en", url="https://báo.example.vn/en/news", published=late,
                       translation_key="k-vi"))
    out = tmp_path / "out"
    report = feedpub.build(fixture_site, out, now=NOW)
    assert report.errors == []
    texts = {name: (out / "vi" / name).read_text("utf-8") for name in ("rss.xml", "atom.xml", "feed.json")}
    page = f"{BASE}/vi/tin-t%E1%BB%A9c/b%C3%A0i-1.html?trang=2#b%C3%ACnh-lu%E1%BA%ADn"
    image = f"{BASE}/%E1%BA%A3nh/m%E1%BB%99t.jpg"
    for name, text in texts.items():
        assert page.replace("&", "&amp;") in text or page in text, name
        assert image in text, name
        assert not re.search(r"(href|url|src)=\"[^\"]*[^\x00-\x7f]", text), name   # no raw IRI in any URL
    assert f"<link>{page}</link>" in texts["rss.xml"]
    assert f'<enclosure url="{image}"' in texts["rss.xml"] and f'<media:content url="{image}"' in texts["rss.xml"]
    assert 'href="https://xn--bo-mia.example.vn/en/news"' in texts["atom.xml"]     # the translation link
    assert f"{BASE}/t%C3%A1c-gi%E1%BA%A3/a" in texts["atom.xml"]
    assert f'src="{BASE}/%E1%BA%A3nh/hai.jpg"' in texts["atom.xml"].replace("&quot;", '"')
    assert f"<guid isPermaLink=\"false\">{BASE}/id/vi-url</guid>" in texts["rss.xml"]      # ids unchanged
    problems = [str(f) for r in validate_output(out, expect_offset="+07:00") for f in r.errors]
    assert problems == []

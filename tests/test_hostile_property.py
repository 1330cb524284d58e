"""Property: whatever a record file holds, build never fails inside, judges every record as check
does, reports each bad record on its own line, and still publishes the good records beside them."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import feedparser
from hypothesis import HealthCheck, given, settings, strategies as st

import feedpub
from conftest import NOW

CONFIG = """\
[site]
base_url = "https://news.example.vn"
category_feeds = true

[languages.vi]
title = "Tin"
description = "Tin mới"

[languages.en]
title = "News"
description = "Latest"
"""
GOOD = [
    {"id": "vi-good-1", "lang": "vi", "title": "Tốt một", "url": "/vi/tot-1", "published": "20/11/2026 08:00",
     "categories": ["Xã hội"], "image": {"url": "/a.jpg"}, "translation_key": "k1"},
    {"id": "en-good-1", "lang": "en", "title": "Good one", "url": "/en/good-1", "published": "2026-11-20T09:00:00Z",
     "author": {"name": "An", "email": "an@example.vn"}, "translation_key": "k1"},
]
FIELDS = ["id", "lang", "title", "url", "published", "updated", "summary", "content", "author", "categories",
          "image", "translation_key", "draft"]

# Characters that break things: C0/C1 controls, DEL, lone surrogates, noncharacters, bidi and
# zero-width marks, separators, BOM, combining marks, emoji, Vietnamese.
nasty_chars = st.sampled_from(
    ["\x00", "\x01", "\x08", "\x0b", "\x1b", "\x7f", "\x85", "\x9f", "\ud800", "\udfff", "\ufdd0", "\ufffe",
     "\uffff", "\U0001fffe", "\u200b", "\u200e", "\u202e", "\u2066", "\u2028", "\u2029", "\ufeff", "\u0301",
     "\r", "\n", "\t", " ", "&", "<", "]]>", "ệ", "Đ", "🇻🇳", "%", "\\", '"', "/", ":", "@", "#", "?"])
nasty_text = st.one_of(
    st.text(max_size=30),
    st.lists(st.one_of(nasty_chars, st.text(max_size=4)), max_size=12).map("".join),
    st.sampled_from(["", " ", "0001-01-01T00:00:00", "9999-12-31T23:59:59Z", "01/01/0001 00:00",
                     "1 Jan 0001 00:00 +1400", "31/02/2021", "GMT+20", "2021-12-02T23:30:00+15:00",
                     "5 giờ trước", "https://[::1/x", "https://x.vn:99999/", "http://", "/vi/bài-1.html",
                     "https://báo.example.vn/ảnh/một.jpg", "javascript:alert(1)", "x" * 5000]),
)
numbers = st.one_of(st.integers(), st.integers(min_value=-(10 ** 30), max_value=10 ** 30),
                    st.sampled_from([0, -1, 253402300799, -62135596800, 2 ** 63, 1e308, -1e308, 1.5, 0.1]),
                    st.floats(allow_nan=False, allow_infinity=False))
scalars = st.one_of(st.none(), st.booleans(), numbers, nasty_text)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.one_of(st.sampled_from(FIELDS + ["name", "email", "uri", "caption", "type", "length"]), nasty_text),
                                                                        inner, max_size=4)),
                      max_leaves=12)


@st.composite
def hostile_line(draw) -> str:
    """One line of a JSONL file: a record with wrong types, extreme values and odd text anywhere,
    sometimes nested far beyond any decoder's limit, sometimes not JSON at all."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.sampled_from(['{"id": "x", "lang": ', "[1, 2", "NaN", '{"id": 1e99999}', "nul",
                                     '{"a": "\\ud800\\udc00\\udfff"}', "\x00", '"just a string"', "[]", "{}"]))
    record = {name: draw(values) for name in draw(st.lists(st.sampled_from(FIELDS), unique=True))}
    if draw(st.booleans()):                  # close to valid: only some fields are hostile
        base = {"id": f"h-{draw(st.integers(0, 10 ** 6))}", "lang": draw(st.sampled_from(["vi", "en", "fr"])),
                "title": "t", "url": "/h", "published": "21/11/2026 10:00"}
        record = {**base, **record}
    text = json.dumps(record, ensure_ascii=True)
    if kind == 1:                            # nesting deeper than the decoder allows, in some field
        depth = draw(st.integers(900, 1500))
        text = text[:-1] + (", " if len(text) > 2 else "") + '"deep": ' + "[" * depth + "]" * depth + "}"
    return text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(lines=st.lists(hostile_line(), min_size=1, max_size=6), raw_bytes=st.booleans())
def test_hostile_records_never_stop_the_good_ones(lines, raw_bytes):
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp, "site")
        (site / "articles").mkdir(parents=True)
        (site / "feedpub.toml").write_text(CONFIG, encoding="utf-8")
        (site / "articles" / "good.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in GOOD), encoding="utf-8")
        data = "".join(line + "\n" for line in lines).encode("utf-8", "surrogatepass")
        if raw_bytes:
            data += b'{"id": "bad-bytes", "title": "\xff\xfe\xc3"}\n'
        (site / "articles" / "hostile.jsonl").write_bytes(data)

        built = feedpub.build(site, Path(tmp, "out"), now=NOW)           # never raises: bad records are lines
        checked = feedpub.check(site, now=NOW)
        assert built.errors == checked.errors
        hostile_lines = len(lines) + raw_bytes
        for error in built.errors:
            assert error.startswith("articles/hostile.jsonl:"), error
            assert 1 <= int(error.split(":")[1]) <= hostile_lines, error
            assert error.isprintable(), error
        for lang, record in (("vi", GOOD[0]), ("en", GOOD[1])):
            feed = feedparser.parse(Path(tmp, "out", lang, "rss.xml").read_bytes())
            assert not feed.bozo, feed.bozo_exception
            ids = {entry.id for entry in feed.entries}
            assert f"https://news.example.vn/id/{record['id']}" in ids

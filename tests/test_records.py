"""The record rules, field by field: what each checker accepts, what it makes of it, what it says."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import msgspec
import pytest

from feedpub.config import parse_config
from feedpub.model import Author, Image
from feedpub.records import FastRecord, Problem, RecordRules

CONFIG = parse_config('[site]\nbase_url = "https://news.example.vn"\n'
                      '[languages.vi]\ntitle = "T"\ndescription = "D"\n[languages.en]\ntitle = "T"\ndescription = "D"\n')
RULES = RecordRules.for_config(CONFIG)
ICT = timezone(timedelta(hours=7))


@pytest.mark.parametrize(("field", "value", "clean"), [
    ("id", " vi-1 ", "vi-1"),
    ("id", "Bài viết số 1", "Bài viết số 1"),
    ("lang", "en", "en"),
    ("title", "  Thủ  Thừa\u00a0phát huy ", "Thủ Thừa phát huy"),
    ("title", "Thu\u0309 Thừa", "Thủ Thừa"),                         # decomposed Vietnamese becomes NFC
    ("url", "/vi/bài-1", "https://news.example.vn/vi/b%C3%A0i-1"),
    ("url", "https://x.vn/a?b=c#d", "https://x.vn/a?b=c#d"),
    ("date", "02/12/2021 - 23:30", datetime(2021, 12, 2, 23, 30, tzinfo=ICT)),
    ("author", "  Thanh  Ngân ", Author("Thanh Ngân")),
    ("author", {"name": "A", "email": "a@b.vn", "uri": "/tac-gia/a"}, Author("A", "a@b.vn", "https://news.example.vn/tac-gia/a")),
    ("categories", ["Chính trị", " Chính  trị ", "Xã hội"], ("Chính trị", "Xã hội")),
    ("image", {"url": "/a.png", "caption": " Ảnh "}, Image("https://news.example.vn/a.png", "Ảnh", "image/png", None)),
    ("image", {"url": "/a.AVIF"}, Image("https://news.example.vn/a.AVIF", None, "image/avif", None)),
    ("image", {"url": "/ảnh/b.jfif?w=300#x"}, Image("https://news.example.vn/%E1%BA%A3nh/b.jfif?w=300#x", None,
                                                    "image/jpeg", None)),
    ("image", {"url": "/img?id=5"}, Image("https://news.example.vn/img?id=5", None, None, None)),
    ("image", {"url": "/v1.2/anh"}, Image("https://news.example.vn/v1.2/anh", None, None, None)),
    ("image", {"url": "/a.heic", "type": "IMAGE/HEIC"}, Image("https://news.example.vn/a.heic", None, "image/heic", None)),
    ("translation_key", " k ", "k"),
    ("draft", None, False),
])
def test_each_checker_returns_the_clean_value(field, value, clean):
    result = getattr(RULES, field)(value)
    if isinstance(clean, datetime):
        assert result == clean and result.utcoffset() == clean.utcoffset()
    else:
        assert result == clean


@pytest.mark.parametrize(("field", "value", "message"), [
    ("id", "", '"" is not a usable id'),
    ("id", "a\nb", '"a\\x0ab" is not a usable id'),
    ("id", "x" * 201, "is 201 characters long"),
    ("lang", "fr", '"fr" is not a configured language (expected one of: en, vi)'),
    ("title", "\x00 ", "is empty (expected non-empty text)"),
    ("url", "ftp://x.vn/a", '"ftp://x.vn/a" is not an http(s) URL'),
    ("date", "31/02/2021", "day 31 is out of range for February 2021"),
    ("date", True, "true is not a date"),
    ("author", {"name": "A", "email": "a@b"}, '"a@b" is not an e-mail address'),
    ("categories", "Kinh tế", '"Kinh tế" is not a list'),
    ("categories", ["\x00"], 'contains "\\x00"'),
    ("image", {"url": "/a.jpg", "length": -1}, "the number -1 is not a size"),
    ("translation_key", "k\u202e", "is not a usable translation key"),
    ("draft", "yes", '"yes" is not true or false'),
])
def test_each_checker_says_what_is_wrong_and_what_was_expected(field, value, message):
    with pytest.raises(Problem) as info:
        getattr(RULES, field)(value)
    assert message in str(info.value) and "(expected" in str(info.value)


def test_check_locates_every_problem_and_keeps_no_article():
    article, errors, warnings = RULES.check({"id": "x", "lang": "fr", "url": "ftp://a", "published": "nope",
                                            "image": {"url": "/a.jpg", "type": "jpeg"}}, "articles/a.jsonl", 3)
    assert article is None and warnings == []
    assert [(e.source, e.line, e.field) for e in errors] == [
        ("articles/a.jsonl", 3, "lang"), ("articles/a.jsonl", 3, "title"), ("articles/a.jsonl", 3, "url"),
        ("articles/a.jsonl", 3, "published"), ("articles/a.jsonl", 3, "image.type")]
    assert str(errors[1]) == 'articles/a.jsonl:3: field "title": missing (expected non-empty text)'


def test_check_makes_an_article_and_warns_about_what_it_cleaned():
    article, errors, warnings = RULES.check(
        {"id": "vi-1", "lang": "vi", "title": "Tin\x01", "url": "/vi/1", "published": "Thứ Sáu, 02/12/2021 23:30",
         "summary": "  Tóm   tắt ", "content": "<p>x</p>"}, "articles/a.jsonl", 1)
    assert errors == []
    assert (article.title, article.summary, article.updated) == ("Tin", "Tóm tắt", article.published)
    assert warnings[0] == ('articles/a.jsonl:1: field "title": removed 1 control character(s) that XML cannot carry')
    assert any("weekday" in w for w in warnings)


def test_rank_is_the_verdict_of_the_same_checkers():
    good = msgspec.json.decode(b'{"id": "a", "lang": "vi", "title": "T", "url": "/a", "published": "02/12/2021",'
                               b' "categories": ["X", "X"], "translation_key": "k"}', type=FastRecord)
    ranked = RULES.rank(good)
    assert (ranked.id, ranked.lang, ranked.categories, ranked.translation_key, ranked.draft) == (
        "a", "vi", ("X",), "k", False)
    bad = msgspec.json.decode(b'{"id": "a", "lang": "vi", "title": "T", "url": "/a", "published": "31/02/2021"}',
                              type=FastRecord)
    assert RULES.rank(bad) is None
    body = msgspec.json.decode(b'{"id": "a", "lang": "vi", "title": "T", "url": "/a", "published": "02/12/2021",'
                               b' "content": 5}', type=FastRecord)
    assert RULES.rank(body) is None                        # a body must be text or null


def test_an_image_typed_as_something_else_keeps_its_picture_with_a_warning():
    """Readers show an enclosure as a picture only when its type says image/."""
    notes: list[str] = []
    image = RULES.image({"url": "/a.webp", "type": "application/octet-stream"}, notes)
    assert image == Image("https://news.example.vn/a.webp", None, "image/webp", None)
    assert notes == ['field "image.type": "application/octet-stream" is not an image type; the type is taken '
                     "from the image URL instead"]


def test_image_types_do_not_depend_on_the_machines_mime_table(monkeypatch):
    import mimetypes
    monkeypatch.setattr(mimetypes, "guess_type", lambda *a, **k: ("text/plain", None))
    assert RULES.image({"url": "/a.png"}).type == "image/png"

"""Database values become what a record file holds, so every row meets the same record rules."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from feedpub.dates import parse_datetime
from feedpub.database.values import categories_of, instant, record_of, usable_id
from dbhelp import validate_record

VN = ZoneInfo("Asia/Ho_Chi_Minh")
ROW = {"id": 12345, "lang": "vi", "title": "Bài", "url": "/vi/bai", "published": "02/12/2021 - 23:30"}


def judged(**fields):
    article, errors, warnings = validate_record(record_of({**ROW, **fields}), "feed_articles", "12345",
                                                languages={"vi": None}, base_url="https://x.vn", tz=VN)
    return article, [str(e) for e in errors], warnings


@pytest.mark.parametrize("value,expected", [
    (datetime(2021, 12, 2, 16, 30, tzinfo=timezone.utc), datetime(2021, 12, 2, 23, 30, tzinfo=VN)),
    (datetime(2021, 12, 2, 23, 30, tzinfo=timezone(timedelta(hours=7))), datetime(2021, 12, 2, 23, 30, tzinfo=VN)),
    (datetime(2021, 12, 2, 23, 30), datetime(2021, 12, 2, 23, 30, tzinfo=VN)),            # timestamp: site time
    (datetime(1970, 1, 1, 0, 0), datetime(1970, 1, 1, 0, 0, tzinfo=VN)),                  # +08:00 then
    (date(2021, 12, 2), datetime(2021, 12, 2, 0, 0, tzinfo=VN)),
    (1638462600, datetime(2021, 12, 2, 23, 30, tzinfo=VN)),
    (Decimal("1638462600"), datetime(2021, 12, 2, 23, 30, tzinfo=VN)),
    ("Thứ Năm, 02/12/2021 - 23:30", datetime(2021, 12, 2, 23, 30, tzinfo=VN)),
    ("2021-12-02T23:30:00.250000+07:00", datetime(2021, 12, 2, 23, 30, 0, 250000, tzinfo=VN)),
])
def test_every_date_kind_reads_as_the_same_instant(value, expected):
    article, errors, _ = judged(published=value)
    assert errors == [] and article.published == expected
    assert instant(value, VN, "dmy") == expected
    assert judged(published=value, updated=value)[0].updated == expected


def test_a_bad_date_is_the_rows_error_with_its_location():
    _, errors, _ = judged(published="31/02/2021 - 23:30")
    assert errors == ['feed_articles:12345: field "published": "31/02/2021 - 23:30" is not a valid date: day 31 is '
                      'out of range for February 2021 (expected DD/MM/YYYY [HH:MM])']
    assert judged(published="infinity")[1][0].startswith('feed_articles:12345: field "published": "infinity" is not')
    assert instant("31/02/2021", VN, "dmy") is None and instant(None, VN, "dmy") is None


def test_the_no_date_placeholder_in_updated_is_absent():
    article, errors, warnings = judged(updated=datetime(1, 1, 1))
    assert errors == [] and article.updated == article.published
    assert warnings[0].startswith('feed_articles:12345: field "updated": ')


@pytest.mark.parametrize("value,expected", [
    (["Chính trị", "Dân vận"], ("Chính trị", "Dân vận")),
    (("Chính trị",), ("Chính trị",)),
    ('["Chính trị", " Dân  vận "]', ("Chính trị", "Dân vận")),
    ('  ["Kinh tế"]', ("Kinh tế",)),
    ("", ()),
    (None, ()),
    ([], ()),
])
def test_categories_as_array_json_or_json_text(value, expected):
    article, errors, _ = judged(categories=value)
    assert errors == [] and article.categories == expected
    assert categories_of(value) == expected


@pytest.mark.parametrize("value,message", [
    ("Chính trị, Dân vận", '"Chính trị, Dân vận" is not a list (expected a list of strings)'),
    ('["a", 3]', "contains the number 3"),
    ('{"a": 1}', '"{"a": 1}" is not a list'),
    ({"a": 1}, "an object is not a list"),                   # a jsonb object
    ('[' * 100000, "nests 100,001 levels deep (expected at most 64 levels: limit record_depth"),  # never decoded
])
def test_bad_categories_are_the_rows_error(value, message):
    _, errors, _ = judged(categories=value)
    assert len(errors) == 1 and message in errors[0] and errors[0].startswith('feed_articles:12345: field "categories"')
    assert categories_of(value) is None


def test_author_as_text_or_json_and_image_as_json():
    assert judged(author="Thanh Ngân")[0].author.name == "Thanh Ngân"
    author = judged(author='{"name": "Thanh Ngân", "email": "ngan@example.vn"}')[0].author
    assert (author.name, author.email) == ("Thanh Ngân", "ngan@example.vn")
    assert judged(author={"name": "A"})[0].author.name == "A"
    image = judged(image='{"url": "/a.jpg", "length": 12}')[0].image
    assert (image.url, image.length, image.type) == ("https://x.vn/a.jpg", 12, "image/jpeg")
    assert 'field "image": "not json" is not an image' in judged(image="not json")[1][0]


@pytest.mark.parametrize("value,draft", [(True, True), (False, False), (1, True), (0, False), (None, False),
                                         (Decimal(1), True)])
def test_draft_boolean_or_zero_one(value, draft):
    article, errors, _ = judged(draft=value)
    assert errors == [] and article.draft is draft


def test_draft_other_numbers_are_errors():
    assert judged(draft=2)[1] == ['feed_articles:12345: field "draft": the number 2 is not true or false '
                                  '(expected a boolean)']


@pytest.mark.parametrize("value,text", [(12345, "12345"), (Decimal("12345"), "12345"),
                                        (uuid.UUID(int=5), "00000000-0000-0000-0000-000000000005"),
                                        ("vi-1", "vi-1")])
def test_integer_and_uuid_ids_become_text(value, text):
    assert judged(id=value)[0].id == text
    assert judged(translation_key=value)[0].translation_key == text
    assert usable_id(value) == text


@pytest.mark.parametrize("value", [None, "", "a\nb", 1.5, True, "x" * 201, b"bytes"])
def test_unusable_ids(value):
    assert usable_id(value) is None
    assert any('field "id"' in e for e in judged(id=value)[1])


def test_text_as_bytes_is_decoded_and_other_values_pass_through():
    assert judged(title=b"B\xc3\xa0i")[0].title == "Bài"
    assert 'field "title": the number 5 is not text' in judged(title=5)[1][0]


@pytest.mark.parametrize("value", [
    datetime(1000, 1, 2, 12, 0), datetime(9999, 12, 30, 12, 0), datetime(2026, 12, 7, 8, 30),
    datetime(9999, 12, 30, 12, 0, tzinfo=timezone.utc), datetime(1000, 1, 2, tzinfo=timezone(timedelta(hours=7))),
])
def test_a_database_datetime_ranks_as_the_same_date_written_in_a_record(value):
    """One year rule (the dates package's): a typed value and its ISO text mean the same instant."""
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    assert instant(value, tz, "dmy") == parse_datetime(value.isoformat(), tz)[0]


@pytest.mark.parametrize("value", [datetime(999, 12, 31, 12, 0), datetime(9999, 12, 31, 23, 0, tzinfo=timezone.utc)])
def test_a_database_datetime_outside_the_years_feeds_can_write_never_ranks(value):
    assert instant(value, ZoneInfo("Asia/Ho_Chi_Minh"), "dmy") is None

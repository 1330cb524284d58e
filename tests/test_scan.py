"""The fast scan agrees with the full validator, and finds every record where it is."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import feedpub.ingest.scan as scan
from conftest import scan_records, scan_rows
from feedpub.config import parse_config

CONFIG = parse_config('[site]\nbase_url = "https://news.example.vn"\n'
                      '[languages.vi]\ntitle = "T"\ndescription = "D"\n'
                      '[languages.en]\ntitle = "T"\ndescription = "D"\n')


def record(i: int, **fields) -> dict:
    base = {"id": f"r{i}", "lang": "vi", "title": "Tin", "url": f"/vi/{i}",
            "published": "2021-12-02T23:30:00+07:00", "content": "<p>x</p>"}
    base.update(fields)
    return base


def scan_text(tmp_path: Path, text: str, **kw):
    (tmp_path / "articles").mkdir(exist_ok=True)
    (tmp_path / "articles" / "a.jsonl").write_text(text, encoding="utf-8")
    return scan_records(tmp_path, "articles/a.jsonl", CONFIG, time.time(), **kw)


def test_lines_and_offsets_survive_bom_blank_lines_long_lines_and_no_final_newline(tmp_path):
    long_body = "x" * (3 * scan.CHUNK)
    lines = ["\ufeff" + json.dumps(record(1)), "", json.dumps(record(2, content=long_body)),
             json.dumps(record(3)), "   ", json.dumps(record(4))]
    result = scan_text(tmp_path, "\n".join(lines))          # no newline after the last record
    ids = json.loads(result.ids)
    assert [(row[0], row[1]) for row in ids] == [("r1", 1), ("r2", 3), ("r3", 4), ("r4", 6)]
    raw = (tmp_path / "articles" / "a.jsonl").read_bytes()
    for ident, _, offset, *_ in ids:
        end = raw.find(b"\n", offset)
        assert json.loads(raw[offset:end if end != -1 else None])["id"] == ident
    assert result.problems == []


FIELD_CASES = {
    "id": (["a", " a", "", "x\u0001", 5, None]),
    "lang": (["vi", "en", "fr", "", 1]),
    "title": (["Tin", "  ", "Tin\u000b mới", "A  B", 3, None]),
    "url": (["/vi/a", "https://x.vn/a", "/vi/../a", "//x.vn/a", "ftp://x", "a b", "", None]),
    "published": (["02/12/2021 - 23:30", "31/02/2021", "2021-12-02T23:30:00Z", 1638462600,
                                  True, "", "Thứ Sáu, 02/12/2021", None, "07/13/2026 09:12:25",
                                  "0001-01-01T00:00:00", "9999-12-31T23:59:59Z", 253402300799, "5h trước",
                                  "2026-03-01T09:51:00&#x2B;07:00", "20260307", 20260307, "02/12/2021 23:30 GMT+20"]),
    "updated": (["03/12/2021 08:00", "nope", None, 5.5, "0001-01-01T00:00:00", "9999-12-31T23:59:59Z"]),
    "summary": (["Tóm tắt", 7, None, ["x"]]),
    "content": (["<p>x</p>", None, {"a": 1}]),
    "author": (["Thanh Ngân", "", {"name": "A"}, {"name": ""}, {"name": "A", "email": "bad"},
                               {"name": "A", "uri": "/u"}, 3, None]),
    "categories": ([["Chính trị"], ["a", "a"], ["  "], [1], "Kinh tế", [], None,
                                   ["x\u0002"]]),
    "image": ([{"url": "/i.jpg"}, {"url": "ftp://i"}, {"url": "/i.jpg", "length": -1},
                              {"url": "/i.jpg", "type": "jpeg"}, {"url": "/i.png", "caption": "c\u0003"},
                              {"caption": "c"}, "x.jpg", None, {"url": "/i.jpg", "extra": 1}]),
    "translation_key": (["k", " ", "", 4, None]),
    "draft": ([True, False, "yes", None]),
}
FIELD_VALUES = {name: st.sampled_from(values) for name, values in FIELD_CASES.items()}


@st.composite
def records(draw):
    rec = record(draw(st.integers(0, 10**6)))
    for name in draw(st.sets(st.sampled_from(sorted(FIELD_VALUES)), max_size=4)):
        value = draw(FIELD_VALUES[name])
        if value is None and draw(st.booleans()):
            rec.pop(name, None)
        else:
            rec[name] = value
    return rec


def agree(tmp_path: Path, recs: list[dict]) -> None:
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs)
    fast = scan_text(tmp_path, text)
    thorough = scan_text(tmp_path, text, thorough=True)
    assert scan_rows(fast) == scan_rows(thorough)


CASES = [(name, value) for name, values in FIELD_CASES.items() for value in values]


@pytest.mark.parametrize("name, value", CASES, ids=[f"{n}={v!r}" for n, v in CASES])
def test_each_field_value_is_judged_alike_by_fast_path_and_full_validator(tmp_path, name, value):
    agree(tmp_path, [record(1, **{name: value}), {k: v for k, v in record(2).items() if k != name}])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(records(), min_size=1, max_size=8))
def test_fast_path_accepts_and_rejects_exactly_what_the_full_validator_does(tmp_path, recs):
    agree(tmp_path, recs)

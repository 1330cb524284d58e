"""One way to exercise every limit of feedpub/limits.py: a site (or config, or validate input) whose
measured dimension is at a chosen amount, and one just over the limit. Shared by
tests/test_limits_matrix.py and benchmarks/bench_limits.py.

Each Exercise knows its route (a record file, a database row, feedpub.toml, a file `feedpub
validate` reads), how to make an input of amount n within the limit (`grow`, None when the
dimension is one value that cannot grow), and an input over it (`over`, with a generous one for
"rejected quickly"). Settable limits are exercised at a small value set in [limits], so the inputs
stay small; fixed ones at their real value.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import feedpub
from feedpub.limits import BY_NAME, DEFAULTS

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
BASE_URL = "https://example.vn"
CONFIG = f'''[site]
base_url = "{BASE_URL}"
[languages.vi]
title = "Tin"
description = "Tin mới"
'''
PARAGRAPH = "<p>Đây là một đoạn văn <b>đậm</b> và <a href=\"/x\">liên kết</a> trong bài.</p>\n"


def record(i: int, **fields) -> dict:
    base = {"id": f"vi-{i}", "lang": "vi", "title": f"Bài {i}", "url": f"/vi/bai-{i}",
            "published": f"{1 + i % 28:02d}/11/2026 08:00", "content": PARAGRAPH}
    base.update(fields)
    return base


def nested(depth: int, inner: object = 1) -> object:
    """A JSON value whose lists nest `depth` deep ([[1]] is 2); built without recursion."""
    value = inner
    for _ in range(depth):
        value = [value]
    return value


def nested_text(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


@dataclass
class Input:
    """What one run reads: record lines or files, database rows, a config, or files to validate."""

    lines: list[str] = field(default_factory=list)              # articles/case.jsonl
    files: dict[str, bytes] = field(default_factory=dict)       # articles/NAME -> bytes
    rows: list[dict] = field(default_factory=list)              # database rows (author as JSON text)
    config: str = ""                                             # appended to the site's feedpub.toml
    validate: dict[str, bytes] = field(default_factory=dict)    # files for `feedpub validate`
    validate_sparse: dict[str, int] = field(default_factory=dict)   # such files, NAME -> size, all NUL bytes
    config_pad: int = 0                                          # bytes of comment appended to feedpub.toml
    sparse: dict[str, int] = field(default_factory=dict)        # articles/NAME -> size, all NUL bytes


@dataclass
class Exercise:
    route: str                                    # "files", "database", "config" or "validate"
    over: Callable[[], Input]                     # just over the limit
    generous: Callable[[], Input]                 # far over it: still rejected quickly
    grow: Callable[[int], Input] | None           # an input of amount n, within the limit
    n: int = 0                                    # the base amount (4n is within the limit too)
    settings: dict[str, int] = field(default_factory=dict)      # [limits] for this exercise
    field: str | None = None                      # the field its error names (None: the file or config)
    quadratic: str = ""                           # why this dimension's output grows with n squared


def _lines(*records: dict) -> list[str]:
    return [json.dumps(r, ensure_ascii=False) for r in records]


def _limit(name: str, ex: Exercise) -> int:
    return ex.settings.get(name, DEFAULTS[name])


def _author_with(depth: int, members: int = 1) -> dict:
    """An author object whose extra members nest so that the record reaches `depth` levels."""
    return {"name": "Thanh Ngân", **{f"x{i}": nested(depth - 2) for i in range(members)}}


def _body_of(chars: int) -> str:
    return (PARAGRAPH * (chars // len(PARAGRAPH) + 1))[:chars - 5] + "</p>\n"          # chars characters


def _chain(depth: int) -> str:
    return "<div>" * depth + "x" + "</div>" * depth


def _feed_json(items: list[dict]) -> bytes:
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "T",
                       "items": items}).encode()


def _item(i: int, **extra) -> dict:
    return {"id": f"{BASE_URL}/id/{i}", "url": f"{BASE_URL}/{i}", "content_html": "<p>x</p>",
            "date_published": "2026-11-01T08:00:00+07:00", **extra}


def _feed_text_nested(depth: int) -> bytes:
    """A JSON Feed whose one item holds an extension member nested so the document is `depth` deep."""
    head = b'{"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": [{"id": "1", "_x": '
    return head + nested_text(depth - 3).encode() + b"}]}"


SMALL = {"json_file_bytes": 400_000, "jsonl_line_bytes": 200_000, "html_characters": 100_000,
         "url_length": 4096, "html_depth": 256}

EXERCISES: dict[str, Exercise] = {
    "json_file_bytes": Exercise(
        "files", settings={"json_file_bytes": SMALL["json_file_bytes"]},
        grow=lambda n: Input(files={"big.json": json.dumps([record(i) for i in range(10, 10 + n)]).encode()}),
        n=150,
        over=lambda: Input(files={"big.json": json.dumps(
            [record(i, summary="s" * 3000) for i in range(10, 160)]).encode()}),
        generous=lambda: Input(sparse={"huge.json": 6 << 30})),
    "jsonl_line_bytes": Exercise(
        "files", settings={"jsonl_line_bytes": SMALL["jsonl_line_bytes"]},
        grow=lambda n: Input(lines=_lines(record(10, pad="p" * n))), n=20_000,
        over=lambda: Input(lines=_lines(record(10, pad="p" * SMALL["jsonl_line_bytes"]))),
        generous=lambda: Input(sparse={"zeros.jsonl": 64 << 20})),
    "record_depth": Exercise(
        "files", field="author",
        grow=lambda n: Input(lines=_lines(record(10, author=_author_with(DEFAULTS["record_depth"], n)))), n=50,
        over=lambda: Input(lines=_lines(record(10, author=_author_with(DEFAULTS["record_depth"] + 1)))),
        generous=lambda: Input(lines=_lines(record(10, author=_author_with(500))))),
    "html_characters": Exercise(
        "files", field="content", settings={"html_characters": SMALL["html_characters"]},
        grow=lambda n: Input(lines=_lines(record(10, content=_body_of(n)))), n=20_000,
        over=lambda: Input(lines=_lines(record(10, content=_body_of(SMALL["html_characters"] + 1)))),
        generous=lambda: Input(lines=_lines(record(10, content="<div>" * 1_000_000)))),
    "html_depth": Exercise(
        "files", field="content",
        grow=lambda n: Input(lines=_lines(record(10, content=_chain(DEFAULTS["html_depth"] - 1) * n))), n=3,
        over=lambda: Input(lines=_lines(record(10, content=_chain(DEFAULTS["html_depth"] + 1)))),
        generous=lambda: Input(lines=_lines(record(10, content="<div>" * 100_000)))),
    "categories": Exercise(
        "files", field="categories",
        grow=lambda n: Input(lines=_lines(record(10, categories=[f"Chuyên mục {i}" for i in range(n)]))),
        n=DEFAULTS["categories"] // 4,
        over=lambda: Input(lines=_lines(record(10, categories=[f"Mục {i}" for i in range(DEFAULTS["categories"] + 1)]))),
        generous=lambda: Input(lines=_lines(record(10, categories=[f"Mục {i}" for i in range(20_000)]))),
        quadratic="each of the record's n category feeds (and pages) carries the record with its n categories"),
    "integer": Exercise(
        "files", field="image.length", grow=None,
        over=lambda: Input(lines=_lines(record(10, image={"url": "/a.jpg", "length": DEFAULTS["integer"] + 1}))),
        generous=lambda: Input(lines=_lines(record(10, image={"url": "/a.jpg", "length": 2**70})))),
    "url_length": Exercise(
        "files", field="url",
        grow=lambda n: Input(lines=_lines(record(10, url="/vi/" + "a" * (n - 4)))), n=DEFAULTS["url_length"] // 4,
        over=lambda: Input(lines=_lines(record(10, url="/vi/" + "a" * (DEFAULTS["url_length"] - 3)))),
        generous=lambda: Input(lines=_lines(record(10, url="/vi/" + "á" * 1_000_000)))),
    "id_length": Exercise(
        "files", field="id",
        grow=lambda n: Input(lines=_lines(record(10, id="v" * n))), n=DEFAULTS["id_length"] // 4,
        over=lambda: Input(lines=_lines(record(10, id="v" * (DEFAULTS["id_length"] + 1)))),
        generous=lambda: Input(lines=_lines(record(10, id="v" * 1_000_000)))),
    "date_length": Exercise(
        "files", field="published",
        grow=lambda n: Input(lines=_lines(record(10, published="02/11/2026 - 08:00".ljust(n)))),
        n=DEFAULTS["date_length"] // 4,
        over=lambda: Input(lines=_lines(record(10, published="02/11/2026 - 08:00".ljust(DEFAULTS["date_length"] + 1)))),
        generous=lambda: Input(lines=_lines(record(10, published="Thứ Năm, " * 200_000)))),
    "config_depth": Exercise(
        "config",
        grow=lambda n: Input(config="[html]\nextra_tags = [" + ", ".join(
            [nested_text(DEFAULTS["config_depth"] - 4)] * n) + "]\n"), n=200,      # document, [html], list
        over=lambda: Input(config="[html]\nextra_tags = " + nested_text(DEFAULTS["config_depth"] + 1) + "\n"),
        generous=lambda: Input(config="[html]\nextra_tags = " + nested_text(50_000) + "\n")),
    "config_bytes": Exercise(
        "config",
        grow=lambda n: Input(config="".join(f"# note {i:07d}: {'c' * 40}\n" for i in range(n))), n=2_000,
        over=lambda: Input(config_pad=DEFAULTS["config_bytes"]),
        generous=lambda: Input(config_pad=64 * DEFAULTS["config_bytes"])),
    "validate_file_bytes": Exercise(
        "validate",
        grow=lambda n: Input(validate={"feed.json": _feed_json([_item(i) for i in range(n)])}), n=500,
        over=lambda: Input(validate_sparse={"feed.json": DEFAULTS["validate_file_bytes"] + 1}),
        generous=lambda: Input(validate_sparse={"feed.json": 6 << 30})),
    "validate_json_depth": Exercise(
        "validate",
        grow=lambda n: Input(validate={"feed.json": _feed_json(
            [_item(i, _x=nested(DEFAULTS["validate_json_depth"] - 4)) for i in range(n)])}), n=200,
        over=lambda: Input(validate={"feed.json": _feed_text_nested(DEFAULTS["validate_json_depth"] + 1)}),
        generous=lambda: Input(validate={"feed.json": b"[" * 200_000 + b"]" * 200_000})),
}

# The database route reads JSON columns against the same record_depth: exercised on SQLite too.
DATABASE_EXERCISES: dict[str, Exercise] = {
    "record_depth": Exercise(
        "database", field="author",
        grow=lambda n: Input(rows=[dict(record(10), author=json.dumps(_author_with(DEFAULTS["record_depth"], n)))]),
        n=50,
        over=lambda: Input(rows=[dict(record(10), author=json.dumps(_author_with(DEFAULTS["record_depth"] + 1)))]),
        generous=lambda: Input(rows=[dict(record(10), author='{"name": "A", "x": ' + nested_text(5_000) + "}")])),
}


def exercises() -> list[tuple[str, str, Exercise]]:
    """(limit name, route, exercise) for every way a limit is exercised, every limit at least once."""
    found = [(name, ex.route, ex) for name, ex in EXERCISES.items()]
    found += [(name, "database", ex) for name, ex in DATABASE_EXERCISES.items()]
    return found


# --- running one input ---------------------------------------------------------------------------

GOOD = [record(1), record(2)]
DB_FIELDS = ("id", "lang", "title", "url", "published", "content", "author", "categories")


@dataclass
class Outcome:
    errors: list[str]
    seconds: float
    output_bytes: int
    published_ids: set[str]
    config_error: str = ""


def run(root: Path, ex: Exercise, case: Input) -> Outcome:
    """Build (or validate) a fresh site holding the good records and this input; what came of it."""
    shutil.rmtree(root, ignore_errors=True)
    site = root / "site"
    (site / "articles").mkdir(parents=True)
    settings = "".join(f"{k} = {v}\n" for k, v in ex.settings.items())
    config = CONFIG + (f"[limits]\n{settings}" if settings else "") + case.config
    if ex.route == "validate":
        folder = root / "validate"
        folder.mkdir()
        for name, data in case.validate.items():
            (folder / name).write_bytes(data)
        for name, size in case.validate_sparse.items():
            with open(folder / name, "wb") as handle:
                handle.truncate(size)
        from feedpub.validate import validate_output
        started = time.perf_counter()
        results = validate_output(folder)
        seconds = time.perf_counter() - started
        errors = [str(f) for r in results for f in r.findings]
        return Outcome(errors, seconds, sum(len(e) for e in errors), set())
    if ex.route == "database":
        db = site / "cms.db"
        with sqlite3.connect(db) as conn:
            conn.execute(f"CREATE TABLE feed_articles ({', '.join(f + ' text' for f in DB_FIELDS)})")
            for row in [*GOOD, *case.rows]:
                conn.execute(f"INSERT INTO feed_articles VALUES ({', '.join('?' * len(DB_FIELDS))})",
                             [row.get(f) if not isinstance(row.get(f), (list, dict)) else json.dumps(row[f])
                              for f in DB_FIELDS])
        conn.close()
        config += '[source]\nurl = "sqlite:///cms.db"\ntable = "feed_articles"\n'
    else:
        (site / "articles" / "good.jsonl").write_text("\n".join(_lines(*GOOD)) + "\n", encoding="utf-8")
        if case.lines:
            (site / "articles" / "case.jsonl").write_text("\n".join(case.lines) + "\n", encoding="utf-8")
        for name, data in case.files.items():
            (site / "articles" / name).write_bytes(data)
        for name, size in case.sparse.items():
            with open(site / "articles" / name, "wb") as handle:
                handle.truncate(size)
    (site / "feedpub.toml").write_text(config + "#" * case.config_pad, encoding="utf-8")
    out = root / "out"
    started = time.perf_counter()
    try:
        report = feedpub.build(site, out, now=NOW)
    except feedpub.ConfigError as exc:
        return Outcome([], time.perf_counter() - started, 0, set(), str(exc))
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file() and ".feedpub" not in p.parts)
    rss = out / "vi" / "rss.xml"
    ids = set()
    if rss.exists():
        import feedparser
        ids = {e.id.rsplit("/", 1)[-1] for e in feedparser.parse(rss.read_bytes()).entries}
    return Outcome(list(report.errors), seconds, size, ids)


def best(root: Path, ex: Exercise, case: Callable[[], Input], repeats: int = 3) -> Outcome:
    """The fastest of a few runs of the same input (the output is the same every time)."""
    made = case()
    return min((run(root, ex, made) for _ in range(repeats)), key=lambda o: o.seconds)


def growth(root: Path, ex: Exercise, repeats: int = 3) -> tuple[Outcome, Outcome]:
    """The runs at n and at 4n, measured side by side in this process."""
    assert ex.grow is not None
    small = best(root / "n", ex, lambda: ex.grow(ex.n), repeats)
    large = best(root / "4n", ex, lambda: ex.grow(4 * ex.n), repeats)
    return small, large


def limit_of(name: str) -> str:
    return BY_NAME[name].name

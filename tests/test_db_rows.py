"""The database route never drops a row in silence: every row a build reads is published or reported as
TABLE:ID: field … (exit 1), exactly as `check` reports it and as the file route reports the same record.

The matrix: every record field (model.RECORD_FIELDS) × every class of bad value below, one record
each, built and checked from record files, SQLite, PostgreSQL and MariaDB (text columns, where the
ranking is done in Python, and typed ones, where SQL chooses). A field added to the record is in it
the day it is added.
"""
from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import feedparser
import pytest

import dbhelp
import feedpub
from conftest import DATA, NOW, NOW_ARG, run_cli
from feedpub.model import RECORD_FIELDS

pytest.importorskip("sqlalchemy")

MISSING = object()
CLASSES = {                                  # a class of value -> the value a record holds
    "missing": MISSING, "empty": "", "blank": "   ", "control": "a\x01b", "bidi": "a\u202eb", "long": "x" * 201,
    "impossible-date": "31/02/2021 - 23:30", "relative-date": "5h trước", "ftp-url": "ftp://example.vn/x",
    "mixed-list": ["ok", 3], "empty-name": {"name": ""}, "number": 3,
}
BASE = {"lang": "vi", "title": "Bài", "url": "/vi/bai.html", "published": "02/12/2021 - 23:30",
        "updated": "03/12/2021 08:00", "summary": "Tóm tắt.", "content": "<p>Nội dung.</p>",
        "author": {"name": "Lan Anh"}, "categories": ["Kinh tế"], "image": {"url": "/images/a.jpg"},
        "translation_key": None, "draft": None}
assert set(BASE) | {"id"} == set(RECORD_FIELDS)          # the base record gives every field a good value


def matrix() -> list[dict]:
    """One record per (field, class), tagged "field-class": the base record with that field given
    that value (so the id is the tag, unless the id is the field with the bad value)."""
    records = []
    for field, (name, value) in itertools.product(RECORD_FIELDS, CLASSES.items()):
        tag = f"{field}-{name}"
        record = {"id": tag, **BASE, "title": f"Bài {tag}", "url": f"/vi/{tag}.html"}
        if value is MISSING:
            record.pop(field)
        else:
            record[field] = value
        records.append({"tag": tag, **{k: v for k, v in record.items() if v is not None}})
    return records


# --- the routes -----------------------------------------------------------------------------------

TEXT = {f: "TEXT" for f in RECORD_FIELDS}


def _site(tmp_path: Path, source: str | None) -> Path:
    site = Path(shutil.copytree(DATA, tmp_path / "site"))
    shutil.rmtree(site / "articles")
    toml = site / "feedpub.toml"
    text = toml.read_text(encoding="utf-8").replace("max_items = 50", "max_items = 500")
    toml.write_text(text + (f"\n[source]\n{source}\n" if source else ""), encoding="utf-8")
    return site


def _cell(record: dict, field: str, kind: str):
    """The value a column of this kind holds for the record's field, or MISSING when it cannot hold it."""
    value = record.get(field)
    if value is None:
        return None
    if kind == "TEXT":
        return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)
    if kind == "date":
        return dbhelp.aware(value) or MISSING
    if kind == "bool":
        return value if isinstance(value, bool) else MISSING
    if kind == "list":
        return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else MISSING
    raise AssertionError(kind)


def _row(record: dict, kinds: dict) -> dict:
    return {f: _cell(record, f, kinds[f]) for f in RECORD_FIELDS}


def _rows(records, kinds: dict) -> list[dict]:
    """The rows of the records the columns can hold."""
    return [row for row in (_row(r, kinds) for r in records) if MISSING not in row.values()]


class Route:
    """A way to hold the matrix's records: `kept` are the records it could hold, `site` the site to build."""

    def __init__(self, name: str, mode: str):
        self.name, self.mode = name, mode

    def reads(self, record: dict) -> bool:
        """Does a build read this record? Record files: all. A database: the rows of the configured
        languages (and, when SQL chooses, only rows with a published time to choose by)."""
        if self.mode == "files":
            return True
        if not isinstance(record.get("lang"), str) or record["lang"] not in dbhelp.LANGUAGES:
            return False
        return self.mode == "stream" or record.get("published") is not None

    def stored_id(self, record: dict):
        return record.get("id") if self.mode == "files" else _cell(record, "id", "TEXT")

    def published_ids(self) -> dict[str, str]:
        """The id each record is published with (when the rules accept it) -> its tag."""
        from feedpub.database.values import usable_id
        from feedpub.records import Problem, RecordRules
        rules = RecordRules(dbhelp.LANGUAGES, dbhelp.BASE_URL, dbhelp.VN)
        found = {}
        for record in self.kept:
            stored = self.stored_id(record)
            try:
                ident = rules.id(stored) if self.mode == "files" else usable_id(stored)
            except Problem:
                ident = None
            if ident is not None:
                found[ident] = record["tag"]
        return found


def files_route(tmp_path, records, request) -> Route:
    route = Route("files", "files")
    route.site = _site(tmp_path, None)
    (route.site / "articles").mkdir()
    (route.site / "articles" / "matrix.jsonl").write_text("".join(
        json.dumps({k: v for k, v in r.items() if k != "tag"}, ensure_ascii=False) + "\n" for r in records),
        encoding="utf-8")
    route.kept = records
    return route


def sqlite_route(tmp_path, records, request) -> Route:
    import sqlite3
    route = Route("sqlite", "stream")
    route.site = _site(tmp_path, 'url = "sqlite:///cms.db"\ntable = "feed_articles"')
    route.kinds = TEXT
    rows = _rows(records, TEXT)
    with sqlite3.connect(route.site / "cms.db") as conn:
        conn.execute(f"CREATE TABLE feed_articles ({', '.join(f'{f} TEXT' for f in RECORD_FIELDS)})")
        conn.executemany(f"INSERT INTO feed_articles VALUES ({', '.join('?' * len(RECORD_FIELDS))})",
                         [tuple(r[f] for f in RECORD_FIELDS) for r in rows])
    conn.close()

    route.kept = records
    return route


def _pg_route(tmp_path, records, request, kinds: dict, types: dict, mode: str) -> Route:
    import sqlalchemy as sa
    pg = request.getfixturevalue("pg")
    route = Route(f"postgresql-{mode}", mode)
    route.kinds = kinds
    columns = ", ".join(f"{f} {types.get(f, 'text')}" for f in RECORD_FIELDS)
    pg.execute(f"CREATE TABLE feed_articles ({columns})")
    rows = _rows(records, kinds)
    pg.execute(dbhelp.insert_sql("feed_articles"), rows)
    pg.grant("feed_articles")
    request.getfixturevalue("monkeypatch").setenv("FEEDPUB_TEST_DB", pg.reader_url)
    route.site = _site(tmp_path, 'url_env = "FEEDPUB_TEST_DB"\ntable = "feed_articles"')
    route.kept = [r for r in records if MISSING not in _row(r, kinds).values()]

    return route


def postgres_text_route(tmp_path, records, request) -> Route:
    return _pg_route(tmp_path, records, request, TEXT, {}, "stream")


TYPED = {**TEXT, "published": "date", "updated": "date", "draft": "bool", "categories": "list"}


def postgres_typed_route(tmp_path, records, request) -> Route:
    types = {"published": "timestamptz", "updated": "timestamptz", "draft": "boolean", "categories": "text[]"}
    return _pg_route(tmp_path, records, request, TYPED, types, "sql")


_tables = itertools.count(1)


def _maria_route(tmp_path, records, request, kinds: dict, types: dict, mode: str) -> Route:
    import sqlalchemy as sa
    server = request.getfixturevalue("mariadb_server")
    table = f"matrix_{next(_tables)}"
    engine = sa.create_engine(server.url(), poolclass=sa.pool.NullPool,
                              connect_args={"init_command": "SET time_zone = '+00:00'"})
    rows = _rows(records, kinds)
    for row in rows:
        for f, kind in kinds.items():
            if kind == "date" and row[f] is not None:
                row[f] = row[f].astimezone(dbhelp.VN).replace(tzinfo=None)
            if kind == "list" and row[f] is not None:
                row[f] = json.dumps(row[f], ensure_ascii=False)
    with engine.begin() as conn:
        columns = ", ".join(f"{f} {types.get(f, 'TEXT')}" for f in RECORD_FIELDS)
        conn.exec_driver_sql(f"CREATE TABLE {table} ({columns})")
        if rows:
            conn.execute(sa.text(dbhelp.insert_sql(table)), rows)
    route = Route(f"mariadb-{mode}", mode)
    route.kinds = kinds
    route.site = _site(tmp_path, f'url = "{server.url()}"\ntable = "{table}"')
    route.kept = [r for r in records if MISSING not in _row(r, kinds).values()]

    return route


def mariadb_text_route(tmp_path, records, request) -> Route:
    return _maria_route(tmp_path, records, request, TEXT, {}, "stream")


def mariadb_typed_route(tmp_path, records, request) -> Route:
    types = {"published": "DATETIME", "updated": "DATETIME", "draft": "BOOLEAN", "categories": "JSON"}
    return _maria_route(tmp_path, records, request, TYPED, types, "sql")


ROUTES = {"files": files_route, "sqlite": sqlite_route, "postgresql-text": postgres_text_route,
          "postgresql-typed": postgres_typed_route, "mariadb-text": mariadb_text_route,
          "mariadb-typed": mariadb_typed_route}


# --- the matrix -----------------------------------------------------------------------------------


def by_record(route: Route, problems) -> dict[str, list[str]]:
    """Each reported record (by its tag) -> 'field: message' of each problem (with "row N: " before it
    where the id itself is rejected: the position build and check must agree on)."""
    found: dict[str, list[str]] = {}
    for problem in problems:
        line = str(problem.line)
        where = ""
        if route.mode == "files":
            tag = route.kept[int(line) - 1]["tag"]
        elif line.startswith("row "):
            tag, where = _unusable_id(route, problem), f"{line}: "
        else:
            tag = route.published_ids()[line]
        found.setdefault(tag, []).append(f"{where}{problem.field}: {problem.message}")
    return {tag: sorted(lines) for tag, lines in found.items()}


def _unusable_id(route: Route, problem) -> str:
    """The record a "row N" problem is about: the one whose stored id its message quotes (or the one
    without an id). By the message, not by N: a database may sort two ids as equal ('' and '   ')."""
    from feedpub.records import describe
    for record in route.kept:
        stored = route.stored_id(record)
        if stored is None and problem.message.startswith("missing"):
            return record["tag"]
        if isinstance(stored, str) and (problem.message.startswith(describe(stored) + " ")
                                        or problem.message.startswith(f"is {len(stored)} characters long")):
            return record["tag"]
    raise AssertionError(f"no record for {problem}")


def shown(route: Route, out: Path) -> set[str]:
    """The tags of the records the feeds show."""
    from urllib.parse import unquote
    ids = {unquote(e.id.rsplit("/id/", 1)[1]) for lang in dbhelp.LANGUAGES
           for e in feedparser.parse((out / lang / "atom.xml").read_bytes()).entries}
    return {tag for ident, tag in route.published_ids().items() if ident in ids}


@pytest.fixture(scope="module")
def expected_by_files(tmp_path_factory) -> dict:
    """What the file route reports for each record of the matrix, by title."""
    tmp = tmp_path_factory.mktemp("files")
    route = files_route(tmp, matrix(), None)
    return by_record(route, feedpub.check(route.site, now=NOW).problems)


@pytest.mark.parametrize("name", list(ROUTES))
def test_every_bad_value_is_reported_alike_by_build_and_check_on_every_route(tmp_path, request, name,
                                                                             expected_by_files):
    route = ROUTES[name](tmp_path, matrix(), request)
    built = feedpub.build(route.site, tmp_path / "out", now=NOW)
    checked = feedpub.check(route.site, now=NOW)
    reported_by_build, reported_by_check = by_record(route, built.problems), by_record(route, checked.problems)
    read = {r["tag"] for r in route.kept if route.reads(r)}
    # build reports what check reports of every row it reads, and nothing else
    assert reported_by_build == {t: lines for t, lines in reported_by_check.items() if t in read}
    # every row it reads is published or reported
    published = shown(route, tmp_path / "out")
    assert read == set(reported_by_build) | published
    assert not set(reported_by_build) & published
    # the same record holding the same value is reported alike on every route (where the route can
    # hold that value: a text column holds no number, a timestamp no impossible date)
    same = {r["tag"] for r in route.kept if _reads_back(route, r)}
    assert {t: _unlocated(v) for t, v in reported_by_check.items() if t in same} == {
        t: v for t, v in expected_by_files.items() if t in same}
    assert len(route.kept) >= len(RECORD_FIELDS) * 2           # the route held a good part of the matrix
    proc = run_cli("build", "--data", route.site, "--out", tmp_path / "cli", "--now", NOW_ARG, "--quiet",
                   cwd=tmp_path)
    assert proc.returncode == (1 if reported_by_build else 0), proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr


def _unlocated(lines: list[str]) -> list[str]:
    return sorted(line.split(": ", 1)[1] if line.startswith("row ") else line for line in lines)


def _reads_back(route: Route, record: dict) -> bool:
    """Does this route hand the record rules what the record holds? (A text column holds no number;
    a timestamp column holds the instant a date names, which is the same to the record rules.)"""
    if route.mode == "files":
        return True
    from feedpub.database.values import record_of
    for field in RECORD_FIELDS:
        value, kind = record.get(field), route.kinds[field]
        cell = _cell(record, field, kind)
        if kind == "date":
            same = cell is None if value is None else cell == dbhelp.aware(value)
        elif kind in ("bool", "list"):
            same = cell == value
        else:
            same = (None if cell is None else record_of({field: cell})[field]) == value
        if not same:
            return False
    return True


# --- the faults the matrix generalises, as a user meets them ------------------------------------


def _pg_site(tmp_path: Path, pg, monkeypatch, ddl: str, rows: list[str], extra: str = "") -> Path:
    pg.execute(f"CREATE TABLE t (id text PRIMARY KEY, lang text, title text, url text, {ddl})")
    for row in rows:
        pg.execute(f"INSERT INTO t VALUES ({row})")
    pg.grant("t")
    monkeypatch.setenv("FEEDPUB_TEST_DB", pg.reader_url)
    return _site(tmp_path, f'url_env = "FEEDPUB_TEST_DB"\ntable = "t"\n{extra}')


def _both(site: Path, tmp_path: Path):
    check = run_cli("check", "--data", site, "--now", NOW_ARG, cwd=tmp_path)
    build = run_cli("build", "--data", site, "--out", tmp_path / "out", "--now", NOW_ARG, cwd=tmp_path)
    for proc in (check, build):
        assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    return check, build


def _errors(proc) -> list[str]:
    return sorted(line for line in proc.stderr.splitlines() if line.startswith("t:"))


@pytest.mark.parametrize("kind,value,shown", [
    ("time", "'10:00'", "time without time zone"),
    ("timetz", "'10:00+07'", "time with time zone"),
    ("interval", "'1 hour'", "interval"),
    ("boolean", "true", "boolean"),
])
def test_a_published_column_of_a_type_no_date_fits_is_a_configuration_error(tmp_path, pg, monkeypatch, kind, value,
                                                                             shown):
    site = _pg_site(tmp_path, pg, monkeypatch, f"created {kind}", [f"'a', 'vi', 'A', '/a', {value}"],
                    "[source.columns]\npublished = \"created\"\n")
    check, build = _both(site, tmp_path)
    for proc in (check, build):
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.strip() == (
            f'feedpub: t: column "created" (published) is of type {shown}, which cannot hold a record\'s published '
            "(expected a timestamp with or without time zone, a date, a number of Unix seconds, or text); change the "
            "column's type or map [source.columns] published to another column")
    assert not (tmp_path / "out" / "vi").exists()


def test_a_view_whose_published_became_a_time_stops_before_publishing_nothing(tmp_path, pg, monkeypatch):
    site = _pg_site(tmp_path, pg, monkeypatch, "published timestamptz",
                    ["'a', 'vi', 'A', '/a', '2021-12-02 10:00+07'", "'b', 'vi', 'B', '/b', '2021-12-03 10:00+07'"])
    assert feedpub.build(site, tmp_path / "out", now=NOW).errors == []
    before = (tmp_path / "out" / "vi" / "rss.xml").read_bytes()
    pg.execute("ALTER TABLE t RENAME TO t_table")
    pg.execute("CREATE VIEW t AS SELECT id, lang, title, url, published::time AS published FROM t_table")
    pg.grant("t")
    proc = run_cli("build", "--data", site, "--out", tmp_path / "out", "--now", NOW_ARG, cwd=tmp_path)
    assert proc.returncode == 2 and 'column "published" is of type time without time zone' in proc.stderr
    assert (tmp_path / "out" / "vi" / "rss.xml").read_bytes() == before            # the two items stay


@pytest.mark.parametrize("kind", ["TIME", "YEAR"])
def test_a_mariadb_published_of_a_type_no_date_fits_is_a_configuration_error(tmp_path, mariadb_server, kind):
    import sqlalchemy as sa
    table = f"typed_{next(_tables)}"
    engine = sa.create_engine(mariadb_server.url(), poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {table} (id VARCHAR(20), lang TEXT, title TEXT, url TEXT, published {kind})")
    engine.dispose()
    site = _site(tmp_path, f'url = "{mariadb_server.url()}"\ntable = "{table}"')
    check, build = _both(site, tmp_path)
    assert check.returncode == build.returncode == 2
    assert f'column "published" is of type {kind}, which cannot hold' in build.stderr
    assert mariadb_server.password not in build.stderr


@pytest.mark.parametrize("draft", ["boolean", "text"])                 # SQL chooses; rows ranked in Python
def test_numbers_that_are_no_time_are_one_rows_error_and_the_good_rows_publish(tmp_path, pg, monkeypatch, draft):
    rows = ["'good', 'vi', 'Good', '/good', 1638414600, NULL"]
    rows += [f"'{name}', 'vi', 'Bad', '/{name}', '{value}', NULL"
             for name, value in [("nan", "NaN"), ("inf", "Infinity"), ("ninf", "-Infinity"), ("huge", "1e300")]]
    site = _pg_site(tmp_path, pg, monkeypatch, f"published numeric, draft {draft}", rows)
    check, build = _both(site, tmp_path)
    assert check.returncode == build.returncode == 1
    assert _errors(build) == _errors(check)
    assert [e.split(": field")[0] for e in _errors(build)] == ["t:huge", "t:inf", "t:nan", "t:ninf"]
    assert 'field "published": "inf" is not a valid date' in build.stderr
    titles = [e.title for e in feedparser.parse((tmp_path / "out" / "vi" / "rss.xml").read_bytes()).entries]
    assert titles == ["Good"]


@pytest.mark.parametrize("where", ["postgresql", "sqlite"])
def test_a_draft_saying_yes_on_the_newest_row_is_reported(tmp_path, pg, monkeypatch, where):
    rows = [("new", "2021-12-03 10:00+07", "yes"), ("old", "2021-12-02 10:00+07", None)]
    if where == "postgresql":
        site = _pg_site(tmp_path, pg, monkeypatch, "published timestamptz, draft text",
                        [f"'{i}', 'vi', '{i}', '/{i}', '{p}', {repr(d) if d else 'NULL'}" for i, p, d in rows])
    else:
        import sqlite3
        site = _site(tmp_path, 'url = "sqlite:///cms.db"\ntable = "t"')
        with sqlite3.connect(site / "cms.db") as conn:
            conn.execute("CREATE TABLE t (id TEXT, lang TEXT, title TEXT, url TEXT, published TEXT, draft BOOLEAN)")
            conn.executemany("INSERT INTO t VALUES (?, 'vi', ?, ?, ?, ?)", [(i, i, f"/{i}", p, d) for i, p, d in rows])
        conn.close()
    check, build = _both(site, tmp_path)
    assert check.returncode == build.returncode == 1
    assert _errors(build) == _errors(check) == [
        't:new: field "draft": "yes" is not true or false (expected a boolean)']
    assert build.stdout.splitlines()[-1].startswith("1 record, 0 record files read, 2 database rows read, 1 rejected")


def test_an_impossible_text_date_is_rejected_as_the_file_route_rejects_it(tmp_path):
    import sqlite3
    record = {"id": "feb31", "lang": "vi", "title": "T", "url": "/t", "published": "31/02/2021 - 23:30"}
    good = dict(record, id="ok", published="02/12/2021 - 23:30")
    site = _site(tmp_path, 'url = "sqlite:///cms.db"\ntable = "t"')
    with sqlite3.connect(site / "cms.db") as conn:
        conn.execute("CREATE TABLE t (id TEXT, lang TEXT, title TEXT, url TEXT, published TEXT)")
        conn.executemany("INSERT INTO t VALUES (:id, :lang, :title, :url, :published)", [record, good])
    conn.close()
    files = _site(tmp_path / "files", None)
    (files / "articles").mkdir()
    (files / "articles" / "a.jsonl").write_text(json.dumps(record) + "\n" + json.dumps(good) + "\n", encoding="utf-8")
    check, build = _both(site, tmp_path)
    from_files = run_cli("build", "--data", files, "--out", tmp_path / "files-out", "--now", NOW_ARG, cwd=tmp_path)
    assert check.returncode == build.returncode == from_files.returncode == 1
    message = ('field "published": "31/02/2021 - 23:30" is not a valid date: day 31 is out of range for February '
               "2021 (expected DD/MM/YYYY [HH:MM])")
    assert _errors(build) == _errors(check) == [f"t:feb31: {message}"]
    assert from_files.stderr.splitlines()[0] == f"articles/a.jsonl:1: {message}"
    assert ", 1 rejected," in build.stdout

"""The cases that broke before the limits, each through the real command or the public API, and the
HTML depth measure against what an HTML parser really does."""
from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import feedparser
import nh3
import pytest

import feedpub
from conftest import NOW, NOW_ARG, run_cli
from feedpub.htmlpolicy import html_depth, html_depth_over
from feedpub.limits import BY_NAME, DEFAULTS, LIMITS, json_depth, parse_limits, value_depth
from feedpub.urls import UrlError, resolve
from limitcases import CONFIG, PARAGRAPH, nested_text, record

README = Path(__file__).resolve().parent.parent / "README.md"


def site_with(tmp_path: Path, *records: dict, config: str = "") -> Path:
    site = tmp_path / "site"
    (site / "articles").mkdir(parents=True)
    (site / "feedpub.toml").write_text(CONFIG + config, encoding="utf-8")
    (site / "articles" / "a.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                                               encoding="utf-8")
    return site


def ids(out: Path) -> set[str]:
    return {e.id.rsplit("/", 1)[-1] for e in feedparser.parse((out / "vi" / "rss.xml").read_bytes()).entries}


# --- the cases of the issue, through the command ---------------------------------------------------

def test_an_image_length_past_64_bits_is_that_records_error_and_later_runs_publish(tmp_path):
    """2**70 was an internal error in the fingerprint: nothing was ever published again."""
    site = site_with(tmp_path, record(1), record(2, image={"url": "/a.jpg", "length": 2**70}))
    for _ in range(2):
        proc = run_cli("build", "--data", site, "--out", tmp_path / "out", "--now", NOW_ARG, "--quiet")
        assert proc.returncode == 1, proc.stderr
        assert proc.stderr.startswith('articles/a.jsonl:2: field "image.length": the number 1180591620717411303424 '
                                      "is too large (expected at most 9223372036854775807: limit integer, fixed:")
        assert ids(tmp_path / "out") == {"vi-1"}


def test_a_config_nested_50000_deep_is_a_config_error(tmp_path):
    site = site_with(tmp_path, record(1), config="[html]\nextra_tags = " + "[" * 50_000 + "]" * 50_000 + "\n")
    proc = run_cli("build", "--data", site, "--out", tmp_path / "out", "--now", NOW_ARG)
    assert proc.returncode == 3, proc.stderr
    assert "feedpub: feedpub.toml: nests at least 50,001 levels deep (expected at most 32 levels: limit " \
           "config_depth, fixed:" in proc.stderr
    assert "internal error" not in proc.stderr and not (tmp_path / "out" / "vi").exists()


def test_a_config_nested_through_dotted_keys_is_measured_too(tmp_path):
    site = site_with(tmp_path, record(1), config="[html]\n" + ".".join(["a"] * 40) + " = 1\n")
    with pytest.raises(feedpub.ConfigError, match=r"nests 41 levels deep .*limit config_depth"):
        feedpub.build(site, tmp_path / "out", now=NOW)


def test_validate_on_json_nested_200000_deep_is_that_files_finding(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "feed.json").write_bytes(b"[" * 200_000 + b"]" * 200_000)
    proc = run_cli("validate", out)
    assert proc.returncode == 1, proc.stderr
    assert "nests 200,000 levels deep (expected at most 64 levels: limit validate_json_depth" in proc.stdout
    assert "internal error" not in proc.stderr + proc.stdout


def test_a_sparse_jsonl_of_nuls_is_one_line_read_in_bounded_memory(tmp_path):
    """A 6 GB sparse file of NULs was a MemoryError that stopped the whole build; here 64 MiB and a
    small line limit show the same path: the line is read past in the same buffer, never held."""
    site = site_with(tmp_path, record(1), config="[limits]\njsonl_line_bytes = 100000\n")
    with open(site / "articles" / "zeros.jsonl", "wb") as handle:
        handle.truncate(64 << 20)
    report = feedpub.build(site, tmp_path / "out", now=NOW)
    assert report.errors == ["articles/zeros.jsonl:1: is 67,108,864 bytes long (expected at most 100,000 bytes: "
                             "limit jsonl_line_bytes, set jsonl_line_bytes = N in [limits] of feedpub.toml to change it)"]
    assert ids(tmp_path / "out") == {"vi-1"}


def test_lines_around_a_long_line_keep_their_numbers(tmp_path):
    records = [record(1), record(2, pad="p" * 3000), record(3), record(4, pad="q" * 5000)]
    site = site_with(tmp_path, *records, config="[limits]\njsonl_line_bytes = 2000\n")
    built = feedpub.build(site, tmp_path / "out", now=NOW)
    checked = feedpub.check(site, now=NOW)
    assert built.errors == checked.errors
    assert [e.split(": ")[0] for e in built.errors] == ["articles/a.jsonl:2", "articles/a.jsonl:4"]
    assert ids(tmp_path / "out") == {"vi-1", "vi-3"}


def test_a_json_file_over_its_limit_is_not_read(tmp_path):
    site = site_with(tmp_path, record(1), config="[limits]\njson_file_bytes = 1000\n")
    (site / "articles" / "big.json").write_text(json.dumps([record(i) for i in range(5, 30)]), encoding="utf-8")
    report = feedpub.build(site, tmp_path / "out", now=NOW)
    assert len(report.errors) == 1 and report.errors[0].startswith("articles/big.json: is ")
    assert "limit json_file_bytes" in report.errors[0]


def test_a_database_json_column_5000_deep_is_that_rows_error(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    with sqlite3.connect(site / "cms.db") as conn:
        conn.execute("CREATE TABLE feed_articles (id text, lang text, title text, url text, published text, "
                     "categories text)")
        conn.execute("INSERT INTO feed_articles VALUES ('r0', 'vi', 'T', '/a', '02/11/2026 08:00', ?)",
                     ("[" * 5000 + "]" * 5000,))
        conn.execute("INSERT INTO feed_articles VALUES ('r1', 'vi', 'T', '/b', '02/11/2026 08:00', '[\"A\"]')")
    conn.close()
    (site / "feedpub.toml").write_text(CONFIG + '[source]\nurl = "sqlite:///cms.db"\ntable = "feed_articles"\n',
                                       encoding="utf-8")
    checked = feedpub.check(site, now=NOW)
    assert checked.errors == ['feed_articles:r0: field "categories": nests 5,001 levels deep (expected at most '
                              f"64 levels: limit record_depth, fixed: {BY_NAME['record_depth'].fixed})"]


def test_nested_html_is_refused_before_the_sanitiser(tmp_path, monkeypatch):
    """500 KB of unclosed <div> took nh3 36 s: now the record is refused without parsing it."""
    import feedpub.feeds
    bodies: list[int] = []
    real = feedpub.feeds.clean_html
    monkeypatch.setattr(feedpub.feeds, "clean_html", lambda html, *a: bodies.append(len(html)) or real(html, *a))
    site = site_with(tmp_path, record(1), record(2, content="<div>" * 100_000))
    report = feedpub.build(site, tmp_path / "out", now=NOW)
    assert report.errors == ['articles/a.jsonl:2: field "content": nests at least 257 elements deep (expected at '
                             "most 256 levels: limit html_depth, set html_depth = N in [limits] of feedpub.toml to change it)"]
    assert max(bodies) < 1000 and ids(tmp_path / "out") == {"vi-1"}


def test_a_deep_body_that_would_win_is_replaced_by_the_next_newest(tmp_path):
    """The scan does not read bodies; the full check of a winner does, and its file is read again."""
    newest = record(3, published="28/11/2026 08:00", content="<span>" * 300)
    site = site_with(tmp_path, record(1), record(2), newest, config="[site]\n" if False else "")
    report = feedpub.build(site, tmp_path / "out", now=NOW)
    assert report.errors == feedpub.check(site, now=NOW).errors
    assert len(report.errors) == 1 and "limit html_depth" in report.errors[0]
    assert ids(tmp_path / "out") == {"vi-1", "vi-2"}


def test_a_records_many_categories_are_refused_before_any_feed_is_made(tmp_path):
    site = site_with(tmp_path, record(1, categories=["Kinh tế"]),
                     record(2, categories=[f"Mục {i}" for i in range(2000)]))
    report = feedpub.build(site, tmp_path / "out", now=NOW)
    assert report.errors == ['articles/a.jsonl:2: field "categories": has 2,000 categories (expected at most 64 '
                             f"categories: limit categories, fixed: {BY_NAME['categories'].fixed})"]
    assert sorted(p.name for p in (tmp_path / "out" / "vi" / "categories").iterdir()) == ["kinh-te"]


def test_a_sites_category_pages_grow_in_proportion_to_its_categories(tmp_path):
    """Many records, one category each: 4x the categories is 4x the files and about 4x the bytes."""
    sizes = []
    for n in (30, 120):
        site = site_with(tmp_path / str(n), *[record(i, categories=[f"Chuyên mục {i}"]) for i in range(n)])
        out = tmp_path / str(n) / "out"
        feedpub.build(site, out, now=NOW)
        sizes.append(sum(p.stat().st_size for p in out.rglob("*") if p.is_file() and ".feedpub" not in p.parts))
    assert sizes[1] < 4.5 * sizes[0], sizes


# --- URLs ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["https://xn--a.vn/bai", "https://xn--zz.vn/bai", "https://tin.XN--ZZ.vn/"])
def test_invalid_punycode_hosts_are_refused(url):
    with pytest.raises(UrlError, match="not valid punycode"):
        resolve(url)


@pytest.mark.parametrize(("iri", "uri"), [
    ("https://straße.de/a", "https://xn--strae-oqa.de/a"),           # IDNA 2008: not strasse.de
    ("https://báo.example.vn/", "https://xn--bo-mia.example.vn/"),
    ("https://BÁO.example.vn/", "https://xn--bo-mia.example.vn/"),   # UTS 46 maps to lower case
    ("https://báo。example.vn/", "https://xn--bo-mia.example.vn/"),  # and the ideographic full stop
    ("https://xn--bo-mia.example.vn/x", "https://xn--bo-mia.example.vn/x"),
])
def test_hosts_convert_as_browsers_convert_them(iri, uri):
    assert resolve(iri) == uri


def test_a_record_with_an_invalid_punycode_host_is_that_records_error(tmp_path):
    site = site_with(tmp_path, record(1), record(2, url="https://xn--a.vn/bai"))
    report = feedpub.build(site, tmp_path / "out", now=NOW)
    assert len(report.errors) == 1 and report.errors[0].startswith('articles/a.jsonl:2: field "url": ')
    assert ids(tmp_path / "out") == {"vi-1"}


def test_an_invalid_punycode_link_in_a_body_is_dropped(tmp_path):
    site = site_with(tmp_path, record(1, content='<p><a href="https://xn--zz.vn/">x</a> '
                                                 '<a href="https://straße.de/">y</a></p>'))
    feedpub.build(site, tmp_path / "out", now=NOW)
    body = json.loads((tmp_path / "out" / "vi" / "feed.json").read_bytes())["items"][0]["content_html"]
    assert "xn--zz" not in body and 'href="https://xn--strae-oqa.de/"' in body


@pytest.mark.parametrize(("key", "value", "problem"), [
    ("base_url", "https://example.vn?x=1#frag", 'it has a query ("?x=1")'),
    ("base_url", "https://example.vn/#frag", 'it has a fragment ("#frag")'),
    ("feeds_url", "https://example.vn/feeds?v=2", 'it has a query ("?v=2")'),
])
def test_base_and_feeds_url_take_no_query_or_fragment(tmp_path, key, value, problem):
    config = CONFIG.replace(f'base_url = "https://example.vn"', f'base_url = "https://example.vn"\n{key} = "{value}"')
    if key == "base_url":
        config = CONFIG.replace('"https://example.vn"', f'"{value}"')
    site = site_with(tmp_path, record(1))
    (site / "feedpub.toml").write_text(config, encoding="utf-8")
    with pytest.raises(feedpub.ConfigError) as exc:
        feedpub.build(site, tmp_path / "out", now=NOW)
    assert f"[site] {key}: " in str(exc.value) and problem in str(exc.value)


def test_a_url_over_its_limit_is_refused_before_it_is_converted(tmp_path):
    site = site_with(tmp_path, record(1), record(2, url="/vi/" + "á" * 5000))
    report = feedpub.build(site, tmp_path / "out", now=NOW)
    assert report.errors == ['articles/a.jsonl:2: field "url": is 5,004 characters long (expected at most 4,096 '
                             "characters: limit url_length, set url_length = N in [limits] of feedpub.toml to change it)"]


# --- [limits] ----------------------------------------------------------------------------------------

def test_limits_are_set_in_feedpub_toml_and_checked_there():
    assert parse_limits({"html_depth": 40})["html_depth"] == 40
    with pytest.raises(ValueError, match="html_dept: unknown key .did you mean html_depth"):
        parse_limits({"html_dept": 40})
    with pytest.raises(ValueError, match="categories: this limit is fixed"):
        parse_limits({"categories": 1000})
    with pytest.raises(ValueError, match="not valid"):
        parse_limits({"html_depth": 0})


def test_a_raised_limit_lets_a_record_through(tmp_path):
    deep = record(2, content="<div>" * 300 + "x")
    assert feedpub.build(site_with(tmp_path / "a", record(1), deep), tmp_path / "a" / "out", now=NOW).errors
    site = site_with(tmp_path / "b", record(1), deep, config="[limits]\nhtml_depth = 400\n")
    assert feedpub.build(site, tmp_path / "b" / "out", now=NOW).errors == []


def test_the_readme_states_every_limit():
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Limits"):]
    section = section[:section.index("\n## ", 5)]
    for limit in LIMITS:
        row = next((line for line in section.splitlines() if line.startswith(f"| `{limit.name}` |")), None)
        assert row is not None, limit.name
        assert limit.amount(limit.value).replace(" ", "\u00a0") in row or limit.amount(limit.value) in row, row
        assert ("fixed" in row) == (not limit.settable), row


# --- the HTML depth measure ----------------------------------------------------------------------------

_VOIDS = {"br", "img", "hr", "source", "wbr", "input", "col", "area", "embed", "link", "meta", "track"}


def _tree_depth(html: str) -> int:
    """How deep the tree a real HTML parser (nh3's html5ever, every tag kept) made of this body nests:
    its serialisation closes every element, so counting tags is exact."""
    kept = nh3.clean(html, tags={"div", "span", "p", "b", "i", "font", "li", "ul", "td", "tr", "table", "tbody",
                                 "a", "em", "strong", "br", "img", "hr"},
                     attributes={"font": {"color"}, "b": {"title"}}, strip_comments=True)
    depth = deepest = 0
    for slash, name in re.findall(r"<(/?)([a-z0-9]+)", kept):
        if name in _VOIDS:
            continue
        depth += -1 if slash else 1
        deepest = max(deepest, depth)
    return deepest


ORDINARY = {
    "unclosed paragraphs": "<p>a" * 2000,
    "unclosed list items": "<ul>" + "<li>a" * 2000 + "</ul>",
    "void elements": "<p>" + '<br><img src="/a.jpg"><hr>' * 2000,
    "comments holding tags": "<!-- <div><div> -->" * 2000,
    "CDATA sections": "<p><![CDATA[ a < b && c > d ]]></p>" * 1000,
    "script text holding tags": "<script>" + "<div>" * 2000 + "</script><p>x</p>",
    "style and textarea": "<style>div{}</style><textarea><div><div></textarea>" * 500,
    "table cells left open": "<table>" + "<tr><td>a<td>b" * 1000 + "</table>",
    "a bold word left open in each paragraph": "<p><b>x</p>" * 1000,
    "links left open": "<p>" + '<a href="/x">link' * 1000,
    "attributes holding >": '<div title="a>b"><span>x</span></div>' * 1000,
    "svg with self-closing paths": "<svg>" + "<path d='M0'/>" * 1000 + "</svg>",
    "an article": PARAGRAPH * 400,
}


@pytest.mark.parametrize("body", ORDINARY.values(), ids=ORDINARY.keys())
def test_ordinary_bodies_are_not_counted_deep(body):
    assert html_depth(body) <= 8
    assert html_depth_over(body, 8) == 0


DEEP = {
    "nested div": "<div>" * 300,
    "span closed across a div (ignored end tags)": "<span><div></span>" * 200,
    "formatting reopened in every paragraph": "<div>" + "".join(f"<b title={i}>" for i in range(300)) + "</div>" + "<p>x" * 3,
    "distinct fonts left open": "".join(f'<p><font color="c{i}">x</p>' for i in range(300)),
    "CDATA outside foreign content is a comment to the first >": "<![CDATA[<div><div>]]>" * 300,
}


@pytest.mark.parametrize("body", DEEP.values(), ids=DEEP.keys())
def test_the_measure_is_never_below_what_the_parser_builds(body):
    real = _tree_depth(body)
    assert real > 256 and html_depth(body) >= real
    assert html_depth_over(body, 256) > 256


@pytest.mark.parametrize("body", [*ORDINARY.values(), "<div><span>" * 40 + "x", "<ul><li>a<ul><li>b" * 30])
def test_the_measure_bounds_the_parser_on_ordinary_bodies_too(body):
    assert html_depth(body) >= _tree_depth(body)


def test_json_depth_reads_strings_as_text():
    assert json_depth(b'{"a": "[[[[", "b": [["\\"]]"]]}') == 3
    assert json_depth(b"1") == 0 and json_depth("[[]]") == 2


def test_every_limit_is_within_what_its_unit_allows():
    assert all(limit.value == DEFAULTS[limit.name] for limit in LIMITS)


@pytest.mark.parametrize(("field", "value"), [
    ("image", {"url": "/a.jpg", "extra": [[["shallow"]]]}),
    ("image", {"url": "/a.jpg", "extra": json.loads(nested_text(70))}),
    ("author", {"name": "A", "extra": json.loads(nested_text(70))}),
    ("categories", json.loads(nested_text(70))),
])
def test_the_scan_and_the_full_check_judge_depth_alike(tmp_path, field, value):
    """The scan's fast decoder admits only plain members in an image or author object; anything
    nested takes the full check, which measures it, so build and check agree at every depth."""
    site = site_with(tmp_path, record(1), record(2, **{field: value}))
    built = feedpub.build(site, tmp_path / "out", now=NOW)
    assert built.errors == feedpub.check(site, now=NOW).errors
    deep = value_depth(value) + 1 > DEFAULTS["record_depth"]
    assert any("limit record_depth" in e for e in built.errors) == deep


def test_a_chosen_line_that_grew_past_the_limit_since_its_scan_is_not_read_whole(tmp_path):
    """The second read of a chosen record (ingest/load.py) holds at most jsonl_line_bytes of a
    line too: a line that grew since the scan means the file changed, and it is read again."""
    from zoneinfo import ZoneInfo
    from feedpub.ingest.load import Unloadable, load_articles
    from feedpub.limits import Limits
    from feedpub.records import RecordRules
    path = tmp_path / "articles" / "a.jsonl"
    path.parent.mkdir()
    small = json.dumps(record(0)).encode()
    path.write_bytes(small + b"\n")
    limits = Limits({**DEFAULTS, "jsonl_line_bytes": len(small) + 10})
    rules = RecordRules(("vi", "en"), "https://example.vn", ZoneInfo("Asia/Ho_Chi_Minh"), limits=limits)
    st = path.stat()
    signature = (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
    articles, _ = load_articles(tmp_path, [("articles/a.jsonl", 1, 0, "vi-0")], rules, {"articles/a.jsonl": signature})
    assert [a.id for a in articles.values()] == ["vi-0"]
    grown = json.dumps({**record(0), "summary": "x" * 5000}).encode() + b"\n"
    with open(path, "r+b") as handle:                # rewritten in place: same inode, larger
        handle.write(grown)
    with pytest.raises(Unloadable):
        load_articles(tmp_path, [("articles/a.jsonl", 1, 0, "vi-0")], rules, {"articles/a.jsonl": signature})

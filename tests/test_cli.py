"""The command as a user meets it: exact error lines, exit codes, and nothing lost to a bad record."""
from __future__ import annotations

import json

import feedparser
import pytest

import feedpub
from conftest import NOW_ARG, record, run_cli, write_jsonl


def test_version():
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout == f"feedpub {feedpub.__version__}\n"


def test_help_documents_every_exit_code():
    out = " ".join(run_cli("--help").stdout.split())
    for text in ("0 every feed published", "1 feeds published, but some records were rejected",
                 "2 usage error", "3 nothing published", "4 another feedpub run holds"):
        assert text in out


def test_build_from_repo_root_uses_data_and_public(tmp_path):
    import shutil
    from conftest import ROOT
    shutil.copytree(ROOT / "data", tmp_path / "data")
    result = run_cli("build", "--now", NOW_ARG, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "public" / "vi" / "rss.xml").is_file()
    assert "public/vi/rss.xml: 10 items, updated" in result.stdout.splitlines()


BAD_RECORDS = [
    (record(id="b1", lang="fr"),
     'articles/x-bad.jsonl:1: field "lang": "fr" is not a configured language (expected one of: en, vi)'),
    (record(id="b2", title="   "),
     'articles/x-bad.jsonl:2: field "title": is empty (expected non-empty text)'),
    (record(id="b3", url="javascript:alert(1)"),
     'articles/x-bad.jsonl:3: field "url": "javascript:alert(1)" is not an http(s) URL '
     '(expected an absolute http(s) URL or a path starting with /)'),
    (record(id="b4", published="31/02/2021 - 23:30"),
     'articles/x-bad.jsonl:4: field "published": "31/02/2021 - 23:30" is not a valid date: '
     'day 31 is out of range for February 2021 (expected DD/MM/YYYY [HH:MM])'),
    (record(id="b5", image={"url": "ftp://x/a.jpg"}),
     'articles/x-bad.jsonl:5: field "image.url": "ftp://x/a.jpg" is not an http(s) URL '
     '(expected an absolute http(s) URL or a path starting with /)'),
    (record(id="b6", content=5),
     'articles/x-bad.jsonl:6: field "content": the number 5 is not text (expected text)'),
    (record(id="b7", published=...),
     'articles/x-bad.jsonl:7: field "published": missing (expected a date such as 02/12/2021 - 23:30 '
     'or 2021-12-02T23:30:00+07:00)'),
    (record(id="vi-harvest"),
     'articles/x-bad.jsonl:8: field "id": "vi-harvest" is already used by articles/records.jsonl:1 '
     '(expected an id unique across the site; the first record was kept)'),
    (record(id="b9", categories="Chính trị"),
     'articles/x-bad.jsonl:9: field "categories": "Chính trị" is not a list (expected a list of strings)'),
    (record(id="b10", draft="yes"),
     'articles/x-bad.jsonl:10: field "draft": "yes" is not true or false (expected a boolean)'),
    (record(id="b11", author={"email": "a@b.vn"}),
     'articles/x-bad.jsonl:11: field "author.name": missing or empty (expected a non-empty name)'),
    (record(id="b12", image={"url": "/a.jpg", "length": -3}),
     'articles/x-bad.jsonl:12: field "image.length": the number -3 is not a size (expected a whole number of bytes)'),
]


@pytest.fixture
def bad_site(fixture_site):
    write_jsonl(fixture_site / "articles" / "x-bad.jsonl", *(r for r, _ in BAD_RECORDS))
    return fixture_site


def test_every_bad_record_gets_one_exact_line_and_good_ones_still_publish(bad_site, tmp_path):
    out = tmp_path / "out"
    result = run_cli("build", "--data", bad_site, "--out", out, "--now", NOW_ARG, "--quiet")
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert sorted(lines[:-1]) == sorted(line for _, line in BAD_RECORDS)
    assert lines[-1] == "feedpub: 12 records rejected; the others were published"
    vi = feedparser.parse((out / "vi" / "rss.xml").read_bytes())
    assert [e.id.rsplit("/", 1)[1] for e in vi.entries] == ["vi-school", "vi-bridge", "vi-escape"]


def test_check_reports_the_same_lines_and_writes_nothing(bad_site):
    result = run_cli("check", "--data", bad_site, "--now", NOW_ARG)
    assert result.returncode == 1
    assert sorted(result.stderr.splitlines()) == sorted(line for _, line in BAD_RECORDS)
    assert not (bad_site / "public").exists()


def test_a_file_that_is_not_json_is_named_with_its_line(fixture_site, tmp_path):
    (fixture_site / "articles" / "broken.json").write_text('{"id": "x",\n "lang": }', encoding="utf-8")
    result = run_cli("build", "--data", fixture_site, "--out", tmp_path / "o", "--now", NOW_ARG, "--quiet")
    assert result.returncode == 1
    assert result.stderr.splitlines()[0].startswith("articles/broken.json:2: not valid JSON:")
    assert (tmp_path / "o" / "vi" / "rss.xml").is_file()


def test_a_file_that_is_not_utf8_is_named_and_the_rest_builds(fixture_site, tmp_path):
    text = json.dumps(record(id="latin"), ensure_ascii=False) + "\n"
    (fixture_site / "articles" / "latin.jsonl").write_bytes(text.encode("utf-16"))
    (fixture_site / "articles" / "cp.json").write_bytes(b'{"id": "cp", "title": "Ti\xea\xf1g"}')
    result = run_cli("build", "--data", fixture_site, "--out", tmp_path / "o", "--now", NOW_ARG, "--quiet")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert "articles/cp.json:1: not UTF-8 text (expected a UTF-8 encoded JSON record)" in lines
    assert any(line.startswith("articles/latin.jsonl:1: ") for line in lines)
    assert len(feedparser.parse((tmp_path / "o" / "vi" / "rss.xml").read_bytes()).entries) == 3


def test_control_characters_are_stripped_with_a_warning(fixture_site, tmp_path):
    write_jsonl(fixture_site / "articles" / "ctl.jsonl",
                record(id="vi-ctl", title="Tin\x0b mới\x00", published="2022-06-01T08:00:00+07:00",
                       content="<p>a\x01b</p>"))
    result = run_cli("build", "--data", fixture_site, "--out", tmp_path / "o", "--now", NOW_ARG)
    assert result.returncode == 0, result.stderr
    assert 'warning: articles/ctl.jsonl:1: field "title": removed 2 control character(s) that XML cannot carry' \
        in result.stderr.splitlines()
    feed = feedparser.parse((tmp_path / "o" / "vi" / "atom.xml").read_bytes())
    assert not feed.bozo
    assert feed.entries[0].title == "Tin mới"


def test_wrong_weekday_is_a_warning_and_the_date_wins(fixture_site, tmp_path):
    write_jsonl(fixture_site / "articles" / "wd.jsonl",
                record(id="vi-wd", published="Thứ Sáu, 02/06/2022 - 08:00"))
    result = run_cli("build", "--data", fixture_site, "--out", tmp_path / "o", "--now", NOW_ARG)
    assert result.returncode == 0
    assert any("wd.jsonl:1: field \"published\": weekday" in line for line in result.stderr.splitlines())
    feed = feedparser.parse((tmp_path / "o" / "vi" / "rss.xml").read_bytes())
    assert feed.entries[0].published == "Thu, 02 Jun 2022 08:00:00 +0700"


def test_strict_writes_nothing_and_keeps_old_feeds(bad_site, tmp_path):
    out = tmp_path / "out"
    (bad_site / "articles" / "x-bad.jsonl").rename(tmp_path / "bad.jsonl")
    assert run_cli("build", "--data", bad_site, "--out", out, "--now", NOW_ARG).returncode == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (tmp_path / "bad.jsonl").rename(bad_site / "articles" / "x-bad.jsonl")
    result = run_cli("build", "--data", bad_site, "--out", out, "--now", NOW_ARG, "--strict")
    assert result.returncode == 3
    assert "feedpub: 12 record(s) rejected; --strict: nothing was written" in result.stderr
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert {p: b for p, b in after.items() if ".feedpub" not in str(p)} == \
        {p: b for p, b in before.items() if ".feedpub" not in str(p)}


@pytest.mark.parametrize("toml, message", [
    (None, "feedpub.toml: not found (expected a site directory holding feedpub.toml and articles/)"),
    ('[site]\nbase_url = "news.example.vn"\n[languages.vi]\ntitle = "T"\ndescription = "D"\n',
     'feedpub.toml: [site] base_url: \'news.example.vn\' is not an absolute URL (expected http:// or https://…)'),
    ('[site]\nbase_url = "https://x.vn"\ntimezone = "Asia/Hanoi"\n[languages.vi]\ntitle = "T"\ndescription = "D"\n',
     "feedpub.toml: [site] timezone: unknown time zone 'Asia/Hanoi' (expected an IANA name such as 'Asia/Ho_Chi_Minh')"),
    ('[site]\nbase_url = "https://x.vn"\nmax_items = 0\n[languages.vi]\ntitle = "T"\ndescription = "D"\n',
     "feedpub.toml: [site] max_items: 0 is not valid (expected an integer from 1 to 10000)"),
    ('[site]\nbase_url = "https://x.vn"\n', "feedpub.toml: missing [languages.CODE] tables"),
    ('[site\n', "feedpub.toml: not valid TOML"),
])
def test_bad_config_publishes_nothing(fixture_site, tmp_path, toml, message):
    config = fixture_site / "feedpub.toml"
    if toml is None:
        config.unlink()
    else:
        config.write_text(toml, encoding="utf-8")
    result = run_cli("build", "--data", fixture_site, "--out", tmp_path / "o")
    assert result.returncode == 3
    assert len(result.stderr.splitlines()) == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "o" / "vi").exists()


def test_missing_articles_folder_is_a_clear_error(fixture_site, tmp_path):
    import shutil
    shutil.rmtree(fixture_site / "articles")
    result = run_cli("build", "--data", fixture_site, "--out", tmp_path / "o")
    assert result.returncode == 3
    assert result.stderr.strip().endswith("articles: not a directory (expected the site's articles/ folder)")


def test_bad_now_is_a_usage_error(fixture_site, tmp_path):
    result = run_cli("build", "--data", fixture_site, "--out", tmp_path / "o", "--now", "tomorrow-ish")
    assert result.returncode == 2
    assert result.stderr.startswith('feedpub: --now: "tomorrow-ish" is not')


def test_python_dash_m_and_unknown_option():
    assert run_cli("build", "--frobnicate").returncode == 2


def test_validate_command_passes_a_fresh_build_and_fails_a_broken_feed(tmp_path):
    out = tmp_path / "out"
    assert run_cli("build", "--out", out, "--now", NOW_ARG, "--quiet").returncode == 0
    result = run_cli("validate", out, "--expect-offset", "+07:00")
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines()[-1] == "54 files checked, 0 with errors; 21 other files not checked (not feeds)"
    rss = out / "vi" / "rss.xml"
    rss.write_bytes(rss.read_bytes().replace(b"+0700</pubDate>", b"GMT+7</pubDate>", 1))
    result = run_cli("validate", out, "--expect-offset", "+07:00")
    assert result.returncode == 1
    assert any(line.startswith("FAIL vi/rss.xml (rss)") for line in result.stdout.splitlines())
    assert result.stdout.splitlines()[-1] == "54 files checked, 1 with errors; 21 other files not checked (not feeds)"


ATOM_03 = """<?xml version="1.0" encoding="UTF-8"?>
<feed version="0.3" xmlns="http://purl.org/atom/ns#">
  <title>Tin cũ</title><modified>2004-01-01T00:00:00Z</modified>
</feed>
"""


def test_validate_never_passes_a_feed_file_it_cannot_identify(tmp_path):
    out = tmp_path / "out"
    assert run_cli("build", "--out", out, "--now", NOW_ARG, "--quiet").returncode == 0
    (out / "vi" / "atom.xml").write_text(ATOM_03, encoding="utf-8")
    for extra in ([], ["--spec-only"]):
        result = run_cli("validate", out, *extra)
        assert result.returncode == 1
        assert "FAIL vi/atom.xml (unknown): 1 error(s)" in result.stdout.splitlines()
        assert result.stdout.splitlines()[-1].startswith("54 files checked, 1 with errors")


def test_validate_labels_feedpub_rules_and_spec_only_leaves_them_out(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    rss = ('<rss version="2.0"><channel><title>T</title><link>https://x.vn/</link><description>D</description>'
           "<item><title>A</title><link>https://x.vn/a</link></item></channel></rss>")
    (out / "rss.xml").write_text(rss, encoding="utf-8")
    result = run_cli("validate", out)
    assert result.returncode == 1
    rules = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("feedpub rule:")]
    assert rules == [
        'feedpub rule: rss.xml: has no XML declaration (feedpub requires <?xml version="1.0" encoding="UTF-8"?> '
        "on the first line) [feedpub: XML declaration]",
        "feedpub rule: rss.xml: item 1 (https://x.vn/a): has no <guid> (feedpub requires a permanent unique id) "
        "[feedpub: item guid]",
        "feedpub rule: rss.xml: item 1 (https://x.vn/a): has no <pubDate> (feedpub requires the publication date; "
        "readers sort items by it) [feedpub: item pubDate]"]
    result = run_cli("validate", out, "--spec-only")
    assert result.returncode == 0, result.stdout
    assert "feedpub rule" not in result.stdout


def test_a_language_with_no_records_builds_feeds_that_validate(fixture_site, tmp_path):
    config = fixture_site / "feedpub.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[languages.fr]\ntitle = "Nouvelles"\n'
                      'description = "Rien encore"\n', encoding="utf-8")
    out = tmp_path / "out"
    assert run_cli("build", "--data", fixture_site, "--out", out, "--now", NOW_ARG, "--quiet").returncode == 0
    assert (out / "fr" / "rss.xml").is_file()
    result = run_cli("validate", out, "--expect-offset", "+07:00")
    assert result.returncode == 0, result.stdout
    assert "OK  fr/rss.xml (rss)" in result.stdout.splitlines()
    assert "OK  fr/atom.xml (atom)" in result.stdout.splitlines()
    assert "OK  fr/feed.json (jsonfeed)" in result.stdout.splitlines()


def test_invalid_utf8_inside_a_body_is_rejected_with_its_line_and_the_rest_publishes(fixture_site, tmp_path):
    good = json.dumps(record(id="vi-newest", published="2023-06-01T08:00:00+07:00"), ensure_ascii=False)
    broken = good.replace("vi-newest", "vi-broken").replace("2023-06-01", "2023-07-01").encode()
    broken = broken.replace(b"<p>N", b"<p>\xff\xfeN")                     # only the body is not UTF-8
    (fixture_site / "articles" / "mixed.jsonl").write_bytes(good.encode() + b"\n" + broken + b"\n")
    result = run_cli("build", "--data", fixture_site, "--out", tmp_path / "o", "--now", NOW_ARG, "--quiet")
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines()[0] == \
        "articles/mixed.jsonl:2: not UTF-8 text (expected a UTF-8 encoded JSON record)"
    vi = feedparser.parse((tmp_path / "o" / "vi" / "rss.xml").read_bytes())
    assert [e.id.rsplit("/", 1)[1] for e in vi.entries] == ["vi-newest", "vi-school", "vi-bridge"]

"""Hostile or unlucky input never ends a run with an internal error, never hangs it, never costs a
good record: a bad record is one located line, and check and build judge every record alike."""
from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import feedparser
import pytest

import feedpub
from conftest import NOW, NOW_ARG, copy_site, record, run_cli, write_jsonl
from feedpub.errors import ConfigError


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return copy_site(tmp_path / "site")


def ids_in(out: Path, rel: str = "vi/rss.xml") -> set[str]:
    return {e.id.rsplit("/", 1)[-1] for e in feedparser.parse((out / rel).read_bytes()).entries}


def good(n: int) -> dict:
    return record(id=f"vi-good-{n}", url=f"/vi/good-{n}", published=f"2{n}/11/2026 08:00")


def build_and_check(site: Path, out: Path) -> tuple[feedpub.BuildReport, feedpub.BuildReport]:
    built = feedpub.build(site, out, now=NOW)
    checked = feedpub.check(site, now=NOW)
    return built, checked


# --------------------------------------------------------------------------- one bad record, one line

DEEP = "[" * 1200 + "]" * 1200
HOSTILE_LINES = {
    "deep-unknown-field": '{"id": "vi-x", "lang": "vi", "title": "t", "url": "/x", "published": "02/12/2021 - 23:30", '
                          f'"extra": {DEEP}}}',
    "deep-in-image": '{"id": "vi-x", "lang": "vi", "title": "t", "url": "/x", "published": "02/12/2021 - 23:30", '
                     f'"image": {{"url": "/a.jpg", "caption": {DEEP}}}}}',
    "deep-object": "{" + '"a": {' * 1200 + "}" * 1200 + "}",
    "huge-integer-published": '{"id": "vi-x", "lang": "vi", "title": "t", "url": "/x", "published": '
                              + "9" * 5000 + "}",
    "huge-integer-length": '{"id": "vi-x", "lang": "vi", "title": "t", "url": "/x", "published": "02/12/2021", '
                           '"image": {"url": "/a.jpg", "length": ' + "9" * 5000 + "}}",
}
HOSTILE_RECORDS = {
    "category-empty-once-cleaned": record(id="vi-x", categories=["\u0000"]),
    "category-only-controls": record(id="vi-x", categories=["Chính trị", "\x01\x02 \x7f"]),
    "email-with-control": record(id="vi-x", author={"name": "A", "email": "a\u0001@b.vn"}),
    "author-name-only-controls": record(id="vi-x", author={"name": "\x00\x01"}),
    "id-with-newline": record(id="vi-x\nfake"),
    "id-with-bidi": record(id="vi-\u202ex"),
    "id-with-zero-width": record(id="vi-\u200bx"),
    "id-too-long": record(id="v" * 10_000),
    "lone-surrogate-title": record(id="vi-x", title="\ud800"),
}


@pytest.mark.parametrize("kind", [*HOSTILE_LINES, *HOSTILE_RECORDS])
def test_a_hostile_record_is_one_line_and_the_others_publish(site, tmp_path, kind):
    path = site / "articles" / "hostile.jsonl"
    bad = HOSTILE_LINES.get(kind) or json.dumps(HOSTILE_RECORDS[kind], ensure_ascii=True)
    lines = [json.dumps(good(1)), bad, json.dumps(good(2))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    built, checked = build_and_check(site, tmp_path / "out")
    assert built.errors == checked.errors
    assert len(built.errors) == 1 and built.errors[0].startswith("articles/hostile.jsonl:2: "), built.errors
    assert "\n" not in built.errors[0] and "\u202e" not in built.errors[0]
    assert {"vi-good-1", "vi-good-2"} <= ids_in(tmp_path / "out")


def test_a_deep_record_in_a_json_array_costs_only_itself(site, tmp_path):
    bad = json.loads(HOSTILE_LINES["deep-unknown-field"].replace(DEEP, "[]"))
    text = json.dumps([good(1), bad, good(2)]).replace('"extra": []', f'"extra": {DEEP}')
    (site / "articles" / "array.json").write_text(text, encoding="utf-8")
    built, checked = build_and_check(site, tmp_path / "out")
    assert built.errors == checked.errors
    assert len(built.errors) == 1 and built.errors[0].startswith(
        "articles/array.json:2: nests 1,201 levels deep (expected at most 64 levels: limit record_depth, fixed: ")
    assert {"vi-good-1", "vi-good-2"} <= ids_in(tmp_path / "out")


UTF8_HINT = "(expected UTF-8 encoded JSON: save the file as UTF-8)"


@pytest.mark.parametrize(("name", "encoding", "message"), [
    ("windows.jsonl", "utf-16", f"the file is UTF-16 text, not UTF-8 {UTF8_HINT}"),
    ("windows.json", "utf-16", f"the file is UTF-16 text, not UTF-8 {UTF8_HINT}"),
    ("no-bom.jsonl", "utf-16-le", f"the file is UTF-16 text, not UTF-8 {UTF8_HINT}"),
    ("big-endian.json", "utf-16-be", f"the file is UTF-16 text, not UTF-8 {UTF8_HINT}"),
    ("wide.json", "utf-32", f"the file is UTF-32 text, not UTF-8 {UTF8_HINT}"),
])
def test_a_file_saved_as_utf16_or_utf32_is_one_clear_line(site, tmp_path, name, encoding, message):
    """Windows tools save text as UTF-16: one line for the file, not one cryptic line per record."""
    records = [good(3), good(4)]
    text = ("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n" if name.endswith(".jsonl")
            else json.dumps(records, ensure_ascii=False))
    (site / "articles" / name).write_bytes(text.encode(encoding))
    write_jsonl(site / "articles" / "fine.jsonl", good(1))
    past = time.time() - 60                          # settled files: nothing is left for a later run
    for path in (site / "articles").rglob("*.json*"):
        os.utime(path, (past, past))
    built, checked = build_and_check(site, tmp_path / "out")
    assert built.errors == checked.errors == [f"articles/{name}:1: {message}"]
    assert "vi-good-1" in ids_in(tmp_path / "out")


def test_an_empty_json_file_says_so(site, tmp_path):
    (site / "articles" / "empty.json").write_bytes(b"\xef\xbb\xbf \n")
    past = time.time() - 60
    os.utime(site / "articles" / "empty.json", (past, past))
    built, checked = build_and_check(site, tmp_path / "out")
    assert built.errors == checked.errors == [
        "articles/empty.json:1: the file is empty (expected a JSON object, or an array of them)"]


def test_a_file_of_zero_bytes_is_not_taken_for_utf16(site, tmp_path):
    (site / "articles" / "zeros.jsonl").write_bytes(b"\x00" * 64 + b"\n")
    built, checked = build_and_check(site, tmp_path / "out")
    assert built.errors == checked.errors
    assert len(built.errors) == 1 and "UTF-16" not in built.errors[0] and "UTF-32" not in built.errors[0]


def test_error_lines_never_carry_raw_control_characters(site, tmp_path):
    write_jsonl(site / "articles" / "forged.jsonl",
                record(id="vi-forged", url="https://x.vn/\r2026-01-01 feedpub: all good\x1b[2J"))
    proc = run_cli("build", "--data", site, "--out", tmp_path / "out", "--now", NOW_ARG, "--quiet", cwd=tmp_path)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert lines[0].startswith('articles/forged.jsonl:1: field "url": ')
    assert "\\x0d2026-01-01 feedpub: all good\\x1b[2J" in lines[0]
    assert "\r" not in proc.stderr and "\x1b" not in proc.stderr


def test_ids_that_were_always_fine_stay_fine(site, tmp_path):
    ids = ["12345", "vi-2021-12-thu-thua", "https://tinlongan.example.vn/a/1", "Bài viết số 1", "a" * 200]
    write_jsonl(site / "articles" / "ids.jsonl",
                *(record(id=ident, url=f"/vi/ok-{n}", published=f"2{n}/11/2026 09:00") for n, ident in enumerate(ids)))
    built, checked = build_and_check(site, tmp_path / "out")
    assert built.errors == checked.errors == []


# --------------------------------------------------------------------------- duplicate keys

def test_a_key_given_twice_is_a_warning_naming_it(site, tmp_path):
    path = site / "articles" / "dup.jsonl"
    path.write_text('{"id": "vi-dup", "lang": "vi", "title": "First", "url": "/vi/dup", '
                    '"published": "28/11/2026 10:00", "title": "Second", '
                    '"image": {"url": "/a.jpg", "url": "/b.jpg"}}\n', encoding="utf-8")
    built, checked = build_and_check(site, tmp_path / "out")
    expected = {'articles/dup.jsonl:1: key "title" appears more than once in one object; the last value was used',
                'articles/dup.jsonl:1: key "url" appears more than once in one object; the last value was used'}
    assert expected <= set(checked.warnings)
    assert expected <= set(built.warnings)                  # a published record: build says it too
    entry = feedparser.parse((tmp_path / "out" / "vi" / "atom.xml").read_bytes()).entries[0]
    assert entry.title == "Second"


# --------------------------------------------------------------------------- the configuration


@pytest.mark.parametrize(("old", "new", "message"), [
    ("max_items = 50", "max_item = 20", "feedpub.toml: [site] max_item: unknown key (did you mean max_items?)"),
    ('title = "Tin Long An - Tin mới nhất"', 'titel = "Tin Long An"',
     "feedpub.toml: [languages.vi] titel: unknown key (did you mean title?)"),
    ("[languages.vi]", "[language.vi]", "feedpub.toml: language: unknown key (did you mean languages?)"),
    ('title = "Tin Long An"\n', 'title = "Tin Long An\\u0007"\n',
     "feedpub.toml: [site] title: 'Tin Long An\\x07' holds a control character (expected text that a feed can carry)"),
    ('author = "Ban biên tập Tin Long An"', 'author = "Ban biên tập\\u001b[31m"',
     "feedpub.toml: [languages.vi] author: 'Ban biên tập\\x1b[31m' holds a control character"),
])
def test_config_mistakes_stop_the_run_naming_the_key(site, tmp_path, old, new, message):
    config = site / "feedpub.toml"
    text = config.read_text(encoding="utf-8")
    assert old in text
    config.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        feedpub.build(site, tmp_path / "out", now=NOW)
    assert str(info.value).startswith(message)
    proc = run_cli("check", "--data", site, cwd=tmp_path)
    assert proc.returncode == 3 and message in proc.stderr


@pytest.mark.parametrize("wait", ["nan", "1e400", "-5", "inf", "90000"])
def test_wait_must_be_a_usable_number_of_seconds(site, tmp_path, wait):
    proc = run_cli("build", "--data", site, "--out", tmp_path / "out", "--wait", wait, cwd=tmp_path, timeout=30)
    assert proc.returncode == 2
    assert "--wait" in proc.stderr and not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- files that are not files


def test_fifos_devices_and_broken_links_are_skipped_with_a_warning(site, tmp_path):
    articles = site / "articles"
    os.mkfifo(articles / "pipe.jsonl")
    (articles / "zero.json").symlink_to("/dev/zero")
    (articles / "gone.jsonl").symlink_to(tmp_path / "nothing-here")
    write_jsonl(articles / "ok.jsonl", good(1))
    for command in ("build", "check"):
        args = ["--out", tmp_path / "out"] if command == "build" else []
        proc = run_cli(command, "--data", site, *args, "--now", NOW_ARG, cwd=tmp_path, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert "warning: articles/pipe.jsonl: a FIFO, not a regular file; skipped" in proc.stderr
        assert "warning: articles/zero.json: a device, not a regular file; skipped" in proc.stderr
        assert "warning: articles/gone.jsonl: a link to nothing; skipped" in proc.stderr
    assert "vi-good-1" in ids_in(tmp_path / "out")


def test_a_fifo_that_replaces_a_file_after_the_listing_does_not_hang(site, tmp_path, monkeypatch):
    from feedpub import pipeline
    target = site / "articles" / "swap.jsonl"
    write_jsonl(target, good(1))
    real = pipeline.site_files

    def listing_then_swap(site_dir, **how):
        found = real(site_dir, **how)
        target.unlink()
        os.mkfifo(target)                       # a reader opening this blocks forever without O_NONBLOCK
        return found

    monkeypatch.setattr(pipeline, "site_files", listing_then_swap)
    result: dict = {}
    worker = threading.Thread(target=lambda: result.update(report=feedpub.build(site, tmp_path / "out", now=NOW)),
                              daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "build hung on a FIFO"
    assert any(e.startswith("articles/swap.jsonl: cannot be read: a FIFO, not a regular file")
               for e in result["report"].errors)


# --------------------------------------------------------------------------- files that change while read


def test_a_file_its_writer_keeps_appending_to_still_publishes(site, tmp_path):
    live = site / "articles" / "live.jsonl"
    live.write_text("", encoding="utf-8")
    stop = threading.Event()

    def writer():
        n = 0
        with open(live, "a", encoding="utf-8") as handle:
            while not stop.is_set():
                line = json.dumps(record(id=f"vi-live-{n}", url=f"/vi/live-{n}", published="28/11/2026 08:00",
                                         content="<p>" + "chữ " * (50 + n % 3000) + "</p>"), ensure_ascii=False)
                half = len(line) // 2
                handle.write(line[:half])
                handle.flush()
                time.sleep(0.0005)
                handle.write(line[half:] + "\n")
                handle.flush()
                n += 1

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        time.sleep(0.2)
        for _ in range(6):
            report = feedpub.build(site, tmp_path / "out", now=NOW)
            assert report.errors == []
    finally:
        stop.set()
        thread.join(10)
    # Once the writer stops, a run picks up everything and matches a fresh build.
    final = feedpub.build(site, tmp_path / "out", now=NOW)
    fresh = feedpub.build(site, tmp_path / "fresh", now=NOW, state_path=tmp_path / "fresh.sqlite")
    assert final.errors == fresh.errors == []
    assert (tmp_path / "out" / "vi" / "rss.xml").read_bytes() == (tmp_path / "fresh" / "vi" / "rss.xml").read_bytes()


def test_an_unterminated_last_line_that_is_a_whole_record_still_counts(site, tmp_path):
    path = site / "articles" / "no-newline.jsonl"
    path.write_text(json.dumps(good(1)) + "\n" + json.dumps(good(2)), encoding="utf-8")
    report = feedpub.build(site, tmp_path / "out", now=NOW)
    assert report.errors == [] and {"vi-good-1", "vi-good-2"} <= ids_in(tmp_path / "out")


def test_an_unterminated_broken_last_line_in_a_finished_file_is_an_error(site, tmp_path):
    path = site / "articles" / "cut.jsonl"
    path.write_text(json.dumps(good(1)) + '\n{"id": "vi-half", "lang": "v', encoding="utf-8")
    past = time.time() - 60
    os.utime(path, (past, past))                      # nobody has written it for a minute: it is finished
    report = feedpub.build(site, tmp_path / "out", now=NOW)
    assert [e.split(": ", 1)[0] for e in report.errors] == ["articles/cut.jsonl:2"]


def test_a_half_line_a_writer_is_busy_with_waits_for_the_next_run(site, tmp_path):
    path = site / "articles" / "busy.jsonl"
    line = json.dumps(good(2))
    path.write_text(json.dumps(good(1)) + "\n" + line[:20], encoding="utf-8")   # modified just now
    first = feedpub.build(site, tmp_path / "out", now=NOW)
    assert first.errors == [] and "vi-good-1" in ids_in(tmp_path / "out")
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line[20:] + "\n")
    second = feedpub.build(site, tmp_path / "out", now=NOW)
    assert second.errors == [] and {"vi-good-1", "vi-good-2"} <= ids_in(tmp_path / "out")


def test_a_same_size_edit_that_keeps_the_mtime_is_seen(site, tmp_path):
    """cp -p and rsync -t keep size and mtime (and, over an existing file, the inode): the change time moves."""
    path = write_jsonl(site / "articles" / "same.jsonl", record(id="vi-same", title="Tiêu đề AAAA",
                                                               published="28/11/2026 08:00"))
    st = path.stat()
    old = (st.st_atime_ns, st.st_mtime_ns)
    os.utime(path, ns=(old[0], old[1] - 10_000_000_000))
    old = (st.st_atime_ns, st.st_mtime_ns - 10_000_000_000)
    feedpub.build(site, tmp_path / "out", now=NOW)
    time.sleep(0.02)
    with open(path, "r+b") as handle:                        # rewrite in place: same inode, same size
        data = handle.read().replace("AAAA".encode(), "BBBB".encode())
        handle.seek(0)
        handle.write(data)
    os.utime(path, ns=old)
    assert (path.stat().st_size, path.stat().st_mtime_ns, path.stat().st_ino) == (st.st_size, old[1], st.st_ino)
    report = feedpub.build(site, tmp_path / "out", now=NOW)
    assert report.files_read == 1
    titles = [e.title for e in feedparser.parse((tmp_path / "out" / "vi" / "rss.xml").read_bytes()).entries]
    assert "Tiêu đề BBBB" in titles

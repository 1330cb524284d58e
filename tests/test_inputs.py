"""Every file feedpub reads is a regular file of a bounded size, or a clear error naming it.

The faults these close: feedpub.toml as a FIFO (build, check and snippet hung), feedpub.toml as a
link to /dev/zero and a sparse 6 GiB record file (MemoryError; that one file stopped the build), a
record file whose name is not UTF-8 (nothing was ever published again), a SQLite source that is a
FIFO (the run hung inside the lock).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import feedparser
import pytest

import feedpub
from conftest import NOW, NOW_ARG, copy_site, record, run_cli, write_jsonl
from feedpub.limits import DEFAULTS
from hazards import make_sparse

TIMEOUT = 30


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return copy_site(tmp_path / "site")


def ids(out: Path, rel: str = "vi/rss.xml") -> set[str]:
    return {e.id.rsplit("/", 1)[-1] for e in feedparser.parse((out / rel).read_bytes()).entries}


@pytest.mark.parametrize("command", [["build", "--now", NOW_ARG], ["check"], ["snippet"]])
def test_a_config_that_is_a_fifo_is_an_error_not_a_hang(site, tmp_path, command):
    config = site / "feedpub.toml"
    config.unlink()
    os.mkfifo(config)
    proc = run_cli(command[0], "--data", site, *command[1:], *(["--out", tmp_path / "out"] if command[0] == "build"
                                                                else []), cwd=tmp_path, timeout=TIMEOUT)
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr == f"feedpub: {config}: cannot be read: a FIFO, not a regular file\n"


def test_a_config_linked_to_dev_zero_is_an_error(site, tmp_path):
    config = site / "feedpub.toml"
    config.unlink()
    config.symlink_to("/dev/zero")
    proc = run_cli("build", "--data", site, "--out", tmp_path / "out", cwd=tmp_path, timeout=TIMEOUT)
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr == f"feedpub: {config}: cannot be read: a device, not a regular file\n"


def test_a_config_too_big_to_be_one_is_an_error(site, tmp_path):
    config = site / "feedpub.toml"
    make_sparse(config)
    proc = run_cli("check", "--data", site, cwd=tmp_path, timeout=TIMEOUT)
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr == (f"feedpub: {config}: is {6 << 30:,} bytes (expected at most "
                           f"{DEFAULTS['config_bytes']:,} bytes: limit config_bytes, fixed: it is read before "
                           "[limits] can be; a site's feedpub.toml is a few kilobytes)\n")


def test_a_sparse_6_gib_record_file_is_its_own_error_and_the_rest_publish(site, tmp_path):
    make_sparse(site / "articles" / "huge.json")
    past = time.time() - 60
    os.utime(site / "articles" / "huge.json", (past, past))
    built = feedpub.build(site, tmp_path / "out", now=NOW)
    checked = feedpub.check(site, now=NOW)
    line = (f"articles/huge.json: is {6 << 30:,} bytes (expected at most {DEFAULTS['json_file_bytes']:,} bytes: "
            "limit json_file_bytes, set json_file_bytes = N in [limits] of feedpub.toml to change it)")
    assert built.errors == checked.errors == [line]
    assert len(ids(tmp_path / "out")) >= 5


def test_a_record_file_whose_name_is_not_utf8_is_reported_and_the_build_goes_on(site, tmp_path):
    bad = site / "articles" / os.fsdecode(b"bad\xff\xfe.jsonl")
    write_jsonl(bad, record(id="vi-badname", url="/vi/badname", published="28/11/2026 08:00"))
    write_jsonl(site / "articles" / "fresh.jsonl", record(id="vi-fresh", url="/vi/fresh", published="28/11/2026 09:00"))
    line = ("articles/bad\\xff\\xfe.jsonl: the file's name is not valid UTF-8, so feedpub cannot keep track of it "
            "(expected a UTF-8 name: rename the file)")
    proc = run_cli("build", "--data", site, "--out", tmp_path / "out", "--now", NOW_ARG, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.splitlines() == [line]
    assert "vi-fresh" in ids(tmp_path / "out")
    assert feedpub.check(site, now=NOW).errors == [line]
    write_jsonl(site / "articles" / "later.jsonl", record(id="vi-later", url="/vi/later", published="28/11/2026 10:00"))
    again = feedpub.build(site, tmp_path / "out", now=NOW)       # and every run after it publishes too
    assert again.errors == [line] and "vi-later" in ids(tmp_path / "out")
    bad.rename(site / "articles" / "renamed.jsonl")
    fixed = feedpub.build(site, tmp_path / "out", now=NOW)
    assert fixed.errors == [] and "vi-badname" in ids(tmp_path / "out")


def test_a_sqlite_source_that_is_a_fifo_ends_the_run_and_frees_the_lock(tmp_path):
    pytest.importorskip("sqlalchemy")
    site = tmp_path / "site"
    site.mkdir()
    (site / "feedpub.toml").write_text(
        '[site]\nbase_url = "https://tin.example.vn"\n\n[languages.vi]\ntitle = "Tin"\ndescription = "Tin"\n\n'
        '[source]\nurl = "sqlite:///cms.db"\ntable = "feed_articles"\n', encoding="utf-8")
    os.mkfifo(site / "cms.db")
    args = ("build", "--data", site, "--out", tmp_path / "out", "--now", NOW_ARG, "--wait", "1")
    for _ in range(2):                                 # the second run is not kept waiting by the first
        proc = run_cli(*args, cwd=tmp_path, timeout=TIMEOUT)
        assert proc.returncode == 3, proc.stderr
        assert proc.stderr == (f"feedpub: feed_articles: cannot connect to sqlite:///{site / 'cms.db'}: "
                               "cannot be read: a FIFO, not a regular file (expected a SQLite database file)\n")

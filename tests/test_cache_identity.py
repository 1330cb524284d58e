"""--state names feedpub's cache: a file that is not positively one is never deleted, truncated or altered."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import feedpub
from conftest import NOW, NOW_ARG, copy_site, published, run_cli
from feedpub.errors import CacheError


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return copy_site(tmp_path / "site")


def someone_elses_database(path: Path) -> bytes:
    db = sqlite3.connect(path)
    db.executescript("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);"
                     "INSERT INTO customers VALUES (1, 'Nguyễn Văn A');")
    db.commit()
    db.close()
    return path.read_bytes()


@pytest.mark.parametrize("kind", ["text", "empty", "sqlite", "sqlite-with-meta", "binary"])
def test_a_file_that_is_not_a_feedpub_cache_is_left_byte_for_byte(site, tmp_path, kind):
    target = tmp_path / "precious"
    if kind == "text":
        target.write_text("notes I keep\n")
    elif kind == "empty":
        target.write_bytes(b"")
    elif kind == "sqlite":
        someone_elses_database(target)
    elif kind == "sqlite-with-meta":        # tables named like feedpub's, but not its cache
        db = sqlite3.connect(target)
        db.executescript("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                         "CREATE TABLE files (path TEXT PRIMARY KEY);"
                         "CREATE TABLE orders (n INTEGER); INSERT INTO meta VALUES ('meta', '{}');")
        db.commit()
        db.close()
    else:
        target.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 4)
    before = target.read_bytes()
    out = tmp_path / "out"
    proc = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, "--state", target, cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    assert f"{target}: " in proc.stderr and "not a feedpub cache" in proc.stderr and "Traceback" not in proc.stderr
    assert target.read_bytes() == before
    assert not Path(f"{target}-journal").exists()
    assert published(out) == {}


def test_a_directory_as_state_is_refused(site, tmp_path):
    with pytest.raises(CacheError):
        feedpub.build(site, tmp_path / "out", now=NOW, state_path=tmp_path)


def test_a_new_cache_is_signed_and_reused(site, tmp_path):
    cache = tmp_path / "cache" / "feeds.sqlite"
    first = feedpub.build(site, tmp_path / "out", now=NOW, state_path=cache)
    header = cache.read_bytes()[:100]
    assert header.startswith(b"SQLite format 3\x00") and header[68:72] == b"FPB1"
    second = feedpub.build(site, tmp_path / "out", now=NOW, state_path=cache)
    assert first.errors == second.errors == [] and second.skipped


def test_a_damaged_cache_of_our_own_is_rebuilt(site, tmp_path):
    cache = tmp_path / "feeds.sqlite"
    feedpub.build(site, tmp_path / "out", now=NOW, state_path=cache)
    data = bytearray(cache.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)           # keep the header (ours), wreck the first page
    cache.write_bytes(bytes(data))
    report = feedpub.build(site, tmp_path / "out", now=NOW, state_path=cache)
    assert report.errors == [] and not report.skipped
    again = feedpub.build(site, tmp_path / "out", now=NOW, state_path=cache)
    assert again.skipped


def test_a_cache_from_before_the_signature_is_recognised_and_signed(site, tmp_path):
    cache = tmp_path / "old.sqlite"
    db = sqlite3.connect(cache)
    db.executescript("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                     "CREATE TABLE files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, ino INTEGER,"
                     " scan BLOB NOT NULL);"
                     """INSERT INTO meta VALUES ('meta', '{"schema": 5, "version": "0.1.0", "fingerprint": "x"}');""")
    db.commit()
    db.close()
    report = feedpub.build(site, tmp_path / "out", now=NOW, state_path=cache)
    assert report.errors == [] and report.changed
    assert cache.read_bytes()[68:72] == b"FPB1"

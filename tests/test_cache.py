"""The cache: recognised positively, forgotten when it belongs to another version or config,
rebuilt when damaged, and never a reason for a run to fail."""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from feedpub.cache import APPLICATION_ID, SCHEMA, Cache, identify
from feedpub.errors import CacheError
from feedpub.runstate import RunState, Summary


def opened(path: Path, fingerprint: str = "f1", version: str = "1.0") -> Cache:
    return Cache(path).open(version=version, fingerprint=fingerprint)


def test_a_new_cache_is_signed_and_empty(tmp_path):
    cache = opened(tmp_path / "c.sqlite")
    try:
        assert cache.fresh and cache.state == RunState(schema=SCHEMA, version="1.0", fingerprint="f1")
    finally:
        cache.close()
    header = (tmp_path / "c.sqlite").read_bytes()[:100]
    assert int.from_bytes(header[68:72], "big") == APPLICATION_ID
    assert identify(tmp_path / "c.sqlite") is None


def test_what_a_run_saved_is_there_next_time_for_the_same_version_and_config(tmp_path):
    cache = opened(tmp_path / "c.sqlite")
    cache.save(RunState(indexed=True, now_ts=5.0, files="abc", outputs={"vi/rss.xml": (10, 20)},
                        summary=Summary(feeds=[("vi/rss.xml", 3, "vi", None, "rss", 1.5)], records=3)))
    cache.close()
    again = opened(tmp_path / "c.sqlite")
    try:
        assert not again.fresh
        assert again.state == RunState(schema=SCHEMA, version="1.0", fingerprint="f1", indexed=True, now_ts=5.0,
                                       files="abc", outputs={"vi/rss.xml": (10, 20)},
                                       summary=Summary(feeds=[("vi/rss.xml", 3, "vi", None, "rss", 1.5)], records=3))
    finally:
        again.close()


@pytest.mark.parametrize("change", [{"fingerprint": "f2"}, {"version": "2.0"}])
def test_another_config_or_version_means_starting_over(tmp_path, change):
    cache = opened(tmp_path / "c.sqlite")
    cache.db.execute("INSERT INTO files (path) VALUES ('articles/a.jsonl')")
    cache.save(RunState(indexed=True, now_ts=5.0))
    cache.close()
    again = opened(tmp_path / "c.sqlite", **change)
    try:
        assert again.fresh and again.state.now_ts is None
        assert again.db.execute("SELECT count(*) FROM files").fetchone() == (0,)
    finally:
        again.close()


def test_tables_of_an_older_schema_are_replaced(tmp_path):
    path = tmp_path / "c.sqlite"
    opened(path).close()
    db = sqlite3.connect(path)
    db.executescript("DROP TABLE files; CREATE TABLE files (path TEXT PRIMARY KEY, scan BLOB);"
                     """INSERT INTO meta VALUES ('meta', '{"schema": 5, "version": "1.0", "fingerprint": "f1"}');""")
    db.commit()
    db.close()
    cache = opened(path)
    try:
        columns = [row[1] for row in cache.db.execute("PRAGMA table_info(files)")]
        assert "fid" in columns and cache.fresh
    finally:
        cache.close()


def test_an_unusable_folder_means_a_temporary_cache_for_this_run(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache's folder would go")
    cache = opened(blocker / "c.sqlite")
    try:
        assert cache.db is not None and cache.fresh
        cache.db.execute("INSERT INTO files (path) VALUES ('x')")      # usable
        temporary = cache.db.execute("PRAGMA database_list").fetchone()[2]
        assert Path(temporary).exists()
    finally:
        cache.close()
    assert not Path(temporary).exists()
    assert blocker.read_text() == "a file where the cache's folder would go"


def test_someone_elses_file_is_refused_untouched(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("mine")
    with pytest.raises(CacheError, match="not a feedpub cache"):
        opened(path)
    assert path.read_text() == "mine"


def test_in_feedpubs_own_folder_an_unrecognisable_file_is_damage(tmp_path):
    path = tmp_path / "out" / ".feedpub" / "state.sqlite"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"garbage" * 100)
    cache = Cache(path, private=True).open(version="1.0", fingerprint="f1")
    try:
        assert cache.fresh
    finally:
        cache.close()
    assert identify(path) is None
    assert os.path.getsize(path) > 0

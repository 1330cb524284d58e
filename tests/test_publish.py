"""Atomic publishing: feedpub.publish and how build() and the CLI behave when OUT cannot be written.

Every site used here is a tmp_path copy of the sample site in data/, so the
repository is never modified.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conftest import copy_site, published, run_cli
import feedpub
from feedpub import publish
from feedpub.errors import PublishError
from feedpub.fsops import Tree
from feedpub.manifest import read_manifest
from feedpub.publish import TMP_SUFFIX, publish_files, remove_stale_temps, safe_target, write_atomic

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2030, 6, 1, 0, 0, tzinfo=TZ)
NOW_ARG = "2030-06-01T00:00:00+07:00"
CLI_TIMEOUT = 30


# --------------------------------------------------------------------------- helpers




def edit_title(site: Path, rel: str, title: str, when: float) -> None:
    """Change the title of the (single) record in SITE/articles/REL and give it mtime WHEN."""
    path = site / "articles" / rel
    record = json.loads(path.read_text(encoding="utf-8"))
    record["title"] = title
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    os.utime(path, (when, when))




def snapshot(out: Path) -> dict[str, tuple[bytes, int]]:
    """Every published file of OUT, the lock file included -> (bytes, mtime_ns).

    The cache under .feedpub/ may change (it is only a cache); that a changed
    cache never causes a wrong feed is what tests/test_incremental.py checks.
    """
    return {p.relative_to(out).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(out.rglob("*")) if p.is_file() and ".feedpub/" not in p.relative_to(out).as_posix()}


def temps(root: Path) -> list[Path]:
    return sorted(root.rglob(f"*{TMP_SUFFIX}"))




def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    line = lines[0]
    assert line.startswith("feedpub: "), line
    for needle in needles:
        assert needle in line, (needle, line)
    return line


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return copy_site(tmp_path / "site")


# --------------------------------------------------------------------------- write_atomic


def test_write_atomic_creates_missing_parents(tmp_path):
    target = tmp_path / "out" / "vi" / "categories" / "y-te" / "rss.xml"
    assert write_atomic(target, b"<rss/>") is True
    assert target.read_bytes() == b"<rss/>"
    assert oct(target.stat().st_mode & 0o777) == oct(0o644 & ~_umask())
    assert temps(tmp_path) == []


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_write_atomic_replaces_content_by_rename(tmp_path):
    target = tmp_path / "feed.xml"
    target.write_bytes(b"old version, longer than the new one")
    old_inode = target.stat().st_ino
    assert write_atomic(target, b"new version") is True
    assert target.read_bytes() == b"new version"
    # A rename puts a new inode in place; rewriting in place would keep the old one
    # (and a reader could see a truncated file).
    assert target.stat().st_ino != old_inode
    assert temps(tmp_path) == []


def test_write_atomic_same_size_different_bytes_is_written(tmp_path):
    target = tmp_path / "feed.json"
    target.write_bytes(b'{"a": 1}')
    assert write_atomic(target, b'{"a": 2}') is True
    assert target.read_bytes() == b'{"a": 2}'


def test_write_atomic_unchanged_bytes_touch_nothing(tmp_path):
    target = tmp_path / "atom.xml"
    target.write_bytes(b"<feed>same</feed>")
    os.utime(target, ns=(1_600_000_000_123_456_789, 1_600_000_000_123_456_789))
    before = target.stat()
    assert write_atomic(target, b"<feed>same</feed>") is False
    after = target.stat()
    assert after.st_mtime_ns == before.st_mtime_ns == 1_600_000_000_123_456_789
    assert after.st_ino == before.st_ino
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atom.xml"]


def test_write_atomic_empty_bytes(tmp_path):
    target = tmp_path / "empty"
    assert write_atomic(target, b"") is True
    assert target.read_bytes() == b""
    assert write_atomic(target, b"") is False


def _fail(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("victim", ["rename", "write", "fsync"])
def test_write_atomic_failure_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch, victim):
    target = tmp_path / "rss.xml"
    target.write_bytes(b"<rss>old</rss>")
    os.utime(target, ns=(1_500_000_000_000_000_000, 1_500_000_000_000_000_000))
    monkeypatch.setattr(publish.os, victim, _fail)
    with pytest.raises(PublishError) as info:
        write_atomic(target, b"<rss>new and different</rss>")
    monkeypatch.undo()
    message = str(info.value)
    assert str(target) in message and "No space left on device" in message
    assert "\n" not in message
    assert target.read_bytes() == b"<rss>old</rss>"
    assert target.stat().st_mtime_ns == 1_500_000_000_000_000_000
    assert temps(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rss.xml"]


def test_write_atomic_failure_of_a_new_file_leaves_nothing(tmp_path, monkeypatch):
    target = tmp_path / "vi" / "feed.json"
    monkeypatch.setattr(publish.os, "rename", _fail)
    with pytest.raises(PublishError):
        write_atomic(target, b"{}")
    monkeypatch.undo()
    assert not target.exists()
    assert temps(tmp_path) == []


def test_write_atomic_interrupted_removes_temp_and_propagates(tmp_path, monkeypatch):
    target = tmp_path / "atom.xml"
    target.write_bytes(b"old")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(publish.os, "rename", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert temps(tmp_path) == []


def test_write_atomic_parent_is_a_file(tmp_path):
    blocker = tmp_path / "vi"
    blocker.write_bytes(b"not a directory")
    with pytest.raises(PublishError) as info:
        write_atomic(blocker / "rss.xml", b"<rss/>")
    assert f"{blocker}: is not a directory" in str(info.value)
    assert blocker.read_bytes() == b"not a directory"
    assert temps(tmp_path) == []


# --------------------------------------------------------------------------- temps and targets


def test_remove_stale_temps_removes_only_feedpub_temps(tmp_path):
    stale = [tmp_path / f".rss.xml.4242{TMP_SUFFIX}",
             tmp_path / "vi" / f".atom.xml.17{TMP_SUFFIX}",
             tmp_path / "vi" / "categories" / "y-te" / f".feed.json.9{TMP_SUFFIX}"]
    kept = {tmp_path / "rss.xml": b"feed", tmp_path / "vi" / "notes.tmp": b"mine",
            tmp_path / "vi" / "feedpub-tmp": b"no suffix dot", tmp_path / ".feedpub.lock": b""}
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half a fe")
    for path, data in kept.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    with Tree.open(tmp_path) as tree:
        remove_stale_temps(tree, [".", "vi", "vi/categories/y-te"])
    assert temps(tmp_path) == []
    for path, data in kept.items():
        assert path.read_bytes() == data


def test_build_removes_temps_a_killed_run_left(site, tmp_path):
    out = tmp_path / "out"
    feedpub.build(site, out, now=NOW)
    expected = published(out)
    leftovers = [out / f".rss.xml.99999{TMP_SUFFIX}", out / "vi" / f".atom.xml.99999{TMP_SUFFIX}"]
    for path in leftovers:
        path.write_bytes(b"<rss><chan")
    report = feedpub.build(site, out, now=NOW)
    assert report.errors == []
    assert temps(out) == []
    assert published(out) == expected


@pytest.mark.parametrize("relpath", ["../x", "../../etc/passwd", "vi/../../x", "/etc/passwd", "/tmp/x.xml",
                                     "", ".", "vi/.."])
def test_safe_target_refuses_paths_outside_out(tmp_path, relpath):
    with pytest.raises(PublishError) as info:
        safe_target(tmp_path / "out", relpath)
    assert str(tmp_path / "out") in str(info.value)


@pytest.mark.parametrize(("relpath", "parts"), [
    ("rss.xml", ("rss.xml",)),
    ("vi/categories/y-te/feed.json", ("vi", "categories", "y-te", "feed.json")),
    ("./en/atom.xml", ("en", "atom.xml")),
])
def test_safe_target_accepts_paths_inside_out(tmp_path, relpath, parts):
    assert safe_target(tmp_path / "out", relpath) == Path(tmp_path / "out", *parts)


def test_publish_files_refuses_escape_and_writes_nothing_outside(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(PublishError):
        publish_files(out, {"../evil.xml": b"<rss/>"})
    with pytest.raises(PublishError):
        publish_files(out, {"/" + str(tmp_path / "abs.xml").lstrip("/"): b"<rss/>"})
    assert not (tmp_path / "evil.xml").exists()
    assert not (tmp_path / "abs.xml").exists()
    assert temps(tmp_path) == []


def test_publish_files_reports_changes_and_removes_dropped(tmp_path):
    out = tmp_path / "out"
    first = publish_files(out, {"a/rss.xml": b"1", "b/rss.xml": b"2"})
    assert first == {"a/rss.xml": True, "b/rss.xml": True}
    second = publish_files(out, {"a/rss.xml": b"1", "c/rss.xml": b"3"},
                           owned=frozenset({"a/rss.xml", "b/rss.xml", "gone/x"}))
    assert second == {"a/rss.xml": False, "c/rss.xml": True}
    assert not (out / "b").exists()
    assert (out / "c" / "rss.xml").read_bytes() == b"3"
    assert read_manifest(out).files == {"a/rss.xml", "c/rss.xml"}


# --------------------------------------------------------------------------- OUT that cannot be written


def test_missing_output_directory_is_created(site, tmp_path):
    out = tmp_path / "deep" / "er" / "public"
    proc = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""
    reference = tmp_path / "reference"
    feedpub.build(site, reference, now=NOW)
    assert published(out) == published(reference)
    assert {"en/rss.xml", "en/atom.xml", "en/feed.json", "vi/rss.xml", "feed.css"} <= set(published(out))


def _permission_bits_stop_writes(tmp_path: Path) -> bool:
    """False for the superuser (or anyone allowed to override permission bits)."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        probe = tmp_path / "probe"
        probe.mkdir()
        os.chmod(probe, 0o555)
        try:
            (probe / "x").write_bytes(b"")
        except PermissionError:
            return True
        finally:
            os.chmod(probe, 0o755)
            shutil.rmtree(probe)
        return False
    return True


def test_read_only_output_directory(site, tmp_path):
    if not _permission_bits_stop_writes(tmp_path):
        pytest.skip("permission bits do not stop the superuser from writing; "
                    "see the tests with a regular file in OUT's place")
    out = tmp_path / "out"
    feedpub.build(site, out, now=NOW)
    edit_title(site, "2021/11/dragon-fruit-chau-thanh.json", "A title that changes every feed",
               time.time() - 3600)
    before = snapshot(out)
    os.chmod(out, 0o555)
    try:
        proc = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, cwd=tmp_path)
        with pytest.raises(PublishError) as info:
            feedpub.build(site, out, now=NOW)
    finally:
        os.chmod(out, 0o755)
    assert proc.returncode == 3, proc.stderr
    assert_one_line_error(proc, str(out))
    assert str(out) in str(info.value)
    assert snapshot(out) == before


def test_output_parent_is_a_regular_file(site, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_bytes(b"precious")
    out = blocker / "public"
    proc = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, cwd=tmp_path)
    assert proc.returncode == 3, (proc.stdout, proc.stderr)
    assert proc.stdout == ""
    assert_one_line_error(proc, str(out))
    with pytest.raises(PublishError) as info:
        feedpub.build(site, out, now=NOW)
    assert str(out) in str(info.value)
    assert blocker.read_bytes() == b"precious"
    assert temps(tmp_path) == []


def test_output_directory_is_a_regular_file(site, tmp_path):
    out = tmp_path / "public"
    out.write_bytes(b"a file where OUT should be")
    proc = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, "--quiet", cwd=tmp_path)
    assert proc.returncode == 3, (proc.stdout, proc.stderr)
    assert proc.stdout == ""
    assert_one_line_error(proc, str(out))
    with pytest.raises(PublishError):
        feedpub.build(site, out, now=NOW)
    assert out.read_bytes() == b"a file where OUT should be"
    assert temps(tmp_path) == []


def test_feed_folder_blocked_by_a_file_is_a_clean_error(site, tmp_path):
    """A regular file where a feed's folder must go: exit 3, one line naming it, nothing published."""
    out = tmp_path / "out"
    feedpub.build(site, out, now=NOW)
    shutil.rmtree(out / "vi")
    (out / "vi").write_bytes(b"blocker")
    before = snapshot(out)
    proc = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, cwd=tmp_path)
    assert proc.returncode == 3, (proc.stdout, proc.stderr)
    assert_one_line_error(proc, f"{out}: vi is a file where feedpub needs a folder")
    assert temps(out) == []
    assert snapshot(out) == before


@pytest.mark.parametrize("victim", ["write", "fsync"])
def test_failed_publish_leaves_every_old_feed_untouched(site, tmp_path, monkeypatch, victim):
    """A write or fsync failure part-way through a run (disk full, an I/O error) must not leave a mix
    of old and new feeds; the fsyncs run on threads, and every one is settled before any rename.

    build() documents that on PublishError "no feed was changed".
    """
    out = tmp_path / "out"
    feedpub.build(site, out, now=NOW)
    # Change one record of each language so that files early and late in OUT's order change.
    edit_title(site, "2021/11/dragon-fruit-chau-thanh.json", "Dragon fruit growers try a new market",
               time.time() - 3600)
    edit_title(site, "2021/12/don-ca-tai-tu.json", "Đờn ca tài tử trở lại với tên mới", time.time() - 3600)
    before = snapshot(out)
    real = getattr(os, victim)
    calls = {"n": 0}

    def then_fail(*args):
        calls["n"] += 1
        if calls["n"] > 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args)

    monkeypatch.setattr(publish.os, victim, then_fail)
    with pytest.raises(PublishError):
        feedpub.build(site, out, now=NOW)
    monkeypatch.undo()
    assert calls["n"] > 3
    assert temps(out) == []
    changed = sorted(rel for rel, (data, _) in before.items()
                     if not (out / rel).is_file() or (out / rel).read_bytes() != data)
    assert changed == [], f"files changed by a failed run: {changed}"
    assert snapshot(out) == before

    # The next run, with room on the disk, publishes exactly what a fresh build gives.
    report = feedpub.build(site, out, now=NOW)
    assert report.errors == [] and not report.skipped
    reference = tmp_path / "reference"
    feedpub.build(site, reference, now=NOW, state_path=tmp_path / "ref-state.sqlite")
    assert published(out) == published(reference)

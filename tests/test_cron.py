"""feedpub run from a scheduler: overlapping runs, scheduled records, quiet no-op runs, exit codes.

Every site used here is a tmp_path copy of the sample site in data/; "run"
means the real command line in a subprocess.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest

from conftest import copy_site, published, run_cli
import feedpub
from feedpub.errors import LockedError
from feedpub.publish import TMP_SUFFIX, OutputLock

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2030, 6, 1, 0, 0, tzinfo=TZ)
NOW_ARG = "2030-06-01T00:00:00+07:00"
CLI_TIMEOUT = 30

SCHEDULED_ID = "en-2031-01-new-website"
SCHEDULED_GUID = "https://tinlongan.example.vn/id/en-2031-01-new-website"
BAD_RECORD = {"id": "en-broken", "lang": "en", "title": "A record with no date",
              "url": "/en/broken.html"}


# --------------------------------------------------------------------------- helpers




def edit_title(site: Path, rel: str, title: str) -> None:
    path = site / "articles" / rel
    record = json.loads(path.read_text(encoding="utf-8"))
    record["title"] = title
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    when = time.time() - 3600
    os.utime(path, (when, when))


def add_bad_record(site: Path) -> str:
    rel = "articles/2021/12/broken.json"
    path = site / rel
    path.write_text(json.dumps(BAD_RECORD), encoding="utf-8")
    when = time.time() - 3000
    os.utime(path, (when, when))
    return rel




def snapshot(out: Path) -> dict[str, tuple[bytes, int]]:
    """Every file of OUT, hidden ones included (the manifest too), but the cache -> (bytes, mtime_ns).
    The cache may learn what changed even on a run that publishes nothing."""
    return {p.relative_to(out).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(out.rglob("*")) if p.is_file() and not p.name.startswith("state.sqlite")}


def mtimes(out: Path) -> dict[str, int]:
    return {p.relative_to(out).as_posix(): p.stat().st_mtime_ns
            for p in sorted(out.rglob("*")) if p.is_file() and not p.name.startswith(".feedpub")
            and ".feedpub" not in p.relative_to(out).parts}


def cli(*args: str | os.PathLike) -> list[str]:
    return [sys.executable, "-m", "feedpub", *map(str, args)]




def reference(site: Path, dest: Path, now: datetime = NOW) -> dict[str, bytes]:
    """What a fresh, full build of SITE publishes."""
    feedpub.build(site, dest, now=now, full=True, state_path=dest.parent / f"{dest.name}-state.sqlite")
    return published(dest)


def assert_valid_feeds(files: dict[str, bytes]) -> None:
    feeds = [rel for rel in files if rel.endswith(("rss.xml", "atom.xml", "feed.json"))]
    assert len(feeds) >= 6
    for rel in feeds:
        if rel.endswith(".json"):
            doc = json.loads(files[rel])
            assert doc["version"].startswith("https://jsonfeed.org/version/1"), rel
        else:
            parsed = feedparser.parse(files[rel])
            assert parsed.bozo == 0, (rel, parsed.get("bozo_exception"))
            assert parsed.version in ("rss20", "atom10"), rel


def feed_ids(out: Path, lang: str) -> dict[str, list[str]]:
    """Item ids of a language's three feeds, in feed order."""
    rss = feedparser.parse((out / lang / "rss.xml").read_bytes())
    atom = feedparser.parse((out / lang / "atom.xml").read_bytes())
    doc = json.loads((out / lang / "feed.json").read_bytes())
    assert rss.bozo == 0 and atom.bozo == 0
    return {"rss": [e.id for e in rss.entries], "atom": [e.id for e in atom.entries],
            "json": [item["id"] for item in doc["items"]]}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return copy_site(tmp_path / "site")


# --------------------------------------------------------------------------- overlapping runs


def test_lock_is_exclusive_between_two_holders(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with OutputLock(out, wait=0):
        started = time.monotonic()
        with pytest.raises(LockedError) as info:
            with OutputLock(out, wait=0.2):
                pass
        assert 0.15 <= time.monotonic() - started < 2
        assert str(out) in str(info.value)
    with OutputLock(out, wait=0):       # released: free again
        pass


def test_run_while_locked_exits_4_quickly_and_changes_nothing(site, tmp_path):
    out = tmp_path / "out"
    feedpub.build(site, out, now=NOW)
    edit_title(site, "2021/11/dragon-fruit-chau-thanh.json", "Dragon fruit: a title that changes the feeds")
    before = snapshot(out)
    with OutputLock(out, wait=0):
        started = time.monotonic()
        proc = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, "--wait", "0.5", cwd=tmp_path)
        elapsed = time.monotonic() - started
        assert snapshot(out) == before
    assert proc.returncode == 4, (proc.stdout, proc.stderr)
    assert 0.5 <= elapsed < 2.5, elapsed
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("feedpub: ") and str(out) in lines[0], lines[0]
    assert "Traceback" not in proc.stderr

    # Released: the next run publishes the change.
    proc = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, "--wait", "0.5", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    after = published(out)
    assert after != {rel: data for rel, (data, _) in before.items() if not rel.startswith(".feedpub")}
    assert after == reference(site, tmp_path / "ref")
    assert b"Dragon fruit: a title that changes the feeds" in after["en/rss.xml"]


def test_run_waits_for_a_lock_released_in_time(site, tmp_path):
    out = tmp_path / "out"
    feedpub.build(site, out, now=NOW)
    edit_title(site, "2021/11/dragon-fruit-chau-thanh.json", "Released in time")
    lock = OutputLock(out, wait=0).__enter__()
    try:
        proc = subprocess.Popen(cli("build", "--data", site, "--out", out, "--now", NOW_ARG, "--wait", "20"),
                                cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.8)
        assert proc.poll() is None, "the run did not wait for the lock"
    finally:
        lock.__exit__(None, None, None)
    stdout, stderr = proc.communicate(timeout=CLI_TIMEOUT)
    assert proc.returncode == 0, stderr
    assert published(out) == reference(site, tmp_path / "ref")


@pytest.mark.parametrize("extra", [(), ("--full",)])
def test_two_overlapping_runs_both_succeed(site, tmp_path, extra):
    out = tmp_path / "out"
    args = cli("build", "--data", site, "--out", out, "--now", NOW_ARG, "--quiet", *extra)
    procs = [subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [p.communicate(timeout=CLI_TIMEOUT) for p in procs]
    for proc, (stdout, stderr) in zip(procs, results):
        assert proc.returncode == 0, stderr
        assert stdout == "" and stderr == ""
    files = published(out)
    assert files == reference(site, tmp_path / "ref")
    assert_valid_feeds(files)
    assert list(out.rglob(f"*{TMP_SUFFIX}")) == []


# --------------------------------------------------------------------------- scheduled records


def test_scheduled_record_appears_at_its_time_without_input_change(site, tmp_path):
    out = tmp_path / "out"
    before_due = "2031-01-01T06:59:00+07:00"
    due = "2031-01-01T07:00:00+07:00"

    proc = run_cli("build", "--data", site, "--out", out, "--now", before_due, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    ids = feed_ids(out, "en")
    assert all(SCHEDULED_GUID not in found for found in ids.values()), ids
    assert ids["rss"] == ids["atom"] == ids["json"]
    first = mtimes(out)

    # Same time again: nothing to do, nothing touched, still absent.
    proc = run_cli("build", "--data", site, "--out", out, "--now", before_due, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("nothing changed"), proc.stdout
    assert mtimes(out) == first
    assert all(SCHEDULED_GUID not in found for found in feed_ids(out, "en").values())

    # Its time has come: no input changed, but the record must now lead every en feed.
    proc = run_cli("build", "--data", site, "--out", out, "--now", due, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not proc.stdout.startswith("nothing changed"), proc.stdout
    ids = feed_ids(out, "en")
    for fmt, found in ids.items():
        assert found[0] == SCHEDULED_GUID, (fmt, found)
    assert ids["rss"][1:] == ids["atom"][1:] == ids["json"][1:]
    assert published(out) == reference(site, tmp_path / "ref",
                                        datetime(2031, 1, 1, 7, 0, tzinfo=TZ))
    society = feedparser.parse((out / "en" / "categories" / "society" / "rss.xml").read_bytes())
    assert society.entries[0].id == SCHEDULED_GUID

    # And it stays once published: a later no-op run keeps it.
    proc = run_cli("build", "--data", site, "--out", out, "--now", "2031-01-01T07:05:00+07:00",
                   "--quiet", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == ""
    assert feed_ids(out, "en")["rss"][0] == SCHEDULED_GUID


def test_scheduled_record_library_reports(site, tmp_path):
    out, state = tmp_path / "out", tmp_path / "state.sqlite"
    early = datetime(2031, 1, 1, 6, 59, tzinfo=TZ)
    first = feedpub.build(site, out, now=early, state_path=state)
    second = feedpub.build(site, out, now=early, state_path=state)
    assert not first.skipped and second.skipped
    items = {f.path: f.items for f in first.feeds}
    assert {f.path: f.items for f in second.feeds} == items
    third = feedpub.build(site, out, now=datetime(2031, 1, 1, 7, 0, tzinfo=TZ), state_path=state)
    assert not third.skipped
    assert third.files_read == 0          # nothing changed on disk: the cached scans suffice
    new_items = {f.path: f.items for f in third.feeds}
    for name in ("rss.xml", "atom.xml", "feed.json"):
        assert new_items[f"en/{name}"] == items[f"en/{name}"] + 1
        assert new_items[f"vi/{name}"] == items[f"vi/{name}"]
        assert f"en/{name}" in third.changed


# --------------------------------------------------------------------------- quiet, no-op, exit codes


def test_quiet_run_on_clean_site_prints_nothing(site, tmp_path):
    out = tmp_path / "out"
    proc = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, "--quiet", cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    assert published(out) == reference(site, tmp_path / "ref")

    stamps = mtimes(out)
    proc = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, "--quiet", cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    assert mtimes(out) == stamps


def test_second_identical_run_is_a_noop(site, tmp_path):
    out = tmp_path / "out"
    first = feedpub.build(site, out, now=NOW)
    assert not first.skipped and first.errors == []
    assert first.files_read == 15
    stamps = mtimes(out)
    assert len(stamps) > 50
    second = feedpub.build(site, out, now=NOW)
    assert second.skipped is True
    assert second.files_read == 0
    assert second.changed == []
    assert [(f.path, f.items) for f in second.feeds] == [(f.path, f.items) for f in first.feeds]
    assert second.records == first.records == 20
    assert mtimes(out) == stamps

    # A full rebuild of the same input rewrites nothing either.
    third = feedpub.build(site, out, now=NOW, full=True)
    assert not third.skipped and third.changed == [] and third.files_read == 15
    assert mtimes(out) == stamps


def test_output_file_touched_by_someone_else_is_repaired(site, tmp_path):
    out = tmp_path / "out"
    feedpub.build(site, out, now=NOW)
    good = published(out)
    (out / "en" / "rss.xml").write_bytes(b"<rss>vandalised</rss>")
    (out / "vi" / "atom.xml").unlink()
    report = feedpub.build(site, out, now=NOW)
    assert not report.skipped
    assert sorted(report.changed) == ["en/rss.xml", "vi/atom.xml"]
    assert published(out) == good


def test_bad_record_exits_1_and_reports_on_stderr_even_when_quiet(site, tmp_path):
    out = tmp_path / "out"
    rel = add_bad_record(site)
    for attempt in range(2):        # the second run is a no-op and must report the same
        proc = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, "--quiet", cwd=tmp_path)
        assert proc.returncode == 1, (attempt, proc.stderr)
        assert proc.stdout == ""
        assert f"{rel}:1" in proc.stderr, (attempt, proc.stderr)
        assert '"published"' in proc.stderr
        assert "Traceback" not in proc.stderr
    files = published(out)
    assert_valid_feeds(files)
    assert files == reference(site, tmp_path / "ref")
    assert b"en-broken" not in files["en/rss.xml"]


def test_strict_with_bad_record_exits_3_and_writes_nothing(site, tmp_path):
    out = tmp_path / "out"
    proc = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rel = add_bad_record(site)
    edit_title(site, "2021/11/dragon-fruit-chau-thanh.json", "A change a non-strict run would publish")
    before = snapshot(out)
    proc = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, "--quiet", "--strict", cwd=tmp_path)
    assert proc.returncode == 3, (proc.stdout, proc.stderr)
    assert proc.stdout == ""
    assert rel in proc.stderr
    assert "Traceback" not in proc.stderr
    assert snapshot(out) == before


def test_strict_into_a_fresh_output_writes_no_feed(site, tmp_path):
    out = tmp_path / "out"
    add_bad_record(site)
    proc = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, "--strict", cwd=tmp_path)
    assert proc.returncode == 3, (proc.stdout, proc.stderr)
    assert published(out) == {}


def test_strict_after_a_lenient_run_still_names_the_bad_record(site, tmp_path):
    """Same input, first without then with --strict: the second run takes the cached path."""
    out = tmp_path / "out"
    rel = add_bad_record(site)
    proc = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, "--quiet", cwd=tmp_path)
    assert proc.returncode == 1 and rel in proc.stderr
    before = snapshot(out)
    proc = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, "--quiet", "--strict", cwd=tmp_path)
    assert proc.returncode == 3, (proc.stdout, proc.stderr)
    assert snapshot(out) == before
    assert rel in proc.stderr, f"--strict did not say which record was rejected: {proc.stderr!r}"


@pytest.mark.parametrize(("config", "extra"), [
    ("this is not toml = = =\n", ("--now", NOW_ARG)),
    ("[languages.vi]\ntitle = 'x'\ndescription = 'y'\n", ("--quiet",)),               # no [site]
    ("[site]\nbase_url = 'https://x.example'\ntimezone = 'Mars/Olympus'\n"
     "[languages.vi]\ntitle = 'x'\ndescription = 'y'\n", ("--now", NOW_ARG, "--quiet")),
    ("[site]\nbase_url = 'https://x.example'\nmax_items = 0\n"
     "[languages.vi]\ntitle = 'x'\ndescription = 'y'\n", ()),
], ids=["not-toml", "no-site-table", "unknown-timezone", "max-items-0"])
def test_bad_config_exits_3_and_changes_nothing(site, tmp_path, config, extra):
    out = tmp_path / "out"
    feedpub.build(site, out, now=NOW)
    before = snapshot(out)
    (site / "feedpub.toml").write_text(config, encoding="utf-8")
    proc = run_cli("build", "--data", site, "--out", out, *extra, cwd=tmp_path)
    assert proc.returncode == 3, (proc.stdout, proc.stderr)
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("feedpub: ") and "feedpub.toml" in lines[0], proc.stderr
    assert snapshot(out) == before


def test_missing_config_exits_3(site, tmp_path):
    (site / "feedpub.toml").unlink()
    proc = run_cli("build", "--data", site, "--out", tmp_path / "out", "--now", NOW_ARG, cwd=tmp_path)
    assert proc.returncode == 3
    assert "feedpub.toml" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists() or published(tmp_path / "out") == {}


def test_bad_now_is_a_usage_error(site, tmp_path):
    proc = run_cli("build", "--data", site, "--out", tmp_path / "out", "--now", "yesterday-ish", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "--now" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()

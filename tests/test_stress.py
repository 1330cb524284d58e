"""Runs killed at random moments never expose a partial feed, and the next run repairs everything.

Two inputs A and B (B changes one vi and one en title, so the bytes of the
watched feeds really differ) are built alternately into the same OUT by the
real command line, each run SIGKILLed after a seeded random delay, while a
reader thread keeps reading and parsing the watched feeds. Every byte string
the reader ever sees must be one of the two complete versions built
beforehand into separate directories.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest

from conftest import published
import feedpub
from feedpub import publish
from feedpub.errors import LockedError
from feedpub.publish import TMP_SUFFIX

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2030, 6, 1, 0, 0, tzinfo=TZ)
NOW_ARG = "2030-06-01T00:00:00+07:00"
WATCHED = ("vi/rss.xml", "vi/atom.xml", "en/feed.json")
KILLS = 15
SEED = 20211202
TIME_BUDGET = 20.0          # seconds for the whole kill loop


def make_site(dest: Path, variant: str) -> Path:
    shutil.copytree(DATA, dest)
    if variant == "B":
        for rel, suffix in (("2021/12/thu-thua-dan-van.json", " (bản B)"),
                            ("2021/11/dragon-fruit-chau-thanh.json", " (version B)")):
            path = dest / "articles" / rel
            record = json.loads(path.read_text(encoding="utf-8"))
            record["title"] += suffix
            path.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    past = time.time() - 7200
    for path in dest.rglob("*"):
        os.utime(path, (past, past))
    return dest




def command(site: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "feedpub", "build", "--data", str(site), "--out", str(out),
            "--now", NOW_ARG, "--quiet"]


class Reader(threading.Thread):
    """Reads the watched files in a loop, remembering every distinct byte string and every failure."""

    def __init__(self, out: Path):
        super().__init__(daemon=True)
        self.out = out
        self.stop = threading.Event()
        self.seen: dict[str, set[bytes]] = {rel: set() for rel in WATCHED}
        self.failures: list[str] = []
        self.reads = 0

    def run(self) -> None:
        while not self.stop.is_set():
            for rel in WATCHED:
                try:
                    data = (self.out / rel).read_bytes()
                except OSError as exc:          # a missing feed is a failure too
                    self.failures.append(f"{rel}: {exc}")
                    continue
                self.seen[rel].add(data)
                self.reads += 1
            time.sleep(0.002)


def check_complete(rel: str, data: bytes) -> None:
    if rel.endswith(".json"):
        doc = json.loads(data)
        assert doc["items"], rel
    else:
        parsed = feedparser.parse(data)
        assert parsed.bozo == 0, (rel, parsed.get("bozo_exception"))
        assert parsed.entries, rel


def test_killed_runs_never_expose_partial_feeds(tmp_path):
    sites = {v: make_site(tmp_path / f"site-{v}", v) for v in "AB"}
    refs = {}
    for v, site in sites.items():
        feedpub.build(site, tmp_path / f"ref-{v}", now=NOW, state_path=tmp_path / f"ref-{v}.sqlite")
        refs[v] = published(tmp_path / f"ref-{v}")
    for rel in WATCHED:
        assert refs["A"][rel] != refs["B"][rel], rel
        check_complete(rel, refs["A"][rel])
        check_complete(rel, refs["B"][rel])
    assert set(refs["A"]) == set(refs["B"])

    out = tmp_path / "out"
    # Calibrate: how long does one real run that switches A -> B take here?
    feedpub.build(sites["A"], out, now=NOW)
    started = time.monotonic()
    proc = subprocess.run(command(sites["B"], out), capture_output=True, text=True, timeout=30)
    duration = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert published(out) == refs["B"]
    longest = min(max(duration, 0.3), 1.5)     # kill anywhere from start-up to the end of a run

    reader = Reader(out)
    reader.start()
    rng = random.Random(SEED)
    outcomes = []
    deadline = time.monotonic() + TIME_BUDGET
    try:
        for i in range(KILLS):
            if time.monotonic() > deadline:
                break
            variant = "A" if i % 2 == 0 else "B"
            proc = subprocess.Popen(command(sites[variant], out), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            # Half the kills anywhere in a run, half in its last 40 % where the files are written.
            time.sleep(longest * (rng.uniform(0, 1) if i % 4 < 2 else rng.uniform(0.6, 1.0)))
            proc.send_signal(signal.SIGKILL)
            code = proc.wait(timeout=30)
            assert code in (0, -signal.SIGKILL), (variant, code)
            outcomes.append((variant, code, bool(list(out.rglob(f"*{TMP_SUFFIX}")))))
        time.sleep(0.05)
    finally:
        reader.stop.set()
        reader.join(timeout=10)
    assert not reader.is_alive()
    assert len(outcomes) >= KILLS // 2, outcomes
    assert reader.failures == []
    assert reader.reads > 100, reader.reads

    for rel in WATCHED:
        versions = {refs["A"][rel]: "A", refs["B"][rel]: "B"}
        for data in reader.seen[rel]:
            assert data in versions, f"{rel}: a reader saw {len(data)} bytes that are neither complete version"
            check_complete(rel, data)

    # A normal run afterwards cleans up and publishes exactly A.
    final = subprocess.run(command(sites["A"], out), capture_output=True, text=True, timeout=30)
    assert final.returncode in (0, 1), final.stderr
    assert "Traceback" not in final.stderr
    assert list(out.rglob(f"*{TMP_SUFFIX}")) == []
    assert published(out) == refs["A"]
    # ...and its state is sound: switching to B and back gives exactly B, then A.
    for variant in "BA":
        proc = subprocess.run(command(sites[variant], out), capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, proc.stderr
        assert published(out) == refs[variant]


# --------------------------------------------------------------------------- a run killed while scanning in parallel


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(x) for x in handle.read().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def make_big_site(dest: Path, total: int) -> Path:
    """The sample site plus two JSONL files holding `total` bytes of valid records between them."""
    shutil.copytree(DATA, dest)
    template = json.loads((DATA / "articles" / "export-2022.jsonl").read_text(encoding="utf-8").splitlines()[0])
    for n in range(2):
        with open(dest / "articles" / f"bulk-{n}.jsonl", "w", encoding="utf-8") as handle:
            i = 0
            while handle.tell() < total // 2:
                record = dict(template, id=f"bulk-{n}-{i}", published="2021-06-01T07:00:00+07:00")
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                i += 1
    past = time.time() - 7200
    for path in dest.rglob("*"):
        os.utime(path, (past, past))
    return dest


@pytest.mark.skipif(not Path("/proc/self/task").is_dir() or (os.cpu_count() or 1) < 2,
                    reason="needs /proc and a second core (the scan only goes parallel then)")
def test_run_killed_during_parallel_scan_releases_the_lock(tmp_path):
    from feedpub.ingest import workers
    threshold = getattr(workers, "PARALLEL_BYTES", None)
    if threshold is None or threshold > 256 << 20:
        pytest.skip("no parallel scan to exercise")
    site = make_big_site(tmp_path / "site", threshold + (16 << 20))    # each worker gets a long job
    out = tmp_path / "out"
    proc = subprocess.Popen(command(site, out) + ["--full"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    workers: list[int] = []
    deadline = time.monotonic() + 20
    while not workers and proc.poll() is None and time.monotonic() < deadline:
        workers = _children(proc.pid)
        time.sleep(0.005)
    if not workers:
        proc.kill()
        proc.wait()
        pytest.skip("the run scanned without worker processes")
    time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    try:
        # The run is dead: after a moment for the system to clean up, nothing it started may
        # still run, and OUT must not stay locked by anything it left behind.
        time.sleep(0.1)
        left = [pid for pid in workers if _alive(pid)]
        try:
            with publish.OutputLock(out, wait=0):
                locked = False
        except LockedError:
            locked = True
        # Left-over workers must not spill Python tracebacks into the scheduler's mail either.
        deadline = time.monotonic() + 15
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    stderr = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    problems = []
    if locked:
        problems.append("OUT stayed locked after the run was killed")
    if left:
        problems.append(f"{len(left)} scan worker(s) outlived the killed run")
    if "Traceback" in stderr:
        problems.append(f"left-over workers printed tracebacks: ...{stderr[-300:]}")

    # Whatever happened, the next normal run publishes complete feeds.
    final = subprocess.run(command(site, out), capture_output=True, text=True, timeout=60)
    assert final.returncode == 0, final.stderr
    assert list(out.rglob(f"*{TMP_SUFFIX}")) == []
    for rel in WATCHED:
        check_complete(rel, (out / rel).read_bytes())
    assert problems == []

"""`feedpub watch` on record files: the kernel's file events as editors and writers cause them, bursts
coalesced into a rebuild or two whose feeds equal a fresh full build, feedpub.toml replaced or broken,
signals (SIGTERM finishes the publish, SIGHUP reads the config again), systemd's notifications received
by a test socket, the monitoring files after every rebuild, and memory that stays flat."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import feedparser
import pytest

import feedpub
from conftest import ROOT, copy_site, published, record, write_jsonl
from feedpub import watch as watching
from feedpub.inotify import PolledSite, SiteEvents, site_events
from feedpub.watch import Watcher

LIVE = 1_767_225_600                   # 2026-01-01T00:00:00Z: after every sample article
TITLE = re.compile(r'^title = "Tin Long An - Tin mới nhất"$', re.M)


class Lines(list):
    """A log that tests can wait on."""

    def wait_for(self, text: str, start: int = 0, timeout: float = 20) -> int:
        deadline = time.monotonic() + timeout
        while True:
            found = next((i for i in range(start, len(self)) if text in self[i]), None)
            if found is not None:
                return found
            assert time.monotonic() < deadline, f"no line with {text!r} in {list(self)}"
            time.sleep(0.02)


def wait_until(predicate, timeout: float = 20, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def titles(out: Path, lang: str = "vi") -> list[str]:
    return [e.title for e in feedparser.parse((out / lang / "rss.xml").read_bytes()).entries]


@pytest.fixture
def watched(tmp_path):
    """The sample site, built, with a Watcher running on it in a thread (stopped at the end)."""
    site = copy_site(tmp_path / "site")
    out = tmp_path / "out"
    lines = Lines()
    watcher = Watcher(site, out, log=lines.append, heartbeat=3600)
    assert watcher.rebuild() is not None
    watcher.start()
    yield site, out, watcher, lines
    watcher.stop()


def news(n: int, **more) -> dict:
    return record(id=f"vi-live-{n}", title=f"Tin nóng số {n}", url=f"/vi/live-{n}", published=LIVE + n, **more)


# --- which file events the kernel reports, and what they mean ----------------------------------------


def test_the_kernels_notifications_are_used_here_not_polling(tmp_path):
    events = site_events(tmp_path)
    try:
        assert isinstance(events, SiteEvents) and events.fileno() >= 0
    finally:
        events.close()


@pytest.mark.parametrize("kind", ["notified", "polled"])
def test_every_way_an_editor_or_writer_changes_a_site_is_seen(tmp_path, kind):
    """Both the inotify watcher and its fallback see the same changes, and ignore OUT and hidden files."""
    site = tmp_path / "site"
    (site / "articles").mkdir(parents=True)
    (site / "feedpub.toml").write_text("a", encoding="utf-8")
    out = site / "public"
    events = SiteEvents(site, [out]) if kind == "notified" else PolledSite(site, [out])

    def seen():
        time.sleep(0.02)
        return events.read()

    target = site / "articles" / "a.jsonl"
    steps = {
        "created": lambda: target.write_text("1\n"),
        "appended": lambda: target.open("a").write("2\n"),
        "renamed over (an editor's save)": lambda: ((site / "articles" / ".a.swp").write_text("3\n"),
                                                   os.replace(site / "articles" / ".a.swp", target)),
        "touched": lambda: os.utime(target, (1, 1)),
        "a new sub-folder with a file": lambda: ((site / "articles" / "2026").mkdir(),
                                                 (site / "articles" / "2026" / "b.json").write_text("{}")),
        "a file in that sub-folder": lambda: (site / "articles" / "2026" / "c.json").write_text("{}"),
        "removed": lambda: target.unlink(),
    }
    try:
        for name, step in steps.items():
            step()
            found = seen()
            assert found is not None and found.records and not found.config, name
        new = site / ".feedpub.toml.tmp"
        new.write_text("b", encoding="utf-8")
        os.replace(new, site / "feedpub.toml")
        found = seen()
        assert found is not None and found.config, "feedpub.toml replaced"
        out.mkdir()
        (out / "rss.xml").write_text("x")
        (site / "articles" / ".hidden").write_text("x")
        assert seen() is None, "OUT and hidden files are not the site's"
    finally:
        events.close()


# --- rebuilds ------------------------------------------------------------------------------------------


def test_an_article_saved_by_an_editor_is_published(watched):
    site, out, watcher, lines = watched
    draft = site / "articles" / ".zz.jsonl.swp"
    write_jsonl(draft, news(1))
    os.replace(draft, site / "articles" / "zz.jsonl")
    wait_until(lambda: "Tin nóng số 1" in titles(out), what="the saved article")
    assert watcher.last_error is None


def test_a_file_a_writer_appends_to_is_published_line_by_line(watched):
    site, out, watcher, lines = watched
    path = site / "articles" / "live.jsonl"
    with path.open("a", encoding="utf-8") as writer:
        for n in range(1, 4):
            line = json.dumps(news(n), ensure_ascii=False) + "\n"
            writer.write(line[:20])                       # half a line: the rest comes later
            writer.flush()
            time.sleep(0.1)
            writer.write(line[20:])
            writer.flush()
            wait_until(lambda: f"Tin nóng số {n}" in titles(out), what=f"line {n}")
    assert watcher.last_error is None


def test_a_new_sub_folder_is_watched_with_what_it_already_holds(watched):
    site, out, watcher, lines = watched
    folder = site / "articles" / "2026" / "01"
    folder.mkdir(parents=True)
    write_jsonl(folder / "a.jsonl", news(1))
    wait_until(lambda: "Tin nóng số 1" in titles(out), what="the first file")
    write_jsonl(folder / "b.jsonl", news(2))                  # the new folder itself is watched
    wait_until(lambda: "Tin nóng số 2" in titles(out), what="a second file in the new folder")


def test_a_replaced_feedpub_toml_is_read_again_and_a_broken_one_keeps_the_last_good(watched):
    site, out, watcher, lines = watched
    config = site / "feedpub.toml"
    text = config.read_text(encoding="utf-8")
    new = site / ".feedpub.toml.new"
    new.write_text(TITLE.sub('title = "Tin Long An - Bản mới"', text), encoding="utf-8")
    os.replace(new, config)
    wait_until(lambda: feedparser.parse((out / "vi" / "rss.xml").read_bytes()).feed.title == "Tin Long An - Bản mới",
               what="the new title")
    count = len(lines)
    config.write_text("[site\n", encoding="utf-8")
    failed = lines.wait_for("rebuild failed", count)
    assert lines[failed].startswith("feedpub: rebuild failed: feedpub.toml: not valid TOML: ")
    assert lines[failed].endswith("; the last good configuration stays in use")
    write_jsonl(site / "articles" / "zz.jsonl", news(1))       # still published, with the last good one
    wait_until(lambda: "Tin nóng số 1" in titles(out), what="a record published with the last good config")
    assert feedparser.parse((out / "vi" / "rss.xml").read_bytes()).feed.title == "Tin Long An - Bản mới"
    assert [line for line in lines[count:] if "rebuild failed" in line] == [lines[failed]]      # said once


def test_a_burst_is_a_handful_of_rebuilds_and_ends_as_a_full_build_would(tmp_path, watched):
    site, out, watcher, lines = watched
    before = watcher.builds
    path = site / "articles" / "burst.jsonl"
    with path.open("a", encoding="utf-8") as writer:
        for n in range(1000):                          # 1,000 articles, one a millisecond
            writer.write(json.dumps(news(n), ensure_ascii=False) + "\n")
            writer.flush()
            time.sleep(0.001)
    wait_until(lambda: titles(out)[:1] == ["Tin nóng số 999"] and watcher._pending is None, what="the last one")
    time.sleep(0.5)
    rebuilds = watcher.builds - before
    assert 1 <= rebuilds <= 6, rebuilds
    fresh = tmp_path / "fresh"
    feedpub.build(site, fresh, full=True)
    assert published(out) == published(fresh)


def test_a_failed_rebuild_is_said_once_and_retried(tmp_path):
    site = copy_site(tmp_path / "site")
    lines = Lines()
    calls = []

    def failing(site_dir, out_dir):
        calls.append(time.monotonic())
        if len(calls) < 5:
            raise feedpub.PublishError(f"{out_dir}: disk full")
        return feedpub.build(site_dir, out_dir)

    watcher = Watcher(site, tmp_path / "out", log=lines.append, build=failing, heartbeat=3600)
    watcher.rebuild()
    watcher.start()
    try:
        wait_until(lambda: len(calls) >= 5 and watcher.last_error is None, what="the retries", timeout=30)
    finally:
        watcher.stop()
    assert [line for line in lines if "rebuild failed" in line] == [
        f"feedpub: rebuild failed: {tmp_path / 'out'}: disk full"]
    gaps = [b - a for a, b in zip(calls, calls[1:])]
    assert gaps == sorted(gaps), "the retries back off"


def test_memory_stays_flat_over_many_rebuilds(tmp_path):
    """The shorter version of benchmarks/bench_watch.py's soak: RSS after 300 rebuilds that each publish."""
    site = copy_site(tmp_path / "site")
    out = tmp_path / "out"
    watcher = Watcher(site, out, log=lambda line: None)
    path = site / "articles" / "soak.jsonl"

    def rss() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    try:
        for n in range(400):
            write_jsonl(path, news(n))
            assert watcher.rebuild() is not None
            if n == 99:
                settled = rss()
        grown = rss() - settled
    finally:
        watcher.close()
    assert grown < 2 * 2 ** 20, f"{grown / 2 ** 20:.1f} MiB more after 300 rebuilds"


# --- the command: signals, systemd, monitoring ---------------------------------------------------------


class Manager:
    """A stand-in for systemd: the datagram socket $NOTIFY_SOCKET names, and what arrived on it."""

    def __init__(self, path: Path | None = None):
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if path is None:
            name = f"feedpub-test-{os.getpid()}-{time.monotonic_ns()}"
            self.socket.bind("\0" + name)
            self.address = "@" + name
        else:
            self.socket.bind(str(path))
            self.address = str(path)
        self.socket.settimeout(0.1)
        self.messages: list[dict[str, str]] = []

    def receive(self, until, timeout: float = 30) -> list[dict[str, str]]:
        deadline = time.monotonic() + timeout
        while not any(until(m) for m in self.messages):
            assert time.monotonic() < deadline, f"not received; got {self.messages}"
            try:
                data = self.socket.recv(4096)
            except TimeoutError:
                continue
            self.messages.append(dict(line.split("=", 1) for line in data.decode().splitlines()))
        return self.messages


def start_watch(site: Path, out: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "feedpub", "watch", "--data", str(site), "--out", str(out), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})})
    wait_until(lambda: _catches(proc.pid, signal.SIGHUP) or proc.poll() is not None, what="the signal handlers")
    return proc


def _catches(pid: int, sig: int) -> bool:
    """True once the process has its own handler for sig (its policy for signals is in place)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = int(re.search(r"^SigCgt:\s*([0-9a-f]+)$", status, re.M).group(1), 16)
    return bool(caught >> (sig - 1) & 1)


@pytest.mark.parametrize("abstract", [True, False])
def test_systemd_hears_ready_status_watchdog_and_stopping(tmp_path, abstract):
    site = copy_site(tmp_path / "site")
    manager = Manager(None if abstract else tmp_path / "notify")
    proc = start_watch(site, tmp_path / "out", env={"NOTIFY_SOCKET": manager.address, "WATCHDOG_USEC": "200000"})
    try:
        manager.receive(lambda m: m.get("READY") == "1")
        ready = next(m for m in manager.messages if m.get("READY") == "1")
        assert ready["STATUS"].startswith(f"rebuilt {tmp_path / 'out'}: 54 feed files updated")
        assert (tmp_path / "out" / "vi" / "rss.xml").is_file()               # READY comes after the first build
        count = len(manager.messages)
        manager.receive(lambda m: sum(x.get("WATCHDOG") == "1" for x in manager.messages[count:]) >= 2)
        write_jsonl(site / "articles" / "zz.jsonl", news(1))
        manager.receive(lambda m: m.get("STATUS", "").startswith(f"rebuilt {tmp_path / 'out'}: 3 feed files"))
        proc.send_signal(signal.SIGHUP)
        manager.receive(lambda m: m.get("RELOADING") == "1")
        reloading = next(i for i, m in enumerate(manager.messages) if m.get("RELOADING") == "1")
        manager.receive(lambda m: m.get("READY") == "1" and manager.messages.index(m) > reloading)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=30)
        manager.receive(lambda m: m.get("STOPPING") == "1")
    finally:
        proc.kill()
        manager.socket.close()
    assert proc.returncode == 0, stderr
    assert stderr == ""
    assert manager.messages[-1] == {"STOPPING": "1"}
    assert stdout.splitlines()[0].startswith(f"rebuilt {tmp_path / 'out'}: 54 feed files updated in ")


def test_a_manager_that_stops_reading_never_stalls_the_watcher(tmp_path):
    """The kernel queues only net.unix.max_dgram_qlen datagrams for a socket nobody reads: past them a
    notification is dropped (False), never waited for, so a stuck manager cannot stop the publishing."""
    from feedpub.sdnotify import Notifier
    manager = Manager()
    notifier = Notifier({"NOTIFY_SOCKET": manager.address})
    queue = int(Path("/proc/sys/net/unix/max_dgram_qlen").read_text())
    sent: list[bool] = []
    sender = threading.Thread(target=lambda: sent.extend(notifier.send(STATUS=f"rebuilt {n}")
                                                         for n in range(queue + 20)), daemon=True)
    try:
        sender.start()
        sender.join(10)
        assert not sender.is_alive(), "send() waited for a manager that does not read"
        assert sent[0] is True and sent[-1] is False
        assert notifier.send(READY=1) is False                     # still full: dropped, said as False
        manager.socket.recv(4096)
        assert notifier.send(READY=1) is True                       # room again: sent
    finally:
        notifier.close()
        manager.socket.close()


def test_sighup_with_a_broken_config_keeps_the_last_good_one_and_says_so_once(tmp_path):
    site = copy_site(tmp_path / "site")
    out = tmp_path / "out"
    proc = start_watch(site, out, "--quiet")
    try:
        wait_until(lambda: (out / "vi" / "rss.xml").is_file(), what="the first build")
        (site / "feedpub.toml").write_text("[site\n", encoding="utf-8")
        time.sleep(0.5)
        proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        write_jsonl(site / "articles" / "zz.jsonl", news(1))
        wait_until(lambda: "Tin nóng số 1" in titles(out), what="a rebuild with the last good config")
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0 and stdout == ""
    [line] = stderr.splitlines()                               # said once: SIGHUP found the same problem
    assert line.startswith("feedpub: rebuild failed: feedpub.toml: not valid TOML: ")
    assert line.endswith("; the last good configuration stays in use")


@pytest.mark.parametrize("option", ["--report", "--metrics"])
def test_report_and_metrics_inside_out_are_refused_as_build_refuses_them(tmp_path, option):
    """watch writes them after every rebuild: inside OUT they could replace a published feed. The same usage
    error as build's (tests/test_out_safety.py), before anything is built."""
    site = copy_site(tmp_path / "site")
    out = tmp_path / "out"
    for rel in (".", "vi/rss.xml"):
        done = subprocess.run([sys.executable, "-m", "feedpub", "watch", "--data", str(site), "--out", str(out),
                               option, str(out / rel)], capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(f"feedpub: {option} {out / rel}: inside the output directory {out}")
        assert not out.exists()


def test_a_bucket_target_is_a_usage_error_not_a_folder_named_s3(tmp_path):
    """watch publishes into a folder it can lock and watch; a bucket (--out, FEEDPUB_OUT or [publish] target)
    is published by build. Said at once, exit 2, nothing made."""
    site = copy_site(tmp_path / "site")
    done = subprocess.run([sys.executable, "-m", "feedpub", "watch", "--data", str(site), "--out", "s3://feeds/vi"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr == ("feedpub: s3://feeds/vi is a bucket target: feedpub watch publishes into a folder on this "
                           "machine (expected --out DIR; a bucket is published by `feedpub build` from the timer)\n")
    assert list(tmp_path.iterdir()) == [tmp_path / "site"]


def test_a_config_that_cannot_be_used_at_the_start_is_exit_3_in_one_line(tmp_path):
    site = copy_site(tmp_path / "site")
    (site / "feedpub.toml").write_text("[site\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "feedpub", "watch", "--data", str(site), "--out", str(tmp_path / "o"),
                           "--report", str(tmp_path / "report.json")], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)
    build = subprocess.run([sys.executable, "-m", "feedpub", "build", "--data", str(site), "--out", str(tmp_path / "o")],
                           capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert (done.returncode, build.returncode) == (3, 3)
    assert done.stderr == build.stderr.replace("feedpub: ", "feedpub: rebuild failed: ", 1)
    assert json.loads((tmp_path / "report.json").read_text())["exit_status"] == 3


def test_a_signal_whose_cleanup_fails_still_stops_the_watcher(tmp_path):
    """SIGTERM's second signal raises Interrupted inside a rebuild; if a cleanup then fails as it unwinds
    (a memoryview still exported), the failure must not pass for a failed rebuild to retry: the
    signal goes on, and the command ends as signalled (143), not 0 after an "internal error"."""
    from feedpub.outcome import Interrupted

    def stopped_midway(site_dir, out_dir):
        try:
            raise Interrupted(signal.SIGTERM)
        finally:
            raise BufferError("memoryview has 10784 exported buffers")

    lines = Lines()
    watcher = Watcher(copy_site(tmp_path / "site"), tmp_path / "out", log=lines.append, build=stopped_midway)
    try:
        with pytest.raises(Interrupted):
            watcher.rebuild()
    finally:
        watcher.close()
    assert lines == []                                             # no "rebuild failed: internal error"


def big_site(tmp_path: Path, records: int = 60_000) -> Path:
    """The sample site's config with enough records that a build takes a second or two."""
    site = copy_site(tmp_path / "site")
    for part in range(4):
        write_jsonl(site / "articles" / f"big-{part}.jsonl",
                    *(record(id=f"big-{part}-{n}", title=f"Tin {part} {n}", url=f"/vi/big-{part}-{n}",
                             published=1_600_000_000 + part * records + n, categories=[f"Mục {n % 7}"])
                      for n in range(records // 4)))
    return site


@pytest.mark.parametrize("signals", [1, 2])
def test_sigterm_during_a_rebuild_leaves_whole_feeds_and_no_lock(tmp_path, signals):
    """One SIGTERM: the rebuild in progress publishes, then exit 0. Two: it stops at once (143). Either
    way every feed file is whole (old or new), no temporary file is left, and the lock is free."""
    site = big_site(tmp_path)
    out = tmp_path / "out"
    proc = start_watch(site, out, "--quiet")
    try:
        time.sleep(0.5)                                        # inside the first build
        for _ in range(signals):
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.05)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    if signals == 1:
        assert (proc.returncode, stderr) == (0, "")
        assert len(titles(out)) == 50                          # published in full
    else:
        assert proc.returncode == 143 and stderr.endswith("feedpub: terminated (SIGTERM): nothing half-published\n")
    for path in out.rglob("*"):
        assert ".feedpub-tmp" not in path.name and not path.name.endswith(".tmp"), path
        if path.suffix == ".xml":
            assert not feedparser.parse(path.read_bytes()).bozo, path
        elif path.name == "feed.json":
            assert json.loads(path.read_bytes())["items"] is not None, path
    assert feedpub.build(site, out, wait=0) is not None        # the lock is free


def test_the_report_and_metrics_are_rewritten_after_every_rebuild(tmp_path):
    from test_monitoring import read_metrics, read_report
    site = copy_site(tmp_path / "site")
    out = tmp_path / "out"
    report, metrics = tmp_path / "report.json", tmp_path / "feedpub.prom"
    proc = start_watch(site, out, "--quiet", "--report", str(report), "--metrics", str(metrics))
    try:
        wait_until(lambda: report.is_file(), what="the first report")
        first = read_report(report)
        assert first["command"] == "build" and first["exit_status"] == 0 and first["files_updated"] > 50
        write_jsonl(site / "articles" / "zz.jsonl", news(1))
        wait_until(lambda: read_report(report)["ended"] != first["ended"], what="the second report")
        second = read_report(report)
        assert sorted(f["path"] for f in second["feeds"] if f["changed"]) == [
            "vi/atom.xml", "vi/feed.json", "vi/rss.xml"]
        samples = read_metrics(metrics)
        newest = {labels["feed"]: value for labels, value in samples["feedpub_feed_newest_item_timestamp_seconds"]}
        assert newest["vi/rss.xml"] == _published(news(1))
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0


def _published(rec: dict) -> float:
    return float(rec["published"])

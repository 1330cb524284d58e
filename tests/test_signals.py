"""Ctrl+C and SIGTERM at any instant of a big build, and the progress line a terminal shows meanwhile.

SIGINT and SIGTERM go to the whole process group, as a terminal's Ctrl+C and systemd's stop do, at ten
instants spread over a 200,000-record full build: never a traceback (the scan workers end silently),
never a hang, exit 130 or 143 with one line, the lock released, no temporary file left, and OUT holding
either the old feeds or the new ones, never a mix.
"""
from __future__ import annotations

import os
import pty
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import BIG_FILES, NOW_ARG, ROOT, published
from feedpub.publish import OutputLock
from feedpub.outcome import MEANINGS

INSTANTS = 10


def feedpub_args(site: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "feedpub", "build", "--data", str(site), "--out", str(out), "--now", NOW_ARG,
            "--quiet", *extra]


@pytest.fixture(scope="module")
def old_and_new(big_site, tmp_path_factory):
    """OUT built without the newest file (old), the full build with it (new, and how long it took)."""
    base = tmp_path_factory.mktemp("signals")
    newest = big_site / "articles" / f"part-{BIG_FILES - 1:02d}.jsonl"
    held = base / newest.name
    shutil.move(newest, held)
    old = base / "old"
    try:
        assert subprocess.run(feedpub_args(big_site, old), cwd=ROOT, timeout=600).returncode == 0
    finally:
        shutil.move(held, newest)
    new = base / "new"
    shutil.copytree(old, new, symlinks=True)
    started = time.monotonic()
    assert subprocess.run(feedpub_args(big_site, new, "--full"), cwd=ROOT, timeout=600).returncode == 0
    duration = time.monotonic() - started
    assert published(old) != published(new)
    return old, published(old), published(new), duration


def leftovers(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*")
                  if p.name.endswith((".feedpub-tmp", ".tmp")) or p.name.endswith(("-journal", "-wal")))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_at_any_instant_ends_the_run_cleanly(big_site, old_and_new, tmp_path, signum):
    old, old_files, new_files, duration = old_and_new
    report = tmp_path / "run.json"
    outcomes = []
    for instant in range(INSTANTS):
        out = tmp_path / f"out{instant}"
        shutil.copytree(old, out, symlinks=True)
        proc = subprocess.Popen(feedpub_args(big_site, out, "--full", "--report", str(report)), cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        time.sleep(0.5 + duration * instant / INSTANTS)                 # past start-up: the handlers are set
        try:
            os.killpg(proc.pid, signum)
        except ProcessLookupError:
            pass
        stdout, stderr = proc.communicate(timeout=120)                  # never a hang
        text = stderr.decode()
        assert "Traceback" not in text and "Error" not in text, (instant, text)
        if proc.returncode == 0:                                       # it had finished before the signal
            assert (stdout, stderr) == (b"", b"")
            assert published(out) == new_files
        else:
            assert proc.returncode == 128 + signum, (instant, proc.returncode, text)
            assert text == f"feedpub: {MEANINGS[128 + signum]}\n", (instant, text)
            assert published(out) in (old_files, new_files), instant       # never a mix
            assert __import__("json").loads(report.read_text())["exit_status"] == 128 + signum
        with OutputLock(out, 0):                                       # released
            pass
        assert leftovers(out) == [], instant
        outcomes.append(proc.returncode)
        shutil.rmtree(out)
    assert outcomes.count(128 + signum) >= INSTANTS // 2, outcomes


def read_pty(argv: list[str], cwd: Path) -> tuple[int, str]:
    """Run argv with stdout and stderr on a pseudo-terminal; (exit status, everything it printed)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(cwd)
        os.execv(argv[0], argv)
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode("utf-8", "replace")


def test_a_long_build_on_a_terminal_shows_its_progress_and_erases_it(big_site, tmp_path):
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "feedpub", "build", "--data", str(big_site), "--out", str(out), "--now", NOW_ARG]
    status, shown = read_pty(argv, ROOT)
    assert status == 0, shown
    progress = re.findall(r"\r\x1b\[K(feedpub: [^\r\n]*)", shown)
    assert progress, shown[-2000:]
    stages = {line.split(":")[1].strip() for line in progress}
    assert "reading records" in stages
    last = progress[-1]
    assert re.fullmatch(r"feedpub: [a-z ]+: [0-9,]+ records read \([0-9,]+/s\), [0-9,]+ files written, [0-9.]+ s", last)
    read = max(int(re.search(r"([0-9,]+) records read", line).group(1).replace(",", "")) for line in progress)
    assert read == 200_000 or read > 0
    assert "\r\x1b[K" + "\r\n" in shown.replace("\r\x1b[K\r\x1b[K", "\r\x1b[K") or shown.count("\r\x1b[K") > len(progress)
    summary = shown.rsplit("\r\x1b[K", 1)[1]                            # erased, then the usual summary
    assert "200000 records, 20 record files read, 0 rejected" in summary.replace("\r\n", "\n")

    quiet_status, quiet = read_pty(argv + ["--full", "--quiet"], ROOT)
    assert (quiet_status, quiet) == (0, "")
    piped = subprocess.run(argv + ["--full"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert piped.returncode == 0 and "\r" not in piped.stderr and "records read" not in piped.stderr

"""One error policy at the edge: whatever the environment does to a run, the exit status says what
happened to the feeds, in one line, never a traceback.

- every output stream (stdout, stderr, --report, --metrics) x {/dev/full, a closed pipe}: the feeds
  are published and the run ends with the status it earned;
- an OSError, a full disk under SQLite, running out of memory: exit 3 naming the path, never
  "internal error";
- a hub's unreadable Retry-After after publishing never changes the exit status.
"""
from __future__ import annotations

import errno
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import NOW_ARG, ROOT, published, record, write_jsonl
from feedpub import outcome

STREAMS = ("stdout", "stderr", "report", "metrics")
SINKS = ("/dev/full", "closed pipe")


def feedpub_process(args, *, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, env=None):
    """The real command with the given streams; (exit status, stdout text or None, stderr text or None)."""
    proc = subprocess.Popen([sys.executable, "-m", "feedpub", *map(str, args)], stdout=stdout, stderr=stderr,
                            stdin=subprocess.DEVNULL, cwd=ROOT, env=env or dict(os.environ, PYTHONWARNINGS="ignore"))
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out.decode() if out is not None else None, err.decode() if err is not None else None


@pytest.fixture
def site_with_a_bad_record(site):
    """The sample site plus one rejected record, so that a build writes to stdout and stderr and exits 1."""
    write_jsonl(site / "articles" / "zz-bad.jsonl", record(id="zz-bad", published="31/02/2021 - 23:30"))
    return site


@pytest.mark.parametrize("sink", SINKS)
@pytest.mark.parametrize("stream", STREAMS)
def test_an_output_stream_that_fails_never_changes_the_outcome(site_with_a_bad_record, tmp_path, stream, sink):
    out = tmp_path / "out"
    reference = tmp_path / "reference"
    assert feedpub_process(["build", "--data", site_with_a_bad_record, "--out", reference, "--now", NOW_ARG])[0] == 1
    args = ["build", "--data", site_with_a_bad_record, "--out", out, "--now", NOW_ARG]
    streams = {}
    read_end = write_end = None
    if sink == "/dev/full":
        target = "/dev/full"
    else:
        read_end, write_end = os.pipe()
        os.close(read_end)                          # the reader has gone, as `| head -1` leaves it
        target = "/dev/stdout"                      # --report/--metrics reach the closed pipe through it
    if stream in ("stdout", "stderr"):
        streams[stream] = open("/dev/full", "wb") if sink == "/dev/full" else write_end
    else:
        args += [f"--{stream}", target]
        if sink == "closed pipe":
            streams["stdout"] = write_end
    try:
        status, stdout, stderr = feedpub_process(args, **streams)
    finally:
        for value in streams.values():
            value.close() if hasattr(value, "close") else os.close(value)
    assert status == 1, stderr                      # published, one record rejected: as without the sink
    assert published(out) == published(reference)
    if stderr is not None:
        assert "Traceback" not in stderr and "internal error" not in stderr, stderr
        lines = stderr.splitlines()
        assert 'articles/zz-bad.jsonl:1: field "published": "31/02/2021 - 23:30" is not a valid date' in stderr
        if stream in ("report", "metrics"):
            assert [line for line in lines if line.startswith("feedpub: warning:")] == [
                f"feedpub: warning: --{stream} {target}: {os.strerror(errno.ENOSPC if sink == '/dev/full' else errno.EPIPE)}"
                f": the {'report was' if stream == 'report' else 'metrics were'} not written"]
        elif stream == "stdout" and sink == "/dev/full":
            assert lines[-1] == ("feedpub: warning: stdout: No space left on device: some output was lost "
                                 "(the run's outcome is unchanged)")
        else:
            assert not any(line.startswith("feedpub: warning") for line in lines), stderr


def test_stdout_closed_by_head_prints_nothing_more_and_keeps_the_status(site, tmp_path):
    """`feedpub build | head -1`: the first line reaches head, the run ends 0, no traceback."""
    result = subprocess.run(f"{sys.executable} -m feedpub build --data {site} --out {tmp_path / 'out'} "
                            f"--now {NOW_ARG} | head -1; echo \"status=${{PIPESTATUS[0]}}\"",
                            shell=True, executable="/bin/bash", capture_output=True, text=True, cwd=ROOT, timeout=120)
    lines = result.stdout.splitlines()
    assert lines == [f"{tmp_path / 'out'}/en/atom.xml: 8 items, updated", "status=0"], result
    assert result.stderr == ""


def test_a_hub_whose_retry_after_is_a_superscript_digit_never_fails_a_published_run(site, tmp_path, start_hub):
    """'²' passes str.isdigit() and fails float(): RFC 9110 allows only ASCII digits (or a date)."""
    hub = start_hub([503], headers={"Retry-After": "²"})
    config = site / "feedpub.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("[site]\n", f'[site]\nhub = "{hub.url}"\n', 1),
                      encoding="utf-8")
    status, stdout, stderr = feedpub_process(["build", "--data", site, "--out", tmp_path / "out", "--now", NOW_ARG],
                                             env=dict(os.environ, no_proxy="*", NO_PROXY="*"))
    assert status == 0, stderr
    assert "internal error" not in stderr
    assert (tmp_path / "out" / "vi" / "rss.xml").is_file()
    assert any(line.startswith("warning: WebSub ping for ") and "HTTP 503" in line for line in stderr.splitlines())


@pytest.mark.parametrize("value, seconds", [("²", 0.0), ("١٢", 0.0), ("7", 7.0), (" 3 ", 3.0), ("-1", 0.0),
                                            ("1.5", 0.0), ("soon", 0.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)])
def test_retry_after_is_delay_seconds_in_ascii_or_an_http_date(value, seconds):
    import email.message
    import urllib.error
    from feedpub.websub import _retry_after     # noqa: PLC2701 - the rule itself, on its own inputs
    headers = email.message.Message()
    headers["Retry-After"] = value
    assert _retry_after(urllib.error.HTTPError("http://hub/", 503, "x", headers, None)) == seconds


# --- the policy itself: every kind of ending has its status and line ----------------------------


ENDINGS = [
    (OSError(errno.ENOSPC, "No space left on device", "/srv/feeds/vi/rss.xml"), 3,
     "feedpub: /srv/feeds/vi/rss.xml: No space left on device; nothing was published"),
    (PermissionError(errno.EACCES, "Permission denied", "/srv/feeds"), 3,
     "feedpub: /srv/feeds: Permission denied; nothing was published"),
    (OSError(errno.EXDEV, "Invalid cross-device link", "/a", None, "/b"), 3,
     "feedpub: /a -> /b: Invalid cross-device link; nothing was published"),
    (sqlite3.OperationalError("database or disk is full"), 3,
     "feedpub: /srv/feeds/.feedpub/state.sqlite: the cache cannot be written: database or disk is full (ENOSPC); "
     "nothing was published"),
    (MemoryError(), 3, "feedpub: out of memory: an input is larger than this machine can hold; nothing was published"),
    (outcome.Interrupted(2), 130, "feedpub: interrupted (SIGINT): nothing half-published"),
    (outcome.Interrupted(15), 143, "feedpub: terminated (SIGTERM): nothing half-published"),
]


@pytest.mark.parametrize("exc, status, line", ENDINGS, ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else None)
def test_every_way_a_run_ends_is_one_status_and_one_line(exc, status, line):
    result = outcome.of_exception(exc, cache="/srv/feeds/.feedpub/state.sqlite")
    assert (result.status, result.lines) == (status, [line])
    assert result.meaning == outcome.MEANINGS[status]


def _raised_while_stopping(signum: int, failure: BaseException) -> BaseException:
    """What a run raises when a signal's unwinding runs a cleanup that fails with `failure` (a memoryview
    still exported, a dead connection): the failure, with the Interrupted as its context."""
    try:
        try:
            raise outcome.Interrupted(signum)
        finally:
            raise failure
    except BaseException as exc:
        return exc


@pytest.mark.parametrize("signum, status", [(2, 130), (15, 143)])
@pytest.mark.parametrize("failure", [exc for exc, _, _ in ENDINGS if not isinstance(exc, outcome.Interrupted)]
                         + [BufferError("memoryview has 1 exported buffer"), RuntimeError("a bug in a cleanup")],
                         ids=lambda exc: type(exc).__name__)
def test_a_cleanup_that_fails_while_a_signal_unwinds_the_run_is_still_the_signal(failure, signum, status):
    raised = _raised_while_stopping(signum, failure)
    assert raised is failure and isinstance(raised.__context__, outcome.Interrupted)
    result = outcome.of_exception(raised, cache="/srv/feeds/.feedpub/state.sqlite")
    assert (result.status, result.lines) == (status, [f"feedpub: {outcome.MEANINGS[status]}"])


def test_every_exit_status_has_a_meaning_and_the_readme_table_lists_it():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Commands and exit status", 1)[1].split("\n## ", 1)[0]
    listed = {int(row.split("|")[1].strip().split("/")[0]) for row in table.splitlines()
              if row.startswith("| ") and row.split("|")[1].strip()[:1].isdigit()}
    listed |= {int(row.split("|")[1].strip().split("/")[1]) for row in table.splitlines()
               if row.startswith("| ") and "/" in row.split("|")[1]}
    assert set(outcome.MEANINGS) == listed


def test_an_oserror_deep_in_a_run_is_exit_3_with_its_path(site, tmp_path):
    """An OSError no layer turned into a FeedpubError still reaches the user as PATH: message, exit 3."""
    code = ("import errno, sys, feedpub.pipeline as p\n"
            "def broken(*a, **k):\n"
            "    raise OSError(errno.EIO, 'Input/output error', '/dev/sdz1/feeds')\n"
            "p.site_files = broken\n"
            "sys.argv = ['feedpub'] + sys.argv[1:]\n"
            "from feedpub.cli import main\nmain()\n")
    result = subprocess.run([sys.executable, "-c", code, "build", "--data", site, "--out", tmp_path / "out"],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert (result.returncode, result.stderr) == (3, "feedpub: /dev/sdz1/feeds: Input/output error; nothing was published\n")


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs (root only): a disk that fills up."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mount], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", "-l", mount], capture_output=True)


def test_a_full_disk_under_an_existing_cache_is_exit_3_naming_the_path(site, small_disk):
    out = small_disk / "out"
    assert feedpub_process(["build", "--data", site, "--out", out, "--now", NOW_ARG, "--quiet"])[0] == 0
    before = published(out)
    filler = small_disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\1" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    write_jsonl(site / "articles" / "zz-new.jsonl",
                *(record(id=f"zz-{n}", title=f"Bài {n} " + "x" * 2000, published="01/01/2024 10:00") for n in range(300)))
    status, stdout, stderr = feedpub_process(["build", "--data", site, "--out", out, "--now", NOW_ARG, "--quiet"])
    assert status == 3, stderr
    assert "internal error" not in stderr and "Traceback" not in stderr
    assert len(stderr.splitlines()) == 1 and stderr.startswith(f"feedpub: {out}"), stderr
    assert "No space left on device" in stderr or "ENOSPC" in stderr
    assert published(out) == before


def test_a_run_report_is_written_after_a_failed_run_too(tmp_path):
    report = tmp_path / "report.json"
    status, _, stderr = feedpub_process(["build", "--data", tmp_path / "nowhere", "--out", tmp_path / "out",
                                         "--report", report])
    assert status == 3
    data = json.loads(report.read_text(encoding="utf-8"))
    assert (data["exit_status"], data["meaning"], data["messages"]) == (3, "nothing published", stderr.splitlines())


def test_a_file_too_big_for_memory_is_that_files_error_and_the_rest_publishes(site, tmp_path):
    """Under a 1.5 GiB address-space limit, a 3 GiB (sparse) record file cannot be read into memory:
    one line for that file, exit 1, every other record published. (The json_file_bytes limit would
    refuse it by its size first: it is raised here so that memory itself runs out.)"""
    with open(site / "feedpub.toml", "a", encoding="utf-8") as config:
        config.write(f"\n[limits]\njson_file_bytes = {4 << 30}\n")
    huge = site / "articles" / "huge.json"
    with open(huge, "wb") as f:
        f.truncate(3 << 30)
    code = ("import resource, sys\n"
            "resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, resource.RLIM_INFINITY))\n"
            "sys.argv = ['feedpub'] + sys.argv[1:]\n"
            "from feedpub.cli import main\nmain()\n")
    result = subprocess.run([sys.executable, "-c", code, "build", "--data", site, "--out", tmp_path / "out",
                             "--now", NOW_ARG, "--quiet"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [
        "articles/huge.json: cannot be read: it is larger than this machine can hold in memory (expected a "
        "readable file)", "feedpub: 1 record rejected; the others were published"]
    assert (tmp_path / "out" / "vi" / "rss.xml").is_file()

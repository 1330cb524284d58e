"""The preview server under slow clients and a changing site: bounded connections and request deadlines
instead of starvation, a watcher that never hangs on a config that is briefly a FIFO, never prints
a config error's control characters raw, and notices a database's new rows."""
from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from http.client import HTTPConnection
from pathlib import Path

import dbhelp
from conftest import DATA, ROOT, record, write_jsonl
from feedpub.watch import SiteWatcher

SLOW_SERVER = """
import resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (64, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
from feedpub.serve import make_server
server = make_server(sys.argv[1], "127.0.0.1", 0, log=None, request_deadline=1.0)
print(server.server_address[1], server.capacity, flush=True)
server.serve_forever(poll_interval=0.1)
"""
SLOW_CLIENTS = 80            # more than the 64 descriptors the server may open
TRICKLE = 0.4                # seconds between two bytes of a slow client's request


def _slow_clients(port: int, stop: threading.Event) -> None:
    """SLOW_CLIENTS connections, each sending its request one byte every TRICKLE seconds, reconnecting
    whenever the server drops it: the attack, scaled down."""
    request = b"GET /vi/rss.xml HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"x" * 200 + b"\r\n\r\n"
    clients: list[list] = [[None, 0] for _ in range(SLOW_CLIENTS)]
    while not stop.is_set():
        for client in clients:
            if client[0] is None:
                try:
                    client[0] = socket.create_connection(("127.0.0.1", port), timeout=0.5)
                    client[0].setblocking(False)
                    client[1] = 0
                except OSError:
                    continue
            try:
                client[0].send(request[client[1] % len(request):][:1])
                client[1] += 1
                try:
                    if client[0].recv(4096) == b"":
                        raise ConnectionError
                except BlockingIOError:
                    pass
            except OSError:
                client[0].close()
                client[0] = None
        stop.wait(TRICKLE)
    for client in clients:
        if client[0] is not None:
            client[0].close()


def _get_until_served(port: int, give_up: float) -> tuple[float, int]:
    """(seconds to the first answer, final status): a normal client, retrying after a 503's Retry-After."""
    started = time.monotonic()
    first = None
    while True:
        conn = HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", "/vi/rss.xml")
            response = conn.getresponse()
            response.read()
            status = response.status
        finally:
            conn.close()
        first = time.monotonic() - started if first is None else first
        if status != 503 or time.monotonic() - started > give_up:
            return first, status
        time.sleep(float(response.getheader("Retry-After", "1")))


def test_slow_clients_beyond_the_descriptors_do_not_starve_normal_gets(tmp_path):
    out = tmp_path / "out"
    assert subprocess.run([sys.executable, "-m", "feedpub", "build", "--data", DATA, "--out", out, "--quiet",
                           "--now", "2026-11-29T19:00:00+07:00"], cwd=ROOT, timeout=120).returncode == 0
    script = tmp_path / "slow_server.py"
    script.write_text(SLOW_SERVER, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script), str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=ROOT)
    stop = threading.Event()
    try:
        port, capacity = map(int, proc.stdout.readline().split())
        assert capacity < SLOW_CLIENTS
        attack = threading.Thread(target=_slow_clients, args=(port, stop), daemon=True)
        attack.start()
        time.sleep(2)                                       # every slot taken, the rest refused or waiting
        for _ in range(3):                                  # three normal GETs while the attack goes on
            first, status = _get_until_served(port, give_up=20)
            assert first < 5, first                         # answered (200 or 503), never left hanging
            assert status == 200
            time.sleep(1)
    finally:
        stop.set()
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
    assert b"Traceback" not in stderr


def _site_with_config(tmp_path: Path) -> Path:
    site = Path(shutil.copytree(DATA, tmp_path / "site"))
    past = time.time() - 3600
    for path in site.rglob("*"):
        os.utime(path, (past, past))
    return site


def _wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_config_that_is_briefly_a_fifo_never_stops_the_watching(tmp_path):
    site = _site_with_config(tmp_path)
    lines: list[str] = []
    watcher = SiteWatcher(site, tmp_path / "out", interval=0.1, log=lines.append)
    watcher.rebuild()
    watcher.start()
    config = site / "feedpub.toml"
    text = config.read_text(encoding="utf-8")
    try:
        config.unlink()
        os.mkfifo(config)
        _wait_for(lambda: any("is a FIFO" in line for line in lines))
        assert lines[-1] == (f"feedpub: rebuild failed: {config}: is a FIFO (expected a regular file); "
                             "the last good configuration stays in use")
        config.unlink()
        config.write_text(text.replace("Tin Long An", "Tin Long An mới", 1), encoding="utf-8")
        count = len(lines)
        _wait_for(lambda: any(line.startswith("rebuilt ") for line in lines[count:]))
        assert watcher._thread.is_alive() and watcher.last_error is None
    finally:
        watcher.stop()


def test_a_config_error_is_printed_escaped_by_the_watcher_as_by_build(tmp_path):
    site = _site_with_config(tmp_path)
    config = site / "feedpub.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "[site]\n", '[site]\n"max\\u001b[2J\\u0007items" = 3\n', 1), encoding="utf-8")
    build = subprocess.run([sys.executable, "-m", "feedpub", "build", "--data", site, "--out", tmp_path / "o"],
                           capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert build.returncode == 3
    lines: list[str] = []
    SiteWatcher(site, tmp_path / "out", log=lines.append).rebuild()
    assert lines == [build.stderr.rstrip("\n").replace("feedpub: ", "feedpub: rebuild failed: ", 1)]
    assert "\x1b" not in lines[0] and "\x07" not in lines[0] and "\\x1b" in lines[0]


def test_serve_watch_notices_a_row_added_to_its_database(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    cms = tmp_path / "db" / "cms.db"            # outside the site: only the database changes
    cms.parent.mkdir()
    rows = [record(id=f"vi-{n}", title=f"Tin {n}", published=f"0{n}/12/2021 - 08:00") for n in range(1, 4)]
    dbhelp.sqlite_table(cms, rows)
    (site / "feedpub.toml").write_text((DATA / "feedpub.toml").read_text(encoding="utf-8")
                                       + f'\n[source]\nurl = "sqlite:///{cms}"\ntable = "feed_articles"\n',
                                       encoding="utf-8")
    out = tmp_path / "out"
    lines: list[str] = []
    watcher = SiteWatcher(site, out, interval=0.1, log=lines.append, database_interval=0.5)
    watcher.rebuild()
    import feedparser
    assert len(feedparser.parse((out / "vi" / "rss.xml").read_bytes()).entries) == 3
    watcher.start()
    try:
        time.sleep(1.5)
        assert [line for line in lines if line.startswith("rebuilt")] == lines[:1]     # quiet while nothing changes
        with sqlite3.connect(cms) as conn:
            conn.execute(f"INSERT INTO feed_articles ({', '.join(dbhelp.FIELDS)}) VALUES "
                         f"({', '.join('?' * len(dbhelp.FIELDS))})",
                         tuple(dbhelp.text_row(record(id="vi-4", title="Tin 4", published="04/12/2021 - 08:00"))[f]
                               for f in dbhelp.FIELDS))
        conn.close()
        _wait_for(lambda: len(feedparser.parse((out / "vi" / "rss.xml").read_bytes()).entries) == 4, timeout=20)
        assert feedparser.parse((out / "vi" / "rss.xml").read_bytes()).entries[0].title == "Tin 4"
    finally:
        watcher.stop()


def test_ctrl_c_ends_a_preview_quietly(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "feedpub", "serve", str(out), "--port", "0"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().startswith(b"Serving ")
    proc.send_signal(2)
    stdout, stderr = proc.communicate(timeout=30)
    assert (proc.returncode, stderr) == (0, b"")

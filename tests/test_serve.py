"""feedpub serve: a real server on an ephemeral 127.0.0.1 port, real HTTP requests (http.client)."""
from __future__ import annotations

import asyncio
import errno
import gzip
import json
import os
import resource
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from email.utils import formatdate, parsedate_to_datetime
from http.client import HTTPConnection
from pathlib import Path

import pytest

import feedpub
from feedpub.serve import IDLE_TIMEOUT, RETRY_AFTER, SiteWatcher, content_type, make_server, wants_page

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
SECRET = "top secret: outside OUT"
BROWSER_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
                  "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7")
READER_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"


def _record(**fields) -> dict:
    base = {"id": "vi-serve-test", "lang": "vi", "title": "Bài mới để thử máy chủ", "url": "/vi/bai-moi.html",
            "published": "2022-01-20T08:00:00+07:00", "summary": "Tóm tắt.", "content": "<p>Nội dung.</p>"}
    base.update(fields)
    return base


def _write_record(site: Path, name: str, record: dict) -> None:
    path = site / "articles" / name
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")


class Served:
    """A running server and a way to talk to it."""

    def __init__(self, server, site: Path, out: Path, tmp: Path):
        self.server, self.site, self.out, self.tmp = server, site, out, tmp
        self.port = server.server_address[1]

    def request(self, method: str, path: str, headers: dict | None = None):
        conn = HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for key, value in (headers or {}).items():
                conn.putheader(key, value)
            conn.endheaders()
            response = conn.getresponse()
            body = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, body
        finally:
            conn.close()

    def get(self, path: str, **headers):
        return self.request("GET", path, {k.replace("_", "-"): v for k, v in headers.items()})


def _start(out: Path, **kwargs):
    server = make_server(out, "127.0.0.1", 0, log=None, **kwargs)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    return server, thread


def _stop(server, thread) -> None:
    server.shutdown()
    server.server_close()
    thread.join(10)


def _wait_for(predicate, timeout: float = 30.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout:g} s")
        time.sleep(0.05)


def _hang_up(sock: socket.socket) -> None:
    """Close with a reset, as a client that crashes or is killed does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class _ServeProcess:
    """`python -m feedpub serve OUT --port 0` (or another script) in its own process, its stderr in a file."""

    def __init__(self, args: list[str], tmp: Path):
        self.stderr_path = tmp / "serve-stderr.txt"
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen([sys.executable, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._stderr, cwd=ROOT, env=dict(os.environ, PYTHONWARNINGS="ignore"))
        line = self.proc.stdout.readline().decode()
        if not line:
            self.close()
            pytest.fail(f"the server did not start: {self.stderr}")
        self.port = int(line.rsplit(":", 1)[1].split("/")[0]) if "http://" in line else int(line)

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def threads(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/task"))

    def get(self, path: str, method: str = "GET"):
        conn = HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path)
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)
        self.proc.stdout.close()
        self.proc.stdin.close()
        self._stderr.close()


@pytest.fixture
def serve_cli(built, tmp_path):
    """The real command serving a copy of the built OUT."""
    out = Path(shutil.copytree(built / "public", tmp_path / "public"))
    started = []

    def start(*extra: str) -> _ServeProcess:
        process = _ServeProcess(["-m", "feedpub", "serve", str(out), "--port", "0", *extra], tmp_path)
        started.append(process)
        return process

    start.out = out
    yield start
    for process in started:
        process.close()


@pytest.fixture
def descriptors():
    """Raise the soft descriptor limit for one test (children inherit it); skip when the hard limit is lower."""
    before = resource.getrlimit(resource.RLIMIT_NOFILE)

    def at_least(count: int) -> None:
        soft, hard = before
        if soft != resource.RLIM_INFINITY and soft < count:
            if hard != resource.RLIM_INFINITY and hard < count:
                pytest.skip(f"needs {count} file descriptors; the hard limit is {hard}")
            resource.setrlimit(resource.RLIMIT_NOFILE, (count, hard))

    yield at_least
    resource.setrlimit(resource.RLIMIT_NOFILE, before)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The sample site and its OUT, built once; each test serves its own copy."""
    base = tmp_path_factory.mktemp("serve")
    site = Path(shutil.copytree(DATA, base / "site"))
    feedpub.build(site, base / "public", now=NOW)
    return base


@pytest.fixture
def served(built, tmp_path):
    site = Path(shutil.copytree(built / "site", tmp_path / "site"))
    out = Path(shutil.copytree(built / "public", tmp_path / "public"))
    (tmp_path / "secret.txt").write_text(SECRET, encoding="utf-8")
    server, thread = _start(out)
    try:
        yield Served(server, site, out, tmp_path)
    finally:
        _stop(server, thread)


# --- media types ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path, expected", [
    ("/vi/rss.xml", "application/rss+xml; charset=utf-8"),
    ("/en/atom.xml", "application/atom+xml; charset=utf-8"),
    ("/vi/feed.json", "application/feed+json; charset=utf-8"),
    ("/vi/categories/dan-van/rss.xml", "application/rss+xml; charset=utf-8"),
    ("/feed.css", "text/css; charset=utf-8"),
    ("/vi/index.html", "text/html; charset=utf-8"),
    ("/", "text/html; charset=utf-8"),
    ("/feeds.opml", "text/x-opml; charset=utf-8"),
])
def test_content_types(served, path, expected):
    status, headers, body = served.get(path)
    assert status == 200
    assert headers["content-type"] == expected
    assert headers["x-content-type-options"] == "nosniff"
    on_disk = served.out / (path.lstrip("/") or "index.html")
    assert body == on_disk.read_bytes()
    assert int(headers["content-length"]) == len(body)


def test_feed_readers_get_feed_types_and_browsers_get_xml_they_render(served):
    status, headers, body = served.get("/vi/rss.xml", Accept=READER_ACCEPT)
    assert headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert "Accept" in headers["vary"]
    status, headers, browser_body = served.get("/vi/rss.xml", Accept=BROWSER_ACCEPT)
    assert status == 200 and browser_body == body            # the same bytes, with its stylesheet PI
    assert headers["content-type"] == "application/xml; charset=utf-8"
    assert served.get("/en/atom.xml", Accept=BROWSER_ACCEPT)[1]["content-type"] == "application/xml; charset=utf-8"
    assert served.get("/vi/feed.json", Accept=BROWSER_ACCEPT)[1]["content-type"] == "application/json; charset=utf-8"
    assert served.get("/vi/index.html", Accept=BROWSER_ACCEPT)[1]["content-type"] == "text/html; charset=utf-8"


def test_content_type_and_negotiation_rules():
    assert content_type("rss.xml") == "application/rss+xml; charset=utf-8"
    assert content_type("ATOM.XML") == "application/atom+xml; charset=utf-8"
    assert content_type("photo.jpg") == "image/jpeg"
    assert content_type("unknown.bin") == "application/octet-stream"
    assert wants_page(BROWSER_ACCEPT, "rss.xml")
    assert not wants_page(READER_ACCEPT, "rss.xml")
    assert not wants_page("text/html, application/atom+xml", "atom.xml")
    assert not wants_page(None, "rss.xml") and not wants_page("*/*", "rss.xml")
    assert not wants_page(BROWSER_ACCEPT, "index.html")


# --- directories ---------------------------------------------------------------------------------


def test_directory_serves_its_index_and_redirects_without_slash(served):
    status, headers, body = served.get("/vi/")
    assert status == 200 and body == (served.out / "vi" / "index.html").read_bytes()
    status, headers, body = served.get("/vi/categories/dan-van")
    assert status == 301 and headers["location"] == "/vi/categories/dan-van/"
    status, _, _ = served.get("/vi/categories/")             # no index.html, no listing
    assert status == 404
    assert served.get("/nope.xml")[0] == 404


# --- validators ----------------------------------------------------------------------------------


def test_etag_last_modified_and_304(served):
    status, headers, body = served.get("/vi/rss.xml")
    assert status == 200
    etag, last_modified = headers["etag"], headers["last-modified"]
    assert etag.startswith('"') and etag.endswith('"')
    mtime = (served.out / "vi" / "rss.xml").stat().st_mtime
    assert parsedate_to_datetime(last_modified).timestamp() == int(mtime)

    status, headers, body = served.get("/vi/rss.xml", If_None_Match=etag)
    assert (status, body) == (304, b"")
    assert headers["etag"] == etag and headers["last-modified"] == last_modified

    assert served.get("/vi/rss.xml", If_None_Match=f'"other", W/{etag}')[0] == 304
    assert served.get("/vi/rss.xml", If_None_Match='"other"')[0] == 200

    status, _, body = served.get("/vi/rss.xml", If_Modified_Since=last_modified)
    assert (status, body) == (304, b"")
    older = formatdate(mtime - 3600, usegmt=True)
    assert served.get("/vi/rss.xml", If_Modified_Since=older)[0] == 200
    assert served.get("/vi/rss.xml", If_Modified_Since="not a date")[0] == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110).
    assert served.get("/vi/rss.xml", If_None_Match='"other"', If_Modified_Since=last_modified)[0] == 200


def test_conditional_get_after_a_rebuild_that_changed_the_feed(served):
    _, before, old_body = served.get("/vi/rss.xml")
    _, css, _ = served.get("/feed.css")
    assert served.get("/vi/rss.xml", If_None_Match=before["etag"])[0] == 304

    _write_record(served.site, "zz-new.jsonl", _record())
    report = feedpub.build(served.site, served.out, now=NOW)
    assert "vi/rss.xml" in report.changed

    status, after, new_body = served.get("/vi/rss.xml", If_None_Match=before["etag"])
    assert status == 200
    assert new_body != old_body and new_body == (served.out / "vi" / "rss.xml").read_bytes()
    assert "Bài mới để thử máy chủ".encode() in new_body
    assert after["etag"] != before["etag"]
    assert served.get("/vi/rss.xml", If_None_Match=after["etag"])[0] == 304
    # A file the rebuild did not touch keeps its validator.
    assert served.get("/feed.css", If_None_Match=css["etag"])[0] == 304


# --- what must never be served -------------------------------------------------------------------


@pytest.mark.parametrize("path", [
    "/../secret.txt",
    "/vi/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E/secret.txt",
    "/vi/%2e%2e/%2e%2e/secret.txt",
    "/%2e%2e%2fsecret.txt",
    "/..%2fsecret.txt",
    "/vi/..%2f..%2fsecret.txt",
    "/./../secret.txt",
])
def test_path_traversal_is_refused(served, path):
    status, _, body = served.get(path)
    assert status in (403, 404)
    assert SECRET.encode() not in body


def test_bad_request_paths(served):
    assert served.get("/%00/etc")[0] == 400
    assert served.get("/%ff.xml")[0] == 400
    assert served.get("/vi\\..\\..\\secret.txt")[0] in (400, 404)


def test_symlinks_leading_outside_out_are_refused(served):
    (served.out / "leak.txt").symlink_to(served.tmp / "secret.txt")
    (served.out / "leakdir").symlink_to(served.tmp, target_is_directory=True)
    (served.out / "vi" / "alias.xml").symlink_to(served.out / "vi" / "rss.xml")   # inside: fine
    for path in ("/leak.txt", "/leakdir/secret.txt", "/leakdir/"):
        status, _, body = served.get(path)
        assert status == 403, path
        assert SECRET.encode() not in body
    status, _, body = served.get("/vi/alias.xml")
    assert status == 200 and body == (served.out / "vi" / "rss.xml").read_bytes()


def test_hidden_files_and_directories_are_refused(served):
    (served.out / "vi" / ".draft.xml").write_text("<rss/>", encoding="utf-8")
    assert (served.out / ".feedpub").is_dir()
    for path in ("/.feedpub/state.sqlite", "/.feedpub/", "/.feedpub.lock", "/vi/.draft.xml", "/%2efeedpub/state.sqlite"):
        status, _, body = served.get(path)
        assert status == 404, path
        assert b"SQLite" not in body


def test_only_get_and_head(served):
    assert served.request("POST", "/vi/rss.xml")[0] == 501
    assert served.request("DELETE", "/vi/rss.xml")[0] == 501


# --- encodings and HEAD --------------------------------------------------------------------------


def test_gzip_decodes_to_the_same_bytes(served):
    for path in ("/vi/rss.xml", "/en/atom.xml", "/vi/feed.json", "/vi/", "/feeds.opml", "/feed.css"):
        _, plain_headers, plain = served.get(path)
        status, headers, body = served.get(path, Accept_Encoding="gzip, deflate, br")
        assert status == 200
        assert headers["content-encoding"] == "gzip"
        assert "Accept-Encoding" in headers["vary"]
        assert int(headers["content-length"]) == len(body) < len(plain)
        assert gzip.decompress(body) == plain
        assert headers["etag"] != plain_headers["etag"]
        assert "content-encoding" not in plain_headers and "Accept-Encoding" in plain_headers["vary"]
    status, headers, body = served.get("/vi/rss.xml", Accept_Encoding="gzip;q=0, identity")
    assert "content-encoding" not in headers and body == (served.out / "vi" / "rss.xml").read_bytes()
    # A gzip validator is good for a later identity request of the same bytes, and back.
    _, headers, _ = served.get("/vi/rss.xml", Accept_Encoding="gzip")
    assert served.get("/vi/rss.xml", If_None_Match=headers["etag"])[0] == 304


def test_head_has_headers_and_no_body(served):
    _, get_headers, get_body = served.get("/vi/rss.xml")
    status, headers, body = served.request("HEAD", "/vi/rss.xml")
    assert status == 200 and body == b""
    assert headers["content-length"] == str(len(get_body))
    assert headers["content-type"] == get_headers["content-type"]
    assert headers["etag"] == get_headers["etag"]
    status, headers, body = served.request("HEAD", "/vi/rss.xml", {"Accept-Encoding": "gzip"})
    assert status == 200 and body == b"" and headers["content-encoding"] == "gzip"
    status, _, body = served.request("HEAD", "/.feedpub/state.sqlite")
    assert status == 404 and body == b""


def test_keep_alive_connection_serves_several_requests(served):
    conn = HTTPConnection("127.0.0.1", served.port, timeout=10)
    try:
        for path in ("/vi/rss.xml", "/vi/atom.xml", "/feed.css"):
            conn.request("GET", path)
            response = conn.getresponse()
            assert response.status == 200
            assert response.read() == (served.out / path.lstrip("/")).read_bytes()
    finally:
        conn.close()


# --- watch ---------------------------------------------------------------------------------------


def test_watch_builds_then_rebuilds_when_the_site_changes(tmp_path):
    site = Path(shutil.copytree(DATA, tmp_path / "site"))
    out = tmp_path / "public"
    server, thread = _start(out, watch_site=site, interval=0.2)
    try:
        served = Served(server, site, out, tmp_path)
        status, _, body = served.get("/vi/rss.xml")
        assert status == 200                                  # built before serving
        assert "Tin vừa sửa khi đang xem thử".encode() not in body
        _write_record(site, "zz-watch.jsonl", _record(id="vi-watch", title="Tin vừa sửa khi đang xem thử",
                                                      published="2021-12-31T08:00:00+07:00"))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            status, _, body = served.get("/vi/rss.xml")
            if "Tin vừa sửa khi đang xem thử".encode() in body:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the feed was not rebuilt after the site changed")
        assert server.watcher.builds >= 2 and server.watcher.last_error is None
        page = served.get("/vi/")[2].decode("utf-8")
        assert "Tin vừa sửa khi đang xem thử" in page
    finally:
        _stop(server, thread)
    assert not server.watcher._thread.is_alive()


def test_watch_reports_a_broken_config_and_keeps_serving(tmp_path):
    site = Path(shutil.copytree(DATA, tmp_path / "site"))
    out = tmp_path / "public"
    server, thread = _start(out, watch_site=site, interval=0.2)
    try:
        served = Served(server, site, out, tmp_path)
        _, _, before = served.get("/vi/rss.xml")
        (site / "feedpub.toml").write_text("[site\n", encoding="utf-8")
        deadline = time.monotonic() + 20
        while server.watcher.last_error is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "feedpub.toml" in server.watcher.last_error
        assert served.get("/vi/rss.xml")[2] == before
    finally:
        _stop(server, thread)


class _Lines(list):
    """A log that tests can wait on."""

    def after(self, index: int, text: str) -> int | None:
        """The index of the first line from `index` on that holds text."""
        return next((i for i in range(index, len(self)) if text in self[i]), None)


def test_watch_reports_a_failed_rebuild_in_one_line_and_rebuilds_after_the_fix(tmp_path, capsys):
    site = Path(shutil.copytree(DATA, tmp_path / "site"))
    out = tmp_path / "public"
    config = (site / "feedpub.toml").read_text(encoding="utf-8")
    lines = _Lines()
    server = make_server(out, "127.0.0.1", 0, site, log=lines.append, interval=0.1)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    served = Served(server, site, out, tmp_path)
    try:
        (site / "feedpub.toml").write_text("[site\n", encoding="utf-8")
        _wait_for(lambda: lines.after(0, "rebuild failed") is not None, what="the failure being reported")
        failed = lines.after(0, "rebuild failed")
        assert lines[failed].startswith("feedpub: rebuild failed: ") and "feedpub.toml" in lines[failed]
        assert server.watcher.last_error is not None

        # Broken another way: a control character in a feed title (a failure deep in rendering).
        title = 'title = "Tin Long An - Tin mới nhất"'
        assert title in config
        (site / "feedpub.toml").write_text(config.replace(title, 'title = "Tin Long An\\u0001"'), encoding="utf-8")
        _wait_for(lambda: lines.after(failed + 1, "rebuild failed") is not None, what="the second failure")
        failed = lines.after(failed + 1, "rebuild failed")
        assert lines[failed].startswith("feedpub: rebuild failed: ")

        (site / "feedpub.toml").write_text(config, encoding="utf-8")
        _write_record(site, "zz-fixed.jsonl", _record(id="vi-fixed", title="Tin sau khi sửa cấu hình",
                                                      published="2021-12-31T08:00:00+07:00"))
        _wait_for(lambda: lines.after(failed, "rebuilt") is not None, what="a rebuild after the fix")
        assert "Tin sau khi sửa cấu hình".encode() in served.get("/vi/rss.xml")[2]
        assert server.watcher.last_error is None and server.watcher._thread.is_alive()
    finally:
        _stop(server, thread)
    assert not any("Traceback" in line for line in lines)
    assert "Traceback" not in capsys.readouterr().err


def test_watch_survives_an_internal_error_in_a_rebuild(tmp_path, capsys):
    site = Path(shutil.copytree(DATA, tmp_path / "site"))
    out = tmp_path / "public"
    feedpub.build(site, out, now=NOW)
    calls = []

    def flaky(site_dir, out_dir):
        calls.append(site_dir)
        if len(calls) == 1:
            raise OverflowError("date value out of range\x1b[2J")
        return feedpub.build(site_dir, out_dir)

    lines = _Lines()
    watcher = SiteWatcher(site, out, interval=0.1, log=lines.append, build=flaky)
    watcher.start()
    try:
        _write_record(site, "zz-one.jsonl", _record(id="vi-one"))
        _wait_for(lambda: lines.after(0, "rebuild failed") is not None, what="the failure being reported")
        failed = lines.after(0, "rebuild failed")
        assert lines[failed] == ("feedpub: rebuild failed: internal error: OverflowError: date value out of range"
                                 "\\x1b[2J (set FEEDPUB_DEBUG=1 for details)")
        _write_record(site, "zz-two.jsonl", _record(id="vi-two", title="Tin thứ hai"))
        _wait_for(lambda: lines.after(failed, "rebuilt") is not None, what="the next change being built")
        assert watcher._thread.is_alive() and watcher.last_error is None
    finally:
        watcher.stop()
    assert not watcher._thread.is_alive()
    assert len(lines) == len([line for line in lines if "Traceback" not in line])
    assert "Traceback" not in capsys.readouterr().err


# --- bursts, idle clients, hang-ups, files that cannot be opened ---------------------------------


BURST = 1000


async def _burst(port: int, path: str, count: int, timeout: float) -> list[bytes | BaseException]:
    """count connections opened at once, each sending one GET and reading the whole answer."""
    async def one() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            return await reader.read()
        finally:
            writer.close()

    return await asyncio.gather(*(asyncio.wait_for(one(), timeout) for _ in range(count)), return_exceptions=True)


def test_a_burst_of_concurrent_gets_is_answered_in_full(serve_cli, descriptors):
    descriptors(2 * BURST + 500)               # the client's sockets here, the server's in its process
    server = serve_cli()
    expected = (serve_cli.out / "vi" / "rss.xml").read_bytes()
    started = time.monotonic()
    answers = asyncio.run(_burst(server.port, "/vi/rss.xml", BURST, timeout=120))
    elapsed = time.monotonic() - started
    failed = [a for a in answers if isinstance(a, BaseException)]
    answered = [a for a in answers if isinstance(a, bytes) and a.startswith(b"HTTP/1.1 200 ")
                and a.endswith(b"\r\n\r\n" + expected)]
    assert not failed and len(answered) == BURST, (len(answered), failed[:3])
    # With socketserver's backlog of 5 most connections waited for SYN retransmissions (1 s, 3 s,
    # 7 s, ...) and a quarter of them outlasted a 10 s client timeout; the burst takes ~1 s now.
    assert elapsed < 60, elapsed
    assert "Traceback" not in server.stderr


def test_an_idle_client_is_disconnected_and_the_others_are_served(served, capsys):
    assert make_server(served.out, "127.0.0.1", 0, log=None).idle_timeout == IDLE_TIMEOUT == 30
    lines: list[str] = []
    server, thread = _start(served.out, idle_timeout=0.5)
    server.log = lines.append
    port = server.server_address[1]
    try:
        silent = socket.create_connection(("127.0.0.1", port), timeout=30)
        halfway = socket.create_connection(("127.0.0.1", port), timeout=30)
        halfway.sendall(b"GET /vi/rss.xml HT")
        started = time.monotonic()
        for _ in range(3):                       # others are served while those two sit there
            conn = HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/vi/atom.xml")
            assert conn.getresponse().status == 200
            conn.close()
        assert silent.recv(1024) == b""          # closed by the server, not by this client's 30 s timeout
        assert halfway.recv(1024) == b""
        assert time.monotonic() - started < 20
        silent.close()
        halfway.close()
    finally:
        _stop(server, thread)
    assert not any("Traceback" in line for line in lines)
    assert "Traceback" not in capsys.readouterr().err


def test_clients_hanging_up_mid_answer_never_print_a_traceback(serve_cli):
    big = serve_cli.out / "big.bin"
    big.write_bytes(b"x" * (32 << 20))          # larger than any socket buffer: the server is mid-write
    server = serve_cli()
    idle = server.threads()
    for _ in range(10):
        for close in (_hang_up, socket.socket.close):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(64).startswith(b"HTTP/1.1 200")
            close(sock)
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        sock.sendall(b"GET /vi/rss.xml HT")      # hangs up in the middle of its request
        _hang_up(sock)
        socket.create_connection(("127.0.0.1", server.port), timeout=30).close()
    assert server.get("/vi/rss.xml")[0] == 200
    _wait_for(lambda: server.threads() <= idle, what="every connection's thread ending")
    assert server.get("/vi/atom.xml")[0] == 200
    stderr = server.stderr
    assert "GET /big.bin" in stderr                # the requests were logged ...
    for sign in ("Traceback", "Error", "Exception"):
        assert sign not in stderr                   # ... their hang-ups were not


def test_the_log_escapes_control_characters_from_requests(served):
    lines: list[str] = []
    served.server.log = lines.append
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as sock:
        sock.sendall(b"GET /\x1b[2Jx\r HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        while sock.recv(65536):
            pass
    assert lines and all("\x1b" not in line and "\r" not in line for line in lines)
    assert any("\\x1b[2Jx\\x0d" in line for line in lines), lines


@pytest.mark.parametrize("code", [errno.EMFILE, errno.ENFILE, errno.EACCES, errno.EIO])
def test_a_file_that_exists_but_cannot_be_opened_is_503_not_404(served, monkeypatch, code):
    def cannot_open(path, compress):
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(served.server.cache, "get", cannot_open)
    status, headers, body = served.get("/vi/rss.xml")
    assert status == 503
    assert headers["retry-after"] == str(RETRY_AFTER)
    assert headers["connection"] == "close"
    assert b"<rss" not in body
    status, headers, body = served.request("HEAD", "/vi/")
    assert (status, body) == (503, b"") and headers["retry-after"] == str(RETRY_AFTER)


def test_a_file_gone_between_lookup_and_open_is_still_404(served, monkeypatch):
    def gone(path, compress):
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))

    monkeypatch.setattr(served.server.cache, "get", gone)
    assert served.get("/vi/rss.xml")[0] == 404


OUT_OF_DESCRIPTORS = """
import os, resource, sys, threading
from feedpub.serve import make_server

server = make_server(sys.argv[1], "127.0.0.1", 0)
resource.setrlimit(resource.RLIMIT_NOFILE, (128, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
hog = []
try:
    while True:
        hog.append(os.open(os.devnull, os.O_RDONLY))
except OSError:
    pass
os.close(hog.pop())             # one descriptor left: enough to accept a connection, not to open a file


def release():
    sys.stdin.readline()
    while hog:
        os.close(hog.pop())


threading.Thread(target=release, daemon=True).start()
print(server.server_address[1], flush=True)
server.serve_forever(poll_interval=0.1)
"""


def test_out_of_file_descriptors_answers_503_then_recovers(serve_cli, tmp_path):
    script = tmp_path / "out_of_descriptors.py"
    script.write_text(OUT_OF_DESCRIPTORS, encoding="utf-8")
    server = _ServeProcess([str(script), str(serve_cli.out)], tmp_path)
    try:
        status, headers, body = server.get("/vi/rss.xml")
        assert status == 503 and headers["retry-after"] == str(RETRY_AFTER)
        assert "cannot open /vi/rss.xml: Too many open files" in server.stderr
        server.proc.stdin.write(b"release\n")
        server.proc.stdin.flush()
        _wait_for(lambda: server.get("/vi/rss.xml")[0] == 200, what="a 200 once descriptors are free")
        assert server.get("/vi/rss.xml")[2] == (serve_cli.out / "vi" / "rss.xml").read_bytes()
        assert "Traceback" not in server.stderr
    finally:
        server.close()


# --- the command ---------------------------------------------------------------------------------


def test_cli_serve_refuses_a_missing_directory(tmp_path):
    result = subprocess.run([sys.executable, "-m", "feedpub", "serve", str(tmp_path / "missing"), "--port", "0"],
                            capture_output=True, text=True, timeout=60, cwd=ROOT,
                            env=dict(os.environ, PYTHONWARNINGS="ignore"))
    assert result.returncode == 3
    assert "not a directory" in result.stderr


def test_cli_serve_refuses_a_busy_port(served):
    result = subprocess.run([sys.executable, "-m", "feedpub", "serve", str(served.out), "--port", str(served.port)],
                            capture_output=True, text=True, timeout=60, cwd=ROOT,
                            env=dict(os.environ, PYTHONWARNINGS="ignore"))
    assert result.returncode == 3
    assert "cannot listen" in result.stderr

"""feedpub serve: a real server on an ephemeral 127.0.0.1 port, real HTTP requests (http.client)."""
from __future__ import annotations

import gzip
import json
import os
import shutil
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
from feedpub.serve import content_type, make_server, wants_page

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

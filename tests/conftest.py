"""Shared fixtures: a clean environment, a fixed clock, copies of the sample sites, the real CLI."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
FIXTURE = ROOT / "tests" / "fixtures" / "site"
EXPECTED = ROOT / "tests" / "fixtures" / "expected"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)       # after every sample article but the scheduled one
NOW_ARG = "2026-11-29T19:00:00+07:00"                           # the same instant, as the CLI takes it


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch):
    """A parser or formatter that leans on the machine's zone or locale fails here, not in production."""
    monkeypatch.setenv("TZ", "America/New_York")
    monkeypatch.setenv("LANG", "C")
    monkeypatch.delenv("LC_ALL", raising=False)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def site(tmp_path) -> Path:
    """A private copy of the bundled sample site."""
    return Path(shutil.copytree(DATA, tmp_path / "site"))


@pytest.fixture
def fixture_site(tmp_path) -> Path:
    return Path(shutil.copytree(FIXTURE, tmp_path / "fixture"))


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """The installed command as a user runs it."""
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    return subprocess.run([sys.executable, "-m", "feedpub", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=timeout, env=env)


def write_jsonl(path: Path, *records: dict) -> Path:
    import json
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def record(**fields) -> dict:
    """A valid Vietnamese record, with fields overridden."""
    base = {"id": "vi-test", "lang": "vi", "title": "Bài thử", "url": "/vi/bai-thu",
            "published": "02/12/2021 - 23:30", "summary": "Tóm tắt.", "content": "<p>Nội dung.</p>"}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not ...}


def published(out: Path) -> dict[str, bytes]:
    """Every published file of OUT (not the lock or the cache) -> bytes."""
    result = {}
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out).as_posix()
        if path.is_file() and not rel.startswith(".feedpub"):
            result[rel] = path.read_bytes()
    return result


def index_rows(state: Path) -> dict[str, list]:
    """Every row of the record index, with file paths in place of the cache's own file numbers."""
    db = sqlite3.connect(state)
    try:
        tables = {}
        for table, columns in (("records", "line, offset, id, key, lang, ts"),
                               ("cands", "line, lang, cat, offset, ts, id"), ("floors", "lang, cat, ts, id")):
            tables[table] = sorted(db.execute(f"SELECT f.path, {columns} FROM {table} t JOIN files f USING (fid)"))
        tables["files"] = sorted(db.execute("SELECT path, records, report FROM files"))
        tables["dups"] = sorted(db.execute("SELECT id FROM dups"))
        return tables
    finally:
        db.close()


def copy_site(dest: Path) -> Path:
    """A copy of the sample site whose files all carry an mtime well in the past."""
    shutil.copytree(DATA, dest)
    past = time.time() - 7200
    for path in dest.rglob("*"):
        os.utime(path, (past, past))
    return dest


# --- a real WebSub hub endpoint on 127.0.0.1 ----------------------------------------------------


class Hub:
    """A scripted hub: answers statuses in order (the last one repeats) and records every POST.

    headers are sent with every answer (Retry-After, say); delay: seconds it sits on a request before
    answering (a hung hub: a long delay); drip: seconds between the bytes of an answer that never ends.
    Stopping the hub (release) ends delays and drips.
    """

    def __init__(self, statuses: list[int], headers: dict[str, str] | None = None, delay: float = 0.0,
                 drip: float = 0.0):
        self.statuses = list(statuses)
        self.headers = headers or {}
        self.delay = delay
        self.drip = drip
        self.release = threading.Event()
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.url = ""

    def next_status(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]


@pytest.fixture
def no_proxy(monkeypatch):
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("NO_PROXY", "*")


@pytest.fixture
def start_hub(no_proxy) -> Iterator[Callable[..., Hub]]:
    servers: list[tuple[ThreadingHTTPServer, threading.Thread, Hub]] = []

    def start(statuses: list[int], **kwargs) -> Hub:
        hub = Hub(statuses, **kwargs)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length).decode("ascii")
                with hub.lock:
                    hub.requests.append({
                        "path": self.path,
                        "form": parse_qs(body, keep_blank_values=True),
                        "content_type": self.headers.get("Content-Type"),
                        "user_agent": self.headers.get("User-Agent"),
                    })
                if hub.delay:
                    hub.release.wait(hub.delay)
                try:
                    if hub.drip:
                        self.drip()
                        return
                    self.send_response(hub.next_status())
                    for name, value in hub.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    self.close_connection = True            # the client gave up first

            def drip(self):
                """A byte at a time: a status line, then header lines without end."""
                answer = f"HTTP/1.1 {hub.next_status()} OK\r\n".encode()
                while not hub.release.is_set():
                    for byte in answer:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        if hub.release.wait(hub.drip):
                            return
                    answer = b"X-Drip: still here\r\n"

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        hub.url = f"http://127.0.0.1:{server.server_address[1]}/hub"
        servers.append((server, thread, hub))
        return hub

    yield start
    for server, thread, hub in servers:
        hub.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=2)


# --- the scan of one record file, as the build and check run it ---------------------------------


def scan_records(site: Path, rel: str, config, now_ts: float, **kw):
    """FileScan of one file with the site's record rules (keep_all / thorough as keywords)."""
    from feedpub.ingest.scan import ScanSettings, scan_file
    from feedpub.records import RecordRules
    return scan_file(site, rel, RecordRules.for_config(config), ScanSettings(config.max_items, config.category_feeds),
                     now_ts, **kw)


def scan_rows(scan) -> dict:
    """What a scan gives the index, decoded and in a stable order, to compare two scans."""
    import json
    return {"problems": [list(p) for p in scan.problems], "records": scan.records,
            "ids": sorted(map(tuple, json.loads(scan.ids))),
            "cands": sorted(map(tuple, json.loads(scan.cands))), "floors": sorted(map(tuple, json.loads(scan.floors)))}


# --- throwaway database servers (tests/dbservers.py) -------------------------------------------


def _server_or_skip(kind: str, variable: str, start):
    """A started server, or a skip with the reason; a failure instead when `variable`=1 requires it."""
    import importlib.util
    import dbservers
    missing = [m for m in ("sqlalchemy", "psycopg" if kind == "PostgreSQL" else "pymysql")
               if importlib.util.find_spec(m) is None]
    try:
        if missing:
            raise dbservers.Unavailable(f"{', '.join(missing)} not installed (pip install -e '.[test]')")
        return start()
    except dbservers.Unavailable as exc:
        if os.environ.get(variable) == "1":
            pytest.fail(f"{variable}=1 but {kind} cannot run here: {exc}", pytrace=False)
        pytest.skip(f"{kind} cannot run here: {str(exc).splitlines()[0]} (set {variable}=1 to make this a failure)")


@pytest.fixture(scope="session")
def postgres_server():
    """One PostgreSQL cluster for the whole test run: initdb + pg_ctl in a temporary directory, on a free
    loopback port, run by an unprivileged user; removed at the end."""
    import dbservers
    server = _server_or_skip("PostgreSQL", "FEEDPUB_REQUIRE_POSTGRES", dbservers.start_postgres)
    yield server
    server.remove()


@pytest.fixture(scope="session")
def mariadb_server():
    import dbservers
    server = _server_or_skip("MariaDB", "FEEDPUB_REQUIRE_MARIADB", dbservers.start_mariadb)
    yield server
    server.remove()


@pytest.fixture
def pg(postgres_server):
    """A fresh database in the test run's cluster, and a read-only role that may read it."""
    import dbhelp
    database = dbhelp.PgDatabase(postgres_server)
    yield database
    database.drop()


# --- a big site, generated once per test run ------------------------------------------------------


BIG_RECORDS = 200_000
BIG_FILES = 20


@pytest.fixture(scope="session")
def big_site(tmp_path_factory) -> Path:
    """The sample site's feedpub.toml with BIG_RECORDS records in BIG_FILES JSONL files (two languages,
    five categories, dates over five years); the last file holds the newest records, so a build
    with it changes every feed a build without it made."""
    import json
    import random
    site = tmp_path_factory.mktemp("big") / "site"
    (site / "articles").mkdir(parents=True)
    shutil.copy(DATA / "feedpub.toml", site / "feedpub.toml")
    rng = random.Random(18)
    categories = ["Chính trị", "Kinh tế", "Xã hội", "Thể thao", "Văn hóa"]
    per_file = BIG_RECORDS // BIG_FILES
    for number in range(BIG_FILES):
        lines = []
        for i in range(per_file):
            n = number * per_file + i
            day = 1 + n * 1826 // BIG_RECORDS          # older files first, the last one newest
            lang = "vi" if n % 2 == 0 else "en"
            lines.append(json.dumps({
                "id": f"r{n}", "lang": lang, "title": f"Tin số {n}", "url": f"/{lang}/tin-{n}.html",
                "published": int(datetime(2021, 1, 1, tzinfo=timezone.utc).timestamp()) + day * 86400 + i,
                "summary": "Tóm tắt ngắn.", "content": "<p>Nội dung bài viết.</p>",
                "categories": [rng.choice(categories)], "translation_key": f"k{n // 2}"},
                ensure_ascii=False))
        (site / "articles" / f"part-{number:02d}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    past = time.time() - 7200
    for path in site.rglob("*"):
        os.utime(path, (past, past))
    return site


# --- a throwaway S3 server (tests/s3server.py) ----------------------------------------------------


@pytest.fixture(scope="session")
def s3_server():
    """rclone's S3 server on a free loopback port for the whole test run, behind a counting proxy."""
    import importlib.util
    import s3server
    try:
        if importlib.util.find_spec("boto3") is None:
            raise s3server.Unavailable("boto3 is not installed (pip install -e '.[test]')")
        server = s3server.start_s3()
    except s3server.Unavailable as exc:
        if os.environ.get("FEEDPUB_REQUIRE_S3") == "1":
            pytest.fail(f"FEEDPUB_REQUIRE_S3=1 but the S3 server cannot run here: {exc}", pytrace=False)
        pytest.skip(f"the S3 server cannot run here: {str(exc).splitlines()[0]} (set FEEDPUB_REQUIRE_S3=1 to make "
                    "this a failure)")
    yield server
    server.remove()


@pytest.fixture
def s3(s3_server, monkeypatch, no_proxy, tmp_path):
    """The S3 server with an empty bucket and a fresh request record; this process's AWS_* variables
    point at it (and at nothing of the machine's own AWS configuration), and a bucket's default cache
    folder (XDG_STATE_HOME) is in the test's own temporary folder."""
    import s3server
    if s3_server.process is None:
        s3_server.start()
    s3_server.clear()
    s3_server.proxy.reset()
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in s3server.environment(s3_server).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    yield s3_server
    s3_server.proxy.fault = None

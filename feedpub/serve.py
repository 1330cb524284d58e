"""A local preview server for OUT: the feeds and pages as a browser or feed reader would get them.

    feedpub serve public --watch --data data

- Serves only regular files inside OUT: the request path is decoded, every
  segment is checked ('..' and hidden names such as ``.feedpub/`` are refused),
  then the file is resolved and must still be inside OUT, so a symlink cannot
  lead out of it.
- The media types feed readers expect (a browser navigating to a feed gets
  the same bytes as generic XML, which it renders with the feed's stylesheet
  instead of showing plain text or downloading it), ETag and Last-Modified validators,
  304 Not Modified for If-None-Match / If-Modified-Since, gzip when the client
  accepts it (with Vary: Accept-Encoding), HEAD, and directory -> index.html.
- With a site directory (``--watch``) a SiteWatcher (watch.py) builds OUT
  first and rebuilds it whenever a file of the site changes; a failed
  rebuild is one line on the log and the previous feeds stay served.
- Made to take a browser's or a feed reader's bursts: a listen backlog of
  at least 1024 connections, one thread per connection, idle connections
  closed after IDLE_TIMEOUT seconds, no traceback when a client hangs up,
  and 503 with Retry-After (not 404) for a file that exists but cannot be
  opened right now (out of file descriptors, say).

Built on the standard library's http.server; meant for previews on
127.0.0.1, not for production hosting.
"""
from __future__ import annotations

import email.utils
import errno
import gzip
import hashlib
import os
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import quote, unquote, urlsplit

from .errors import FeedpubError
from .layout import FORMATS
from .outcome import Interrupted
from .serveguard import REQUEST_DEADLINE, BoundedConnections
from .model import IMAGE_TYPES
from .text import printable
from .watch import POLL_SECONDS, SiteWatcher

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "FeedServer", "SiteWatcher", "content_type", "make_server", "serve"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
GZIP_MIN_BYTES = 256
IDLE_TIMEOUT = 30.0         # seconds a connection may send (or take) nothing before it is closed
LISTEN_BACKLOG = max(1024, socket.SOMAXCONN)    # the kernel caps it at net.core.somaxconn
RETRY_AFTER = 5             # seconds, in a 503 for a file that cannot be opened right now

# An open() or stat() failing with one of these means the file is not there; any other
# error (EMFILE, ENFILE, EACCES, EIO, ...) means it may be, and the answer is 503.
_MISSING = frozenset({errno.ENOENT, errno.ENOTDIR, errno.ELOOP, errno.ENAMETOOLONG})
# accept() failing with one of these will fail again at once: pause instead of spinning.
_OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
# What a client hanging up or going silent looks like to the handler: never worth a traceback.
_CLIENT_GONE = (ConnectionError, TimeoutError)

# By file name first (the feed formats), then by suffix.
_BY_NAME = {f.file: f"{f.media_type}; charset=utf-8" for f in FORMATS}
_FOR_BROWSERS = {f.file: ("application/json" if f.key == "json" else "application/xml") + "; charset=utf-8"
                 for f in FORMATS}
_BY_SUFFIX = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    **IMAGE_TYPES,
}
_COMPRESSIBLE = ("text/", "application/rss+xml", "application/atom+xml", "application/feed+json",
                 "application/xml", "application/json", "image/svg+xml")


def content_type(name: str, *, browser: bool = False) -> str:
    """The Content-Type header for a file of OUT, by name (rss.xml, atom.xml, feed.json) or suffix.

    browser=True (a page navigation, see wants_page()) gives the feeds a type browsers display:
    generic XML, which they render with the feed's xml-stylesheet, and generic JSON. Browsers
    show application/rss+xml and application/atom+xml as plain text or download them.
    """
    lower = name.lower()
    if lower in _BY_NAME:
        return _FOR_BROWSERS[lower] if browser else _BY_NAME[lower]
    return _BY_SUFFIX.get(os.path.splitext(lower)[1], "application/octet-stream")


def wants_page(accept: str | None, name: str) -> bool:
    """True for a browser navigating to a feed: it accepts text/html and does not ask for the feed's own type."""
    if not accept or name.lower() not in _BY_NAME:
        return False
    types = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    own = _BY_NAME[name.lower()].split(";")[0]
    return "text/html" in types and own not in types


def _compressible(ctype: str) -> bool:
    return ctype.startswith(_COMPRESSIBLE)


def _accepts_gzip(header: str | None) -> bool:
    """True when Accept-Encoding allows gzip (a q=0 refuses it; '*' allows it)."""
    if not header:
        return False
    allowed: dict[str, bool] = {}
    for part in header.split(","):
        coding, _, params = part.strip().partition(";")
        coding = coding.strip().lower()
        if not coding:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        allowed[coding] = q > 0
    if "gzip" in allowed:
        return allowed["gzip"]
    if "x-gzip" in allowed:
        return allowed["x-gzip"]
    return allowed.get("*", False)


@dataclass(frozen=True)
class _Representation:
    body: bytes
    digest: str
    gzip_body: bytes | None

    def etag(self, *, gzip: bool, browser: bool) -> str:
        """A strong validator per representation: the same bytes, encoding and media type."""
        return f'"{self.digest}{"-xml" if browser else ""}{"-gzip" if gzip else ""}"'

class _FileCache:
    """Bytes, digest and gzip of each served file, reused while (inode, size, mtime) stay the same."""

    def __init__(self, limit: int = 512):
        self._lock = threading.Lock()
        self._items: dict[str, tuple[tuple[int, int, int], _Representation]] = {}
        self._limit = limit

    def get(self, path: Path, compress: bool) -> tuple[os.stat_result, _Representation]:
        """The file's status and bytes, both from one open file, so a file replaced meanwhile never mixes them."""
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            key = (st.st_ino, st.st_size, st.st_mtime_ns)
            with self._lock:
                hit = self._items.get(str(path))
            if hit and hit[0] == key:
                return st, hit[1]
            body = f.read()
        digest = hashlib.sha256(body).hexdigest()[:32]
        gz = gzip.compress(body, compresslevel=6, mtime=0) if compress and len(body) >= GZIP_MIN_BYTES else None
        rep = _Representation(body, digest, gz)
        with self._lock:
            if len(self._items) >= self._limit:
                self._items.clear()
            self._items[str(path)] = (key, rep)
        return st, rep


class _Refused(Exception):
    def __init__(self, status: HTTPStatus, cause: OSError | None = None):
        super().__init__(status.phrase)
        self.status = status
        self.cause = cause


def _refusal(exc: OSError) -> _Refused:
    """404 for a path that is not there; 503 for a file the server cannot open or stat right now."""
    if exc.errno in _MISSING:
        return _Refused(HTTPStatus.NOT_FOUND)
    return _Refused(HTTPStatus.SERVICE_UNAVAILABLE, exc)


class FeedHandler(BaseHTTPRequestHandler):
    """GET and HEAD for the files of OUT; nothing else."""

    server: "FeedServer"
    server_version = "feedpub-serve"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        self.timeout = self.server.idle_timeout       # applied to the connection by StreamRequestHandler
        super().setup()
        self._deadline: int | None = None

    def handle_one_request(self) -> None:
        """Silence before a request is the idle timeout's; from its first byte, the request line and
        headers must arrive within the server's request deadline, however slowly they trickle."""
        try:
            first = self.rfile.peek(1)
        except (OSError, ValueError):                   # idle timeout, reset, closed
            self.close_connection = True
            return
        if not first:
            self.close_connection = True
            return
        self._deadline = self.server.deadlines.arm(self.connection, self.server.request_deadline)
        try:
            super().handle_one_request()
        finally:
            self.server.deadlines.cancel(self._deadline)

    def parse_request(self) -> bool:
        ok = super().parse_request()
        if self._deadline is not None:
            self.server.deadlines.cancel(self._deadline)    # the head is in: the answer may take its time
        return ok

    def do_GET(self) -> None:
        self._respond(head=False)

    def do_HEAD(self) -> None:
        self._respond(head=True)

    # --- resolving ---------------------------------------------------------------------------

    def _target(self) -> tuple[Path, bool]:
        """(file, redirect): the regular file a request names, or _Refused.

        redirect is True for a directory asked for without its trailing slash.
        """
        raw = urlsplit(self.path).path
        if not raw.startswith("/"):
            raise _Refused(HTTPStatus.BAD_REQUEST)
        decoded = unquote(raw, errors="strict") if "%" in raw else raw
        if "\x00" in decoded or "\\" in decoded:
            raise _Refused(HTTPStatus.BAD_REQUEST)
        parts = [p for p in decoded.split("/") if p]
        for part in parts:
            if part in (".", ".."):
                raise _Refused(HTTPStatus.FORBIDDEN)
            if part.startswith("."):
                raise _Refused(HTTPStatus.NOT_FOUND)       # hidden: state, lock, temporary files
        root = self.server.root
        candidate = root.joinpath(*parts)
        try:
            resolved = candidate.resolve(strict=True)
        except OSError as exc:
            raise _refusal(exc) from None
        except RuntimeError:                                # a symlink loop
            raise _Refused(HTTPStatus.NOT_FOUND) from None
        if resolved != root and not resolved.is_relative_to(root):
            raise _Refused(HTTPStatus.FORBIDDEN)            # a symlink leading out of OUT
        if resolved.is_dir():
            if parts and not decoded.endswith("/"):
                return resolved, True
            resolved = (resolved / "index.html")
            try:
                resolved = resolved.resolve(strict=True)
            except OSError as exc:
                raise _refusal(exc) from None
            except RuntimeError:
                raise _Refused(HTTPStatus.NOT_FOUND) from None
            if not resolved.is_relative_to(root):
                raise _Refused(HTTPStatus.FORBIDDEN)
        if not resolved.is_file():
            raise _Refused(HTTPStatus.NOT_FOUND)
        return resolved, False

    # --- responding --------------------------------------------------------------------------

    def _respond(self, head: bool) -> None:
        try:
            path, redirect = self._target()
        except _Refused as refused:
            self._refuse(refused, head)
            return
        except OSError as exc:                              # is_dir()/is_file() on an unreadable path
            self._refuse(_refusal(exc), head)
            return
        except UnicodeDecodeError:
            self.send_error(HTTPStatus.BAD_REQUEST)
            return
        if redirect:
            split = urlsplit(self.path)
            location = quote(unquote(split.path), safe="/") + "/" + (f"?{split.query}" if split.query else "")
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        browser = wants_page(self.headers.get("Accept"), path.name)
        ctype = content_type(path.name, browser=browser)
        try:
            st, rep = self.server.cache.get(path, _compressible(ctype))
        except OSError as exc:
            self._refuse(_refusal(exc), head)
            return
        use_gzip = rep.gzip_body is not None and _accepts_gzip(self.headers.get("Accept-Encoding"))
        etag = rep.etag(gzip=use_gzip, browser=browser)
        last_modified = email.utils.formatdate(st.st_mtime, usegmt=True)
        vary = ((["Accept"] if path.name.lower() in _BY_NAME else [])
                + (["Accept-Encoding"] if _compressible(ctype) else []))
        if self._not_modified(rep, st):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self._validators(etag, last_modified, vary)
            self.end_headers()
            return
        body = rep.gzip_body if use_gzip else rep.body
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if use_gzip:
            self.send_header("Content-Encoding", "gzip")
        self._validators(etag, last_modified, vary)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _refuse(self, refused: _Refused, head: bool) -> None:
        if refused.status is not HTTPStatus.SERVICE_UNAVAILABLE:
            self.send_error(refused.status)
            return
        self.log_message("cannot open %s: %s", urlsplit(self.path).path, refused.cause.strerror or refused.cause)
        body = (f"503 Service Unavailable: the file exists but cannot be opened now; "
                f"retry in {RETRY_AFTER} s\n").encode()
        self.close_connection = True                        # frees this connection's descriptor too
        self.send_response(HTTPStatus.SERVICE_UNAVAILABLE)
        self.send_header("Retry-After", str(RETRY_AFTER))
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _validators(self, etag: str, last_modified: str, vary: list[str]) -> None:
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", last_modified)
        self.send_header("Cache-Control", "no-cache")
        if vary:
            self.send_header("Vary", ", ".join(vary))

    def _not_modified(self, rep: _Representation, st: os.stat_result) -> bool:
        """RFC 9110 13.2.2: If-None-Match (weak comparison) wins over If-Modified-Since."""
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            if inm.strip() == "*":
                return True
            # Weak comparison; every representation of the same bytes shares the digest.
            digests = {t.strip().removeprefix("W/").strip('"').split("-")[0] for t in inm.split(",")}
            return rep.digest in digests
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                since = email.utils.parsedate_to_datetime(ims)
            except (TypeError, ValueError, IndexError):
                return False
            if since is None or since.tzinfo is None:
                return False
            return int(st.st_mtime) <= since.timestamp()
        return False

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's signature)
        if self.server.log is not None:
            self.server.log(f"{self.address_string()} - {printable(format % args)}")


class FeedServer(BoundedConnections, ThreadingHTTPServer):
    """ThreadingHTTPServer for one OUT directory, with an optional SiteWatcher."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = LISTEN_BACKLOG     # socketserver's default of 5 drops most of a burst's SYNs

    def __init__(self, address: tuple[str, int], root: Path, *, log: Callable[[str], None] | None,
                 watcher: SiteWatcher | None = None, idle_timeout: float | None = IDLE_TIMEOUT,
                 capacity: int | None = None, request_deadline: float = REQUEST_DEADLINE):
        host = address[0]
        if ":" in host:
            self.address_family = socket.AF_INET6
        self.root = root
        self.log = log
        self.cache = _FileCache()
        self.watcher = watcher
        self.idle_timeout = idle_timeout
        self.bound(capacity, request_deadline)
        super().__init__(address, FeedHandler)

    def get_request(self):
        try:
            return super().get_request()
        except OSError as exc:
            # Out of descriptors: the connection waits in the backlog; retrying at once would spin.
            if exc.errno in _OUT_OF_RESOURCES:
                time.sleep(0.05)
            raise

    def handle_error(self, request, client_address) -> None:
        """A client that hung up or went silent is not an error; anything else is one line, not a traceback."""
        exc = sys.exc_info()[1]
        if isinstance(exc, _CLIENT_GONE) or self.log is None:
            return
        if os.environ.get("FEEDPUB_DEBUG"):
            self.log(traceback.format_exc().rstrip())
            return
        self.log(f"feedpub serve: internal error answering {client_address[0]}: "
                 f"{type(exc).__name__}: {printable(str(exc))} (set FEEDPUB_DEBUG=1 for details)")

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"

    def server_close(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        super().server_close()


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def make_server(out_dir: str | os.PathLike = "public", host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                watch_site: str | os.PathLike | None = None, *, log: Callable[[str], None] | None = _stderr,
                interval: float = POLL_SECONDS, idle_timeout: float | None = IDLE_TIMEOUT,
                capacity: int | None = None, request_deadline: float = REQUEST_DEADLINE) -> FeedServer:
    """A bound FeedServer for OUT (not yet serving: call serve_forever(), then shutdown() and server_close()).

    With watch_site, OUT is built from that site first and rebuilt whenever the site changes.
    port=0 picks a free port (see server.url). capacity: connections served at once (default: from
    the descriptor limit); request_deadline: seconds from a request's first byte to the end of its
    headers. idle_timeout: seconds a connection may send
    nothing (or read nothing of a response) before it is closed; None never closes it.
    Raises FeedpubError when OUT is not a directory or the address cannot be bound.
    """
    out = Path(out_dir)
    watcher = None
    if watch_site is not None:
        watcher = SiteWatcher(Path(watch_site), out, interval=interval, log=log)
        watcher.rebuild()
    if not out.is_dir():
        raise FeedpubError(f"{out}: not a directory (expected the output directory of feedpub build)")
    try:
        server = FeedServer((host, port), out.resolve(), log=log, watcher=watcher, idle_timeout=idle_timeout,
                            capacity=capacity, request_deadline=request_deadline)
    except OSError as exc:
        raise FeedpubError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    if watcher is not None:
        watcher.start()
    return server


def serve(out_dir: str | os.PathLike = "public", host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          watch_site: str | os.PathLike | None = None) -> None:
    """Serve OUT until interrupted (Ctrl+C); see make_server()."""
    server = make_server(out_dir, host, port, watch_site)
    try:
        print(printable(f"Serving {out_dir} at {server.url}" + (f" (watching {watch_site})" if watch_site else "")
                        + " - press Ctrl+C to stop"), flush=True)
        server.serve_forever()
    except (KeyboardInterrupt, Interrupted):        # Ctrl+C (or SIGTERM) is how a preview ends: not an error
        pass
    finally:
        server.server_close()

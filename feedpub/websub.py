"""WebSub (PubSubHubbub 0.4) publish pings: tell a hub which feed URLs changed.

Standard library only. One form-encoded POST per topic; connection errors,
timeouts, 5xx and 429 are retried with exponential backoff; other answers are
final. Redirects are not followed (a redirected POST would turn into a GET).
Nothing here raises: every outcome comes back as a PingResult.

Every ping of one call shares a single deadline (DEFAULT_DEADLINE seconds).
It bounds the wall time whatever the hub does: a socket timeout starts over
with every byte, so a hub that drips its answer would outlast any of them;
instead, when the deadline passes, the socket in use is shut down, which ends
a blocked connect, TLS handshake, write or read at once.
"""
from __future__ import annotations

import email.utils
import http.client
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from .urls import is_http_url

DEFAULT_DEADLINE = 10.0     # seconds for all the pings of one call together
MAX_DEADLINE = 86400.0
SLACK = 0.05                # less time than this left counts as none: too little to start or finish a request


@dataclass(frozen=True)
class PingResult:
    """Outcome of pinging the hub about one topic; detail is 'HTTP <status>' or the error text."""

    topic: str
    ok: bool
    attempts: int
    detail: str


class _Deadline:
    """One deadline for every ping of a call, enforced on the sockets themselves.

    A timer thread shuts down whatever connection is open when the deadline
    passes; leaving the with-block cancels and joins it, so nothing outlives
    the call.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._expired = False                   # set by the timer, once it has shut the sockets down
        self._end = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._open: list[http.client.HTTPConnection | socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.name = "feedpub-ping-deadline"
        self._timer.daemon = True

    def __enter__(self) -> "_Deadline":
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()
        self._timer.join()

    def remaining(self) -> float:
        left = 0.0 if self._expired else self._end - time.monotonic()
        return left if left > SLACK else 0.0

    @property
    def passed(self) -> bool:
        """True from the deadline on; an attempt whose socket timeout was cut to fit ends here too."""
        return self.remaining() == 0.0

    def watch(self, thing: http.client.HTTPConnection | socket.socket) -> None:
        """Shut this connection (whatever socket it holds then) or socket down when the deadline passes."""
        with self._lock:
            self._open.append(thing)
            if self._expired:
                _shut_down(thing)

    def forget(self) -> None:
        """The request in flight is over: its connection and sockets are closed."""
        with self._lock:
            self._open.clear()

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            for thing in self._open:
                _shut_down(thing)


def _shut_down(thing: http.client.HTTPConnection | socket.socket) -> None:
    """End every blocked operation on the socket; the thread using it closes it."""
    sock = thing.sock if isinstance(thing, http.client.HTTPConnection) else thing
    if sock is None:
        return
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)      # the TCP socket, also under TLS
    except OSError:
        pass                                                # already closed


def _watched(base: type[http.client.HTTPConnection], deadline: _Deadline) -> type[http.client.HTTPConnection]:
    """base, with its sockets shown to the deadline as soon as they exist."""

    class Watched(base):
        def connect(self) -> None:
            deadline.watch(self)            # the raw socket, during a proxy tunnel or TLS handshake
            super().connect()
            deadline.watch(self.sock)       # the socket the answer is read from, even after urllib drops .sock

    return Watched


class _WatchedOpen:
    """Mixed into urllib's HTTP(S) handlers: every connection they open is watched by the deadline."""

    def __init__(self, deadline: _Deadline):
        super().__init__()
        self._deadline = deadline
        self._classes: dict[type, type] = {}

    def do_open(self, http_class, req, **http_conn_args):
        if http_class not in self._classes:
            self._classes[http_class] = _watched(http_class, self._deadline)
        return super().do_open(self._classes[http_class], req, **http_conn_args)


class _HTTPHandler(_WatchedOpen, urllib.request.HTTPHandler):
    pass


class _HTTPSHandler(_WatchedOpen, urllib.request.HTTPSHandler):
    pass


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse redirects so a 3xx comes back as an HTTPError instead of a silent GET."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        """Follow no redirect."""
        return None


_DELAY_SECONDS = re.compile(r"[0-9]+")        # RFC 9110 §10.2.3: delay-seconds = 1*DIGIT, ASCII digits only


def _retry_after(error: urllib.error.HTTPError) -> float:
    """Seconds asked for by a Retry-After header (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date
    counted from now; anything else (a digit str.isdigit() accepts and float() refuses, such as
    "²", or a date that does not parse) is ignored: 0."""
    value = (error.headers.get("Retry-After") or "").strip() if error.headers else ""
    if _DELAY_SECONDS.fullmatch(value):
        return float(min(int(value), int(MAX_DEADLINE)))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return 0.0
    if when is None or when.tzinfo is None:
        return 0.0
    return max(0.0, when.timestamp() - time.time())


def _post_once(opener: urllib.request.OpenerDirector, request: urllib.request.Request, timeout: float,
               deadline: _Deadline) -> tuple[bool, bool, str, float]:
    """Send one request; return (ok, retryable, detail, minimum wait before a retry)."""
    try:
        with opener.open(request, timeout=timeout) as response:
            return True, False, f"HTTP {response.status}", 0.0    # the body says nothing more
    except urllib.error.HTTPError as error:
        error.close()
        retryable = error.code == 429 or error.code >= 500
        return False, retryable, f"HTTP {error.code}", _retry_after(error)
    except (OSError, http.client.HTTPException) as error:
        if deadline.passed:
            return False, True, f"timed out: the {deadline.seconds:g} s ping deadline passed", 0.0
        if isinstance(error, urllib.error.URLError):
            return False, True, f"connection error: {error.reason}", 0.0
        return False, True, f"{type(error).__name__}: {error}", 0.0
    except ValueError as error:
        return False, False, f"invalid request: {error}", 0.0
    finally:
        deadline.forget()


def _ping_topic(opener: urllib.request.OpenerDirector, deadline: _Deadline, hub: str, topic: str, *,
                attempts: int, timeout: float, backoff: float, sleep: Callable[[float], object],
                user_agent: str) -> tuple[PingResult, str | None]:
    """(the result, and why the hub itself is in trouble when it failed in a way that says so)."""
    body = urlencode([("hub.mode", "publish"), ("hub.url", topic)]).encode("ascii")
    headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": user_agent}
    tries = 0
    while True:
        tries += 1
        request = urllib.request.Request(hub, data=body, headers=headers, method="POST")
        ok, retryable, detail, wait = _post_once(opener, request, min(timeout, max(deadline.remaining(), SLACK)),
                                                 deadline)
        trouble = detail if retryable else None
        if ok or not retryable or tries >= max(1, attempts) or deadline.passed:
            return PingResult(topic, ok, tries, detail), trouble
        pause = max(backoff * 2 ** (tries - 1), wait)
        if pause >= deadline.remaining():
            detail += f" (a retry in {pause:g} s would pass the {deadline.seconds:g} s ping deadline)"
            return PingResult(topic, ok, tries, detail), trouble
        sleep(pause)


def ping_hub(
    hub: str,
    topics: Sequence[str],
    *,
    deadline: float = DEFAULT_DEADLINE,
    attempts: int = 3,
    timeout: float = 5.0,
    backoff: float = 0.5,
    sleep: Callable[[float], object] = time.sleep,
    user_agent: str = "feedpub",
) -> list[PingResult]:
    """Tell a WebSub hub these feed URLs changed (one publish POST per distinct topic, retried); never raise.

    deadline: seconds all the pings together may take, retries and waits
    included (default 10). It holds against a hub that never answers or drips
    its answer a byte at a time; a Retry-After that would end past it is not
    waited for. What is left when it passes is reported as skipped.
    timeout: seconds one attempt may wait on any single connect, send or
    read, within the deadline.

    A topic that fails with a connection error, a timeout, 5xx or 429 (after
    the retries the deadline leaves room for) makes the hub unreachable for
    the rest of the call: the remaining topics are reported as skipped, with
    the reason, not tried. Any other answer (400, a redirect) is that topic's
    alone.
    """
    unique = list(dict.fromkeys(topics))
    if not is_http_url(hub):
        return [PingResult(t, False, 0, f"invalid hub URL: {hub!r}") for t in unique]
    results = []
    skipped = None
    with _Deadline(max(0.0, min(deadline, MAX_DEADLINE))) as clock:     # NaN counts as 0
        opener = urllib.request.build_opener(_NoRedirect, _HTTPHandler(clock), _HTTPSHandler(clock))
        for topic in unique:
            if skipped is None and clock.passed:
                skipped = f"skipped: the {clock.seconds:g} s ping deadline passed"
            if skipped is not None:
                results.append(PingResult(topic, False, 0, skipped))
                continue
            if not is_http_url(topic):
                results.append(PingResult(topic, False, 0, f"invalid topic URL: {topic!r}"))
                continue
            try:
                result, trouble = _ping_topic(opener, clock, hub, topic, attempts=attempts, timeout=timeout,
                                              backoff=backoff, sleep=sleep, user_agent=user_agent)
            except Exception as exc:    # noqa: BLE001 - a ping never fails the run: a bug here is a failed ping
                result = PingResult(topic, False, 1, f"internal error: {type(exc).__name__}: {exc}")
                trouble = result.detail
            results.append(result)
            if clock.passed:
                skipped = f"skipped: the {clock.seconds:g} s ping deadline passed"
            elif trouble is not None:
                skipped = f"skipped: hub unreachable ({trouble})"
    return results

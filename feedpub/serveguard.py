"""What keeps slow or many clients from starving the preview server: a bounded number of connections
and a deadline for each request to arrive.

A thread per connection costs a descriptor and a thread for as long as the client keeps it; a client
that sends one header byte every few seconds never trips a socket timeout, which starts over with
every byte. So:

- a request's line and headers must all arrive within REQUEST_DEADLINE seconds of its first byte
  (Deadlines shuts the socket down when it passes, whatever the client trickles); silence between
  requests is the server's idle timeout;
- at most `capacity` connections are served at once, derived from the process's descriptor limit
  (each connection needs its socket and, briefly, the file it serves), so the server never runs out
  of descriptors and stops accepting: a connection beyond it is answered at once with 503 and
  Retry-After, and closed.
"""
from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time

__all__ = ["BUSY_RETRY_AFTER", "REQUEST_DEADLINE", "BoundedConnections", "Deadlines", "default_capacity",
           "refuse_busy"]

REQUEST_DEADLINE = 10.0     # seconds from a request's first byte to the end of its headers
BUSY_RETRY_AFTER = 1        # seconds, in the 503 for a connection beyond capacity
RESERVED_DESCRIPTORS = 64   # for the listening socket, the watcher's build, logs, imports
REFUSAL_WAIT = 0.25         # seconds a refused client is given to send its request (and to read the 503)


def default_capacity() -> int:
    """How many connections may be served at once: half of the descriptors left after a reserve."""
    try:
        import resource
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):
        soft = 1024
    if soft == resource.RLIM_INFINITY:
        soft = 1 << 16
    return max(8, (soft - RESERVED_DESCRIPTORS) // 2)


class Deadlines:
    """One thread that shuts down each watched socket whose deadline passes (a shut-down socket ends
    the read blocked on it at once); cancel() before that leaves the socket alone."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, socket.socket]] = []
        self._live: set[int] = set()
        self._numbers = itertools.count()
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="feedpub-serve-deadlines", daemon=True)
        self._thread.start()

    def arm(self, sock: socket.socket, seconds: float) -> int:
        with self._cond:
            token = next(self._numbers)
            heapq.heappush(self._heap, (time.monotonic() + seconds, token, sock))
            self._live.add(token)
            self._cond.notify()
            return token

    def cancel(self, token: int) -> None:
        with self._cond:
            self._live.discard(token)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(5)

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                if not self._heap:
                    self._cond.wait()
                    continue
                when, token, sock = self._heap[0]
                left = when - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                heapq.heappop(self._heap)
                if token in self._live:
                    self._live.discard(token)
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass


def refuse_busy(sock: socket.socket, wait: float = REFUSAL_WAIT) -> None:
    """Answer a connection beyond capacity with 503 and close it. What the client sent is read first,
    for up to `wait` seconds (a socket closed with unread data resets the connection, and the client
    would never see the 503), and again after the answer, until the client closes its side."""
    body = b"503 Service Unavailable: the preview server is serving as many connections as it can\n"
    answer = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
              b"Retry-After: " + str(BUSY_RETRY_AFTER).encode() + b"\r\nConnection: close\r\n"
              b"Cache-Control: no-store\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    try:
        _drain(sock, wait, until=b"\r\n\r\n")
        sock.settimeout(wait)
        sock.sendall(answer)
        sock.shutdown(socket.SHUT_WR)
        _drain(sock, wait)
    except OSError:
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


def _drain(sock: socket.socket, wait: float, until: bytes | None = None) -> None:
    """Read and drop what the client sends, for at most `wait` seconds, until `until` was seen or it closed."""
    end = time.monotonic() + wait
    seen = b""
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            return
        if not chunk:
            return
        seen = (seen + chunk)[-4:]
        if until is not None and until in seen:
            return


class BoundedConnections:
    """Mixed into a ThreadingMixIn server (before it): at most `capacity` connections get a thread;
    the others are refused with 503 at once, on a few short-lived threads of their own."""

    def bound(self, capacity: int | None, request_deadline: float) -> None:
        """Call in __init__, before the server's own __init__."""
        self.capacity = capacity or default_capacity()
        self.request_deadline = request_deadline
        self.deadlines = Deadlines()
        self._slots = threading.BoundedSemaphore(self.capacity)
        self._refusals = threading.BoundedSemaphore(max(8, self.capacity // 2))

    def process_request(self, request, client_address) -> None:
        if self._slots.acquire(blocking=False):
            try:
                super().process_request(request, client_address)
            except BaseException:
                self._slots.release()
                raise
            return
        if self._refusals.acquire(blocking=False):
            threading.Thread(target=self._refuse, args=(request,), daemon=True, name="feedpub-serve-busy").start()
        else:                               # even the refusals are busy: answer without waiting at all
            refuse_busy(request, wait=0)

    def _refuse(self, request) -> None:
        try:
            refuse_busy(request)
        finally:
            self._refusals.release()

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def server_close(self) -> None:
        super().server_close()
        self.deadlines.close()

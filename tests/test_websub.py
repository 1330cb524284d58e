"""Tests for feedpub.websub against a real HTTP server on 127.0.0.1 (ephemeral port)."""
from __future__ import annotations

import gc
import socket
import threading
import time
import warnings

import pytest

from feedpub.websub import DEFAULT_DEADLINE, PingResult, ping_hub

TOPICS = ["https://site.example/vi/feed.xml", "https://site.example/en/atom.xml?x=1&y=2"]
NO_SLEEP = {"sleep": lambda s: None, "timeout": 2.0}


@pytest.fixture(autouse=True)
def _loopback_without_proxy(no_proxy):
    """Pings go straight to 127.0.0.1 whatever proxy the environment names."""


def test_one_publish_ping_per_topic_with_form_fields(start_hub):
    hub = start_hub([204])
    results = ping_hub(hub.url, TOPICS, user_agent="feedpub/1.2.3", **NO_SLEEP)
    assert results == [PingResult(TOPICS[0], True, 1, "HTTP 204"), PingResult(TOPICS[1], True, 1, "HTTP 204")]
    assert [r["form"] for r in hub.requests] == [
        {"hub.mode": ["publish"], "hub.url": [TOPICS[0]]},
        {"hub.mode": ["publish"], "hub.url": [TOPICS[1]]},
    ]
    assert {r["content_type"] for r in hub.requests} == {"application/x-www-form-urlencoded"}
    assert {r["user_agent"] for r in hub.requests} == {"feedpub/1.2.3"}
    assert {r["path"] for r in hub.requests} == {"/hub"}


def test_default_user_agent(start_hub):
    hub = start_hub([202])
    assert ping_hub(hub.url, TOPICS[:1], **NO_SLEEP)[0].ok
    assert hub.requests[0]["user_agent"] == "feedpub"


def test_duplicate_topics_pinged_once(start_hub):
    hub = start_hub([204])
    results = ping_hub(hub.url, [TOPICS[0], TOPICS[0]], **NO_SLEEP)
    assert [r.topic for r in results] == [TOPICS[0]]
    assert len(hub.requests) == 1


def test_retries_503_then_succeeds_with_backoff(start_hub):
    hub = start_hub([503, 503, 204])
    sleeps: list[float] = []
    results = ping_hub(hub.url, TOPICS[:1], timeout=2.0, backoff=0.5, sleep=sleeps.append)
    assert results == [PingResult(TOPICS[0], True, 3, "HTTP 204")]
    assert len(hub.requests) == 3
    assert sleeps == [0.5, 1.0]


def test_always_500_gives_up_after_attempts_and_skips_the_other_topics(start_hub):
    hub = start_hub([500])
    results = ping_hub(hub.url, TOPICS, **NO_SLEEP)
    assert results == [PingResult(TOPICS[0], False, 3, "HTTP 500"),
                       PingResult(TOPICS[1], False, 0, "skipped: hub unreachable (HTTP 500)")]
    assert len(hub.requests) == 3


def test_429_is_retried_honouring_retry_after(start_hub):
    hub = start_hub([429, 204], headers={"Retry-After": "7"})
    sleeps: list[float] = []
    results = ping_hub(hub.url, TOPICS[:1], timeout=2.0, backoff=0.5, sleep=sleeps.append)
    assert results == [PingResult(TOPICS[0], True, 2, "HTTP 204")]
    assert sleeps == [7.0]


def test_400_is_not_retried(start_hub):
    hub = start_hub([400, 204])
    results = ping_hub(hub.url, TOPICS[:1], **NO_SLEEP)
    assert results == [PingResult(TOPICS[0], False, 1, "HTTP 400")]
    assert len(hub.requests) == 1


def test_redirect_is_not_followed(start_hub):
    hub = start_hub([302], headers={"Location": "http://127.0.0.1:1/elsewhere"})
    results = ping_hub(hub.url, TOPICS[:1], **NO_SLEEP)
    assert results == [PingResult(TOPICS[0], False, 1, "HTTP 302")]


def test_connection_refused_is_retried_then_reported():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    results = ping_hub(f"http://127.0.0.1:{port}/hub", TOPICS[:1], **NO_SLEEP)
    assert time.monotonic() - started < 5
    [result] = results
    assert (result.topic, result.ok, result.attempts) == (TOPICS[0], False, 3)
    assert "refused" in result.detail.lower()


def test_slow_hub_times_out_without_raising(start_hub):
    hub = start_hub([204], delay=5.0)
    started = time.monotonic()
    results = ping_hub(hub.url, TOPICS[:1], attempts=2, timeout=0.3, sleep=lambda s: None)
    assert time.monotonic() - started < 2
    [result] = results
    assert (result.ok, result.attempts) == (False, 2)
    assert "timed out" in result.detail.lower()


@pytest.mark.parametrize("hub", ["file:///etc/passwd", "ftp://127.0.0.1/", "not a url", ""])
def test_invalid_hub_url_reported_without_any_request(hub):
    assert ping_hub(hub, TOPICS[:1], **NO_SLEEP) == [PingResult(TOPICS[0], False, 0, f"invalid hub URL: {hub!r}")]


def test_invalid_topic_skipped_others_pinged(start_hub):
    hub = start_hub([204])
    results = ping_hub(hub.url, ["/relative/feed.xml", TOPICS[0]], **NO_SLEEP)
    assert results == [
        PingResult("/relative/feed.xml", False, 0, "invalid topic URL: '/relative/feed.xml'"),
        PingResult(TOPICS[0], True, 1, "HTTP 204"),
    ]
    assert len(hub.requests) == 1


def test_no_topics_no_requests(start_hub):
    hub = start_hub([204])
    assert ping_hub(hub.url, [], **NO_SLEEP) == []
    assert hub.requests == []


def test_an_unreachable_hub_costs_one_topics_retries_not_every_topics():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    waits = []
    results = ping_hub(f"http://127.0.0.1:{port}/hub", TOPICS, sleep=waits.append, timeout=2.0)
    assert [(r.ok, r.attempts) for r in results] == [(False, 3), (False, 0)]
    assert results[1].detail.startswith("skipped: hub unreachable")
    assert len(waits) == 2


# --- one deadline for every ping of a call ---------------------------------------------------------

MANY = [f"https://site.example/feed-{i}.xml" for i in range(54)]       # as many as the sample site changes


def pinged(*args, **kwargs) -> tuple[list[PingResult], float]:
    """ping_hub's results and wall time; it must leave no thread and no socket behind."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        started = time.monotonic()
        results = ping_hub(*args, **kwargs)
        elapsed = time.monotonic() - started
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert not [t for t in threading.enumerate() if t.name == "feedpub-ping-deadline"]
    return results, elapsed


def test_the_default_deadline_is_ten_seconds():
    assert DEFAULT_DEADLINE == 10


def test_a_hub_dripping_its_answer_is_cut_off_at_the_deadline(start_hub):
    hub = start_hub([204], drip=0.2)            # a byte every 0.2 s: no read ever waits 5 s
    results, elapsed = pinged(hub.url, MANY, deadline=2.0, timeout=5.0)
    # Before the deadline, the run went on for as long as the hub kept dripping.
    assert elapsed < 8, elapsed
    assert results[0] == PingResult(MANY[0], False, 1, "timed out: the 2 s ping deadline passed")
    assert results[1:] == [PingResult(t, False, 0, "skipped: the 2 s ping deadline passed") for t in MANY[1:]]
    assert len(hub.requests) == 1


def test_a_hung_hub_is_cut_off_at_the_deadline(start_hub):
    hub = start_hub([204], delay=120)
    results, elapsed = pinged(hub.url, MANY, deadline=1.5, timeout=30.0)
    assert elapsed < 8, elapsed
    assert results[0] == PingResult(MANY[0], False, 1, "timed out: the 1.5 s ping deadline passed")
    assert {r.detail for r in results[1:]} == {"skipped: the 1.5 s ping deadline passed"}


def test_503_with_a_retry_after_past_the_deadline_is_not_waited_for(start_hub):
    hub = start_hub([503], headers={"Retry-After": "30"})
    results, elapsed = pinged(hub.url, MANY)                         # the real clock and sleep
    # Before: 30 s between attempts, for every topic: about an hour for these 54.
    assert elapsed < 5, elapsed
    assert results[0] == PingResult(
        MANY[0], False, 1, "HTTP 503 (a retry in 30 s would pass the 10 s ping deadline)")
    assert results[1:] == [PingResult(t, False, 0, "skipped: hub unreachable (HTTP 503)") for t in MANY[1:]]
    assert len(hub.requests) == 1


def test_a_retry_after_within_the_deadline_is_waited_for(start_hub):
    hub = start_hub([503, 204], headers={"Retry-After": "1"})
    results, elapsed = pinged(hub.url, MANY[:2], deadline=10.0)
    assert results == [PingResult(MANY[0], True, 2, "HTTP 204"), PingResult(MANY[1], True, 1, "HTTP 204")]
    assert elapsed >= 1


def test_429_counts_as_unreachable_once_its_retries_are_spent(start_hub):
    hub = start_hub([429], headers={"Retry-After": "0"})
    results, _ = pinged(hub.url, MANY[:3], attempts=2, sleep=lambda s: None)
    assert [(r.attempts, r.detail) for r in results] == [
        (2, "HTTP 429"), (0, "skipped: hub unreachable (HTTP 429)"), (0, "skipped: hub unreachable (HTTP 429)")]


def test_a_slow_but_healthy_hub_gets_what_fits_in_the_deadline(start_hub):
    hub = start_hub([204], delay=0.4)
    results, elapsed = pinged(hub.url, MANY, deadline=1.5)
    assert elapsed < 8, elapsed
    done = [r for r in results if r.ok]
    assert done == [PingResult(t, True, 1, "HTTP 204") for t in MANY[:len(done)]]
    rest = results[len(done):]
    assert rest[0].detail == "timed out: the 1.5 s ping deadline passed"
    assert {r.detail for r in rest[1:]} == {"skipped: the 1.5 s ping deadline passed"}


@pytest.mark.parametrize("deadline", [0, -1, float("nan")])
def test_no_time_at_all_pings_nothing(start_hub, deadline):
    hub = start_hub([204])
    results, _ = pinged(hub.url, MANY[:2], deadline=deadline)
    assert [r.detail for r in results] == ["skipped: the 0 s ping deadline passed"] * 2
    assert hub.requests == []


@pytest.fixture
def tls_dripper():
    """A bare TCP listener on 127.0.0.1 that starts a TLS record and then drips it, a byte every 0.2 s."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()
    threads = []

    def drip(conn: socket.socket) -> None:
        with conn:
            try:
                conn.sendall(b"\x16\x03\x03\x40\x00")          # handshake record, 16 KiB long ...
                while not stop.wait(0.2):
                    conn.sendall(b"\x00")                      # ... sent a byte at a time
            except OSError:
                pass

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=drip, args=(conn,), daemon=True)
            thread.start()
            threads.append(thread)

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    yield f"https://127.0.0.1:{listener.getsockname()[1]}/hub"
    stop.set()
    acceptor.join(10)
    for thread in threads:
        thread.join(10)
    listener.close()


def test_a_tls_handshake_dripped_by_the_hub_is_cut_off_at_the_deadline(tls_dripper):
    results, elapsed = pinged(tls_dripper, MANY[:3], deadline=1.5, timeout=5.0)
    assert elapsed < 8, elapsed
    assert results[0] == PingResult(MANY[0], False, 1, "timed out: the 1.5 s ping deadline passed")
    assert {r.detail for r in results[1:]} == {"skipped: the 1.5 s ping deadline passed"}

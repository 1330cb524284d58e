"""Tests for feedpub.websub against a real HTTP server on 127.0.0.1 (ephemeral port)."""
from __future__ import annotations

import socket
import time

import pytest

from feedpub.websub import PingResult, ping_hub

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


def test_always_500_gives_up_after_attempts_without_raising(start_hub):
    hub = start_hub([500])
    results = ping_hub(hub.url, TOPICS, **NO_SLEEP)
    assert results == [PingResult(t, False, 3, "HTTP 500") for t in TOPICS]
    assert len(hub.requests) == 6


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

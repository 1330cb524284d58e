"""WebSub (PubSubHubbub 0.4) publish pings: tell a hub which feed URLs changed.

Standard library only. One form-encoded POST per topic; connection errors,
timeouts, 5xx and 429 are retried with exponential backoff; other answers are
final. Redirects are not followed (a redirected POST would turn into a GET).
Nothing here raises: every outcome comes back as a PingResult.
"""
from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from .urls import is_http_url

MAX_RETRY_AFTER = 30.0  # seconds; a hub's Retry-After is honoured up to this


@dataclass(frozen=True)
class PingResult:
    """Outcome of pinging the hub about one topic; detail is 'HTTP <status>' or the error text."""

    topic: str
    ok: bool
    attempts: int
    detail: str


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse redirects so a 3xx comes back as an HTTPError instead of a silent GET."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        """Follow no redirect."""
        return None


def _retry_after(error: urllib.error.HTTPError) -> float:
    """Seconds asked for by a Retry-After header in delta-seconds form, capped; 0 if absent or a date."""
    value = (error.headers.get("Retry-After") or "").strip() if error.headers else ""
    return min(float(value), MAX_RETRY_AFTER) if value.isdigit() else 0.0


def _post_once(opener: urllib.request.OpenerDirector, request: urllib.request.Request, timeout: float) -> tuple[bool, bool, str, float]:
    """Send one request; return (ok, retryable, detail, minimum wait before a retry)."""
    try:
        with opener.open(request, timeout=timeout) as response:
            response.read(65536)
            return True, False, f"HTTP {response.status}", 0.0
    except urllib.error.HTTPError as error:
        error.close()
        retryable = error.code == 429 or error.code >= 500
        return False, retryable, f"HTTP {error.code}", _retry_after(error)
    except urllib.error.URLError as error:
        return False, True, f"connection error: {error.reason}", 0.0
    except (OSError, http.client.HTTPException) as error:
        return False, True, f"{type(error).__name__}: {error}", 0.0
    except ValueError as error:
        return False, False, f"invalid request: {error}", 0.0


def ping_hub(
    hub: str,
    topics: Sequence[str],
    *,
    attempts: int = 3,
    timeout: float = 5.0,
    backoff: float = 0.5,
    sleep: Callable[[float], object] = time.sleep,
    user_agent: str = "feedpub",
) -> list[PingResult]:
    """Tell a WebSub hub these feed URLs changed (one publish POST per distinct topic, retried); never raise.

    A hub that cannot be reached at all after every attempt for one topic is
    not tried again for the others in this run (they are reported as skipped),
    so a dead hub costs one topic's retries, not every topic's.
    """
    unique = list(dict.fromkeys(topics))
    if not is_http_url(hub):
        return [PingResult(t, False, 0, f"invalid hub URL: {hub!r}") for t in unique]
    opener = urllib.request.build_opener(_NoRedirect)
    results = []
    unreachable = None
    for topic in unique:
        if unreachable is not None:
            results.append(PingResult(topic, False, 0, f"skipped: hub unreachable ({unreachable})"))
            continue
        if not is_http_url(topic):
            results.append(PingResult(topic, False, 0, f"invalid topic URL: {topic!r}"))
            continue
        body = urlencode([("hub.mode", "publish"), ("hub.url", topic)]).encode("ascii")
        headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": user_agent}
        tries, ok, detail, wait = 0, False, "not attempted", 0.0
        while tries < max(1, attempts):
            if tries:
                sleep(max(backoff * 2 ** (tries - 1), wait))
            tries += 1
            request = urllib.request.Request(hub, data=body, headers=headers, method="POST")
            ok, retryable, detail, wait = _post_once(opener, request, timeout)
            if ok or not retryable:
                break
        results.append(PingResult(topic, ok, tries, detail))
        if not ok and not detail.startswith("HTTP "):
            unreachable = detail
    return results

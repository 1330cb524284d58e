"""What subscribers get end to end: WebSub pings for changed feeds only, and article HTML made safe."""
from __future__ import annotations

import json
import re
import threading
import time

import feedparser
import pytest
from lxml import etree

import feedpub
from conftest import NOW, NOW_ARG, record, run_cli, write_jsonl

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(autouse=True)
def _loopback_without_proxy(no_proxy):
    """Pings go straight to 127.0.0.1 whatever proxy the environment names."""


@pytest.fixture
def hub(start_hub):
    """A real WebSub hub endpoint on 127.0.0.1 that answers 204 and records every publish ping."""
    return start_hub([204])


def with_hub(site, url):
    config = site / "feedpub.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("[site]\n", f'[site]\nhub = "{url}"\n', 1),
                      encoding="utf-8")


def topics(requests):
    assert all(r["form"]["hub.mode"] == ["publish"] for r in requests)
    return sorted(r["form"]["hub.url"][0] for r in requests)


def test_one_ping_per_changed_feed_and_none_when_nothing_changed(fixture_site, tmp_path, hub):
    with_hub(fixture_site, hub.url)
    out = tmp_path / "out"
    first = feedpub.build(fixture_site, out, now=NOW)
    feed_files = [f.path for f in first.feeds]
    assert topics(hub.requests) == sorted(f"https://news.example.vn/feeds/{p}" for p in feed_files)
    assert all(r.ok for r in first.pings)

    hub.requests.clear()
    again = feedpub.build(fixture_site, out, now=NOW, full=True)      # everything re-rendered, nothing changed
    assert again.changed == [] and hub.requests == []

    write_jsonl(fixture_site / "articles" / "new.jsonl",
                record(id="en-new", lang="en", title="New", url="/en/new", published="2023-01-01T08:00:00+07:00"))
    third = feedpub.build(fixture_site, out, now=NOW)
    assert topics(hub.requests) == [f"https://news.example.vn/feeds/en/{n}" for n in ("atom.xml", "feed.json", "rss.xml")]
    assert sorted(third.changed) == ["en/atom.xml", "en/feed.json", "en/rss.xml"]


def test_every_format_advertises_the_hub_and_itself(fixture_site, tmp_path, hub):
    with_hub(fixture_site, hub.url)
    feedpub.build(fixture_site, tmp_path, now=NOW)
    channel = etree.parse(str(tmp_path / "vi" / "rss.xml")).find("channel")
    links = {(l.get("rel"), l.get("href")) for l in channel.findall(f"{ATOM}link")}
    assert links == {("self", "https://news.example.vn/feeds/vi/rss.xml"), ("hub", hub.url)}
    atom = etree.parse(str(tmp_path / "vi" / "atom.xml")).getroot()
    links = {(l.get("rel"), l.get("href")) for l in atom.findall(f"{ATOM}link")}
    assert {("self", "https://news.example.vn/feeds/vi/atom.xml"), ("hub", hub.url)} <= links
    doc = json.loads((tmp_path / "vi" / "feed.json").read_text(encoding="utf-8"))
    assert doc["hubs"] == [{"type": "WebSub", "url": hub.url}]
    assert doc["feed_url"] == "https://news.example.vn/feeds/vi/feed.json"


def test_a_failed_ping_is_reported_and_never_fails_the_publish(fixture_site, tmp_path):
    with_hub(fixture_site, "http://127.0.0.1:9/hub")                 # nothing listens there
    report = feedpub.build(fixture_site, tmp_path, now=NOW)
    assert report.pings and not any(p.ok for p in report.pings)
    assert feedparser.parse((tmp_path / "vi" / "rss.xml").read_bytes()).entries


def test_a_hung_hub_holds_neither_the_lock_nor_the_run_for_long(fixture_site, tmp_path, start_hub):
    hub = start_hub([204], delay=120)                 # takes the ping and never answers
    with_hub(fixture_site, hub.url)
    out = tmp_path / "out"
    first = {}

    def run():
        started = time.monotonic()
        first["report"] = feedpub.build(fixture_site, out, now=NOW)     # the default 10 s deadline
        first["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not hub.requests:
        assert time.monotonic() < deadline, "the first run never pinged"
        time.sleep(0.02)
    # The first run is pinging now; the lock is already free for the next one (before, wait=0 raised
    # LockedError here, and a cron run exited 4 for as long as the pings lasted).
    second = feedpub.build(fixture_site, out, now=NOW, wait=0)
    assert second.skipped and thread.is_alive()
    thread.join(60)
    assert not thread.is_alive()
    report = first["report"]
    assert first["seconds"] < 30, first["seconds"]
    assert report.pings[0].detail == "timed out: the 10 s ping deadline passed"
    assert {p.detail for p in report.pings[1:]} == {"skipped: the 10 s ping deadline passed"}
    assert len(hub.requests) == report.pings[0].attempts                # retried within the deadline only
    assert {r["form"]["hub.url"][0] for r in hub.requests} == {report.pings[0].topic}
    assert feedparser.parse((out / "vi" / "rss.xml").read_bytes()).entries


def test_a_hub_answering_503_retry_after_30_costs_the_run_seconds_not_an_hour(site, tmp_path, start_hub):
    hub = start_hub([503], headers={"Retry-After": "30"})
    with_hub(site, hub.url)
    started = time.monotonic()
    result = run_cli("build", "--data", site, "--out", tmp_path / "out", "--now", NOW_ARG, timeout=300)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr                    # a failed ping never fails the run
    # Before: 2 x 30 s of Retry-After for each of the 54 changed feed files, inside the lock; now the
    # first 503 ends the pings (about 1 s for the whole run, more on a busy machine, never one wait).
    assert elapsed < 30, elapsed
    feeds = [p for p in (tmp_path / "out").rglob("*") if p.name in ("rss.xml", "atom.xml", "feed.json")]
    assert len(hub.requests) == 1
    warnings = [line for line in result.stderr.splitlines() if "WebSub" in line]
    assert len(warnings) == 2, result.stderr
    assert re.fullmatch(r"warning: WebSub ping for https://\S+ failed after 1 attempt: "
                        r"HTTP 503 \(a retry in 30 s would pass the 10 s ping deadline\)", warnings[0])
    assert warnings[1] == (f"warning: WebSub: {len(feeds) - 1} more changed feed files not pinged: "
                           "hub unreachable (HTTP 503)")

    quiet = run_cli("build", "--data", site, "--out", tmp_path / "quiet", "--now", NOW_ARG, "--quiet", timeout=300)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    assert len(hub.requests) == 2


EVIL = ('<p onclick="steal()">Tin <b>đậm</b></p><script>alert(1)</script>'
        '<img src="/a.jpg" onerror="alert(2)"><a href="javascript:alert(3)">x</a>'
        '<a href="JaVaScRiPt:alert(4)">y</a><iframe src="https://evil.example/"></iframe>'
        '<p style="color:red">z</p>')


def test_hostile_html_comes_out_clean_in_all_three_formats(fixture_site, tmp_path):
    write_jsonl(fixture_site / "articles" / "evil.jsonl",
                record(id="vi-evil", published="2023-01-01T08:00:00+07:00", content=EVIL,
                       title="<script>alert(5)</script> tiêu đề", url="/vi/evil/bai.html"))
    feedpub.build(fixture_site, tmp_path, now=NOW)
    bodies = {
        "rss": feedparser.parse((tmp_path / "vi" / "rss.xml").read_bytes()).entries[0].content[0].value,
        "atom": etree.parse(str(tmp_path / "vi" / "atom.xml")).find(f"{ATOM}entry/{ATOM}content").text,
        "json": json.loads((tmp_path / "vi" / "feed.json").read_text(encoding="utf-8"))["items"][0]["content_html"],
    }
    for fmt, html in bodies.items():
        lowered = html.lower()
        for bad in ("<script", "alert(1)", "onerror", "onclick", "javascript:", "evil.example", "style="):
            assert bad not in lowered, (fmt, bad, html)
        assert "<b>đậm</b>" in html, fmt
        assert 'src="https://news.example.vn/a.jpg"' in html, fmt           # relative src made absolute
    atom_title = etree.parse(str(tmp_path / "vi" / "atom.xml")).find(f"{ATOM}entry/{ATOM}title").text
    assert atom_title == "<script>alert(5)</script> tiêu đề"                 # plain text stays text
    rss_title = feedparser.parse((tmp_path / "vi" / "rss.xml").read_bytes()).entries[0].title
    assert "tiêu đề" in rss_title

"""Rendering on two processes (feedpub.forked, render.render_outputs): the same bytes as on one,
whatever the child does."""
from __future__ import annotations

import os

import pytest

import feedpub
from conftest import NOW, published
from feedpub import forked, render
from feedpub.forked import Offloaded

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _pairs():
    yield "a", b"first"
    yield "vi/t\u1ea1p.xml", b""
    yield "c", bytes(range(256)) * 1000


def test_offloaded_returns_the_childs_pairs_in_order():
    with Offloaded(_pairs) as child:
        got = list(child.results())
    assert got == list(_pairs())


def test_a_child_that_dies_is_replaced_by_this_process(monkeypatch):
    parent = os.getpid()

    def dies():
        if os.getpid() != parent:
            os._exit(3)
        yield from _pairs()

    with Offloaded(dies) as child:
        assert list(child.results()) == list(_pairs())


def test_a_child_that_stops_half_way_is_replaced_by_this_process():
    parent = os.getpid()

    def half():
        yield "a", b"first"
        if os.getpid() != parent:
            raise RuntimeError("stopped")
        yield "b", b"second"

    with Offloaded(half) as child:
        assert list(child.results()) == [("a", b"first"), ("b", b"second")]


def test_an_error_in_produce_is_raised_here():
    def broken():
        raise ValueError("a bug in rendering")
        yield                                                   # pragma: no cover

    with Offloaded(broken) as child:
        with pytest.raises(ValueError, match="a bug in rendering"):
            list(child.results())


def test_leaving_early_reaps_the_child():
    with Offloaded(_pairs) as child:
        pid = child._pid
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _split_always(monkeypatch):
    monkeypatch.setattr(render, "PARALLEL_ITEMS", 0)
    monkeypatch.setattr(forked, "spare_core", lambda: True)


def test_a_build_on_two_processes_publishes_the_same_bytes(site, tmp_path, monkeypatch):
    feedpub.build(site, tmp_path / "one", now=NOW)
    _split_always(monkeypatch)
    used = []
    original = Offloaded._frames
    monkeypatch.setattr(Offloaded, "_frames", lambda self: used.append(1) or original(self))
    feedpub.build(site, tmp_path / "two", now=NOW)
    assert used, "the child's output was not used"
    assert published(tmp_path / "two") == published(tmp_path / "one")


def test_a_build_whose_child_fails_publishes_the_same_bytes(site, tmp_path, monkeypatch):
    feedpub.build(site, tmp_path / "one", now=NOW)
    _split_always(monkeypatch)
    monkeypatch.setattr(Offloaded, "_run_child", lambda self, parent: os._exit(1))
    feedpub.build(site, tmp_path / "two", now=NOW)
    assert published(tmp_path / "two") == published(tmp_path / "one")


def test_shares_keep_languages_together_and_small_sites_on_one_process():
    class F:
        def __init__(self, lang, n):
            self.lang, self.entries = lang, [None] * n

    feeds = [F("en", 50), F("en", 50), F("en", 50), F("vi", 50), F("vi", 50), F("vi", 50)]
    mine, theirs = render._shares(feeds)
    assert [f.lang for f in mine] == ["en"] * 3 and [f.lang for f in theirs] == ["vi"] * 3
    one_language = [F("vi", 50) for _ in range(8)]
    mine, theirs = render._shares(one_language)
    assert len(mine) == 4 and len(theirs) == 4
    lopsided = [F("en", 20)] + [F("vi", 50) for _ in range(8)]
    mine, theirs = render._shares(lopsided)
    assert abs(sum(len(f.entries) for f in mine) - sum(len(f.entries) for f in theirs)) <= 60
    mine, theirs = render._shares([F("en", 10), F("vi", 10)])
    assert len(mine) == 2 and theirs == []


def test_no_child_while_another_thread_runs(monkeypatch):
    """feedpub serve rebuilds while its threads serve: a fork there could inherit a held lock."""
    import threading
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert forked.spare_core()
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not forked.spare_core()
    finally:
        stop.set()
        thread.join()

"""The run state: what one run leaves for the next, and when the next has nothing to do."""
from __future__ import annotations

import json
from dataclasses import fields

import pytest

from feedpub.runstate import READERS, RunState, Summary, decode_state

LAST = RunState(schema=9, version="1.0", fingerprint="f", indexed=True, files="digest", now_ts=1000.0,
                next_due=5000.0, feeds={"vi": "d1", "vi/thoi-su": "d2"}, layout="l", outputs={"vi/rss.xml": (10, 20)},
                summary=Summary(feeds=[("vi/rss.xml", 1, "vi", None, "rss", 900.0)],
                                problems=[("articles/a.jsonl", 3, "title", "is empty"), ("t", "row 2", None, "x")],
                                records=1),
                source=None, file_keys=["k1"], file_due=7000.0)


def quiet(state: RunState = LAST, **changes) -> bool:
    asked = dict(files="digest", source=None, now_ts=2000.0, next_due=state.next_due, intact=lambda outputs: True)
    return state.nothing_to_do(**{**asked, **changes})


def test_the_same_inputs_clock_and_outputs_mean_nothing_to_do():
    assert quiet()


@pytest.mark.parametrize("changes", [
    {"files": "other"},                               # a record file changed
    {"source": "rows"},                               # the database's selection is not the one published
    {"now_ts": 999.0},                                # the clock went back: --now in the past
    {"now_ts": 5000.0},                               # a scheduled article came due
    {"next_due": 1500.0},                             # ...by the schedule read afresh from a database
    {"intact": lambda outputs: False},                # a published file was changed or removed
])
def test_any_change_means_a_run(changes):
    assert not quiet(**changes)


def test_a_state_that_never_published_always_means_a_run():
    assert not quiet(RunState(files="digest", now_ts=1000.0))


def test_the_outputs_checked_are_the_ones_the_last_run_published():
    seen = []
    quiet(intact=lambda outputs: seen.append(outputs) or True)
    assert seen == [{"vi/rss.xml": (10, 20)}]


def test_a_state_reads_back_as_it_was_written():
    assert decode_state(LAST.encode()) == LAST


@pytest.mark.parametrize("stored", [
    None, b"", b"not json", b"[]", b'{"outputs": {"vi/rss.xml": [1]}}', b'{"now_ts": "soon"}',
    b'{"summary": {"feeds": [["vi/rss.xml", "three"]]}}', b'{"feeds": {"vi": 3}}',
])
def test_a_state_of_another_shape_is_no_state(stored):
    """An older or damaged cache's state is not used: the run rebuilds."""
    assert decode_state(stored) is None


def test_a_state_of_an_older_feedpub_with_fields_this_one_does_not_know_still_reads():
    assert decode_state(b'{"schema": 9, "content": "x", "now_ts": 5}') == RunState(schema=9, now_ts=5.0)


def test_every_field_of_the_state_has_its_reader():
    """A field added to RunState without a reader would never survive a run: caught here."""
    assert set(READERS) == {f.name for f in fields(RunState)}


@pytest.mark.parametrize("name", sorted(READERS))
def test_a_field_of_the_wrong_type_makes_the_whole_state_unreadable(name):
    stored = json.loads(LAST.encode())
    stored[name] = {"not": "this"} if not isinstance(stored[name], dict) else ["not", "this"]
    assert decode_state(json.dumps(stored)) is None

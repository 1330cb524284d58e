"""Every limit of feedpub/limits.py, generated from its table: within a limit, time and output grow in
proportion to the input; just over it, that input alone is rejected, quickly, with a message naming
the limit, and everything else publishes.

A limit added to the table without a way to exercise it (tests/limitcases.py) fails here.
"""
from __future__ import annotations

import re

import pytest

import feedpub.config
import feedpub.feeds
import feedpub.records
from feedpub.limits import BY_NAME, LIMITS
from limitcases import DATABASE_EXERCISES, EXERCISES, Exercise, best, exercises, growth, run

OUTPUT_GROWTH = 4.5          # 4x the input: at most this much more output
TIME_GROWTH = 8.0            # and less than this much more time (16x would be quadratic)
CASES = exercises()
IDS = [f"{name}-{route}" for name, route, _ in CASES]


def test_every_limit_in_the_table_can_be_exercised():
    assert set(EXERCISES) == {limit.name for limit in LIMITS}
    for limit in LIMITS:
        routes = {route for name, route, _ in CASES if name == limit.name}
        wanted = {"record": "files", "record file": "files", "database row": "database",
                  "feedpub.toml": "config", "validate": "validate"}
        assert {wanted[i] for i in limit.inputs} <= routes, (limit.name, limit.inputs, routes)


def test_every_limit_says_what_it_guards_and_how_to_change_it():
    for limit in LIMITS:
        assert limit.measures and limit.guards and limit.above and limit.value > 0, limit.name
        assert "[limits]" in limit.how_to_change() if limit.settable else limit.fixed, limit.name


def _expect_rejected(name: str, ex: Exercise, outcome, route: str) -> None:
    """One error naming the limit, located as every error of its input is, and nothing else lost."""
    if route == "config":
        assert re.match(r"(.*/)?feedpub\.toml: (nests|is) ", outcome.config_error), outcome.config_error
        assert f"limit {name}," in outcome.config_error
        return
    if route == "validate":
        assert len(outcome.errors) == 1 and re.match(r"feed\.json: (nests|is) ", outcome.errors[0]), outcome.errors
        assert f"limit {name}," in outcome.errors[0]
        return
    assert len(outcome.errors) == 1, outcome.errors
    error = outcome.errors[0]
    assert f"limit {name}," in error, error
    if route == "database":
        assert error.startswith("feed_articles:vi-10: "), error
    elif ex.field is not None:
        assert error.startswith(f'articles/case.jsonl:1: field "{ex.field}": '), error
    assert {"vi-1", "vi-2"} <= outcome.published_ids, outcome.published_ids
    assert "vi-10" not in outcome.published_ids


@pytest.mark.parametrize(("name", "route", "ex"), CASES, ids=IDS)
def test_just_over_the_limit_is_that_inputs_error_and_the_rest_publishes(tmp_path, name, route, ex):
    _expect_rejected(name, ex, run(tmp_path, ex, ex.over()), route)


@pytest.mark.parametrize(("name", "route", "ex"), CASES, ids=IDS)
def test_far_over_the_limit_is_refused_before_the_expensive_step(tmp_path, monkeypatch, name, route, ex):
    """A generous input (a 6 GB sparse file, 100,000 nested <div>, a date of a million characters)
    is refused as quickly as a small one: the step it would have made slow never sees it."""
    seen: list[int] = []

    def spy(real, measure):
        def wrapper(value, *args, **kwargs):
            seen.append(measure(value))
            return real(value, *args, **kwargs)
        return wrapper

    monkeypatch.setattr(feedpub.feeds, "clean_html", spy(feedpub.feeds.clean_html, len))
    monkeypatch.setattr(feedpub.records, "parse_datetime", spy(feedpub.records.parse_datetime, lambda v: len(str(v))))
    monkeypatch.setattr(feedpub.config.tomllib, "loads", spy(feedpub.config.tomllib.loads, len))
    outcome = run(tmp_path, ex, ex.generous())
    if route == "config":
        assert outcome.config_error and f"limit {name}," in outcome.config_error
    else:
        assert any(f"limit {name}," in e for e in outcome.errors), outcome.errors
    assert max(seen, default=0) < 100_000, "the parser, sanitiser or date reader saw the oversized input"
    assert outcome.seconds < 10, outcome.seconds      # the same inputs took minutes, or never ended


GROWING = [(n, r, e) for n, r, e in CASES if e.grow is not None]


@pytest.mark.parametrize(("name", "route", "ex"), GROWING, ids=[f"{n}-{r}" for n, r, _ in GROWING])
def test_within_the_limit_time_and_output_grow_with_the_input(tmp_path, name, route, ex):
    small, large = growth(tmp_path, ex)
    for outcome in (small, large):
        assert not any(f"limit {name}," in e for e in outcome.errors), outcome.errors
        assert not (outcome.config_error and f"limit {name}," in outcome.config_error)
    # the output of the feeds themselves: 4x the input may give at most ~4x the output (a
    # dimension whose output is n squared by nature says so in its exercise, and is held to that)
    allowed = OUTPUT_GROWTH * (4 if ex.quadratic else 1)
    if small.output_bytes:
        assert large.output_bytes <= allowed * small.output_bytes, (small.output_bytes, large.output_bytes)
    floor = 0.05                          # below this a run is all fixed cost: its ratio says nothing
    assert large.seconds < TIME_GROWTH * (4 if ex.quadratic else 1) * max(small.seconds, floor), (
        small.seconds, large.seconds)


def test_the_one_dimension_whose_output_is_quadratic_is_bounded_by_its_limit():
    """categories: a record with n categories is in n category feeds, each carrying its n categories,
    so its output is n squared by nature. The limit keeps it within a few megabytes."""
    quadratic = [name for name, ex in EXERCISES.items() if ex.quadratic]
    assert quadratic == ["categories"]
    assert BY_NAME["categories"].value <= 64


def test_database_exercises_use_limits_that_hold_for_database_rows():
    for name in DATABASE_EXERCISES:
        assert "database row" in BY_NAME[name].inputs, name


def test_the_benchmark_prints_every_limit(tmp_path):
    import subprocess
    import sys
    from pathlib import Path
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_limits.py"
    proc = subprocess.run([sys.executable, str(script), "--repeat", "1"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    for name, route, _ in CASES:
        assert any(line.split()[:2] == [name, route] for line in proc.stdout.splitlines()), (name, route)
    assert "largest output ratio of a linear dimension" in proc.stdout

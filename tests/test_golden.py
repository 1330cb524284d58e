"""Golden files: the small fixture site must build to exactly these bytes.

Regenerate on purpose with FEEDPUB_REGEN_GOLDEN=1 pytest tests/test_golden.py, then read the diff.
"""
from __future__ import annotations

import os

import pytest

import feedpub
from conftest import EXPECTED, NOW

GOLDEN = [f"{lang}/{name}" for lang in ("vi", "en") for name in ("rss.xml", "atom.xml", "feed.json")]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from conftest import FIXTURE
    out = tmp_path_factory.mktemp("golden")
    report = feedpub.build(FIXTURE, out, now=NOW, state_path=out.parent / "golden-state.sqlite")
    assert report.errors == []
    return out


@pytest.mark.parametrize("rel", GOLDEN)
def test_fixture_site_builds_to_the_golden_bytes(built, rel):
    actual = (built / rel).read_bytes()
    expected_path = EXPECTED / rel
    if os.environ.get("FEEDPUB_REGEN_GOLDEN") == "1":
        expected_path.parent.mkdir(parents=True, exist_ok=True)
        expected_path.write_bytes(actual)
    assert actual == expected_path.read_bytes()


def test_golden_feeds_hold_what_the_fixture_says(built):
    import feedparser
    vi = feedparser.parse((EXPECTED / "vi" / "rss.xml").read_bytes())
    assert [e.id.rsplit("/", 1)[1] for e in vi.entries] == ["vi-school", "vi-bridge", "vi-escape"]
    assert vi.entries[2].title == 'A & B < C > D "quoted"'
    en = feedparser.parse((EXPECTED / "en" / "atom.xml").read_bytes())
    assert [e.id.rsplit("/", 1)[1] for e in en.entries] == ["en-bridge", "en-harvest"]

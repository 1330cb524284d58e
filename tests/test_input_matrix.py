"""Every file feedpub reads goes through one opener: the input matrix, generated from opener.KINDS.

For each kind of file feedpub reads (the configuration, a *.json and a *.jsonl record file, the
manifest, the cache's header, a SQLite source, a feed `feedpub validate` checks) and each thing that
can lie where it is (a FIFO, a link to /dev/zero, a socket, a folder, a file nobody may read, a name
that is not UTF-8, a sparse file of 6 GiB): the real command neither hangs nor prints a traceback,
exits as the README says, and names the path.
"""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from feedpub.opener import KINDS, InputKind
from hazards import bits_bind, drop_dac_for_exec, plant

NOW_ARG = "2026-11-29T19:00:00+07:00"
HAZARDS = ["FIFO", "link to /dev/zero", "socket", "directory", "unreadable", "non-UTF-8 name", "huge sparse"]
BAD_NAME = os.fsdecode(b"t\xc3\xaan-l\xff\xfe")           # valid UTF-8, then two bytes that are not
TIMEOUT = 30
CONFIG = """[site]
base_url = "https://tin.example.vn"

[languages.vi]
title = "Tin"
description = "Tin mới"
"""
RECORD = {"id": "vi-1", "lang": "vi", "title": "Bài một", "url": "/vi/1", "published": "02/12/2021 - 23:30"}
GOOD = {"id": "vi-2", "lang": "vi", "title": "Bài hai", "url": "/vi/2", "published": "03/12/2021 - 23:30"}


def make_site(site: Path, *, source: bool = False) -> Path:
    site.mkdir(parents=True, exist_ok=True)
    config = CONFIG + ('\n[source]\nurl = "sqlite:///cms.db"\ntable = "feed_articles"\n' if source else "")
    (site / "feedpub.toml").write_text(config, encoding="utf-8")
    if source:
        with sqlite3.connect(site / "cms.db") as db:
            db.execute("CREATE TABLE feed_articles (id text, lang text, title text, url text, published text)")
            db.execute("INSERT INTO feed_articles VALUES (?, ?, ?, ?, ?)", tuple(GOOD.values()))
        db.close()
    else:
        (site / "articles").mkdir()
        (site / "articles" / "good.jsonl").write_text(json.dumps(GOOD) + "\n", encoding="utf-8")
    past = time.time() - 7200
    for path in site.rglob("*"):
        os.utime(path, (past, past))
    return site


def run(*args, bound: bool = False) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    return subprocess.run([sys.executable, "-m", "feedpub", *map(str, args)], capture_output=True, text=True,
                          errors="backslashreplace", cwd=ROOT, timeout=TIMEOUT, env=env,
                          preexec_fn=drop_dac_for_exec if bound else None)


class Case:
    """Where a file of one kind lies for one run, and the command that reads it."""

    def __init__(self, tmp: Path, kind: InputKind, hazard: str):
        self.tmp, self.kind, self.hazard = tmp, kind, hazard
        folder = f"site-{BAD_NAME}" if hazard == "non-UTF-8 name" else "site"
        self.site = tmp / folder
        self.out = tmp / (f"out-{BAD_NAME}" if hazard == "non-UTF-8 name" else "out")
        self.args: list = []
        self.folder = False                     # a folder belongs there (never, for these kinds)

    def setup(self) -> Path:
        """The site, the output and the command; the path the hazard goes to."""
        name = self.kind.name
        named = self.hazard == "non-UTF-8 name"
        build = ["build", "--data", self.site, "--out", self.out, "--now", NOW_ARG]
        if name == "feedpub.toml":
            make_site(self.site)
            self.args = build
            return self.site / "feedpub.toml"
        if name.startswith("a *.json"):
            make_site(self.site)
            self.args = build
            suffix = ".jsonl" if "jsonl" in name else ".json"
            return self.site / "articles" / (f"{BAD_NAME}{suffix}" if named else f"bad{suffix}")
        if name == "the manifest":
            make_site(self.site)
            first = run(*build)
            assert first.returncode == 0, first.stderr
            self.args = [*build, "--full"]
            return self.out / ".feedpub" / "manifest.json"
        if name == "the cache":
            make_site(self.site)
            state = self.tmp / (f"state-{BAD_NAME}.sqlite" if named else "state.sqlite")
            self.args = [*build, "--state", state]
            return state
        if name == "a SQLite source database":
            pytest.importorskip("sqlalchemy")
            make_site(self.site, source=True)
            self.args = build
            return self.site / "cms.db"
        if name == "a feed file to validate":
            make_site(self.site)
            first = run(*build)
            assert first.returncode == 0, first.stderr
            self.args = ["validate", self.out]
            return self.out / "vi" / (f"rss-{BAD_NAME}.xml" if named else "extra.xml")
        raise AssertionError(f"no case for {name}: add one")


# What the README says each run ends with: (exit status, whether the path is named).
SKIPPED = (0, True)                         # a record file that is not a regular file: a warning, skipped
READ_FINE = (0, False)
EXPECTED: dict[str, dict[str, tuple[int, bool]]] = {
    "feedpub.toml": {**{h: (3, True) for h in HAZARDS}, "non-UTF-8 name": READ_FINE},
    "a *.json record file": {"FIFO": SKIPPED, "link to /dev/zero": SKIPPED, "socket": SKIPPED,
                             "directory": READ_FINE, "unreadable": (1, True), "non-UTF-8 name": (1, True),
                             "huge sparse": (1, True)},
    "a *.jsonl record file": {"FIFO": SKIPPED, "link to /dev/zero": SKIPPED, "socket": SKIPPED,
                              "directory": READ_FINE, "unreadable": (1, True), "non-UTF-8 name": (1, True),
                              "huge sparse": (1, True)},
    "the manifest": {**{h: (3, True) for h in HAZARDS}, "non-UTF-8 name": READ_FINE},
    "the cache": {**{h: (3, True) for h in HAZARDS}, "non-UTF-8 name": READ_FINE,
                  "unreadable": (2, True)},             # --state a file it may not read: refused as an option
    "a SQLite source database": {**{h: (3, True) for h in HAZARDS}, "non-UTF-8 name": READ_FINE},
    "a feed file to validate": {**{h: (1, True) for h in HAZARDS}, "directory": READ_FINE,
                                "non-UTF-8 name": READ_FINE},
}
NOT_YET: dict[tuple[str, str], str] = {}


def test_every_kind_the_opener_knows_has_its_expectations():
    assert sorted(EXPECTED) == sorted(kind.name for kind in KINDS)
    assert all(sorted(row) == sorted(HAZARDS) for row in EXPECTED.values())


@pytest.fixture(scope="module")
def unreadable_binds(tmp_path_factory) -> bool:
    return bits_bind(tmp_path_factory.mktemp("probe"))


@pytest.mark.parametrize("hazard", HAZARDS)
@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_no_input_hangs_or_crashes_a_run(tmp_path, kind, hazard, unreadable_binds):
    if (kind.name, hazard) in NOT_YET:
        pytest.skip(NOT_YET[kind.name, hazard])
    if hazard == "unreadable" and not unreadable_binds:
        pytest.skip("permission bits do not bind here, even without CAP_DAC_OVERRIDE")
    case = Case(tmp_path, kind, hazard)
    path = case.setup()
    if hazard == "non-UTF-8 name":
        if not path.exists():                        # the folder's name is the hazard; the file is plain
            plant_good(case, path)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        plant(path, "directory" if hazard == "directory" else hazard, tmp_path, folder=False)
    try:
        proc = run(*case.args, bound=hazard == "unreadable")
    except subprocess.TimeoutExpired:
        pytest.fail(f"{kind.name} as a {hazard}: the run hung")
    finally:
        if hazard == "unreadable":
            path.chmod(0o600)
    code, named = EXPECTED[kind.name][hazard]
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output and "internal error" not in output, output
    assert proc.returncode == code, output
    if named:
        root = case.site if path.is_relative_to(case.site) else case.out
        forms = [shown(path), shown(path.relative_to(root))] if path.is_relative_to(root) else [shown(path)]
        flat = _flat(output)
        assert any(_flat(form) in flat for form in forms), output


def _flat(text: str) -> str:
    """Text without white space or box drawing: a usage error's panel wraps long paths."""
    return "".join(ch for ch in text if not ch.isspace() and ch not in "│╭╮╰╯─")


def shown(path: Path) -> str:
    """A path as feedpub's messages print it: bytes that are not UTF-8 as \\xNN."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def plant_good(case: Case, path: Path) -> None:
    """The file itself, fine, under a name that is not UTF-8 (or in a folder so named)."""
    if case.kind.name.startswith("a *.json"):
        path.write_text(json.dumps(RECORD) + ("\n" if path.suffix == ".jsonl" else ""), encoding="utf-8")
    elif case.kind.name == "a feed file to validate":
        path.write_bytes((case.out / "vi" / "rss.xml").read_bytes())

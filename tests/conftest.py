"""Shared fixtures: a clean environment, a fixed clock, copies of the sample sites, the real CLI."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
FIXTURE = ROOT / "tests" / "fixtures" / "site"
EXPECTED = ROOT / "tests" / "fixtures" / "expected"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)       # after every sample article but the scheduled one
NOW_ARG = "2026-11-29T19:00:00+07:00"                           # the same instant, as the CLI takes it


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch):
    """A parser or formatter that leans on the machine's zone or locale fails here, not in production."""
    monkeypatch.setenv("TZ", "America/New_York")
    monkeypatch.setenv("LANG", "C")
    monkeypatch.delenv("LC_ALL", raising=False)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def site(tmp_path) -> Path:
    """A private copy of the bundled sample site."""
    return Path(shutil.copytree(DATA, tmp_path / "site"))


@pytest.fixture
def fixture_site(tmp_path) -> Path:
    return Path(shutil.copytree(FIXTURE, tmp_path / "fixture"))


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """The installed command as a user runs it."""
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    return subprocess.run([sys.executable, "-m", "feedpub", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=timeout, env=env)


def write_jsonl(path: Path, *records: dict) -> Path:
    import json
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def record(**fields) -> dict:
    """A valid Vietnamese record, with fields overridden."""
    base = {"id": "vi-test", "lang": "vi", "title": "Bài thử", "url": "/vi/bai-thu",
            "published": "02/12/2021 - 23:30", "summary": "Tóm tắt.", "content": "<p>Nội dung.</p>"}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not ...}


def published(out: Path) -> dict[str, bytes]:
    """Every published file of OUT (not the lock or the cache) -> bytes."""
    result = {}
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out).as_posix()
        if path.is_file() and not rel.startswith(".feedpub"):
            result[rel] = path.read_bytes()
    return result

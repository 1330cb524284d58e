"""Nothing inside OUT can redirect feedpub: the output matrix, generated from layout.out_paths.

For every path the OUT of a small site holds (layout.py's own list: language and category
folders, every feed file and page, feeds.opml, feed.css, the private folder, the manifest, the
cache and its journals, the lock, the temporary names), for every hazard (a link to a foreign file,
to a foreign folder, a dangling link, a link loop, a FIFO, a folder where a file belongs or a file
where a folder belongs, a path nobody may read), and for every kind of run (a build with changed
articles, --full, a language retired, a category retired): a foreign tree beside OUT is unchanged,
the run neither hangs nor fails with anything but a feedpub error, and it either publishes or
names the path and publishes nothing (exit 3).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import feedparser
import pytest

import feedpub
from conftest import run_cli
from feedpub.errors import FeedpubError, LockedError, RejectedError, UsageError
from feedpub.layout import OutPath, out_paths
from hazards import bits_bind, checksum, foreign_tree, in_child, plant

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
NOW_ARG = "2026-11-29T19:00:00+07:00"
CONFIG = """[site]
base_url = "https://tin.example.vn"
title = "Tin"

[languages.vi]
title = "Tin"
description = "Tin mới"

[languages.en]
title = "News"
description = "Latest news"
"""
RECORDS = {
    "vi": {"id": "vi-1", "lang": "vi", "title": "Bài một", "url": "/vi/1", "published": "02/12/2021 - 23:30",
           "categories": ["Chính trị"], "translation_key": "k1"},
    "en": {"id": "en-1", "lang": "en", "title": "One", "url": "/en/1", "published": "02/12/2021 - 23:30",
           "categories": ["Politics"], "translation_key": "k1"},
}
FEEDS = [("vi", None), ("vi", "chinh-tri"), ("en", None), ("en", "politics")]
HAZARDS = ["link to a foreign file", "link to a foreign folder", "dangling link", "link loop", "FIFO",
           "wrong kind", "unreadable"]
RUNS = ["build", "--full", "language retired", "category retired"]
FOLDER_KINDS = {"folder", "private folder"}
TIMEOUT = 20


def write_site(site: Path, records: dict[str, dict], config: str = CONFIG) -> None:
    (site / "articles").mkdir(parents=True, exist_ok=True)
    (site / "feedpub.toml").write_text(config, encoding="utf-8")
    for old in (site / "articles").iterdir():
        old.unlink()
    for lang, rec in records.items():
        (site / "articles" / f"{lang}.jsonl").write_text(json.dumps(rec, ensure_ascii=False) + "\n", encoding="utf-8")
    past = time.time() - 7200
    for path in (site / "articles").iterdir():
        os.utime(path, (past, past))


def change_site(site: Path, run: str) -> None:
    """The input of each kind of run, from the site the template OUT was built from."""
    records = {lang: dict(rec) for lang, rec in RECORDS.items()}
    config = CONFIG
    if run == "build":                          # every feed's content changes
        for rec in records.values():
            rec["title"] += " (sửa)"
    elif run == "language retired":
        del records["en"]
        config = CONFIG.split("[languages.en]")[0]
    elif run == "category retired":
        records["vi"]["categories"] = []
    write_site(site, records, config)


@dataclass
class Template:
    """A site in every variant the runs need, and the OUT its first build published, in memory."""
    base: Path
    entries: list[tuple[str, bytes | None, int]]       # path, bytes (None: a folder), mtime_ns

    def site(self, run: str) -> Path:
        return self.base / "sites" / run.strip("-")

    def out_at(self, out: Path) -> None:
        """A fresh copy of the published OUT at out, manifest and cache included."""
        out.mkdir()
        for rel, data, mtime in self.entries:
            if data is None:
                os.mkdir(out / rel)
                continue
            fd = os.open(out / rel, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
            os.utime(out / rel, ns=(mtime, mtime))

    def published(self) -> dict[str, bytes]:
        return {rel: data for rel, data, _ in self.entries if data is not None and not rel.startswith(".feedpub")}


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Template:
    base = tmp_path_factory.mktemp("template")
    write_site(base / "site", RECORDS)
    report = feedpub.build(base / "site", base / "out", now=NOW)
    assert report.errors == [] and report.changed
    for run in RUNS:
        shutil.copytree(base / "site", base / "sites" / run.strip("-"))
        change_site(base / "sites" / run.strip("-"), run)
    entries = []
    for folder, dirs, files in os.walk(base / "out"):
        dirs.sort()
        for name in sorted(dirs) + sorted(files):
            path = Path(folder, name)
            rel = path.relative_to(base / "out").as_posix()
            entries.append((rel, None if path.is_dir() else path.read_bytes(), path.stat().st_mtime_ns))
    entries.sort(key=lambda e: e[0].count("/"))
    return Template(base, entries)


def paths() -> list[OutPath]:
    return out_paths(FEEDS, os.getpid())


def test_the_layout_lists_what_a_build_publishes(template):
    """The matrix covers at least every file and folder a build leaves in OUT."""
    listed = {p.path for p in paths()}
    there = {rel for rel, _, _ in template.entries}
    assert there <= listed, sorted(there - listed)
    kinds = {p.kind for p in paths()}
    assert kinds == {"folder", "feed", "page", "site file", "private folder", "manifest", "cache", "cache journal",
                     "lock", "temp"}


class Hung(Exception):
    pass


def _alarm(signum, frame):
    raise Hung()


def run_build(site: Path, out: Path, run: str) -> tuple:
    """("returned", warnings) or ("raised", type, message, is a FeedpubError), or ("hung",)."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIMEOUT)
    try:
        report = feedpub.build(site, out, now=NOW, full=run == "--full", wait=5)
        return ("returned", report.warnings)
    except Hung:
        return ("hung",)
    except Exception as exc:                            # noqa: BLE001 - judged below
        return ("raised", type(exc).__name__, str(exc), isinstance(exc, FeedpubError))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def named(message: str, rel: str, out: Path) -> bool:
    """The message names rel: as OUT/rel, or as one of OUT's conflicts ("OUT: rel reason; rel reason")."""
    return any(form in message for form in (f"{out}/{rel}:", f"{out}/{rel} ", f"{out}: {rel} ", f"; {rel} "))


def judge(outcome: tuple, rel: str, out: Path, before: dict[str, bytes]) -> None:
    assert outcome[0] != "hung", "the run hung"
    if outcome[0] == "raised":
        kind, message, ours = outcome[1:]
        assert ours, f"not a feedpub error: {kind}: {message}"              # never a traceback
        assert kind not in (UsageError.__name__, LockedError.__name__, RejectedError.__name__), message
        assert named(message, rel, out), f"not named in: {message}"
        changed = [path for path, data in before.items()
                   if not (path == rel or path.startswith(rel + "/") or rel.startswith(path + "/"))
                   and _read(out / path) != data]
        assert changed == [], f"a refused run published {changed}"
        return
    for feed in ("vi/rss.xml", "vi/atom.xml"):                        # what was published is whole
        data = _read(out / feed)
        assert data is not None, f"published, but {feed} cannot be read"
        assert not feedparser.parse(data).bozo, feed


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def cell(template: Template, work: Path, foreign: Path, place: OutPath, hazard: str, run: str) -> None:
    out = work / "out"
    template.out_at(out)
    target = out / place.path
    target.parent.mkdir(parents=True, exist_ok=True)
    plant(target, hazard, foreign, folder=place.kind in FOLDER_KINDS)
    try:
        judge(run_build(template.site(run), out, run), place.path, out, template.published())
    finally:
        if hazard == "unreadable" and target.exists() and not target.is_symlink():
            target.chmod(0o700)


def every_path(template: Template, tmp_path: Path, hazard: str, run: str) -> list[str]:
    """The failures of the cells of one hazard and one kind of run, one per path of the layout."""
    foreign = foreign_tree(tmp_path / "foreign")
    before = checksum(foreign)
    failures = []
    for number, place in enumerate(paths()):
        work = tmp_path / str(number)
        work.mkdir()
        try:
            cell(template, work, foreign, place, hazard, run)
        except AssertionError as exc:
            failures.append(f"{place.path} ({place.kind}): {exc}")
        finally:
            shutil.rmtree(work, ignore_errors=True)
        if checksum(foreign) != before:
            failures.append(f"{place.path} ({place.kind}): the foreign tree beside OUT changed")
            shutil.rmtree(foreign)
            foreign_tree(foreign)
    return failures


@pytest.fixture(scope="module")
def unreadable_binds(tmp_path_factory) -> bool:
    return bits_bind(tmp_path_factory.mktemp("probe"))


@pytest.mark.parametrize("run", RUNS)
@pytest.mark.parametrize("hazard", HAZARDS)
def test_nothing_in_out_redirects_a_run(template, tmp_path, monkeypatch, hazard, run, unreadable_binds):
    """Every path of the layout, one cell at a time (a failure names the path of its cell). The
    unreadable cells run in a child process bound by permission bits, root or not. Where files go
    is what is judged here, not whether they survive a power cut: fsync is left out, for speed."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)
    if hazard != "unreadable":
        assert every_path(template, tmp_path, hazard, run) == []
        return
    if not unreadable_binds:
        pytest.skip("permission bits do not bind here, even without CAP_DAC_OVERRIDE")
    outcome = in_child(lambda: every_path(template, tmp_path, hazard, run), timeout=len(paths()) * TIMEOUT,
                       bound=True)
    assert outcome == ("returned", [])


# --- a handful through the real command: exit codes and messages --------------------------------


@pytest.mark.parametrize(("rel", "hazard", "run"), [
    ("vi", "link to a foreign folder", "build"),
    ("en/categories", "link to a foreign folder", "language retired"),
    ("vi/rss.xml", "FIFO", "--full"),
    (".feedpub", "link to a foreign folder", "build"),
    (".feedpub/state.sqlite", "link to a foreign file", "build"),
    (".feedpub.lock", "link loop", "build"),
])
def test_the_command_names_the_path_and_exits_3(template, tmp_path, rel, hazard, run):
    out = tmp_path / "out"
    template.out_at(out)
    foreign = foreign_tree(tmp_path / "foreign")
    before = checksum(foreign)
    plant(out / rel, hazard, foreign, folder=rel in ("vi", "en/categories", ".feedpub"))
    args = ["build", "--data", template.site(run), "--out", out, "--now", NOW_ARG]
    proc = run_cli(*args, *(["--full"] if run == "--full" else []), cwd=tmp_path, timeout=TIMEOUT)
    assert checksum(foreign) == before
    if run == "language retired":               # a stale feed behind a link: left alone, said, published
        assert proc.returncode == 0, proc.stderr
        assert f"warning: {out / 'en/categories'}: a symbolic link" in proc.stderr
        return
    assert proc.returncode == 3, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
    assert f"{out}: {rel} " in proc.stderr or f"{out / rel}: " in proc.stderr, proc.stderr
    for path, data in template.published().items():
        if os.path.realpath(out / path) == str(out / path) and (out / path).is_file():
            assert (out / path).read_bytes() == data                     # nothing was published


def test_a_symlinked_out_itself_is_resolved_once(template, tmp_path):
    """OUT may be a link (a deploy's current -> releases/N): feedpub publishes into its target."""
    (tmp_path / "releases").mkdir()
    template.out_at(tmp_path / "releases" / "1")
    (tmp_path / "out").symlink_to(tmp_path / "releases" / "1", target_is_directory=True)
    report = feedpub.build(template.site("build"), tmp_path / "out", now=NOW)
    assert report.errors == [] and "vi/rss.xml" in report.changed
    assert (tmp_path / "out").is_symlink()
    entry = feedparser.parse((tmp_path / "releases" / "1" / "vi" / "rss.xml").read_bytes()).entries[0]
    assert entry.title == "Bài một (sửa)"

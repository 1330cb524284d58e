"""The library entry points: build() publishes a site's feeds, check() only validates.

config + record files -> scans (validated) -> selection -> articles -> Feed
models -> bytes -> atomic publish. Heavy modules (feedgen, lxml) are imported
only when something has to be rendered, so a run with nothing to do stays as
cheap as start-up.
"""
from __future__ import annotations

import os
import time
from functools import partial
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .config import Config, load_config
from .errors import RejectedError, SiteError
from .layout import PRIVATE_DIR, feed_files
from .publish import OutputLock, folders_of, prepare_dir, publish_files, remove_stale_temps
from .state import State

STATE_NAME = f"{PRIVATE_DIR}/state.sqlite"
RACY_SECONDS = 2.0          # files modified this recently are read again next run (mtime granularity)
DEFAULT_WAIT = 60.0


@dataclass(frozen=True)
class FeedReport:
    path: str               # relative to OUT
    items: int
    changed: bool


@dataclass
class BuildReport:
    """What a run did: per-file results, rejected records, warnings."""

    feeds: list[FeedReport] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)        # rejected records, one line each
    warnings: list[str] = field(default_factory=list)
    records: int = 0                                       # valid records in the site
    files_read: int = 0                                    # record files (re)read by this run
    skipped: bool = False                                  # nothing changed: no file was touched
    files_changed: int = 0                                 # files of OUT (feeds and pages) rewritten
    pings: list = field(default_factory=list)              # WebSub results

    @property
    def changed(self) -> list[str]:
        return [f.path for f in self.feeds if f.changed]


def _version() -> str:
    from . import __version__
    return __version__


def _now_ts(now: datetime | None) -> float:
    if now is None:
        return time.time()
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return now.timestamp()


def _stat_files(site_dir: Path, warnings: list[str]) -> dict[str, tuple[int, int, int, int]]:
    from .sources import site_files
    found = site_files(site_dir)
    warnings.extend(found.skipped)
    return found.signatures


def check(site_dir: str | os.PathLike = "data", *, now: datetime | None = None) -> BuildReport:
    """Validate feedpub.toml and every record without writing anything."""
    from .scan import scan_file
    from .select import select
    site_dir = Path(site_dir)
    config = load_config(site_dir)
    now_ts = _now_ts(now)
    skipped: list[str] = []
    sigs = _stat_files(site_dir, skipped)
    scans = [scan_file(site_dir, path, config, now_ts, thorough=True) for path in sorted(sigs)]
    selection = select(scans, languages=config.languages, max_items=config.max_items, now_ts=now_ts,
                       category_feeds=False)
    report = BuildReport(records=sum(s.records for s in scans), files_read=len(scans), warnings=skipped)
    for s in scans:
        report.errors.extend(s.errors)
        report.warnings.extend(s.warnings)
    report.errors.extend(selection.errors)
    return report


def build(site_dir: str | os.PathLike = "data", out_dir: str | os.PathLike = "public", *,
          now: datetime | None = None, strict: bool = False, state_path: str | os.PathLike | None = None,
          wait: float = DEFAULT_WAIT, full: bool = False, ping_deadline: float | None = None) -> BuildReport:
    """Publish every feed of the site in SITE into OUT; see BuildReport.

    With a WebSub hub configured, the hub is told about the changed feeds once
    they are published and the lock is released, within ping_deadline seconds
    for all the pings together (None: websub.DEFAULT_DEADLINE, 10 s); their
    outcome is in report.pings and never fails the build.

    Raises ConfigError, SiteError, PublishError, LockedError, or RejectedError
    (strict and some record rejected); in each case no feed was changed.
    """
    site_dir, out_dir = Path(site_dir), Path(out_dir)
    if not (isinstance(wait, (int, float)) and 0 <= wait <= 86400):       # NaN fails both comparisons
        raise ValueError(f"wait must be a number of seconds from 0 to 86400, not {wait!r}")
    config = load_config(site_dir)
    now_ts = _now_ts(now)
    skipped: list[str] = []
    sigs = _stat_files(site_dir, skipped)
    out = prepare_dir(out_dir)
    with OutputLock(out, wait) as lock:
        from .manifest import read_manifest
        owned = read_manifest(out).files          # before the cache: an old cache may list what it published
        state_file = Path(state_path) if state_path else out / STATE_NAME
        private = os.path.realpath(state_file.parent) == os.path.realpath(out / PRIVATE_DIR)
        state = State(state_file, private=private)
        state.open(version=_version(), fingerprint=config.fingerprint)
        remove_stale_temps(out, folders_of(state.meta.get("outputs") or ()))
        try:
            if not full and _nothing_to_do(state, sigs, now_ts, out):
                report = _stored_report(state.meta)
                if strict and report.errors:
                    raise RejectedError(report.errors)
            else:
                report = _rebuild(config, site_dir, out, state, sigs, now_ts, strict=strict, full=full,
                                  inherited=(lock.fd,), owned=owned)
            report.warnings[:0] = skipped
        finally:
            state.close()
    # Outside the lock: a slow or dead hub must not keep the next run from publishing.
    if config.hub and report.changed:
        report.pings = _ping(config, report.changed, ping_deadline)
    return report


def _ping(config: Config, changed: list[str], deadline: float | None) -> list:
    from .websub import DEFAULT_DEADLINE, ping_hub
    return ping_hub(config.hub, [config.out_url(rel) for rel in changed], user_agent=f"feedpub/{_version()}",
                    deadline=DEFAULT_DEADLINE if deadline is None else deadline)


def _nothing_to_do(state: State, sigs, now_ts: float, out: Path) -> bool:
    """True when the inputs, the clock and the outputs are exactly as the last run left them."""
    meta = state.meta
    if "outputs" not in meta or state.sigs != sigs:
        return False
    if now_ts < meta.get("now_ts", float("inf")):
        return False
    due = meta.get("next_due")
    if due is not None and now_ts >= due:
        return False
    return _outputs_intact(out, meta["outputs"])


def _outputs_intact(out: Path, outputs: dict) -> bool:
    """Every file the last run published is still there, as it left it."""
    for rel, (size, mtime) in outputs.items():
        try:
            st = os.stat(out / rel)
        except OSError:
            return False
        if (st.st_size, st.st_mtime_ns) != (size, mtime):
            return False
    return True


def _wanted(selection) -> set[tuple[str, int, int, str]]:
    """(path, line, offset, id) of every chosen record and of its published translations."""
    wanted = {(p.path, p.rank.line, p.rank.offset, p.rank.id) for picks in selection.feeds.values() for p in picks}
    wanted |= {(t.path, t.line, t.offset, t.id) for versions in selection.translations.values()
               for t in versions.values()}
    return wanted


def _titled(translations: dict, articles: dict) -> dict:
    """Each story's language versions with their titles, from the loaded records."""
    import msgspec
    return {key: {lang: msgspec.structs.replace(t, title=articles[(t.path, t.line)].title)
                  for lang, t in versions.items()}
            for key, versions in translations.items()}


def _content_fingerprint(chosen: dict, translations: dict) -> str:
    """A digest of everything the feeds are made of: which articles each feed carries, every
    field of each, and their translation links. Equal digests give equal files."""
    import hashlib
    digest = hashlib.sha256()
    for key in sorted(chosen, key=lambda k: (k[0], k[1] or "")):
        digest.update(repr(key).encode())
        for article in chosen[key]:
            digest.update(repr(article).encode("utf-8", "surrogatepass"))
            links = translations.get(article.translation_key, {}) if article.translation_key else {}
            digest.update(repr(sorted((lang, t.url, t.title) for lang, t in links.items())).encode())
    return digest.hexdigest()


def _stored_report(meta: dict) -> BuildReport:
    summary = meta.get("summary", {})
    return BuildReport(
        feeds=[FeedReport(path, items, False) for path, items in summary.get("feeds", [])],
        errors=list(summary.get("errors", [])),
        records=summary.get("records", 0),
        skipped=True,
    )


def _scan_all(config: Config, site_dir: Path, state: State, sigs, now_ts: float, full: bool,
              inherited: tuple[int, ...] = (), encoded: dict[str, bytes] | None = None):
    """Reuse the cached scan of every unchanged file; read the others."""
    from .scan import scan_files
    reusable = [] if full else [p for p, sig in sigs.items() if state.sigs.get(p) == sig]
    scans = {p: s for p, s in state.load_scans(reusable).items() if s.scan_ts <= now_ts}
    fresh = sorted(set(sigs) - set(scans))
    from .render import warm_up
    scans.update(scan_files(site_dir, fresh, config, now_ts, close_in_workers=inherited, while_waiting=warm_up,
                            encoded=encoded))
    return scans, set(fresh)


def _select(config: Config, scans: dict, now_ts: float):
    from .select import select
    return select([scans[p] for p in sorted(scans)], languages=config.languages, max_items=config.max_items,
                  now_ts=now_ts, category_feeds=config.category_feeds)


def _rescan(config: Config, site_dir: Path, now_ts: float, scans: dict, fresh: set, encoded: dict,
            paths, **how) -> None:
    """Read these files again (keeping every candidate, or with the full validator)."""
    from .scan import scan_file
    for path in paths:
        scans[path] = scan_file(site_dir, path, config, now_ts, **how)
        encoded.pop(path, None)
        fresh.add(path)


def _rebuild(config: Config, site_dir: Path, out: Path, state: State, sigs, now_ts: float, *,
             strict: bool, full: bool, inherited: tuple[int, ...] = (),
             owned: frozenset[str] = frozenset()) -> BuildReport:
    from .loader import Unloadable, load_articles

    last_outputs, last_content = state.meta.get("outputs"), state.meta.get("content")
    last_summary = state.meta.get("summary", {})
    encoded: dict[str, bytes] = {}
    scans, fresh = _scan_all(config, site_dir, state, sigs, now_ts, full, inherited, encoded)
    rescan = partial(_rescan, config, site_dir, now_ts, scans, fresh, encoded)
    selection = _select(config, scans, now_ts)
    if selection.starved:
        rescan(selection.starved, keep_all=True)
        selection = _select(config, scans, now_ts)
    for _ in range(3):
        try:
            articles, warnings = load_articles(site_dir, _wanted(selection), config,
                                               {p: scans[p].sig for p in scans})
            break
        except Unloadable as bad:        # the fast scan let a broken record through: read its file fully
            unloadable = bad.paths
            rescan(unloadable, thorough=True)
            selection = _select(config, scans, now_ts)
    else:
        raise SiteError(f"{', '.join(sorted(unloadable))}: records keep changing while feedpub reads them; run again")
    errors = [e for p in sorted(scans) for e in scans[p].errors] + selection.errors
    if strict and errors:
        raise RejectedError(errors)
    records = sum(s.records for s in scans.values())
    racy_before = time.time() - RACY_SECONDS
    state.save_scans(scans, fresh, racy={p for p, sig in sigs.items() if sig[1] / 1e9 >= racy_before},
                     encoded=encoded)
    del scans, encoded, rescan                           # the per-record index is not needed past this point
    chosen = {key: [articles[(p.path, p.rank.line)] for p in picks] for key, picks in selection.feeds.items()}
    translations = _titled(selection.translations, articles)
    content = _content_fingerprint(chosen, translations)
    if not full and last_outputs and content == last_content and _outputs_intact(out, last_outputs):
        # Records changed, but not what any feed is made of (an old article edited, a file
        # touched): the published files are already right, and nothing needs rendering.
        report = BuildReport(feeds=[FeedReport(path, n, False) for path, n in last_summary.get("feeds", [])],
                             errors=errors, warnings=warnings, records=records, files_read=len(fresh))
        state.save_meta({"now_ts": now_ts, "next_due": selection.next_due, "outputs": last_outputs,
                         "content": content, "summary": {**last_summary, "errors": errors, "records": records}})
        return report
    from .feeds import build_feeds
    feeds = build_feeds(config, chosen, translations, version=_version())
    from .render import planned_outputs, render_outputs
    planned = planned_outputs(feeds)
    remove_stale_temps(out, folders_of(owned | planned))
    changed = publish_files(out, render_outputs(config, feeds), planned=planned, owned=owned)
    items = {}
    for feed in feeds:
        for key, rel in feed_files(feed.lang, feed.category_slug).items():
            if key != "page":
                items[rel] = len(feed.entries)
    report = BuildReport(
        feeds=[FeedReport(rel, items[rel], changed[rel]) for rel in sorted(changed) if rel in items],
        errors=errors, warnings=warnings, records=records,
        files_read=len(fresh), files_changed=sum(changed.values()))
    outputs = {}
    for rel in changed:
        st = os.stat(out / rel)
        outputs[rel] = [st.st_size, st.st_mtime_ns]
    state.save_meta({
        "now_ts": now_ts, "next_due": selection.next_due, "outputs": outputs, "content": content,
        "summary": {"feeds": [[f.path, f.items] for f in report.feeds], "errors": errors,
                    "records": report.records},
    })
    return report

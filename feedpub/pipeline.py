"""The library entry points: build() publishes a site's feeds, check() only judges its records.

A build runs four named stages, each a function with typed input and output:

    ingest   record files -> the index -> Ingested (ingest/stage.py)
    models   Ingested -> per-language and per-category Feed models (feeds.build_feeds)
    render   Feed models -> (path, bytes) of every file of OUT (render.render_outputs)
    publish  bytes -> atomic files in OUT, the manifest kept (publish.publish_files), or
             objects under a bucket prefix, its manifest in the bucket (s3/route.py)

Heavy modules (msgspec, feedgen, lxml, Jinja2) are imported only when a stage
needs them, so a run with nothing to do costs a walk of the record files and
one small read of the cache.
"""
from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from functools import partial
from datetime import datetime
from pathlib import Path
from typing import Callable

from . import progress
from .cache import Cache, disk_full
from .config import Config, load_config
from .errors import RecordError, RejectedError, UsageError
from .fsops import Tree, relative_inside
from .ingest.files import SiteFiles, site_files
from .layout import MANIFEST, PRIVATE_DIR, STATE_NAME, TEMP_NAME, feed_files
from .publish import FolderRoute, OutputLock, folders_of, open_output, remove_stale_temps
from .runstate import FeedRow, RunState, Summary

__all__ = ["BuildReport", "FeedReport", "build", "check", "resolve_now"]

DEFAULT_WAIT = 60.0


@dataclass(frozen=True)
class FeedReport:
    """One feed file of OUT: what it holds and whether this run rewrote it."""

    path: str               # relative to OUT
    items: int
    changed: bool
    lang: str = ""
    category: str | None = None     # the category's slug; None for the language's own feed
    kind: str = ""                  # the format's key in layout.FORMATS: "rss", "atom" or "json"
    newest: float | None = None     # the newest item's published time (Unix seconds); None when empty

    def row(self) -> FeedRow:
        """As the run state keeps it (without `changed`, which is this run's alone)."""
        return (self.path, self.items, self.lang, self.category, self.kind, self.newest)


@dataclass
class BuildReport:
    """What a run did: per-file results, rejected records (typed), warnings."""

    feeds: list[FeedReport] = field(default_factory=list)
    problems: list[RecordError] = field(default_factory=list)   # rejected records: file, line, field, message
    warnings: list[str] = field(default_factory=list)
    records: int = 0                                       # valid records in the site
    files_read: int = 0                                    # record files (re)read by this run
    skipped: bool = False                                  # nothing changed: no file was touched
    files_changed: int = 0                                 # files of OUT (feeds and pages) rewritten
    updated: list[str] = field(default_factory=list)       # those files
    removed: list[str] = field(default_factory=list)       # files of OUT deleted: no longer produced
    out: str = ""                                          # where: the folder, or the s3:// target
    source_rows: int = 0                                   # rows of the [source] database read in full
    pings: list = field(default_factory=list)              # WebSub results
    next_due: float | None = None                          # when a scheduled article comes due (Unix seconds)

    @property
    def errors(self) -> list[str]:
        """Each rejected record as its one line, FILE:LINE: field "NAME": what (expected …)."""
        return [str(problem) for problem in self.problems]

    @property
    def changed(self) -> list[str]:
        return [f.path for f in self.feeds if f.changed]


def _version() -> str:
    from .version import __version__
    return __version__


def resolve_now(now: datetime | str | None, config: Config) -> float:
    """The build's "now" as a Unix timestamp (dates.clock.read_now, in the site's zone and date
    order); a string that is no date is a UsageError naming --now."""
    from .dates.clock import read_now
    from .errors import DateError
    try:
        return read_now(now, config.tz, config.date_order)
    except DateError as exc:
        raise UsageError(f"--now: {exc}") from None


def check(site_dir: str | os.PathLike = "data", *, now: datetime | str | None = None) -> BuildReport:
    """Judge feedpub.toml and every record without writing anything."""
    from .ingest.stage import check_site
    site_dir = Path(site_dir)
    config = load_config(site_dir)
    now_ts = resolve_now(now, config)
    files = site_files(site_dir, required=config.source is None)
    rows = None
    if config.source is not None:
        from .ingest.rows import check_source
        rows = partial(check_source, config, now_ts=now_ts)
    checked = check_site(config, site_dir, files, now_ts, rows=rows)
    return BuildReport(problems=files.problems + checked.problems, warnings=files.skipped + checked.warnings,
                       records=checked.records, files_read=checked.files_read)


def build(site_dir: str | os.PathLike = "data", out_dir: str | os.PathLike | None = None, *,
          now: datetime | str | None = None, strict: bool = False, state_path: str | os.PathLike | None = None,
          wait: float = DEFAULT_WAIT, full: bool = False, ping_deadline: float | None = None,
          config: Config | None = None, source=None) -> BuildReport:
    """Publish every feed of the site in SITE into OUT; see BuildReport.

    OUT is a folder, or a string `s3://BUCKET/PREFIX` naming a bucket prefix of an S3-compatible
    store; None means `[publish] target` of feedpub.toml, else the folder "public".

    A long-running caller (`feedpub watch`) keeps its state warm: config, the site's Config it
    already loaded (instead of reading feedpub.toml again); source, an open
    database.DatabaseSource of that config's [source], used for this run's snapshot and left open.

    With a WebSub hub configured, the hub is told about the changed feeds once
    they are published and the lock is released, within ping_deadline seconds
    for all the pings together (None: websub.DEFAULT_DEADLINE, 10 s); their
    outcome is in report.pings and never fails the build.

    Raises ConfigError, SiteError, PublishError, CacheError, LockedError,
    UsageError (a bad `now` string, or OUT or the cache inside SITE/articles) or RejectedError (strict and some record
    rejected); in each case no feed was changed.
    """
    site_dir = Path(site_dir)
    if not (isinstance(wait, (int, float)) and 0 <= wait <= 86400):       # NaN fails both comparisons
        raise ValueError(f"wait must be a number of seconds from 0 to 86400, not {wait!r}")
    config = load_config(site_dir) if config is None else config
    now_ts = resolve_now(now, config)
    files = site_files(site_dir, required=config.source is None)
    target = _bucket_target(out_dir, config)
    if target is not None:
        report = _build_to_bucket(config, site_dir, target, files, now_ts, strict=strict, state_path=state_path,
                                  wait=wait, full=full)
        return _after_lock(config, report, ping_deadline)
    out_dir = Path(out_dir if out_dir is not None else "public")
    _refuse_output_among_records(site_dir, out_dir, state_path)
    state_rel = _cache_place(out_dir, state_path)
    if strict and files.problems:
        raise RejectedError([str(p) for p in files.problems])
    out = open_output(out_dir)
    route = FolderRoute(out)

    def prepare() -> Cache:
        from .manifest import read_manifest
        route.owned = read_manifest(out).files    # before the cache: an old cache may list what it published
        cache = _open_cache(out, state_path, state_rel, config)
        remove_stale_temps(out, folders_of(cache.state.outputs or ()))
        return cache

    report = _locked_run(config, site_dir, files, now_ts, folder=out, target=route, shown=str(out_dir),
                         prepare=prepare, strict=strict, full=full, wait=wait, warm=source)
    return _after_lock(config, report, ping_deadline)


def _after_lock(config: Config, report: BuildReport, ping_deadline: float | None) -> BuildReport:
    """What follows a publish, outside the lock (a slow or dead hub or CDN must not keep the next
    run from publishing): the WebSub pings, the CDN purge hook with every file updated or removed."""
    if config.hub and report.changed:
        report.pings = _ping(config, report.changed, ping_deadline)
    purge_command = config.publish.purge_command if config.publish is not None else ()
    if purge_command and (report.updated or report.removed):
        from .purge import purge
        report.warnings += purge(purge_command, [config.out_url(rel) for rel in report.updated + report.removed])
    return report


def _bucket_target(out_dir, config: Config):
    """The bucket prefix a build publishes to (publishconfig.S3Target), or None for a folder."""
    if out_dir is not None and not isinstance(out_dir, str):
        return None
    from .publishconfig import TargetError, chosen_target
    try:
        return chosen_target(out_dir, config.publish)
    except TargetError as exc:
        raise UsageError(f"--out: {exc}") from None


def _build_to_bucket(config: Config, site_dir: Path, target, files: SiteFiles, now_ts: float, *, strict: bool,
                     state_path, wait: float, full: bool) -> BuildReport:
    """build() for a bucket prefix: the same stages, the cache and the lock on this machine (by
    default in a folder of their own for this target, s3/route.py), the publish to the bucket.
    Nothing in a local OUT is looked at."""
    from .publishconfig import DEFAULT_PUBLISH
    from .s3.route import BucketRoute
    route = BucketRoute(target, config.publish or DEFAULT_PUBLISH)      # boto3 is imported here
    state_file, default_place = route.state_path(state_path)
    _refuse_output_among_records(site_dir, None, state_file)
    if strict and files.problems:
        raise RejectedError([str(p) for p in files.problems])
    folder = Tree.open(state_file.parent, what="the cache's folder")

    def prepare() -> Cache:
        cache = Cache(state_file, private=default_place, tree=folder, rel=state_file.name)
        return cache.open(version=_version(), fingerprint=config.fingerprint)

    return _locked_run(config, site_dir, files, now_ts, folder=folder, target=route, shown=str(target),
                       prepare=prepare, strict=strict, full=full, wait=wait)


def _locked_run(config: Config, site_dir: Path, files: SiteFiles, now_ts: float, *, folder: Tree, target,
                shown: str, prepare, strict: bool, full: bool, wait: float, warm=None) -> BuildReport:
    """One run under the lock in `folder` (OUT itself, or a bucket's local folder), publishing to
    `target` (publish.FolderRoute, or s3.route.BucketRoute): prepare() opens the cache (and tells
    the target what it needs to know first); then the no-op, the database route or ingest and
    rebuild. A run that
    publishes nothing leaves nothing it made, and a full disk under the cache says so. `folder` is
    closed on the way out."""
    try:
        with OutputLock(folder, wait) as lock:
            cache = None
            try:
                cache = prepare()
                if config.source is not None:
                    report = _build_with_source(config, site_dir, target, cache, files, now_ts, strict=strict,
                                                full=full, inherited=(lock.fd,), warm=warm)
                elif not full and cache.state.nothing_to_do(files=files.digest, source=None, now_ts=now_ts,
                                                            next_due=cache.state.next_due,
                                                            intact=_intact(target, cache.state)):
                    report = _stored_report(cache.state)
                    if strict and report.problems:
                        raise RejectedError(report.errors)
                else:
                    ingested = _ingest(config, site_dir, cache, files, now_ts, full=full, inherited=(lock.fd,))
                    report = _rebuild(config, target, cache, files, ingested, now_ts, strict=strict, full=full)
                report.warnings[:0] = files.skipped
                report.warnings += target.warnings
                report.problems[:0] = files.problems
                report.out = shown
            except BaseException as exc:
                if cache is not None:             # a run that publishes nothing leaves nothing it made
                    cache.undo()
                folder.undo()
                if cache is not None and disk_full(exc):
                    raise cache.full() from None
                raise
            finally:
                if cache is not None:
                    cache.close()
    finally:
        folder.close()
    return report


def _cache_place(out_dir: Path, state_path) -> str | None:
    """Where the cache lives inside OUT (relative to it), or None when --state puts it outside.
    --state may name a path inside OUT only in OUT's private folder: anywhere else it would be
    among the files feedpub publishes (a UsageError, before anything is created)."""
    if state_path is None:
        return STATE_NAME
    rel = relative_inside(out_dir, state_path)
    if rel is None:
        return None
    folder, _, name = rel.rpartition("/")
    if folder == PRIVATE_DIR and rel != MANIFEST and not TEMP_NAME.fullmatch(name):
        return rel
    raise UsageError(f"{state_path}: the cache would be among the files feedpub publishes in {out_dir} "
                     f"(expected a path outside it, or inside {Path(out_dir) / PRIVATE_DIR})")


def _open_cache(out: Tree, state_path, state_rel: str | None, config: Config) -> Cache:
    """The cache, opened in OUT's private folder through OUT's descriptors, or at --state (resolved
    once, like OUT)."""
    if state_rel is not None:
        shown = Path(state_path) if state_path is not None else out.shown_path(state_rel)
        cache = Cache(shown, private=True, tree=out, rel=state_rel)
    else:
        cache = Cache(Path(state_path), resolved=Path(os.path.realpath(state_path)))
    return cache.open(version=_version(), fingerprint=config.fingerprint)


def _refuse_output_among_records(site_dir: Path, out_dir: Path | None, state_path) -> None:
    """OUT or the cache inside SITE/articles: the next run would read what this one writes (feed.json,
    a cache named *.json) as records."""
    articles = os.path.realpath(site_dir / "articles")

    def inside(path) -> bool:
        real = os.path.realpath(path)
        return real == articles or real.startswith(articles.rstrip(os.sep) + os.sep)

    if out_dir is not None and inside(out_dir):
        raise UsageError(f"{out_dir}: the output folder is inside {site_dir / 'articles'}, where every *.json file "
                         "is read as records (expected an output folder outside it, such as public)")
    if state_path is not None and inside(state_path):
        raise UsageError(f"{state_path}: the cache is inside {site_dir / 'articles'}, where the record files are "
                         f"(expected a path outside it; by default the cache lives in OUT/{PRIVATE_DIR}/)")


def _ping(config: Config, changed: list[str], deadline: float | None) -> list:
    from .websub import DEFAULT_DEADLINE, ping_hub
    return ping_hub(config.hub, [config.out_url(rel) for rel in changed], user_agent=f"feedpub/{_version()}",
                    deadline=DEFAULT_DEADLINE if deadline is None else deadline)


def _intact(out, last: RunState) -> Callable[[dict], bool]:
    """The no-op's question to the target: are the files the last run published as it left them
    (in a folder, each file's size and mtime; in a bucket, the manifest: one request)?"""
    return lambda outputs: out.unchanged_since(last)


def _stored_report(state: RunState) -> BuildReport:
    """The last run's report, for a run that had nothing to do."""
    return BuildReport(
        feeds=[_feed_report(row, False) for row in state.summary.feeds],
        problems=[RecordError(*problem) for problem in state.summary.problems],
        records=state.summary.records,
        skipped=True,
        next_due=state.next_due,
    )


def _ingest(config: Config, site_dir: Path, cache: Cache, files: SiteFiles, now_ts: float, *,
            full: bool, inherited: tuple[int, ...], source=None):
    """The ingest stage on the cache's index (with a [source], its ingest_with_source variant, given the
    open SourceView); a cache that breaks under it is rebuilt once."""
    from .ingest.index import RecordIndex
    from .ingest.stage import ingest
    from .render import warm_up
    for attempt in range(2):
        how = dict(full=full or cache.fresh, close_in_workers=inherited, while_waiting=warm_up)
        try:
            if source is None:
                ingested = ingest(config, site_dir, files, RecordIndex(cache.db), now_ts, **how)
            else:
                from .ingest.rows import ingest_with_source
                ingested = ingest_with_source(config, site_dir, files, RecordIndex(cache.db), now_ts, source, **how)
            return ingested
        except sqlite3.DatabaseError as exc:
            if attempt or disk_full(exc):
                raise
            cache.discard()
            full = True


def _build_with_source(config: Config, site_dir: Path, out, cache: Cache, files: SiteFiles, now_ts: float, *,
                       strict: bool, full: bool, inherited: tuple[int, ...], warm=None) -> BuildReport:
    """A site whose records (some or all) are in a database: the database says, through the
    fingerprint of its selection, whether anything a feed shows changed; it is read in full only
    then (the ingest stage's ingest_with_source), and closed before anything is rendered (warm: an
    open DatabaseSource kept by a long-running caller, whose snapshot ends there instead)."""
    from .ingest.rows import SourceView
    last = cache.state
    with SourceView(config, now_ts, last.file_keys, source=warm) as view:
        due = min((d for d in (last.file_due, view.next_due) if d is not None), default=None)
        if not full and last.nothing_to_do(files=files.digest, source=view.fingerprint, now_ts=now_ts, next_due=due,
                                           intact=_intact(out, last)):
            report = _stored_report(last)
            if strict and report.problems:
                raise RejectedError(report.errors)
            report.warnings += view.warnings
            report.next_due = due
            return report
        ingested = _ingest(config, site_dir, cache, files, now_ts, full=full, inherited=inherited, source=view)
    state = ingested.source
    report = _rebuild(config, out, cache, files, ingested, now_ts, strict=strict, full=full, source=state)
    report.source_rows = ingested.source_rows
    return report


def _rebuild(config: Config, out, cache: Cache, files: SiteFiles, ingested, now_ts: float, *,
             strict: bool, full: bool, source=None) -> BuildReport:
    """From what ingest chose to published files: the models, render and publish stages (or
    nothing at all when no feed's content changed). out: publish.FolderRoute or s3.route.BucketRoute.
    source: the database's SourceState, if any."""
    last = cache.state
    last_outputs, last_digests = last.outputs, last.feeds
    if strict and ingested.problems:
        raise RejectedError([str(p) for p in ingested.problems])
    from .feed_digests import feed_digests, feed_key
    digests, layout = feed_digests(ingested.chosen, ingested.translations)
    report = BuildReport(problems=ingested.problems, warnings=ingested.warnings, records=ingested.records,
                         files_read=ingested.files_read, next_due=ingested.next_due)
    # A file changed too recently to trust its mtime is read again next run: no digest, no no-op.
    state = RunState(indexed=True, files=None if ingested.racy else files.digest, now_ts=now_ts,
                     next_due=ingested.next_due, feeds=digests, layout=layout, outputs=last_outputs,
                     summary=last.summary, source=last.source, file_keys=last.file_keys, file_due=last.file_due,
                     bucket=last.bucket)
    if source is not None:
        state.source, state.file_keys, state.file_due = source.fingerprint, list(source.file_keys), source.file_due
    same_feeds = (not full and last_outputs and last.layout == layout and out.unchanged_since(last))
    if same_feeds and digests == last_digests:
        # Records changed, but not what any feed is made of (an old article edited, a file
        # touched): the published files are already right, and nothing needs rendering.
        report.feeds = [_feed_report(row, False) for row in last.summary.feeds]
        state.summary = _summary(report, feeds=last.summary.feeds)
        cache.save(state)
        return report
    from .feeds import build_feeds
    from .render import planned_outputs, render_outputs
    # The same feeds as last time: only those whose content changed are made and rendered.
    kept = frozenset(key for key in ingested.chosen
                     if last_digests.get(feed_key(*key)) == digests[feed_key(*key)]) if same_feeds else frozenset()
    feeds = build_feeds(config, ingested.chosen, ingested.translations, version=_version(), unrendered=kept)
    planned = planned_outputs(feeds)
    progress.stage("rendering and publishing")
    rendered = progress.counted(render_outputs(config, feeds, kept=kept))
    changed = out.publish(rendered, planned)
    report.removed = out.removed
    reports = {}
    for feed in feeds:
        newest = feed.entries[0].article.published.timestamp() if feed.entries else None
        for key, rel in feed_files(feed.lang, feed.category_slug).items():
            if key != "page":
                reports[rel] = FeedReport(rel, len(feed.entries), changed.get(rel, False), feed.lang,
                                          feed.category_slug, key, newest)
    report.feeds = [reports[rel] for rel in sorted(reports)]
    report.files_changed = sum(changed.values())
    report.updated = sorted(rel for rel, done in changed.items() if done)
    try:                        # published: from here on, nothing may turn the run into "nothing published"
        state.outputs, state.bucket = out.outputs(), out.record()
        state.summary = _summary(report, feeds=[f.row() for f in report.feeds])
        cache.save(state)
    except (OSError, sqlite3.Error) as exc:
        report.warnings.append(f"the cache could not record this run ({exc}); the next run builds again")
    return report


def _feed_report(row: FeedRow, changed: bool) -> FeedReport:
    path, items, lang, category, kind, newest = row
    return FeedReport(path, items, changed, lang, category, kind, newest)


def _summary(report: BuildReport, *, feeds: list[FeedRow]) -> Summary:
    return Summary(feeds=list(feeds),
                   problems=[(p.source, p.line, p.field, p.message) for p in report.problems],
                   records=report.records)

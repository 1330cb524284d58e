"""The index of every record file, kept in the cache's SQLite tables (schema in cache.py).

What must be known about every record of the site (its id, to find duplicates
across files; its translation key, to link language versions; whether it can
still reach a feed) lives here on disk, so a run's memory does not grow with
the archive: a run replaces the rows of the files that changed and asks
indexed queries for the few hundred rows it needs.

Rows arrive as JSON arrays (FileScan) and are inserted by SQLite's json_each,
so storing a file costs a few statements whatever its size.

The index supplies candidates; which of them each feed carries is the rule of
selection.py (select(), translations()). A file keeps only its newest candidates per
feed (selection.SCAN_SPARES beyond max_items): if the records left out as later uses
of an id could let one of its unkept records into a feed, the file is "starved" and
must be read again keeping every candidate, and the selection made again.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from sys import intern
from typing import Iterable, Iterator

import msgspec

from ..cache import DROP_INDEXES, INDEXES
from ..errors import RecordError
from ..selection import SCAN_SPARES, Chooser, Selection, newest_versions, rank
from .files import SiteFiles, Signature
from .scan import FileScan, Resume

__all__ = ["Candidate", "RecordIndex"]

_REPORT = msgspec.msgpack.Encoder()
_PROBLEMS = msgspec.msgpack.Decoder(list[tuple[int | str, str | None, str]])
BATCH_ROWS = 20_000


@dataclass(frozen=True)
class _Rows:
    """One table of a file's rows, as FileScan writes them (a JSON array per row, for json_each)."""

    table: str
    field: str                              # the FileScan attribute holding them
    columns: tuple[tuple[str, int], ...]    # each column and its position in a row's array
    key: tuple[str, ...]                    # with fid, the primary key
    same: tuple[str, ...]                   # what makes a row the same one in a later scan of the file

    def _select(self, names) -> str:
        where = dict(self.columns)
        return ", ".join(f"value->>{where[name]}" for name in names)

    def insert(self) -> str:
        names = [name for name, _ in self.columns]
        return f"INSERT INTO {self.table} (fid, {', '.join(names)}) SELECT ?, {self._select(names)} FROM json_each(?)"

    def upsert(self) -> str:
        """The insert, updating a row already there only where its values differ: an unchanged row
        is not written, nor the indexes over it."""
        rest = [name for name, _ in self.columns if name not in self.key]
        mine, theirs = ", ".join(rest), ", ".join(f"excluded.{name}" for name in rest)
        return (f"{self.insert()} WHERE true ON CONFLICT (fid, {', '.join(self.key)}) DO UPDATE SET "
                f"{', '.join(f'{name} = excluded.{name}' for name in rest)} WHERE ({mine}) IS NOT ({theirs})")

    def gone(self, among: str = "") -> str:
        """The rows of a file that its later scan no longer has (of those `among` names). The
        condition comes first: for a row not in the list, NOT IN looks through all of it."""
        return (f"DELETE FROM {self.table} WHERE fid = ? {among} AND ({', '.join(self.same)}) NOT IN "
                f"(SELECT {self._select(self.same)} FROM json_each(?))")


# The index's rows of one file (FileScan's docstring gives each array's layout).
RECORDS = _Rows("records", "ids", (("line", 1), ("offset", 2), ("id", 0), ("key", 3), ("lang", 4), ("ts", 5)),
                key=("line",), same=("line", "id"))
CANDS = _Rows("cands", "cands", (("line", 4), ("lang", 0), ("cat", 1), ("offset", 5), ("ts", 2), ("id", 3)),
              key=("line", "lang", "cat"), same=("line", "lang", "cat"))
FLOORS = _Rows("floors", "floors", (("lang", 0), ("cat", 1), ("ts", 2), ("id", 3)),
               key=("lang", "cat"), same=("lang", "cat"))
_INSERT = {rows: rows.insert() for rows in (RECORDS, CANDS, FLOORS)}
_GONE = {rows: rows.gone() for rows in (RECORDS, CANDS, FLOORS)}
_GONE_PUBLISHED = CANDS.gone("AND ts <= ?")      # a resumed scan's: its candidates published by its time
_UPSERT = {rows: rows.upsert() for rows in (RECORDS, CANDS, FLOORS)}
BATCH_FILES = 500            # files' scans held at once: many small files must not pile up


def _run(db: sqlite3.Connection, script: str) -> None:
    """Several statements inside the current transaction (executescript would commit it first)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A record that may be chosen: enough to rank it and to read it again."""

    ts: float
    id: str
    fid: int
    line: int
    offset: int

    @property
    def spot(self) -> tuple[int, int]:
        return (self.fid, self.line)


class RecordIndex:
    """Queries and updates on the index; every method may raise sqlite3.DatabaseError."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db
        self._paths: dict[int, str] = {}

    # --- what is stored -------------------------------------------------------------------------

    def changes(self, files: SiteFiles, now_ts: float) -> tuple[list[tuple[str, int, int]], list[str]]:
        """The files the index must read again: (path, size, mtime_ns) of every one that is new,
        changed (any part of its signature), or scanned after now_ts (the clock went back), in path
        order; and the paths it holds that are gone. Compared in bulk inside SQLite, so a site of
        many small files costs no Python object per unchanged file."""
        db = self.db
        db.execute("CREATE TEMP TABLE IF NOT EXISTS walk (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, "
                   "ino INTEGER, ctime_ns INTEGER) WITHOUT ROWID")
        db.execute("DELETE FROM walk")
        n = files.numbers
        db.executemany("INSERT OR REPLACE INTO walk VALUES (?, ?, ?, ?, ?)",
                       zip(files.paths, n[0::4], n[1::4], n[2::4], n[3::4]))
        stale = db.execute(
            "SELECT w.path, w.size, w.mtime_ns FROM walk w LEFT JOIN files f ON f.path = w.path "
            "WHERE f.fid IS NULL OR f.size != w.size OR f.mtime_ns != w.mtime_ns OR f.ino != w.ino "
            "OR f.ctime_ns != w.ctime_ns OR f.scan_ts > ? ORDER BY w.path", (now_ts,)).fetchall()
        removed = [path for (path,) in db.execute(
            "SELECT f.path FROM files f WHERE NOT EXISTS (SELECT 1 FROM walk w WHERE w.path = f.path)")]
        db.execute("DELETE FROM walk")
        return stale, removed

    def signature(self, path: str) -> Signature | None:
        row = self.db.execute("SELECT size, mtime_ns, ino, ctime_ns FROM files WHERE path = ?", (path,)).fetchone()
        return tuple(row) if row else None

    def held(self) -> int:
        return self.db.execute("SELECT count(*) FROM files").fetchone()[0]

    def path(self, fid: int) -> str:
        if fid not in self._paths:
            row = self.db.execute("SELECT path FROM files WHERE fid = ?", (fid,)).fetchone()
            self._paths[fid] = row[0]
        return self._paths[fid]

    def fid(self, path: str) -> int | None:
        row = self.db.execute("SELECT fid FROM files WHERE path = ?", (path,)).fetchone()
        return row[0] if row else None

    def resumable(self, paths: Iterable[str], now_ts: float) -> set[str]:
        """The paths among these whose last scan left a resume point this run may use."""
        wanted = msgspec.json.encode(sorted(paths))
        return {path for (path,) in self.db.execute(
            "SELECT path FROM files WHERE path IN (SELECT value FROM json_each(?)) AND head IS NOT NULL "
            "AND scan_ts <= ?", (wanted, now_ts))}

    def resume(self, path: str, now_ts: float, keep: int) -> Resume | None:
        """Where the last scan of a file stopped, with what the index keeps of the lines before: of
        its candidates published by now_ts, the newest `keep` per feed (a scan keeps no more; the
        scheduled ones stay as they are), and the feeds cut. None if it left no resume point, or
        scanned after now_ts (the clock went back: what it cut may be wanted). Chosen in SQLite:
        a file scanned keeping every candidate costs no memory here."""
        row = self.db.execute("SELECT fid, resume_offset, resume_line, head, records, report, scan_ts FROM files "
                              "WHERE path = ?", (path,)).fetchone()
        if row is None or row[3] is None or row[6] > now_ts:
            return None
        fid, offset, line, head, records, report, _ = row
        try:
            problems = _PROBLEMS.decode(report) if report is not None else []
        except (msgspec.DecodeError, msgspec.ValidationError, TypeError):
            raise sqlite3.DatabaseError(f"the index entry of {path} is damaged") from None
        cands, cut = [], {tuple(feed) for feed in self.db.execute("SELECT lang, cat FROM floors WHERE fid = ?", (fid,))}
        for lang, cat, ts, ident, at, where, total in self.db.execute(
                "SELECT lang, cat, ts, id, line, offset, total FROM (SELECT lang, cat, ts, id, line, offset, "
                "row_number() OVER (PARTITION BY lang, cat ORDER BY ts DESC, id DESC, line) AS n, "
                "count(*) OVER (PARTITION BY lang, cat) AS total FROM cands WHERE fid = ? AND ts <= ?) "
                "WHERE n <= ?", (fid, now_ts, keep)):
            cands.append((lang, cat, ts, ident, at, where))
            if total > keep:                            # more published than a scan keeps: one left out
                cut.add((lang, cat))
        return Resume(offset, line, head, records, problems, cands, sorted(cut))

    def records(self) -> int:
        return self.db.execute("SELECT coalesce(sum(records), 0) FROM files").fetchone()[0]

    def problems(self) -> list[RecordError]:
        """Every problem the scans of the current files found, in path and line order."""
        found = []
        for path, blob in self.db.execute("SELECT path, report FROM files WHERE report IS NOT NULL ORDER BY path"):
            try:
                problems = _PROBLEMS.decode(blob)
            except (msgspec.DecodeError, msgspec.ValidationError, TypeError):
                raise sqlite3.DatabaseError(f"the index entry of {path} is damaged") from None
            found.extend(RecordError(path, line, field, message) for line, field, message in problems)
        return found

    # --- replacing what changed -----------------------------------------------------------------

    def update(self, scans: Iterable[FileScan], removed: Iterable[str] = (), *, racy: frozenset[str] = frozenset(),
               full: bool = False) -> list[str]:
        """Replace the rows of every scanned file and drop the removed ones, in one transaction,
        then bring the duplicate ids up to date. Returns the paths scanned.

        A file modified too recently to trust its mtime (racy) is stored with an impossible
        signature, so that the next run reads it again. A full update drops the indexes while
        inserting and builds them once at the end, which is several times faster.
        """
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            if full:
                _run(db, "DELETE FROM files; DELETE FROM records; DELETE FROM cands; DELETE FROM floors; "
                         "DELETE FROM dups;" + DROP_INDEXES)
            gone = [self.fid(path) for path in removed]
            self._delete_rows([fid for fid in gone if fid is not None], files=True)
            scanned: list[str] = []
            added: list[int] = []                      # files new to the index: every id of theirs counts
            changed_ids: list[str] = []                # rescanned files: the ids of their new rows
            batch: list[tuple[int, FileScan]] = []
            rows = 0
            for scan in scans:
                fid = None if full else self.fid(scan.path)
                known = fid is not None
                fid = self._store_file(fid, scan, scan.path in racy)
                scanned.append(intern(scan.path))      # the walk's string: no copy per file
                if known:
                    changed_ids += self._replace_rows(fid, scan)
                    continue
                added.append(fid)
                batch.append((fid, scan))
                rows += scan.records
                if rows >= BATCH_ROWS or len(batch) >= BATCH_FILES:
                    self._insert_rows(batch)
                    batch, rows = [], 0
            self._insert_rows(batch)
            if full:
                _run(db, INDEXES)
                db.execute("INSERT INTO dups SELECT id FROM records GROUP BY id HAVING count(*) > 1")
            else:
                self._update_dups(added, changed_ids)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        self._paths.clear()
        return scanned

    def _delete_rows(self, fids: list[int], *, files: bool) -> None:
        for fid in fids:
            for table in ("records", "cands", "floors"):
                self.db.execute(f"DELETE FROM {table} WHERE fid = ?", (fid,))
            if files:
                self.db.execute("DELETE FROM files WHERE fid = ?", (fid,))

    def _store_file(self, fid: int | None, scan: FileScan, racy: bool) -> int:
        size, mtime, ino, ctime = (-1, -1, -1, -1) if racy else scan.sig
        report = _REPORT.encode(scan.problems) if scan.problems else None
        offset, line, head = scan.resume or (None, None, None)
        values = (scan.path, size, mtime, ino, ctime, scan.scan_ts, scan.records, report, offset, line, head)
        if fid is None:
            return self.db.execute("INSERT INTO files (path, size, mtime_ns, ino, ctime_ns, scan_ts, records, report, "
                                   "resume_offset, resume_line, head) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                   values).lastrowid
        self.db.execute("UPDATE files SET path = ?, size = ?, mtime_ns = ?, ino = ?, ctime_ns = ?, scan_ts = ?,"
                        " records = ?, report = ?, resume_offset = ?, resume_line = ?, head = ? WHERE fid = ?",
                        (*values, fid))
        return fid

    def _insert_rows(self, batch: list[tuple[int, FileScan]]) -> None:
        """The rows of several files: one statement per table and file, the rows parsed in C."""
        execute = self.db.execute
        for fid, scan in batch:
            for rows, sql in _INSERT.items():
                data = getattr(scan, rows.field)
                if data != b"[]":
                    execute(sql, (fid, data))

    def _replace_rows(self, fid: int, scan: FileScan) -> list[str]:
        """A file scanned again: its rows written as a difference, so that the rows it still has
        unchanged are not rewritten, nor the indexes over them (a JSONL file appended to costs
        its new lines, not all of them): rows gone are deleted, new or changed ones upserted.
        Returns the ids of the records that came (a row that went can only end a duplication, and
        every duplicated id is looked at again anyway).

        A resumed scan (since > 0) holds the records of its new lines only, and the file's
        candidates published by its time: the records before `since` stay, and so do the
        candidates scheduled after it."""
        execute = self.db.execute
        added: list[str] = []
        for rows in (RECORDS, CANDS, FLOORS):
            data = getattr(scan, rows.field)
            if not scan.since or rows is FLOORS:
                execute(_GONE[rows], (fid, data))
            elif rows is RECORDS:
                execute("DELETE FROM records WHERE fid = ? AND line >= ?", (fid, scan.since))
            else:
                execute(_GONE_PUBLISHED, (fid, scan.scan_ts, data))
            if rows is RECORDS:
                added = [ident for (ident,) in execute(_UPSERT[rows] + " RETURNING id", (fid, data)).fetchall()]
            else:
                execute(_UPSERT[rows], (fid, data))
        return added

    def _update_dups(self, fids: list[int], ids: list[str] | None = None) -> None:
        """Duplicate ids after some files changed: only the ids of the files new to the index (fids),
        the ids of new rows in a file scanned again (ids), and the ids that were duplicated before,
        can have changed status."""
        db = self.db
        db.execute("CREATE TEMP TABLE IF NOT EXISTS touched (id TEXT PRIMARY KEY) WITHOUT ROWID")
        db.execute("DELETE FROM touched")
        for fid in fids:
            db.execute("INSERT OR IGNORE INTO touched SELECT id FROM records WHERE fid = ?", (fid,))
        if ids:
            db.execute("INSERT OR IGNORE INTO touched SELECT value FROM json_each(?)", (msgspec.json.encode(ids),))
        db.execute("INSERT OR IGNORE INTO touched SELECT id FROM dups")
        db.execute("DELETE FROM dups")
        db.execute("INSERT INTO dups SELECT t.id FROM touched t "
                   "WHERE (SELECT count(*) FROM records r WHERE r.id = t.id) > 1")
        db.execute("DELETE FROM touched")

    # --- what a run asks ------------------------------------------------------------------------

    def duplicates(self) -> tuple[set[tuple[int, int]], list[RecordError]]:
        """Every later use of an id (files in path order, then line): its (fid, line), and its error."""
        losers: set[tuple[int, int]] = set()
        errors: list[RecordError] = []
        first: tuple[str, str, int] | None = None
        for ident, path, line, fid in self.db.execute(
                "SELECT r.id, f.path, r.line, r.fid FROM records r JOIN files f ON f.fid = r.fid "
                "WHERE r.id IN (SELECT id FROM dups) ORDER BY r.id, f.path, r.line"):
            if first is None or first[0] != ident:
                first = (ident, path, line)
                continue
            losers.add((fid, line))
            errors.append(RecordError(path, line, "id", (
                f'"{ident}" is already used by {first[1]}:{first[2]} '
                "(expected an id unique across the site; the first record was kept)")))
        errors.sort(key=lambda e: (e.source, e.line))
        return losers, errors

    def locate(self, ids: Iterable[str]) -> dict[str, str]:
        """id -> "FILE:LINE" of its first use in the record files, for each of these ids they use."""
        found: dict[str, str] = {}
        wanted = msgspec.json.encode(sorted(set(ids)))
        for ident, path, line in self.db.execute(
                "SELECT r.id, f.path, r.line FROM records r JOIN files f ON f.fid = r.fid "
                "WHERE r.id IN (SELECT value FROM json_each(?)) ORDER BY r.id, f.path, r.line", (wanted,)):
            found.setdefault(ident, f"{path}:{line}")
        return found

    def _feed_keys(self) -> list[tuple[str, str]]:
        """(language, category or "") of every feed some candidate belongs to, in order: a few
        seeks in the feed index per feed (a skip scan), not a pass over a million candidates."""
        execute = self.db.execute
        found: list[tuple[str, str]] = []
        row = execute("SELECT lang, cat FROM cands ORDER BY lang, cat LIMIT 1").fetchone()
        while row is not None:
            found.append(tuple(row))
            lang, cat = row
            more = execute("SELECT cat FROM cands WHERE lang = ? AND cat > ? ORDER BY cat LIMIT 1", row).fetchone()
            row = ((lang, more[0]) if more is not None else
                   execute("SELECT lang, cat FROM cands WHERE lang > ? ORDER BY lang, cat LIMIT 1", (lang,)).fetchone())
        return found

    def feeds(self, now_ts: float) -> list[tuple[str, str]]:
        """(language, category or "") of every feed some published candidate belongs to."""
        execute = self.db.execute
        return [feed for feed in self._feed_keys() if execute(
            "SELECT 1 FROM cands WHERE lang = ? AND cat = ? AND ts <= ? LIMIT 1", (*feed, now_ts)).fetchone()]

    def newest(self, lang: str, cat: str, now_ts: float, limit: int, after: int = 0) -> list[Candidate]:
        """A feed's candidates published by now_ts, newest first by (published, id)."""
        return [Candidate(*row) for row in self.db.execute(
            "SELECT ts, id, fid, line, offset FROM cands WHERE lang = ? AND cat = ? AND ts <= ? "
            "ORDER BY ts DESC, id DESC LIMIT ? OFFSET ?", (lang, cat, now_ts, limit, after))]

    def floors(self, lang: str, cat: str) -> Iterator[tuple[int, float, str]]:
        """(fid, ts, id) of each file that kept only part of its candidates for this feed: the lowest kept."""
        return iter(self.db.execute("SELECT fid, ts, id FROM floors WHERE lang = ? AND cat = ?", (lang, cat)).fetchall())

    def versions(self, keys: Iterable[str], now_ts: float) -> Iterator[tuple[str, str, Candidate]]:
        """(key, lang, candidate) of every published record carrying one of these translation keys."""
        wanted = msgspec.json.encode(sorted(set(keys)))
        for key, lang, ts, ident, fid, line, offset in self.db.execute(
                "SELECT key, lang, ts, id, fid, line, offset FROM records "
                "WHERE key IN (SELECT value FROM json_each(?)) AND ts <= ?", (wanted, now_ts)):
            yield key, lang, Candidate(ts, ident, fid, line, offset)

    def next_due(self, now_ts: float) -> float | None:
        """When the earliest scheduled record comes due."""
        execute = self.db.execute
        due = [row[0] for feed in self._feed_keys() for row in execute(
            "SELECT ts FROM cands WHERE lang = ? AND cat = ? AND ts > ? ORDER BY ts LIMIT 1", (*feed, now_ts))]
        return min(due, default=None)

    # --- what each feed carries, chosen by the rule of selection ---------------------------------

    def select(self, languages, *, max_items: int, now_ts: float, category_feeds: bool) -> Selection[Candidate]:
        """Every feed's entries: its candidates, page by page (newest first, for speed), given to the
        chooser without the later uses of an id; and the files whose unkept candidates could enter."""
        losers, problems = self.duplicates()
        chooser = Chooser(max_items, now_ts)
        starved: set[int] = set()
        for lang in languages:
            chooser.add_feed((lang, ""))               # every configured language has a feed
        for lang, cat in self.feeds(now_ts):
            if lang not in languages or (cat and not category_feeds):
                continue
            feed = (lang, cat)
            offset, page = 0, max_items + SCAN_SPARES
            while True:
                rows = self.newest(lang, cat, now_ts, page, offset)
                for c in rows:
                    if c.spot not in losers:
                        chooser.offer(c.ts, c.id, (feed,), c)
                if len(rows) < page or chooser.full(feed):   # the rows left rank below every one offered
                    break
                offset += page
            starved |= self._starved(lang, cat, chooser, feed)
        feeds, _ = chooser.chosen()
        return Selection({(lang, cat or None): picks for (lang, cat), picks in feeds.items()},
                         next_due=self.next_due(now_ts), problems=problems, losers=losers, starved=starved)

    def _starved(self, lang: str, cat: str, chooser: Chooser, feed) -> set[int]:
        """Files whose unkept candidates for this feed could rank among its picks."""
        if not chooser.full(feed):
            return {fid for fid, _, _ in self.floors(lang, cat)}
        last = chooser.lowest(feed)
        return {fid for fid, ts, ident in self.floors(lang, cat) if rank(ts, ident) >= last}

    def translations(self, keys: set[str], losers: set[tuple[int, int]],
                     now_ts: float) -> dict[str, dict[str, Candidate]]:
        """For each story, its newest published version in each language (the rule: newest_versions)."""
        if not keys:
            return {}
        return newest_versions(((key, lang, cand) for key, lang, cand in self.versions(keys, now_ts)
                                if cand.spot not in losers), now_ts)

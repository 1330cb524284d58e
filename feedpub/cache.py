"""The cache in OUT's private folder (layout.STATE_NAME) or at --state: what makes repeated runs cheap.

One SQLite file (standard library) holds the index of every record file (its
signature, its problems, and the rows ingest/index.py keeps: every record's id
and translation key, the newest candidates per feed) and the state the last run left
(runstate.RunState: its outputs, its report, what its inputs were).
It is only a cache: a missing, damaged or foreign one (another feedpub version
or another feedpub.toml) means a full rebuild, never a wrong feed.

It is recognised positively, by SQLite's own mark for it: PRAGMA application_id
holds feedpub's number, and PRAGMA user_version the schema. A database without
that id is never written, truncated, upgraded or deleted; a cache written by a
feedpub from before application ids is recognised by its exact schema (the
CREATE statements that feedpub ran), once, and stamped. The file is reached
through its folder's descriptor (fsops.Tree): never through a symbolic link.
"""
from __future__ import annotations

import json
import os
import sqlite3
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .errors import CacheError, OutputPathError, PublishError
from .fsops import Tree
from .layout import CACHE_JOURNALS, temp_name
from .opener import CACHE_HEADER, describe
from .runstate import RunState, decode_state

__all__ = ["APPLICATION_ID", "Cache", "SCHEMA", "disk_full", "identify", "legacy_meta"]

SCHEMA = 10                          # PRAGMA user_version: the tables below
APPLICATION_ID = 0x46504231          # "FPB1" in the SQLite header: a feedpub cache, positively
_SQLITE_MAGIC = b"SQLite format 3\x00"
_ROLLBACK_JOURNAL = 1                # header byte 18: the journal mode every feedpub cache used before WAL or ids

# The exact schema of a cache from before application ids (sqlite_master as SQLite stored it): the
# only SQLite file without feedpub's id that feedpub ever takes for its own.
LEGACY_SCHEMA = frozenset({
    ("table", "meta", "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"),
    ("index", "sqlite_autoindex_meta_1", None),
    ("table", "files", "CREATE TABLE files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, ino INTEGER, "
                       "scan BLOB NOT NULL)"),
    ("index", "sqlite_autoindex_files_1", None),
})

# The index: rows per record file, all removed and replaced together when the file changes.
TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (fid INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, size INTEGER,
    mtime_ns INTEGER, ino INTEGER, ctime_ns INTEGER, scan_ts REAL, records INTEGER, report BLOB,
    resume_offset INTEGER, resume_line INTEGER, head BLOB);
CREATE TABLE IF NOT EXISTS records (fid INTEGER, line INTEGER, offset INTEGER, id TEXT, key TEXT, lang TEXT,
    ts REAL, PRIMARY KEY (fid, line)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cands (fid INTEGER, line INTEGER, lang TEXT, cat TEXT, offset INTEGER, ts REAL,
    id TEXT, PRIMARY KEY (fid, line, lang, cat)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS floors (fid INTEGER, lang TEXT, cat TEXT, ts REAL, id TEXT,
    PRIMARY KEY (fid, lang, cat)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dups (id TEXT PRIMARY KEY) WITHOUT ROWID;
"""
INDEXES = """
CREATE INDEX IF NOT EXISTS records_by_id ON records (id);
CREATE INDEX IF NOT EXISTS records_by_key ON records (key) WHERE key IS NOT NULL;
CREATE INDEX IF NOT EXISTS cands_by_feed ON cands (lang, cat, ts DESC, id DESC);
"""
DROP_INDEXES = ("DROP INDEX IF EXISTS records_by_id; DROP INDEX IF EXISTS records_by_key; "
                "DROP INDEX IF EXISTS cands_by_feed;")


@dataclass(frozen=True, slots=True)
class Verdict:
    state: str                # "absent", "ours", "legacy", "damaged" (not a database), "foreign" or "unsafe"
    reason: str = ""          # why it is not ours


def identify(path: Path) -> str | None:
    """None when path is missing or is a feedpub cache (ours to change or rebuild); otherwise why
    it is not one. A file feedpub did not create is never deleted, truncated or altered."""
    try:
        tree = Tree.open(Path(path).parent, create=False)
    except PublishError:
        return None
    with tree:
        try:
            verdict = examine(tree, Path(path).name)
        except OutputPathError as problem:
            return problem.reason
    return None if verdict.state in ("absent", "ours", "legacy") else verdict.reason


def examine(tree: Tree, rel: str) -> Verdict:
    """What the file at rel of tree is, told by its header alone (an SQLite file is opened only to
    recognise an old feedpub cache by its schema)."""
    st = tree.lstat(rel)
    if st is None:
        return Verdict("absent")
    if not stat.S_ISREG(st.st_mode):
        extra = " (feedpub never follows one to its cache)" if stat.S_ISLNK(st.st_mode) else ""
        return Verdict("unsafe", f"is {describe(st.st_mode)}{extra}")
    try:
        header = tree.head(rel, CACHE_HEADER.cap)
    except OSError as exc:
        return Verdict("damaged", f"cannot be read: {exc.strerror}")
    if not header.startswith(_SQLITE_MAGIC) or len(header) < CACHE_HEADER.cap:
        return Verdict("damaged", "is not an SQLite database")
    app_id = int.from_bytes(header[68:72], "big")
    if app_id == APPLICATION_ID:
        return Verdict("ours")
    if app_id == 0 and int.from_bytes(header[60:64], "big") == 0 and header[18] == _ROLLBACK_JOURNAL \
            and _legacy_schema(tree, rel):
        return Verdict("legacy")
    return Verdict("foreign", "is an SQLite database of another application")


def _legacy_schema(tree: Tree, rel: str) -> bool:
    """The schema is exactly that of a cache from before application ids."""
    try:
        db = read_only(tree.proc_path(rel))
    except (sqlite3.Error, OSError):
        return False
    try:
        rows = {tuple(row) for row in db.execute("SELECT type, name, sql FROM sqlite_master")}
        return rows == LEGACY_SCHEMA
    except sqlite3.Error:
        return False
    finally:
        db.close()


def read_only(path: str) -> sqlite3.Connection:
    """An existing SQLite file, opened read-only: never created, never written."""
    return sqlite3.connect(f"file:{quote(os.fsencode(path))}?mode=ro", uri=True)


def legacy_meta(tree: Tree, rel: str) -> Any:
    """The decoded meta row of the cache at rel if it is exactly a cache from before application
    ids; None otherwise (or when it holds none)."""
    if examine(tree, rel).state != "legacy":
        return None
    try:
        db = read_only(tree.proc_path(rel))
    except (sqlite3.Error, OSError):
        return None
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'meta'").fetchone()
        return json.loads(row[0]) if row else None
    except (sqlite3.Error, ValueError, TypeError, RecursionError):
        return None
    finally:
        db.close()


def disk_full(exc: BaseException) -> bool:
    """SQLite could not write for want of space (SQLITE_FULL)."""
    return isinstance(exc, sqlite3.OperationalError) and getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL


class Cache:
    """One cache file, opened for one run. `db` is always usable after open(): when the file
    cannot be used (an unwritable folder), the run works on a temporary one.

    The file is `rel` in `tree` (OUT's private folder, or the folder --state names, resolved
    once); given only a path (`resolved`: the same, links resolved), the cache opens its folder itself."""

    def __init__(self, path: Path, *, private: bool = False, tree: Tree | None = None, rel: str | None = None,
                 resolved: Path | None = None):
        self.path = Path(path)          # as messages name it
        self._where = Path(resolved) if resolved is not None else self.path
        self.private = private          # in OUT's private folder: a file there that is not a database is damage
        self.db: sqlite3.Connection | None = None
        self.state = RunState()        # what the last run left; an empty one when there is none
        self.fresh = True               # the index holds nothing: a full build fills it
        self._tree = tree
        self._own_tree = tree is None
        self._rel = rel if rel is not None else self._where.name
        self._temporary: str | None = None

    def open(self, *, version: str, fingerprint: str) -> "Cache":
        """Open (or create) the cache; forget its content if it belongs to another version or config.

        Raises CacheError, touching nothing, when the path holds a file that is not a feedpub cache,
        and PublishError when the disk is full.
        """
        if self._tree is None:
            try:
                self._tree = Tree.open(self._where.parent, what="the cache's folder")
            except PublishError:
                self._tree = None
        verdict = self._examine()
        if verdict.state == "damaged" and self.private:
            self.discard()                  # feedpub's own folder: a file there that is no database is damage
        elif verdict.state in ("damaged", "foreign", "unsafe"):
            raise CacheError(f"{self.path}: {verdict.reason}, not a feedpub cache; feedpub never changes a file it "
                             "did not create (give --state a new path, or remove the file yourself)")
        try:
            if self.db is None:
                if verdict.state == "absent":
                    self._create()
                self._connect(legacy=verdict.state == "legacy")
            if self.db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA:
                self.reset()
            row = self.db.execute("SELECT value FROM meta WHERE key = 'meta'").fetchone()
            state = decode_state(row[0] if row else None)
            if state is None or not state.belongs_to(SCHEMA, version, fingerprint):
                self.reset()
            else:
                self.state = state
            self.fresh = not self.state.indexed
        except CacheError:
            self._close_db()
            raise
        except sqlite3.DatabaseError as exc:
            if disk_full(exc):
                self._close_db()
                raise self.full() from None
            self.discard()
        except (ValueError, TypeError, AttributeError, OSError, OutputPathError):
            self.discard()
        self.state.schema, self.state.version, self.state.fingerprint = SCHEMA, version, fingerprint
        return self

    def full(self) -> PublishError:
        """The error of a run that could not write its cache for want of space."""
        return PublishError(f"{self.path}: cannot be written: No space left on device (ENOSPC); nothing was "
                            "published and the feeds are as they were (free some space and run again)")

    def _examine(self) -> Verdict:
        if self._tree is None:
            return Verdict("absent")
        try:
            for suffix in CACHE_JOURNALS:       # SQLite would open a journal through a link
                beside = examine(self._tree, self._rel + suffix)
                if beside.state == "unsafe":
                    raise CacheError(f"{self.path}{suffix}: {beside.reason}, not a journal of feedpub's cache; "
                                     "nothing was published")
            return examine(self._tree, self._rel)
        except OutputPathError as problem:
            raise CacheError(f"{problem.root}: {problem.rel} {problem.reason}; nothing was published") from None

    def _create(self) -> None:
        """A new, stamped cache, made beside the path and linked into place only once complete, so
        that the path never holds a file that could not be recognised as ours."""
        if self._tree is None:
            raise OSError(2, "no folder for the cache")
        folder, _, name = self._rel.rpartition("/")
        tmp = f"{folder}/{temp_name(name, os.getpid())}" if folder else temp_name(name, os.getpid())
        os.close(self._tree.create(tmp, replace_file=True))
        try:
            db = sqlite3.connect(self._tree.proc_path(tmp), isolation_level=None)
            try:
                db.execute("PRAGMA journal_mode=OFF")
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                db.execute(f"PRAGMA user_version = {SCHEMA}")
                db.executescript(TABLES)
            finally:
                db.close()
            self._tree.link_new(tmp, self._rel)      # never replaces a file that appeared meanwhile
        finally:
            self._tree.discard(tmp)

    def _connect(self, *, legacy: bool = False) -> None:
        if self._tree is None:
            raise OSError(2, "no folder for the cache")
        self._attach(self._tree.proc_path(self._rel))
        found = self.db.execute("PRAGMA application_id").fetchone()[0]
        if found != APPLICATION_ID:
            if not legacy:                   # replaced since it was examined: not ours to touch
                self._close_db()
                raise CacheError(f"{self.path}: is an SQLite database of another application, not a feedpub "
                                 "cache; feedpub never changes a file it did not create")
            self.db.execute(f"PRAGMA application_id = {APPLICATION_ID}")        # stamped, once
            self._drop_tables()
            self.db.executescript(TABLES)
            self.db.execute(f"PRAGMA user_version = {SCHEMA}")
        self.db.executescript(TABLES)

    def _attach(self, path: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=DELETE")
        # A cache need not survive a power cut: a damaged file is discarded and rebuilt, and the
        # journal (written, if not fsynced) still protects it from a killed run.
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("PRAGMA cache_size=-16000")                  # 16 MB of pages at most

    def _drop_tables(self) -> None:
        for (name,) in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            self.db.execute(f'DROP TABLE "{name}"')

    def reset(self) -> None:
        """Forget everything (tables of an older schema included): the index is rebuilt from every file."""
        self._drop_tables()
        self.db.executescript(TABLES)
        self.db.execute(f"PRAGMA user_version = {SCHEMA}")
        self.state = RunState()
        self.fresh = True

    def discard(self) -> None:
        """A damaged cache (identified as ours when opened) is deleted and started afresh; if that
        fails too, this run works on a temporary database."""
        self._close_db()
        if self._tree is not None:
            for suffix in ("", *CACHE_JOURNALS):
                self._tree.discard(self._rel + suffix)
        self.state, self.fresh = RunState(), True
        try:
            self._create()
            self._connect()
        except (sqlite3.DatabaseError, OSError, OutputPathError):
            self._close_db()
            fd, self._temporary = tempfile.mkstemp(prefix="feedpub-", suffix=".sqlite")
            os.close(fd)
            self._attach(self._temporary)
            self.db.executescript(TABLES)

    def save(self, state: RunState) -> None:
        """Keep the state this run leaves (its identity, schema, version and configuration, is the
        cache's: it is set here)."""
        state.schema, state.version, state.fingerprint = self.state.schema, self.state.version, self.state.fingerprint
        self.state = state
        try:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('meta', ?)", (state.encode(),))
        except sqlite3.DatabaseError:
            pass                            # the next run finds no state and rebuilds

    def close(self) -> None:
        """Close the database, and the folder the cache opened itself."""
        self._close_db()
        if self._own_tree and self._tree is not None:
            self._tree.close()
            self._tree = None

    def _close_db(self) -> None:
        if self.db is not None:
            try:
                self.db.close()
            except sqlite3.Error:
                pass
            self.db = None
        if self._temporary:
            try:
                os.unlink(self._temporary)
            except OSError:
                pass
            self._temporary = None

    def undo(self) -> None:
        """For a run that publishes nothing: close the cache and remove what the run created for it
        (the file, its folders) where the cache has a folder of its own (--state); in OUT, the
        run's undo of OUT does it."""
        self._close_db()
        if self._own_tree and self._tree is not None:
            self._tree.undo()
        self.close()

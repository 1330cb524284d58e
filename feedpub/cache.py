"""The cache in OUT/.feedpub/state.sqlite (or --state): what makes repeated runs cheap.

One SQLite file (standard library) holds the index of every record file (its
signature, its problems, and the rows ingest/index.py keeps: every record's id
and translation key, the newest candidates per feed) and the last run's outputs and report.
It is only a cache: a missing, damaged or foreign one (another feedpub version
or another feedpub.toml) means a full rebuild, never a wrong feed. A file that
is not positively a feedpub cache is never deleted, truncated or altered.
"""
from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from .errors import CacheError

__all__ = ["APPLICATION_ID", "Cache", "SCHEMA", "identify", "legacy_meta", "read_only"]

SCHEMA = 8
APPLICATION_ID = 0x46504231          # "FPB1" in the SQLite header: a feedpub cache, positively
SIGNATURE = "feedpub cache"          # ... and the one row of its signature table
_SQLITE_MAGIC = b"SQLite format 3\x00"

# The index: rows per record file, all removed and replaced together when the file changes.
TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (fid INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, size INTEGER,
    mtime_ns INTEGER, ino INTEGER, ctime_ns INTEGER, scan_ts REAL, records INTEGER, report BLOB);
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


def identify(path: Path) -> str | None:
    """None when path is missing or is a feedpub cache (ours to change or rebuild); otherwise why
    it is not one. A file feedpub did not create is never deleted, truncated or altered."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):          # nothing there: nothing to protect
        return None
    except OSError as exc:
        return f"cannot be examined: {exc.strerror}"
    import stat
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file"
    try:
        with open(path, "rb") as handle:
            header = handle.read(100)
    except OSError as exc:
        return f"cannot be read: {exc.strerror}"
    if not header.startswith(_SQLITE_MAGIC) or len(header) < 100:
        return "is not an SQLite database"
    app_id = int.from_bytes(header[68:72], "big")
    if app_id == APPLICATION_ID:
        return None if _signed(path) else "carries feedpub's application id but not its signature table"
    if app_id == 0 and _legacy_cache(path):
        return None
    return "is an SQLite database of another application"


def _signed(path: Path) -> bool:
    """The signature table says feedpub; a file too damaged to tell is ours by its header alone."""
    try:
        db = read_only(path)
    except sqlite3.Error:
        return True
    try:
        return db.execute("SELECT signature FROM feedpub_cache").fetchone() == (SIGNATURE,)
    except sqlite3.OperationalError as exc:
        return "no such table" not in str(exc)
    except sqlite3.DatabaseError:
        return True
    finally:
        db.close()


def _legacy_cache(path: Path) -> bool:
    """A cache written by a feedpub that set no application id: its two tables and its meta row."""
    found = legacy_meta(path)
    if found is None or found[0] != {"meta", "files"}:
        return False
    meta = {} if found[1] is None else found[1]
    return isinstance(meta, dict) and (not meta or {"schema", "version", "fingerprint"} <= set(meta))


def read_only(path: Path) -> sqlite3.Connection:
    """An existing SQLite file, opened read-only: never created, never written."""
    return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)


def legacy_meta(path: Path) -> tuple[set[str], Any] | None:
    """The table names of an SQLite file and its decoded meta row (None when it has none), the
    shape of a cache from before caches were signed; None when the file cannot be read so."""
    try:
        db = read_only(path)
    except sqlite3.Error:
        return None
    try:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        row = db.execute("SELECT value FROM meta WHERE key = 'meta'").fetchone() if "meta" in tables else None
        return tables, (json.loads(row[0]) if row else None)
    except (sqlite3.Error, ValueError, TypeError, RecursionError):
        return None
    finally:
        db.close()


class Cache:
    """One cache file, opened for one run. `db` is always usable after open(): when the file
    cannot be used (an unwritable folder, a full disk), the run works on a temporary one."""

    def __init__(self, path: Path, *, private: bool = False):
        self.path = Path(path)
        self.private = private          # in OUT/.feedpub: a file there that is not a cache is damage
        self.db: sqlite3.Connection | None = None
        self.meta: dict[str, Any] = {}
        self.fresh = True               # the index holds nothing: a full build fills it
        self._temporary: str | None = None

    def open(self, *, version: str, fingerprint: str) -> "Cache":
        """Open (or create) the cache; forget its content if it belongs to another version or config.

        Raises CacheError, touching nothing, when the path holds a file that is not a feedpub cache.
        """
        problem = identify(self.path)
        if problem is not None and self.private and self.path.is_file() and not self.path.is_symlink():
            self.discard()                  # feedpub's own folder: whatever lies there is a damaged cache
            problem = None
        if problem is not None:
            raise CacheError(f"{self.path}: {problem}, not a feedpub cache; feedpub never changes a file it "
                             "did not create (give --state a new path, or remove the file yourself)")
        try:
            if self.db is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                if not self.path.exists():
                    self._create(self.path)
                self._connect(self.path)
            row = self.db.execute("SELECT value FROM meta WHERE key = 'meta'").fetchone()
            self.meta = json.loads(row[0]) if row else {}
            if not _well_formed(self.meta) or (
                    self.meta.get("schema"), self.meta.get("version"), self.meta.get("fingerprint")) != (
                    SCHEMA, version, fingerprint):
                self.reset()
            self.fresh = not self.meta.get("indexed")
        except (sqlite3.DatabaseError, ValueError, TypeError, AttributeError, OSError):
            self.discard()
        self.meta.update(schema=SCHEMA, version=version, fingerprint=fingerprint)
        return self

    @staticmethod
    def _create(path: Path) -> None:
        """A new, signed cache, made beside the path and linked into place only once complete, so
        that the path never holds a file that could not be recognised as ours."""
        tmp = path.with_name(f".{path.name}.{os.getpid()}.new")
        try:
            db = sqlite3.connect(tmp, isolation_level=None)
            try:
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                db.execute("CREATE TABLE feedpub_cache (signature TEXT NOT NULL)")
                db.execute("INSERT INTO feedpub_cache VALUES (?)", (SIGNATURE,))
            finally:
                db.close()
            try:
                os.link(tmp, path)              # never replaces a file that appeared meanwhile
            except FileExistsError:
                pass
        finally:
            try:
                os.unlink(tmp)
            except OSError:
                pass

    def _connect(self, path: Path | str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=DELETE")
        # A cache need not survive a power cut: a damaged file is discarded and rebuilt, and the
        # journal (written, if not fsynced) still protects it from a killed run.
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("PRAGMA cache_size=-16000")                  # 16 MB of pages at most
        if self.db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:     # a legacy cache
            self.db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            self.db.execute("CREATE TABLE IF NOT EXISTS feedpub_cache (signature TEXT NOT NULL)")
            self.db.execute("INSERT INTO feedpub_cache VALUES (?)", (SIGNATURE,))
            self._drop_tables()
        self.db.executescript(TABLES)

    def _drop_tables(self) -> None:
        for (name,) in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                       "AND name != 'feedpub_cache'").fetchall():
            self.db.execute(f'DROP TABLE "{name}"')

    def reset(self) -> None:
        """Forget everything (tables of an older schema included): the index is rebuilt from every file."""
        self._drop_tables()
        self.db.executescript(TABLES)
        self.meta = {}
        self.fresh = True

    def discard(self) -> None:
        """A damaged cache (identified as ours when opened) is deleted and started afresh; if that
        fails too, this run works on a temporary database."""
        self.close()
        for suffix in ("", "-journal", "-wal", "-shm"):
            try:
                os.unlink(f"{self.path}{suffix}")
            except OSError:
                pass
        self.meta, self.fresh = {}, True
        try:
            self._create(self.path)
            self._connect(self.path)
        except (sqlite3.DatabaseError, OSError):
            self.close()
            fd, self._temporary = tempfile.mkstemp(prefix="feedpub-", suffix=".sqlite")
            os.close(fd)
            self._connect(self._temporary)

    def save_meta(self, meta: dict[str, Any] | None = None) -> None:
        """Record what this run published and reported."""
        if meta:
            self.meta.update(meta)
        try:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('meta', ?)", (json.dumps(self.meta),))
        except sqlite3.DatabaseError:
            pass                            # the next run finds no meta and rebuilds

    def close(self) -> None:
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


def _well_formed(meta: Any) -> bool:
    """The shape the last run wrote; anything else is treated as no cache at all."""
    if not isinstance(meta, dict):
        return False
    outputs = meta.get("outputs", {})
    summary = meta.get("summary", {})
    try:
        return (isinstance(outputs, dict)
                and all(isinstance(k, str) and isinstance(v, list) and len(v) == 2
                        and all(isinstance(n, int) for n in v) for k, v in outputs.items())
                and isinstance(summary, dict)
                and all(isinstance(f, list) and len(f) == 6 and isinstance(f[0], str) and isinstance(f[1], int)
                        for f in summary.get("feeds", []))         # pipeline.FeedReport.row()
                and all(isinstance(e, list) and len(e) == 4 for e in summary.get("problems", []))
                and all(isinstance(w, str) for w in summary.get("warnings", []))
                and isinstance(summary.get("records", 0), int)
                and isinstance(meta.get("now_ts", 0), (int, float))
                and isinstance(meta.get("next_due") or 0, (int, float))
                and isinstance(meta.get("content", ""), str)
                and isinstance(meta.get("feeds", {}), dict)
                and isinstance(meta.get("files") or "", str))
    except (TypeError, ValueError):
        return False

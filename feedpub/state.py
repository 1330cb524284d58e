"""The on-disk cache that makes repeated runs cheap (SQLite, standard library).

It remembers, per record file, its signature and what its scan found, plus
the last run's outputs and report. It is only a cache: a missing, corrupt or
foreign state (another feedpub version or another config) means a full
rebuild, never a wrong feed. Heavy decoding happens only when a run needs the
scans; the no-op check reads plain columns.
"""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

SCHEMA = 6
APPLICATION_ID = 0x46504231          # "FPB1" in the SQLite header: a feedpub cache, positively
SIGNATURE = "feedpub cache"          # ... and the one row of its signature table
_SQLITE_MAGIC = b"SQLite format 3\x00"


def identify(path: Path) -> str | None:
    """None when path is missing or is a feedpub cache (ours to change or rebuild); otherwise why
    it is not one. A file feedpub did not create is never deleted, truncated or altered."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
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
        db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
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
    try:
        db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables != {"meta", "files"}:
            return False
        row = db.execute("SELECT value FROM meta WHERE key = 'meta'").fetchone()
        meta = json.loads(row[0]) if row else {}
        return isinstance(meta, dict) and (not meta or {"schema", "version", "fingerprint"} <= set(meta))
    except (sqlite3.Error, ValueError, TypeError, RecursionError):
        return False
    finally:
        db.close()


class State:
    """One state database; every method swallows nothing but treats damage as "empty"."""

    def __init__(self, path: Path, *, private: bool = False):
        self.path = Path(path)
        self.private = private          # in OUT/.feedpub: a file there that is not a cache is damage
        self.db: sqlite3.Connection | None = None
        self.meta: dict[str, Any] = {}
        self.sigs: dict[str, tuple[int, int, int, int]] = {}

    def open(self, *, version: str, fingerprint: str) -> "State":
        """Open (or create) the database; forget its content if it belongs to another version or config.

        Raises CacheError, touching nothing, when the path holds a file that is not a feedpub cache.
        """
        problem = identify(self.path)
        if problem is not None and self.private and self.path.is_file() and not self.path.is_symlink():
            self._discard()                 # feedpub's own folder: whatever lies there is a damaged cache
            problem = None
        if problem is not None:
            from .errors import CacheError
            raise CacheError(f"{self.path}: {problem}, not a feedpub cache; feedpub never changes a file it "
                             "did not create (give --state a new path, or remove the file yourself)")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                self._create()
            self._connect()
            row = self.db.execute("SELECT value FROM meta WHERE key = 'meta'").fetchone()
            self.meta = json.loads(row[0]) if row else {}
            if not _well_formed(self.meta) or (
                    self.meta.get("schema"), self.meta.get("version"), self.meta.get("fingerprint")) != (
                    SCHEMA, version, fingerprint):
                self._reset()
            self.sigs = {p: (s, m, i, c) for p, s, m, i, c in self.db.execute(
                "SELECT path, size, mtime_ns, ino, ctime_ns FROM files")}
        except (sqlite3.DatabaseError, ValueError, TypeError, AttributeError, OSError):
            self._discard()
        self.meta.update(schema=SCHEMA, version=version, fingerprint=fingerprint)
        return self

    def _create(self) -> None:
        """A new, signed cache, made beside the path and linked into place only once complete, so
        that the path never holds a file that could not be recognised as ours."""
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.new")
        try:
            db = sqlite3.connect(tmp, isolation_level=None)
            try:
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                db.execute("CREATE TABLE feedpub_cache (signature TEXT NOT NULL)")
                db.execute("INSERT INTO feedpub_cache VALUES (?)", (SIGNATURE,))
            finally:
                db.close()
            try:
                os.link(tmp, self.path)         # never replaces a file that appeared meanwhile
            except FileExistsError:
                pass
        finally:
            try:
                os.unlink(tmp)
            except OSError:
                pass

    def _connect(self) -> None:
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=DELETE")
        # A cache need not survive a power cut: a damaged file is discarded and rebuilt, and the
        # journal (written, if not fsynced) still protects it from a killed run.
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER,"
            " ino INTEGER, ctime_ns INTEGER, scan BLOB NOT NULL);")
        if self.db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:     # a legacy cache
            self.db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            self.db.execute("CREATE TABLE IF NOT EXISTS feedpub_cache (signature TEXT NOT NULL)")
            self.db.execute("INSERT INTO feedpub_cache VALUES (?)", (SIGNATURE,))

    def _reset(self) -> None:
        self.db.executescript("DELETE FROM meta; DELETE FROM files;")
        self.meta = {}

    def _discard(self) -> None:
        """A damaged cache (identified as ours when opened) is deleted and started afresh."""
        if self.db is not None:
            try:
                self.db.close()
            except sqlite3.Error:
                pass
        for suffix in ("", "-journal", "-wal", "-shm"):
            try:
                os.unlink(f"{self.path}{suffix}")
            except OSError:
                pass
        self.meta, self.sigs = {}, {}
        try:
            self._create()
            self._connect()
        except (sqlite3.DatabaseError, OSError):
            self.db = None

    def load_scans(self, paths: list[str]) -> dict[str, Any]:
        """Decoded FileScans of these files; a damaged row is simply missing."""
        from .scan import FileScan
        import msgspec
        decoder = msgspec.msgpack.Decoder(FileScan)
        found = {}
        if self.db is None:
            return found
        try:
            for path in paths:
                row = self.db.execute("SELECT scan FROM files WHERE path = ?", (path,)).fetchone()
                if row:
                    try:
                        found[path] = decoder.decode(row[0])
                    except (msgspec.DecodeError, msgspec.ValidationError):
                        pass
        except sqlite3.DatabaseError:
            self._discard()
            return {}
        return found

    def save_scans(self, scans: dict[str, Any], changed: set[str], *, racy: set[str],
                   encoded: dict[str, bytes] | None = None) -> None:
        """Store the scans of changed files and drop vanished ones, in one transaction.

        The last run's outputs are forgotten at the same time, so that a run
        dying between this and save_meta() is followed by a real rebuild.
        Files modified too recently to trust their mtime are stored with an
        impossible signature so that the next run reads them again. `encoded`
        holds scans already in msgpack form (as they came from a worker).
        """
        if self.db is None:
            return
        encoded = encoded or {}
        import msgspec
        encoder = msgspec.msgpack.Encoder()
        self.meta.pop("outputs", None)
        self.meta.pop("content", None)
        try:
            self.db.execute("BEGIN IMMEDIATE")
            gone = set(self.sigs) - set(scans)
            self.db.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in sorted(gone)])
            for path in sorted(changed | racy):
                scan = scans[path]
                size, mtime, ino, ctime = (-1, -1, -1, -1) if path in racy else scan.sig
                self.db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)",
                                (path, size, mtime, ino, ctime, encoded.get(path) or encoder.encode(scan)))
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('meta', ?)", (json.dumps(self.meta),))
            self.db.execute("COMMIT")
        except sqlite3.DatabaseError:
            self._discard()

    def save_meta(self, meta: dict[str, Any]) -> None:
        """Record what this run published and reported."""
        if self.db is None:
            return
        self.meta.update(meta)
        try:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('meta', ?)", (json.dumps(self.meta),))
        except sqlite3.DatabaseError:
            self._discard()

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None


def _well_formed(meta: Any) -> bool:
    """The shape the last run wrote; anything else is treated as no state at all."""
    if not isinstance(meta, dict):
        return False
    outputs = meta.get("outputs", {})
    summary = meta.get("summary", {})
    try:
        return (isinstance(outputs, dict)
                and all(isinstance(k, str) and isinstance(v, list) and len(v) == 2
                        and all(isinstance(n, int) for n in v) for k, v in outputs.items())
                and isinstance(summary, dict)
                and all(isinstance(p, str) and isinstance(n, int) for p, n in summary.get("feeds", []))
                and all(isinstance(e, str) for e in summary.get("errors", []))
                and isinstance(summary.get("records", 0), int)
                and isinstance(meta.get("now_ts", 0), (int, float))
                and isinstance(meta.get("next_due") or 0, (int, float))
                and isinstance(meta.get("content", ""), str))
    except (TypeError, ValueError):
        return False

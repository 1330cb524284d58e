"""One connection to the source database: opened with timeouts, read in one read-only snapshot,
bounded by a watchdog, and every failure turned into a SourceError whose message holds no password.

This is the only module that imports SQLAlchemy at its top; feedpub.database imports it
when a source is opened.
"""
from __future__ import annotations

import os
import stat
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator

import sqlalchemy
from sqlalchemy import event
from sqlalchemy.pool import NullPool

from ..errors import SourceError
from ..opener import DATABASE, check_input
from ..text import printable
from ..sourceconfig import SourceConfig, redact_text, sqlite_path
from .dialects import Generic, dialect_for, sqlite_connect


class Watchdog:
    """A thread that aborts the query in progress once its deadline passes: the last resort when
    the server neither answers nor enforces its own timeout (a stopped process, a dead link)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._deadline: float | None = None
        self._abort = None
        self._closed = False
        self.fired = False
        self._thread = threading.Thread(target=self._run, name="feedpub-db-watchdog", daemon=True)
        self._thread.start()

    def arm(self, seconds: float, abort) -> None:
        with self._cond:
            self._deadline = time.monotonic() + seconds
            self._abort = abort
            self._cond.notify()

    def disarm(self) -> None:
        with self._cond:
            self._deadline = None
            self._abort = None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (self._deadline is None or self._deadline > time.monotonic()):
                    self._cond.wait(None if self._deadline is None else self._deadline - time.monotonic())
                if self._closed:
                    return
                abort, self._deadline, self._abort = self._abort, None, None
                self.fired = True
            if abort is not None:
                abort()                    # each dialect's abort ignores a connection that is already gone


class Connection:
    """The source's connection and its snapshot transaction; `guard(what)` around every use."""

    def __init__(self, cfg: SourceConfig, *, snapshot: bool = True):
        self.cfg = cfg
        self.snapshot = snapshot             # False: no transaction is begun (a listener's connection)
        self.watchdog = Watchdog()
        self.engine = None
        self.conn = None
        self._transaction = None
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    def _open(self) -> None:
        cfg = self.cfg
        name = cfg.dialect
        try:
            if name == "sqlite":
                path = sqlite_path(cfg.url)
                # A FIFO there would hang SQLite's open, inside the lock: only a regular file is opened.
                check_input(path, DATABASE, shown=self._say(f"cannot connect to {cfg.shown_url}"))
                self.engine = sqlalchemy.create_engine(
                    "sqlite://", creator=lambda: sqlite_connect(path, cfg.connect_timeout), poolclass=NullPool)
            else:
                probe = dialect_for(name, str)
                self.engine = sqlalchemy.create_engine(probe.engine_url(cfg.url), poolclass=NullPool,
                                                       connect_args=probe.connect_args(cfg))
        except ImportError as exc:
            from ..extras import DIALECT_EXTRAS, install_hint
            extra = DIALECT_EXTRAS.get(cfg.dialect)
            how = install_hint(extra or "postgresql", missing=exc.name)
            raise SourceError(self._say(f"the database driver for {cfg.shown_url.split('://')[0]} is not "
                                        f"installed ({exc.name or exc}): {how}")) from None
        except sqlalchemy.exc.NoSuchModuleError:
            raise SourceError(self._say(f"{cfg.shown_url}: SQLAlchemy has no dialect for it (expected "
                                        "postgresql://, sqlite:///, mysql+pymysql:// or another SQLAlchemy "
                                        "dialect)")) from None
        except sqlalchemy.exc.ArgumentError as exc:
            raise SourceError(self._say(f"{cfg.shown_url} is not a URL SQLAlchemy can use: {exc}")) from None
        self.dialect: Generic = dialect_for(name, self.engine.dialect.identifier_preparer.quote)

        @event.listens_for(self.engine, "connect")
        def _on_connect(dbapi_conn, record):
            self.dialect.on_connect(dbapi_conn, cfg)

        with self.guard("cannot connect", connecting=True):
            self.conn = self.engine.connect()
            if self.snapshot:
                self._transaction = self.conn.begin()
                self.dialect.begin(self.conn)

    @property
    def dbapi(self) -> Any:
        return self.conn.connection.dbapi_connection

    def renew(self) -> None:
        """End the snapshot in progress (if any) and start a new one on the same connection, for the
        next run of a long-running process. SourceError when the connection is gone (a restarted
        server, a terminated backend): the caller closes this one and connects again."""
        if self.conn is None:
            raise SourceError(self._say(f"the connection to {self.cfg.shown_url} is closed"))
        self.release()
        with self.guard("cannot start a snapshot"):
            self._transaction = self.conn.begin()
            self.dialect.begin(self.conn)

    def release(self) -> None:
        """End the snapshot (roll back the read-only transaction) and keep the connection open."""
        try:
            if self._transaction is not None and self._transaction.is_active:
                self._transaction.rollback()
        except (sqlalchemy.exc.SQLAlchemyError, OSError):
            pass                           # a dead connection: renew() says so
        self._transaction = None

    def close(self) -> None:
        try:
            if self.conn is not None:
                try:
                    if self._transaction is not None and self._transaction.is_active:
                        self._transaction.rollback()
                except sqlalchemy.exc.SQLAlchemyError:
                    pass
                try:
                    self.conn.close()
                except sqlalchemy.exc.SQLAlchemyError:
                    pass
            if self.engine is not None:
                self.engine.dispose()
        finally:
            self.conn = self.engine = self._transaction = None
            self.watchdog.close()

    def arm(self) -> None:
        if self.conn is not None:
            dbapi = self.dbapi
            self.watchdog.arm(self.cfg.query_timeout + self.dialect.grace, lambda: self.dialect.abort(dbapi))

    @contextmanager
    def guard(self, what: str, *, connecting: bool = False) -> Iterator[None]:
        """Bound what runs inside by query_timeout, and turn any database failure into a SourceError."""
        self.watchdog.fired = False
        if not connecting:
            self.arm()
        try:
            yield
        except (sqlalchemy.exc.SQLAlchemyError, OSError) as exc:
            raise SourceError(self._failure(what, exc, connecting)) from None
        finally:
            self.watchdog.disarm()

    def lost(self, what: str, exc: BaseException) -> str:
        """This connection failed outside guard() (a listener's read): it is dropped without the
        pool's reset (which would fail on it again, loudly), and the one-line message says why."""
        try:
            if self.conn is not None:
                self.conn.invalidate()
        except (sqlalchemy.exc.SQLAlchemyError, OSError):
            pass
        return self._say(f"{what}: the connection to {self.cfg.shown_url} was lost: {_first_line(exc)}")

    def _failure(self, what: str, exc: BaseException, connecting: bool) -> str:
        cfg = self.cfg
        orig = getattr(exc, "orig", None) or exc
        detail = _first_line(orig)
        if connecting:
            return self._say(f"{what} to {cfg.shown_url}: {detail} (expected a reachable database within "
                             f"[source] connect_timeout = {cfg.connect_timeout:g} s, and a user that may connect)")
        if self.watchdog.fired or (self.dialect and self.dialect.timed_out(orig)):
            return self._say(f"{what}: no answer from {cfg.shown_url} within [source] query_timeout = "
                             f"{cfg.query_timeout:g} s; nothing was published")
        if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated or _lost(detail):
            return self._say(f"{what}: the connection to {cfg.shown_url} was lost: {detail}; nothing was published")
        return self._say(f"{what}: {detail} (database {cfg.shown_url})")

    def _say(self, message: str) -> str:
        """label: message, with the password of every URL in it (a driver's too) replaced by *** and
        every control character escaped."""
        return printable(redact_text(f"{self.cfg.label}: {message}"))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    keep = [lines[0]] if lines else [type(exc).__name__]
    for line in lines[1:3]:                    # libpq puts the reason on the next line ("FATAL: …")
        if line.startswith(("FATAL", "ERROR", "DETAIL", "HINT")) or keep[-1].endswith(":"):
            keep.append(line)
    return " ".join(keep)


def _lost(detail: str) -> bool:
    lowered = detail.lower()
    return any(words in lowered for words in (
        "server closed the connection", "terminating connection", "connection is closed", "lost connection",
        "consuming input failed", "connection reset", "broken pipe", "connection already closed",
        "the connection is lost", "connection refused"))

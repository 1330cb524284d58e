"""LISTEN on a PostgreSQL channel: the CMS's commits, told the moment they happen.

    listener = Listener(cfg)          # cfg.notify_channel; connects (within connect_timeout) and LISTENs
    select([listener, ...], …)        # fileno(): readable when a notification (or the server's goodbye) came
    count = listener.drain()          # notifications received since the last drain; SourceError when lost

A connection of its own, in autocommit (a LISTEN inside the build's read-only snapshot would only be
delivered when that transaction ends), with the same timeouts, keepalives and redacted messages as
the build's connection (dialects.Postgres, connection.Connection). Notifications are delivered at
COMMIT, so a statement-level trigger calling pg_notify (see the README) announces each transaction
once, whatever it changed. A restarted server or a terminated backend makes drain() raise: the
caller connects again (with a capped backoff) and then checks the selection's fingerprint, since
notifications sent while nobody listened are gone.
"""
from __future__ import annotations

from ..errors import SourceError
from ..sourceconfig import SourceConfig
from .connection import Connection

__all__ = ["Listener"]


class Listener:
    """One autocommit connection LISTENing on cfg.notify_channel (cfg resolved: its url set)."""

    def __init__(self, cfg: SourceConfig):
        if cfg.notify_channel is None:
            raise ValueError("the source has no notify_channel")
        self.channel = cfg.notify_channel
        self._connection = Connection(cfg, snapshot=False)
        self._fd = -1
        try:
            with self._connection.guard(f"cannot LISTEN on {self.channel}"):
                dbapi = self._connection.dbapi
                dbapi.autocommit = True
                dbapi.execute(f'LISTEN "{self.channel}"')
                self._fd = dbapi.fileno()
        except BaseException:
            self.close()
            raise

    def fileno(self) -> int:
        return self._fd

    def drain(self) -> int:
        """How many notifications arrived since the last call (0 when the socket woke for something
        else). Never blocks. SourceError when the connection is gone."""
        import psycopg
        from psycopg import pq
        try:
            pgconn = self._connection.dbapi.pgconn
            pgconn.consume_input()
            count = 0
            while pgconn.notifies() is not None:
                count += 1
            if pgconn.status != pq.ConnStatus.OK:
                raise psycopg.OperationalError("server closed the connection")
        except (psycopg.Error, OSError, AttributeError) as exc:
            raise SourceError(self._connection.lost(f"listening on {self.channel}", exc)) from None
        return count

    def close(self) -> None:
        self._fd = -1
        self._connection.close()

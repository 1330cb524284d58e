"""What differs between databases: connecting with timeouts, a read-only snapshot, column kinds,
the SQL that selects drafts and categories, row hashes, query plans, and which errors are timeouts.

PostgreSQL (psycopg 3), MySQL/MariaDB (PyMySQL) and SQLite (the standard library)
are known here; any other SQLAlchemy dialect is `Generic`: every row's ranking
columns are read and ranked in Python, which needs nothing but SELECT … WHERE … IN.

Column kinds, from the driver's description of `SELECT * … WHERE 1=0`:

    published  "aware" (timestamptz), "utc" (MySQL TIMESTAMP, read in UTC), "naive"
               (timestamp, datetime, date: wall time in the site zone), "number" (Unix
               seconds), "text" (anything else: ranked in Python)
    categories "array", "jsonb", "json" (cast to jsonb), "jsontext" (MySQL/MariaDB JSON),
               "text" (matched in Python)
    draft      "bool", "number" (0/1), "text"
    and kinds no record field can be: "time", "interval", "year", "bytes", "uuid", "other"
    (values.ACCEPTED says which kinds each field accepts; a type the driver does not name is "text")
"""
from __future__ import annotations

import math
import os
import socket
from typing import Any, Callable, Sequence

# Seq scans of relations at least this big (8 KiB pages: 8 MiB) are worth an index.
BIG_RELATION_PAGES = 1000


class Generic:
    name = "generic"
    typed = False                  # can the newest rows be chosen in SQL?
    grace = 2.0                    # the watchdog waits this much past query_timeout
    limit = True                   # does "LIMIT n" work?
    nulls_first = True             # does ORDER BY put NULL before every value (MySQL, SQLite; not PostgreSQL)?
    drivers: dict[str, str] = {}   # URL scheme -> the scheme of the driver feedpub installs for it

    def __init__(self, quote: Callable[[str], str]):
        self.quote = quote

    # --- connecting ---
    def engine_url(self, url: str) -> str:
        scheme, sep, rest = url.partition("://")
        return f"{self.drivers[scheme]}://{rest}" if sep and scheme in self.drivers else url

    def connect_args(self, cfg) -> dict:
        return {}

    def on_connect(self, dbapi_conn, cfg) -> None:
        pass

    def begin(self, conn) -> None:
        """Statements that make the open transaction a read-only snapshot."""

    def abort(self, dbapi_conn) -> None:
        """Unblock a query that does not answer (called from the watchdog thread; never raises)."""
        try:
            fd = dbapi_conn.fileno()
        except (AttributeError, OSError, ValueError):
            return
        _shutdown(fd)

    def timed_out(self, orig: BaseException) -> bool:
        return False

    # --- reading columns ---
    def kinds(self, description: Sequence) -> dict[str, tuple[str, bool | None]]:
        """column name -> (kind, nullable or None when unknown)."""
        return {d[0]: ("text", None) for d in description}

    def type_name(self, description: Sequence, column: str) -> str:
        """The type of a column as the database names it, or "" when the driver does not say."""
        return ""

    def not_draft(self, column: str, kind: str) -> str | None:
        """SQL that keeps rows that are not drafts (NULL is not a draft), or None to filter in Python."""
        return None

    def category_match(self, column: str, kind: str, count: int, name: str = "cat") -> str | None:
        """SQL true when the categories column holds any of the parameters NAME0 … NAME{count-1}
        (or the list NAMEs), or None when that cannot be asked in SQL."""
        return None

    def category_expr(self, column: str, kind: str) -> str:
        return column

    def row_hash(self, columns: list[str]) -> str | None:
        """SQL for a digest of these columns of one row, or None to hash the values in Python."""
        return None

    def explain(self, conn, sql: str, params: dict) -> list[str]:
        """The relations a query would read in full (big ones only)."""
        return []

    def materialize(self, inner: str) -> str | None:
        """A CTE that makes the database fetch a category's rows through its index first."""
        return None


def _shutdown(fd) -> None:
    if fd is None or fd < 0:
        return
    try:
        sock = socket.socket(fileno=os.dup(fd))
    except OSError:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        sock.close()


# --- PostgreSQL ----------------------------------------------------------------------------------

_PG_KINDS = {
    1184: "aware", 1114: "naive", 1082: "naive",
    20: "number", 21: "number", 23: "number", 1700: "number", 700: "number", 701: "number",
    16: "bool", 3802: "jsonb", 114: "json",
    1009: "array", 1015: "array", 1014: "array", 1007: "array", 1016: "array", 1000: "array",
    1083: "time", 1266: "time", 1186: "interval", 17: "bytes", 2950: "uuid",
    600: "other", 869: "other", 650: "other", 829: "other", 3614: "other", 1560: "other", 1562: "other",
    790: "other", 3904: "other", 3910: "other", 3908: "other",
}

_PG_NAMES = {
    16: "boolean", 17: "bytea", 18: '"char"', 19: "name", 20: "bigint", 21: "smallint", 23: "integer", 25: "text",
    26: "oid", 114: "json", 142: "xml", 700: "real", 701: "double precision", 790: "money", 1042: "character",
    1043: "character varying", 1082: "date", 1083: "time without time zone", 1114: "timestamp without time zone",
    1184: "timestamp with time zone", 1186: "interval", 1266: "time with time zone", 1700: "numeric", 2950: "uuid",
    3802: "jsonb", 1009: "text[]", 1015: "character varying[]", 1014: "character[]", 1007: "integer[]",
    1016: "bigint[]", 1000: "boolean[]", 600: "point", 869: "inet", 650: "cidr", 829: "macaddr", 3614: "tsvector",
    1560: "bit", 1562: "bit varying", 3904: "int4range", 3910: "tstzrange", 3908: "tsrange",
}


class Postgres(Generic):
    name = "postgresql"
    typed = True
    nulls_first = False
    # SQLAlchemy's default driver is psycopg2; feedpub's extra installs psycopg 3
    drivers = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}

    def connect_args(self, cfg) -> dict:
        settings = {
            "statement_timeout": f"{int(cfg.query_timeout * 1000)}ms",
            "lock_timeout": f"{int(cfg.query_timeout * 1000)}ms",
            "default_transaction_read_only": "on",
            "default_transaction_isolation": r"repeatable\ read",
            "TimeZone": "UTC", "DateStyle": "ISO,YMD", "IntervalStyle": "postgres", "extra_float_digits": "1",
        }
        return {
            "connect_timeout": max(2, math.ceil(cfg.connect_timeout)),
            "application_name": "feedpub",
            "options": " ".join(f"-c {k}={v}" for k, v in settings.items()),
            "prepare_threshold": None,          # plan every query for its own values
            "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3,
        }

    def on_connect(self, dbapi_conn, cfg) -> None:
        _tolerant_date_loaders(dbapi_conn)
        from psycopg.types.json import set_json_loads
        from .values import json_loads
        set_json_loads(json_loads, dbapi_conn)          # json and jsonb columns: no depth makes it recurse

    def abort(self, dbapi_conn) -> None:
        import psycopg
        try:
            fd = dbapi_conn.fileno()
        except psycopg.Error:                              # closed already
            return
        _shutdown(fd)

    def begin(self, conn) -> None:
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")

    def timed_out(self, orig: BaseException) -> bool:
        return getattr(orig, "sqlstate", None) in ("57014", "55P03")      # statement or lock timeout

    def kinds(self, description: Sequence) -> dict[str, tuple[str, bool | None]]:
        return {d[0]: (_PG_KINDS.get(d[1], "text"), None) for d in description}

    def type_name(self, description: Sequence, column: str) -> str:
        oid = next(d[1] for d in description if d[0] == column)
        return _PG_NAMES.get(oid, "")

    def not_draft(self, column: str, kind: str) -> str | None:
        if kind == "bool":
            return f"{column} IS NOT TRUE"
        if kind == "number":
            return f"COALESCE({column}, 0) = 0"
        return None

    def category_expr(self, column: str, kind: str) -> str:
        return f"CAST({column} AS jsonb)" if kind == "json" else column

    def category_match(self, column: str, kind: str, count: int, name: str = "cat") -> str | None:
        if kind == "array":
            return f"{column} && CAST(:{name}s AS text[])"
        if kind in ("jsonb", "json"):
            expr = self.category_expr(column, kind)
            return "(" + " OR ".join(f"{expr} @> jsonb_build_array(CAST(:{name}{i} AS text))"
                                     for i in range(count)) + ")"
        return None

    def row_hash(self, columns: list[str]) -> str | None:
        # a 64-bit hash of the row's text: md5 of the same text took twice as long on a million rows
        return f"hashtextextended(CAST(ROW({', '.join(columns)}) AS text), 0)"

    def materialize(self, inner: str) -> str | None:
        return f"WITH m AS MATERIALIZED ({inner}) SELECT * FROM m"

    def plan(self, conn, sql: str, params: dict) -> list[dict]:
        """Every node of the query's plan."""
        from sqlalchemy import text
        plan = conn.execute(text(f"EXPLAIN (FORMAT JSON, VERBOSE) {sql}"), params).scalar()
        if isinstance(plan, str):
            import json
            plan = json.loads(plan)
        nodes: list[dict] = []
        pending = [plan[0]["Plan"]]
        while pending:
            node = pending.pop()
            nodes.append(node)
            pending.extend(node.get("Plans", ()))
        return nodes

    def big_relations(self, conn, nodes: list[dict], kinds: tuple[str, ...] | None = ("Seq Scan",)) -> list[str]:
        """The big relations these nodes read (any node reading one, when kinds is None)."""
        from sqlalchemy import text
        found = {(n.get("Schema"), n["Relation Name"]) for n in nodes
                 if "Relation Name" in n and (kinds is None or n.get("Node Type") in kinds)}
        big = []
        for schema, relation in sorted(found, key=str):
            pages = conn.execute(text("SELECT pg_relation_size(to_regclass(:name)) / 8192"),
                                 {"name": f'"{schema}"."{relation}"' if schema else f'"{relation}"'}).scalar()
            if pages is not None and pages >= BIG_RELATION_PAGES:
                big.append(relation if schema in ("public", None) else f"{schema}.{relation}")
        return big

    def explain(self, conn, sql: str, params: dict) -> list[str]:
        return self.big_relations(conn, self.plan(conn, sql, params))

    def ordered_by_index(self, conn, sql: str) -> bool:
        """Does an index give this query its order (or is everything it reads small)? Only then is a
        loose index scan a few probes rather than a sort of the whole table per step."""
        nodes = self.plan(conn, sql, {})
        unordered = any(n.get("Node Type") in ("Sort", "Incremental Sort", "Seq Scan", "Bitmap Heap Scan")
                        for n in nodes)
        return not unordered or not self.big_relations(conn, nodes, None)

    def uses_category_index(self, conn, sql: str, params: dict) -> bool:
        """Does a category query find its rows through an index on categories (or read little)?"""
        nodes = self.plan(conn, sql, params)
        return any(n.get("Node Type") == "Bitmap Index Scan" for n in nodes) or not self.big_relations(
            conn, nodes, None)


def _tolerant_date_loaders(dbapi_conn) -> None:
    """'infinity' and BC dates load as their text instead of failing the whole query: the record
    rules then reject that one row's date, with its location. The fast loader does the work."""
    try:
        from psycopg import DataError, postgres
        from psycopg.adapt import Loader
        from psycopg.pq import Format
    except ImportError:
        return
    for name in ("timestamptz", "timestamp", "date"):
        oid = postgres.types[name].oid
        fast = dbapi_conn.adapters.get_loader(oid, Format.TEXT)
        if fast is None:
            continue

        class Tolerant(Loader):
            def __init__(self, oid, context=None, _fast=fast):
                super().__init__(oid, context)
                self._load = _fast(oid, context).load

            def load(self, data):
                try:
                    return self._load(data)
                except DataError:
                    return bytes(data).decode("utf-8", "replace")

        dbapi_conn.adapters.register_loader(oid, Tolerant)


# --- MySQL / MariaDB -----------------------------------------------------------------------------

# PyMySQL's FIELD_TYPE codes
_MY_KINDS = {12: "naive", 10: "naive", 7: "utc", 245: "jsontext", 1: "number", 2: "number", 3: "number",
             8: "number", 9: "number", 246: "number", 0: "number", 4: "number", 5: "number",
             11: "time", 13: "year", 16: "other", 255: "other"}

_MY_NAMES = {0: "DECIMAL", 1: "TINYINT", 2: "SMALLINT", 3: "INT", 4: "FLOAT", 5: "DOUBLE", 7: "TIMESTAMP",
             8: "BIGINT", 9: "MEDIUMINT", 10: "DATE", 11: "TIME", 12: "DATETIME", 13: "YEAR", 15: "VARCHAR", 16: "BIT",
             245: "JSON", 246: "DECIMAL", 247: "ENUM", 248: "SET", 249: "TINYBLOB or TINYTEXT",
             250: "MEDIUMBLOB or MEDIUMTEXT", 251: "LONGBLOB or LONGTEXT", 252: "BLOB or TEXT", 253: "VARCHAR",
             254: "CHAR", 255: "GEOMETRY"}


class Mysql(Generic):
    name = "mysql"
    typed = True
    # SQLAlchemy's default driver is mysqlclient; feedpub's extra installs PyMySQL
    drivers = {"mysql": "mysql+pymysql", "mariadb": "mariadb+pymysql"}

    def connect_args(self, cfg) -> dict:
        return {"connect_timeout": max(1, math.ceil(cfg.connect_timeout)),
                "read_timeout": math.ceil(cfg.query_timeout + self.grace),
                "write_timeout": math.ceil(cfg.query_timeout + self.grace)}

    def on_connect(self, dbapi_conn, cfg) -> None:
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute("SET SESSION time_zone = '+00:00'")
            cursor.execute("SELECT VERSION()")
            mariadb = "mariadb" in str(cursor.fetchone()[0]).lower()
            if mariadb:
                cursor.execute(f"SET SESSION max_statement_time = {cfg.query_timeout:.3f}")
            else:
                cursor.execute(f"SET SESSION max_execution_time = {int(cfg.query_timeout * 1000)}")
        finally:
            cursor.close()

    def begin(self, conn) -> None:
        conn.exec_driver_sql("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")

    def abort(self, dbapi_conn) -> None:
        sock = getattr(dbapi_conn, "_sock", None)          # PyMySQL's socket; None once closed
        if sock is not None:
            try:
                _shutdown(sock.fileno())
            except (OSError, ValueError):
                pass

    def timed_out(self, orig: BaseException) -> bool:
        code = orig.args[0] if getattr(orig, "args", None) else None
        return code in (1969, 3024) or (code == 2013 and "timed out" in str(orig))

    def type_name(self, description: Sequence, column: str) -> str:
        d = next(d for d in description if d[0] == column)
        if d[1] == 1 and d[3] == 1:
            return "BOOLEAN"
        return _MY_NAMES.get(d[1], "")

    def kinds(self, description: Sequence) -> dict[str, tuple[str, bool | None]]:
        result = {}
        for d in description:
            kind = _MY_KINDS.get(d[1], "text")
            if d[1] == 1 and d[3] == 1:                    # TINYINT(1): BOOLEAN
                kind = "bool"
            result[d[0]] = (kind, bool(d[6]) if len(d) > 6 and d[6] is not None else None)
        return result

    def not_draft(self, column: str, kind: str) -> str | None:
        if kind in ("bool", "number"):
            return f"COALESCE({column}, 0) = 0"
        return None

    def category_match(self, column: str, kind: str, count: int, name: str = "cat") -> str | None:
        if kind not in ("jsontext", "text"):
            return None
        anyof = " OR ".join(f"JSON_CONTAINS({column}, JSON_QUOTE(:{name}{i}))" for i in range(count))
        return f"(CASE WHEN JSON_VALID({column}) THEN ({anyof}) ELSE 0 END)"

    def row_hash(self, columns: list[str]) -> str | None:
        return f"MD5(JSON_ARRAY({', '.join(columns)}))"

    def explain(self, conn, sql: str, params: dict) -> list[str]:
        from sqlalchemy import text
        rows = conn.execute(text(f"EXPLAIN {sql}"), params).mappings().all()
        return sorted({r["table"] for r in rows if r.get("type") == "ALL" and _count(r.get("rows")) >= 10000
                       and r.get("table") and not str(r["table"]).startswith("<")})


def _count(value: Any) -> int:
    """EXPLAIN's row estimate: MariaDB gives it as text for some plans."""
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


# --- SQLite --------------------------------------------------------------------------------------


class Sqlite(Generic):
    name = "sqlite"
    typed = False                  # dates are text in SQLite: ranked in Python
    grace = 0.0                    # nothing else bounds a query: the watchdog is the timeout

    def abort(self, dbapi_conn) -> None:
        import sqlite3
        try:
            dbapi_conn.interrupt()
        except sqlite3.Error:                              # closed already
            pass

    def timed_out(self, orig: BaseException) -> bool:
        return "interrupted" in str(orig)

    def begin(self, conn) -> None:
        conn.exec_driver_sql("BEGIN")

    def explain(self, conn, sql: str, params: dict) -> list[str]:
        from sqlalchemy import text
        details = [r[-1] for r in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}"), params).all()]
        scans = set()
        for detail in details:
            words = str(detail).split()
            if len(words) >= 2 and words[0] == "SCAN" and "INDEX" not in words:
                scans.add(words[1])
        return sorted(scans)


def dialect_for(name: str, quote: Callable[[str], str]) -> Generic:
    return {"postgresql": Postgres, "postgres": Postgres, "mysql": Mysql, "mariadb": Mysql,
            "sqlite": Sqlite}.get(name, Generic)(quote)


def sqlite_connect(path: str, timeout: float) -> Any:
    """A read-only connection to an existing SQLite file (never creates one), in autocommit mode
    so that feedpub's own BEGIN starts the one snapshot every query reads."""
    import sqlite3
    from urllib.parse import quote
    conn = sqlite3.connect(f"file:{quote(os.fsencode(path))}?mode=ro", uri=True, timeout=timeout, isolation_level=None,
                           check_same_thread=False)
    conn.execute("PRAGMA query_only = 1")
    return conn

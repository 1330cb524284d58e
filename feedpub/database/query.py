"""The source as a statement sees it: the relation, each record field's column and that column's kind,
the dialect, the clause that leaves drafts out, and running a statement inside the one snapshot.

What table.py, sqlselect.py and explain.py ask the database goes through a Query: a
statement is bounded by query_timeout, and every failure is a SourceError without the
password (connection.py).
"""
from __future__ import annotations

from typing import Any, Callable, Iterator, TypeVar

from sqlalchemy import bindparam, text
from sqlalchemy.exc import SQLAlchemyError

from ..errors import ColumnTypeError, SourceError
from ..sourceconfig import RECORD_FIELDS, REQUIRED_FIELDS, SourceConfig
from ..text import printable
from .connection import Connection
from .values import unusable_columns

__all__ = ["Query"]

BATCH = 2000                   # rows per fetch when streaming
T = TypeVar("T")


class Query:
    """The source's relation (aliased src) and its columns, read once when the source is opened.

    columns   record field -> "src.<quoted column>", for the fields the source has
    kinds     record field -> the column's kind (dialects.py: "aware", "naive", "number", "text", …)
    types     record field -> the column's type as the database names it ("" when the driver does not say)
    fields    the record fields the source has, in record order
    not_draft SQL true for rows that are not drafts, or None when drafts are told apart in Python
    """

    def __init__(self, connection: Connection, cfg: SourceConfig, *, category_feeds: bool = True):
        self._connection = connection
        self.label = cfg.label
        self.table = cfg.table
        self.dialect = connection.dialect
        self.category_feeds = category_feeds
        q = self.dialect.quote
        self.relation = (".".join(q(part) for part in cfg.table.split(".", 1)) if cfg.table
                         else f"({cfg.query})") + " src"
        with connection.guard(f"cannot read {'the table' if cfg.table else 'the query'}"):
            result = connection.conn.execute(text(f"SELECT * FROM {self.relation} WHERE 1=0"))
            description = result.cursor.description
            result.close()
        kinds = self.dialect.kinds(description)
        names = {c.lower(): c for c in kinds}
        self.columns: dict[str, str] = {}
        self.kinds: dict[str, str] = {}
        self.types: dict[str, str] = {}
        self.names: dict[str, str] = {}              # record field -> the column's name as the source has it
        missing = []
        for field in RECORD_FIELDS:
            column = cfg.columns[field]
            actual = column if column in kinds else names.get(column.lower())
            if actual is None:
                if field in REQUIRED_FIELDS or field in cfg.explicit:
                    missing.append(f'"{column}"' + ("" if column == field else f" ({field})"))
                continue
            self.columns[field] = f"src.{q(actual)}"
            self.names[field] = actual
            self.kinds[field] = kinds[actual][0]
            self.types[field] = self.dialect.type_name(description, actual)
        if missing:
            raise SourceError(printable(
                f"{self.label}: no column {', '.join(missing)} (expected the record fields as columns, or "
                f"[source.columns] naming the column of each; the columns are: {', '.join(kinds) or 'none'})"))
        unusable = unusable_columns(self.kinds)
        if unusable:
            raise ColumnTypeError(self.label, [(field, self.names[field], self.types[field] or self.kinds[field],
                                                accepted) for field, accepted in unusable])
        self.fields = [f for f in RECORD_FIELDS if f in self.columns]
        self.not_draft = (self.dialect.not_draft(self.columns["draft"], self.kinds["draft"])
                          if "draft" in self.columns else None)

    @property
    def python_draft(self) -> bool:
        """Are drafts told apart in Python (a draft column SQL cannot test)?"""
        return "draft" in self.columns and self.not_draft is None

    @property
    def ranking_fields(self) -> list[str]:
        """The columns that decide whether and where a row ranks."""
        fields = ["id", "lang", "published"]
        if self.category_feeds and "categories" in self.columns:
            fields.append("categories")
        if "translation_key" in self.columns:
            fields.append("translation_key")
        if self.python_draft:
            fields.append("draft")
        return fields

    def select_list(self, fields: list[str]) -> str:
        return ", ".join(self.columns[f] for f in fields)

    def rows(self, what: str, sql: str, params: dict | None = None, fields: list[str] | None = None,
             expanding: tuple[str, ...] = ()) -> list[dict]:
        """Every row a statement gives, as field -> value (or column -> value without fields)."""
        statement = text(sql)
        if expanding:
            statement = statement.bindparams(*(bindparam(name, expanding=True) for name in expanding))
        with self._connection.guard(what):
            rows = self._connection.conn.execute(statement, params or {}).all()
        if fields is None:
            return [dict(r._mapping) for r in rows]
        return [dict(zip(fields, r)) for r in rows]

    def stream(self, what: str, sql: str, params: dict, fields: list[str],
               expanding: tuple[str, ...] = ()) -> Iterator[dict]:
        """The rows of a statement read through a server-side cursor: memory stays flat."""
        statement = text(sql)
        if expanding:
            statement = statement.bindparams(*(bindparam(name, expanding=True) for name in expanding))
        with self._connection.guard(what):
            result = self._connection.conn.execute(statement, params,
                                                   execution_options={"stream_results": True, "max_row_buffer": BATCH})
        try:
            while True:
                with self._connection.guard(what):
                    batch = result.fetchmany(BATCH)
                if not batch:
                    return
                for row in batch:
                    yield dict(zip(fields, row))
        finally:
            try:
                result.close()
            except (SQLAlchemyError, OSError):     # the connection failed mid-stream; guard reported it
                pass

    def ask(self, what: str, question: Callable[[Any], T]) -> T:
        """question(connection) inside the snapshot, bounded and guarded like a statement (a query plan)."""
        with self._connection.guard(what):
            return question(self._connection.conn)

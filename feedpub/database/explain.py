"""`feedpub check`'s look at the source's query plans: a warning, naming the index to create, for
every query a build runs that would read a whole (big) table."""
from __future__ import annotations

from datetime import datetime, timezone

from ..text import printable


def explain(src) -> list[str]:
    """src: an open DatabaseSource; what it asks goes through its public Query (src.query) and, in
    SQL mode, its SqlChoice (src.sql)."""
    q = src.query
    d = q.dialect
    found: list[str] = []
    if src.mode == "stream":
        found.append(f"{src.label}: {'; '.join(src.streaming_reasons)}: every build reads the ranking columns of "
                     "every row and ranks them in Python (a timestamp or timestamptz published column, a boolean "
                     "draft and an array or JSON categories column let the database pick the newest rows)")
    now = datetime.now(timezone.utc)

    def scans(sql: str, params: dict):
        return lambda conn: d.explain(conn, sql, params)

    checks: list = []                     # (what, index, a check returning the whole-read relations)
    lang = _sample(q, "lang")
    if src.mode == "sql" and isinstance(lang, str):
        query = src.sql.ranking_query(lang, now)
        checks.append(("the newest rows of a language", "lang", scans(query.top_sql, {**query.params, "n": 50})))
        if src.category_feeds and "categories" in q.columns:
            names = src.sql.category_names()
            sample = next(((lg, raw) for lg in sorted(names) for _, raw in sorted(names[lg].items())), None)
            if sample is not None:
                cq = src.sql.ranking_query(sample[0], now, sample[1])
                params = {**cq.params, "n": 50}
                if d.name == "postgresql":
                    check = (lambda conn: [] if d.uses_category_index(conn, cq.top_sql, params)
                             else [q.table or "the query's tables"])
                else:
                    check = scans(cq.top_sql, params)
                checks.append(("a category's newest rows", "categories", check))
            if d.name == "postgresql":
                works = src.sql.loose_scan_works()
                checks.append(("listing the categories", "pairs",
                               lambda conn: [] if works else [q.table or "the query's tables"]))
    if "translation_key" in q.columns:
        key = _sample(q, "translation_key")
        sql = f"SELECT {q.columns['id']} FROM {q.relation} WHERE {q.columns['translation_key']} IN (:key)"
        checks.append(("looking up translations", "translation_key", scans(sql, {"key": key if key is not None else ""})))
    ident = _sample(q, "id")
    if ident is not None:
        sql = f"SELECT {q.columns['id']} FROM {q.relation} WHERE {q.columns['id']} IN (:key)"
        checks.append(("reading records by id", "id", scans(sql, {"key": ident})))
    for what, index, check in checks:
        read = q.ask(f"explaining {what}", check)
        read = sorted({q.table if r == "src" and q.table else r for r in read})
        if read:
            found.append(f"{src.label}: {what} reads all of {', '.join(read)} (a whole-table scan); "
                         f"create an index: {advice(q, index)}")
    return [printable(line) for line in found]


def _sample(q, field: str):
    if field not in q.columns:
        return None
    limit = "LIMIT 1" if q.dialect.limit else ""
    rows = q.rows(f"reading a sample {field}",
                  f"SELECT {q.columns[field]} FROM {q.relation} WHERE {q.columns[field]} IS NOT NULL {limit}", {}, ["v"])
    return rows[0]["v"] if rows else None


def _bare(expr: str) -> str:
    return expr.replace("src.", "")


def advice(q, index: str) -> str:
    """The index that serves one kind of query, in the source's own column names (q: its Query)."""
    d = q.dialect
    table = q.table or "TABLE"
    col = {f: _bare(c) for f, c in q.columns.items()}
    where = f" WHERE {_bare(q.not_draft)}" if q.not_draft else ""
    categories = _bare(d.category_expr(col.get("categories", ""), q.kinds.get("categories", "")))
    if d.name == "postgresql":
        sql = {
            "lang": f"CREATE INDEX ON {table} ({col['lang']}, {col['published']} DESC){where}",
            "categories": f"CREATE INDEX ON {table} USING gin ({categories})",
            "pairs": f"CREATE INDEX ON {table} ({col['lang']}, {categories}){where}",
            "translation_key": f"CREATE INDEX ON {table} ({col.get('translation_key')})",
            "id": f"CREATE UNIQUE INDEX ON {table} ({col['id']}) (or make it the primary key)",
        }[index]
    elif d.name == "mysql":
        sql = {
            "lang": f"CREATE INDEX feedpub_lang_published ON {table} ({col['lang']}, {col['published']})",
            "categories": (f"CREATE INDEX feedpub_categories ON {table} ((CAST({col.get('categories')} AS "
                           "CHAR(200) ARRAY))) (MySQL 8.0.17 or later; MariaDB cannot index a JSON array)"),
            "pairs": f"CREATE INDEX feedpub_lang_categories ON {table} ({col['lang']})",
            "translation_key": f"CREATE INDEX feedpub_translation_key ON {table} ({col.get('translation_key')})",
            "id": f"CREATE UNIQUE INDEX feedpub_id ON {table} ({col['id']}) (or make it the primary key)",
        }[index]
    else:
        sql = f"CREATE INDEX feedpub_{index} ON {table} ({col.get(index, index)})"
    view = not q.table or _is_view(q)
    if view:
        sql += (f" (on the table {'the query' if not q.table else table} reads, for the columns behind "
                "these: a view has no indexes of its own)")
    if view and index in ("categories", "pairs"):
        sql += ("; categories computed per row (from a join table) no index can serve: keep them in an array "
                "column of the table as well, or set category_feeds = false")
    return sql


def _is_view(q) -> bool:
    if q.dialect.name != "postgresql":
        return False
    rows = q.rows("reading the table's kind", "SELECT relkind FROM pg_class WHERE oid = to_regclass(:t)",
                  {"t": q.table}, ["kind"])
    return bool(rows) and rows[0]["kind"] == "v"

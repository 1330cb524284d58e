"""`feedpub check`'s look at the source's query plans: a warning, naming the index to create, for
every query a build runs that would read a whole (big) table."""
from __future__ import annotations

from datetime import datetime, timezone

from ..text import printable


def explain(src) -> list[str]:
    from .sqlselect import RankingQuery, category_names, loose_scan_works
    d = src._db.dialect
    found: list[str] = []
    if src.mode == "stream":
        found.append(f"{src.label}: {'; '.join(src.streaming_reasons)}: every build reads the ranking columns of "
                     "every row and ranks them in Python (a timestamp or timestamptz published column, a boolean "
                     "draft and an array or JSON categories column let the database pick the newest rows)")
    now = datetime.now(timezone.utc)

    def scans(sql: str, params: dict):
        return lambda: d.explain(src._db.conn, sql, params)

    checks: list = []                     # (what, index, a check returning the whole-read relations)
    lang = _sample(src, "lang")
    if src.mode == "sql" and isinstance(lang, str):
        query = RankingQuery(src, lang, now)
        checks.append(("the newest rows of a language", "lang", scans(query.top_sql, {**query.params, "n": 50})))
        if src.category_feeds and "categories" in src.col:
            names = category_names(src)
            sample = next(((lg, raw) for lg in sorted(names) for _, raw in sorted(names[lg].items())), None)
            if sample is not None:
                cq = RankingQuery(src, sample[0], now, sample[1])
                params = {**cq.params, "n": 50}
                if d.name == "postgresql":
                    check = (lambda: [] if d.uses_category_index(src._db.conn, cq.top_sql, params)
                             else [src.cfg.table or "the query's tables"])
                else:
                    check = scans(cq.top_sql, params)
                checks.append(("a category's newest rows", "categories", check))
            if d.name == "postgresql":
                checks.append(("listing the categories", "pairs",
                               lambda: [] if loose_scan_works(src) else [src.cfg.table or "the query's tables"]))
    if "translation_key" in src.col:
        key = _sample(src, "translation_key")
        sql = f"SELECT {src.col['id']} FROM {src.rel} WHERE {src.col['translation_key']} IN (:key)"
        checks.append(("looking up translations", "translation_key", scans(sql, {"key": key if key is not None else ""})))
    ident = _sample(src, "id")
    if ident is not None:
        sql = f"SELECT {src.col['id']} FROM {src.rel} WHERE {src.col['id']} IN (:key)"
        checks.append(("reading records by id", "id", scans(sql, {"key": ident})))
    for what, index, check in checks:
        with src._db.guard(f"explaining {what}"):
            read = check()
        read = sorted({src.cfg.table if r == "src" and src.cfg.table else r for r in read})
        if read:
            found.append(f"{src.label}: {what} reads all of {', '.join(read)} (a whole-table scan); "
                         f"create an index: {advice(src, index)}")
    return [printable(line) for line in found]


def _sample(src, field: str):
    if field not in src.col:
        return None
    limit = "LIMIT 1" if src._db.dialect.limit else ""
    rows = src._rows(f"reading a sample {field}",
                     f"SELECT {src.col[field]} FROM {src.rel} WHERE {src.col[field]} IS NOT NULL {limit}", {}, ["v"])
    return rows[0]["v"] if rows else None


def _bare(expr: str) -> str:
    return expr.replace("src.", "")


def advice(src, index: str) -> str:
    """The index that serves one kind of query, in the source's own column names."""
    d = src._db.dialect
    table = src.cfg.table or "TABLE"
    col = {f: _bare(c) for f, c in src.col.items()}
    where = f" WHERE {_bare(src._not_draft)}" if src._not_draft else ""
    if d.name == "postgresql":
        sql = {
            "lang": f"CREATE INDEX ON {table} ({col['lang']}, {col['published']} DESC){where}",
            "categories": f"CREATE INDEX ON {table} USING gin ({_bare(d.category_expr(col.get('categories', ''), src.kind.get('categories', '')))})",
            "pairs": f"CREATE INDEX ON {table} ({col['lang']}, {_bare(d.category_expr(col.get('categories', ''), src.kind.get('categories', '')))}){where}",
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
    view = not src.cfg.table or _is_view(src)
    if view:
        sql += (f" (on the table {'the query' if not src.cfg.table else table} reads, for the columns behind "
                "these: a view has no indexes of its own)")
    if view and index in ("categories", "pairs"):
        sql += ("; categories computed per row (from a join table) no index can serve: keep them in an array "
                "column of the table as well, or set category_feeds = false")
    return sql


def _is_view(src) -> bool:
    if src._db.dialect.name != "postgresql":
        return False
    rows = src._rows("reading the table's kind", "SELECT relkind FROM pg_class WHERE oid = to_regclass(:t)",
                     {"t": src.cfg.table}, ["kind"])
    return bool(rows) and rows[0]["kind"] == "v"

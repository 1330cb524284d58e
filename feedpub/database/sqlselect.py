"""Choosing the newest rows of every feed in SQL, when the ranking columns are typed.

Per language, one query takes the newest POOL rows (the btree on (lang, published
DESC) answers it in milliseconds); the language feed and every category feed with
enough rows among them are filled from that pool. A category still short gets a
query of its own:

- if the pool shows it is still written about, the rows within a window back from
  the pool's edge are searched, the window sized by the category's share of the pool
  to hold WINDOW_HEADROOM times the rows it still needs, at most WINDOW pool spans (a bounded
  read: a few thousand rows);
- if it is not, or the window holds too few of its rows, the category is read
  through its GIN index first (a MATERIALIZED CTE): walking the date index
  backwards for a big category whose rows are all old is the slow plan (seconds).

Which categories exist at all comes from a loose index scan over (lang,
categories) where an index allows it, or one DISTINCT query.

These queries only supply candidates: every LIMIT is made to hold all that may rank
within it by selection.rank, (published instant, id): rows tied with the last one are
fetched too (for a wall-clock column, those within the zone's offset change around it,
offset_window), and which of them each feed carries is the chooser's (selection.py).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from ..selection import FeedKey, newest_first
from .picks import Pick
from .values import json_value, normalised_names

POOL = 2000                    # newest rows per language read first when category feeds are on
WINDOW = 10                    # at most this many pool spans back a short category's rows are looked for
WINDOW_HEADROOM = 3            # a window is sized to hold this many times the rows a category still needs
LOOSE_SCAN_LIMIT = 5000        # combinations of (language, categories) worth a loose index scan
DUE_PAGE = 16                  # scheduled rows asked at a time for the earliest one the record rules accept
_SAMPLES = 4 * 24 * 2          # offset_window looks every 30 minutes over four days


def offset_window(tz, around) -> timedelta:
    """How much the zone's UTC offset varies within two days of `around` (a naive wall time or a
    date): two wall times further apart than this are in the same order as their instants."""
    if isinstance(around, datetime):
        base = around.replace(tzinfo=None)
    elif isinstance(around, date):
        base = datetime.combine(around, time())
    else:
        return timedelta(0)
    try:
        start = base.replace(tzinfo=timezone.utc) - timedelta(days=2)
        offsets = {(start + timedelta(minutes=30 * i)).astimezone(tz).utcoffset() for i in range(_SAMPLES + 1)}
    except (OverflowError, ValueError):             # the calendar's edges: no real article lives there
        return timedelta(0)
    return max(offsets) - min(offsets)


class SqlChoice:
    """The candidates of every feed found in SQL, for one open source: its Query (what to ask) and
    RowReader (how a row ranks), and the categories the source holds, listed once."""

    def __init__(self, query, reader):
        self.query = query
        self.reader = reader
        self.names: dict[str, dict[str, set[str]]] | None = None    # category_names(), once asked

    def select(self, languages: list[str], need: int, now: datetime) -> tuple[dict[FeedKey, list[Pick]], set]:
        """Per feed, candidates holding its newest `need` (more when ties reach past the edge); and the
        feeds whose every qualifying row is among them."""
        return select_in_sql(self, languages, need, now)

    def next_due(self, now: datetime, languages: list[str] | None = None) -> datetime | None:
        return next_due_in_sql(self, now, languages)

    def ranking_query(self, lang: str, now: datetime, names: set[str] | None = None) -> "RankingQuery":
        return RankingQuery(self, lang, now, names)

    def category_names(self) -> dict[str, dict[str, set[str]]]:
        return category_names(self)

    def loose_scan_works(self) -> bool:
        return loose_scan_works(self)


def _now_bound(choice, now: datetime) -> Any:
    kind = choice.query.kinds["published"]
    if kind == "aware":
        return now
    if kind == "utc":
        return now.astimezone(timezone.utc).replace(tzinfo=None)
    if kind == "number":
        return now.timestamp()
    local = now.astimezone(choice.reader.tz).replace(tzinfo=None)
    return local + offset_window(choice.reader.tz, local)


def _low_bound(choice, boundary: Any) -> Any:
    """The lowest stored value that may still rank with the row holding `boundary`."""
    if choice.query.kinds["published"] != "naive":
        return boundary
    window = offset_window(choice.reader.tz, boundary)
    if not window:
        return boundary
    if isinstance(boundary, datetime):
        return boundary - window
    return boundary - timedelta(days=1)


class RankingQuery:
    """The ranking query of one language (and perhaps a category's stored names)."""

    def __init__(self, choice, lang: str, now: datetime, names: set[str] | None = None, floor: Any = None,
                 tag: str = ""):
        self.choice = choice
        self.now = now
        d, col = choice.query.dialect, choice.query.columns
        fields = ["id", "published"] + [f for f in ("categories", "translation_key")
                                        if f in choice.query.ranking_fields]
        self.fields = fields
        where = [f"{col['lang']} = :lang", f"{col['published']} <= :hi"]
        if choice.query.not_draft:
            where.append(choice.query.not_draft)
        self.params: dict[str, Any] = {"lang": lang, "hi": _now_bound(choice, now)}
        self.lang = lang
        self.floor = floor
        if floor is not None:                       # a bounded walk: only rows stored at or after floor
            where.append(f"{col['published']} >= :floor{tag}")
            self.params[f"floor{tag}"] = floor
        self.span: tuple[Any, Any] | None = None    # (newest, edge) stored published values of the last LIMIT
        self.materialized = False
        match = None
        if names is not None:
            ordered = sorted(names)
            match = d.category_match(col["categories"], choice.query.kinds["categories"], len(ordered), f"cat{tag}")
            where.append(match)
            self.params[f"cat{tag}s"] = ordered
            self.params.update({f"cat{tag}{i}": name for i, name in enumerate(ordered)})
        select = ", ".join(f"{col[f]} AS r_{f}" for f in fields)
        inner = f"SELECT {select} FROM {choice.query.relation} WHERE {' AND '.join(where)}"
        outer = None
        if match is not None and floor is None:
            # Only the category inside: any other condition lets the planner AND the category's
            # bitmap with the whole (lang, published) range, reading half a million index entries.
            extra = ", ".join(f"{col[f]} AS r_{f}" for f in ("lang", "draft") if f in col)
            outer = d.materialize(f"SELECT {select}, {extra} FROM {choice.query.relation} WHERE {match}")
        if outer is not None:
            self.materialized = True
            kept = ["r_lang = :lang", "r_published <= :hi"]
            if choice.query.not_draft:
                kept.append(d.not_draft("r_draft", choice.query.kinds["draft"]))
            self.top_sql = f"{outer} WHERE {' AND '.join(kept)} ORDER BY r_published DESC LIMIT :n"
            self.range_sql = f"{outer} WHERE {' AND '.join(kept)} AND r_published >= :lo AND r_published <= :b"
        else:
            self.top_sql = f"{inner} ORDER BY {col['published']} DESC LIMIT :n"
            self.range_sql = f"{inner} AND {col['published']} >= :lo AND {col['published']} <= :b"

    def newest(self, want: int) -> tuple[list[Pick], int, bool]:
        """(picks newest first, how many at the top are certainly the newest `certain`, exhausted).

        Within a window (floor), exhausted is never claimed, and `certain` counts only picks
        that no row below the floor can outrank."""
        limit = max(want, 1)
        while True:
            rows = self.choice.query.rows("choosing the newest rows", self.top_sql, {**self.params, "n": limit + 1},
                                  self.fields)
            result = self.settle(rows, limit, want)
            if result is not None:
                return result
            limit *= 2

    def settle(self, rows: list[dict], limit: int, want: int,
               follow_up: bool = True) -> tuple[list[Pick], int, bool] | None:
        """Judge the answer to top_sql with LIMIT limit + 1, as newest() returns it, or None when more
        rows are needed (or, without follow_up, when the rows tied at the edge need a query)."""
        exhausted = len(rows) <= limit
        first = {id(r) for r in rows[:limit]}
        if rows:
            self.span = (rows[0]["published"], rows[min(limit, len(rows)) - 1]["published"])
        if not exhausted:
            boundary, low = rows[limit - 1]["published"], _low_bound(self.choice, rows[limit - 1]["published"])
            if self.floor is not None and _older(low, self.floor):
                return [], 0, False                     # the edge reaches below the window: not decidable here
            if _older(rows[limit]["published"], low):
                rows = rows[:limit]                     # the next row is older: no tie left behind
            elif not follow_up:
                return None
            else:
                seen = {_key(r["id"]) for r in rows}
                more = self.choice.query.rows("choosing the newest rows", self.range_sql,
                                      {**self.params, "lo": low, "b": boundary}, self.fields)
                rows = rows + [r for r in more if _key(r["id"]) not in seen]
        picks, certain = [], 0
        for row in rows:
            pick = self.choice.reader.pick({"lang": self.lang, **row})
            if pick is None or pick.published > self.now:
                continue
            picks.append(pick)
            certain += id(row) in first
        picks = newest_first(picks)
        if exhausted:
            return picks, len(picks), self.floor is None
        if certain >= want:
            return picks, certain, False
        return None


def _older(value: Any, bound: Any) -> bool:
    try:
        return value < bound
    except TypeError:                    # a date the driver could only give as text ('-infinity'): ask
        return False


def _key(value: Any) -> Any:
    return value if isinstance(value, (str, int)) else repr(value)


def select_in_sql(choice, languages: list[str], need: int, now: datetime) -> tuple[dict[FeedKey, list[Pick]], set]:
    feeds: dict[FeedKey, list[Pick]] = {}
    exhausted: set[FeedKey] = set()
    categories = choice.query.category_feeds and "categories" in choice.query.columns
    for lang in languages:
        want = max(need, POOL) if categories else need
        pool_query = RankingQuery(choice, lang, now)
        pool, certain, done = pool_query.newest(want)
        top = pool[:certain]
        feeds[(lang, None)] = top[:need]
        if done and len(top) <= need:
            exhausted.add((lang, None))
        if not categories:
            continue
        in_pool: dict[str, list[Pick]] = {}
        stored: dict[str, set[str]] = {}
        for pick in top:
            for name in pick.categories:
                in_pool.setdefault(name, []).append(pick)
        for names in {pick.raw_categories for pick in top}:
            for name, raw in normalised_names(names).items():
                stored.setdefault(name, set()).update(raw)
        if not done:
            for name, raw in category_names(choice).get(lang, {}).items():
                stored.setdefault(name, set()).update(raw)
        short: dict[str, Any] = {}
        for name in sorted(set(in_pool) | set(stored)):
            picks = in_pool.get(name, [])
            if not done and len(picks) < need:
                spans = WINDOW_HEADROOM * (need - len(picks)) / len(picks) if picks else WINDOW + 1
                short[name] = _window_floor(choice, pool_query.span, spans) if spans <= WINDOW else None
        found = _windows(choice, lang, now, {n: (stored[n], f) for n, f in short.items() if f is not None}, need)
        for name in sorted(set(in_pool) | set(stored)):
            picks = in_pool.get(name, [])
            if name not in short:
                chosen, complete = picks, done
            elif name in found:
                chosen, complete = found[name]
            else:                                   # nothing lately, or the window fell short: its index
                chosen, _, complete = RankingQuery(choice, lang, now, stored[name]).newest(need)
            if name in short:
                chosen = [p for p in chosen if name in p.categories]
            if chosen:
                feeds[(lang, name)] = chosen[:need]
                if complete and len(chosen) <= need:
                    exhausted.add((lang, name))
    return feeds, exhausted


def _window_floor(choice, span: tuple[Any, Any] | None, spans: float) -> Any:
    """The stored published value `spans` pool spans below the pool's edge, or None when a window
    cannot be exact (a wall-clock column near a clock change) or the span says nothing."""
    if span is None:
        return None
    newest, edge = span
    try:
        width = newest - edge
        floor = edge - width * spans if not isinstance(width, int) else edge - int(width * spans) - 1
    except (TypeError, OverflowError, ValueError):   # text ('-infinity') or the calendar's edge
        return None
    if not width:
        return None
    tz = choice.reader.tz
    if choice.query.kinds["published"] == "naive" and (offset_window(tz, floor) or offset_window(tz, edge)):
        return None
    return floor


def _windows(choice, lang: str, now: datetime, windows: dict[str, tuple[set[str], Any]],
             need: int) -> dict[str, tuple[list[Pick], bool]]:
    """The newest `need` picks of each short category within its window, all asked in one statement
    (one UNION ALL branch per category: one round trip, each branch planned for its own values);
    a category whose window does not settle it is left out (its index is asked next)."""
    if not windows:
        return {}
    queries = {name: RankingQuery(choice, lang, now, names, floor, tag=f"_{i}")
               for i, (name, (names, floor)) in enumerate(sorted(windows.items()))}
    params: dict[str, Any] = {"n": need + 1}
    branches = []
    for i, (name, query) in enumerate(queries.items()):
        params.update(query.params)
        branches.append(f"SELECT {i} AS r_q, w.* FROM ({query.top_sql}) w")
    fields = ["q"] + next(iter(queries.values())).fields
    rows: dict[int, list[dict]] = {i: [] for i in range(len(queries))}
    for row in choice.query.rows("choosing the newest rows", " UNION ALL ".join(branches), params, fields):
        rows[row.pop("q")].append(row)
    found = {}
    for i, (name, query) in enumerate(queries.items()):
        settled = query.settle(rows[i], need, need, follow_up=False) or query.newest(need)
        picks, certain, _ = settled
        if certain >= need:
            found[name] = (picks[:certain], False)
    return found


def category_names(choice) -> dict[str, dict[str, set[str]]]:
    """language -> category (as the record rules name it) -> the names stored for it, over every row
    that is not a draft (scheduled ones too: their category query then finds nothing yet)."""
    if choice.names is not None:
        return choice.names
    d, col = choice.query.dialect, choice.query.columns
    expr = d.category_expr(col["categories"], choice.query.kinds["categories"])
    where = f"{expr} IS NOT NULL" + (f" AND {choice.query.not_draft}" if choice.query.not_draft else "")
    rows = None
    loose = loose_scan_sql(choice, expr, where)
    if loose is not None and not loose_scan_works(choice):    # no index to hop through: read once instead
        loose = None
    if loose is not None:
        rows = choice.query.rows("listing the categories", loose, {}, ["lang", "categories"])
        if len(rows) >= LOOSE_SCAN_LIMIT:
            rows = None
    if rows is None:
        rows = choice.query.rows("listing the categories",
                         f"SELECT DISTINCT {col['lang']}, {expr} FROM {choice.query.relation} WHERE {where}", {},
                         ["lang", "categories"])
    names: dict[str, dict[str, set[str]]] = {}
    for row in rows:
        if not isinstance(row["lang"], str):
            continue
        decoded = json_value("categories", row["categories"])
        if isinstance(decoded, list):
            for name, raw in normalised_names(decoded).items():
                names.setdefault(row["lang"], {}).setdefault(name, set()).update(raw)
    choice.names = names
    return names


def loose_scan_works(choice) -> bool:
    """Is there an index that orders (lang, categories)? PostgreSQL only."""
    d, col = choice.query.dialect, choice.query.columns
    expr = d.category_expr(col["categories"], choice.query.kinds["categories"])
    where = f"{expr} IS NOT NULL" + (f" AND {choice.query.not_draft}" if choice.query.not_draft else "")
    first = (f"SELECT {col['lang']}, {expr} FROM {choice.query.relation} WHERE {where} "
             f"ORDER BY {col['lang']}, {expr} LIMIT 1")
    return choice.query.ask("planning the category list", lambda conn: d.ordered_by_index(conn, first))


def loose_scan_sql(choice, expr: str, where: str) -> str | None:
    """A recursive query that hops through an index on (lang, categories) one distinct pair at a
    time: a few hundred index probes instead of reading every row. PostgreSQL only."""
    if choice.query.dialect.name != "postgresql":
        return None
    lang = choice.query.columns["lang"]
    step = (f"SELECT {lang} AS l, {expr} AS c FROM {choice.query.relation} WHERE {where}")
    return (f"WITH RECURSIVE pairs(l, c) AS ("
            f"(SELECT * FROM ({step} ORDER BY {lang}, {expr} LIMIT 1) first_pair) "
            f"UNION ALL SELECT next_pair.l, next_pair.c FROM pairs CROSS JOIN LATERAL ("
            f"{step} AND ({lang}, {expr}) > (pairs.l, pairs.c) ORDER BY {lang}, {expr} LIMIT 1) next_pair) "
            f"SELECT l, c FROM pairs LIMIT {LOOSE_SCAN_LIMIT}")


def next_due_in_sql(choice, now: datetime, languages: list[str] | None = None) -> datetime | None:
    col = choice.query.columns
    langs = languages or None
    where = [f"{col['published']} > :lo"] + ([choice.query.not_draft] if choice.query.not_draft else [])
    bound = _now_bound(choice, now)
    if choice.query.kinds["published"] == "naive":
        bound = bound - 2 * offset_window(choice.reader.tz, bound)
    fields = ["id", "lang", "published"] + [f for f in ("categories", "translation_key")
                                            if f in choice.query.ranking_fields]
    select = ", ".join(col[f] for f in fields)
    best = None
    for lang in langs or [None]:
        clause = where + ([f"{col['lang']} = :lang"] if lang is not None else [])
        sql = (f"SELECT {select} FROM {choice.query.relation} WHERE {' AND '.join(clause)} "
               f"ORDER BY {col['published']} LIMIT :n OFFSET :skip")
        skip, n = 0, DUE_PAGE
        while True:
            rows = choice.query.rows("finding the next scheduled row", sql,
                             {"lo": bound, "lang": lang, "n": n, "skip": skip}, fields)
            due = [p.published for p in map(choice.reader.pick, rows) if p is not None and p.published > now]
            if due:
                best = min(due) if best is None else min(best, min(due))
                break
            if len(rows) < n:
                break
            skip += n
    return best

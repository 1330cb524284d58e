"""Benchmark the database source on a generated newsroom of 1,000,000 articles in PostgreSQL.

    python benchmarks/bench_db.py                          # a throwaway cluster, 1,000,000 rows
    python benchmarks/bench_db.py -n 100000 --repeat 3
    python benchmarks/bench_db.py --url postgresql+psycopg://u:pw@host/db   # an existing database
    python benchmarks/bench_db.py --keep /srv/bench-pg     # keep the cluster (and its corpus) for next time
    python benchmarks/bench_db.py --without-indexes        # also the same selection with a primary key only

Needs `pip install -e '.[postgresql]'` and, for the throwaway cluster, Debian's postgresql.
The corpus (made in SQL, so it takes minutes, not hours): Vietnamese and English
articles over the 11.6 years before "now" with ~3 KB bodies, stored in publication
order as a CMS appends them, 15 categories per language of very unequal size (the
smallest about 1 % of a language's rows), a 15,000-row category whose rows all date
from 2018, translation pairs, 2 % drafts and 1 % scheduled. The typed table has the indexes
the README documents; a second table holds the ranking columns with published as
text ("DD/MM/YYYY - HH:MM"), for the streaming case.

Each figure is the median of --repeat separate processes: wall time inside the
process (after its imports) and the process's peak RSS; `floor` and `noop-db` are
whole processes, start to end: `floor` imports SQLAlchemy and psycopg, connects and
runs SELECT 1; `noop-db` is everything a no-op build asks the database (open,
select every feed, translations, fingerprint, next_due). The full build figures
(with rendering) come once the source is part of the build.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench import use_bytecode          # benchmarks/ is this script's own folder

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-29T12:00:00+00:00"
MAX_ITEMS = 50
CORPUS_VERSION = "feedpub bench corpus 2"

INDEXES = [                            # the README's indexes, as `feedpub check` names them
    "CREATE INDEX ON {t} (lang, published DESC) WHERE draft IS NOT TRUE",
    "CREATE INDEX ON {t} USING gin (categories)",
    "CREATE INDEX ON {t} (lang, categories) WHERE draft IS NOT TRUE",
    "CREATE INDEX ON {t} (translation_key)",
]

CORPUS = """
CREATE TABLE words (lang text, n int, w text);
INSERT INTO words SELECT 'vi', n - 1, w FROM unnest(string_to_array(
  'công tác dân vận huyện Thủ Thừa tỉnh Long An người dân đoàn kết phát triển kinh tế xã hội nông nghiệp '
  'thanh long lúa gạo giao thông trường học y tế tiêm chủng văn hóa đờn ca tài tử mùa nước nổi cánh đồng '
  'doanh nghiệp khu công nghiệp đầu tư chợ Tết công nhân học sinh bệnh viện', ' ')) WITH ORDINALITY AS t(w, n);
INSERT INTO words SELECT 'en', n - 1, w FROM unnest(string_to_array(
  'mass mobilization district Thu Thua Long An province residents unity economic social development '
  'agriculture dragon fruit rice traffic school health vaccination culture festival flood season fields '
  'companies industrial park investors market Lunar New Year workers students hospital', ' '))
  WITH ORDINALITY AS t(w, n);
CREATE TABLE paragraphs AS
  SELECT l.lang, p, '<p>' || (SELECT string_agg(w.w, ' ' ORDER BY g) FROM generate_series(1, 70) g
    JOIN words w ON w.lang = l.lang AND w.n = (hashtext(l.lang || p || '/' || g) & 2147483647)
      % (SELECT count(*) FROM words x WHERE x.lang = l.lang)) || '.</p>' AS text
  FROM (VALUES ('vi'), ('en')) l(lang), generate_series(0, 999) p;
CREATE TABLE cats (lang text, n int, name text, weight float);
INSERT INTO cats SELECT 'vi', n - 1, name, 1.0 / n FROM unnest(ARRAY['Chính trị', 'Kinh tế', 'Đời sống',
  'Nông nghiệp', 'Giáo dục', 'Y tế', 'Văn hóa', 'Thể thao', 'Pháp luật', 'Quốc tế', 'Du lịch', 'Môi trường',
  'Khoa học', 'Công nghệ', 'Bạn đọc']) WITH ORDINALITY AS t(name, n);
INSERT INTO cats SELECT 'en', n - 1, name, 1.0 / n FROM unnest(ARRAY['Politics', 'Economy', 'Society',
  'Agriculture', 'Education', 'Health', 'Culture', 'Sports', 'Law', 'World', 'Travel', 'Environment',
  'Science', 'Technology', 'Readers']) WITH ORDINALITY AS t(name, n);

CREATE TABLE feed_articles (
  id bigint PRIMARY KEY, lang text NOT NULL, title text NOT NULL, url text NOT NULL,
  published timestamptz NOT NULL, updated timestamptz, summary text, content text, author text,
  categories text[], image jsonb, translation_key text, draft boolean NOT NULL DEFAULT false);

-- rows in the order a CMS appends them (publication order), ids in that order too
INSERT INTO feed_articles
SELECT a.id, lang, title, '/' || lang || '/bai/' || a.id || '.html', published, published + interval '3 hours',
  left(body, 240), body, author, CASE WHEN trap THEN ARRAY['Lưu trữ 2018'] ELSE cats END, image, key, draft
FROM (
  SELECT row_number() OVER (ORDER BY published, n) AS id, * FROM (
    SELECT n, CASE WHEN n % 20 < 11 THEN 'vi' ELSE 'en' END AS lang,
      CASE WHEN n % 20 < 11 THEN 'Bài viết số ' ELSE 'Article number ' END || n AS title,
      CASE WHEN n % 100 = 0 THEN timestamptz '{now}' + (n % 43201) * interval '1 minute'
           -- the trap: a big category whose 15,000 rows (1.5 %) all date from 2018
           WHEN n % 20 < 11 AND n % 37 = 5 THEN timestamptz '2018-01-01' + (n % 500000) * interval '1 minute'
           ELSE timestamptz '{now}' - (((hashtext('p' || n) & 2147483647) % 6101280) * interval '1 minute')
      END AS published,
      n % 20 < 11 AND n % 37 = 5 AND n % 100 <> 0 AS trap,
      n % 50 = 7 AS draft,
      CASE WHEN n % 5 < 3 THEN 'story-' || (n / 20 * 20 + n % 11) END AS key,
      CASE WHEN n % 3 = 0 THEN '{{"url": "/images/' || n || '.jpg", "length": 84512}}' END::jsonb AS image,
      CASE WHEN n % 20 < 11 THEN 'Phóng viên ' ELSE 'Reporter ' END || (n % 97) AS author,
      n % 1000 AS p1, (n * 7) % 1000 AS p2, (n * 13) % 1000 AS p3, (n * 31) % 1000 AS p4
    FROM generate_series(1, {rows}) n) g
  ORDER BY 1 OFFSET 0) a
CROSS JOIN LATERAL (
  SELECT ARRAY(SELECT c.name FROM cats c WHERE c.lang = a.lang AND (
      c.n = (hashtext('c' || a.n) & 2147483647) % 3
      OR ((hashtext(c.name || a.n) & 2147483647) % 1000) < 160 * c.weight)
    ORDER BY c.n) AS cats) c
CROSS JOIN LATERAL (
  SELECT string_agg(text, '' ORDER BY k) AS body FROM (VALUES (1, a.p1), (2, a.p2), (3, a.p3), (4, a.p4),
    (5, (a.p1 + 1) % 1000), (6, (a.p2 + 1) % 1000), (7, (a.p3 + 1) % 1000), (8, (a.p4 + 1) % 1000)) v(k, p)
  JOIN paragraphs ON paragraphs.lang = a.lang AND paragraphs.p = v.p) b;

CREATE TABLE feed_articles_text AS
  SELECT id, lang, title, url, to_char(published AT TIME ZONE 'Asia/Ho_Chi_Minh', 'DD/MM/YYYY - HH24:MI') AS published,
         NULL::text AS content, array_to_json(categories)::text AS categories, translation_key, draft
  FROM feed_articles;
ALTER TABLE feed_articles_text ADD PRIMARY KEY (id);
CREATE INDEX ON feed_articles_text (translation_key);
DROP TABLE words, paragraphs, cats;
"""

CHILD = r"""
import json, resource, sys, time
from datetime import datetime
from zoneinfo import ZoneInfo
what, url, table = sys.argv[1], sys.argv[2], sys.argv[3]
started = time.monotonic()
if what == "floor":
    import sqlalchemy
    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1),
                                      poolclass=sqlalchemy.pool.NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1").scalar()
    print(json.dumps({"figures": {}, "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
    sys.exit()
from pathlib import Path
import sqlalchemy
from sqlalchemy import event
from feedpub.database import open_source, parse_source
now = datetime.fromisoformat(sys.argv[4])
statements = 0
@event.listens_for(sqlalchemy.engine.Engine, "before_cursor_execute")
def count(*args):
    global statements
    statements += 1
figures = {}
def timed(name, fn):
    t = time.monotonic()
    value = fn()
    figures[name] = time.monotonic() - t
    return value
cfg = parse_source({"url": url, "table": table}, Path("."))
src = timed("open", lambda: open_source(cfg, tz=ZoneInfo("Asia/Ho_Chi_Minh"), category_feeds=what != "nocats"))
selection = timed("select", lambda: src.select(["vi", "en"], %d, now))
extra = {"feeds": len(selection.feeds), "picks": len(selection.picks()), "mode": src.mode}
if what in ("noop", "full", "nocats"):
    versions = timed("translations", lambda: src.versions(selection.translation_keys(), now, ["vi", "en"]))
    timed("next_due", lambda: src.next_due(now))
    timed("fingerprint", lambda: src.fingerprint(selection, versions))
    extra["translations"] = len(versions)
if what == "full":
    picks = [*selection.picks(), *versions]
    records = timed("load", lambda: src.load(picks))
    extra["loaded"] = len(records)
if what == "check":
    figures["rows"] = 0
    t = time.monotonic()
    extra["rows"] = sum(1 for _ in src.rows())
    figures["rows"] = time.monotonic() - t
if what == "explain":
    extra["explain"] = timed("explain", src.explain)
extra["warnings"] = src.warnings
src.close()
extra["statements"] = statements
figures["total"] = time.monotonic() - started
print(json.dumps({"figures": figures, "extra": extra, "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
""" % MAX_ITEMS


def run_child(what: str, url: str, table: str) -> tuple[float, dict]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", CHILD, what, url, table, NOW], capture_output=True, text=True,
                          env=env, timeout=3600)
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"{what} failed:\n{done.stderr[-3000:]}")
    return wall, json.loads(done.stdout.strip().splitlines()[-1])


def measure(what: str, url: str, table: str, repeat: int) -> dict:
    runs = [run_child(what, url, table) for _ in range(repeat)]
    figures = {name: statistics.median(r[1]["figures"][name] for r in runs) for name in runs[0][1]["figures"]}
    return {"wall": statistics.median(r[0] for r in runs), "figures": figures,
            "peak": max(r[1]["maxrss"] for r in runs) / 1024, "extra": runs[0][1].get("extra", {})}


SITE_TOML = """[site]
base_url = "https://bench.example.vn"
timezone = "Asia/Ho_Chi_Minh"
max_items = %d

[languages.vi]
title = "Tin thử"
description = "Tin mới"

[languages.en]
title = "Test news"
description = "Latest"

[source]
url_env = "FEEDPUB_BENCH_DB"
table = "%%s"
""" % MAX_ITEMS


def build_process(site: Path, out: Path, url: str, *, fresh: bool) -> tuple[float, float, str]:
    """One whole `feedpub build` process: (wall seconds, peak MiB of the process and its workers, stdout)."""
    import shutil
    import tempfile
    if fresh:
        shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, FEEDPUB_BENCH_DB=url, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        started = time.monotonic()
        child = subprocess.Popen([sys.executable, "-m", "feedpub", "build", "--data", str(site), "--out", str(out),
                                  "--now", NOW], stdout=stdout, stderr=stderr, env=env)
        _, status, usage = os.wait4(child.pid, 0)          # this process's own peak, its workers included
        wall = time.monotonic() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        if child.returncode not in (0, 1):
            raise SystemExit(f"feedpub build failed:\n{stderr.read().decode()[-3000:]}")
        return wall, usage.ru_maxrss / 1024, stdout.read().decode()


def measure_builds(url: str, table: str, repeat: int, work: Path) -> dict:
    """A full build from an empty state, and a build with nothing changed, both whole processes."""
    site = work / f"site-{table}"
    site.mkdir(parents=True, exist_ok=True)
    (site / "feedpub.toml").write_text(SITE_TOML % table, encoding="utf-8")
    out = work / f"out-{table}"
    full = [build_process(site, out, url, fresh=True) for _ in range(repeat)]
    noop = [build_process(site, out, url, fresh=False) for _ in range(repeat)]
    return {"full": statistics.median(w for w, _, _ in full), "full-peak": max(p for _, p, _ in full),
            "noop": statistics.median(w for w, _, _ in noop), "noop-peak": max(p for _, p, _ in noop),
            "summary": full[-1][2].strip().splitlines()[-1] if full[-1][2].strip() else ""}


def ensure_corpus(url: str, rows: int) -> None:
    import sqlalchemy as sa
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        have = conn.exec_driver_sql("SELECT obj_description(to_regclass('feed_articles'), 'pg_class')").scalar()
        if have == f"{CORPUS_VERSION} {rows}":
            print(f"corpus: {rows} rows already loaded", file=sys.stderr)
            return
        conn.exec_driver_sql("DROP TABLE IF EXISTS feed_articles, feed_articles_text, words, paragraphs, cats")
        started = time.monotonic()
        print(f"corpus: generating {rows} rows ...", file=sys.stderr)
        conn.exec_driver_sql("SET maintenance_work_mem = '1GB'")
        for statement in CORPUS.format(rows=rows, now=NOW).split(";\n"):
            if statement.strip():
                conn.execute(sa.text(statement))
        for index in INDEXES:
            conn.exec_driver_sql(index.format(t="feed_articles"))
        conn.exec_driver_sql(f"COMMENT ON TABLE feed_articles IS '{CORPUS_VERSION} {rows}'")
        conn.exec_driver_sql("VACUUM ANALYZE feed_articles")
        conn.exec_driver_sql("VACUUM ANALYZE feed_articles_text")
        size = conn.exec_driver_sql("SELECT pg_size_pretty(pg_total_relation_size('feed_articles'))").scalar()
        print(f"corpus: {rows} rows, {size} with indexes, in {time.monotonic() - started:.0f} s", file=sys.stderr)
    engine.dispose()


def drop_feed_indexes(url: str, drop: bool) -> None:
    import sqlalchemy as sa
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        if drop:
            names = conn.exec_driver_sql("SELECT indexname FROM pg_indexes WHERE tablename = 'feed_articles' "
                                         "AND indexname <> 'feed_articles_pkey'").scalars().all()
            for name in names:
                conn.exec_driver_sql(f'DROP INDEX "{name}"')
        else:
            for index in INDEXES:
                conn.exec_driver_sql(index.format(t="feed_articles"))
            conn.exec_driver_sql("ANALYZE feed_articles")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--url", help="an existing PostgreSQL database (the corpus is created in it if missing)")
    parser.add_argument("--keep", type=Path, help="run the throwaway cluster from this directory and keep it")
    parser.add_argument("--check", action="store_true", help="also stream every full row, as check does")
    parser.add_argument("--without-indexes", action="store_true", help="also select with a primary key only")
    args = parser.parse_args()
    use_bytecode()
    server = None
    url = args.url
    if url is None:
        sys.path.insert(0, str(ROOT / "tests"))
        import dbservers
        settings = {"shared_buffers": "1GB", "work_mem": "64MB", "max_wal_size": "8GB", "checkpoint_timeout": "30min"}
        server = dbservers.start_postgres(settings, directory=args.keep)
        url = server.url()
    try:
        ensure_corpus(url, args.rows)
        results = {}
        results["floor"] = measure("floor", url, "feed_articles", args.repeat)
        results["noop-db"] = measure("noop", url, "feed_articles", args.repeat)
        results["full-db"] = measure("full", url, "feed_articles", args.repeat)
        results["nocats"] = measure("nocats", url, "feed_articles", args.repeat)
        results["stream"] = measure("stream", url, "feed_articles_text", max(1, args.repeat // 2))
        results["explain"] = measure("explain", url, "feed_articles", 1)
        import tempfile
        with tempfile.TemporaryDirectory(prefix="feedpub-bench-db-") as work:
            results["build"] = measure_builds(url, "feed_articles", args.repeat, Path(work))
            results["build-text"] = measure_builds(url, "feed_articles_text", 1, Path(work))
        if args.check:
            results["check"] = measure("check", url, "feed_articles", 1)
        if args.without_indexes:
            drop_feed_indexes(url, True)
            try:
                results["pk-only"] = measure("select", url, "feed_articles", 1)
            finally:
                drop_feed_indexes(url, False)
        report(results, args.rows)
    finally:
        if server is not None and args.keep is None:
            server.remove()
        elif server is not None:
            server.stop()


def report(results: dict, rows: int) -> None:
    print(f"{'figure':<26} {'rows':>9} {'seconds':>9} {'peak MB':>8}")

    def line(name: str, seconds: float, peak: float | None = None) -> None:
        print(f"{name:<26} {rows:>9} {seconds:>9.3f} {'' if peak is None else f'{peak:8.1f}':>8}")

    floor = results["floor"]
    line("floor (process)", floor["wall"], floor["peak"])
    noop = results["noop-db"]
    line("noop-db (process)", noop["wall"], noop["peak"])
    for part in ("open", "select", "translations", "fingerprint", "next_due"):
        line(f"  {part}", noop["figures"][part])
    full = results["full-db"]
    line("full-db (process)", full["wall"], full["peak"])
    line("  load (picked rows)", full["figures"]["load"])
    nocats = results["nocats"]
    line("select, no category feeds", nocats["figures"]["select"], nocats["peak"])
    stream = results["stream"]
    line("stream (text dates)", stream["figures"]["select"], stream["peak"])
    if "pk-only" in results:
        line("select, primary key only", results["pk-only"]["figures"]["select"], results["pk-only"]["peak"])
    if "check" in results:
        line("check: every full row", results["check"]["figures"]["rows"], results["check"]["peak"])
    build, text = results["build"], results["build-text"]
    line("feedpub build, full", build["full"], build["full-peak"])
    line("feedpub build, no-op", build["noop"], build["noop-peak"])
    line("feedpub build, text dates", text["full"], text["full-peak"])
    line("  its no-op", text["noop"], text["noop-peak"])
    print()
    verdict = lambda ok: "met" if ok else "NOT met"                            # noqa: E731
    print(f"feedpub build, full        = {build['full']:.2f} s   (target <= 2 s) {verdict(build['full'] <= 2)}")
    print(f"feedpub build, no-op/floor = {build['noop'] / floor['wall']:.2f}   (target <= 1.5) "
          f"{verdict(build['noop'] <= 1.5 * floor['wall'])}")
    print(f"peak memory of a build     = {max(build['full-peak'], build['noop-peak']):.0f} MiB   (target <= 100 MiB) "
          f"{verdict(max(build['full-peak'], build['noop-peak']) <= 100)}")
    print(f"text dates: full {text['full']:.2f} s, no-op {text['noop']:.2f} s, peak {text['full-peak']:.0f} MiB "
          "(every row's ranking columns streamed)")
    print(f"last full build said: {build['summary']}")
    print(f"noop-db / floor            = {noop['wall'] / floor['wall']:.2f}   (the database's part of a no-op build)")
    print(f"feeds {noop['extra']['feeds']}, picks {noop['extra']['picks']}, translations "
          f"{noop['extra']['translations']}, statements per no-op run {noop['extra']['statements']}, "
          f"rows loaded {full['extra']['loaded']}")
    print(f"explain on the indexed table: {results['explain']['extra']['explain'] or 'no warnings'}")
    print(f"streaming warning: {stream['extra']['warnings']}")


if __name__ == "__main__":
    main()

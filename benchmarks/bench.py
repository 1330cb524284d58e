"""Benchmark feedpub on a generated site and print each figure as a ratio measured in this run.

    python benchmarks/bench.py                 # N = 100,000 (and 10,000 for the memory curve)
    python benchmarks/bench.py -n 20000 --repeat 3

Figures (medians of --repeat runs, each a separate process, wall time and peak RSS):
  floor      read every record file and decode every record with orjson, nothing else
  startup    feedpub --version
  full       feedpub build from an empty state
  noop       feedpub build again, nothing changed
  one-file   feedpub build after one record of one file was edited (the file is read again)
  new-item   feedpub build after a new newest article was appended to one file (feeds re-rendered)
  full+cats  feedpub build from an empty state with the 14 category feeds on as well
The site has the two language feeds (category feeds off), as in the targets:
full/floor <= 0.5, noop/startup <= 1.5, one-file/full <= 0.10, peak memory <= 100 MB.
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
from datetime import datetime, timedelta, timezone
from pathlib import Path

PER_FILE = 10_000
VN = timezone(timedelta(hours=7))
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


def generate(site: Path, n: int, seed: int = 7) -> None:
    """A site of n records (half Vietnamese, half English translations), 10,000 per JSONL file."""
    if (site / "articles").is_dir() and (site / ".complete").exists():
        return
    shutil.rmtree(site, ignore_errors=True)
    (site / "articles").mkdir(parents=True)
    (site / "feedpub.toml").write_text(
        '[site]\nbase_url = "https://bench.example.vn"\ntimezone = "Asia/Ho_Chi_Minh"\nmax_items = 50\n'
        'category_feeds = false\n\n'
        '[languages.vi]\ntitle = "Tin thử"\ndescription = "Tin thử nghiệm"\n\n'
        '[languages.en]\ntitle = "Test news"\ndescription = "Test news"\n', encoding="utf-8")
    rng = random.Random(seed)
    start = datetime(2015, 1, 1, tzinfo=timezone.utc)
    bodies = {lang: [_body(rng, words) for _ in range(50)] for lang, words in (("vi", VI_WORDS), ("en", EN_WORDS))}
    order = list(range(n))
    rng.shuffle(order)                       # files are not in date order
    for f in range(0, n, PER_FILE):
        with open(site / "articles" / f"export-{f // PER_FILE:04d}.jsonl", "w", encoding="utf-8") as out:
            for i in order[f:f + PER_FILE]:
                story, lang = divmod(i, 2)
                lang = "vi" if lang == 0 else "en"
                when = start + timedelta(minutes=37 * story + (0 if lang == "vi" else 95))
                words = VI_WORDS if lang == "vi" else EN_WORDS
                rec = {
                    "id": f"{lang}-{story}", "lang": lang,
                    "title": " ".join(rng.choice(words) for _ in range(9)).capitalize(),
                    "url": f"/{lang}/tin/{story}.html", "published": _date(when, i),
                    "summary": " ".join(rng.choice(words) for _ in range(40)) + ".",
                    "content": bodies[lang][i % 50], "author": "Thanh Ngân" if lang == "vi" else "Staff",
                    "categories": [CATS[lang][story % 7]],
                    "image": {"url": f"/images/{story}.jpg", "caption": "Ảnh minh họa", "type": "image/jpeg",
                              "length": 40000 + story % 999},
                    "translation_key": f"story-{story}",
                }
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    (site / ".complete").touch()


def run(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one process, from the kernel's own accounting.

    Linux keeps a child's peak RSS across fork and exec, so this process must stay small.
    """
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


def median_of(repeat: int, cmd: list[str], before=None) -> tuple[float, float]:
    walls, mems = [], []
    for _ in range(repeat):
        if before:
            before()
        wall, mem = run(cmd)
        walls.append(wall)
        mems.append(mem)
    return statistics.median(walls), max(mems)


def measure(work: Path, n: int, repeat: int) -> dict[str, tuple[float, float]]:
    site, out = work / f"site-{n}", work / f"out-{n}"
    generate(site, n)
    feedpub = [sys.executable, "-m", "feedpub"]
    build = [*feedpub, "build", "--data", str(site), "--out", str(out), "--quiet"]
    victim = sorted((site / "articles").glob("*.jsonl"))[0]
    stamp = [time.time() - 3600]

    def empty_state():
        shutil.rmtree(out, ignore_errors=True)

    def settle(path: Path) -> None:
        stamp[0] += 1                        # a new mtime in the past, so the cache trusts it at once
        os.utime(path, (stamp[0], stamp[0]))

    def edit_one():
        """Edit the summary of the file's first record (a random article: files are shuffled)."""
        with open(victim, "r+b") as handle:
            first = handle.readline()
            rec = json.loads(first)
            rec["summary"] = rec["summary"][:-1] + ("!" if rec["summary"].endswith(".") else ".")
            new = json.dumps(rec, ensure_ascii=False).encode() + b"\n"
            assert len(new) == len(first)
            handle.seek(0)
            handle.write(new)
        settle(victim)

    added = [0]

    def add_newest():
        """Append a Vietnamese article newer than every other one."""
        added[0] += 1
        rec = {"id": f"vi-new-{added[0]}", "lang": "vi", "title": f"Tin mới {added[0]}",
               "url": f"/vi/tin/moi-{added[0]}.html", "published": f"2030-01-01T{added[0] % 24:02d}:00:00+07:00",
               "summary": "Tin mới nhất.", "content": "<p>Nội dung.</p>", "translation_key": f"new-{added[0]}"}
        with open(victim, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(rec, ensure_ascii=False) + "\n")
        settle(victim)

    for path in (site / "articles").glob("*.jsonl"):   # settle mtimes: older than the racy window
        os.utime(path, (stamp[0], stamp[0]))
    results = {
        "floor": median_of(repeat, [sys.executable, "-c", FLOOR, str(site)]),
        "startup": median_of(repeat, [*feedpub, "--version"]),
        "full": median_of(repeat, build, before=empty_state),
    }
    run(build)
    results["noop"] = median_of(repeat, build)
    backup = victim.with_name(victim.name + ".orig")  # not read into this process: a child's peak RSS
    shutil.copy2(victim, backup)                        # starts from its parent's at fork time
    try:
        results["one-file"] = median_of(repeat, build, before=edit_one)
        results["new-item"] = median_of(repeat, [*build, "--now", "2031-01-01T00:00:00+07:00"],
                                        before=add_newest)
    finally:
        os.replace(backup, victim)           # the generated site stays as generated
        settle(victim)
    cats = work / f"site-{n}-cats"
    if not (cats / "articles").exists():
        cats.mkdir(exist_ok=True)
        (cats / "articles").symlink_to((site / "articles").resolve())
    (cats / "feedpub.toml").write_text((site / "feedpub.toml").read_text().replace(
        "category_feeds = false", "category_feeds = true"), encoding="utf-8")
    cats_out = work / f"out-{n}-cats"
    results["full+cats"] = median_of(
        repeat, [*feedpub, "build", "--data", str(cats), "--out", str(cats_out), "--quiet"],
        before=lambda: shutil.rmtree(cats_out, ignore_errors=True))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=100_000, help="articles in the big site (default 100000)")
    parser.add_argument("--small", type=int, default=10_000, help="articles in the small site (memory curve)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure; the median is reported")
    parser.add_argument("--work", type=Path, default=Path("bench-work"), help="where generated sites go")
    args = parser.parse_args()
    args.work.mkdir(exist_ok=True)
    big = measure(args.work, args.n, args.repeat)
    small = measure(args.work, args.small, args.repeat) if args.small and args.small != args.n else None
    print(f"{'figure':<10} {'N':>8} {'seconds':>9} {'peak MB':>8}")
    for label, res, n in (("", big, args.n), ("", small, args.small)):
        for name, (wall, mem) in (res or {}).items():
            print(f"{name:<10} {n:>8} {wall:9.3f} {mem:8.1f}")
    print()
    ratio = lambda a, b: big[a][0] / big[b][0]  # noqa: E731
    print(f"full / floor        = {ratio('full', 'floor'):.2f}   (target <= 0.50)")
    print(f"noop / startup      = {ratio('noop', 'startup'):.2f}   (target <= 1.50)")
    print(f"one-file / full     = {ratio('one-file', 'full'):.3f}  (target <= 0.10)")
    print(f"new-item / full     = {ratio('new-item', 'full'):.3f}  (a new article that reaches a feed)")
    print(f"full+cats / floor   = {ratio('full+cats', 'floor'):.2f}   (with 14 category feeds as well)")
    peak = max(mem for name, (_, mem) in big.items() if name not in ("floor",))
    print(f"peak memory feedpub = {peak:.0f} MB at N={args.n} (target <= 100 MB)")
    if small:
        small_peak = max(mem for name, (_, mem) in small.items() if name not in ("floor",))
        print(f"peak memory feedpub = {small_peak:.0f} MB at N={args.small}; "
              f"growth {peak - small_peak:+.0f} MB for {args.n - args.small:,} more articles")


if __name__ == "__main__":
    main()

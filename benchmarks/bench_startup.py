"""Start-up costs of the command, side by side in one run: what shell completion and the edge's error
policy cost every invocation.

    python benchmarks/bench_startup.py                          # this checkout
    python benchmarks/bench_startup.py --reference ../older     # and another checkout's feedpub/, interleaved

Figures (each the median of --repeat separate processes, rounds interleaved so that a ratio is taken
between figures measured side by side):

  version     feedpub --version
  noop        feedpub build of the bundled sample site with nothing to do (a cron run's usual cost)

Targets: noop / version <= 1.5; with --reference, version / reference's version <= 1.10 (start-up not
more than 10 % slower than the reference).
"""
from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(argv: list[str], env: dict, cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--reference", type=Path, help="another checkout (its feedpub/ is measured too)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="feedpub-startup-"))
    try:
        sources = {"this": ROOT}
        if args.reference is not None:
            sources["reference"] = args.reference.resolve()
        for source in sources.values():
            compileall.compile_dir(source / "feedpub", quiet=1)
        shutil.copytree(ROOT / "data", work / "site")
        figures: dict[tuple[str, str], list[float]] = {}
        envs = {name: dict(os.environ, PYTHONPATH=str(src)) for name, src in sources.items()}
        for name, env in envs.items():          # the no-op needs a first build
            subprocess.run([sys.executable, "-m", "feedpub", "build", "--data", str(work / "site"), "--out",
                            str(work / f"out-{name}"), "--quiet"], env=env, cwd=work, check=True)
        for _ in range(args.repeat):
            for name, env in envs.items():
                figures.setdefault((name, "version"), []).append(
                    timed([sys.executable, "-m", "feedpub", "--version"], env, work))
                figures.setdefault((name, "noop"), []).append(
                    timed([sys.executable, "-m", "feedpub", "build", "--data", str(work / "site"), "--out",
                           str(work / f"out-{name}"), "--quiet"], env, work))
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, medians of {args.repeat} processes")
        print(f"{'checkout':12} {'figure':8} {'seconds':>8}")
        for (name, figure), values in figures.items():
            print(f"{name:12} {figure:8} {statistics.median(values):8.4f}")

        def ratio(a, b):
            return statistics.median(x / y for x, y in zip(figures[a], figures[b]))

        rows = [("this: no-op / --version", ratio(("this", "noop"), ("this", "version")), 1.5)]
        if "reference" in sources:
            rows.append(("reference: no-op / --version", ratio(("reference", "noop"), ("reference", "version")), None))
            rows.append(("this --version / reference --version",
                         ratio(("this", "version"), ("reference", "version")), 1.10))
            rows.append(("this no-op / reference no-op", ratio(("this", "noop"), ("reference", "noop")), None))
        print()
        for label, value, target in rows:
            verdict = "" if target is None else f"  (target <= {target}) {'met' if value <= target else 'NOT met'}"
            print(f"{label:40} {value:6.3f}{verdict}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

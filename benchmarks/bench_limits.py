"""How time and output grow with every limited input dimension, measured side by side in one process.

    python benchmarks/bench_limits.py                # every limit of feedpub/limits.py
    python benchmarks/bench_limits.py --scale 4      # inputs 4x larger (n and 4n still within each limit)

For each limit (and each route it is checked on), the same input at n and at 4n below the limit is
built (or validated) a few times, and the best run of each is kept: the ratios say whether the cost
is linear (~4) or not (16 would be quadratic). Then an input far over the limit (a 6 GB sparse
file, 100,000 nested <div>, a date of a million characters) is timed: it must be refused in well
under a second. The inputs are tests/limitcases.py's, which the tests run at a smaller scale.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import limitcases  # noqa: E402  (tests/ is the home of the exercises)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1, help="multiply each exercise's n (4n must stay within its limit)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per input; the best is kept")
    args = parser.parse_args()
    print(f"{'limit':22s} {'route':9s} {'n':>9s} {'time n':>9s} {'time 4n':>9s} {'ratio':>6s} "
          f"{'out n':>10s} {'out 4n':>10s} {'ratio':>6s} {'over: s':>8s}")
    worst = 0.0
    with tempfile.TemporaryDirectory(prefix="feedpub-limits-") as work:
        for name, route, ex in limitcases.exercises():
            root = Path(work) / f"{name}-{route}"
            over = limitcases.run(root / "over", ex, ex.generous())
            if ex.grow is None:
                print(f"{name:22s} {route:9s} {'-':>9s} {'':>9s} {'':>9s} {'':>6s} {'':>10s} {'':>10s} {'':>6s} "
                      f"{over.seconds:8.3f}")
                continue
            n = ex.n * args.scale
            small = limitcases.best(root / "n", ex, lambda: ex.grow(n), args.repeat)
            large = limitcases.best(root / "4n", ex, lambda: ex.grow(4 * n), args.repeat)
            t_ratio = large.seconds / small.seconds if small.seconds else float("nan")
            o_ratio = large.output_bytes / small.output_bytes if small.output_bytes else float("nan")
            if not ex.quadratic:
                worst = max(worst, o_ratio if o_ratio == o_ratio else 0)
            note = "  (n squared by nature: " + ex.quadratic + ")" if ex.quadratic else ""
            print(f"{name:22s} {route:9s} {n:9,d} {small.seconds:9.3f} {large.seconds:9.3f} {t_ratio:6.2f} "
                  f"{small.output_bytes:10,d} {large.output_bytes:10,d} {o_ratio:6.2f} {over.seconds:8.3f}{note}")
    print(f"\nlargest output ratio of a linear dimension: {worst:.2f} (target <= 4.5) "
          f"{'met' if worst <= 4.5 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

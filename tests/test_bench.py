"""benchmarks/bench.py runs end to end and prints every figure and every target (on tiny sites: the
real runs generate gigabytes and take minutes, so they are never part of the tests)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench.py"


def test_bench_prints_every_figure_and_target(tmp_path):
    pytest.importorskip("orjson", reason="the decode floor uses orjson (pip install -e '.[bench]')")
    proc = subprocess.run([sys.executable, str(BENCH), "--quick", "-n", "400", "--big", "800", "--files", "150",
                           "--per-file", "100", "--repeat", "1", "--work", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for figure in ("floor", "startup", "full-nocats", "full", "one-file", "new-item", "appended", "noop", "touched"):
        assert f" {figure} " in out, figure
    verdicts = [line for line in out.splitlines() if "(target <=" in line]
    assert len(verdicts) == 9, out
    assert all(line.endswith((" met", " NOT met")) for line in verdicts), verdicts
    assert "full (category feeds on) / floor" in out and ".json files: one touched / full" in out

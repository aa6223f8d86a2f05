"""Sweep throughput benchmark: `make bench`. Writes its table to stdout; docs/benchmarks.md
records the figures with the machine they came from."""

from __future__ import annotations

import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

from sactk.sweeps.run import run_sweep
from sactk.sweeps.spec import load_spec


def bench(preset: str, jobs: int, repeat: int = 3) -> float:
    spec = load_spec(preset=preset)
    best = float("inf")
    points = 0
    for _ in range(repeat):
        out = Path(tempfile.mkdtemp())
        try:
            t0 = time.perf_counter()
            s = run_sweep(spec, out / "r", n_jobs=jobs)
            best = min(best, time.perf_counter() - t0)
            points = s.points
        finally:
            shutil.rmtree(out)
    print(f"| {preset} | {jobs} | {points} | {best:.2f} | {points / best:.0f} |")
    return best


if __name__ == "__main__":
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print("| preset | workers | points | best wall (s) | points/s |")
    print("| --- | --- | --- | --- | --- |")
    t1 = bench("mp-temp", 1)
    t2 = bench("mp-temp", 2)
    print(f"speed-up with 2 workers: {t1 / t2:.2f}x")

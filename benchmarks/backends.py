"""ngspice and VACASK on the same sweeps, in one run: agreement point by point and whole-
process wall time (`make bench`; docs/benchmarks.md, "Two backends").

Workloads, c180, run the way a user runs them: `sactk sweep --preset P --simulator S --out
DIR` in a fresh process (Python start-up, planning, every job, writing results):
- `mp-dc`: the 4-input MP cell, 7 biases at 27 C, 65 vectors each (455 points);
- `mp-mc` with 20 chips: 3 biases x 3 temperatures x (20 chips + nominal) x 60 vectors
  (11,340 points).
The two simulators alternate, `--repeat` times; the table gives each one's best and the
largest difference of the output current in fractions of each point's full scale.

Usage: python benchmarks/backends.py [--repeat 2] [--jobs N]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _common import tmp_dir

CASES = {"mp-dc": [], "mp-mc": ["--set", "mc.instances=20"]}
KEYS = ["temp_c", "bias_a", "mc_index", "point"]


def sweep(preset: str, sim: str, out: Path, jobs: int | None) -> float:
    extra = ["--jobs", str(jobs)] if jobs else []
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "sactk", "sweep", "--preset", preset, *CASES[preset],
         "--simulator", sim, "--out", str(out), *extra],
        check=True, capture_output=True,
    )  # fmt: skip
    return time.perf_counter() - t0


def main() -> None:
    import numpy as np
    import pandas as pd

    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=None)
    args = ap.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print("| preset | points | ngspice best (s) | VACASK best (s) | VACASK / ngspice | "
          "largest difference (of full scale) |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- |")
    for preset in CASES:
        best = {"ngspice": float("inf"), "vacask": float("inf")}
        frames = {}
        for _ in range(args.repeat):
            for sim in best:
                d = tmp_dir()
                try:
                    best[sim] = min(best[sim], sweep(preset, sim, d / "r", args.jobs))
                    frames[sim] = pd.read_parquet(d / "r" / "results.parquet")
                finally:
                    shutil.rmtree(d)
        ng, va = (frames[s].sort_values(KEYS, ignore_index=True) for s in ("ngspice", "vacask"))
        assert len(ng) == len(va) and (ng["status"] == "ok").all()
        assert (va["status"] == "ok").all(), va["status"].value_counts()
        err = float(np.max(np.abs(va["out_z_a"] - ng["out_z_a"]) / ng["fs_a"]))
        assert err < 1e-4, f"{preset}: VACASK and ngspice differ by {err:.1e} of full scale"
        ratio = best["vacask"] / best["ngspice"]
        print(f"| {preset} | {len(ng)} | {best['ngspice']:.2f} | {best['vacask']:.2f} | "
              f"{ratio:.2f}x | {err:.1e} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()

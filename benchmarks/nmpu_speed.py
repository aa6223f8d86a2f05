"""NMPU post-processing throughput: the bit-true fixed-point path (int64) against FP16 and
FP32 emulation in NumPy, one core. 4096 samples x 512 columns of ADC sums, best of 5; the
figure is column outputs per second.

    OMP_NUM_THREADS=1 taskset -c 0 .venv/bin/python benchmarks/nmpu_speed.py
"""

from __future__ import annotations

import os
import platform
import time

import numpy as np


def main(samples: int = 4096, columns: int = 512, repeat: int = 5) -> None:
    from sactk.system.nmpu import NMPU

    rng = np.random.default_rng(0)
    a = rng.uniform(0.05, 1.5, columns)
    b = rng.uniform(-60, 60, columns)
    nm = NMPU(a, b, out_bits=8)
    y = rng.integers(-400, 400, (samples, columns))
    times = {}
    for path in ("fixed", "fp16", "fp32"):
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            nm(y, path)
            best = min(best, time.perf_counter() - t0)
        times[path] = best
    n = samples * columns
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores (pinned to one), "
        f"Python {platform.python_version()}, NumPy {np.__version__}"
    )
    print(f"{samples} samples x {columns} columns, best of {repeat}")
    print("| path | wall (s) | column outputs / s |")
    print("| --- | --- | --- |")
    for p, t in times.items():
        print(f"| {p} | {t:.4f} | {n / t:.3g} |")
    print(f"fixed / FP16: {times['fp16'] / times['fixed']:.2f}x")


if __name__ == "__main__":
    main()

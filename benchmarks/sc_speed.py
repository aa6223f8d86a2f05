"""SC multiply throughput: packed uint64 streams against unpacked boolean arrays, one core.

Both multiply 32768 pairs of L = 1024-bit streams (AND) and decode them (count the ones);
the figure is bit-operations per second (pairs x L / wall time), best of 5. Run:

    OMP_NUM_THREADS=1 taskset -c 0 .venv/bin/python benchmarks/sc_speed.py
"""

from __future__ import annotations

import os
import platform
import time

import numpy as np


def main(pairs: int = 32768, length: int = 1024, repeat: int = 5) -> None:
    from sactk.system import sc

    rng = np.random.default_rng(0)
    a_bits = rng.random((pairs, length)) < 0.6
    b_bits = rng.random((pairs, length)) < 0.3
    a, b = sc.pack(a_bits), sc.pack(b_bits)

    def packed() -> np.ndarray:
        return sc.count(sc.mul(a, b), length)

    def unpacked() -> np.ndarray:
        return np.logical_and(a_bits, b_bits).sum(axis=1)

    best = {}
    for name, fn in (
        ("packed uint64 (AND + bitwise_count)", packed),
        ("unpacked bool arrays", unpacked),
    ):
        t = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            res = fn()
            t = min(t, time.perf_counter() - t0)
        best[name] = (t, res)
    (tp, rp), (tu, ru) = best.values()
    assert np.array_equal(rp, ru), "packed and unpacked counts differ"
    ops = pairs * length
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores (pinned to one), "
        f"Python {platform.python_version()}, NumPy {np.__version__}"
    )
    print(f"{pairs} stream pairs x L = {length}: AND and count, best of {repeat}")
    print("| streams | wall (s) | bit-operations / s |")
    print("| --- | --- | --- |")
    for name, (t, _) in best.items():
        print(f"| {name} | {t:.4f} | {ops / t:.3g} |")
    print(
        f"speed-up: {tu / tp:.1f}x; memory per stream: {length // 8} B packed, {length} B as bool"
    )


if __name__ == "__main__":
    main()

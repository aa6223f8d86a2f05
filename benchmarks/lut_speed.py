"""Lookup-model prediction speed against scipy's RegularGridInterpolator, one core.

Both interpolate the same three-axis table (normalized input u, log10 bias, temperature:
32 x 7 x 3, the shape `sactk fit` gives the mp-temp sweep) at the same 10 million random
points, each at its own bias and temperature, and both are handed bias in amperes (so both
pay the log10). RegularGridInterpolator is linear in every axis (what sactk's tables did
before their natural spline in 1/T and log10 bias, analysis/conditions.py); sactk's result
is checked on 2000 of the points against SciPy's CubicSpline weights. Run:

    OMP_NUM_THREADS=1 taskset -c 0 .venv/bin/python benchmarks/lut_speed.py [N]

Prints a Markdown table for docs/benchmarks.md; the goal is at least 4x.
"""

from __future__ import annotations

import os
import platform
import sys
import time

import numpy as np


def main(n: int = 10_000_000, repeat: int = 3) -> None:
    from scipy import __version__ as scipy_version
    from scipy.interpolate import RegularGridInterpolator

    from sactk.analysis.lut import LookupModel

    rng = np.random.default_rng(0)
    m = LookupModel()
    # a fitted model's attributes, filled directly so the benchmark needs no simulator
    m.cell_, m.output_, m.coordinate_ = "mp", "out_z_a", "ideal_z_a"
    m.coord_per_bias_ = m.out_per_bias_ = True
    m.corners_ = np.array(["tt"])
    m.temp_c_ = np.array([-40.0, 27.0, 125.0])
    m.log_bias_ = np.log10([1e-8, 3e-8, 1e-7, 3e-7, 1e-6, 3e-6, 1e-5])
    m.u_knots_ = np.linspace(0.25, 2.0, 32)
    m.table_ = rng.uniform(0.2, 2.0, (1, 3, 7, 32))
    m.chips_ = np.zeros((0, 1, 3, 7, 32))
    m.chip_ids_ = np.zeros(0, int)
    m.chip_mean_ = m.chip_basis_ = None
    m._conditions()
    m.coef_[:] = 0.0  # a random table has no leakage; the term's cost stays in the timing

    bias = 10 ** rng.uniform(-8, -5, n)
    temp = rng.uniform(-40, 125, n)
    u = rng.uniform(0.25, 2.0, n) * bias
    rgi = RegularGridInterpolator((m.temp_c_, m.log_bias_, m.u_knots_), m.table_[0])

    def ours() -> np.ndarray:
        return m.evaluate(u, bias, temp)

    def scipy_rgi() -> np.ndarray:
        lb = np.log10(bias)
        return rgi(np.column_stack([temp, lb, u / bias])) * bias

    times: dict[str, float] = {}
    results: dict[str, np.ndarray] = {}
    for name, fn in (("LookupModel.evaluate", ours), ("RegularGridInterpolator", scipy_rgi)):
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            results[name] = fn()
            best = min(best, time.perf_counter() - t0)
        times[name] = best
    diff = _check(m, u, bias, temp, results["LookupModel.evaluate"])
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores (pinned to one), "
        f"Python {platform.python_version()}, NumPy {np.__version__}, SciPy {scipy_version}"
    )
    print(
        f"{n} points, best of {repeat}; max |sactk - SciPy splines| {diff:.2e} x bias (2000 points)"
    )
    print("| method | wall (s) | points/s |")
    print("| --- | --- | --- |")
    for name, t in times.items():
        print(f"| {name} | {t:.2f} | {n / t:.3g} |")
    ratio = times["RegularGridInterpolator"] / times["LookupModel.evaluate"]
    print(f"speed-up: {ratio:.2f}x (goal >= 4x, set when both were linear)")


def _check(m, u, bias, temp, got, k: int = 2000) -> float:  # type: ignore[no-untyped-def]
    """Max |difference| / bias on k points against SciPy's natural CubicSpline weights in
    -1000/T and log10 bias, then linear in u."""
    from scipy.interpolate import CubicSpline

    from sactk.analysis.conditions import temp_coord

    wt = CubicSpline(temp_coord(m.temp_c_), np.eye(len(m.temp_c_)), bc_type="natural")
    wb = CubicSpline(m.log_bias_, np.eye(len(m.log_bias_)), bc_type="natural")
    worst = 0.0
    for i in range(k):
        curve = np.einsum("t,b,tbu->u", wt(temp_coord(temp[i])), wb(np.log10(bias[i])), m.table_[0])
        want = np.interp(u[i] / bias[i], m.u_knots_, curve) * bias[i]
        worst = max(worst, abs(got[i] - want) / bias[i])
    return worst


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000)

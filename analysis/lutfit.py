"""Fitting helpers of lookup models: the simulated rows to fit, a penalized linear spline
per operating-point plane, the statistical model of chips and the hold-out split."""

from __future__ import annotations

from typing import Any

import numpy as np

from sactk.analysis.interp import _Axis
from sactk.errors import SpecError


def ok_rows(df: Any, nominal: bool | None = None) -> Any:
    """The DC rows that simulated (``status == "ok"``); ``nominal`` as metrics.op_rows."""
    from sactk.analysis.metrics import op_rows

    rows = op_rows(df, nominal=nominal)
    return rows[rows["status"] == "ok"]


def _hat_matrix(knots: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Rows: points; columns: linear B-spline (hat) basis on uniform ``knots``."""
    a = np.zeros((len(u), len(knots)))
    if len(knots) == 1:
        a[:, 0] = 1.0
        return a
    i, f = _Axis(knots).locate(u)  # fit points lie inside the knots
    rows = np.arange(len(u))
    a[rows, i] = 1.0 - f
    a[rows, i + 1] += f
    return a


def _fit_plane(knots: np.ndarray, u: np.ndarray, y: np.ndarray, smoothing: float) -> np.ndarray:
    """Least-squares linear spline with a second-difference penalty (scaled to the data)."""
    a = _hat_matrix(knots, u)
    ata = a.T @ a
    k = len(knots)
    if k >= 3:
        d2 = np.diff(np.eye(k), n=2, axis=0)
        lam = smoothing * max(float(np.trace(ata)) / k, 1e-30)
        ata = ata + lam * (d2.T @ d2)
    ata[np.diag_indices(k)] += 1e-12 * max(float(np.trace(ata)) / k, 1e-30)
    return np.asarray(np.linalg.solve(ata, a.T @ y))


def _pca(chips: np.ndarray, keep: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean table and scaled principal directions of the chips' deviations: a chip is
    mean + z @ basis with z standard normal (a low-rank Gaussian model of mismatch)."""
    n = len(chips)
    flat = chips.reshape(n, -1)
    mean = flat.mean(axis=0)
    _, s, vt = np.linalg.svd(flat - mean, full_matrices=False)
    var = s**2
    total = float(var.sum())
    r = int(np.searchsorted(np.cumsum(var) / total, keep) + 1) if total > 0 else 1
    r = min(r, n - 1)
    basis = vt[:r] * (s[:r] / np.sqrt(n - 1))[:, None]
    return mean.reshape(chips.shape[1:]), basis


def holdout_split(df: Any, fraction: float, seed: int) -> tuple[Any, Any]:
    """Hold out a seeded random ``fraction`` of the input vectors (``pattern``, ``point``),
    at every bias, temperature and chip: the model never sees those vectors."""
    if not 0.0 < fraction < 1.0:
        raise SpecError(f"fit: holdout = {fraction}; use a fraction between 0 and 1")
    keys = [c for c in ("pattern", "point") if c in df.columns]
    vec = df[keys].drop_duplicates()
    rng = np.random.default_rng(seed)
    test = vec[rng.random(len(vec)) < fraction]
    held = df[keys].merge(test.assign(_held=True), on=keys, how="left")["_held"].notna()
    mask = held.to_numpy()
    return df[~mask], df[mask]

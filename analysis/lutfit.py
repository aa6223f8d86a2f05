"""Fitting helpers of lookup models: the simulated rows to fit, a penalized linear spline
per operating-point plane, the statistical model of chips and the hold-out split."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sactk.analysis.interp import _Axis
from sactk.errors import SpecError

if TYPE_CHECKING:
    import pandas as pd

    from sactk.analysis.model import Model


def ok_rows(df: pd.DataFrame, nominal: bool | None = None) -> pd.DataFrame:
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


def spline_plane(knots: np.ndarray, u: np.ndarray, y: np.ndarray, smoothing: float) -> np.ndarray:
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


def chip_pca(chips: np.ndarray, keep: float) -> tuple[np.ndarray, np.ndarray]:
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


def holdout_split(
    df: pd.DataFrame, fraction: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
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


def model_errors(model: Model, rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with the model's ``pred`` and ``err_fs`` = (pred - simulation) / fs_a for a
    current output; for another output (a voltage, ...) or results without ``fs_a``, the
    output's range over ``rows`` is the full scale."""
    rows = rows.copy()
    rows["pred"] = model.predict_results(rows)
    y = rows[model.output_].to_numpy(float)
    if "fs_a" in rows.columns and model.output_.endswith("_a"):
        fs: Any = rows["fs_a"].to_numpy(float)
    else:
        fs = max(float(np.ptp(y)) if len(y) else 0.0, 1e-30)
    rows["err_fs"] = (rows["pred"] - y) / fs
    return rows


def _stats(e: np.ndarray) -> dict[str, Any]:
    return {
        "points": len(e),
        "max_err_fs": float(np.max(np.abs(e))),
        "rms_err_fs": float(np.sqrt(np.mean(e**2))),
        "p99_err_fs": float(np.quantile(np.abs(e), 0.99)),
    }


def validation(model: Model, rows: pd.DataFrame, how: str) -> dict[str, Any]:
    """Held-out errors of ``model`` on simulated ``rows`` inside its range, in fractions of
    full scale: the nominal circuit's max / RMS / p99 at the top level; with chips,
    ``chips`` holds the worst chip's max (``max_err_fs``), the worst RMS of any chip at any
    operating point (``rms_err_fs``), the worst chip's RMS over its points, the pooled RMS,
    and ``per_chip`` (max, RMS of each)."""
    inside = model.inside(rows)
    if not inside.any():
        raise SpecError("validate: no validation points inside the fitted range")
    rows = model_errors(model, rows[inside])
    chip = rows["mc_index"].to_numpy() if "mc_index" in rows.columns else np.full(len(rows), -1)
    err = rows["err_fs"].to_numpy()
    v: dict[str, Any] = {"how": how, "outside_points": int((~inside).sum())}
    v["nominal"] = bool((chip < 0).any())
    if (chip < 0).any():
        v.update(_stats(err[chip < 0]))
    if (chip >= 0).any():
        mc = rows[chip >= 0].assign(_e2=err[chip >= 0] ** 2, _ae=np.abs(err[chip >= 0]))
        per_op = mc.groupby(["mc_index", "corner", "temp_c", "bias_a"])["_e2"].mean() ** 0.5
        per_chip = mc.groupby("mc_index").agg(max_err_fs=("_ae", "max"), ms=("_e2", "mean"))
        pooled = _stats(err[chip >= 0])
        v["chips"] = {
            "points": pooled["points"],
            "max_err_fs": pooled["max_err_fs"],
            "rms_err_fs": float(per_op.max()),
            "rms_pooled_err_fs": pooled["rms_err_fs"],
            "worst_chip_rms_err_fs": float(per_chip["ms"].max() ** 0.5),
            "p99_err_fs": pooled["p99_err_fs"],
            "per_chip": [
                {"chip": int(c), "max_err_fs": float(m), "rms_err_fs": float(ms**0.5)}
                for c, m, ms in zip(
                    per_chip.index.to_numpy(),
                    per_chip["max_err_fs"].to_numpy(),
                    per_chip["ms"].to_numpy(),
                    strict=True,
                )
            ],
        }
    if "max_err_fs" not in v:  # chips only: their figures are the headline
        v.update({k: v["chips"][k] for k in ("points", "max_err_fs", "rms_err_fs", "p99_err_fs")})
    return v

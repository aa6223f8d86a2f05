"""How far a fitted model may be trusted: held-out vectors (k-fold) and held-out conditions.

Two questions, two measurements, both on points the model under test never saw:

* **New input vectors at a fitted condition.** The input vectors (``pattern``, ``point``) are
  split into k folds, seeded; each fold is predicted by a model fitted on the others, at
  every condition and chip. The figure is the worst fold's: one lucky split of 7-12 held-out
  vectors per condition reported 0.04 % or 0.16 % of full scale for the same fit, depending
  on its seed.
* **A condition the grid does not hold.** Each interior temperature and each interior bias
  is left out in turn, the model is rebuilt from the other planes (its planes are fitted
  per condition, so nothing else changes: :meth:`OpGrid.without`) and predicts every fitted
  row there. Leaving a point out doubles the spacing around it, so this error is larger
  than the error between the grid's own points: interpolation error grows at least as the
  square of the spacing, so a quarter of it estimates the error between fitted conditions.
  That quarter is an estimate, and is labelled so wherever it is shown.

When the held-out-condition error is more than :data:`GRID_RATIO` times the held-out-vector
error, the grid is too coarse for the model's accuracy: ``fit`` warns and names the
conditions to add (the midpoints, in 1/T or log10 bias, of the intervals around the worst
left-out condition), which is also what ``sactk refine`` simulates next (api/refine.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from sactk.analysis.conditions import KELVIN
from sactk.errors import SpecError

if TYPE_CHECKING:
    import pandas as pd

    from sactk.analysis.model import Model

FOLDS = 5
"""Default k of the k-fold split of the input vectors."""
CV_CHIPS = 20
"""Monte Carlo chips (the first fitted ids, with the nominal circuit) that the k-fold refits
use: each fold refits every plane from scratch, and the held-out-vector error is a property
of the model's form and the vectors per plane, which a few chips measure as well as 200."""
GRID_RATIO = 3.0
"""Held-out-condition over held-out-vector error above which ``fit`` warns."""
SPACING_FACTOR = 0.25
"""Leave-one-out error to between-grid error: (1/2)^2 for an error that grows as the
square of the spacing (linear interpolation's order; a spline's is higher): an estimate."""


def vector_folds(df: pd.DataFrame, folds: int, seed: int) -> list[np.ndarray]:
    """Row masks of ``folds`` seeded folds of the input vectors (``pattern``, ``point``):
    every vector is in exactly one fold, at every bias, temperature and chip."""
    if folds < 2:
        raise SpecError(f"fit: folds = {folds}; use 2 or more (or --validate DIR)")
    keys = [c for c in ("pattern", "point") if c in df.columns]
    vec = df[keys].drop_duplicates().reset_index(drop=True)
    if len(vec) < folds:
        raise SpecError(
            f"fit: {len(vec)} input vectors cannot make {folds} folds; sweep more vectors "
            "(inputs.random.count) or pass --folds"
        )
    order = np.random.default_rng(seed).permutation(len(vec))
    fold_of = np.empty(len(vec), dtype=int)
    fold_of[order] = np.arange(len(vec)) % folds
    merged = df[keys].merge(vec.assign(_fold=fold_of), on=keys, how="left")["_fold"]
    f = merged.to_numpy()
    return [f == k for k in range(folds)]


def headline(v: dict[str, Any]) -> dict[str, Any]:
    """The figures a model may claim from a lutfit.validation result: the max, and the RMS of
    the worst of the nominal circuit and every chip (a chip's RMS over its points)."""
    chips = v.get("chips") or {}
    nominal = bool(v.get("nominal", not chips))
    rms = [float(v["rms_err_fs"])] if nominal else []
    mx = [float(v["max_err_fs"])] if nominal else []
    if chips:
        rms.append(float(chips["worst_chip_rms_err_fs"]))
        mx.append(float(chips["max_err_fs"]))
    points = (int(v["points"]) if nominal else 0) + (int(chips["points"]) if chips else 0)
    return {"points": points, "max_err_fs": max(mx), "worst_rms_err_fs": max(rms)}


def cross_validate(
    fit: Callable[[pd.DataFrame], Model], df: pd.DataFrame, folds: int, seed: int
) -> tuple[dict[str, Any], Model, pd.DataFrame]:
    """k-fold over the input vectors (module docstring) of ``fit(train)``, each fold fitted
    from scratch (a start from the model fitted on every vector would leak the held-out
    vectors into the directions the fold's own data leave free). Returns (the record for
    MODEL.json, the worst fold's model and its held-out rows)."""
    from sactk.analysis.lutfit import ok_rows, validation

    rows = ok_rows(df)
    if "mc_index" in rows.columns:
        ids = np.unique(rows["mc_index"].to_numpy(int))
        keep = set(ids[ids >= 0][:CV_CHIPS].tolist()) | {-1}
        rows = rows[rows["mc_index"].isin(keep)]
    per, worst = [], None
    for k, mask in enumerate(vector_folds(rows, folds, seed)):
        model = fit(rows[~mask])
        v = validation(model, rows[mask], f"fold {k + 1} of {folds}")
        h = headline(v)
        per.append(h)
        if worst is None or h["max_err_fs"] > worst[0]["max_err_fs"]:
            worst = (h, model, rows[mask], v, k)
    assert worst is not None
    record = {
        "folds": folds,
        "seed": seed,
        "chips": int((np.unique(rows["mc_index"]) >= 0).sum()) if "mc_index" in rows else 0,
        "per_fold": per,
        "worst_fold": worst[4],
        "max_err_fs": max(h["max_err_fs"] for h in per),
        "worst_rms_err_fs": max(h["worst_rms_err_fs"] for h in per),
        "validation": worst[3],
    }
    return record, worst[1], worst[2]


def _midpoints(axis: str, grid: np.ndarray, i: int) -> list[float]:
    """The midpoints of the grid intervals beside point i, in the model's own axis
    coordinate (1/T for temperature, log10 for bias)."""
    out = []
    for j in (i - 1, i):
        if 0 <= j < len(grid) - 1:
            a, b = float(grid[j]), float(grid[j + 1])
            if axis == "temp_c":
                mid = 2.0 / (1.0 / (a + KELVIN) + 1.0 / (b + KELVIN)) - KELVIN
                out.append(round(mid, 1))
            else:
                out.append(float(f"{10 ** ((np.log10(a) + np.log10(b)) / 2):.3g}"))
    return out


def conditions_left_out(model: Any, df: pd.DataFrame, vectors_err: float) -> dict[str, Any]:
    """The held-out-condition record (module docstring): per interior condition its figures,
    the worst, the between-grid estimate, its ratio to the held-out-vector error
    ``vectors_err`` and, above :data:`GRID_RATIO`, the conditions to add."""
    per = model.leave_conditions_out(df)
    rec: dict[str, Any] = {"per_condition": per, "spacing_factor": SPACING_FACTOR}
    if not per:
        rec.update(max_err_fs=None, note="no interior temperature or bias to leave out")
        return rec
    worst = max(per, key=lambda r: r["max_err_fs"])
    rec["max_err_fs"] = worst["max_err_fs"]
    rec["worst_rms_err_fs"] = max(r["worst_rms_err_fs"] for r in per)
    rec["estimated_between_grid_max_err_fs"] = SPACING_FACTOR * worst["max_err_fs"]
    rec["ratio_to_vectors"] = worst["max_err_fs"] / max(vectors_err, 1e-12)
    rec["add"] = suggestions(model, worst)
    rec["warn"] = bool(rec["ratio_to_vectors"] > GRID_RATIO)
    return rec


def suggestions(model: Any, worst: dict[str, Any]) -> dict[str, list[float]]:
    """{axis: values} to simulate next around the worst left-out condition ``worst``."""
    axis = worst["axis"]
    grid = model.temp_c_ if axis == "temp_c" else 10.0**model.log_bias_
    i = int(np.argmin(np.abs(np.asarray(grid, float) - worst["value"])))
    return {axis: _midpoints(axis, np.asarray(grid, float), i)}


def warning_text(rec: dict[str, Any], vectors_err: float) -> str | None:
    """fit's one-line warning when the grid is too coarse, naming what to add."""
    if not rec.get("warn"):
        return None
    (axis, values), *_ = rec["add"].items()
    unit = "C" if axis == "temp_c" else "A"
    shown = ", ".join(f"{v:g} {unit}" for v in values)
    return (
        f"fit: warning: between fitted conditions the model misses by up to "
        f"{100 * rec['max_err_fs']:.2f} % of full scale (left-out {axis}), "
        f"{rec['ratio_to_vectors']:.1f}x its {100 * vectors_err:.2f} % on new vectors; the "
        f"grid is too coarse: add {axis} {shown} (sactk refine chooses and sweeps them)"
    )

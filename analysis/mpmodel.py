"""Behavioural models of MP cells with their real inputs, per chip.

A table against the ideal output cannot tell which inputs are active, and a chip's mismatch
depends on exactly that. :class:`MPModel` models the circuit the way it is built: every MP
unit of the cell (``Cell.units``: one for the MP cell, two for the inner product) solves

    sum_k max(0, t_k + d_k - a_k s - c_k q(s)) = g,   z = max(0, s + b h(s)^2)

with per-branch gains a_k, offsets d_k and square-law terms c_k, a bias gain g and a
strong-inversion bend b (mpfit has the equations and their sources), in units of the bias
current.

* **Per operating point.** The parameters are fitted for every (corner, temperature, bias)
  plane. Between planes they follow a natural cubic spline in 1/T and log10(bias_a) plus
  a junction-leakage law fitted jointly across the planes (analysis/conditions.py): exact
  on the grid, smooth between.
* **Per chip.** Monte Carlo results give every chip its own parameter planes (``chips_``).
  A statistical model of the chips (mean and leading principal components of their
  parameter deviations) samples new chips from a seed (``sample_chips``).
* **Residual.** What the equation misses on the nominal circuit (or the chips' mean without
  one) is a penalized linear spline of the model's output per plane, added for every chip.

Range rule, shared by this class and its ngspice and Verilog-A exports (analysis/mpexport.py):
the MP equation holds for any input currents; the bend and the residual hold their end values
outside the fitted output range; bias and temperature are clamped to the fitted range.
``strict=True`` raises ModelError for a bias or temperature outside instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from sactk.analysis.lutfit import chip_pca, spline_plane
from sactk.analysis.mpfit import (
    C_PRIOR,
    fit_units,
    layout_of,
    model,
    model_indexed,
    unit_outputs_indexed,
)
from sactk.analysis.opgrid import OpGrid, op_groups, with_noise
from sactk.circuits.base import ideal_result_column
from sactk.errors import ModelError, SpecError

if TYPE_CHECKING:
    import pandas as pd
    from numpy.typing import ArrayLike


CHUNK = 65536
"""Points per evaluation chunk: the working set stays small for millions of points."""


class MPModel(OpGrid):
    """MP-unit model of a cell with its real inputs (see the module docstring).

    Parameters
    ----------
    output:
        Result column to model; default the cell's main output.
    residual_knots:
        Knots of the nominal residual spline (uniform in the model's normalized output).
    smoothing:
        Second-difference penalty of the residual spline, relative to the data term.
    chip_variance:
        Fraction of the chips' parameter variance the statistical mismatch model keeps.
    c_prior:
        Pull of the square-law terms c_k toward 0 (analysis/mpfit.py, ``C_PRIORS``).
    """

    def __init__(
        self,
        output: str | None = None,
        residual_knots: int = 16,
        smoothing: float = 1e-2,
        chip_variance: float = 0.99,
        c_prior: float = C_PRIOR,
    ) -> None:
        self.output = output
        self.residual_knots = residual_knots
        self.smoothing = smoothing
        self.chip_variance = chip_variance
        self.c_prior = c_prior

    # fitted: cell_, output_, inputs_, layout_, corners_, temp_c_, log_bias_, s_hi_, params_,
    # chips_, chip_ids_, chip_mean_, chip_basis_, r_knots_, resid_, power_w_, meta_
    kind: ClassVar[str] = "mp"
    file_kind: ClassVar[str] = "MPModel"
    cell_inputs: ClassVar[bool] = True
    coordinate_ = property(lambda self: self._ideal)
    coord_per_bias_ = True
    out_per_bias_ = True

    def fit(self, df: pd.DataFrame, cell_table: dict[str, Any] | None = None) -> MPModel:
        """Fit from a results DataFrame; ``cell_table`` is the spec's ``[cell]`` table."""
        from sactk.analysis.metrics import input_cols

        rows, cell, self.output_, chip = self._start_fit(df, self.output)
        self._ops: dict[Any, Any] = {}  # evaluate_units' planes of the previous fit
        if not self.output_.endswith("_a"):
            raise SpecError(
                f"fit: an MP-unit model predicts output currents; {self.output_} is not one "
                "(fit it with --kind lookup)"
            )
        self.cell_ = cell.name
        self._ideal = ideal_result_column(cell)
        self.inputs_ = input_cols(rows)
        self.layout_ = layout_of(cell, self.inputs_, cell_table)
        bias = rows["bias_a"].to_numpy(float)
        x = rows[self.inputs_].to_numpy(float) / bias[:, None]
        y = rows[self.output_].to_numpy(float) / bias
        self.chip_ids_ = np.array(sorted(c for c in np.unique(chip) if c >= 0), dtype=int)
        ids = ([-1] if (chip < 0).any() else []) + self.chip_ids_.tolist()
        grid = (len(self.corners_), len(self.temp_c_), len(self.log_bias_))
        stack = np.full((len(ids), *grid, self.layout_.n_params), np.nan)
        groups = self._planes(rows, chip)
        branches = self._branches(rows)
        pos = {c: i for i, c in enumerate(ids)}
        by_op: dict[tuple[int, ...], list[tuple[int, np.ndarray]]] = {}
        for key, m in groups.items():
            by_op.setdefault(tuple(key[1:]), []).append((key[0], np.nonzero(m)[0]))
        for op, members in by_op.items():
            # the nominal circuit first: the chips start from its plane, all at once
            nominal = [(c, r) for c, r in members if c == -1]
            for c, r in nominal:
                stack[(pos[c], *op)] = fit_units(
                    self.layout_,
                    x[r],
                    y[r],
                    None if branches is None else [v[r] for v in branches],
                    c_prior=self.c_prior,
                )
            start = stack[(0, *op)] if nominal else None
            chips = [(c, r) for c, r in members if c != -1]
            for size in sorted({len(r) for _, r in chips}):
                batch = [(c, r) for c, r in chips if len(r) == size]
                idx = np.stack([r for _, r in batch])  # (C, M) rows of every chip
                got = fit_units(
                    self.layout_,
                    x[idx],
                    y[idx],
                    None if branches is None else [v[idx] for v in branches],
                    start,
                    c_prior=self.c_prior,
                )
                for (c, _), p in zip(batch, got, strict=True):
                    stack[(pos[c], *op)] = p
        missing = np.isnan(stack[..., 0])
        if missing.any():
            c, k, t, b = (int(v[0]) for v in np.nonzero(missing))
            raise SpecError(
                f"fit: no points for chip {ids[c]} at corner={self.corners_[k]}, temp_c="
                f"{self.temp_c_[t]:g}, bias_a={10 ** self.log_bias_[b]:.3g}; a model needs "
                "every combination of the swept corners, temperatures and biases"
            )
        self.s_hi_ = float(np.max(np.abs(y))) * 2.0 + 1.0  # bend held beyond the data
        has_nominal = ids[0] == -1
        self.chips_ = stack[1:] if has_nominal else stack
        self.chip_mean_ = self.chip_basis_ = None
        if len(self.chip_ids_) >= 2:
            self.chip_mean_, self.chip_basis_ = chip_pca(self.chips_, self.chip_variance)
        self.params_ = stack[0] if has_nominal else np.asarray(self.chip_mean_)
        self._fit_residual(x, y, chip, groups, has_nominal)
        self.power_w_ = self._power_table(rows, chip)
        self._conditions()  # the physics terms' coefficients
        fewest = min(int(m.sum()) for m in groups.values())
        self.meta_: dict[str, Any] = {"fit_points": len(rows), "fewest_vectors": fewest}
        self.info_: dict[str, Any] = {}
        return self

    def _branches(self, rows: pd.DataFrame) -> list[np.ndarray] | None:
        """Each unit's own output current (normalized), when the results hold one column per
        unit: a differential output ``out_y_a`` = z+ - z- with ``out_yp_a`` and ``out_yn_a``.
        Fitting each unit on its own branch pins its common mode, which the difference alone
        leaves free; a layer's mismatched inter-stage mirrors see it (circuits/layer.py)."""
        stem = self.output_[: -len("_a")]
        cols = [f"{stem}p_a", f"{stem}n_a"]
        if self.layout_.sign != (1.0, -1.0) or not set(cols) <= set(rows.columns):
            return None
        bias = rows["bias_a"].to_numpy(float)
        return [rows[c].to_numpy(float) / bias for c in cols]

    def _planes(
        self, rows: pd.DataFrame, chip: np.ndarray
    ) -> dict[tuple[int, int, int, int], np.ndarray]:
        """Row masks per (chip, corner, temp, bias) index, nominal chip -1 first."""
        k = np.searchsorted(self.corners_, rows["corner"].to_numpy(str))
        t = np.searchsorted(self.temp_c_, rows["temp_c"].to_numpy(float))
        b = np.searchsorted(self.log_bias_, np.log10(rows["bias_a"].to_numpy(float)))
        keys = np.stack([chip, k, t, b], axis=1)
        uniq, inv = np.unique(keys, axis=0, return_inverse=True)
        out: dict[tuple[int, int, int, int], np.ndarray] = {}
        for i, u in enumerate(uniq):
            out[(int(u[0]), int(u[1]), int(u[2]), int(u[3]))] = inv.ravel() == i
        return out

    def _fit_residual(
        self, x: np.ndarray, y: np.ndarray, chip: np.ndarray, groups: dict, has_nominal: bool
    ) -> None:
        use = [key for key in groups if (key[0] == -1) == has_nominal]
        preds = {}
        for key in use:
            c, *op = key
            p = self.params_[tuple(op)] if c == -1 else self.chips_[(int(self.chip_rows(c)), *op)]
            preds[key] = model(self.layout_, x[groups[key]], p, (0.0, self.s_hi_))
        lo = min(float(v.min()) for v in preds.values())
        hi = max(float(v.max()) for v in preds.values())
        self.r_knots_ = (
            np.linspace(lo, hi, max(2, self.residual_knots))
            if hi > lo
            else np.array([lo, lo + 1.0])
        )
        self.resid_ = np.zeros((*self.params_.shape[:3], len(self.r_knots_)))
        for op in np.ndindex(*self.params_.shape[:3]):
            keys = [k for k in use if tuple(k[1:]) == op]
            u = np.concatenate([preds[k] for k in keys])
            r = np.concatenate([y[groups[k]] - preds[k] for k in keys])
            self.resid_[op] = spline_plane(self.r_knots_, u, r, self.smoothing)

    # -- evaluation ----------------------------------------------------------------------

    _condition_tables = ("params_", "chips_", "resid_")

    def _conditions(self) -> None:
        """The physics terms' coefficients of the nominal planes, the residual and every
        chip (analysis/conditions.py). A chip shares its nominal circuit's leakage: its
        planes differ from it by mismatch, which the spline carries."""
        cond = self.cond_
        self.coef_ = cond.fit_terms(self.params_)  # (corners, terms, P)
        self.resid_coef_ = cond.fit_terms(self.resid_)  # (corners, terms, knots)
        self.chip_coef_ = self._pool_coef(self.chips_)
        self._ops = {}

    def _pool_coef(self, pool: np.ndarray) -> np.ndarray:
        """Physics-term coefficients (chips, corners, terms, P) of chip planes ``pool``."""
        if len(pool) == 0:
            return np.zeros((0, *self.coef_.shape))
        return self.cond_.fit_terms(pool, leak=self.coef_[None, :, 0, :])

    def _at(
        self, table: np.ndarray, k: int, temp_c: float, log_bias: float, coef: np.ndarray
    ) -> np.ndarray:
        """``table[..., corner k, temp, bias, :]`` at one condition (clamped), with the
        physics terms' coefficients ``coef`` (..., corners, 2, P)."""
        return self.cond_.at(table[..., k, :, :, :], temp_c, log_bias, coef[..., k, :, :])

    def _strict(self, bias: np.ndarray, temp: np.ndarray) -> None:
        for name, v, grid, unit in (
            ("bias_a", np.log10(bias), self.log_bias_, "A"),
            ("temp_c", temp, self.temp_c_, "C"),
        ):
            lo, hi = float(grid[0]) - 1e-9, float(grid[-1]) + 1e-9
            bad = (v < lo) | (v > hi)
            if bad.any():
                show = (lambda z: 10**z) if name == "bias_a" else (lambda z: z)
                raise ModelError(
                    f"predict: {name} {show(float(v[bad][0])):.4g} outside the fitted "
                    f"{show(lo):.4g}..{show(hi):.4g} {unit}; drop strict=True to clamp"
                )

    @with_noise
    def evaluate(
        self,
        x: ArrayLike,
        bias_a: ArrayLike,
        temp_c: ArrayLike,
        *,
        corner: str | None = None,
        chip: ArrayLike | None = None,
        chips: np.ndarray | None = None,
        strict: bool = False,
        clamp: bool = True,
    ) -> np.ndarray:
        """Output (A) for input currents ``x`` (..., inputs) in A, in the results' input
        order; ``bias_a``, ``temp_c`` and ``chip`` broadcast with ``x[..., 0]``. ``chip``
        indexes ``chips`` (default the fitted ``chips_``); None is the nominal circuit.
        ``clamp`` is accepted for LookupModel compatibility (bias and temperature are always
        clamped unless ``strict``)."""
        self._check()
        xa = np.asarray(x, dtype=float)
        if xa.shape[-1:] != (len(self.inputs_),):
            raise ModelError(
                f"predict: x needs {len(self.inputs_)} inputs ({', '.join(self.inputs_)}) on "
                f"its last axis, not shape {xa.shape}"
            )
        shape = np.broadcast_shapes(xa.shape[:-1], np.shape(bias_a), np.shape(temp_c))
        xf = np.broadcast_to(xa, (*shape, xa.shape[-1])).reshape(-1, xa.shape[-1])
        b, t = np.asarray(bias_a, float), np.asarray(temp_c, float)
        if b.size and not float(b.min()) > 0.0:
            raise ModelError("predict: bias_a must be positive (A)")
        if strict:
            self._strict(b.ravel(), t.ravel())
        k = self._corner_index(corner)
        pool, idx, coef = self._pool(chip, chips, shape)
        out = np.empty(len(xf))
        # one scalar operating point (a runner's call) is never copied out to every row
        flat = [np.broadcast_to(v, shape).ravel() for v in (b, t)] if b.ndim or t.ndim else None
        for bi, ti, sel in op_groups(*flat) if flat else [(float(b), float(t), None)]:
            lb = float(np.log10(bi))
            theta = self._at(pool, k, ti, lb, coef)  # (pool, P)
            rk = self._at(self.resid_, k, ti, lb, self.resid_coef_)
            for s in range(0, len(out) if sel is None else len(sel), CHUNK):
                rows = slice(s, s + CHUNK) if sel is None else sel[s : s + CHUNK]
                yhat = model_indexed(self.layout_, xf[rows] / bi, theta, idx[rows],
                                     (0.0, self.s_hi_))  # fmt: skip
                out[rows] = (yhat + np.interp(yhat, self.r_knots_, rk)) * bi
        return out.reshape(shape)

    def _pool(
        self, chip: ArrayLike | None, chips: ArrayLike | None, shape: tuple[int, ...]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(parameter planes, index into them per point, their physics-term coefficients):
        the nominal circuit for ``chip`` None, else ``chips`` (default the fitted
        ``chips_``) checked against ``chip``."""
        if chip is None:
            return self.params_[None], np.zeros(int(np.prod(shape)), np.intp), self.coef_[None]
        pool, idx = self._chip_pool(chip, chips, shape)
        coef = self.chip_coef_ if chips is None else self._pool_coef(pool)
        return pool, idx, coef

    def unit_plan(
        self,
        m: int,
        bias_a: float,
        temp_c: float,
        corner: str | None = None,
        chip: np.ndarray | None = None,
        chips: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What :meth:`evaluate_units` solves ``m`` rows with at one operating point: the
        parameter planes there (Q, P), each row's plane (m,) and the nominal residual's
        values at ``r_knots_``."""
        self._check()
        k = self._corner_index(corner)
        lb = float(np.log10(bias_a))
        pool, idx, coef = self._pool(chip, chips, (m,))
        # a runner calls this per batch at one operating point: the fitted planes there are
        # kept (not for ``chips`` given by the caller)
        cache = self.__dict__.setdefault("_ops", {}) if chips is None else {}
        key = (chip is None, k, float(temp_c), lb)
        if key not in cache:
            if len(cache) >= 64:  # a sweep over many operating points: keep it bounded
                cache.clear()
            theta = self._at(pool, k, temp_c, lb, coef)
            cache[key] = (theta, self._at(self.resid_, k, temp_c, lb, self.resid_coef_))
        theta, rk = cache[key]
        return theta, idx, rk

    def evaluate_units(
        self,
        terms: list[np.ndarray],
        bias_a: float,
        temp_c: float,
        *,
        corner: str | None = None,
        chip: np.ndarray | None = None,
        chips: np.ndarray | None = None,
        g_scale: list[np.ndarray] | None = None,
    ) -> list[np.ndarray]:
        """Each unit's output for its term currents given directly (the unit's real ports
        inside a network, where mirrors copy the inputs with their own errors): ``terms[u]``
        (M, K_u) and the result in units of ``bias_a``, at one operating point. ``chip``
        (M,) indexes ``chips`` (default ``chips_``); ``g_scale[u]`` (M,) scales unit u's
        bias. The nominal residual is shared out so that sum_u sign_u z_u is the cell's
        output (:meth:`evaluate` on the same terms)."""
        theta, idx, rk = self.unit_plan(len(terms[0]), bias_a, temp_c, corner, chip, chips)
        zs = unit_outputs_indexed(self.layout_, terms, theta, idx, (0.0, self.s_hi_), g_scale)
        lay = self.layout_
        yhat = np.sum([s * z for s, z in zip(lay.sign, zs, strict=True)], axis=0)
        r = np.interp(yhat, self.r_knots_, rk) / len(zs)
        return [z + s * r for s, z in zip(lay.sign, zs, strict=True)]

    def predict(self, X: ArrayLike, **kwargs: Any) -> np.ndarray:
        """``X``: (n, inputs + 2) rows of (inputs in A..., bias_a, temp_c)."""
        x = np.asarray(X, dtype=float)
        n = len(self.inputs_)
        if x.ndim != 2 or x.shape[1] != n + 2:
            raise ModelError(f"predict: X must have shape (n, {n + 2}) = (inputs, bias_a, temp_c)")
        return self.evaluate(x[:, :n], x[:, n], x[:, n + 1], **kwargs)

    def predict_results(self, df: pd.DataFrame, clamp: bool = True) -> np.ndarray:
        """Predictions for the rows of a results DataFrame (chips by their mc_index)."""
        self._check()
        out = np.empty(len(df))
        chip = df["mc_index"].to_numpy(int) if "mc_index" in df.columns else np.full(len(df), -1)
        rows = np.zeros(len(chip), np.intp)
        rows[chip >= 0] = self.chip_rows(chip[chip >= 0])
        corners = df["corner"].to_numpy(str)
        for corner in np.unique(corners):
            for nominal in (True, False):
                m = (corners == corner) & ((chip < 0) == nominal)
                if not m.any():
                    continue
                sub = df[m]
                out[m] = self.evaluate(
                    sub[self.inputs_].to_numpy(float),
                    sub["bias_a"].to_numpy(float),
                    sub["temp_c"].to_numpy(float),
                    corner=corner,
                    chip=None if nominal else rows[m],
                )
        return out

    # -- validation (shared with LookupModel) ----------------------------------------------

    def coordinate_values(self, df: pd.DataFrame) -> np.ndarray:
        """The ideal output / bias_a of rows: the axis residual plots use."""
        return np.asarray(df[self._ideal].to_numpy(float) / df["bias_a"].to_numpy(float))

    def inside(self, rows: pd.DataFrame) -> np.ndarray:
        """Every row is inside: the MP equation holds for any inputs."""
        return np.ones(len(rows), dtype=bool)

    @property
    def full_scale_norm(self) -> float:
        return float(np.max(np.abs(self.r_knots_)))

    def ranges(self) -> dict[str, tuple[float, float]]:
        self._check()
        return {
            "bias_a": (float(10 ** self.log_bias_[0]), float(10 ** self.log_bias_[-1])),
            "temp_c": (float(self.temp_c_[0]), float(self.temp_c_[-1])),
        }

    # -- files -------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str], meta: dict[str, Any] | None = None) -> Path:
        """Write ``MODEL.npz`` and ``MODEL.json``; returns the json (analysis/mpmodelio.py)."""
        from sactk.analysis.mpmodelio import save_mp

        return save_mp(self, path, meta)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> MPModel:
        """Read a model written by :meth:`save`; a damaged file raises ModelError."""
        from sactk.analysis.mpmodelio import load_mp

        return load_mp(cls, path)

    # -- the Model protocol's exports (analysis/model.py) ----------------------------------

    def export(self, fmt: str, out: Path, chip: int | None = None) -> list[Path]:
        """Write the model as ``fmt`` with the cell's own pins (analysis/mpexport.py)."""
        from sactk.analysis.mpexport import export_mp

        return list(export_mp(self, fmt, Path(out), chip))

    def module_name(self, corner: str, chip: int | None = None) -> str:
        from sactk.analysis.exportfmt import module_name

        return module_name(self.cell_, corner, chip)

    @property
    def input_columns(self) -> list[str]:
        return list(self.inputs_)

    def roundtrip_drive(self, x: ArrayLike) -> tuple[np.ndarray, str]:
        """One pin per input: each input current (A) into it."""
        v = np.atleast_2d(np.asarray(x, float))
        return v, "i" * v.shape[1]

"""Lookup models: a cell's simulated response as a fast, vectorized table.

A :class:`LookupModel` tabulates one output of one cell in bias-normalized form,

    out / bias_a  =  T[corner, temp_c, log10(bias_a), u],     u = coordinate / bias_a,

and interpolates linearly in u; between the fitted temperatures and biases it follows a
natural cubic spline in 1/T and log10(bias_a) plus a junction-leakage law, as the MP-unit
model does (analysis/conditions.py); corners are discrete. Dividing by the bias is what makes
one table serve four decades: a shape-based (S-AC) circuit computes the same normalized
function at every bias, so each bias plane of T is nearly the same curve, where the raw
currents span decades and a linear table in amperes fails (17 % error seen; docs/ngspice.md).

The coordinate ``u`` is the cell's input when it has one logical input (``in_x_a`` of the
shapes, ``in_code`` of the memory, which is not divided by the bias), and the cell's ideal
output otherwise (``ideal_z_a`` of MP, ``ideal_y_a`` of the inner product): a function of N
inputs is tabulated against the one number the circuit is designed to compute, and what that
reduction misses shows up in the validation figures.

Each (chip, corner, temperature, bias) plane is a least-squares linear spline on uniform
knots in u (hat functions, with a small second-difference penalty that fills knots without
data). Monte Carlo chips in the results give per-chip tables and a statistical model: the
mean table plus the leading principal components of the chips' deviations, from which new
chips are drawn with a seed.

Follows the scikit-learn estimator contract: parameters in ``__init__``, ``fit`` returns
self, fitted attributes end in ``_``. ``predict`` takes rows of (u, bias_a, temp_c) and
raises :class:`~sactk.errors.ModelError` outside the fitted range unless ``clamp=True``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from sactk.analysis.interp import _Axis, _interp, interp_planes
from sactk.analysis.lutfit import (
    chip_pca,
    holdout_split,
    ok_rows,
    spline_plane,
)
from sactk.analysis.modelio import load_model, model_stem, save_model
from sactk.analysis.opgrid import TableGrid, with_noise
from sactk.circuits.base import ideal_result_column
from sactk.errors import ModelError, SpecError

if TYPE_CHECKING:
    import pandas as pd
    from numpy.typing import ArrayLike


__all__ = ["LookupModel", "holdout_split", "interp_planes", "model_stem", "ok_rows"]


class LookupModel(TableGrid):
    """Bias-normalized lookup table of one cell output (see the module docstring).

    Parameters
    ----------
    output:
        Result column to model; default the cell's main output (``out_z_a`` for MP).
    knots:
        Number of uniform knots in the coordinate u: at most the number of distinct u
        values in the sparsest operating point, half that with Monte Carlo chips. Integer
        coordinates (memory codes) get one knot per code when that is at most ``4 * knots``.
    smoothing:
        Weight of the second-difference penalty, relative to the data term. The defaults
        (32 knots, 1e-2) were chosen on held-out vectors of the MP, shape, inner-product
        and memory presets (docs/lookup.md).
    chip_variance:
        Fraction of the chips' deviation variance the statistical mismatch model keeps.
    """

    kind: ClassVar[str] = "lookup"
    file_kind: ClassVar[str] = "LookupModel"
    cell_inputs: ClassVar[bool] = False
    export_chip_: int | None = None
    """Set on the copy :meth:`export` writes for one chip (its module name's ``_chip<K>``)."""

    def __init__(
        self,
        output: str | None = None,
        knots: int = 32,
        smoothing: float = 1e-2,
        chip_variance: float = 0.99,
    ) -> None:
        self.output = output
        self.knots = knots
        self.smoothing = smoothing
        self.chip_variance = chip_variance

    # fitted attributes: cell_, output_, coordinate_, coord_per_bias_, out_per_bias_,
    # corners_, temp_c_, log_bias_, u_knots_, table_, chips_, chip_ids_, chip_mean_,
    # chip_basis_, meta_

    def fit(self, df: pd.DataFrame) -> LookupModel:
        """Fit from a results DataFrame (``sactk.sweeps.store.read_results``)."""
        from sactk.analysis.metrics import input_cols

        if self.knots < 2:
            raise SpecError(f"fit: knots = {self.knots}; use at least 2")
        rows, cell, output, chip = self._start_fit(df, self.output)
        ins = input_cols(rows)
        coord = ins[0] if len(ins) == 1 else ideal_result_column(cell)
        self.cell_ = str(rows["cell"].iloc[0])
        self.output_ = output
        self.coordinate_ = coord
        self.coord_per_bias_ = coord.endswith("_a")
        self.out_per_bias_ = output.endswith("_a")

        u = self.coordinate_values(rows)
        y = rows[output].to_numpy(float) / (
            rows["bias_a"].to_numpy(float) if self.out_per_bias_ else 1.0
        )
        keys = ["corner", "temp_c", "bias_a"]
        planes = rows.assign(_u=u, _y=y, _chip=chip).groupby(["_chip", *keys], sort=True)
        lo = max(float(g["_u"].min()) for _, g in planes)
        hi = min(float(g["_u"].max()) for _, g in planes)
        if not hi > lo:
            raise SpecError(
                f"fit: the {coord} ranges of the operating points do not overlap; sweep the "
                "same normalized inputs at every bias and temperature"
            )
        sparsest = min(int(g["_u"].nunique()) for _, g in planes)
        if (chip >= 0).any() and len(ins) > 1:
            sparsest //= 2  # a chip's output scatters about a curve of its ideal output
        self.u_knots_ = self._knots(u, lo, hi, max(2, sparsest))
        self.chip_ids_ = np.array(sorted(c for c in np.unique(chip) if c >= 0), dtype=int)
        grid = (len(self.corners_), len(self.temp_c_), len(self.log_bias_), len(self.u_knots_))
        ids = [-1] if (chip < 0).any() else []
        stack = np.full((len(ids) + len(self.chip_ids_), *grid), np.nan)
        index = {c: i for i, c in enumerate([*ids, *self.chip_ids_.tolist()])}
        for key, g in planes:
            c, corner, temp, bias = (np.asarray(k).item() for k in key)
            m = (g["_u"] >= lo) & (g["_u"] <= hi)
            ijk = (
                int(np.searchsorted(self.corners_, corner)),
                int(np.searchsorted(self.temp_c_, temp)),
                int(np.searchsorted(self.log_bias_, np.log10(bias))),
            )
            stack[(index[int(c)], *ijk)] = spline_plane(
                self.u_knots_, g["_u"].to_numpy()[m], g["_y"].to_numpy()[m], self.smoothing
            )
        missing = np.isnan(stack[..., 0])
        if missing.any():
            c, k, t, b = (int(v[0]) for v in np.nonzero(missing))
            chip_txt = "nominal" if c < len(ids) else f"chip {self.chip_ids_[c - len(ids)]}"
            raise SpecError(
                f"fit: no points for {chip_txt} at corner={self.corners_[k]}, "
                f"temp_c={self.temp_c_[t]:g}, bias_a={10 ** self.log_bias_[b]:.3g}; a lookup "
                "table needs every combination of the swept corners, temperatures and biases"
            )
        self.chips_ = stack[len(ids) :]
        self.chip_mean_ = self.chip_basis_ = None
        if len(self.chip_ids_) >= 2:
            self.chip_mean_, self.chip_basis_ = chip_pca(self.chips_, self.chip_variance)
        self.table_ = stack[0] if ids else np.asarray(self.chip_mean_)
        self.power_w_ = self._power_table(rows, chip)
        self.meta_: dict[str, Any] = {"fit_points": len(rows)}
        self.info_: dict[str, Any] = {}
        self._conditions()  # the physics terms' coefficients
        return self

    # -- helpers ---------------------------------------------------------------------------

    def coordinate_values(self, df: pd.DataFrame) -> np.ndarray:
        u = df[self.coordinate_].to_numpy(float)
        return u / df["bias_a"].to_numpy(float) if self.coord_per_bias_ else u

    def _knots(self, u: np.ndarray, lo: float, hi: float, cap: int) -> np.ndarray:
        inside = u[(u >= lo) & (u <= hi)]
        integer = np.all(np.abs(inside - np.round(inside)) < 1e-9)
        if integer and float(lo).is_integer() and hi - lo + 1 <= 4 * self.knots:
            return np.arange(lo, hi + 1.0)
        return np.linspace(lo, hi, min(self.knots, cap))

    def _check(self) -> None:
        if not hasattr(self, "table_"):
            raise ModelError("LookupModel is not fitted; call fit(results) or load(path)")

    @property
    def full_scale_norm(self) -> float:
        """Largest |table value|: the model's output range in its normalized unit."""
        self._check()
        return float(np.max(np.abs(self.table_)))

    def ranges(self) -> dict[str, tuple[float, float]]:
        """Fitted range per axis, in physical units."""
        self._check()
        return {
            "u": (float(self.u_knots_[0]), float(self.u_knots_[-1])),
            "bias_a": (float(10 ** self.log_bias_[0]), float(10 ** self.log_bias_[-1])),
            "temp_c": (float(self.temp_c_[0]), float(self.temp_c_[-1])),
        }

    def _axes(self) -> tuple[_Axis, _Axis, _Axis]:
        key = (self.temp_c_.tobytes(), self.log_bias_.tobytes(), self.u_knots_.tobytes())
        cached = getattr(self, "_axes_cache", None)
        if cached is None or cached[0] != key:
            axes = (_Axis(self.temp_c_), _Axis(self.log_bias_), _Axis(self.u_knots_))
            self._axes_cache = (key, axes)
        return self._axes_cache[1]

    def _range_check(self, name: str, x: np.ndarray, grid: np.ndarray) -> None:
        lo, hi = float(grid[0]), float(grid[-1])
        tol = 1e-9 * max(1.0, abs(lo), abs(hi))
        if len(x) and float(x.min()) >= lo - tol and float(x.max()) <= hi + tol:
            return
        bad = ~((x >= lo - tol) & (x <= hi + tol))
        v = float(x[bad][0])
        if name == "bias_a":
            txt = f"{10**v:.4g} outside the fitted {10**lo:.4g}..{10**hi:.4g} A"
        else:
            if name == "u":
                name = self.coordinate_ + (" / bias_a" if self.coord_per_bias_ else "")
            txt = f"{v:.6g} outside the fitted {lo:.6g}..{hi:.6g}"
        raise ModelError(
            f"predict: {name} {txt}; pass clamp=True to clamp to the fitted range, "
            "or fit on a wider sweep"
        )

    # -- prediction ------------------------------------------------------------------------

    @with_noise
    def evaluate(
        self,
        u: ArrayLike,
        bias_a: ArrayLike,
        temp_c: ArrayLike,
        *,
        corner: str | None = None,
        chip: ArrayLike | None = None,
        chips: np.ndarray | None = None,
        clamp: bool = False,
    ) -> np.ndarray:
        """The modelled output (A for current outputs) at broadcast arrays of points.

        ``u`` is the coordinate in its own unit (A, or a code); ``chip`` selects per-chip
        tables (an index into ``chips``, default the fitted ``chips_``; arrays broadcast
        with the points); ``chip=None`` uses the nominal table.
        """
        self._check()
        arrs = [np.asarray(a, float) for a in (u, bias_a, temp_c)]
        shape = np.broadcast_shapes(*(a.shape for a in arrs))
        # a single bias or temperature stays one value (computed once per chunk, not per point)
        u_a, b, t = (
            a.reshape(1) if (a.size == 1 and i) else np.broadcast_to(a, shape).ravel()
            for i, a in enumerate(arrs)
        )
        if len(b) and not float(b.min()) > 0.0:  # one pass; NaN fails too
            raise ModelError("predict: bias_a must be positive (A)")
        k = self._corner_index(corner)
        if chip is None:
            stack, coef = self.table_[k][None], self.coef_[k][None]
            plane: Any = 0
        else:
            pool, plane = self._chip_pool(chip, chips, shape)
            stack = pool[:, k]
            coef = (self.chip_coef_ if chips is None else self._pool_coef(pool))[:, k]
        if not np.prod(shape):
            return np.zeros(shape)
        lb = np.log10(b)
        if not clamp:
            self._range_check("temp_c", t, self.temp_c_)
            self._range_check("bias_a", lb, self.log_bias_)
        if len(b) > 1 or len(t) > 1:
            y = self._per_point(stack, coef, plane, u_a, b, t, clamp)
            return y.reshape(shape)
        # one operating point (a runner's call): the planes blended into one curve
        # (analysis/conditions.py), then linear in u alone
        curve = self.cond_.at(stack, float(t[0]), float(lb[0]), coef)
        one = (_Axis(t[:1]), _Axis(lb[:1]), self._axes()[2])
        y = _interp(
            curve[:, None, None, :],
            one,
            plane,
            t,
            b,
            u_a,
            bias_amps=True,
            per_in=self.coord_per_bias_,
            per_out=self.out_per_bias_,
            clamp=clamp,
            check=self._range_check,
        )
        return y.reshape(shape)

    def _per_point(
        self,
        stack: np.ndarray,
        coef: np.ndarray,
        plane: Any,
        u: np.ndarray,
        b: np.ndarray,
        t: np.ndarray,
        clamp: bool,
        chunk: int = 1 << 13,
    ) -> np.ndarray:
        """Points at their own temperatures and biases: per chunk of points, the condition
        weights of every point (analysis/conditions.py) times every plane's linear
        interpolation in u, summed, plus the leakage term's."""
        from sactk.analysis.conditions import temp_coord

        cond, au = self.cond_, self._axes()[2]
        n = max(len(u), len(b), len(t))
        nt, nb, nu = stack.shape[1:]
        flat = np.ascontiguousarray(stack, dtype=float).ravel()
        cflat = np.ascontiguousarray(coef[:, 0, :], dtype=float).ravel()  # the leak term
        phi = cond.terms_grid()[..., 0]
        planes = np.broadcast_to(np.asarray(plane, dtype=np.intp), (n,))
        offsets = (np.arange(nt * nb) * nu)[None, :]
        step = 1 if nu > 1 else 0
        out = np.empty(n)
        for s in range(0, n, chunk):
            e = min(n, s + chunk)
            bs = b[s:e] if len(b) > 1 else np.broadcast_to(b, (e - s,))
            ts = t[s:e] if len(t) > 1 else np.broadcast_to(t, (e - s,))
            lb = np.clip(np.log10(bs), cond.log_bias[0], cond.log_bias[-1])
            tc = np.clip(ts, cond.temp_c[0], cond.temp_c[-1])
            wt = cond.t_axis.weights(temp_coord(tc))  # (m, T)
            wb = cond.b_axis.weights(lb)  # (m, B)
            un = (u[s:e] if len(u) > 1 else u) / (bs if self.coord_per_bias_ else 1.0)
            if clamp:
                un = np.clip(un, au.g[0], au.g[-1])
            else:
                self._range_check("u", np.asarray(un, float), au.g)
            iu, fu = au.locate(np.broadcast_to(un, (e - s,)).astype(float))
            # every (temperature, bias) plane's two knots around u at once: (m, T * B)
            k = (planes[s:e] * (nt * nb * nu) + iu)[:, None] + offsets
            lo = flat.take(k)
            val = lo + fu[:, None] * (flat.take(k + step) - lo)
            w = (wt[:, :, None] * wb[:, None, :]).reshape(e - s, nt * nb)
            v = np.einsum("mp,mp->m", w, val)
            if cond.active()[0]:
                here = cond.terms_at(tc, lb)[:, 0]
                excess = here - np.einsum("mt,mb,tb->m", wt, wb, phi)
                kc = planes[s:e] * nu + iu
                lo = cflat.take(kc)
                v += excess * (lo + fu * (cflat.take(kc + step) - lo))
            out[s:e] = v * bs if self.out_per_bias_ else v
        return out

    def predict(self, X: ArrayLike, **kwargs: Any) -> np.ndarray:
        """``X``: (n, 3) rows of (u, bias_a, temp_c); keyword arguments as :meth:`evaluate`."""
        x = np.asarray(X, dtype=float)
        if x.ndim != 2 or x.shape[1] != 3:
            raise ModelError(
                f"predict: X must have shape (n, 3) = (u, bias_a, temp_c), not {x.shape}"
            )
        return self.evaluate(x[:, 0], x[:, 1], x[:, 2], **kwargs)

    def predict_results(self, df: pd.DataFrame, clamp: bool = False) -> np.ndarray:
        """Predictions for the rows of a results DataFrame (chips by their mc_index)."""
        self._check()
        out = np.empty(len(df))
        chip = df["mc_index"].to_numpy(int) if "mc_index" in df.columns else np.full(len(df), -1)
        for corner in np.unique(df["corner"].to_numpy(str)):
            m = df["corner"].to_numpy(str) == corner
            nom = m & (chip < 0)
            sub = df[nom]
            out[nom] = self.evaluate(
                sub[self.coordinate_], sub["bias_a"], sub["temp_c"], corner=corner, clamp=clamp
            )
            mc = m & (chip >= 0)
            if mc.any():
                sub = df[mc]
                out[mc] = self.evaluate(
                    sub[self.coordinate_],
                    sub["bias_a"],
                    sub["temp_c"],
                    corner=corner,
                    chip=self.chip_rows(chip[mc]),
                    clamp=clamp,
                )
        return out

    # -- validation ------------------------------------------------------------------------

    def inside(self, rows: pd.DataFrame) -> np.ndarray:
        """Which rows lie inside the fitted range of the coordinate."""
        u = self.coordinate_values(rows)
        return np.asarray((u >= self.u_knots_[0]) & (u <= self.u_knots_[-1]))

    # -- files -----------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str], meta: dict[str, Any] | None = None) -> Path:
        """Write ``MODEL.npz`` (tables) and ``MODEL.json`` (description); returns the json."""
        self._check()
        return save_model(self, path, meta)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LookupModel:
        """Read a model written by :meth:`save`; a damaged file raises ModelError."""
        model: LookupModel = load_model(cls, path)
        return model

    # -- the Model protocol's exports (analysis/model.py) ----------------------------------

    def export(self, fmt: str, out: Path, chip: int | None = None) -> list[Path]:
        """Write the model as ``fmt`` (analysis/export.py): the nominal table, or chip
        ``chip``'s own (a Monte Carlo id, ``sactk_<cell>_<corner>_chip<K>``)."""
        import copy

        from sactk.analysis.export import export

        if chip is None:
            return export(self, fmt, Path(out))
        pos = int(self.chip_rows([chip], "export --chip")[0])
        one = copy.copy(self)
        one.table_, one.coef_ = self.chips_[pos], self.chip_coef_[pos]
        one.export_chip_ = chip
        return export(one, fmt, Path(out))

    def module_name(self, corner: str, chip: int | None = None) -> str:
        from sactk.analysis.exportfmt import module_name

        return module_name(self.cell_, corner, chip)

    @property
    def input_columns(self) -> list[str]:
        return [self.coordinate_]

    def roundtrip_drive(self, x: ArrayLike) -> tuple[np.ndarray, str]:
        """One pin: the coordinate as a current into it (A) or, for a code, its voltage."""
        u = np.asarray(x, float).reshape(-1, 1)
        return u, "i" if self.coord_per_bias_ else "v"

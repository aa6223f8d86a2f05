"""Lookup models: a cell's simulated response as a fast, vectorized table.

A :class:`LookupModel` tabulates one output of one cell in bias-normalized form,

    out / bias_a  =  T[corner, temp_c, log10(bias_a), u],     u = coordinate / bias_a,

and interpolates linearly in u, log10(bias_a) and temp_c (discrete in corner). Dividing by
the bias is what makes one table serve four decades: a shape-based (S-AC) circuit computes
the same normalized function at every bias, so each bias plane of T is nearly the same curve
and linear interpolation between planes is accurate in weak inversion, where the raw currents
span decades and a linear table in amperes fails (17 % error seen; ../NGSPICE_NOTES.md).

The coordinate ``u`` is the cell's input when it has one logical input (``in_x_a`` of the
shapes, ``in_code`` of the memory, which is not divided by the bias), and the cell's ideal
output otherwise (``ideal_z`` of MP, ``ideal_y`` of the inner product): a function of N
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

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from sactk.errors import ModelError, SpecError

FORMAT = "sactk-model/1"
_ARRAYS = ("table", "u_knots", "log_bias", "temp_c", "corners", "chips", "chip_ids")
_ARRAYS_OPT = ("chip_mean", "chip_basis", "power_w")


# -- interpolation core ------------------------------------------------------------------


def _row(flat: np.ndarray, fu: np.ndarray, nu: int, k: np.ndarray) -> np.ndarray:
    """Linear interpolation along u between table entries k and k + 1 (in place)."""
    a = flat.take(k)
    if nu == 1:
        return a
    c = flat.take(k + 1)
    c -= a
    c *= fu
    c += a
    return c


class _Axis:
    """A sorted grid prepared for fast cell lookup: arithmetic on uniform grids; on uneven
    ones a uniform auxiliary bin table (no bin wider than the narrowest cell) gives the
    candidate cell, corrected by one comparison, instead of a binary search."""

    def __init__(self, grid: np.ndarray) -> None:
        self.g = np.asarray(grid, dtype=float)
        n = self.n = len(self.g)
        d = np.diff(self.g) if n > 1 else np.array([1.0])
        self.uniform = n == 1 or bool(np.allclose(d, d[0], rtol=1e-9, atol=0.0))
        self.x0, self.inv = float(self.g[0]), 1.0 / float(d[0])
        if not self.uniform:
            span = float(self.g[-1] - self.g[0])
            self.m = int(min(1 << 20, 2 * np.ceil(span / float(d.min())) + 2))
            self.ainv = self.m / span
            edges = self.g[0] + np.arange(self.m) / self.ainv
            self.aux = np.clip(np.searchsorted(self.g, edges, side="right") - 1, 0, n - 2)
            self.gnext = self.g[1:]
            self.invd = 1.0 / d

    def locate(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cell index and fraction for points inside the grid (callers clamp first)."""
        n = self.n
        if n == 1:
            return np.zeros(x.shape, np.intp), np.zeros(x.shape)
        if self.uniform:
            f = (x - self.x0) * self.inv
            i = f.astype(np.intp)
            np.clip(i, 0, n - 2, out=i)
            f -= i
            return i, f
        k = ((x - self.x0) * self.ainv).astype(np.intp)
        np.clip(k, 0, self.m - 1, out=k)
        i = self.aux.take(k)
        i += (x >= self.gnext.take(i)) & (i < n - 2)
        return i, (x - self.g.take(i)) * self.invd.take(i)


def _interp(
    stack: np.ndarray,
    axes: tuple[_Axis, _Axis, _Axis],
    plane: np.ndarray | int,
    temp_c: np.ndarray,
    bias: np.ndarray,
    u: np.ndarray,
    *,
    bias_amps: bool = False,
    per_in: bool = False,
    per_out: bool = False,
    clamp: bool = False,
    check: Any = None,
    chunk: int = 1 << 14,
) -> np.ndarray:
    """Trilinear interpolation in ``stack[plane, temp, log_bias, u]``, chunk by chunk so
    every intermediate stays in cache. With ``bias_amps`` the bias is in A (log10 taken
    here); ``per_in`` divides u by it, ``per_out`` multiplies the result by it; ``clamp``
    clips the table coordinates, else ``check(name, values, axis)`` may raise."""
    at, ab, au = axes
    _, nt, nb, nu = stack.shape
    if len(bias) == 1 and len(temp_c) == 1 and (nt > 1 or nb > 1) and len(u) > 256:
        # one operating point: blend its (at most four) temperature x bias rows into one
        # curve per plane first, then interpolate in u alone (two gathers per point, not 8)
        lb1 = np.log10(bias) if bias_amps else bias
        tc1 = temp_c
        if clamp:
            lb1 = np.clip(lb1, ab.g[0], ab.g[-1])
            tc1 = np.clip(tc1, at.g[0], at.g[-1])
        elif check is not None:
            check("temp_c", tc1, at.g)
            check("bias_a", lb1, ab.g)
        it, ft = at.locate(tc1)
        ib, fb = ab.locate(lb1)
        curve = np.zeros((stack.shape[0], nu))
        for dt, wt in ((0, 1.0 - ft[0]), (1, ft[0])):
            for db, wb in ((0, 1.0 - fb[0]), (1, fb[0])):
                if wt * wb != 0.0:
                    curve += wt * wb * stack[:, it[0] + dt, ib[0] + db, :]
        one = (_Axis(tc1), _Axis(lb1), au)
        return _interp(
            curve[:, None, None, :],
            one,
            plane,
            temp_c,
            bias,
            u,
            bias_amps=bias_amps,
            per_in=per_in,
            per_out=per_out,
            clamp=clamp,
            check=check,
            chunk=chunk,
        )
    flat = np.ascontiguousarray(stack, dtype=np.float64).ravel()
    n = len(u)
    out = np.empty(n)
    per_point = np.ndim(plane) > 0
    plane_arr = np.asarray(plane, dtype=np.intp)
    for s in range(0, n, chunk):
        e = min(n, s + chunk)
        b = bias[s:e] if len(bias) > 1 else bias  # a single bias broadcasts
        lb = np.log10(b) if bias_amps else b
        un = u[s:e] / b if per_in else u[s:e]
        tc = temp_c[s:e] if len(temp_c) > 1 else temp_c
        coords = [("temp_c", tc, at), ("bias_a", lb, ab), ("u", un, au)]
        for k, (name, x, ax) in enumerate(coords):
            if clamp:
                coords[k] = (name, np.clip(x, ax.g[0], ax.g[-1]), ax)
            elif check is not None:
                check(name, x, ax.g)
        (_, tc, _), (_, lb, _), (_, un, _) = coords
        iu, fu = au.locate(un)
        ib, fb = ab.locate(lb)
        it, ft = at.locate(tc)
        base = (it * nb + ib) * nu + iu
        if per_point:
            base += plane_arr[s:e] * (nt * nb * nu)
        elif int(plane_arr):
            base += int(plane_arr) * (nt * nb * nu)

        v = _row(flat, fu, nu, base)
        if nb > 1:
            w = _row(flat, fu, nu, base + nu)
            w -= v
            w *= fb
            v += w
        if nt > 1:
            v2 = _row(flat, fu, nu, base + nb * nu)
            if nb > 1:
                w = _row(flat, fu, nu, base + nb * nu + nu)
                w -= v2
                w *= fb
                v2 += w
            v2 -= v
            v2 *= ft
            v += v2
        if per_out:
            v *= b
        out[s:e] = v
    return out


def interp_planes(
    stack: np.ndarray,
    temp_grid: np.ndarray,
    lb_grid: np.ndarray,
    u_grid: np.ndarray,
    plane: np.ndarray | int,
    temp_c: np.ndarray,
    log_bias: np.ndarray,
    u: np.ndarray,
    chunk: int = 1 << 14,
) -> np.ndarray:
    """Trilinear interpolation in ``stack[plane, temp, log_bias, u]`` at 1-D point arrays
    inside the grid (measured against scipy's RegularGridInterpolator in
    benchmarks/lut_speed.py)."""
    axes = (_Axis(temp_grid), _Axis(lb_grid), _Axis(u_grid))
    return _interp(stack, axes, plane, temp_c, log_bias, u, clamp=True, chunk=chunk)


# -- fitting -------------------------------------------------------------------------------


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


class LookupModel:
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

    def fit(self, df: Any) -> LookupModel:
        """Fit from a results DataFrame (``sactk.sweeps.store.read_results``)."""
        from sactk.analysis.metrics import cell_of, input_cols

        if self.knots < 2:
            raise SpecError(f"fit: knots = {self.knots}; use at least 2")
        rows = ok_rows(df)
        if rows.empty:
            raise SpecError("fit: no simulated DC points in these results; sweep a DC preset")
        for col in ("w_um", "l_um", "vdd_v", "tech"):
            if col in rows.columns and rows[col].nunique() > 1:
                raise SpecError(
                    f"fit: the results vary {col} ({rows[col].nunique()} values); a lookup "
                    "model covers one device size, supply and technology: fit each separately"
                )
        cell = cell_of(rows)
        output = self.output or cell.OUTPUT
        if output not in rows.columns:
            raise SpecError(
                f"fit: output {output!r} is not a results column; choose one of "
                + ", ".join(c for c in rows.columns if c.startswith("out_"))
            )
        ins = input_cols(rows)
        coord = ins[0] if len(ins) == 1 else cell.IDEAL
        self.cell_ = str(rows["cell"].iloc[0])
        self.output_ = output
        self.coordinate_ = coord
        self.coord_per_bias_ = coord.endswith("_a") or coord == cell.IDEAL
        self.out_per_bias_ = output.endswith("_a")
        self.corners_ = np.array(sorted(rows["corner"].unique()), dtype=str)
        self.temp_c_ = np.array(sorted(rows["temp_c"].unique()), dtype=float)
        self.log_bias_ = np.log10(np.array(sorted(rows["bias_a"].unique()), dtype=float))

        u = self._u(rows)
        y = rows[output].to_numpy(float) / (
            rows["bias_a"].to_numpy(float) if self.out_per_bias_ else 1.0
        )
        chip = rows["mc_index"].to_numpy(int) if "mc_index" in rows.columns else np.full(len(u), -1)
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
        if (chip >= 0).any():  # a chip's output scatters about any 1-D curve: fewer knots
            sparsest //= 2
        self.u_knots_ = self._knots(u, lo, hi, max(2, sparsest))
        self.chip_ids_ = np.array(sorted(c for c in np.unique(chip) if c >= 0), dtype=int)
        grid = (len(self.corners_), len(self.temp_c_), len(self.log_bias_), len(self.u_knots_))
        ids = [-1] if (chip < 0).any() else []
        stack = np.full((len(ids) + len(self.chip_ids_), *grid), np.nan)
        index = {c: i for i, c in enumerate([*ids, *self.chip_ids_.tolist()])}
        for (c, corner, temp, bias), g in planes:
            m = (g["_u"] >= lo) & (g["_u"] <= hi)
            ijk = (
                int(np.searchsorted(self.corners_, corner)),
                int(np.searchsorted(self.temp_c_, temp)),
                int(np.searchsorted(self.log_bias_, np.log10(bias))),
            )
            stack[(index[int(c)], *ijk)] = _fit_plane(
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
            self.chip_mean_, self.chip_basis_ = _pca(self.chips_, self.chip_variance)
        self.table_ = stack[0] if ids else np.asarray(self.chip_mean_)
        self.power_w_ = self._power_table(rows, chip)
        self.meta_: dict[str, Any] = {"fit_points": len(rows)}
        self.info_: dict[str, Any] = {}
        return self

    # -- helpers ---------------------------------------------------------------------------

    def _power_table(self, rows: Any, chip: np.ndarray) -> np.ndarray | None:
        """Mean supply power (W) per (corner, temp, bias) over the nominal (else all) rows."""
        if "power_w" not in rows.columns:
            return None
        use = rows[chip < 0] if (chip < 0).any() else rows
        mean = use.groupby(["corner", "temp_c", "bias_a"])["power_w"].mean()
        out = np.full((len(self.corners_), len(self.temp_c_), len(self.log_bias_)), np.nan)
        for (corner, temp, bias), v in mean.items():
            out[
                int(np.searchsorted(self.corners_, corner)),
                int(np.searchsorted(self.temp_c_, temp)),
                int(np.searchsorted(self.log_bias_, np.log10(bias))),
            ] = v
        return None if np.isnan(out).any() else out

    def power_w(self, bias_a: Any, temp_c: Any, corner: str | None = None) -> np.ndarray:
        """Mean static supply power of one cell (W) at operating points, interpolated like
        the table (power / bias in log10 bias and temperature), clamped to the fitted range."""
        self._check()
        if self.power_w_ is None:
            raise ModelError("power_w: the fitted results had no power_w column")
        b, t = np.broadcast_arrays(np.asarray(bias_a, float), np.asarray(temp_c, float))
        k = self._corner_index(corner)
        per_bias = self.power_w_[k] / (10**self.log_bias_)[None, :]
        y = interp_planes(
            per_bias[None, :, :, None],
            self.temp_c_,
            self.log_bias_,
            np.zeros(1),
            0,
            t.ravel(),
            np.log10(b.ravel()),
            np.zeros(b.size),
        )
        return (y * b.ravel()).reshape(b.shape)

    def _u(self, df: Any) -> np.ndarray:
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

    def _corner_index(self, corner: str | None) -> int:
        if corner is None:
            if len(self.corners_) > 1:
                raise ModelError(
                    f"predict: the model has corners {list(self.corners_)}; pass corner="
                )
            return 0
        hits = np.nonzero(self.corners_ == corner)[0]
        if not len(hits):
            raise ModelError(
                f"predict: corner {corner!r} was not fitted; fitted: {list(self.corners_)}"
            )
        return int(hits[0])

    # -- prediction ------------------------------------------------------------------------

    def evaluate(
        self,
        u: Any,
        bias_a: Any,
        temp_c: Any,
        *,
        corner: str | None = None,
        chip: Any = None,
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
            stack = self.table_[k][None]
            plane: Any = 0
        else:
            pool = self.chips_ if chips is None else chips
            if pool is None or len(pool) == 0:
                raise ModelError("predict: the model has no chips; fit on Monte Carlo results")
            idx = np.broadcast_to(np.asarray(chip, dtype=np.intp), shape).ravel()
            if idx.min() < 0 or idx.max() >= len(pool):
                raise ModelError(f"predict: chip index outside 0..{len(pool) - 1}")
            stack = pool[:, k]
            plane = idx
        y = _interp(
            stack,
            self._axes(),
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

    def predict(self, X: Any, **kwargs: Any) -> np.ndarray:
        """``X``: (n, 3) rows of (u, bias_a, temp_c); keyword arguments as :meth:`evaluate`."""
        x = np.asarray(X, dtype=float)
        if x.ndim != 2 or x.shape[1] != 3:
            raise ModelError(
                f"predict: X must have shape (n, 3) = (u, bias_a, temp_c), not {x.shape}"
            )
        return self.evaluate(x[:, 0], x[:, 1], x[:, 2], **kwargs)

    def predict_results(self, df: Any, clamp: bool = False) -> np.ndarray:
        """Predictions for the rows of a results DataFrame (chips by their mc_index)."""
        self._check()
        out = np.empty(len(df))
        chip = df["mc_index"].to_numpy(int) if "mc_index" in df.columns else np.full(len(df), -1)
        pos = {c: i for i, c in enumerate(self.chip_ids_.tolist())}
        for corner in np.unique(df["corner"].to_numpy(str)):
            m = df["corner"].to_numpy(str) == corner
            nom = m & (chip < 0)
            sub = df[nom]
            out[nom] = self.evaluate(
                sub[self.coordinate_], sub["bias_a"], sub["temp_c"], corner=corner, clamp=clamp
            )
            mc = m & (chip >= 0)
            if mc.any():
                unknown = set(np.unique(chip[mc]).tolist()) - set(pos)
                if unknown:
                    raise ModelError(f"predict: chips {sorted(unknown)[:5]} were not fitted")
                sub = df[mc]
                out[mc] = self.evaluate(
                    sub[self.coordinate_],
                    sub["bias_a"],
                    sub["temp_c"],
                    corner=corner,
                    chip=np.array([pos[c] for c in chip[mc]]),
                    clamp=clamp,
                )
        return out

    def sample_chips(self, n: int, seed: int) -> np.ndarray:
        """``n`` new chips' tables drawn from the statistical mismatch model (seeded)."""
        self._check()
        if self.chip_mean_ is None or self.chip_basis_ is None:
            raise ModelError("sample_chips: the model has fewer than 2 chips; fit on MC results")
        z = np.random.default_rng(seed).standard_normal((n, len(self.chip_basis_)))
        flat = self.chip_mean_.ravel() + z @ self.chip_basis_
        return flat.reshape(n, *self.chip_mean_.shape)

    # -- validation ------------------------------------------------------------------------

    def inside(self, rows: Any) -> np.ndarray:
        """Which rows lie inside the fitted range of the coordinate."""
        u = self._u(rows)
        return np.asarray((u >= self.u_knots_[0]) & (u <= self.u_knots_[-1]))

    def errors(self, df: Any) -> Any:
        """Per-row model error of the simulated DC rows of a results DataFrame: ``pred``
        and ``err_fs`` (fraction of each point's full scale ``fs_a``; the output's own unit
        when it has none)."""
        return self._errors_of(ok_rows(df))

    def _errors_of(self, rows: Any) -> Any:
        rows = rows.copy()
        rows["pred"] = self.predict_results(rows)
        fs = rows["fs_a"].to_numpy(float) if "fs_a" in rows.columns else 1.0
        rows["err_fs"] = (rows["pred"] - rows[self.output_]) / fs
        return rows

    def validate(self, df: Any, how: str) -> dict[str, Any]:
        """Max and RMS |model - simulation| in fractions of full scale, for the nominal
        circuit and (when the model has chips) for each chip's own table; kept in meta_."""
        rows = ok_rows(df)
        inside = self.inside(rows)
        if not inside.any():
            raise SpecError("validate: no validation points inside the fitted range")
        rows = self._errors_of(rows[inside])
        chip = rows["mc_index"].to_numpy() if "mc_index" in rows.columns else np.full(len(rows), -1)
        v: dict[str, Any] = {"how": how, "outside_points": int((~inside).sum())}
        for key, m in (("nominal", chip < 0), ("chips", chip >= 0)):
            e = rows["err_fs"].to_numpy()[m]
            if not len(e):
                continue
            stats = {
                "points": len(e),
                "max_err_fs": float(np.max(np.abs(e))),
                "rms_err_fs": float(np.sqrt(np.mean(e**2))),
                "p99_err_fs": float(np.quantile(np.abs(e), 0.99)),
            }
            if key == "nominal":
                v.update(stats)
            else:
                v["chips"] = stats
        if "max_err_fs" not in v:  # chips only: their figures are the headline
            v.update(v["chips"])
        self.meta_["validation"] = v
        return v

    # -- files -----------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str], meta: dict[str, Any] | None = None) -> Path:
        """Write ``MODEL.npz`` (tables) and ``MODEL.json`` (description); returns the json."""
        from sactk.sweeps.store import _atomic_write_bytes

        self._check()
        stem = model_stem(path)
        stem.parent.mkdir(parents=True, exist_ok=True)
        arrays = {
            "table": self.table_,
            "u_knots": self.u_knots_,
            "log_bias": self.log_bias_,
            "temp_c": self.temp_c_,
            "corners": self.corners_,
            "chips": self.chips_,
            "chip_ids": self.chip_ids_,
        }
        if self.power_w_ is not None:
            arrays["power_w"] = self.power_w_
        if self.chip_mean_ is not None:
            arrays["chip_mean"] = self.chip_mean_
            arrays["chip_basis"] = self.chip_basis_
        import io

        buf = io.BytesIO()
        np.savez(buf, **arrays)
        data = buf.getvalue()
        _atomic_write_bytes(stem.with_suffix(".npz"), data)
        info = {
            "format": FORMAT,
            "kind": "LookupModel",
            "cell": self.cell_,
            "output": self.output_,
            "coordinate": self.coordinate_,
            "coordinate_per_bias": bool(self.coord_per_bias_),
            "output_per_bias": bool(self.out_per_bias_),
            "form": (
                "out/bias_a = T[corner, temp_c, log10(bias_a), u], u = coordinate"
                + ("/bias_a" if self.coord_per_bias_ else "")
                + "; linear interpolation on every axis but corner"
            ),
            "units": {
                "output": "A" if self.output_.endswith("_a") else "",
                "coordinate": "A" if self.coord_per_bias_ else "code",
                "table": "output / bias_a" if self.out_per_bias_ else "output",
                "temp_c": "degC",
                "bias_a": "A",
            },
            "axes": {
                "corner": self.corners_.tolist(),
                "temp_c": self.temp_c_.tolist(),
                "bias_a": (10**self.log_bias_).tolist(),
                "u": {
                    "min": float(self.u_knots_[0]),
                    "max": float(self.u_knots_[-1]),
                    "knots": len(self.u_knots_),
                },
            },
            "chips": {
                "count": len(self.chip_ids_),
                "components": 0 if self.chip_basis_ is None else len(self.chip_basis_),
                "variance_kept": self.chip_variance,
            },
            "params": {
                "output": self.output,
                "knots": self.knots,
                "smoothing": self.smoothing,
                "chip_variance": self.chip_variance,
            },
            **self.meta_,
            **(meta or {}),
            "npz_sha256": hashlib.sha256(data).hexdigest(),
        }
        out = stem.with_suffix(".json")
        _atomic_write_bytes(out, (json.dumps(info, indent=1, default=_jsonable) + "\n").encode())
        return out

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LookupModel:
        """Read a model written by :meth:`save`; a damaged file raises ModelError."""
        stem = model_stem(path)
        jpath, npath = stem.with_suffix(".json"), stem.with_suffix(".npz")
        for p in (jpath, npath):
            if not p.is_file():
                raise ModelError(f"{p}: no such model file; write one with `sactk fit`")
        try:
            info = json.loads(jpath.read_text())
        except (OSError, ValueError) as exc:
            raise ModelError(f"{jpath}: not a model description ({exc}); refit") from None
        if not isinstance(info, dict) or info.get("format") != FORMAT:
            raise ModelError(f"{jpath}: format is not {FORMAT}; refit with this sactk")
        data = npath.read_bytes()
        if hashlib.sha256(data).hexdigest() != info.get("npz_sha256"):
            raise ModelError(
                f"{npath}: checksum does not match {jpath.name} (truncated or changed); refit"
            )
        import io

        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arr = {k: z[k] for k in z.files}
        for k in _ARRAYS:
            if k not in arr:
                raise ModelError(f"{npath}: array {k!r} missing; refit")
        p = info.get("params", {})
        m = cls(
            output=p.get("output"),
            knots=int(p.get("knots", 32)),
            smoothing=float(p.get("smoothing", 1e-2)),
            chip_variance=float(p.get("chip_variance", 0.99)),
        )
        m.cell_ = str(info["cell"])
        m.output_ = str(info["output"])
        m.coordinate_ = str(info["coordinate"])
        m.coord_per_bias_ = bool(info["coordinate_per_bias"])
        m.out_per_bias_ = bool(info["output_per_bias"])
        m.table_ = arr["table"]
        m.u_knots_ = arr["u_knots"]
        m.log_bias_ = arr["log_bias"]
        m.temp_c_ = arr["temp_c"]
        m.corners_ = arr["corners"].astype(str)
        m.chips_ = arr["chips"]
        m.chip_ids_ = arr["chip_ids"]
        m.chip_mean_ = arr.get("chip_mean")
        m.chip_basis_ = arr.get("chip_basis")
        m.power_w_ = arr.get("power_w")
        want = (len(m.corners_), len(m.temp_c_), len(m.log_bias_), len(m.u_knots_))
        if m.table_.shape != want or m.chips_.shape[1:] != want:
            raise ModelError(f"{npath}: table shape {m.table_.shape} does not match its axes")
        m.meta_ = {k: v for k, v in info.items() if k in ("validation", "fit_points")}
        m.info_ = info
        return m


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


def model_stem(path: str | os.PathLike[str]) -> Path:
    """``m``, ``m.json`` and ``m.npz`` all name the model ``m``."""
    p = Path(path)
    return p.with_suffix("") if p.suffix in (".json", ".npz") else p


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return str(v)


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

"""Input-table models: a cell's output as a table of its own input coordinates.

An :class:`InputModel` (``kind = "inputs"``) tabulates one output against every input of the
cell, current or voltage, up to three of them::

    out / bias_a = T[corner, temp_c, log10(bias_a), u_1, ..., u_N],
    u_i = in_i / bias_a (a current input)   or   in_i (a voltage input, V)

and interpolates linearly in each u_i (a tensor product of hat functions); between the
fitted temperatures and biases it follows analysis/conditions.py like every model. It needs
no ideal(): it is what a user's own circuit exports as a drop-in subcircuit or Verilog-A
module with the circuit's own pins (analysis/inputexport.py).

Each (chip, corner, temperature, bias) plane is a least-squares fit of the table's knot
values to the simulated points, with a second-difference penalty along every axis that
fills knots the random vectors leave empty (the same regularized spline as a lookup table's,
analysis/lutfit.py, in N dimensions). Knots per axis default to 24, 10 and 6 for one, two and
three inputs (576, 100 and 216 values per plane).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from sactk.analysis.opgrid import TableGrid, op_groups, with_noise
from sactk.errors import ModelError, SpecError

if TYPE_CHECKING:
    import pandas as pd
    from numpy.typing import ArrayLike

KNOTS = {1: 24, 2: 10, 3: 6}
"""Default knots per axis by the number of inputs."""


def hat_weights(u: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """(n, K) linear-interpolation weights of ``u`` on ``grid`` (clamped to it)."""
    k = len(grid)
    w = np.zeros((len(u), k))
    if k == 1:
        w[:, 0] = 1.0
        return w
    x = np.clip(u, grid[0], grid[-1])
    i = np.clip(np.searchsorted(grid, x, side="right") - 1, 0, k - 2)
    f = (x - grid[i]) / (grid[i + 1] - grid[i])
    rows = np.arange(len(u))
    w[rows, i] = 1.0 - f
    w[rows, i + 1] += f
    return w


def tensor_basis(u: np.ndarray, grids: list[np.ndarray]) -> np.ndarray:
    """(n, prod K) weights of the tensor-product table at points ``u`` (n, N), axis 0
    slowest (C order, as the table is stored)."""
    basis = hat_weights(u[:, 0], grids[0])
    for d in range(1, len(grids)):
        wd = hat_weights(u[:, d], grids[d])
        basis = (basis[:, :, None] * wd[:, None, :]).reshape(len(u), -1)
    return basis


def penalty(grids: list[np.ndarray]) -> np.ndarray:
    """Sum over axes of the squared second differences along that axis (P, P)."""
    sizes = [len(g) for g in grids]
    total = np.zeros((int(np.prod(sizes)),) * 2)
    for d, k in enumerate(sizes):
        if k < 3:
            continue
        d2 = np.diff(np.eye(k), n=2, axis=0)
        op: np.ndarray = np.ones((1, 1))
        for e, m in enumerate(sizes):
            op = np.kron(op, d2 if e == d else np.eye(m))
        total += op.T @ op
    return total


class InputModel(TableGrid):
    """A table of one output against the cell's own inputs (see the module docstring).

    Parameters
    ----------
    output:
        Result column to model; default the cell's main output.
    knots:
        Knots per input axis; default by the number of inputs (:data:`KNOTS`).
    smoothing:
        Weight of the second-difference penalty relative to the data term.
    chip_variance:
        Fraction of the chips' deviation variance the statistical mismatch model keeps.
    """

    kind: ClassVar[str] = "inputs"
    file_kind: ClassVar[str] = "InputModel"
    cell_inputs: ClassVar[bool] = True

    def __init__(
        self,
        output: str | None = None,
        knots: int | None = None,
        smoothing: float = 1e-3,
        chip_variance: float = 0.99,
    ) -> None:
        self.output = output
        self.knots = knots
        self.smoothing = smoothing
        self.chip_variance = chip_variance

    def fit(self, df: pd.DataFrame) -> InputModel:
        """Fit from a results DataFrame (``sactk.sweeps.store.read_results``)."""
        from sactk.analysis.lutfit import chip_pca
        from sactk.analysis.metrics import input_cols

        rows, _cell, output, chip = self._start_fit(df, self.output)
        ins = [c for c in input_cols(rows) if rows[c].notna().all()]
        if not 1 <= len(ins) <= 3:
            raise SpecError(f"fit: --kind inputs tabulates 1 to 3 inputs; this cell has {len(ins)}")
        self.cell_, self.output_, self.inputs_ = str(rows["cell"].iloc[0]), output, ins
        self.per_bias_ = np.array([c.endswith("_a") for c in ins])
        self.out_per_bias_ = output.endswith("_a")
        has_ideal = "ideal_y_a" in rows.columns and rows["ideal_y_a"].notna().all()
        self.coordinate_ = "ideal_y_a" if has_ideal else ins[0]  # the residual plots' axis
        self.coord_per_bias_ = self.coordinate_.endswith("_a")
        u = self._coords(rows[ins].to_numpy(float), rows["bias_a"].to_numpy(float))
        y = rows[output].to_numpy(float)
        if self.out_per_bias_:
            y = y / rows["bias_a"].to_numpy(float)
        k = self.knots or KNOTS[len(ins)]
        self.grids_ = []
        for d in range(len(ins)):
            vals = np.unique(u[:, d])
            self.grids_.append(np.linspace(vals[0], vals[-1], max(2, min(k, len(vals)))))
        basis = tensor_basis(u, self.grids_)
        pen = penalty(self.grids_)
        self.chip_ids_ = np.array(sorted(c for c in np.unique(chip) if c >= 0), dtype=int)
        ids = [-1] if (chip < 0).any() else []
        order = [*ids, *self.chip_ids_.tolist()]
        n_p = basis.shape[1]
        stack = np.full(
            (len(order), len(self.corners_), len(self.temp_c_), len(self.log_bias_), n_p), np.nan
        )
        keys = ["corner", "temp_c", "bias_a"]
        for key, idx in rows.assign(_c=chip).groupby(["_c", *keys], sort=True).indices.items():
            c, corner, temp, bias = (np.asarray(v).item() for v in key)  # type: ignore[attr-defined]
            b = basis[idx]
            gram = b.T @ b
            lam = self.smoothing * (np.trace(gram) / n_p)
            coef = np.linalg.solve(gram + lam * pen + 1e-12 * np.eye(n_p), b.T @ y[idx])
            at = (
                int(np.searchsorted(self.corners_, corner)),
                int(np.searchsorted(self.temp_c_, temp)),
                int(np.searchsorted(self.log_bias_, np.log10(bias))),
            )
            stack[(order.index(int(c)), *at)] = coef
        if np.isnan(stack).any():
            raise SpecError(
                "fit: a chip or operating point has no points; an input table needs every "
                "combination of the swept corners, temperatures and biases"
            )
        self.chips_ = stack[len(ids) :]
        self.chip_mean_ = self.chip_basis_ = None
        if len(self.chip_ids_) >= 2:
            self.chip_mean_, self.chip_basis_ = chip_pca(self.chips_, self.chip_variance)
        self.table_ = stack[0] if ids else np.asarray(self.chip_mean_)
        self.power_w_ = self._power_table(rows, chip)
        self.meta_: dict[str, Any] = {"fit_points": len(rows)}
        self.info_: dict[str, Any] = {}
        self._conditions()
        return self

    def _coords(self, x: np.ndarray, bias_a: np.ndarray) -> np.ndarray:
        return np.where(self.per_bias_[None, :], x / bias_a[:, None], x)

    # -- prediction ------------------------------------------------------------------------

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
        clamp: bool = False,
        chunk: int = 1 << 13,
    ) -> np.ndarray:
        """The modelled output (A for a current output) at inputs ``x`` (..., N) in their
        own units (A, V), broadcast with ``bias_a`` and ``temp_c``; ``chip`` as
        :meth:`LookupModel.evaluate`."""
        self._check()
        xa = np.asarray(x, float)
        n_in = len(self.inputs_)
        if xa.ndim == 0 or xa.shape[-1] != n_in:
            raise ModelError(f"predict: x must end in the {n_in} inputs {self.inputs_}")
        shape = np.broadcast_shapes(xa.shape[:-1], np.shape(bias_a), np.shape(temp_c))
        xs = np.broadcast_to(xa, (*shape, n_in)).reshape(-1, n_in)
        b = np.broadcast_to(np.asarray(bias_a, float), shape).ravel()
        t = np.broadcast_to(np.asarray(temp_c, float), shape).ravel()
        if len(b) and not float(b.min()) > 0.0:
            raise ModelError("predict: bias_a must be positive (A)")
        k = self._corner_index(corner)
        if chip is None:
            pool, coef = self.table_[k][None], self.coef_[k][None]
            idx = np.zeros(len(b), np.intp)
        else:
            full, idx = self._chip_pool(chip, chips, shape)
            pool = full[:, k]
            coef = (self.chip_coef_ if chips is None else self._pool_coef(full))[:, k]
        u = self._coords(xs, b)
        if not clamp:
            self._range_check(u, b, t)
        out = np.empty(len(b))
        for bi, ti, sel in op_groups(b, t):
            table = self.cond_.at(pool, ti, float(np.log10(bi)), coef)  # (chips, P)
            for s in range(0, len(sel), chunk):
                part = sel[s : s + chunk]
                basis = tensor_basis(u[part], self.grids_)
                out[part] = np.einsum("np,np->n", basis, table[idx[part]])
        if self.out_per_bias_:
            out *= b
        return out.reshape(shape)

    def _range_check(self, u: np.ndarray, b: np.ndarray, t: np.ndarray) -> None:
        checks = [("temp_c", t, self.temp_c_), ("bias_a", np.log10(b), self.log_bias_)]
        checks += [
            (c, u[:, d], g) for d, (c, g) in enumerate(zip(self.inputs_, self.grids_, strict=True))
        ]
        for name, v, grid in checks:
            lo, hi = float(grid[0]), float(grid[-1])
            tol = 1e-9 * max(1.0, abs(lo), abs(hi))
            bad = (v < lo - tol) | (v > hi + tol)
            if bad.any():
                shown = 10 ** v[bad][0] if name == "bias_a" else v[bad][0]
                unit = " / bias_a" if name.endswith("_a") and name != "bias_a" else ""
                raise ModelError(
                    f"predict: {name}{unit} {shown:.6g} outside the fitted "
                    f"{(10**lo if name == 'bias_a' else lo):.6g}.."
                    f"{(10**hi if name == 'bias_a' else hi):.6g}; pass clamp=True to clamp, "
                    "or fit on a wider sweep"
                )

    def predict_results(self, df: pd.DataFrame, clamp: bool = False) -> np.ndarray:
        """Predictions for the rows of a results DataFrame (chips by their mc_index)."""
        self._check()
        out = np.empty(len(df))
        chip = df["mc_index"].to_numpy(int) if "mc_index" in df.columns else np.full(len(df), -1)
        corners = df["corner"].to_numpy(str)
        for corner in np.unique(corners):
            for nominal in (True, False):
                m = (corners == corner) & ((chip < 0) if nominal else (chip >= 0))
                if not m.any():
                    continue
                sub = df[m]
                out[m] = self.evaluate(
                    sub[self.inputs_].to_numpy(float),
                    sub["bias_a"].to_numpy(float),
                    sub["temp_c"].to_numpy(float),
                    corner=corner,
                    chip=None if nominal else self.chip_rows(chip[m]),
                    clamp=clamp,
                )
        return out

    def coordinate_values(self, df: pd.DataFrame) -> np.ndarray:
        v = df[self.coordinate_].to_numpy(float)
        return v / df["bias_a"].to_numpy(float) if self.coord_per_bias_ else v

    def inside(self, rows: pd.DataFrame) -> np.ndarray:
        """Which rows lie inside the fitted range of every input."""
        u = self._coords(rows[self.inputs_].to_numpy(float), rows["bias_a"].to_numpy(float))
        ok = np.ones(len(rows), bool)
        for d, g in enumerate(self.grids_):
            ok &= (u[:, d] >= g[0] - 1e-12) & (u[:, d] <= g[-1] + 1e-12)
        return ok

    def ranges(self) -> dict[str, tuple[float, float]]:
        """Fitted range per axis: bias_a, temp_c and each input (normalized: / bias_a)."""
        self._check()
        out = {
            "bias_a": (float(10 ** self.log_bias_[0]), float(10 ** self.log_bias_[-1])),
            "temp_c": (float(self.temp_c_[0]), float(self.temp_c_[-1])),
        }
        out.update(
            {c: (float(g[0]), float(g[-1])) for c, g in zip(self.inputs_, self.grids_, strict=True)}
        )
        return out

    @property
    def full_scale_norm(self) -> float:
        self._check()
        return float(np.max(np.abs(self.table_)))

    @property
    def input_columns(self) -> list[str]:
        return list(self.inputs_)

    # -- files and exports -----------------------------------------------------------------

    def save(self, path: str | os.PathLike[str], meta: dict[str, Any] | None = None) -> Path:
        from sactk.analysis.inputexport import save_inputs

        self._check()
        return save_inputs(self, path, meta)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> InputModel:
        from sactk.analysis.inputexport import load_inputs

        model: InputModel = load_inputs(cls, path)
        return model

    def export(self, fmt: str, out: Path, chip: int | None = None) -> list[Path]:
        """``ngspice``, ``verilog-a``, ``csv`` or ``json`` (analysis/inputexport.py)."""
        from sactk.analysis.inputexport import export_inputs

        return export_inputs(self, fmt, Path(out), chip)

    def module_name(self, corner: str, chip: int | None = None) -> str:
        from sactk.analysis.exportfmt import module_name

        return module_name(self.info_.get("subckt") or self.cell_, corner, chip)

    def roundtrip_drive(self, x: ArrayLike) -> tuple[np.ndarray, str]:
        """Not the generic round-trip deck: this export has the cell's own pins (supply,
        ground, bias), so it is checked in the cell's own bench (tests/test_inputmodel.py)."""
        raise SpecError(
            "roundtrip: an input-table model exports the cell's own pins; instantiate it in "
            "your bench in place of the transistor subcircuit (docs/cells.md)"
        )

"""What every fitted cell model shares: its operating-point grid (corners, temperatures,
log10 bias), the supply power tabulated on it, and corner selection."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from sactk.analysis.conditions import Conditions
from sactk.errors import ModelError

if TYPE_CHECKING:
    import pandas as pd
    from numpy.typing import ArrayLike

    from sactk.circuits.base import Cell


def with_noise(fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """Gives a model's ``evaluate`` the keywords ``noise_window_s`` and ``seed``: the output
    plus seeded Gaussian noise of the model's noise terms for an integration window
    (analysis/noisemodel.py; a model fitted on results with noise rows)."""
    import functools

    @functools.wraps(fn)
    def evaluate(
        self: Any,
        x: Any,
        bias_a: Any,
        temp_c: Any,
        *args: Any,
        noise_window_s: float | None = None,
        seed: int | None = None,
        **kw: Any,
    ) -> np.ndarray:
        y = fn(self, x, bias_a, temp_c, *args, **kw)
        if noise_window_s is None:
            return y
        if seed is None:
            raise ModelError("evaluate: noise_window_s needs seed= (every random draw is seeded)")
        from sactk.analysis.noisemodel import add_noise

        info = self.meta_.get("noise")
        return add_noise(y, bias_a, temp_c, info, noise_window_s, seed, kw.get("corner"))

    return evaluate


def op_groups(b: np.ndarray, t: np.ndarray) -> list[tuple[float, float, np.ndarray]]:
    """(bias, temperature, rows) for every distinct operating point of the flat arrays b and
    t. One constant point, the runners' case, skips sorting: np.unique over the (bias,
    temperature) pairs of 640,000 rows took 60 % of an S-AC hidden layer's forward pass."""
    if len(b) == 0:
        return []
    if b.min() == b.max() and t.min() == t.max():
        return [(float(b[0]), float(t[0]), np.arange(len(b)))]
    ops, inv = np.unique(np.stack([b, t], axis=1), axis=0, return_inverse=True)
    inv = inv.ravel()
    return [(float(bi), float(ti), np.nonzero(inv == i)[0]) for i, (bi, ti) in enumerate(ops)]


class OpGrid:
    """Mixin: ``corners_``, ``temp_c_``, ``log_bias_`` and ``power_w_`` are set by fit."""

    corners_: np.ndarray
    temp_c_: np.ndarray
    log_bias_: np.ndarray
    power_w_: np.ndarray | None

    chips_: Any  # (chips, ...) parameter planes or tables; None in a model without chips
    chip_mean_: np.ndarray | None
    chip_basis_: np.ndarray | None

    def _start_fit(
        self, df: pd.DataFrame, output: str | None
    ) -> tuple[pd.DataFrame, Cell, str, np.ndarray]:
        """The simulated rows of ``df`` to fit, refused if they vary what one model cannot
        cover; sets the operating-point axes. Returns (rows, cell, output column, chip of
        every row: mc_index, -1 for the nominal circuit)."""
        from sactk.analysis.lutfit import ok_rows
        from sactk.analysis.metrics import cell_of
        from sactk.analysis.results import upgrade_reference_columns
        from sactk.errors import SpecError

        rows = upgrade_reference_columns(ok_rows(df))  # tables from before units in names
        if rows.empty:
            raise SpecError("fit: no simulated DC points in these results; sweep a DC preset")
        from sactk.analysis.metrics import cell_axes

        for col in ("w_um", "l_um", "vdd_v", "tech", *cell_axes(rows)):
            if col in rows.columns and rows[col].nunique() > 1:
                raise SpecError(
                    f"fit: the results vary {col} ({rows[col].nunique()} values); a model "
                    "covers one device size, supply, technology and cell parameter set: fit "
                    "each separately"
                )
        cell = cell_of(rows)
        out = output or cell.output
        if out not in rows.columns:
            raise SpecError(
                f"fit: output {out!r} is not a results column; choose one of "
                + ", ".join(c for c in rows.columns if c.startswith("out_"))
            )
        self.corners_ = np.array(sorted(rows["corner"].unique()), dtype=str)
        self.temp_c_ = np.array(sorted(rows["temp_c"].unique()), dtype=float)
        self.log_bias_ = np.log10(np.array(sorted(rows["bias_a"].unique()), dtype=float))
        chip = (
            rows["mc_index"].to_numpy(int) if "mc_index" in rows.columns else np.full(len(rows), -1)
        )
        return rows, cell, out, chip

    meta_: dict[str, Any]

    @property
    def cond_(self) -> Conditions:
        """The condition axes (analysis/conditions.py), built once per grid."""
        key = (id(self.temp_c_), id(self.log_bias_))
        got = self.__dict__.get("_cond")
        if got is None or got[0] != key:
            got = (key, Conditions(self.temp_c_, self.log_bias_))
            self.__dict__["_cond"] = got
        return got[1]

    # -- conditions the model never saw ----------------------------------------------------

    _condition_tables: tuple[str, ...] = ()
    """Attributes holding (..., T, B, X) tables; each class names its own."""

    def _conditions(self) -> None:
        """Recompute what follows from the planes (the physics terms' coefficients)."""
        raise NotImplementedError

    def without(self, axis: str, index: int) -> Any:
        """A copy of the model that never saw temperature (``axis`` "temp_c") or bias
        ("bias_a") number ``index`` of its grid: the same planes but that one, and the
        physics terms refitted on the rest."""
        import copy

        m = copy.copy(self)
        m.__dict__.pop("_cond", None)
        m.__dict__.pop("_ops", None)
        ax = -3 if axis == "temp_c" else -2
        for name in self._condition_tables:
            setattr(m, name, np.delete(getattr(self, name), index, axis=ax))
        if self.power_w_ is not None:
            m.power_w_ = np.delete(self.power_w_, index, axis=ax + 1)
        if axis == "temp_c":
            m.temp_c_ = np.delete(self.temp_c_, index)
        else:
            m.log_bias_ = np.delete(self.log_bias_, index)
        m._conditions()
        return m

    def leave_conditions_out(self, rows: pd.DataFrame) -> list[dict[str, Any]]:
        """Leave each interior temperature and each interior bias out in turn: the model
        without it predicts the fitted rows there (a condition it never saw). Per
        condition: axis, value and lutfit.validation's figures."""
        from sactk.analysis.lutfit import ok_rows, validation
        from sactk.analysis.validation import headline

        rows = ok_rows(rows)
        out = []
        for axis, grid in (("temp_c", self.temp_c_), ("bias_a", 10.0**self.log_bias_)):
            for i in range(1, len(grid) - 1):
                at = rows[np.isclose(rows[axis].to_numpy(float), grid[i], rtol=1e-9)]
                if at.empty:
                    continue
                v = validation(self.without(axis, i), at, f"{axis} {grid[i]:g} left out")
                out.append({"axis": axis, "value": float(grid[i]), **headline(v)})
        return out

    def errors(self, df: pd.DataFrame) -> pd.DataFrame:
        """Per-row model error of the simulated DC rows of a results DataFrame: ``pred``
        and ``err_fs`` (fraction of each point's full scale ``fs_a``; the output's own unit
        when it has none)."""
        from sactk.analysis.lutfit import model_errors, ok_rows

        return model_errors(self, ok_rows(df))  # type: ignore[arg-type]

    def validate(self, df: pd.DataFrame, how: str) -> dict[str, Any]:
        """Max and RMS |model - simulation| in fractions of full scale, for the nominal
        circuit and (when the model has chips) for each chip's own; kept in meta_
        (lutfit.validation has the fields)."""
        from sactk.analysis.lutfit import ok_rows, validation

        v = validation(self, ok_rows(df), how)  # type: ignore[arg-type]
        self.meta_["validation"] = v
        return v

    def sample_chips(self, n: int, seed: int) -> np.ndarray:
        """``n`` new chips drawn from the statistical mismatch model (seeded): the mean of
        the fitted chips plus standard normal weights on their principal components."""
        self._check()
        if self.chip_mean_ is None or self.chip_basis_ is None:
            raise ModelError("sample_chips: the model has fewer than 2 chips; fit on MC results")
        z = np.random.default_rng(seed).standard_normal((n, len(self.chip_basis_)))
        flat = self.chip_mean_.ravel() + z @ self.chip_basis_
        return flat.reshape(n, *self.chip_mean_.shape)

    def _check(self) -> None:
        if not hasattr(self, "corners_"):
            raise ModelError(
                f"{type(self).__name__} is not fitted; call fit(results) or load(path)"
            )

    def _power_table(self, rows: pd.DataFrame, chip: np.ndarray) -> np.ndarray | None:
        """Mean supply power (W) per (corner, temp, bias) over the nominal (else all) rows."""
        if "power_w" not in rows.columns:
            return None
        use = rows[chip < 0] if (chip < 0).any() else rows
        mean = use.groupby(["corner", "temp_c", "bias_a"])["power_w"].mean()
        out = np.full((len(self.corners_), len(self.temp_c_), len(self.log_bias_)), np.nan)
        keys = mean.index.to_frame(index=False)
        for corner, temp, bias, v in zip(
            keys["corner"], keys["temp_c"], keys["bias_a"], mean.to_numpy(), strict=True
        ):
            out[
                int(np.searchsorted(self.corners_, corner)),
                int(np.searchsorted(self.temp_c_, temp)),
                int(np.searchsorted(self.log_bias_, np.log10(bias))),
            ] = v
        return None if np.isnan(out).any() else out

    def power_w(
        self, bias_a: ArrayLike, temp_c: ArrayLike, corner: str | None = None
    ) -> np.ndarray:
        """Mean static supply power of one cell (W) at operating points: power / bias
        interpolated like the model's tables (analysis/conditions.py), clamped to the
        fitted range."""
        self._check()
        if self.power_w_ is None:
            raise ModelError("power_w: the fitted results had no power_w column")
        b, t = np.broadcast_arrays(np.asarray(bias_a, float), np.asarray(temp_c, float))
        k = self._corner_index(corner)
        per_bias = (self.power_w_[k] / (10**self.log_bias_)[None, :])[..., None]
        out = np.empty(b.size)
        for bi, ti, sel in op_groups(b.ravel(), t.ravel()):
            out[sel] = float(self.cond_.at(per_bias, ti, float(np.log10(bi)))[0]) * bi
        return out.reshape(b.shape)

    chip_ids_: np.ndarray

    def chip_rows(self, ids: ArrayLike, what: str = "predict") -> np.ndarray:
        """Positions in ``chips_`` of Monte Carlo instance ids (the results' ``mc_index``):
        the one lookup from a chip's id to its fitted planes or table. An id that was not
        fitted raises ModelError naming the fitted ones."""
        have = np.asarray(self.chip_ids_, dtype=int)
        want = np.asarray(ids, dtype=int)
        if want.size == 0:
            return np.zeros(want.shape, np.intp)
        pos = np.searchsorted(have, want)
        bad = (
            np.ones(want.shape, bool)
            if len(have) == 0
            else (pos >= len(have)) | (have[np.minimum(pos, len(have) - 1)] != want)
        )
        if len(have) == 0 or bad.any():
            missing = sorted(set(np.asarray(want[bad] if len(have) else want).ravel().tolist()))
            shown = ", ".join(map(str, missing[:5]))
            raise ModelError(
                f"{what}: chip {shown} was not fitted; the {getattr(self, 'cell_', '')} "
                f"model holds {len(have)} chips ({have.tolist()[:10]}"
                f"{' ...' if len(have) > 10 else ''}): sweep more Monte Carlo instances"
            )
        return pos

    def _chip_pool(
        self, chip: ArrayLike, chips: ArrayLike | None, shape: tuple[int, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(chips, index into them per point): ``chips`` (default the fitted ``chips_``),
        with ``chip`` broadcast to ``shape`` and checked against them."""
        pool = np.asarray(self.chips_ if chips is None else chips)
        if pool is None or len(pool) == 0:
            raise ModelError("predict: the model has no chips; fit on Monte Carlo results")
        idx = np.broadcast_to(np.asarray(chip, dtype=np.intp), shape).ravel()
        if idx.min() < 0 or idx.max() >= len(pool):
            raise ModelError(f"predict: chip index outside 0..{len(pool) - 1}")
        return pool, idx

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


class TableGrid(OpGrid):
    """An OpGrid whose planes are tables (``table_`` (corners, T, B, P), ``chips_`` (chips,
    corners, T, B, P)): the lookup and input-table models. Their physics terms follow from
    the planes the same way."""

    table_: np.ndarray
    coef_: np.ndarray
    chip_coef_: np.ndarray
    _condition_tables = ("table_", "chips_")

    def _conditions(self) -> None:
        """The physics terms' coefficients (analysis/conditions.py) of the nominal table
        and of every chip's; a chip shares the nominal circuit's leakage (MPModel's rule)."""
        self.coef_ = self.cond_.fit_terms(self.table_)  # (corners, terms, P)
        self.chip_coef_ = self._pool_coef(self.chips_)

    def _pool_coef(self, pool: np.ndarray) -> np.ndarray:
        if len(pool) == 0:
            return np.zeros((0, *self.coef_.shape))
        return self.cond_.fit_terms(pool, leak=self.coef_[None, :, 0, :])

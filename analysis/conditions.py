"""How a fitted model follows temperature and bias between the conditions it was fitted at.

Every fitted model holds tables on a grid of temperatures and biases (one plane per
condition: the MP units' parameters, the residual spline, a lookup table's knots). Between the
planes it evaluates

    table(T, I) = sum_tb w_t w_b table[t, b] + sum_m c_m (phi_m(T, I) - sum_tb w_t w_b phi_m[t, b])

* **Axes that follow the physics.** The temperature axis is 1/T: the subthreshold slope
  n kT/q puts a mismatch gain exp(-dVt / (n U_T)) in 1/T, and so do the Arrhenius laws of
  leakage. The bias axis is log10(bias_a): in weak inversion a shape-based circuit computes
  the same normalized function at every bias, and the move to strong inversion is a smooth
  function of log(inversion coefficient) (EKV: Enz and Vittoz, 2006).
* **Smooth, exact on the grid.** w_t, w_b are the cardinal functions of a natural cubic
  spline (de Boor, A Practical Guide to Splines, ch. IV) on those axes: the model equals
  every fitted plane at its condition, and between them it has continuous slope and
  curvature instead of the kinks of linear interpolation. Outside the grid the weights
  clamp to the end planes (the models' range rule).
* **Leakage.** Junction leakage grows as (T/T0)^3 exp(Eg(T0)/kT0 - Eg(T)/kT) (BSIM3v3.3
  manual, diode saturation current with XTI = 3, NJ = 1; Eg(T) = 1.16 - 7.02e-4 T^2 / (T +
  1108) eV), about 2x per 7 C at 100 C, and it is a current of its own, so in a table
  normalized to the bias it enters as phi_1 = E = law(T) / bias_a. No polynomial or spline
  through three or four temperatures follows that: from 85 to 125 C it rises 70x. Each
  table entry gets a coefficient c_1, fitted jointly across every condition by least
  squares on the basis (1, x_T, log I, x_T log I, the terms); between planes the spline
  carries what the laws leave. With it the nominal MP cell's error at unfitted temperatures
  and biases went from 0.26 % to 0.006 % of full scale (docs/lookup.md).

The same weights are written out as expressions (:meth:`SplineAxis.expressions`), so the
ngspice and Verilog-A exports evaluate the very functions this module does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sactk.analysis.exportfmt import num

K_EV = 8.617333262e-5
"""Boltzmann constant, eV/K (CODATA 2018)."""
T0_K = 300.15
"""Reference temperature of the leakage law (27 C, the cards' tnom)."""
XTI = 3.0
"""Saturation-current temperature exponent (BSIM3v3.3 default, the c180 cards' xti)."""
KELVIN = 273.15


def eg_ev(t_k: np.ndarray | float) -> np.ndarray:
    """Silicon band gap (eV) at t_k (K): BSIM3v3.3's Varshni fit."""
    t = np.asarray(t_k, dtype=float)
    return np.asarray(1.16 - 7.02e-4 * t * t / (t + 1108.0))


def leak_law(temp_c: np.ndarray | float) -> np.ndarray:
    """Junction leakage relative to its value at 27 C (module docstring)."""
    t = np.asarray(temp_c, dtype=float) + KELVIN
    return np.asarray(
        np.exp(XTI * np.log(t / T0_K) + eg_ev(T0_K) / (K_EV * T0_K) - eg_ev(t) / (K_EV * t))
    )


def leak_law_expr(tc: str) -> str:
    """:func:`leak_law` as a SPICE / Verilog-A expression of the temperature ``tc`` (C)."""
    t = f"({tc} + {num(KELVIN)})"
    eg = f"(1.16 - 7.02e-4 * {t} * {t} / ({t} + 1108))"
    e0 = float(eg_ev(T0_K) / (K_EV * T0_K))
    return f"exp({num(XTI)} * ln({t} / {num(T0_K)}) + {num(e0)} - {eg} / ({num(K_EV)} * {t}))"


def temp_coord(temp_c: np.ndarray | float) -> np.ndarray:
    """The temperature axis: -1000 / T (1/kK), increasing with temperature."""
    return np.asarray(-1000.0 / (np.asarray(temp_c, dtype=float) + KELVIN))


def temp_coord_expr(tc: str) -> str:
    return f"(-1000 / ({tc} + {num(KELVIN)}))"


@dataclass(frozen=True)
class SplineAxis:
    """Natural cubic spline interpolation on a sorted grid, as cardinal weights: the spline
    through values y is sum_i w_i(x) y_i. On interval j, with t = (x - g_j) / h_j,

        S(x) = (1 - t) y_j + t y_{j+1} - h_j^2 / 6 t (1 - t) ((2 - t) M_j + (1 + t) M_{j+1})

    where M = ``curv`` @ y are the spline's second derivatives (M = 0 at both ends). With
    every t_j clamped to [0, 1], S(x) = y_0 + sum_j (y_{j+1} - y_j) t_j - sum_j ... holds
    on the whole line and clamps outside it, which is how the exports write it."""

    grid: np.ndarray
    curv: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        g = np.asarray(self.grid, dtype=float)
        n = len(g)
        curv: np.ndarray = np.zeros((n, n))
        if n >= 3:
            h = np.diff(g)
            a = np.zeros((n, n))
            b = np.zeros((n, n))
            a[0, 0] = a[-1, -1] = 1.0
            for i in range(1, n - 1):
                a[i, i - 1 : i + 2] = h[i - 1], 2.0 * (h[i - 1] + h[i]), h[i]
                b[i, i - 1 : i + 2] = 6.0 / h[i - 1], -6.0 / h[i - 1] - 6.0 / h[i], 6.0 / h[i]
            curv = np.asarray(np.linalg.solve(a, b), dtype=float)
        object.__setattr__(self, "grid", g)
        object.__setattr__(self, "curv", curv)

    def ramps(self, x: np.ndarray) -> np.ndarray:
        """t_j(x) clamped to [0, 1]: (len(x), n - 1)."""
        g = self.grid
        return np.clip((np.asarray(x, float)[:, None] - g[:-1]) / np.diff(g), 0.0, 1.0)

    def weights(self, x: np.ndarray | float) -> np.ndarray:
        """Cardinal weights (..., n) at x; they sum to 1."""
        xa = np.asarray(x, dtype=float)
        n = len(self.grid)
        if n == 1:
            return np.ones((*xa.shape, 1))
        t = self.ramps(xa.ravel())  # (m, n-1)
        w = np.zeros((len(t), n))
        w[:, 0] = 1.0
        w[:, 1:] += t
        w[:, :-1] -= t
        if n >= 3:
            h2 = np.diff(self.grid) ** 2 / 6.0
            bump = t * (1.0 - t)
            w -= (h2 * bump * (2.0 - t)) @ self.curv[:-1] + (h2 * bump * (1.0 + t)) @ self.curv[1:]
        return w.reshape(*xa.shape, n)

    def expressions(
        self, x: str, prefix: str, ref: Callable[[str], str]
    ) -> tuple[list[tuple[str, str]], list[str]]:
        """The weights as expressions of ``x``: (definitions (name, expression) in order,
        one weight expression per grid point). ``ref(name)`` is how an expression reads an
        earlier definition (``v(name)`` of a node, a parameter's or variable's name)."""
        g = self.grid
        n = len(g)
        if n == 1:
            return [], ["1"]
        defs: list[tuple[str, str]] = []
        for j in range(n - 1):
            defs.append(
                (f"{prefix}t{j}", f"min(max(({x} - ({num(g[j])})) / {num(g[j + 1] - g[j])}, 0), 1)")
            )
        h2 = np.diff(g) ** 2 / 6.0
        if n >= 3:
            for j in range(n - 1):
                t = ref(f"{prefix}t{j}")
                defs.append((f"{prefix}p{j}", f"{t} * (1 - {t}) * (2 - {t})"))
                defs.append((f"{prefix}q{j}", f"{t} * (1 - {t}) * (1 + {t})"))
        weights = []
        for i in range(n):
            terms: list[tuple[float, str]] = [(1.0, "1")] if i == 0 else []
            if i >= 1:
                terms.append((1.0, ref(f"{prefix}t{i - 1}")))
            if i <= n - 2:
                terms.append((-1.0, ref(f"{prefix}t{i}")))
            if n >= 3:
                for j in range(n - 1):
                    terms.append((-h2[j] * self.curv[j, i], ref(f"{prefix}p{j}")))
                    terms.append((-h2[j] * self.curv[j + 1, i], ref(f"{prefix}q{j}")))
            parts = [f"({num(c)}) * {e}" if e != "1" else f"({num(c)})" for c, e in terms if c]
            weights.append(" + ".join(parts) or "0")
        return defs, weights


TERMS = ("leak",)
"""The physics terms a table may carry beside its spline, in coefficient order."""


@dataclass(frozen=True)
class Conditions:
    """The condition axes of a model: fitted temperatures (C) and log10 biases (A)."""

    temp_c: np.ndarray
    log_bias: np.ndarray
    t_axis: SplineAxis = field(init=False, repr=False)
    b_axis: SplineAxis = field(init=False, repr=False)

    def __post_init__(self) -> None:
        t = np.asarray(self.temp_c, dtype=float)
        b = np.asarray(self.log_bias, dtype=float)
        object.__setattr__(self, "temp_c", t)
        object.__setattr__(self, "log_bias", b)
        object.__setattr__(self, "t_axis", SplineAxis(temp_coord(t)))
        object.__setattr__(self, "b_axis", SplineAxis(b))

    def clamp(self, temp_c: float, log_bias: float) -> tuple[float, float]:
        t = min(max(float(temp_c), float(self.temp_c[0])), float(self.temp_c[-1]))
        b = min(max(float(log_bias), float(self.log_bias[0])), float(self.log_bias[-1]))
        return t, b

    def weights(self, temp_c: float, log_bias: float) -> tuple[np.ndarray, np.ndarray]:
        """(w_t, w_b) at one condition, clamped to the grid."""
        t, b = self.clamp(temp_c, log_bias)
        return self.t_axis.weights(temp_coord(t)), self.b_axis.weights(b)

    # -- physics terms ------------------------------------------------------------------

    def active(self) -> tuple[bool]:
        """Which terms the grid can tell from a smooth trend: leakage needs three
        temperatures (it is flat but for the hottest) and two biases (six planes for the
        regression's five functions)."""
        return (len(self.temp_c) >= 3 and len(self.log_bias) >= 2,)

    def terms_at(self, temp_c: np.ndarray | float, log_bias: np.ndarray | float) -> np.ndarray:
        """The terms' values (..., 1): E = leak_law / bias_a (0 when inactive)."""
        t, b = np.broadcast_arrays(np.asarray(temp_c, float), np.asarray(log_bias, float))
        e = leak_law(t) / 10.0**b if self.active()[0] else np.zeros(t.shape)
        return np.asarray(e)[..., None]

    def terms_grid(self) -> np.ndarray:
        """:meth:`terms_at` on the grid: (T, B, 1)."""
        t, b = np.meshgrid(self.temp_c, self.log_bias, indexing="ij")
        return self.terms_at(t, b)

    def fit_terms(self, table: np.ndarray, leak: np.ndarray | None = None) -> np.ndarray:
        """Coefficients (..., 1, P) of the physics terms in ``table`` (..., T, B, P), fitted
        jointly over every condition by least squares on the basis (1, x_T, log I, x_T log I,
        E); zeros when inactive. ``leak`` (..., P) gives the leakage coefficient instead (a
        chip shares its nominal circuit's)."""
        lead = table.shape[:-3]
        nt, nb, npar = table.shape[-3:]
        coef = np.zeros((*lead, len(TERMS), npar))
        if leak is not None:
            coef[..., 0, :] = np.broadcast_to(leak, (*lead, npar))
            return coef
        if not self.active()[0]:
            return coef
        x, v = np.meshgrid(self.t_axis.grid, self.log_bias, indexing="ij")
        e = self.terms_grid()[..., 0]
        scale = float(np.abs(e).max()) or 1.0  # the solve sees O(1) columns
        basis = np.stack([np.ones_like(x), x, v, x * v, e / scale], axis=-1)
        basis = basis.reshape(nt * nb, 5)
        ys = np.moveaxis(table.reshape(*lead, nt * nb, npar), -2, 0).reshape(nt * nb, -1)
        got = np.linalg.lstsq(basis, ys, rcond=None)[0][4]
        coef[..., 0, :] = got.reshape(*lead, npar) / scale
        return coef

    def excess(self, temp_c: float, log_bias: float) -> np.ndarray:
        """(terms,): each term at the (clamped) condition minus the spline of its grid values
        there: what a coefficient adds to the interpolated table (0 on the grid)."""
        t, b = self.clamp(temp_c, log_bias)
        wt, wb = self.weights(t, b)
        return np.asarray(self.terms_at(t, b) - np.einsum("t,b,tbm->m", wt, wb, self.terms_grid()))

    def at(
        self, table: np.ndarray, temp_c: float, log_bias: float, coef: np.ndarray | None = None
    ) -> np.ndarray:
        """``table`` (..., T, B, P) at one condition (clamped): (..., P), with the physics
        terms' coefficients ``coef`` (..., terms, P)."""
        wt, wb = self.weights(temp_c, log_bias)
        out = np.einsum("t,b,...tbp->...p", wt, wb, table)
        if coef is not None:
            out = out + np.einsum("m,...mp->...p", self.excess(temp_c, log_bias), coef)
        return np.asarray(out)

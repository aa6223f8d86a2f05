"""The MP equation with per-branch gains and offsets: its solver and its least-squares fit.

A unit of an MP circuit with K terms t_k (currents in units of the bias gamma) is modelled by

    sum_k max(0, t_k + d_k - a_k s) = g    (KCL at the common gate node)
    z = max(0, s + b c(s)^2),   c(s) = min(max(s, s_lo), s_hi)

* ``a_k`` is the gain of sink k relative to the output replica. A threshold shift dVt of a
  sink scales its current by exp(-dVt / (n U_T)) in weak inversion (Pelgrom mismatch as a
  gain: Pelgrom et al., IEEE JSSC 24(5), 1989; EKV, Enz and Vittoz, 2006), so a_k carries
  a chip's mismatch per branch.
* ``d_k`` is branch k's offset current. In strong inversion the same dVt moves the sink's
  current by -g_m dVt with g_m = sqrt(2 beta I) (square law), which at the unit's operating
  point is an offset more than a gain: with a_k alone, a chip's per-unit error at 10 uA
  was 10-20x its nominal circuit's; with d_k it is at the nominal level (docs/lookup.md).
  Ideal d_k = 0; a faint pull toward 0 (D_PRIOR) fixes the d_k of branches that the data
  never turn on, and the shift of all d_k against g that a fixed active set cannot see.
* ``g`` is the bias gamma as the rectifiers deliver it (normalized: 1 when ideal).
* ``b`` bends the output toward strong inversion, where the replica's gain depends on its
  current; ``c(s)`` holds that bend at its fitted range so the model stays monotone outside.

Ideal MP is a_k = 1, d_k = 0, g = 1, b = 0. One redundancy (scaling s against every a_k) is removed
by z = s: the replica's own gain is folded into the a_k.

``solve`` is reverse water-filling with weights (Michelot's active-set iteration; every step
is a lower bound on s, so it converges from below in at most K + 1 rounds). ``fit_plane``
is Levenberg-Marquardt on one operating point's vectors with the analytic Jacobian: with
the active set A fixed, s = (sum_A t - g) / sum_A a, so ds/dg = -1 / sum_A a and ds/da_k =
-s / sum_A a and ds/dd_k = 1 / sum_A a for k in A.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sactk.circuits.mp import water_level
from sactk.errors import SpecError

if TYPE_CHECKING:
    from sactk.circuits.base import Cell


@dataclass(frozen=True)
class Layout:
    """Where each unit's parameters sit in a cell's parameter vector, and its terms."""

    mix: tuple[np.ndarray, ...]
    """Per unit: (inputs, K) matrix from the cell's normalized inputs to its terms."""
    offset: tuple[float | np.ndarray, ...]
    """Per unit: the common-mode current of its terms, one for all or one per term (K_u,)."""
    sign: tuple[float, ...]

    @property
    def sizes(self) -> list[int]:
        return [m.shape[1] for m in self.mix]

    @property
    def n_params(self) -> int:
        return sum(2 * k + 2 for k in self.sizes)

    def slices(self) -> list[tuple[slice, slice, int, int]]:
        """Per unit: (slice of its a_k, slice of its d_k, index of g, index of b) in the
        parameter vector."""
        out, start = [], 0
        for k in self.sizes:
            out.append(
                (slice(start, start + k), slice(start + k, start + 2 * k), start + 2 * k,
                 start + 2 * k + 1)
            )  # fmt: skip
            start += 2 * k + 2
        return out

    def ideal_params(self) -> np.ndarray:
        return np.concatenate([np.r_[np.ones(k), np.zeros(k), 1.0, 0.0] for k in self.sizes])

    def upgrade(self, p: np.ndarray) -> np.ndarray:
        """Parameters saved before the offsets d_k existed (a_k, g, b per unit): d_k = 0."""
        if p.shape[-1] == self.n_params:
            return p
        parts, start = [], 0
        for k in self.sizes:
            sl = p[..., start : start + k + 2]
            parts += [sl[..., :k], np.zeros((*p.shape[:-1], k)), sl[..., k:]]
            start += k + 2
        if start != p.shape[-1]:
            return p  # neither layout: the caller's shape check refuses it
        return np.concatenate(parts, axis=-1)

    def terms(self, x: np.ndarray) -> list[np.ndarray]:
        """(M, K_u) terms of every unit from (M, inputs) normalized inputs."""
        return [x @ m + o for m, o in zip(self.mix, self.offset, strict=True)]


def solve(t: np.ndarray, a: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """s solving sum_k max(0, t_k - a_k s) = g for rows of t (M, K), gains a (M, K) or (K,),
    g (M,) or scalar; returns s (M,) and the active set (M, K). The solver is the cells'
    own water-filling (:func:`sactk.circuits.mp.water_level`), on the transposed arrays."""
    ab = a if a.shape == t.shape else np.broadcast_to(a, t.shape)
    s, act = water_level(t.T, g, ab.T)
    return s, act.T


D_PRIOR = 1e-6
"""Weight of the pull of every offset d_k toward 0, per fitted point (normalized units): at
d_k = 0.01 it costs what a misfit of 1e-5 gamma on every point costs."""


def bend(s: np.ndarray, lo: float, hi: float) -> np.ndarray:
    c = np.clip(s, lo, hi)
    return c * c


def unit_out(s: np.ndarray, b: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.maximum(0.0, s + b * bend(s, lo, hi))


def model(layout: Layout, x: np.ndarray, p: np.ndarray, s_range: tuple[float, float]) -> np.ndarray:
    """Normalized cell output for normalized inputs x (M, inputs) and parameters p, either
    one vector (P,) or one per row (M, P)."""
    zs = unit_outputs(layout, layout.terms(x), p, s_range)
    return np.sum([sign * z for sign, z in zip(layout.sign, zs, strict=True)], axis=0)


def unit_outputs(
    layout: Layout,
    terms: list[np.ndarray],
    p: np.ndarray,
    s_range: tuple[float, float],
    g_scale: list[np.ndarray] | None = None,
) -> list[np.ndarray]:
    """Every unit's output z (M,) for its terms (M, K_u) given directly, normalized; the
    unit's bias is its fitted g times ``g_scale[u]`` (a bias current that reaches the unit
    through a mismatched mirror, circuits/layer.py)."""
    m = len(terms[0])
    p2 = np.broadcast_to(p, (m, layout.n_params)) if p.ndim == 1 else p
    out = []
    for u, (t, (sa, sd, ig, ib)) in enumerate(zip(terms, layout.slices(), strict=True)):
        g = p2[:, ig] if g_scale is None else p2[:, ig] * g_scale[u]
        s, _ = solve(t + p2[:, sd], p2[:, sa], g)
        out.append(unit_out(s, p2[:, ib], *s_range))
    return out


def _model_jac(
    layout: Layout, terms: list[np.ndarray], p: np.ndarray, s_range: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = s_range
    out = np.zeros(len(terms[0]))
    jac = np.zeros((len(out), len(p)))
    for t, (sa, sd, ig, ib), sign in zip(terms, layout.slices(), layout.sign, strict=True):
        a, g, b = p[sa], p[ig], p[ib]
        s, act = solve(t + p[sd], a, g)
        den = (act * a).sum(axis=1)
        z = s + b * bend(s, lo, hi)
        on = z > 0
        inside = (s > lo) & (s < hi)
        dz_ds = (1.0 + 2.0 * b * s * inside) * on
        jac[:, sa] = sign * (-(act * s[:, None]) / den[:, None]) * dz_ds[:, None]
        jac[:, sd] = sign * (act / den[:, None]) * dz_ds[:, None]
        jac[:, ig] = sign * (-1.0 / den) * dz_ds
        jac[:, ib] = sign * bend(s, lo, hi) * on
        out += sign * np.maximum(z, 0.0)
    return out, jac


def fit_plane(
    layout: Layout,
    x: np.ndarray,
    y: np.ndarray,
    s_range: tuple[float, float],
    start: np.ndarray | None = None,
    iterations: int = 200,
) -> np.ndarray:
    """Least-squares parameters of one operating point: normalized inputs x (M, inputs),
    normalized outputs y (M,). Gains stay above 0.05 (a step that leaves them is refused)."""
    p = layout.ideal_params() if start is None else start.copy()
    gains = np.concatenate([np.arange(P.start, P.stop) for P, _, _, _ in layout.slices()])
    offs = np.concatenate([np.arange(D.start, D.stop) for _, D, _, _ in layout.slices()])
    prior = np.zeros(len(p))
    prior[offs] = D_PRIOR * len(y)  # cost + prior * d^2: d_k = 0 unless the data move it
    terms = layout.terms(x)
    f, jac = _model_jac(layout, terms, p, s_range)
    cost = float(((y - f) ** 2).sum() + (prior * p * p).sum())
    lam = 1e-3
    eye = np.eye(len(p))
    for _ in range(iterations):
        ata = jac.T @ jac + np.diag(prior)
        grad = jac.T @ (y - f) - prior * p
        step = np.linalg.solve(ata + lam * np.diag(np.diag(ata)) + 1e-12 * eye, grad)
        q = p + step
        if np.all(q[gains] > 0.05):
            f2, jac2 = _model_jac(layout, terms, q, s_range)
            cost2 = float(((y - f2) ** 2).sum() + (prior * q * q).sum())
        else:
            cost2 = np.inf
        if cost2 < cost:
            done = cost - cost2 <= 1e-12 * cost or float(np.abs(step).max()) < 1e-10
            p, f, jac, cost = q, f2, jac2, cost2
            lam = max(lam / 3.0, 1e-9)
            if done:
                break
        else:
            lam *= 10.0
            if lam > 1e8:
                break
    return p


def fit_units(
    layout: Layout,
    x: np.ndarray,
    y: np.ndarray,
    branches: list[np.ndarray] | None,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`fit_plane` of the whole cell on its output y, or, with ``branches`` (each
    unit's own output current, normalized), of every unit alone on its branch: the units'
    parameters are disjoint, and a branch pins the unit's common mode that the difference
    of two units leaves free."""
    if branches is None:
        return fit_plane(layout, x, y, (0.0, np.inf), start)
    parts = []
    for u, (sl, _, _, ib) in enumerate(layout.slices()):
        one = Layout((layout.mix[u],), (layout.offset[u],), (1.0,))
        s0 = None if start is None else start[sl.start : ib + 1]
        parts.append(fit_plane(one, x, branches[u], (0.0, np.inf), s0))
    return np.concatenate(parts)


def layout_of(cell: Cell, inputs: list[str], table: dict[str, Any] | None) -> Layout:
    """The unit layout of ``cell`` for a results table with input columns ``inputs``; the
    cell's parameters come from the ``[cell]`` table the results were swept with (the
    manifest's spec), validated by the cell itself. Without one, the cell's defaults must
    match the inputs: a count of columns does not say which parameters made them."""
    units = getattr(cell, "units", None)
    if units is None:
        raise SpecError(f"fit: cell {cell.name!r} has no MP units; fit it with --kind lookup")
    u = units(cell.params({k: v for k, v in (table or {}).items() if k != "name"}))
    if u.mix[0].shape[0] != len(inputs):
        raise SpecError(
            f"fit: the {cell.name} cell's parameters "
            f"({'its defaults' if table is None else 'the [cell] table'}) give "
            f"{u.mix[0].shape[0]} inputs, the results have {len(inputs)}; fit from the "
            "results folder (its manifest has the [cell] table) or pass cell_table="
        )
    return Layout(tuple(u.mix), tuple(u.offset), tuple(u.sign))

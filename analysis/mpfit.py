"""The MP equation with per-branch gains and offsets: its solver and its least-squares fit.

A unit of an MP circuit with K terms t_k (currents in units of the bias gamma) is modelled by

    sum_k max(0, t_k + d_k - a_k s - c_k q(s)) = g    (KCL at the common gate node)
    z = max(0, s + b h(s)^2),   h(s) = min(max(s, s_lo), s_hi)
    q(s) = sqrt(s + s0) - sqrt(s0)                     (s0 = circuits.mp.SQRT_FLOOR)

* ``a_k`` is the gain of sink k relative to the output replica. A threshold shift dVt of a
  sink scales its current by exp(-dVt / (n U_T)) in weak inversion (Pelgrom mismatch as a
  gain: Pelgrom et al., IEEE JSSC 24(5), 1989; EKV, Enz and Vittoz, 2006), so a_k carries
  a chip's mismatch per branch.
* ``c_k`` is the square-law part of the same mismatch. In strong inversion a sink with a
  threshold shift dVt carries beta/2 (V_ov - dVt)^2 = I - 2 sqrt(beta I / 2) dVt + ...
  (square law, e.g. Sedra and Smith ch. 5), so its current departs from the replica's by a
  term in sqrt(I), not by a constant: with gains and constant offsets alone a chip's
  held-out error at 10 uA was 0.55 % of full scale, with c_k 0.10 % (docs/lookup.md). q(s)
  is sqrt(s) with a finite slope at 0 (s0 is 1 % of the bias), so every sink stays
  monotone and each round of the solver stays closed-form.
* ``d_k`` is branch k's constant offset current: a leakage current into the branch (junction
  leakage at 125 C and 10 nA is 0.4 % of the bias per branch) or an input mirror's offset.
  Ideal c_k = d_k = 0; a faint pull toward 0 (D_PRIOR) fixes those of branches that the data
  never turn on, and the shift of all d_k against g that a fixed active set cannot see.
* ``g`` is the bias gamma as the rectifiers deliver it (normalized: 1 when ideal).
* ``b`` bends the output toward strong inversion, where the replica's gain depends on its
  current; ``c(s)`` holds that bend at its fitted range so the model stays monotone outside.

Ideal MP is a_k = 1, c_k = d_k = 0, g = 1, b = 0. One redundancy (scaling s against every
a_k) is removed by z = s: the replica's own gain is folded into the a_k.

``solve`` is reverse water-filling with weights (Michelot's active-set iteration; every step
is a lower bound on s, so it converges from below in at most K + 1 rounds). ``fit_plane``
is Levenberg-Marquardt on one operating point's vectors with the analytic Jacobian: with
the active set A fixed and D = sum_A (a_k + c_k q'(s)), ds/dg = -1 / D, ds/da_k = -s / D,
ds/dc_k = -q(s) / D and ds/dd_k = 1 / D for k in A.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from sactk.circuits.mp import SQRT_FLOOR, sqrt_term, water_level
from sactk.errors import SpecError

if TYPE_CHECKING:
    from sactk.circuits.base import Cell


class UnitParams(NamedTuple):
    """Where one unit's parameters sit in a cell's parameter vector: its a_k, d_k and c_k
    (slices) and the indices of g and b."""

    a: slice
    d: slice
    c: slice
    g: int
    b: int


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
        return sum(3 * k + 2 for k in self.sizes)

    def slices(self) -> list[UnitParams]:
        """Per unit: where its a_k, d_k, c_k, g and b sit in the parameter vector."""
        out, start = [], 0
        for k in self.sizes:
            out.append(
                UnitParams(
                    slice(start, start + k),
                    slice(start + k, start + 2 * k),
                    slice(start + 2 * k, start + 3 * k),
                    start + 3 * k,
                    start + 3 * k + 1,
                )
            )
            start += 3 * k + 2
        return out

    def ideal_params(self) -> np.ndarray:
        return np.concatenate([np.r_[np.ones(k), np.zeros(2 * k), 1.0, 0.0] for k in self.sizes])

    def upgrade(self, p: np.ndarray) -> np.ndarray:
        """Parameters saved before the square-law terms c_k (a_k, d_k, g, b per unit) or
        before the offsets d_k too (a_k, g, b): the missing ones are 0."""
        if p.shape[-1] == self.n_params:
            return p
        for old in (2, 1):  # per unit: a_k and d_k, or a_k alone, then g and b
            if p.shape[-1] != sum(old * k + 2 for k in self.sizes):
                continue
            parts, start = [], 0
            for k in self.sizes:
                sl = p[..., start : start + old * k + 2]
                zeros = np.zeros((*p.shape[:-1], (3 - old) * k))
                parts += [sl[..., : old * k], zeros, sl[..., old * k :]]
                start += old * k + 2
            return np.concatenate(parts, axis=-1)
        return p  # neither layout: the caller's shape check refuses it

    def terms(self, x: np.ndarray) -> list[np.ndarray]:
        """(M, K_u) terms of every unit from (M, inputs) normalized inputs."""
        return [x @ m + o for m, o in zip(self.mix, self.offset, strict=True)]


def solve(
    t: np.ndarray, a: np.ndarray, g: np.ndarray, c: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """s solving sum_k max(0, t_k - a_k s - c_k q(s)) = g for rows of t (M, K), gains a
    (M, K) or (K,), square-law terms c like a (None: 0), g (M,) or scalar; returns s (M,)
    and the active set (M, K). The solver is the cells' own water-filling
    (:func:`sactk.circuits.mp.water_level`), on the transposed arrays."""
    ab = a if a.shape == t.shape else np.broadcast_to(a, t.shape)
    cb = None if c is None else (c if c.shape == t.shape else np.broadcast_to(c, t.shape))
    s, act = water_level(t.T, g, ab.T, None if cb is None else cb.T)
    return s, act.T


C_PRIOR = 1e-8
"""Default weight of the pull of every square-law term c_k toward 0: only what the data leave
free (a branch never on); a pull as strong as D_PRIOR's trades c_k against d_k and a_k (it
cost 1e-4 of the bias on synthetic data the model fits exactly). Cells whose vectors pin c_k
less (the tanh cell's 2-term units along one swept input) generalize better with a firm
pull: ``sactk fit`` picks between :data:`C_PRIORS` by the held-out-vector error."""

C_PRIORS = (1e-8, 1e-4)
"""The square-law pulls ``sactk fit`` tries (analysis/validation.py): 1e-8 took the MP cell's
chips at 10 uA to the nominal circuit's error on new vectors; 1e-4 kept the tanh cell's MP
units at the error they had without c_k (docs/lookup.md)."""

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
    for u, (t, sl) in enumerate(zip(terms, layout.slices(), strict=True)):
        g = p2[:, sl.g] if g_scale is None else p2[:, sl.g] * g_scale[u]
        s, _ = solve(t + p2[:, sl.d], p2[:, sl.a], g, p2[:, sl.c])
        out.append(unit_out(s, p2[:, sl.b], *s_range))
    return out


def unit_outputs_indexed(
    layout: Layout,
    terms: list[np.ndarray],
    theta: np.ndarray,
    idx: np.ndarray,
    s_range: tuple[float, float],
    g_scale: list[np.ndarray] | None = None,
) -> list[np.ndarray]:
    """:func:`unit_outputs` with row j's parameters ``theta[idx[j]]`` (a model's chip
    planes and each row's chip). From ``mp.COMPILED_FROM`` rows on, with numba installed,
    the compiled kernel (circuits/mp_compiled.py) solves it without gathering an (M, P)
    parameter row per row: the same numbers bit for bit."""
    from sactk.circuits.mp import COMPILED_FROM, compiled_available

    if len(terms[0]) >= COMPILED_FROM and compiled_available():
        from sactk.circuits.mp_compiled import unit_rows

        return unit_rows(layout, terms, theta, idx, s_range, g_scale)
    return unit_outputs(layout, terms, theta[idx], s_range, g_scale)


def model_indexed(
    layout: Layout, x: np.ndarray, theta: np.ndarray, idx: np.ndarray, s_range: tuple[float, float]
) -> np.ndarray:
    """:func:`model` with row j's parameters ``theta[idx[j]]``, through
    :func:`unit_outputs_indexed` (the same numbers as :func:`model` on ``theta[idx]``)."""
    zs = unit_outputs_indexed(layout, layout.terms(x), theta, idx, s_range)
    return np.sum([sign * z for sign, z in zip(layout.sign, zs, strict=True)], axis=0)


def _model_jac(
    layout: Layout, terms: list[np.ndarray], p: np.ndarray, s_range: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Model outputs (C, M) and their Jacobian (C, M, P) for a batch of C parameter vectors
    p (C, P), each on its own terms (``terms[u]``: (C, M, K_u))."""
    lo, hi = s_range
    nc, m = terms[0].shape[:2]
    out = np.zeros(nc * m)
    jac = np.zeros((nc * m, p.shape[1]))
    rows = np.repeat(p, m, axis=0)  # (C * M, P): every row its chip's parameters
    for t, sl, sign in zip(terms, layout.slices(), layout.sign, strict=True):
        a, c, g, b = rows[:, sl.a], rows[:, sl.c], rows[:, sl.g], rows[:, sl.b]
        s, act = solve(t.reshape(nc * m, -1) + rows[:, sl.d], a, g, c)
        q = sqrt_term(s)
        dq = np.where(s > 0, 0.5 / np.sqrt(np.maximum(s, 0.0) + SQRT_FLOOR), 0.0)
        den = (act * (a + c * dq[:, None])).sum(axis=1)
        z = s + b * bend(s, lo, hi)
        on = z > 0
        inside = (s > lo) & (s < hi)
        dz_ds = (1.0 + 2.0 * b * s * inside) * on
        base = sign * (act / den[:, None]) * dz_ds[:, None]
        jac[:, sl.a] = -base * s[:, None]
        jac[:, sl.c] = -base * q[:, None]
        jac[:, sl.d] = base
        jac[:, sl.g] = sign * (-1.0 / den) * dz_ds
        jac[:, sl.b] = sign * bend(s, lo, hi) * on
        out += sign * np.maximum(z, 0.0)
    return out.reshape(nc, m), jac.reshape(nc, m, -1)


def fit_plane(
    layout: Layout,
    x: np.ndarray,
    y: np.ndarray,
    s_range: tuple[float, float],
    start: np.ndarray | None = None,
    iterations: int = 200,
    c_prior: float = C_PRIOR,
) -> np.ndarray:
    """Least-squares parameters of one operating point: normalized inputs x (M, inputs),
    normalized outputs y (M,); or of C problems at once (x (C, M, inputs), y (C, M), start
    (C, P)), each its own Levenberg-Marquardt with its own damping, batched so that chips
    cost one pass of array operations instead of C. Every sink keeps a slope above 0.05 at
    s = 0 (a_k - |c_k| / (2 sqrt(s0)) for c_k < 0; a step that leaves it is refused), so
    the solver's sinks stay increasing."""
    one = np.ndim(y) == 1
    xb, yb = (x[None], y[None]) if one else (x, y)
    nc, m = yb.shape
    p0 = layout.ideal_params() if start is None else np.asarray(start, float)
    p = np.array(np.broadcast_to(p0, (nc, layout.n_params)))
    sls = layout.slices()
    gains = np.concatenate([np.arange(u.a.start, u.a.stop) for u in sls])
    sq = np.concatenate([np.arange(u.c.start, u.c.stop) for u in sls])
    offs = np.concatenate([np.arange(u.d.start, u.d.stop) for u in sls])
    prior = np.zeros(layout.n_params)
    prior[offs] = D_PRIOR * m  # cost + prior * d^2: d_k = 0 unless the data move it
    prior[sq] = c_prior * m
    slope0 = 0.5 / np.sqrt(SQRT_FLOOR)
    terms = [t.reshape(nc, m, -1) for t in layout.terms(xb.reshape(nc * m, -1))]

    def cost_of(f: np.ndarray, yy: np.ndarray, q: np.ndarray) -> np.ndarray:
        return np.asarray(((yy - f) ** 2).sum(axis=1) + (prior * q * q).sum(axis=1))

    f, jac = _model_jac(layout, terms, p, s_range)
    cost = cost_of(f, yb, p)
    lam = np.full(nc, 1e-3)
    live = np.ones(nc, dtype=bool)
    eye = np.eye(layout.n_params)
    for _ in range(iterations):
        idx = np.nonzero(live)[0]
        if not len(idx):
            break
        jl = jac[idx]
        ata = np.einsum("cmp,cmq->cpq", jl, jl) + np.diag(prior)
        grad = np.einsum("cmp,cm->cp", jl, yb[idx] - f[idx]) - prior * p[idx]
        diag = np.einsum("cpp->cp", ata)
        lhs = ata + (lam[idx, None] * diag)[:, :, None] * eye + 1e-12 * eye
        step = np.linalg.solve(lhs, grad[..., None])[..., 0]
        q = p[idx] + step
        ok = np.all(q[:, gains] + np.minimum(q[:, sq], 0.0) * slope0 > 0.05, axis=1)
        f2, jac2 = _model_jac(layout, [t[idx] for t in terms], q, s_range)
        cost2 = np.where(ok, cost_of(f2, yb[idx], q), np.inf)
        better = cost2 < cost[idx]
        done = better & (
            (cost[idx] - cost2 <= 1e-12 * cost[idx]) | (np.abs(step).max(axis=1) < 1e-10)
        )
        take = idx[better]
        p[take], f[take], jac[take], cost[take] = q[better], f2[better], jac2[better], cost2[better]
        lam[take] = np.maximum(lam[take] / 3.0, 1e-9)
        worse = idx[~better]
        lam[worse] *= 10.0
        live[idx[done]] = False
        live[worse[lam[worse] > 1e8]] = False
    return p[0] if one else p


def fit_units(
    layout: Layout,
    x: np.ndarray,
    y: np.ndarray,
    branches: list[np.ndarray] | None,
    start: np.ndarray | None = None,
    c_prior: float = C_PRIOR,
) -> np.ndarray:
    """:func:`fit_plane` of the whole cell on its output y, or, with ``branches`` (each
    unit's own output current, normalized), of every unit alone on its branch: the units'
    parameters are disjoint, and a branch pins the unit's common mode that the difference
    of two units leaves free. Batches as :func:`fit_plane` does (the last axis of start is
    the parameters)."""
    if branches is None:
        return fit_plane(layout, x, y, (0.0, np.inf), start, c_prior=c_prior)
    parts = []
    for u, sl in enumerate(layout.slices()):
        one = Layout((layout.mix[u],), (layout.offset[u],), (1.0,))
        s0 = None if start is None else start[..., sl.a.start : sl.b + 1]
        parts.append(fit_plane(one, x, branches[u], (0.0, np.inf), s0, c_prior=c_prior))
    return np.concatenate(parts, axis=-1)


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

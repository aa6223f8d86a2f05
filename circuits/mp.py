"""The current-mode margin-propagation (MP) cell.

MP computes the z that solves  sum_i max(x_i - z, 0) = gamma  (reverse water-filling): the
piecewise-linear approximation of log-sum-exp at the heart of shape-based analog computing
(Chakrabartty and Cauwenberghs, "Sub-microwatt analog VLSI trainable pattern classifier",
IEEE JSSC 2007; Gu and Chakrabartty, IEEE TCAS-I 2012).

Circuit (docs/cells.md has the drawing). Every input current I_k flows into node a_k, which a
cascoded NMOS sink gated by the common node g drains. If I_k exceeds the sink current z, the
excess leaves a_k through a diode-connected PMOS rectifier into g; if not, a_k collapses and
the rectifier is off. Node g is drained by the bias current gamma, so KCL at g is the MP
equation: V_g settles where the sinks' current z makes the rectified excess equal gamma. A
replica sink (same gate, same cascode) copies z to the output, held at ``v_out_v``. Cascodes
hold every sink's drain at the same voltage, so the replica matches the sinks from weak to
strong inversion. The cascode gate comes from a diode carrying a copy of gamma, so it tracks
the bias (primitives.cascode_bias).

Valid region: currents cannot be negative, so the cell computes MP only where z >= 0, i.e.
sum_i I_i >= gamma. Below that the sinks turn off and the output falls to leakage (about 0);
the cell then computes max(MP(I; gamma), 0).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sactk.circuits.base import (
    Bench,
    CascScale,
    Inputs,
    OutV,
    Probe,
    SizeUm,
    check_positive,
    module_cell,
    random_and_sweep,
)
from sactk.circuits.primitives import (
    cascode_bias,
    cascoded_sink,
    matched_sizes,
    off_clamp,
    rectifier_w_um,
)
from sactk.circuits.topology import Part, SourceRole
from sactk.errors import SpecError
from sactk.netlists.render import CurrentSource, Element, Mosfet, Netlist, VoltageSource
from sactk.netlists.technology import Technology

NAME = "mp"
TITLE = "MP cell"
OUTPUT = "out_z_a"
IDEAL = "ideal_z"
MAX_INPUTS = 64


@dataclass(frozen=True)
class Params:
    """Parameters of an N-input MP cell. ``None`` sizes come from the technology."""

    n_inputs: Inputs = 4
    """Number of input currents N (2..64)."""
    w_um: SizeUm = None
    """Width of sinks, cascodes and replica, um (default: primitives.analog_w_um); the
    rectifiers' too, unless the technology draws them narrower (primitives.rectifier_w_um)."""
    l_um: SizeUm = None
    """Length of those devices, um (default: primitives.analog_l_um)."""
    v_out_v: OutV = None
    """Voltage at which the output current is read, V (default: half the supply)."""
    casc_scale: CascScale = 4.0
    """Cascode W and L relative to the sinks'. 4 cut the worst error at 27 C from 0.19 % to
    0.04 % of the largest input on c180 (docs/cells.md); 1 is the smallest layout."""

    def __post_init__(self) -> None:
        if not isinstance(self.n_inputs, int) or not 2 <= self.n_inputs <= MAX_INPUTS:
            raise SpecError(f"cell.n_inputs: must be an integer from 2 to {MAX_INPUTS}")
        check_positive(self, ("w_um", "l_um", "v_out_v", "casc_scale"))


def input_columns(params: Params) -> list[str]:
    return [f"in_i{k}_a" for k in range(params.n_inputs)]


def sizes(params: Params, tech: Technology) -> tuple[float, float]:
    """(W, L) in um of the matched devices: the parameters, or the technology's defaults."""
    return matched_sizes(params.w_um, params.l_um, tech)


def mp_unit(
    prefix: str,
    inputs: list[str],
    out: str,
    bias_a: float,
    w_um: float,
    l_um: float,
    casc_scale: float,
    tech: Technology,
    vc: str = "vc",
    feeds: Sequence[Element] = (),
    after_clamp: Sequence[Element] = (),
) -> list[Element]:
    """The MP core with its inputs at nodes ``inputs`` and its output sink drawing z from
    ``out``. Internal nodes and elements carry ``prefix``, so several units share a netlist
    and the cascode gate node ``vc`` (the caller adds its primitives.cascode_bias).

    ``feeds[k]`` is placed before input k's devices and ``after_clamp`` after the clamp: the
    element order the MP cell has always had, which fixes which Monte Carlo draw (taken in
    transistor order) lands on which transistor, so chip k stays the same chip."""
    g = f"{prefix}g"
    els: list[Element] = []
    for k, a in enumerate(inputs):
        if k < len(feeds):
            els.append(feeds[k])
        els.extend(cascoded_sink(f"{prefix}m{k}", a, g, vc, w_um, l_um, casc_scale))
        # Rectifier: diode-connected PMOS from a_k into g; its n-well sits at VDD (a well
        # tied to a_k would forward-bias against g when a_k collapses).
        els.append(Mosfet(f"{prefix}r{k}", g, g, a, "vdd", "p", rectifier_w_um(w_um, tech), l_um))
    els.append(CurrentSource(gamma_source(prefix), g, "0", bias_a))
    els.extend(off_clamp(f"{prefix}clamp", g, tech, l_um))
    els.extend(after_clamp)
    els.extend(cascoded_sink(f"{prefix}mo", out, g, vc, w_um, l_um, casc_scale))
    return els


def gamma_source(prefix: str) -> str:
    """The element name of the gamma sink of the MP unit ``prefix`` (:func:`mp_unit`)."""
    return f"{prefix}gam"


def unit_roles(unit: int, prefix: str, terms: Sequence[str]) -> dict[str, SourceRole]:
    """Bench roles of one MP unit: its term sources ``terms`` (in order) and its gamma."""
    roles = {name: SourceRole(Part.TERM, unit, k) for k, name in enumerate(terms)}
    roles[gamma_source(prefix)] = SourceRole(Part.GAMMA, unit)
    return roles


def build(
    params: Params,
    tech: Technology,
    *,
    bias_a: float = 1e-6,
    corner: str = "tt",
    temp_c: float = 27.0,
) -> Bench:
    """The MP cell in its test bench on ``tech``: N input sources (all at ``bias_a`` until
    the backend alters them), the output held at ``v_out_v``."""
    n = params.n_inputs
    w_um, l_um = sizes(params, tech)
    v_out = params.v_out_v if params.v_out_v is not None else tech.vdd_v / 2.0

    els: list[Element] = [VoltageSource("dd", "vdd", "0", tech.vdd_v)]
    els.extend(
        mp_unit(
            "",
            [f"a{k}" for k in range(n)],
            "out",
            bias_a,
            w_um,
            l_um,
            params.casc_scale,
            tech,
            feeds=[CurrentSource(f"in{k}", "vdd", f"a{k}", bias_a) for k in range(n)],
            after_clamp=cascode_bias("cb", "vc", "vdd", bias_a, w_um, l_um, tech),
        )
    )
    els.append(VoltageSource("out", "out", "0", v_out))

    netlist = Netlist(
        title=f"sactk mp cell, {n} inputs",
        tech=tech,
        corner=corner,
        temp_c=temp_c,
        elements=tuple(els),
    )
    return Bench(
        netlist=netlist,
        inputs=tuple(input_columns(params)),
        sources=tuple(f"iin{k}" for k in range(n)),
        # Current enters the circuit from vout's + terminal, so the branch current is -z.
        probes=(Probe.current("out_z_a", "vout", -1.0), Probe.voltage("out_vg_v", "g")),
    )


@dataclass(frozen=True)
class Units:
    """How a cell's inputs feed its MP units, for behavioural models (analysis/mpmodel.py).

    Unit u sees the terms ``x @ mix[u] + offset[u]`` (x: the cell's inputs in gamma, in
    ``input_columns`` order; offset: a common-mode current in gamma) and sinks z_u; the
    cell's output is ``sum_u sign[u] * z_u``."""

    mix: tuple[np.ndarray, ...]
    offset: tuple[float | np.ndarray, ...]
    """Per unit: one common mode for all its terms, or one per term."""
    sign: tuple[float, ...]


def units(params: Params) -> Units:
    """One unit whose terms are the inputs."""
    return Units((np.eye(params.n_inputs),), (0.0,), (1.0,))


def vectors(params: Params, inputs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Random vectors whose ideal output is at least ``min_ideal_ratio`` gamma (where the
    cell is meant to work), then the swept-input curve."""
    return random_and_sweep(
        params.n_inputs, inputs, lambda x: ideal(x, 1.0) >= inputs.random.min_ideal_ratio
    )


def reference(params: Params, norm: np.ndarray, inputs: Any) -> dict[str, np.ndarray]:
    """ideal_z, and full scale = the largest input of each vector (the cell's error is
    quoted in % of it); in domain where the ideal output is >= min_ideal_ratio gamma."""
    z = ideal(norm, 1.0) if len(norm) else np.zeros(0)
    fs = norm.max(axis=1) if len(norm) else np.zeros(0)
    return {"ideal_z": z, "fs": fs, "domain_ok": z >= inputs.random.min_ideal_ratio}


def ideal(x: np.ndarray, gamma: np.ndarray | float) -> np.ndarray:
    """Margin propagation: x (..., n) inputs, gamma (...) or scalar > 0 -> (...) the z
    solving sum_i max(x_i - z, 0) = gamma.

    Solved by reverse water-filling with an active set (Michelot's algorithm for the
    projection onto a simplex, Math. Programming 1986): start with every input active, set
    z = (sum of active - gamma) / count, drop the inputs not above z, repeat until the set
    stops changing (at most n rounds, usually two or three). It gives the same z as sorting
    (tests/test_ideal.py checks it against brentq) at a fraction of the cost for large
    batches. The result may be negative (when sum(x) < gamma); the circuit cannot follow it
    there.
    """
    x = np.asarray(x, dtype=float)
    return ideal_first_axis(np.ascontiguousarray(np.moveaxis(x, -1, 0)), gamma)


def ideal_first_axis(xt: np.ndarray, gamma: np.ndarray | float) -> np.ndarray:
    """:func:`ideal` with the inputs on the first axis, (n, ...): every reduction then adds
    n contiguous arrays, which NumPy does at memory speed (reducing a short last axis is
    several times slower)."""
    n = xt.shape[0]
    rest = xt.shape[1:]
    g = np.broadcast_to(np.asarray(gamma, dtype=float), rest).reshape(-1)
    s, _ = water_level(xt.reshape(n, -1), g)
    return s.reshape(rest)


WATER_CHUNK = 8192
"""Problems per chunk of :func:`water_level`: the working set stays in cache."""


COMPILED_FROM = 256
"""Batches of at least this many problems go to the numba kernels (circuits/mp_compiled.py,
the same numbers bit for bit) when numba is installed: a runner's batch of 100 samples of a
layer is already thousands of unit problems. Smaller ones, such as an export's check, stay
in NumPy and never start the compiler (numba's import is about 0.5 s)."""


@functools.cache
def compiled_available() -> bool:
    """Whether numba is installed; looked up once (a lookup costs about 0.1 ms, and the
    runners ask on every solve)."""
    import importlib.util

    return importlib.util.find_spec("numba") is not None


SQRT_FLOOR = 1e-2
"""s0 of the square-law term q(s) = sqrt(s + s0) - sqrt(s0) of a fitted MP unit (normalized
to the bias): q follows sqrt(s) above a percent of the bias and keeps a finite slope at 0,
so every sink stays monotone for |c_k| < a_k / (2 sqrt(s0)) = 5 a_k."""


def sqrt_term(s: np.ndarray) -> np.ndarray:
    """q(s) = sqrt(max(s, 0) + s0) - sqrt(s0): the strong-inversion term of a sink (0 below 0)."""
    return np.sqrt(np.maximum(s, 0.0) + SQRT_FLOOR) - np.sqrt(SQRT_FLOOR)


def water_level(
    t: np.ndarray,
    g: np.ndarray | float,
    a: np.ndarray | None = None,
    c: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Reverse water-filling, the one solver of sactk: t (K, M) terms of M problems (terms
    on the first axis), g (M,) or scalar, gains a (K, M), (K, 1) or None (all 1), square-law
    terms c like a or None -> the level s (M,) solving
    sum_k max(0, t_k - a_k s - c_k q(s)) = g (q: :func:`sqrt_term`), and the active set (K, M).

    Michelot's active-set algorithm (Math. Programming 1986), generalized to gains: start
    with every term active, set s = (sum of active t - g) / (sum of active a), drop the
    terms not above a s, repeat until the set stops changing (at most K rounds, usually
    two or three). With a = 1 it is MP's z (:func:`ideal`); with fitted per-branch gains
    it is an MP unit of analysis/mpfit.py. The largest t_k / a_k stays active (s is below
    it), so no sum is ever empty. With c, each round solves the active set's equation
    A s + C q(s) = T in closed form: a quadratic in r = sqrt(s + s0) when T > 0 (then
    s > 0), s = T / A otherwise (q = 0 there); every sink is increasing in s, so each round
    is still a lower bound on the level."""
    k, m = t.shape
    gg = np.broadcast_to(np.asarray(g, dtype=float), (m,))
    ab = None if a is None else np.broadcast_to(a, t.shape)
    cb = None if c is None else np.broadcast_to(c, t.shape)
    if m >= COMPILED_FROM and compiled_available():
        from sactk.circuits import mp_compiled

        return mp_compiled.water_level(t, gg, ab, cb)
    s_out = np.empty(m)
    act_out = np.empty((k, m), dtype=bool)
    for lo in range(0, m, WATER_CHUNK):
        hi = min(m, lo + WATER_CHUNK)
        x = np.ascontiguousarray(t[:, lo:hi])
        ac = None if ab is None else np.ascontiguousarray(ab[:, lo:hi])
        cc = None if cb is None else np.ascontiguousarray(cb[:, lo:hi])
        gc = gg[lo:hi]
        active = np.ones(x.shape, dtype=bool)
        s = _level(x, gc, ac, cc, active)
        for _ in range(k + 1):
            sink = s if ac is None else ac * s
            if cc is not None:
                sink = sink + cc * sqrt_term(s)
            now = x > sink
            if np.array_equal(now, active):
                break
            active = now
            s = _level(x, gc, ac, cc, active)
        s_out[lo:hi] = s
        act_out[:, lo:hi] = active
    return s_out, act_out


def _level(
    x: np.ndarray,
    g: np.ndarray,
    a: np.ndarray | None,
    c: np.ndarray | None,
    active: np.ndarray,
) -> np.ndarray:
    """The level of one active set (see :func:`water_level`)."""
    total = (x * active).sum(axis=0) - g
    if a is None:
        return total / np.count_nonzero(active, axis=0)
    big_a = (a * active).sum(axis=0)
    if c is None:
        return total / big_a
    big_c = (c * active).sum(axis=0)
    r0 = np.sqrt(SQRT_FLOOR)
    # A (r^2 - s0) + C (r - r0) = T  ->  A r^2 + C r - (T + A s0 + C r0) = 0
    disc = big_c * big_c + 4.0 * big_a * (total + big_a * SQRT_FLOOR + big_c * r0)
    r = (-big_c + np.sqrt(np.maximum(disc, 0.0))) / (2.0 * big_a)
    return np.where(total > 0.0, r * r - SQRT_FLOOR, total / big_a)


CELL = module_cell(NAME, globals())
CELLS = (CELL,)

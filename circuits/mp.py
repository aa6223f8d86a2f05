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

from dataclasses import dataclass

import numpy as np
from sactk.circuits.base import Bench, Probe
from sactk.circuits.primitives import (
    analog_l_um,
    analog_w_um,
    cascode_bias,
    cascoded_sink,
    off_clamp,
)
from sactk.netlists.render import CurrentSource, Mosfet, Netlist, VoltageSource
from sactk.netlists.technology import Technology

from sactk.errors import SpecError

NAME = "mp"
MAX_INPUTS = 64


@dataclass(frozen=True)
class Params:
    """Parameters of an N-input MP cell. ``None`` sizes come from the technology."""

    n_inputs: int = 4
    """Number of input currents N (2..64)."""
    w_um: float | None = None
    """Width of sinks, cascodes, replica and rectifiers, um (default: primitives.analog_w_um)."""
    l_um: float | None = None
    """Length of those devices, um (default: primitives.analog_l_um)."""
    v_out_v: float | None = None
    """Voltage at which the output current is read, V (default: half the supply)."""
    casc_scale: float = 4.0
    """Cascode W and L relative to the sinks'. 4 cut the worst error at 27 C from 0.19 % to
    0.04 % of the largest input on c180 (docs/cells.md); 1 is the smallest layout."""

    def __post_init__(self) -> None:
        if not isinstance(self.n_inputs, int) or not 2 <= self.n_inputs <= MAX_INPUTS:
            raise SpecError(f"cell.n_inputs: must be an integer from 2 to {MAX_INPUTS}")
        for f in ("w_um", "l_um", "v_out_v", "casc_scale"):
            v = getattr(self, f)
            if v is not None and not v > 0:
                raise SpecError(f"cell.{f}: must be a positive number")


def input_columns(params: Params) -> list[str]:
    return [f"in_i{k}_a" for k in range(params.n_inputs)]


def output_columns() -> list[str]:
    return ["out_z_a", "out_vg_v"]


def sizes(params: Params, tech: Technology) -> tuple[float, float]:
    """(W, L) in um of the matched devices: the parameters, or the technology's defaults."""
    l_um = params.l_um if params.l_um is not None else analog_l_um(tech)
    w_um = params.w_um if params.w_um is not None else analog_w_um(tech, l_um)
    return w_um, l_um


def build(
    params: Params,
    tech: Technology,
    *,
    bias_a: float = 1e-6,
    inputs_a: np.ndarray | None = None,
    corner: str = "tt",
    temp_c: float = 27.0,
) -> Bench:
    """The MP cell in its test bench on ``tech``.

    ``inputs_a`` (N,) sets the initial input currents (default: all equal to ``bias_a``); the
    backend alters them and the bias sources between points.
    """
    n = params.n_inputs
    if inputs_a is None:
        inputs_a = np.full(n, bias_a)
    if len(inputs_a) != n:
        raise SpecError(f"inputs: expected {n} input currents, got {len(inputs_a)}")
    w_um, l_um = sizes(params, tech)
    v_out = params.v_out_v if params.v_out_v is not None else tech.vdd_v / 2.0

    els: list[Mosfet | CurrentSource | VoltageSource] = [
        VoltageSource("dd", "vdd", "0", tech.vdd_v)
    ]
    for k in range(n):
        els.append(CurrentSource(f"in{k}", "vdd", f"a{k}", float(inputs_a[k])))
        els.extend(cascoded_sink(f"m{k}", f"a{k}", "g", "vc", w_um, l_um, params.casc_scale))
        # Rectifier: diode-connected PMOS from a_k into g; its n-well sits at VDD (a well
        # tied to a_k would forward-bias against g when a_k collapses).
        els.append(Mosfet(f"r{k}", "g", "g", f"a{k}", "vdd", "p", w_um, l_um))
    els.append(CurrentSource("gam", "g", "0", bias_a))
    els.append(off_clamp("clamp", "g", tech, l_um))
    els.extend(cascode_bias("cb", "vc", "vdd", bias_a, w_um, l_um))
    els.extend(cascoded_sink("mo", "out", "g", "vc", w_um, l_um, params.casc_scale))
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
        inputs={f"in_i{k}_a": f"iin{k}" for k in range(n)},
        # Current enters the circuit from vout's + terminal, so the branch current is -z.
        probes=(Probe("out_z_a", "vout#branch", -1.0), Probe("out_vg_v", "v(g)")),
    )


def ideal(x: np.ndarray, gamma: np.ndarray | float) -> np.ndarray:
    """Margin propagation by reverse water-filling.

    x: (..., n) inputs; gamma: (...) or scalar, > 0 -> (...) the z solving
    sum_i max(x_i - z, 0) = gamma. With x sorted descending and c_k the sum of the k largest,
    z = (c_k - gamma) / k for the largest k with x_(k) > (c_k - gamma) / k. The result may be
    negative (when sum(x) < gamma); the circuit cannot follow it there.
    """
    x = np.asarray(x, dtype=float)
    g = np.asarray(gamma, dtype=float)
    xs = -np.sort(-x, axis=-1)
    c = np.cumsum(xs, axis=-1)
    k = np.arange(1, x.shape[-1] + 1, dtype=float)
    zk = (c - g[..., None]) / k
    valid = xs > zk
    n = x.shape[-1]
    last = n - 1 - np.argmax(valid[..., ::-1], axis=-1)
    return np.take_along_axis(zk, last[..., None], axis=-1)[..., 0]

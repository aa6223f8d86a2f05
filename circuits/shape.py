"""Shape-based activation cells: ReLU-, sigmoid- and tanh-like functions from MP units.

Shape-based analog computing (S-AC; Kumar, Nandi, Chakrabartty and Thakur, "Bias-scalable
near-memory CMOS analog processor for machine learning", IEEE JETCAS 2023) builds non-linear
functions by composing margin-propagation units instead of relying on a device law (an
exponential in weak inversion, a square law above it). Every current in the cell is a
multiple of the bias gamma, and MP itself is homogeneous (MP(k x; k gamma) = k MP(x; gamma)),
so the shape in units of gamma is the same from weak to strong inversion and over
temperature: what changes with bias is speed and power, not the function.

Input: a differential current x = x+ - x-, encoded as x+ = c + x/2 and x- = c - x/2 with a
common mode c = ``c_ratio`` gamma, so no current goes negative. Output: a differential pair of
currents; ``out_y_a`` = I(y+) - I(y-). With the two-input MP unit written as

    f(u) = MP([u, 0]; gamma) + gamma = 0 (u <= -gamma), (u + gamma)/2 (|u| < gamma), u (u >= gamma)

(a ReLU whose corner MP rounds off over 2 gamma), and h = ``h_ratio`` gamma:

* ``relu``:    y+ = MP(x+, x-; gamma) = x- + f(x) - gamma;  y- = x- - gamma (a copy of the
  input's negative half less a gamma, as a mirror would give).         y = f(x)
* ``tanh``:    y+ = MP(x+, x- - h; gamma), y- = MP(x-, x+ - h; gamma) (a cross-coupled pair;
  the common mode cancels because MP(a + k, b + k) = MP(a, b) + k).   y = f(x + h) - f(x - h) - h
* ``sigmoid``: the tanh pair with a reference current h added on the y- side. y = tanh + h

so tanh-like runs from -h to h and sigmoid-like from 0 to 2h. Constants (c, h) come from
ideal sources scaled with the bias, as a bias DAC would provide them; input copies come from
ideal sources fed the same value, as a mirror with several outputs would provide them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from pydantic import Field

from sactk.circuits import mp
from sactk.circuits.base import (
    Bench,
    CascScale,
    OutV,
    Ratio,
    SizeUm,
    check_positive,
    differential_probes,
    fixed_full_scale,
    module_cell,
    random_and_sweep,
)
from sactk.circuits.primitives import cascode_bias, matched_sizes
from sactk.circuits.topology import Part, SourceRole
from sactk.errors import SpecError
from sactk.netlists.render import CurrentSource, Element, Mosfet, Netlist, VoltageSource
from sactk.netlists.technology import Technology

SHAPES = ("relu", "sigmoid", "tanh")
TITLE = "Shape cell"
OUTPUT = "out_y_a"
IDEAL = "ideal_y"


@dataclass(frozen=True)
class Params:
    """Parameters of a shape cell. ``None`` sizes come from the technology."""

    shape: str = "tanh"
    """relu, sigmoid or tanh (set from the cell name)."""
    c_ratio: Ratio = 4.0
    """Common mode of the differential input, in gamma. Inputs must stay within what it
    allows: |x| <= 2 (c - h) for sigmoid/tanh, -2c <= x <= 2 (c - 1) gamma for relu."""
    h_ratio: Ratio = 2.0
    """Shift h between the two MP units, in gamma: sets the output range (2 h) and the
    shape; 2 is close to the best fit to tanh/logistic (docs/cells.md)."""
    w_um: SizeUm = None
    l_um: SizeUm = None
    v_out_v: OutV = None
    casc_scale: CascScale = 4.0
    comp_scale: Annotated[float, Field(ge=0, le=16)] = 4.0
    """A MOS capacitor on each MP unit's gate node, W and L this many times the sinks' (0:
    none). Without it the units oscillate in transient from about 1 uA: with two inputs,
    one sits at the kink of MP for much of the input range, where its rectifier is off and
    its node is driven by two current sources; the loop through the gate node then rings
    (61 MHz at 3 uA on c180). 2 (4x a sink's gate area) damps it at every bias; DC is
    unchanged (docs/cells.md)."""

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise SpecError(f"cell.name: {self.shape!r} is not one of {', '.join(SHAPES)}")
        check_positive(self, ("c_ratio", "h_ratio", "w_um", "l_um", "v_out_v", "casc_scale"))
        if self.shape != "relu" and self.c_ratio <= self.h_ratio:
            raise SpecError("cell.c_ratio: must exceed cell.h_ratio so no input goes negative")
        if self.shape == "relu" and self.c_ratio <= 1.0:
            raise SpecError("cell.c_ratio: must exceed 1 (gamma) for relu")

    def x_range(self) -> tuple[float, float]:
        """The input range, in gamma, over which every source current stays >= 0."""
        if self.shape == "relu":
            return -2.0 * self.c_ratio, 2.0 * (self.c_ratio - 1.0)
        return -2.0 * (self.c_ratio - self.h_ratio), 2.0 * (self.c_ratio - self.h_ratio)


def sizes(params: Params, tech: Technology) -> tuple[float, float]:
    return matched_sizes(params.w_um, params.l_um, tech)


def _encode(params: Params, x: np.ndarray, gamma: np.ndarray | float) -> np.ndarray:
    """(V,) inputs x (A) -> (V, S) source currents (A): the P unit's two inputs, then the N
    unit's two inputs (sigmoid/tanh) or the y- reference (relu)."""
    x = np.asarray(x, dtype=float)
    g = np.asarray(gamma, dtype=float) * np.ones_like(x)
    c = params.c_ratio * g
    h = params.h_ratio * g
    if params.shape == "relu":
        return np.stack([c + x / 2, c - x / 2, c - g - x / 2], axis=-1)
    return np.stack([c + x / 2, c - h - x / 2, c - x / 2, c - h + x / 2], axis=-1)


def ideal(x: np.ndarray, gamma: np.ndarray | float, params: Params) -> np.ndarray:
    """The MP composition the circuit implements, evaluated on its encoded currents."""
    s = _encode(params, x, gamma)
    g = np.asarray(gamma, dtype=float) * np.ones(np.shape(x))
    zp = mp.ideal(s[..., 0:2], g)
    if params.shape == "relu":
        return zp - s[..., 2]
    zn = mp.ideal(s[..., 2:4], g)
    return zp - zn + (params.h_ratio * g if params.shape == "sigmoid" else 0.0)


def smooth(x: np.ndarray, params: Params, scale: float) -> np.ndarray:
    """The smooth function a shape stands for, in gamma, at input scale ``scale``:
    softplus(x s)/s, h tanh(x / s), 2 h logistic(x / s)."""
    x = np.asarray(x, dtype=float)
    h = params.h_ratio
    if params.shape == "relu":
        return np.logaddexp(0.0, x * scale) / scale
    if params.shape == "tanh":
        return h * np.tanh(x / scale)
    return 2.0 * h / (1.0 + np.exp(-x / scale))


def fit_smooth(params: Params, points: int = 4001) -> tuple[float, float]:
    """(scale, max |ideal - smooth| in % of full scale) of the best-fitting smooth function
    over the cell's input range (grid search, docs/cells.md)."""
    lo, hi = params.x_range()
    x = np.linspace(max(lo, -4 * params.h_ratio - 4), min(hi, 4 * params.h_ratio + 4), points)
    y = ideal(x, 1.0, params)
    grid = np.linspace(0.2, 6.0, 2901)
    errs = [float(np.max(np.abs(y - smooth(x, params, s)))) for s in grid]
    k = int(np.argmin(errs))
    return float(grid[k]), 100.0 * errs[k] / full_scale(params)


def full_scale(params: Params) -> float:
    """Output full scale in gamma: the 2 h range of sigmoid/tanh; for relu the output at
    x = 2 h, so the three shapes share one scale."""
    return 2.0 * params.h_ratio


def units(params: Params) -> mp.Units:
    """The tanh cell's two MP units over its input x (gamma): the P unit sees c + x/2 and
    c - h - x/2, the N unit c - x/2 and c - h + x/2 (the order of :func:`_encode`);
    y = z_P - z_N. Sigmoid and relu add an ideal reference to an output and have no unit
    layout (fit them with lookup tables)."""
    if params.shape != "tanh":
        raise SpecError(
            f"fit: the {params.shape} cell has no MP-unit layout (only tanh); fit it with "
            "--kind lookup"
        )
    c, h = params.c_ratio, params.h_ratio
    off = np.array([c, c - h])
    return mp.Units(
        (np.array([[0.5, -0.5]]), np.array([[-0.5, 0.5]])), (off, off.copy()), (1.0, -1.0)
    )


def vectors(params: Params, inputs: Any) -> tuple[np.ndarray, np.ndarray]:
    patterns, norm = random_and_sweep(1, inputs)
    lo, hi = params.x_range()
    if len(norm) and (norm.min() < lo - 1e-12 or norm.max() > hi + 1e-12):
        raise SpecError(
            f"inputs: {params.shape} with c_ratio {params.c_ratio:g} takes x from {lo:g} to "
            f"{hi:g} gamma; narrow inputs.sweep/inputs.random min_ratio..max_ratio or raise "
            "cell.c_ratio"
        )
    return patterns, norm


def reference(params: Params, norm: np.ndarray, inputs: Any) -> dict[str, np.ndarray]:
    y = ideal(norm[:, 0], 1.0, params) if len(norm) else np.zeros(0)
    return {
        "ideal_y": y,
        **fixed_full_scale(len(norm), full_scale(params)),
    }


def build(
    params: Params,
    tech: Technology,
    *,
    bias_a: float = 1e-6,
    corner: str = "tt",
    temp_c: float = 27.0,
) -> Bench:
    """The shape cell in its bench: input x = 0 until the backend alters the sources."""
    w_um, l_um = sizes(params, tech)
    v_out = params.v_out_v if params.v_out_v is not None else tech.vdd_v / 2.0
    cs = params.casc_scale
    s0 = _encode(params, np.zeros(1), bias_a)[0]
    els: list[Element] = [VoltageSource("dd", "vdd", "0", tech.vdd_v)]
    els.extend(cascode_bias("cb", "vc", "vdd", bias_a, w_um, l_um, tech))
    els.append(CurrentSource("sp0", "vdd", "pa0", float(s0[0])))
    els.append(CurrentSource("sp1", "vdd", "pa1", float(s0[1])))
    els.extend(mp.mp_unit("p", ["pa0", "pa1"], "outp", bias_a, w_um, l_um, cs, tech))
    roles = {"cb": SourceRole(Part.CASCODE), **mp.unit_roles(0, "p", ["sp0", "sp1"])}
    if params.shape == "relu":
        # y- reference: x- - gamma, drawn from the y- output.
        els.append(CurrentSource("sref", "outn", "0", float(s0[2])))
        sources: tuple[str, ...] = ("isp0", "isp1", "isref")
    else:
        els.append(CurrentSource("sn0", "vdd", "na0", float(s0[2])))
        els.append(CurrentSource("sn1", "vdd", "na1", float(s0[3])))
        els.extend(mp.mp_unit("n", ["na0", "na1"], "outn", bias_a, w_um, l_um, cs, tech))
        sources = ("isp0", "isp1", "isn0", "isn1")
        roles |= mp.unit_roles(1, "n", ["sn0", "sn1"])
        if params.shape == "sigmoid":
            # h into the y- output: I(y-) = z_n - h.
            els.append(CurrentSource("href", "vdd", "outn", params.h_ratio * bias_a))
    els.append(VoltageSource("outp", "outp", "0", v_out))
    els.append(VoltageSource("outn", "outn", "0", v_out))
    if params.comp_scale > 0:
        # last in the netlist: the Pelgrom draws of every other transistor keep their order,
        # so chip k of earlier results is still chip k
        k = params.comp_scale
        units = ("p",) if params.shape == "relu" else ("p", "n")
        els.extend(Mosfet(f"{u}cc", "0", f"{u}g", "0", "0", "n", k * w_um, k * l_um) for u in units)
    netlist = Netlist(
        title=f"sactk {params.shape} shape cell",
        tech=tech,
        corner=corner,
        temp_c=temp_c,
        elements=tuple(els),
    )

    def drive(values: np.ndarray) -> np.ndarray:
        return _encode(params, values[:, 0], bias_a)

    return Bench(
        netlist=netlist,
        inputs=("in_x_a",),
        sources=sources,
        drive=drive,
        probes=differential_probes(),
        roles=roles,
    )


def rest_unit_output(params: Params) -> float:
    """The P unit's output (gamma) at x = 0: MP of its two terms c and c - h (the point
    where a layer's feeds of the cell are measured)."""
    return float(mp.ideal(np.array([params.c_ratio, params.c_ratio - params.h_ratio]), 1.0))


CELLS = tuple(module_cell(shape, globals(), fixed={"shape": shape}) for shape in SHAPES)

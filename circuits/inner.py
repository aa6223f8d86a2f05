"""The differential MP inner-product circuit.

Margin propagation approximates log-sum-exp, and a difference of two log-sum-exps over
sign-symmetric sums approximates a product (Gu and Chakrabartty, "Synthesis of bias-scalable
CMOS analog computational circuits using margin propagation", IEEE TCAS-I 59(2), 2012;
S-AC, Kumar et al., IEEE JETCAS 2023). For weights w and inputs x (N each):

    y = MP({w_k + x_k, -w_k - x_k}_k; gamma) - MP({w_k - x_k, -w_k + x_k}_k; gamma)

With all 2N terms above the water level, both MPs equal c - gamma / 2N and y = 0; in
general each term pair contributes |w_k + x_k| - |w_k - x_k| = 2 sgn(w_k x_k) min(|w_k|,
|x_k|) as it crosses the level, so y tracks w.x up to a scale that depends on gamma and the
input range (docs/cells.md shows how, against N and gamma).

Circuit: two 2N-input MP units (mp.mp_unit) share one cascode bias. Every term is a current
c + (term) with common mode c = ``c_ratio`` gamma, so none goes negative as long as
|w_k| + |x_k| <= c; the common mode cancels in y because MP(a + c; gamma) = MP(a; gamma) + c.
Each input reaches two terms of each unit, through ideal sources fed the same value, as a
mirror with several outputs would provide them. Output: the two units' currents,
out_y_a = I(z+) - I(z-).

Columns: in_x{k}_a and in_w{k}_a are the signed values of x_k and w_k in A (the encoding is
the common-mode offset above); ``dot_xw`` is sum_k w_k x_k / bias_a, the true dot product in
A (the normalized vectors' dot product times the bias), comparable at every bias.
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
    Inputs,
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

TITLE = "MP inner product"
OUTPUT = "out_y_a"
IDEAL = "ideal_y"
MAX_N = 32


@dataclass(frozen=True)
class Params:
    n_inputs: Inputs = 8
    """Dimension N of w and x (each MP unit has 2N inputs)."""
    c_ratio: Ratio = 1.0
    """Common mode of every term, in gamma; inputs need |w_k| + |x_k| <= c."""
    w_um: SizeUm = None
    l_um: SizeUm = None
    v_out_v: OutV = None
    casc_scale: CascScale = 4.0
    comp_scale: Annotated[float, Field(ge=0, le=16)] = 8.0
    """A MOS capacitor on each MP unit's gate node, W and L this many times the sinks' (0:
    none), as on the shape cells (circuits/shape.py). In a layer, where mirror outputs
    drive its terms, a unit rang at 5 MHz after a step at 1 uA without it, and still at 3
    and 10 uA with 4; 8 settles at every bias (sactk.api.layer.step_response). DC is
    unchanged."""

    def __post_init__(self) -> None:
        if not isinstance(self.n_inputs, int) or not 1 <= self.n_inputs <= MAX_N:
            raise SpecError(f"cell.n_inputs: must be an integer from 1 to {MAX_N}")
        check_positive(self, ("c_ratio", "w_um", "l_um", "v_out_v", "casc_scale"))


def sizes(params: Params, tech: Technology) -> tuple[float, float]:
    return matched_sizes(params.w_um, params.l_um, tech)


def input_columns(params: Params) -> list[str]:
    n = params.n_inputs
    return [f"in_x{k}_a" for k in range(n)] + [f"in_w{k}_a" for k in range(n)]


def _terms(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(..., 2N) terms of the + unit (w + x, -w - x) and the - unit (w - x, -w + x)."""
    return (
        np.concatenate([w + x, -w - x], axis=-1),
        np.concatenate([w - x, -w + x], axis=-1),
    )


def ideal(x: np.ndarray, w: np.ndarray, gamma: np.ndarray | float) -> np.ndarray:
    """The differential MP output (common mode cancelled), same unit as x and w."""
    x = np.moveaxis(np.asarray(x, dtype=float), -1, 0)
    w = np.moveaxis(np.asarray(w, dtype=float), -1, 0)
    n = x.shape[0]
    shape = (2 * n, *np.broadcast_shapes(x.shape[1:], w.shape[1:]))
    # the same terms as _terms, built contiguous with the inputs first (mp.ideal_first_axis)
    up = np.empty(shape)
    np.add(w, x, out=up[:n])
    np.negative(up[:n], out=up[n:])
    un = np.empty(shape)
    np.subtract(w, x, out=un[:n])
    np.negative(un[:n], out=un[n:])
    return mp.ideal_first_axis(up, gamma) - mp.ideal_first_axis(un, gamma)


def units(params: Params) -> mp.Units:
    """The two 2N-term units of :func:`_terms` over the inputs (x, w), each term on the
    common mode c_ratio; out_y_a = z+ - z-."""
    n = params.n_inputs
    eye = np.eye(n)
    # rows: inputs x0..x{n-1}, w0..w{n-1}; columns: the unit's 2N terms
    plus = np.block([[eye, -eye], [eye, -eye]])
    minus = np.block([[-eye, eye], [eye, -eye]])
    c = float(params.c_ratio)
    return mp.Units((plus, minus), (c, c), (1.0, -1.0))


def full_scale(params: Params) -> float:
    """Output full scale in gamma: y with every w_k = x_k = c / 2 (the largest aligned
    vectors the encoding allows)."""
    v = np.full(params.n_inputs, params.c_ratio / 2.0)
    return float(ideal(v, v, 1.0))


def vectors(params: Params, inputs: Any) -> tuple[np.ndarray, np.ndarray]:
    patterns, norm = random_and_sweep(2 * params.n_inputs, inputs)
    n = params.n_inputs
    if len(norm):
        worst = float(np.max(np.abs(norm[:, :n]) + np.abs(norm[:, n:])))
        if worst > params.c_ratio + 1e-12:
            raise SpecError(
                f"inputs: |w_k| + |x_k| reaches {worst:g} gamma but cell.c_ratio is "
                f"{params.c_ratio:g}; narrow the inputs' min_ratio..max_ratio or raise c_ratio"
            )
    return patterns, norm


def reference(params: Params, norm: np.ndarray, inputs: Any) -> dict[str, np.ndarray]:
    n = params.n_inputs
    x, w = norm[:, :n], norm[:, n:]
    return {
        "ideal_y": ideal(x, w, 1.0) if len(norm) else np.zeros(0),
        "dot_xw": np.sum(x * w, axis=1),
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
    """Both MP units in their bench, with every term at the common mode (w = x = 0)."""
    n = params.n_inputs
    w_um, l_um = sizes(params, tech)
    v_out = params.v_out_v if params.v_out_v is not None else tech.vdd_v / 2.0
    cs = params.casc_scale
    c_a = params.c_ratio * bias_a
    els: list[Element] = [VoltageSource("dd", "vdd", "0", tech.vdd_v)]
    els.extend(cascode_bias("cb", "vc", "vdd", bias_a, w_um, l_um, tech))
    sources: list[str] = []
    roles = {"cb": SourceRole(Part.CASCODE)}
    for u, (unit, out) in enumerate((("p", "outp"), ("n", "outn"))):
        nodes = [f"{unit}a{k}" for k in range(2 * n)]
        for k, node in enumerate(nodes):
            els.append(CurrentSource(f"s{unit}{k}", "vdd", node, c_a))
            sources.append(f"is{unit}{k}")
        roles |= mp.unit_roles(u, unit, [f"s{unit}{k}" for k in range(2 * n)])
        els.extend(mp.mp_unit(unit, nodes, out, bias_a, w_um, l_um, cs, tech))
    els.append(VoltageSource("outp", "outp", "0", v_out))
    els.append(VoltageSource("outn", "outn", "0", v_out))
    if params.comp_scale > 0:
        # last in the netlist, so every other transistor keeps its Monte Carlo draw
        cc = params.comp_scale
        els.extend(
            Mosfet(f"{u}cc", "0", f"{u}g", "0", "0", "n", cc * w_um, cc * l_um) for u in "pn"
        )
    netlist = Netlist(
        title=f"sactk differential MP inner product, N = {n}",
        tech=tech,
        corner=corner,
        temp_c=temp_c,
        elements=tuple(els),
    )

    def drive(values: np.ndarray) -> np.ndarray:
        up, un = _terms(values[:, :n], values[:, n:])
        return c_a + np.concatenate([up, un], axis=1)

    return Bench(
        netlist=netlist,
        inputs=tuple(input_columns(params)),
        sources=tuple(sources),
        drive=drive,
        probes=differential_probes(),
        roles=roles,
    )


def rest_output(params: Params) -> float:
    """Each unit's output (gamma) at rest (x = w = 0), and its least: c - 1/2N. The 2N
    terms of a unit sum to 2N c whatever x and w, so MP's level never goes below it."""
    return params.c_ratio - 1.0 / (2 * params.n_inputs)


CELL = module_cell("inner_product", globals())
CELLS = (CELL,)

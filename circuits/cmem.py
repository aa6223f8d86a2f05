"""Mixed-signal compressive memory: an n-bit code to a current through a compressive law.

Each memory cell holds a digital code (modelled as an ideal latch: its bits are gate
voltages at 0 or VDD) that steers the branches of a binary-weighted current array. The code
is read as a small floating-point number, the segmented companding law of mu-law/A-law
codecs (ITU-T G.711): with e = ``exp_bits`` segment bits s and m = bits - e mantissa bits q,

    units(code) = q                          for s = 0
                = (2^m + q) 2^(s - 1)        for s >= 1

so the step doubles from one segment to the next: the relative resolution is roughly
constant, and 6 bits (e = 2) span 124:1, the range of a 7-bit linear DAC; 7 bits (e = 3)
span 1984:1, an 11-bit range. e = 0 is a plain linear DAC. The decoder that turns the code
into branch switches is digital (units(code) written in binary); the analog part is the
array, whose branch j carries 2^j unit currents.

Circuit: a reference of ``ref_units`` unit NMOS sinks, diode-connected through a cascode,
carries the bias current, so the unit current is bias_a / ref_units. Branch j has 2^j unit
sinks in parallel (separate devices, as a unit-element layout has, so Monte Carlo draws each
one and the sqrt(2^j) averaging comes out of the simulation), a cascode and a current-steering
switch pair: to the output (bit set) or to a dump node at the same voltage (bit clear), so a
branch's current never stops and its drain never moves. The cascodes are biased like the MP
cell's (primitives.cascode_bias, here at the unit current).

Output: ``out_i_a``, the current drawn from the output node held at ``v_out_v``.
``ideal()`` is units(code) * bias_a / ref_units. INL and DNL are in LSB of the compressive
law, where an LSB is the local step of that law (analysis/metrics.linearity).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from pydantic import Field

from sactk.circuits.base import (
    Bench,
    CascScale,
    OutV,
    Probe,
    SizeUm,
    check_positive,
    fixed_full_scale,
    module_cell,
)
from sactk.circuits.primitives import analog_l_um, cascode_bias, high_clamp, off_clamp
from sactk.errors import SpecError
from sactk.netlists.render import CurrentSource, Element, Mosfet, Netlist, VoltageSource
from sactk.netlists.technology import Technology

TITLE = "Compressive memory"
OUTPUT = "out_i_a"
IDEAL = "ideal_i"


@dataclass(frozen=True)
class Params:
    bits: Annotated[int, Field(ge=1, le=10)] = 6
    """Code width n."""
    exp_bits: Annotated[int, Field(ge=0, le=4)] = 2
    """Segment (exponent) bits e of the compressive law; 0 is linear."""
    ref_units: Annotated[int, Field(ge=1, le=256)] = 32
    """Unit devices in the reference: unit current = bias_a / ref_units, full scale =
    units(2^n - 1) / ref_units * bias_a (3.9 bias_a for the defaults)."""
    w_um: SizeUm = None
    l_um: SizeUm = None
    v_out_v: OutV = None
    casc_scale: CascScale = 4.0

    def __post_init__(self) -> None:
        if not isinstance(self.bits, int) or not 1 <= self.bits <= 10:
            raise SpecError("cell.bits: must be an integer from 1 to 10")
        if not isinstance(self.exp_bits, int) or not 0 <= self.exp_bits < self.bits:
            raise SpecError("cell.exp_bits: must be an integer from 0 to cell.bits - 1")
        if self.exp_bits > 3:
            raise SpecError("cell.exp_bits: at most 3 (a 4-bit exponent spans 2^14 units)")
        if not isinstance(self.ref_units, int) or not 1 <= self.ref_units <= 256:
            raise SpecError("cell.ref_units: must be an integer from 1 to 256")
        check_positive(self, ("w_um", "l_um", "v_out_v", "casc_scale"))

    @property
    def branches(self) -> int:
        return int(law_units(2**self.bits - 1, self.bits, self.exp_bits)).bit_length()


def sizes(params: Params, tech: Technology) -> tuple[float, float]:
    """(W, L) of a unit device: default W/L = 1/4 (1/4 um on c180). The unit carries only
    bias_a / ref_units (312 pA at 10 nA): a 4/1 um unit's off-current at 125 C exceeded
    that (its gate node fell to 20 mV); W/L = 1/4 has 16x less, and 10 uA still leaves
    the units near moderate inversion."""
    l_um = params.l_um if params.l_um is not None else 4.0 * analog_l_um(tech)
    if params.l_um is None and tech.lmax_um is not None:
        # the cascodes are casc_scale times longer: keep them inside the models' range
        # (SG13G2: 10 um; ASAP7: 0.7 um)
        l_um = min(l_um, tech.lmax_um / params.casc_scale)
    w_um = params.w_um if params.w_um is not None else max(tech.wmin_um, l_um / 4.0)
    return w_um, l_um


def law_units(code: Any, bits: int, exp_bits: int) -> Any:
    """units(code) of the segmented law (module docstring), integer, vectorized."""
    c = np.asarray(code, dtype=np.int64)
    if np.any((c < 0) | (c >= 2**bits)):
        raise SpecError(f"in_code: codes must be integers from 0 to {2**bits - 1}")
    m = bits - exp_bits
    s = c >> m
    q = c & (2**m - 1)
    return np.where(s == 0, q, (2**m + q) << np.maximum(s - 1, 0))


def ideal(code: Any, gamma: Any, params: Params) -> np.ndarray:
    """Output current (A) of ``code`` at bias ``gamma``: units(code) gamma / ref_units."""
    return law_units(code, params.bits, params.exp_bits) * np.asarray(gamma) / params.ref_units


def vectors(params: Params, inputs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Every code once, in order (pattern ``code``); [inputs] does not apply."""
    # a spec re-read from a manifest carries every field at its default: only values count
    if inputs.model_dump() != type(inputs)().model_dump():
        raise SpecError(
            "inputs: the compressive memory simulates every code; remove the [inputs] section"
        )
    codes = np.arange(2**params.bits, dtype=float)[:, None]
    return np.array(["code"] * len(codes), dtype=object), codes


def reference(params: Params, norm: np.ndarray, inputs: Any) -> dict[str, np.ndarray]:
    fs = float(ideal(2**params.bits - 1, 1.0, params))
    return {
        "ideal_i": ideal(norm[:, 0].astype(np.int64), 1.0, params),
        **fixed_full_scale(len(norm), fs),
    }


def build(
    params: Params,
    tech: Technology,
    *,
    bias_a: float = 1e-6,
    corner: str = "tt",
    temp_c: float = 27.0,
) -> Bench:
    """The memory cell's array in its bench, holding code 0 until the backend alters it."""
    w_um, l_um = sizes(params, tech)
    vdd = tech.vdd_v
    v_out = params.v_out_v if params.v_out_v is not None else vdd / 2.0
    cs = params.casc_scale
    unit_a = bias_a / params.ref_units
    # Switches: minimum length, width scaled with the branch current like the sinks.
    sw_l = 2.0 * tech.lmin_um
    els: list[Element] = [VoltageSource("dd", "vdd", "0", vdd)]
    els.extend(cascode_bias("cb", "vc", "vdd", unit_a, w_um, l_um, tech))
    # Reference: bias into g, a cascode, ref_units unit sinks in parallel.
    els.append(CurrentSource("ref", "vdd", "g", bias_a))
    els.append(Mosfet("rc", "g", "vc", "rm", "0", "n", params.ref_units * w_um * cs, l_um * cs))
    els.extend(
        Mosfet(f"ru{u}", "rm", "g", "0", "0", "n", w_um, l_um) for u in range(params.ref_units)
    )
    els.extend(off_clamp("clamp", "g", tech, l_um))
    els.append(high_clamp("hclamp", "g", "vdd", tech, l_um))
    sources: list[str] = []
    for j in range(params.branches):
        k = 2**j
        els.extend(Mosfet(f"b{j}u{u}", f"b{j}m", "g", "0", "0", "n", w_um, l_um) for u in range(k))
        els.append(Mosfet(f"b{j}c", f"b{j}t", "vc", f"b{j}m", "0", "n", k * w_um * cs, l_um * cs))
        sw_w = max(tech.wmin_um, k * w_um / 4.0)
        els.append(Mosfet(f"b{j}on", "out", f"d{j}", f"b{j}t", "0", "n", sw_w, sw_l))
        els.append(Mosfet(f"b{j}off", "dump", f"db{j}", f"b{j}t", "0", "n", sw_w, sw_l))
        els.append(VoltageSource(f"d{j}", f"d{j}", "0", 0.0))
        els.append(VoltageSource(f"db{j}", f"db{j}", "0", vdd))
        sources += [f"vd{j}", f"vdb{j}"]
    els.append(VoltageSource("out", "out", "0", v_out))
    els.append(VoltageSource("dump", "dump", "0", v_out))
    netlist = Netlist(
        title=f"sactk compressive memory, {params.bits} bits, {params.exp_bits} segment bits",
        tech=tech,
        corner=corner,
        temp_c=temp_c,
        elements=tuple(els),
    )
    n_br = params.branches

    def drive(values: np.ndarray) -> np.ndarray:
        units = law_units(np.rint(values[:, 0]).astype(np.int64), params.bits, params.exp_bits)
        bits = (units[:, None] >> np.arange(n_br)) & 1
        gates = np.empty((len(values), 2 * n_br))
        gates[:, 0::2] = bits * vdd
        gates[:, 1::2] = (1 - bits) * vdd
        return gates

    return Bench(
        netlist=netlist,
        inputs=("in_code",),
        sources=tuple(sources),
        drive=drive,
        probes=(Probe.current("out_i_a", "vout", -1.0), Probe.voltage("out_vg_v", "g")),
    )


CELL = module_cell("compressive_memory", globals())
CELLS = (CELL,)

"""A resistive crossbar tile with transimpedance read-out, for analog in-memory computing.

**Array.** n_rows inputs (``cell.n_inputs``) x n_cols logical columns (``cell.n_cols``),
each logical column a differential pair of physical columns: weight W in [-1, 1] is
programmed as G+ = G_min + (G_max - G_min) max(W, 0) and G- = G_min + (G_max - G_min)
max(-W, 0), so G+ - G- = (G_max - G_min) W. Weights are uniform in [-1, 1] from
``cell.weight_seed``. Row r is driven at x_r V_read (x in [0, 1], the DAC's range); every
cell connects its row wire to its column wire; each wire has ``r_wire_ohm`` per cell segment,
from the driver along the row and down the column to the read-out (so the far cells see the
largest IR drop). Wire resistance has the temperature coefficient of copper interconnect,
3.9e-3 / K (textbook value); the devices are taken as temperature-flat (an assumption).

**Read-out.** Each physical column ends in a transimpedance amplifier: an op-amp (a VCVS of
gain 1e4) holding the column at virtual ground through a feedback resistor R_f; the logical
output is out_y = (V(o-) - V(o+)) / R_f = I+ - I-. Mismatch (Monte Carlo) perturbs every
device conductance (programming error, ``PROG_SIGMA`` of G_max), every R_f (gain,
``RF_SIGMA``) and adds an input offset voltage per op-amp (``VOS_SIGMA``).

**Bias.** As for every cell, ``bias_a`` is the unit current: the current of a G_max device at
full input, so G_max = bias_a / V_read. Sweeping bias_a sweeps the conductance range.

**Ideal.** ideal_y = sum_r (G+ - G-)_r x_r V_read in units of the bias, = (1 - g_min) W.x.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from pydantic import Field

from sactk.circuits.base import (
    Bench,
    Inputs,
    Probe,
    SizeUm,
    check_positive,
    module_cell,
    random_and_sweep,
)
from sactk.netlists.render import Netlist, Resistor, Vcvs, VoltageSource
from sactk.netlists.technology import Technology
from sactk.seeds import instance_rng

TITLE = "Crossbar tile"
OUTPUT = "out_y0_a"
IDEAL = "ideal_y0"

G_MIN_RATIO = 0.01
"""G_min / G_max: a device's off conductance (100:1 on/off, typical of RRAM/PCM)."""
WIRE_TC = 3.9e-3
"""Temperature coefficient of copper interconnect resistance, 1/K."""
OPAMP_GAIN = 1e4
PROG_SIGMA = 0.02
"""Programming error of a device, fraction of G_max (an assumption of the order reported
for PCM/RRAM, e.g. Joshi et al., Nat. Commun. 2020)."""
RF_SIGMA = 0.005
"""Relative mismatch of a feedback resistor (precision poly resistors)."""
VOS_SIGMA = 1e-3
"""Op-amp input offset voltage, V (1 sigma)."""


@dataclass(frozen=True)
class Params:
    n_inputs: Inputs = 16
    """Rows."""
    n_cols: Annotated[int, Field(ge=1, le=64)] = 4
    """Logical (differential) columns."""
    r_wire_ohm: Annotated[float, Field(ge=0, le=1e4)] = 2.0
    """Wire resistance per cell segment, ohm."""
    v_read_v: Annotated[float, Field(gt=0, le=2)] = 0.2
    """Read voltage at full input, V."""
    weight_seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 1
    """Seed of the programmed weights."""
    w_um: SizeUm = None
    l_um: SizeUm = None

    def __post_init__(self) -> None:
        check_positive(self, ("n_inputs", "n_cols", "v_read_v"))
        if self.r_wire_ohm < 0:
            from sactk.errors import SpecError

            raise SpecError("cell.r_wire_ohm: must be 0 or more")

    def weights(self) -> np.ndarray:
        return np.random.default_rng(self.weight_seed).uniform(-1, 1, (self.n_inputs, self.n_cols))


def sizes(params: Params, tech: Technology) -> tuple[float, float]:
    return (params.w_um or 1.0, params.l_um or 1.0)


def input_columns(params: Params) -> list[str]:
    return [f"in_x{r}" for r in range(params.n_inputs)]


def conductances(params: Params, g_max: float) -> tuple[np.ndarray, np.ndarray]:
    W = params.weights()
    g_min = G_MIN_RATIO * g_max
    return g_min + (g_max - g_min) * np.maximum(W, 0), g_min + (g_max - g_min) * np.maximum(-W, 0)


def rf_ohm(params: Params, bias_a: float) -> float:
    """Feedback resistor: full scale (every row at G_max, full input) gives 1 V."""
    return 1.0 / (bias_a * params.n_inputs)


def build(
    params: Params,
    tech: Technology,
    *,
    bias_a: float = 1e-6,
    corner: str = "tt",
    temp_c: float = 27.0,
) -> Bench:
    R, C = params.n_inputs, params.n_cols
    g_max = bias_a / params.v_read_v
    gp, gn = conductances(params, g_max)
    rw = max(params.r_wire_ohm, 1e-6)
    rf = rf_ohm(params, bias_a)
    els: list[Any] = [VoltageSource("dd", "vdd", "0", tech.vdd_v)]
    for r in range(R):
        els.append(VoltageSource(f"row{r}", f"d{r}", "0", 0.0))
        prev = f"d{r}"
        for j in range(2 * C):
            node = f"r{r}_{j}"
            els.append(Resistor(f"wr{r}_{j}", prev, node, rw, WIRE_TC))
            prev = node
    for j in range(2 * C):
        c, sign = divmod(j, 2)
        g = (gp if sign == 0 else gn)[:, c]
        for r in range(R):
            els.append(Resistor(f"g{r}_{j}", f"r{r}_{j}", f"c{j}_{r}", 1.0 / g[r]))
            nxt = f"c{j}_{r + 1}" if r < R - 1 else f"t{j}"
            els.append(Resistor(f"wc{j}_{r}", f"c{j}_{r}", nxt, rw, WIRE_TC))
        els.append(VoltageSource(f"os{j}", f"p{j}", "0", 0.0))
        els.append(Vcvs(f"amp{j}", f"o{j}", "0", f"p{j}", f"t{j}", OPAMP_GAIN))
        els.append(Resistor(f"rf{j}", f"t{j}", f"o{j}", rf))
    netlist = Netlist(
        title=f"sactk crossbar tile, {R} x {C} differential columns",
        tech=tech,
        corner=corner,
        temp_c=temp_c,
        elements=tuple(els),
    )
    # out_y = I+ - I- = (V(o-) - V(o+)) / R_f
    probes = tuple(
        Probe.voltage(f"out_y{c}_a", f"o{2 * c + 1}", 1.0 / rf, minus=f"o{2 * c}") for c in range(C)
    )
    v_read = params.v_read_v

    def drive(values: np.ndarray) -> np.ndarray:
        return np.asarray(values) * v_read

    return Bench(
        netlist=netlist,
        inputs=tuple(input_columns(params)),
        sources=tuple(f"vrow{r}" for r in range(R)),
        probes=probes,
        drive=drive,
    )


def ideal(x: np.ndarray, params: Params) -> np.ndarray:
    """(V, n_rows) inputs in [0, 1] -> (V, n_cols) outputs in units of the bias."""
    W = params.weights()
    return np.asarray(x, float) @ ((1.0 - G_MIN_RATIO) * W)


def vectors(params: Params, inputs: Any) -> tuple[np.ndarray, np.ndarray]:
    return random_and_sweep(params.n_inputs, inputs)


def reference(params: Params, norm: np.ndarray, inputs: Any) -> dict[str, np.ndarray]:
    y = ideal(norm, params) if len(norm) else np.zeros((0, params.n_cols))
    out = {f"ideal_y{c}": y[:, c] for c in range(params.n_cols)}
    out["fs"] = np.full(len(norm), float(params.n_inputs))
    out["domain_ok"] = np.ones(len(norm), dtype=bool)
    return out


def mismatch_alters(
    params: Params, bias_a: float, seed: int, index: int
) -> tuple[tuple[str, str], ...]:
    """Alters that make chip ``index`` of ``seed`` (index < 0: nominal): every device's
    conductance, every feedback resistor and every op-amp offset (see module docstring)."""
    from sactk.netlists.render import fmt

    R, C = params.n_inputs, params.n_cols
    g_max = bias_a / params.v_read_v
    gp, gn = conductances(params, g_max)
    rf = rf_ohm(params, bias_a)
    if index < 0:
        zg = np.zeros((R, 2 * C))
        zr = np.zeros(2 * C)
        zo = np.zeros(2 * C)
    else:
        rng = instance_rng(seed, index)
        zg = rng.standard_normal((R, 2 * C))
        zr = rng.standard_normal(2 * C)
        zo = rng.standard_normal(2 * C)
    out = []
    for j in range(2 * C):
        c, sign = divmod(j, 2)
        g = (gp if sign == 0 else gn)[:, c]
        for r in range(R):
            gi = max(g[r] + PROG_SIGMA * g_max * zg[r, j], 1e-3 * G_MIN_RATIO * g_max)
            out.append((f"rg{r}_{j}", fmt(1.0 / gi)))
        out.append((f"rrf{j}", fmt(rf * (1.0 + RF_SIGMA * zr[j]))))
        out.append((f"vos{j}", fmt(VOS_SIGMA * zo[j])))
    return tuple(out)


CELL = module_cell("crossbar", globals(), own_mismatch=mismatch_alters)
CELLS = (CELL,)

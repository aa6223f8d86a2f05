"""A user's cell as a plain module: an NMOS current mirror (out = in), described by one
CellType. tests/test_user_cell.py registers it from Python and installs it as an entry point
(``sactk.cells``) for the command line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from pydantic import Field

from sactk.circuits import Bench, CellType, Probe
from sactk.circuits.base import fixed_full_scale, random_and_sweep
from sactk.netlists.render import CurrentSource, Mosfet, Netlist, VoltageSource
from sactk.netlists.technology import Technology


@dataclass(frozen=True)
class MirrorParams:
    w_um: Annotated[float, Field(gt=0, le=100)] = 8.0
    """Width of both devices, um."""
    l_um: Annotated[float, Field(gt=0, le=100)] = 4.0
    """Length of both devices, um."""


def build(
    p: MirrorParams, tech: Technology, *, bias_a: float, corner: str = "tt", temp_c: float = 27.0
) -> Bench:
    els = (
        VoltageSource("dd", "vdd", "0", tech.vdd_v),
        CurrentSource("in0", "vdd", "a", bias_a),
        Mosfet("m1", "a", "a", "0", "0", "n", p.w_um, p.l_um),
        Mosfet("m2", "out", "a", "0", "0", "n", p.w_um, p.l_um),
        VoltageSource("out", "out", "0", 0.7),  # near the diode's Vgs
    )
    return Bench(
        netlist=Netlist("user mirror", tech, corner, temp_c, els),
        inputs=("in_x_a",),
        sources=("iin0",),
        probes=(Probe("out_y_a", "vout#branch", -1.0),),
    )


def vectors(p: MirrorParams, inputs: Any) -> tuple[np.ndarray, np.ndarray]:
    return random_and_sweep(1, inputs)


def reference(p: MirrorParams, norm: np.ndarray, inputs: Any) -> dict[str, np.ndarray]:
    return {"ideal_y": norm[:, 0].copy(), **fixed_full_scale(len(norm), 2.0)}


MIRROR = CellType(
    name="user_mirror",
    title="NMOS mirror",
    output="out_y_a",
    ideal_column="ideal_y",
    params_type=MirrorParams,
    build=build,
    vectors=vectors,
    reference=reference,
    sizes=lambda p, tech: (p.w_um, p.l_um),
)


def wta_ideal(norm, params):
    """ideal() of the 2-input winner-take-all of tests/data/wta.sp: input a's share of the
    bias current: all of it when a wins, none when b wins, half at a tie."""
    import numpy as np

    a, b = norm[:, 0], norm[:, 1]
    return np.where(a > b, 1.0, np.where(a < b, 0.0, 0.5))

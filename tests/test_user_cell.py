"""A user's cell: one module's worth of code and one register_cell call, then the whole
toolkit takes it (spec validation, sweep on ngspice, plots, metrics, lookup model), with no
edit to sactk. The cell is a plain NMOS current mirror: out = in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pytest
from pydantic import Field

from sactk import api
from sactk.circuits import Bench, CellType, Probe, get_cell, register_cell, unregister_cell
from sactk.circuits.base import fixed_full_scale, random_and_sweep
from sactk.errors import SpecError
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

SPEC = """
[cell]
name = "user_mirror"
l_um = 2.0
[sweep]
bias_a = [1e-8, 1e-7, 1e-6]
[inputs.random]
count = 0
[inputs.sweep]
points = 9
min_ratio = 0.5
max_ratio = 2.0
"""


@pytest.fixture
def mirror() -> Any:
    register_cell(MIRROR)
    yield MIRROR
    unregister_cell(MIRROR.name)


def test_registry_refusals(mirror: Any) -> None:
    assert get_cell("user_mirror") is mirror
    with pytest.raises(SpecError, match="already registered"):
        register_cell(MIRROR)
    with pytest.raises(SpecError, match="built-in"):
        register_cell(CellType(**{**MIRROR.__dict__, "name": "mp"}))
    with pytest.raises(SpecError, match="not a Cell"):
        register_cell(object())  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="must match"):
        register_cell(CellType(**{**MIRROR.__dict__, "name": "Bad Name"}))


def test_the_cell_validates_its_own_table(mirror: Any, tmp_path: Path) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC.replace("l_um = 2.0", "l_um = 500.0"))
    with pytest.raises(SpecError, match=r"cell\.l_um: Input should be less than"):
        api.load(spec)
    with pytest.raises(SpecError, match=r"cell\.n_inputs: unknown key"):
        api.load(preset="mp-dc", overrides=["cell.name=user_mirror"])  # mp-dc sets n_inputs


@pytest.mark.ngspice
def test_a_user_cell_runs_through_the_toolkit(mirror: Any, tmp_path: Path) -> None:
    spec_file = tmp_path / "mirror.toml"
    spec_file.write_text(SPEC)
    summary = api.sweep(api.load(spec_file), tmp_path / "r")
    assert summary.points == 27 and summary.failed_points == 0
    made = api.plot(tmp_path / "r", tmp_path / "p")
    assert (tmp_path / "p" / "transfer.png").stat().st_size > 0
    acc = made.tables["accuracy"]
    # a mirror copies its input within a few % (channel-length modulation: the diode sits
    # at Vgs, the output at VDD); a broken cell contract would give garbage or no table
    assert len(acc) == 3 and (acc["max_abs_err_pct"] < 10).all()
    model, path = api.fit(tmp_path / "r", tmp_path / "m", knots=5)
    assert model.cell_ == "user_mirror" and path.is_file()

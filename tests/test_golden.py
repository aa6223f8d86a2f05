"""Golden files: the text sactk writes for every registered cell, compared byte for byte.

For each cell in the registry: its DC test bench, its transient bench (or the refusal of
one, for cells whose inputs are not currents) and the ngspice and Verilog-A exports of a
lookup model fitted on its ideal response. A new cell registered in sactk.circuits is picked
up here with no edit. After a deliberate change: `make golden`, then review the diff.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sactk.analysis.export import export
from sactk.analysis.lut import LookupModel
from sactk.circuits import cell_names, get_cell
from sactk.circuits.base import ideal_result_column
from sactk.circuits.cmem import Params as CmemParams
from sactk.circuits.inner import Params as InnerParams
from sactk.circuits.mp import Params as MPParams
from sactk.errors import SpecError
from sactk.netlists.render import render
from sactk.netlists.technology import c180
from sactk.sweeps.plan import plan, tran_bench
from sactk.sweeps.spec import TranSpec, load_spec, preset_names, preset_text

GOLDEN = Path(__file__).parent / "golden"
FIXED_LIB = Path("/models/c180.lib")
CELLS = cell_names()
DATA = (Path(__file__).parent / "data").resolve()
CELL_TOML = {
    "subckt": f"""[cell]
name = "subckt"
file = "{DATA / "wta.sp"}"
subckt = "wta2"
ideal = "usercells:wta_ideal"
[cell.ports]
in = ["a", "b"]
out = ["oa", "ob"]
vdd = "vdd"
gnd = "gnd"
bias = "ib"
"""
}
TABLES = {k: tomllib.loads(v)["cell"] for k, v in CELL_TOML.items()}
"""Cell tables of cells that have no defaults (a user subcircuit: tests/data/wta.sp)."""


def _tech():  # a fixed library path, so golden files do not depend on the install location
    return c180().with_(model_lib=FIXED_LIB)


def _check(text: str, name: str) -> None:
    text = text.replace(str(DATA), "/data")  # a user cell's include, wherever the clone is
    path = GOLDEN / name
    if os.environ.get("SACTK_REGEN_GOLDEN"):
        path.write_text(text)
    assert path.exists(), f"no golden file {path.name}; run `make golden` and review it"
    assert text == path.read_text(), f"{path.name} changed; `make golden` if deliberate"


def _bench(name: str):
    cell = get_cell(name)
    table = {k: v for k, v in TABLES.get(name, {}).items() if k != "name"}
    return cell.build(cell.params(table), _tech(), bias_a=1e-7, corner="tt", temp_c=27.0)


VARIANTS: dict[str, Callable[[], object]] = {
    "mp2": lambda: get_cell("mp").build(MPParams(n_inputs=2), _tech(), bias_a=1e-7),
    "mp4": lambda: get_cell("mp").build(MPParams(n_inputs=4), _tech(), bias_a=1e-7),
    "inner2": lambda: get_cell("inner_product").build(
        InnerParams(n_inputs=2), _tech(), bias_a=1e-7
    ),
    "cmem3": lambda: get_cell("compressive_memory").build(
        CmemParams(bits=3, exp_bits=1, ref_units=4), _tech(), bias_a=1e-7
    ),
}
"""Small instances kept from before the registry (their files predate it)."""


def test_registry_lists_every_built_in_cell() -> None:
    assert {"mp", "relu", "sigmoid", "tanh", "inner_product", "compressive_memory"} < set(CELLS)
    assert "crossbar" in CELLS


@pytest.mark.parametrize("name", CELLS)
def test_golden_dc_bench(name: str) -> None:
    """Each cell's bench with its default parameters at 100 nA."""
    _check(render(_bench(name).netlist), f"{name}_c180_tt.cir")


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_golden_variants(variant: str) -> None:
    _check(render(VARIANTS[variant]().netlist), f"{variant}_c180_tt.cir")  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", CELLS)
def test_golden_tran_bench(name: str) -> None:
    """The step-response bench a [tran] section makes, or its refusal for cells whose
    inputs are not current sources."""
    bench = _bench(name)
    if not all(c.endswith("_a") for c in bench.inputs):
        with pytest.raises(SpecError, match="tran"):
            tran_bench(bench, TranSpec(), 1e-7)
        return
    try:
        tb, _, _ = tran_bench(bench, TranSpec(), 1e-7)
    except SpecError as exc:
        assert "not current sources" in str(exc)
        return
    _check(render(tb.netlist), f"{name}_tran_c180_tt.cir")


def _ideal_rows(name: str) -> pd.DataFrame:
    """Results-shaped rows of ``name`` whose output is its ideal response, from the real
    planner (the cell's preset when it has one, shrunk to 2 biases and 27 C); no simulator."""
    cell = get_cell(name)
    presets = [p for p in preset_names() if f'name = "{name}"' in preset_text(p)]
    sets = ["sweep.bias_a=[1e-8, 1e-6]", "sweep.temp_c=[27]", "mc.instances=0"]
    if presets:  # the plainest: no size sweep, no step response, then the shortest name
        text = {p: preset_text(p) for p in presets}
        best = min(presets, key=lambda p: ("wl_um" in text[p] or "[tran]" in text[p], len(p), p))
        spec = load_spec(preset=best, overrides=sets)
    elif name in CELL_TOML:
        spec = load_spec(text=CELL_TOML[name] + "[sweep]\nbias_a = [1e-8, 1e-6]\n")
    else:
        spec = load_spec(text=f'[cell]\nname = "{name}"\n[sweep]\nbias_a = [1e-8, 1e-6]\n')
    frames = []
    for job in plan(spec, _tech()):
        if job.tran is not None:
            continue
        cols = {k: np.asarray(v) for k, v in job.point_columns.items()}
        df = pd.DataFrame(cols)
        for k, v in job.coords.items():
            df[k] = v
        df["mc_index"] = -1
        df["status"] = "ok"
        df[cell.output] = df[ideal_result_column(cell)]
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("name", CELLS)
def test_golden_exports(name: str, tmp_path: Path) -> None:
    """The ngspice subcircuit and the explicit Verilog-A module of each cell's model."""
    model = LookupModel(knots=8).fit(_ideal_rows(name))
    (sub,) = export(model, "ngspice", tmp_path / "m.sub")
    _check(sub.read_text(), f"{name}_export.sub")
    va = [p for p in export(model, "verilog-a", tmp_path / "va") if p.name.endswith("_tt.va")]
    assert len(va) == 1
    _check(va[0].read_text(), f"{name}_export.va")

"""A user's circuit from a SPICE file: the 2-input winner-take-all of tests/data/wta.sp on the
built-in c180 devices, characterized with a TOML file and the .sp file only (real ngspice),
plus the refusals of malformed user cells and the new netlist elements."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _cli import run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sactk.errors import SpecError
from sactk.netlists.render import (
    Capacitor,
    Diode,
    Netlist,
    SubcktInstance,
    VoltageSource,
    render,
)
from sactk.netlists.technology import c180
from sactk.sweeps.plan import plan
from sactk.sweeps.spec import load_spec

DATA = Path(__file__).parent / "data"
SPEC = """
description = "2-input winner-take-all from a SPICE file"
[cell]
name = "subckt"
file = "wta.sp"
subckt = "wta2"
ideal = "usercells:wta_ideal"
[cell.ports]
in = ["a", "b"]
out = ["oa", "ob"]
vdd = "vdd"
gnd = "gnd"
bias = "ib"
[cell.params]
w = 4.0
[sweep]
bias_a = [1e-8, 1e-6]
temp_c = [27, 85]
corner = ["tt", "ff"]
[inputs.random]
count = 16
max_ratio = 2.0
[inputs.sweep]
points = 11
max_ratio = 2.0
"""


def _env() -> dict[str, str]:
    """The CLI finds the ideal() of tests/usercells.py on PYTHONPATH."""
    here = str(Path(__file__).parent)
    return {**os.environ, "PYTHONPATH": here + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _spec_dir(tmp: Path, text: str = SPEC) -> Path:
    shutil.copy(DATA / "wta.sp", tmp / "wta.sp")
    (tmp / "wta.toml").write_text(text)
    return tmp / "wta.toml"


pytestmark = pytest.mark.ngspice


def test_a_subcircuit_is_characterized_plotted_fitted_and_reported(tmp_path: Path) -> None:
    spec = _spec_dir(tmp_path)
    r = run("sweep", str(spec), "--out", str(tmp_path / "r"), env=_env())
    assert r.returncode == 0, r.stderr
    df = pd.read_parquet(tmp_path / "r" / "results.parquet")
    assert {"in_a_a", "in_b_a", "out_oa_a", "out_ob_a", "out_y_a"} <= set(df.columns)
    assert (df["status"] == "ok").all() and set(df["corner"]) == {"tt", "ff"}
    # a winner-take-all: the larger input takes the bias current, the outputs add up to it
    big = df[df["in_a_a"] > 1.2 * df["in_b_a"]]
    assert np.allclose(big["out_oa_a"], big["bias_a"], rtol=0.02)
    assert np.allclose(df["out_oa_a"] + df["out_ob_a"], df["bias_a"], rtol=0.02)
    r = run("plot", str(tmp_path / "r"), "--out", str(tmp_path / "p"), env=_env())
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "p" / "transfer.png").stat().st_size > 1000
    acc = pd.read_csv(tmp_path / "p" / "accuracy.csv")
    assert set(acc["corner"]) == {"tt", "ff"} and len(acc) == 8  # 2 corners x 2 temps x 2 biases
    assert "corner" in r.stdout.split("accuracy:")[1].splitlines()[1]  # the console keeps it
    r = run("fit", str(tmp_path / "r"), "--out", str(tmp_path / "m"), env=_env())
    assert r.returncode == 0, r.stderr
    info = json.loads((tmp_path / "m.json").read_text())
    assert info["cell"] == "subckt" and info["axes"]["corner"] == ["ff", "tt"]
    r = run(
        "report", str(tmp_path / "r"), "--model", str(tmp_path / "m"),
        "--out", str(tmp_path / "rep.html"), env=_env(),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "wta2" in (tmp_path / "rep.html").read_text()


def test_pelgrom_draws_reach_the_subcircuits_devices(tmp_path: Path) -> None:
    text = SPEC.replace('corner = ["tt", "ff"]', 'corner = ["tt"]') + (
        "[mc]\ninstances = 3\nseed = 1\nnominal = true\n"
    )
    spec = load_spec(_spec_dir(tmp_path, text))
    jobs = plan(spec)
    inst = jobs[0].instances
    assert [i.mc_index for i in inst] == [-1, 0, 1, 2]
    targets = {a for a, _ in inst[1].alters}
    assert "@m.xcell.m1a[delvto]" in targets and "@m.xcell.m2b[mulu0]" in targets
    # the nominal instance undoes every shift; chips differ from each other
    assert {v for _, v in inst[0].alters} <= {"0", "1"}
    assert inst[1].alters != inst[2].alters


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (('file = "wta.sp"', 'file = "missing.sp"'), "cell.file"),
        (('subckt = "wta2"', 'subckt = "wta3"'), "cell.subckt"),
        (('in = ["a", "b"]', 'in = ["a", "c"]'), "cell.ports.in"),
        (("w = 4.0", "width = 4.0"), "cell.params.width"),
        (('file = "wta.sp"', 'file = "wta\'.sp"'), "cell.file"),
        (('bias = "ib"', ""), "cell.ports"),
    ],
)
def test_malformed_user_cells_are_refused_in_one_line(
    tmp_path: Path, change: tuple[str, str], field: str
) -> None:
    spec = _spec_dir(tmp_path, SPEC.replace(*change))
    r = run("sweep", str(spec), "--out", str(tmp_path / "r"), env=_env())
    assert r.returncode == 2, r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert field in lines[0], lines[0]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(min_size=1, max_size=20))
def test_hostile_names_in_user_cell_fields_never_reach_a_netlist(tmp_path: Path, text: str) -> None:
    """Any string as the subcircuit, a pin or a parameter name is refused or is a clean
    name: it never puts a line of its own into the netlist."""
    shutil.copy(DATA / "wta.sp", tmp_path / "wta.sp")
    table = json.dumps(text)
    path = json.dumps(str(tmp_path / "wta.sp"))
    clean = {j.netlist for j in plan(load_spec(text=SPEC.replace('"wta.sp"', path)))}
    lines = len(next(iter(clean)).splitlines())
    for old, new in (
        ('subckt = "wta2"', f"subckt = {table}"),
        ('in = ["a", "b"]', f'in = ["a", {table}]'),
        ("w = 4.0", f"{table} = 4.0"),
    ):
        try:
            spec = load_spec(text=SPEC.replace(old, new).replace('"wta.sp"', path))
            texts = {j.netlist for j in plan(spec)}
        except SpecError:
            continue
        for t in texts:  # accepted: a clean name, so the netlist has the clean one's lines
            assert len(t.splitlines()) == lines, t
            assert not any(ln.startswith((".control", "shell", ".exec")) for ln in t.splitlines())


def test_new_elements_render_and_validate() -> None:
    net = Netlist(
        title="e",
        tech=c180(),
        corner="tt",
        temp_c=27.0,
        elements=(
            VoltageSource("d", "vdd", "0", 1.8),
            Capacitor("l", "vdd", "0", 1e-12),
            Diode("p", "vdd", "0", "dmod"),
            SubcktInstance("u", ("vdd", "0"), "mycell", (("w", 4.0),)),
        ),
        includes=("/tmp/cells.sp",),
    )
    text = render(net)
    assert "cl vdd 0 1e-12" in text and "dp vdd 0 dmod" in text
    assert "xu vdd 0 mycell w=4" in text and ".include '/tmp/cells.sp'" in text
    for bad in (
        Capacitor("l", "vdd", "0", -1e-12),
        Capacitor("l", "vdd", "0", float("nan")),
        Diode("p", "vdd", "0", "d mod"),
        SubcktInstance("u", ("vdd\n.control",), "mycell"),
        SubcktInstance("u", ("vdd",), "mycell", (("w", float("inf")),)),
    ):
        with pytest.raises(SpecError):
            render(Netlist("e", c180(), "tt", 27.0, (bad,)))
    with pytest.raises(SpecError, match=r"cell\.file"):
        render(Netlist("e", c180(), "tt", 27.0, (), includes=("/tmp/a'.sp",)))


def test_voltage_inputs_and_a_step_response(tmp_path: Path) -> None:
    """A voltage-driven gate (``vin``) and a [tran] step of the winner-take-all."""
    (tmp_path / "gate.sp").write_text(
        ".subckt gate g d vdd gnd\nm1 d g gnd gnd nch w=4u l=1u\n.ends gate\n"
    )
    (tmp_path / "gate.toml").write_text(
        '[cell]\nname = "subckt"\nfile = "gate.sp"\nsubckt = "gate"\n'
        '[cell.ports]\nvin = ["g"]\nout = ["d"]\nvdd = "vdd"\ngnd = "gnd"\n'
        "[sweep]\nbias_a = [1e-7]\n[inputs.random]\ncount = 0\n"
        "[inputs.sweep]\npoints = 5\nmin_ratio = 0.3\nmax_ratio = 0.7\n"
    )
    r = run("sweep", str(tmp_path / "gate.toml"), "--out", str(tmp_path / "g"))
    assert r.returncode == 0, r.stderr
    g = pd.read_parquet(tmp_path / "g" / "results.parquet").sort_values("in_g_v")
    assert np.allclose(g["in_g_v"], [0.3, 0.4, 0.5, 0.6, 0.7])
    assert np.all(np.diff(g["out_y_a"]) > 0) and g["out_y_a"].iloc[-1] > 100 * g["out_y_a"].iloc[0]
    text = SPEC.replace('corner = ["tt", "ff"]', 'corner = ["tt"]').replace("[27, 85]", "[27]")
    text += "[tran]\ninput = 0\nfrom_ratio = 0.5\nto_ratio = 1.5\nwindow_as = 3e-12\n"
    r = run("sweep", str(_spec_dir(tmp_path, text)), "--out", str(tmp_path / "t"), env=_env())
    assert r.returncode == 0, r.stderr
    t = pd.read_parquet(tmp_path / "t" / "results.parquet")
    t = t[t["analysis"] == "tran"].sort_values("bias_a")
    assert (t["status"] == "ok").all() and t["settle_s"].iloc[0] > 10 * t["settle_s"].iloc[-1]


def test_a_subcircuit_parameter_is_a_sweep_axis(tmp_path: Path) -> None:
    spec = load_spec(_spec_dir(tmp_path), overrides=["sweep.cell.w=[2, 8]"])
    jobs = plan(spec)
    assert {j.coords["param_w"] for j in jobs} == {2, 8}
    lines = {ln for j in jobs for ln in j.netlist.splitlines() if ln.startswith("xcell")}
    assert any(ln.endswith("wta2 w=2") for ln in lines) and any(
        ln.endswith("wta2 w=8") for ln in lines
    )
    # the Pelgrom area follows the swept width (w = 2 um -> 2e-6 m in the file's {w*1e-6})
    assert {j.coords["w_um"] for j in jobs} == {2.0, 8.0}

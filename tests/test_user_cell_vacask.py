"""A user's own subcircuit on ASAP7 in VACASK, the way a user runs it: `sactk sweep` with
``--simulator vacask``, then `sactk plot` and `sactk fit` on the results.

The cell (tests/data/mirror_asap7.sp) is an NMOS mirror of ``nmos_rvt`` FinFETs sized in
fins; sactk converts its ``.subckt`` into VACASK's language, and its Pelgrom draws reach both
devices through the subcircuit (``xcell:m1``) on the fins' area.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _cli import run

from sactk.netlists.technology import get_technology
from sactk.sweeps.plan import plan
from sactk.sweeps.spec import load_spec

pytestmark = [pytest.mark.ngspice, pytest.mark.asap7]

SPEC = """
[cell]
name = "subckt"
file = "{file}"
subckt = "mirror7"
[cell.ports]
in = ["a"]
out = ["out"]
out_v = 0.35
vdd = "vdd"
gnd = "gnd"
[tech]
name = "asap7"
[sweep]
bias_a = [1e-8, 1e-7, 1e-6]
[inputs.random]
count = 12
max_ratio = 2.0
min_ratio = 0.1
[inputs.sweep]
points = 9
min_ratio = 0.1
max_ratio = 2.0
[mc]
instances = {chips}
seed = 3
nominal = true
"""


def test_a_user_mirror_on_asap7_runs_through_sweep_plot_and_fit(tmp_path: Path) -> None:
    data = Path(__file__).parent / "data" / "mirror_asap7.sp"
    (tmp_path / "m.toml").write_text(SPEC.format(file=data, chips=2))
    r = run(
        "sweep", str(tmp_path / "m.toml"), "--simulator", "vacask", "--out", str(tmp_path / "r")
    )
    assert r.returncode == 0, r.stdout + r.stderr
    df = pd.read_parquet(tmp_path / "r" / "results.parquet")
    assert (df["status"] == "ok").all() and set(df["tech"]) == {"asap7"}
    nominal = df[df["mc_index"] < 0]
    gain = nominal["out_out_a"] / nominal["in_a_a"]
    assert np.all(np.abs(gain - 1.0) < 0.1), gain.describe()  # a mirror copies its input
    chips = df[df["mc_index"] >= 0].groupby("point")["out_out_a"].std() / df["bias_a"].max()
    assert (chips > 0).all()  # the draws reach the devices inside the subcircuit
    r = run("plot", str(tmp_path / "r"), "--out", str(tmp_path / "plots"))
    assert r.returncode == 0, r.stderr
    assert list((tmp_path / "plots").glob("*.png"))
    r = run("fit", str(tmp_path / "r"), "--out", str(tmp_path / "model"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert list(tmp_path.glob("model*"))


def test_the_user_mirror_in_vacask_language() -> None:
    data = Path(__file__).parent / "data" / "mirror_asap7.sp"
    spec = load_spec(text=SPEC.format(file=data, chips=1))
    job = plan(spec, get_technology("asap7"))[0]
    text = job.netlist
    assert "\nsubckt mirror7(a out vdd gnd)\n  parameters nf=4 l=8.4e-08\n" in text
    assert "\n  m1 (a a gnd gnd) nmos_rvt l=l nfin=nf\n" in text and "\nends\n" in text
    targets = {t for t, _v in job.instances[-1].alters}
    assert targets == {f"@m.xcell.m{k}[{p}]" for k in (1, 2) for p in ("delvtrand", "u0mult")}

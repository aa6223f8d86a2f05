"""Cell parameters as sweep axes: [sweep.cell] n_inputs = [2, 4, 8] in one MP sweep (real
ngspice); every swept parameter is a results column, and metrics keep the values apart."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from _cli import run

from sactk.errors import SpecError
from sactk.sweeps.plan import plan
from sactk.sweeps.spec import load_spec

pytestmark = pytest.mark.ngspice


def test_n_inputs_swept_in_one_sweep(tmp_path: Path) -> None:
    r = run(
        "sweep", "--preset", "mp-dc",
        "--set", "sweep.cell.n_inputs=[2, 4, 8]",
        "--set", "sweep.bias_a=[1e-8, 1e-6]",
        "--set", "inputs.random.count=12",
        "--set", "inputs.sweep.points=5",
        "--out", str(tmp_path / "r"),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    # every part has one schema, so a plain read of the folder loses no column
    parts = sorted((tmp_path / "r" / "results.parquet").glob("part-*.parquet"))
    assert len({frozenset(pd.read_parquet(p).columns) for p in parts}) == 1
    df = pd.read_parquet(tmp_path / "r" / "results.parquet")
    assert sorted(df["n_inputs"].unique()) == [2, 4, 8]
    # each circuit has its own inputs: no in_i4_a on the 4-input rows
    assert df[df["n_inputs"] == 4]["in_i4_a"].isna().all()
    assert df[df["n_inputs"] == 8]["in_i7_a"].notna().all()
    r = run("plot", str(tmp_path / "r"), "--out", str(tmp_path / "p"))
    assert r.returncode == 0, r.stderr
    acc = pd.read_csv(tmp_path / "p" / "accuracy.csv")
    assert len(acc) == 6 and sorted(acc["n_inputs"].unique()) == [2, 4, 8]
    assert "n_inputs" in r.stdout.split("accuracy:")[1].splitlines()[1]
    # a model covers one circuit: fitting all three is refused, naming the axis
    r = run("fit", str(tmp_path / "r"), "--out", str(tmp_path / "m"))
    assert r.returncode == 2 and "n_inputs" in r.stderr


def test_cell_axes_are_checked_by_the_cell() -> None:
    with pytest.raises(SpecError, match=r"sweep\.cell\.n_inputs"):
        load_spec(preset="mp-dc", overrides=["sweep.cell.n_inputs=[2, 99]"])
    with pytest.raises(SpecError, match=r"write sweep\.cell\.n_inputs"):
        load_spec(preset="mp-dc", overrides=["cell.n_inputs=[2, 4]"])
    spec = load_spec(preset="mp-dc", overrides=["sweep.cell.casc_scale=[2, 4]"])
    jobs = plan(spec)
    assert {j.coords["casc_scale"] for j in jobs} == {2, 4}
    # without axes, job identities are what they were
    assert "casc_scale" not in plan(load_spec(preset="mp-dc"))[0].coords

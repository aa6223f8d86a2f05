"""``sactk refine``, adaptive characterization, as a user runs it: rounds chosen from the
left-out-condition error, the point budget, the final model, a resumed run that simulates
nothing again, and one-line refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _cli import run

pytestmark = pytest.mark.ngspice

# 2 chips + nominal x 10 vectors: 30 points per condition
SMALL = [
    "--preset", "mp-mc",
    "--set", "mc.instances=2",
    "--set", "inputs.random.count=10",
    "--set", "sweep.temp_c=[-40, 125]",
    "--set", "sweep.bias_a=[1e-8, 1e-6]",
]  # fmt: skip


def test_refine_adds_conditions_until_the_budget_then_resumes(tmp_path: Path) -> None:
    out = tmp_path / "ref"
    # round 0: 2 x 2 conditions (120 points); round 1: one added condition at 2 values of
    # the other axis (60); round 2 would pass 200 points: the budget stops it
    args = ["refine", *SMALL, "--out", str(out), "--target-pct", "0.001", "--max-points", "200"]
    r = run(*args)
    assert r.returncode == 0, r.stderr
    rec = json.loads((out / "refine.json").read_text())
    assert rec["stopped"] == "budget" and rec["points"] == 180, rec
    assert [rd["points"] for rd in rec["rounds"]] == [120, 60]
    first, second = rec["rounds"]
    assert first["left_out_max_err_fs"] is None  # two points per axis: nothing interior
    # the first added condition is the 1/T midpoint of -40 and 125 C or the log midpoint
    # of the biases, and round 1 measures it left out
    assert second["temp_c"] == [20.9] or second["bias_a"] == [1e-7], second
    assert second["left_out_max_err_fs"] > 0
    model = json.loads((out / "model.json").read_text())
    assert model["cross_validation"]["folds"] == 5 and model["refine"]["stopped"] == "budget"
    assert len(model["results"]) == 2 and len(model["netlist_hashes"]) >= 2
    assert "stopped: budget; 180 points in 2 rounds" in r.stdout
    # the same command again: every round is read back, nothing is simulated
    again = run(*args)
    assert again.returncode == 0, again.stderr
    assert "0 ok, 0 with failures" in again.stdout + again.stderr
    assert json.loads((out / "refine.json").read_text())["rounds"] == rec["rounds"]


def test_refine_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    for extra in (["--target-pct", "0"], ["--max-points", "0"], ["--kind", "spline"]):
        r = run("refine", *SMALL, "--out", str(tmp_path / "x"), *extra)
        assert r.returncode == 2, (extra, r.stdout, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr

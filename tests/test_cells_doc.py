"""docs/cells.md's Python cell (a winner-take-all registered with register_cell), run as
written, then swept, plotted and fitted through sactk.api (real ngspice)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from sactk import api
from sactk.circuits import unregister_cell

DOC = Path(__file__).resolve().parents[1] / "docs" / "cells.md"
pytestmark = pytest.mark.ngspice


def test_the_documented_python_cell_runs(tmp_path: Path) -> None:
    section = DOC.read_text().split("**A cell in Python.**", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code, "no python block after 'A cell in Python'"
    try:
        exec(compile(code.group(1), str(DOC), "exec"), {})  # registers py_wta
        spec = api.load(
            text='[cell]\nname = "py_wta"\n[sweep]\nbias_a = [1e-8, 1e-6]\n'
            "[inputs.random]\ncount = 12\n[inputs.sweep]\npoints = 9\nmax_ratio = 2.0\n"
            "[mc]\ninstances = 2\nseed = 1\nnominal = true\n"
        )
        s = api.sweep(spec, tmp_path / "r")
        assert s.failed_points == 0
        made = api.plot(tmp_path / "r", tmp_path / "p")
        assert any(p.name == "transfer.png" for p in made.paths)
        acc = made.tables["accuracy"]
        assert (acc["max_abs_err_pct"] < 5).all(), acc  # a sharp WTA: off only near a tie
        model, _ = api.fit(tmp_path / "r", tmp_path / "m")
        assert model.cell_ == "py_wta"
        df = __import__("pandas").read_parquet(tmp_path / "r" / "results.parquet")
        chips = df[df["mc_index"] >= 0]
        # Pelgrom draws reached its MOSFETs: the chips differ near the tie
        tie = chips[np.isclose(chips["in_a_a"], chips["in_b_a"])]
        assert tie.groupby("mc_index")["out_y_a"].mean().nunique() > 1
    finally:
        unregister_cell("py_wta")


def test_the_documented_subcircuit_runs_as_written(tmp_path: Path) -> None:
    """The three files and four commands of docs/cells.md's SPICE-file example, in a fresh
    folder, with no PYTHONPATH: the ideal is found beside the .sp file."""
    import os
    import subprocess

    from _cli import SACTK

    section = DOC.read_text().split("**A subcircuit from a SPICE file**", 1)[1]
    section = section.split("**A cell in Python.**", 1)[0]
    files = re.findall(r"^`([\w.]+)`[^\n]*:\n\n```\w+\n(.*?)```", section, re.S | re.M)
    assert [f for f, _ in files] == ["wta.sp", "wtacell.py", "wta.toml"]
    for name, text in files:
        (tmp_path / name).write_text(text)
    commands = re.search(r"```sh\n(.*?)```", section, re.S)
    assert commands
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    for line in commands.group(1).strip().splitlines():
        args = line.split()
        assert args[0] == "sactk"
        r = subprocess.run(
            [SACTK, *args[1:]], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )
        assert r.returncode == 0, (line, r.stderr)
    sub = (tmp_path / "wta_model.sub").read_text()
    assert ".subckt sactk_wta2_tt a b oa ob ib vdd gnd params: bias_a=" in sub
    acc = (tmp_path / "plots" / "accuracy.csv").read_text()
    assert "max_abs_err_pct" in acc  # the ideal was imported: accuracy was measured

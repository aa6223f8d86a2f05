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

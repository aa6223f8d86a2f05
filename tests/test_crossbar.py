"""The crossbar tile on real ngspice: G.v through the TIA read-out, IR drop growing with
size, mismatch spreading column gain and offset; and its netlist text."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from _cli import run

from sactk.analysis.metrics import crossbar_columns
from sactk.circuits import crossbar
from sactk.errors import SpecError
from sactk.netlists.render import Resistor, render
from sactk.netlists.technology import c180
from sactk.sweeps.store import read_results


def test_netlist_text() -> None:
    p = crossbar.Params(n_inputs=3, n_cols=2)
    text = render(crossbar.build(p, c180(), bias_a=1e-5).netlist)
    assert text.count("\nrg") == 3 * 4  # a device per row and physical column
    assert text.count("\neamp") == 4 and ".control" not in text
    assert "tc1=0.0039" in text
    with pytest.raises(SpecError, match="resistance nan must be positive"):
        render(
            crossbar.build(p, c180(), bias_a=1e-5).netlist.__class__(
                "t", c180(), "tt", 27.0, (Resistor("bad", "a", "0", float("nan")),)
            )
        )


@pytest.mark.ngspice
def test_crossbar_computes_g_v_and_shows_ir_drop_and_mismatch(tmp_path: Path) -> None:
    base = ["--set", "sweep.temp_c=[27]", "--set", "sweep.bias_a=[1e-5]", "--set", "cell.n_cols=2"]
    r = run(
        "sweep",
        "--preset",
        "crossbar",
        *base,
        "--set",
        "cell.n_inputs=8",
        "--set",
        "mc.instances=6",
        "--out",
        str(tmp_path / "mc"),
    )
    assert r.returncode == 0, r.stderr
    cols = crossbar_columns(read_results(tmp_path / "mc"))
    nom = cols[cols["mc_index"] < 0]
    assert (nom["err_fs"] < 0.01).all(), nom  # nominal: G.v within 1 % of full scale
    assert (nom["nonlin_fs"] < 0.002).all()
    chips = cols[cols["mc_index"] >= 0]
    assert len(chips) == 6 * 2
    assert 0.002 < chips["gain"].std() < 0.1 and chips["offset_fs"].std() > 1e-4
    gains = {}
    for rows in (4, 32):
        out = tmp_path / f"rows{rows}"
        r = run(
            "sweep",
            "--preset",
            "crossbar",
            *base,
            "--set",
            f"cell.n_inputs={rows}",
            "--set",
            "mc.instances=0",
            "--out",
            str(out),
        )
        assert r.returncode == 0, r.stderr
        gains[rows] = float(crossbar_columns(read_results(out))["gain"].mean())
    assert 1 - gains[32] > 4 * (1 - gains[4]) > 0  # IR drop grows faster than the tile


@pytest.mark.ngspice
def test_characterize_feeds_the_tile_model(tmp_path: Path) -> None:
    r = run("aimc", "characterize", "--chips", "3", "--rows", "8,16", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "crossbar.json").read_text())
    assert 0 < doc["gain_sigma"] < 0.1 and 0 < doc["offset_sigma"] < 0.05
    # the 64-row tile the model's ir_drop refers to is simulated, not extrapolated from 16
    assert "adding the 64-row tile" in r.stdout
    assert set(doc["gain_loss_by_rows"]) == {"8", "16", "64"}
    assert doc["ir_drop"] == doc["gain_loss_by_rows"]["64"]
    assert doc["ir_drop"] > 4 * doc["gain_loss_by_rows"]["16"]  # faster than the tile grows
    assert (tmp_path / "crossbar.png").stat().st_size > 1000
    r = run(
        "aimc",
        "eval",
        "--chips",
        "2",
        "--cases",
        "breast-cancer-mlp",
        "--crossbar",
        str(tmp_path / "crossbar.json"),
        "--out",
        str(tmp_path / "eval"),
    )
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path / "eval" / "summary.json").read_text())
    assert np.isclose(s["tile"]["gain_sigma"], doc["gain_sigma"])
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    r = run("aimc", "eval", "--crossbar", str(bad), "--out", str(tmp_path / "x"))
    assert r.returncode == 2 and "not a crossbar.json" in r.stderr

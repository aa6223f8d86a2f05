"""Lookup models of simulated cells, their exports and the report, through the CLI.

A small MP sweep (3 biases x 3 temperatures on c180, real ngspice) is fitted with 20 % of
its input vectors held out; the model must predict them within 1 % of full scale, and the
ngspice and Verilog-A exports must reproduce the model within 1 % of full scale at those
held-out points (acceptance bounds; measured figures are far smaller, docs/lookup.md).
"""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _cli import run

from sactk.analysis import export as ex
from sactk.analysis.lut import LookupModel
from sactk.analysis.lutfit import ok_rows
from sactk.analysis.validation import vector_folds
from sactk.api.models import export_roundtrip
from sactk.sweeps.store import read_results

pytestmark = pytest.mark.ngspice


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("lut")
    res = tmp / "mp"
    r = run(
        "sweep",
        "--preset",
        "mp-temp",
        "--set",
        "sweep.bias_a=[1e-8, 1e-7, 1e-6]",
        "--set",
        "inputs.sweep.points=21",
        "--out",
        str(res),
    )
    assert r.returncode == 0, r.stderr
    r = run("fit", str(res), "--out", str(tmp / "model" / "mp"), "--seed", "1", "--kind", "lookup")
    assert r.returncode == 0, r.stderr
    assert "validation" in r.stdout
    return res, tmp / "model" / "mp"


def _inside(res: Path, model: LookupModel):
    """Simulated DC rows of the results inside the model's coordinate range."""
    test = ok_rows(read_results(res))
    u = test["ideal_z_a"] / test["bias_a"]
    return test[(u >= model.u_knots_[0]) & (u <= model.u_knots_[-1])]


def test_mp_model_predicts_held_out_points_within_1pct(fitted) -> None:
    res, stem = fitted
    info = json.loads(stem.with_suffix(".json").read_text())
    v = info["validation"]
    assert v["points"] > 50
    assert v["max_err_fs"] <= 0.01, v
    assert v["rms_err_fs"] <= v["max_err_fs"]
    assert info["technology"]["name"] == "c180" and info["spec"]["cell"]["name"] == "mp"
    assert info["versions"]["ngspice"] and info["netlist_hashes"]
    assert info["axes"]["temp_c"] == [-40.0, 27.0, 125.0]
    assert stem.with_name("mp.residuals.png").is_file()
    # the worst fold is reproducible: the same split and fit give the same figure
    cv = info["cross_validation"]
    assert cv["folds"] == 5 and cv["seed"] == 1 and len(cv["per_fold"]) == 5
    assert v["max_err_fs"] == max(f["max_err_fs"] for f in cv["per_fold"])
    df = ok_rows(read_results(res))
    held = vector_folds(df, cv["folds"], cv["seed"])[cv["worst_fold"]]
    m = LookupModel(knots=32, smoothing=1e-2).fit(df[~held])
    test = df[held]
    test = test[m.inside(test)]
    err = (m.predict_results(test) - test["out_z_a"]) / test["fs_a"]
    assert np.isclose(np.max(np.abs(err)), v["max_err_fs"])
    # held-out conditions: each interior temperature and bias left out, in the record
    loco = info["conditions_left_out"]["per_condition"]
    assert {(r["axis"], r["value"]) for r in loco} == {("temp_c", 27.0), ("bias_a", 1e-7)}
    assert all(r["max_err_fs"] > 0 for r in loco)


def test_ngspice_export_reproduces_the_model(fitted, tmp_path: Path) -> None:
    res, stem = fitted
    m = LookupModel.load(stem)
    sub = tmp_path / "mp.sub"
    r = run("export", str(stem), "--format", "ngspice", "--out", str(sub))
    assert r.returncode == 0, r.stderr
    text = sub.read_text()
    assert ".subckt sactk_mp_tt inp out params: bias_a=" in text
    assert ".control" not in text and "shell" not in text
    test = _inside(res, m).sample(60, random_state=0)
    # plus points between the fitted biases and temperatures
    rng = np.random.default_rng(2)
    b = np.concatenate([test["bias_a"], 10 ** rng.uniform(-8, -6, 20)])
    t = np.concatenate([test["temp_c"], rng.uniform(-40, 125, 20).round(1)])
    u = np.concatenate(
        [test["ideal_z_a"], rng.uniform(m.u_knots_[0], m.u_knots_[-1], 20) * b[-20:]]
    )
    fs = np.concatenate([test["fs_a"], 2.0 * b[-20:]])
    sim = export_roundtrip(m, sub, u, b, t)
    want = m.evaluate(u, b, t)
    assert np.max(np.abs(sim - want) / fs) <= 0.01
    assert np.max(np.abs(sim - want) / fs) < 1e-4  # in fact the same interpolation


def test_verilog_a_exports(fitted, tmp_path: Path) -> None:
    res, stem = fitted
    m = LookupModel.load(stem)
    r = run("export", str(stem), "--format", "verilog-a", "--out", str(tmp_path / "va"))
    assert r.returncode == 0, r.stderr
    tm = (tmp_path / "va" / "sactk_mp_tt_tm.va").read_text()
    # the $table_model flavour: module, ports, the call and its table file
    assert re.search(r"^module sactk_mp_tt_tm\(inp, out\);", tm, re.M)
    assert re.search(r"^\s*electrical inp, out;", tm, re.M)
    call = re.search(r'\$table_model\(u, lb, tc, "([^"]+)", "1E,1E,1E"\)', tm)
    assert call, tm
    rows = [
        line.split()
        for line in (tmp_path / "va" / call.group(1)).read_text().splitlines()
        if not line.startswith("#")
    ]
    assert len(rows) == m.table_[0].size and all(len(r_) == 4 for r_ in rows)
    vals = np.array(rows, dtype=float)
    k = 123
    t_i, b_i, u_i = np.unravel_index(k, m.table_[0].shape)
    assert vals[k, 0] == pytest.approx(m.u_knots_[u_i])
    assert vals[k, 1] == pytest.approx(m.log_bias_[b_i])
    assert vals[k, 2] == pytest.approx(m.temp_c_[t_i])
    assert vals[k, 3] == pytest.approx(m.table_[0, t_i, b_i, u_i], rel=1e-10)
    # the explicit flavour compiles with OpenVAF's front end and matches the model
    test = _inside(res, m)
    got = ex.evaluate_verilog_a(
        tmp_path / "va" / "sactk_mp_tt.va", test["ideal_z_a"], test["bias_a"], test["temp_c"]
    )
    want = m.evaluate(test["ideal_z_a"], test["bias_a"], test["temp_c"])
    assert np.max(np.abs(got - want) / test["fs_a"]) <= 0.01
    # ... and runs as a circuit element in VACASK, with bias_a per instance
    va = export_roundtrip(
        m, tmp_path / "va", test["ideal_z_a"], test["bias_a"], test["temp_c"], simulator="vacask"
    )
    assert np.max(np.abs(va - want) / test["fs_a"]) <= 1e-4
    # ... which is why there are two flavours: OpenVAF has no $table_model
    import verilogae

    with pytest.raises(RuntimeError):
        verilogae.load(str(tmp_path / "va" / "sactk_mp_tt_tm.va"))


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.imgs: list[str] = []
        self.external: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for k, v in attrs:
            if tag == "img" and k == "src":
                self.imgs.append(v or "")
            elif k in ("src", "href") and v and not v.startswith("data:"):
                self.external.append(v)


def test_report_is_one_self_contained_page(fitted, tmp_path: Path) -> None:
    res, stem = fitted
    out = tmp_path / "r.html"
    r = run("report", str(res), "--model", str(stem), "--out", str(out))
    assert r.returncode == 0, r.stderr
    page = _Page()
    text = out.read_text()
    page.feed(text)
    assert not page.external and "script" not in page.tags and "link" not in page.tags
    assert len(page.imgs) >= 5  # transfer, error, heatmap, scatter, residuals
    for src in page.imgs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    for needle in ("error heatmap", "residuals", "max_abs_err_pct", "c180", "Lookup model mp"):
        assert needle in text


def test_model_commands_refuse_bad_input(fitted, tmp_path: Path) -> None:
    res, stem = fitted
    bad = [
        ("fit", str(tmp_path / "nowhere"), "--out", str(tmp_path / "m")),
        ("fit", str(res), "--out", str(tmp_path / "m"), "--folds", "1"),
        ("fit", str(res), "--out", str(tmp_path / "m"), "--output", "out_q_a"),
        ("export", str(stem), "--format", "spice3", "--out", str(tmp_path / "x")),
        ("export", str(tmp_path / "missing"), "--format", "csv", "--out", str(tmp_path / "x")),
    ]
    for args in bad:
        r = run(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr
    r = run("export", str(stem), "--format", "csv", "--out", str(tmp_path / "m.csv"))
    assert r.returncode == 0
    lines = (tmp_path / "m.csv").read_text().splitlines()
    # the same column names as the results (ideal_z_a there, ideal_z_a here)
    assert lines[0].startswith("corner,temp_c,bias_a,ideal_z_a,u_norm,")
    assert "ideal_z_a" in pd.read_parquet(res / "results.parquet").columns
    assert len(lines) == 1 + LookupModel.load(stem).table_.size


def test_fit_validates_on_a_second_results_directory(fitted, tmp_path: Path) -> None:
    res, _ = fitted
    r = run("fit", str(res), "--validate", str(res), "--out", str(tmp_path / "m"))
    assert r.returncode == 0, r.stderr
    info = json.loads((tmp_path / "m.json").read_text())
    v = info["validation"]
    assert v["how"].startswith("separate results")
    assert info["cross_validation"]["folds"] == 5  # measured beside it
    assert v["max_err_fs"] <= 0.01  # fitted on these very points: a consistency check
    assert info["validated_on"] == str(res)


def test_a_lookup_table_exports_one_chip(tmp_path: Path) -> None:
    """``--chip K`` on a lookup model writes chip K's own table: in ngspice it reproduces
    ``evaluate(chip=...)`` of that chip, which differs from the nominal table's."""
    res = tmp_path / "r"
    r = run(
        "sweep", "--preset", "shape-tanh-mc", "--set", "mc.instances=3",
        "--set", "sweep.bias_a=[1e-8, 1e-7]", "--set", "sweep.temp_c=[27]",
        "--set", "inputs.sweep.points=41", "--out", str(res),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    r = run("fit", str(res), "--out", str(tmp_path / "m"), "--folds", "2")
    assert r.returncode == 0, r.stderr
    m = LookupModel.load(tmp_path / "m")
    sub = tmp_path / "c.sub"
    r = run("export", str(tmp_path / "m"), "--format", "ngspice", "--out", str(sub), "--chip", "2")
    assert r.returncode == 0, r.stderr
    assert ".subckt sactk_tanh_tt_chip2 inp out" in sub.read_text()
    u = np.linspace(-3e-8, 3e-8, 7)
    want = m.evaluate(u, 1e-8, 27.0, chip=m.chip_rows([2]))
    from sactk.api.models import roundtrip

    sim = roundtrip(m, sub, u, 1e-8, 27.0, chip=2)
    assert np.max(np.abs(sim - want)) < 1e-4 * 1e-8
    assert np.max(np.abs(want - m.evaluate(u, 1e-8, 27.0))) > 1e-4 * 1e-8

"""A user circuit's drop-in model (analysis/inputmodel.py, analysis/inputexport.py): the
5-transistor OTA of tests/data/ota.sp, with two voltage inputs, swept, fitted as a table of
its own inputs, exported with its own pins and dropped into a fresh ngspice netlist and into
VACASK in place of the transistors. Bound: within 1 % of the bias (its full scale) of the
transistor circuit at three operating points, one of them (50 C, 300 nA) not fitted."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from _cli import run

from sactk.analysis.model import load_model
from sactk.netlists.technology import c180
from sactk.sweeps.backends import vacask
from sactk.sweeps.backends.batch import run_batch

DATA = Path(__file__).parent / "data"
SPEC = (Path(__file__).parent / "test_userfile.py").read_text().split('OTA = """')[1]
SPEC = SPEC.split('"""')[0].replace("count = 12", "count = 80")
SPEC = SPEC.replace("bias_a = [1e-8, 1e-7]", "bias_a = [1e-8, 1e-7, 1e-6]")
POINTS = [(27.0, 1e-7), (85.0, 1e-6), (50.0, 3e-7)]  # the last: between fitted conditions
VECTORS = [(0.75, 0.76), (0.78, 0.74), (0.72, 0.79), (0.755, 0.75)]

pytestmark = pytest.mark.ngspice


def _ngspice(include: str, name: str, temp_c: float, bias_a: float) -> list[float]:
    out = []
    for vp, vn in VECTORS:
        deck = "\n".join(
            [
                "* drop-in check",
                include,
                "vdd vdd 0 dc 1.8",
                f"vinp inp 0 dc {vp}",
                f"vinn inn 0 dc {vn}",
                f"ibias tail 0 dc {bias_a}",
                "vout out 0 dc 0.9",
                f"xdut inp inn out tail vdd 0 {name}"
                + (f" bias_a={bias_a}" if name.startswith("sactk") else ""),
                f".temp {temp_c}",
                ".op",
                ".end",
            ]
        )
        text = run_batch(deck + "\n")
        got = re.search(r"^\s*vout#branch\s+(\S+)", text, flags=re.M)
        assert got, text[-500:]
        out.append(-float(got.group(1)))
    return out


def _vacask(osdi: Path, name: str, temp_c: float, bias_a: float) -> list[float]:
    """The compiled module in a VACASK deck of the same bench, one instance per vector."""
    lines = ["drop-in check", "ground 0", f'load "{osdi.name}"', "model vsource vsource"]
    lines += ["model isource isource", f"model cellmodel {name}"]
    lines.append("vdd (vdd 0) vsource dc=1.8")
    for k, (vp, vn) in enumerate(VECTORS):
        lines += [
            f"vinp{k} (inp{k} 0) vsource dc={vp}",
            f"vinn{k} (inn{k} 0) vsource dc={vn}",
            f"vout{k} (out{k} 0) vsource dc=0.9",
            f"x{k} (inp{k} inn{k} out{k} tail{k} vdd 0) cellmodel bias_a={bias_a}",
            f"it{k} (tail{k} 0) isource dc={bias_a}",
        ]
    lines += ["control", f"  options temp={temp_c}", "  analysis op0 op", "endc"]
    vec = vacask.run("\n".join(lines) + "\n", {osdi.name: osdi}, ["op0"])
    return [-float(vec["op0"][f"vout{k}:flow(br)"][0]) for k in range(len(VECTORS))]


def test_the_ota_exports_as_a_drop_in_cell(tmp_path: Path) -> None:
    for f in ("ota.sp", "otacells.py"):
        shutil.copy(DATA / f, tmp_path / f)
    (tmp_path / "ota.toml").write_text(SPEC)
    assert run("sweep", "ota.toml", "--out", "r", cwd=tmp_path).returncode == 0
    r = run("fit", "r", "--out", "m", "--folds", "2", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    model = load_model(tmp_path / "m")
    assert model.kind == "inputs" and model.module_name("tt") == "sactk_ota5_tt"
    for fmt, out in (("ngspice", "m.sub"), ("verilog-a", "va"), ("csv", "m.csv"), ("json", "m.j")):
        r = run("export", "m", "--format", fmt, "--out", out, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
    sub = (tmp_path / "m.sub").read_text()
    assert ".subckt sactk_ota5_tt inp inn out tail vdd gnd params: bias_a=" in sub
    lib = f".lib '{c180().model_lib}' tt\n.include '{tmp_path / 'ota.sp'}'"
    osdi = vacask.compile_va(tmp_path / "va" / "sactk_ota5_tt.va", tmp_path / "m.osdi")
    for temp_c, bias_a in POINTS:
        ref = np.array(_ngspice(lib, "ota5", temp_c, bias_a))
        sp = np.array(_ngspice(f".include '{tmp_path / 'm.sub'}'", "sactk_ota5_tt", temp_c, bias_a))
        va = np.array(_vacask(osdi, "sactk_ota5_tt", temp_c, bias_a))
        py = model.evaluate(np.array(VECTORS), bias_a, temp_c)
        assert np.max(np.abs(sp - ref)) / bias_a < 0.01, (temp_c, bias_a, sp / bias_a, ref / bias_a)
        assert np.max(np.abs(va - ref)) / bias_a < 0.01, (temp_c, bias_a, va / bias_a)
        assert np.allclose(sp, py, rtol=1e-4, atol=1e-6 * bias_a)  # the export is the model
    # per-chip exports need chips: this model has none, and says so in one line
    r = run("export", "m", "--format", "ngspice", "--out", "c.sub", "--chip", "0", cwd=tmp_path)
    assert r.returncode == 2 and "chip 0 was not fitted" in r.stderr, r.stderr


def test_a_user_cell_without_ideal_fits_and_exports_per_chip(tmp_path: Path) -> None:
    """The WTA of tests/data/wta.sp has no ideal(): it fits as a table of its two input
    currents (a lookup table against the ideal output refused it), with per-chip tables
    that export one by one under the subcircuit's name."""
    shutil.copy(DATA / "wta.sp", tmp_path / "wta.sp")
    spec = (Path(__file__).parent / "test_userfile.py").read_text().split('WTA = """')[1]
    spec = spec.split('"""')[0].replace("count = 4", "count = 30")
    (tmp_path / "wta.toml").write_text(spec + "[mc]\ninstances = 3\nseed = 5\nnominal = true\n")
    assert run("sweep", "wta.toml", "--out", "r", cwd=tmp_path).returncode == 0
    r = run("fit", "r", "--out", "m", "--folds", "2", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    m = load_model(tmp_path / "m")
    assert m.kind == "inputs" and m.input_columns == ["in_a_a", "in_b_a"]
    r = run("export", "m", "--format", "ngspice", "--out", "c.sub", "--chip", "1", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "c.sub").read_text()
    assert ".subckt sactk_wta2_tt_chip1 a b oa ob ib vdd gnd params: bias_a=" in text
    x = np.array([[1.5e-7, 0.5e-7]])
    assert m.evaluate(x, 1e-7, 27.0, chip=1)[0] != m.evaluate(x, 1e-7, 27.0, chip=2)[0]

"""The AIMC tile model, calibration, the NMPU paths on trained networks, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from _cli import run

from sactk.system import aimc
from sactk.system.nmpu import NMPUFormat


def test_an_ideal_tile_computes_w_x_in_codes() -> None:
    spec = aimc.TileSpec(
        adc_bits=16, prog_sigma=0, read_sigma=0, gain_sigma=0, offset_sigma=0, ir_drop=0
    )
    rng = np.random.default_rng(0)
    W = rng.standard_normal((100, 7))  # two row tiles
    layer = aimc.program(W, spec, rng)
    xq = rng.integers(0, 256, (40, 100)).astype(float)
    v = xq / 255 * spec.v_read_v
    layer.i_fs = float(np.abs(v @ (W / layer.w_max * spec.g_max_s)).max())
    q = 2**15 - 1
    layer.code_gain = spec.g_max_s * spec.v_read_v * q / (layer.w_max * 255 * layer.i_fs)
    codes = aimc.tile_codes(layer, xq, spec, rng)
    # two tiles each round once: within one code of the exact W x
    assert np.max(np.abs(codes - layer.code_gain * (xq @ W))) <= 1.0


def test_calibration_measures_each_columns_gain_and_offset() -> None:
    rng = np.random.default_rng(1)
    xtr, ytr, _, _, k = aimc.dataset("digits", 0)
    net = aimc.make_net("mlp", 64, k, rng)
    aimc.train(net, xtr, ytr, 0, epochs=5)
    noisy = aimc.TileSpec(gain_sigma=0.1, offset_sigma=0.02)
    dep = aimc.deploy(net, noisy, xtr, np.random.default_rng(2), NMPUFormat())
    # the NMPU's scale undoes each column's gain: a_c x gain_c is the same for all columns
    # up to batch-norm, so compare with an ideal chip programmed from the same seed
    ideal = aimc.TileSpec(gain_sigma=0.0, offset_sigma=0.0)
    dep0 = aimc.deploy(net, ideal, xtr, np.random.default_rng(2), NMPUFormat())
    g = dep.chip[0].gain.mean(0) / dep0.chip[0].gain.mean(0)
    ratio = dep0.nmpus["fp32"][0].a / dep.nmpus["fp32"][0].a
    assert np.corrcoef(g, ratio)[0, 1] > 0.95


def test_fixed_nmpu_within_half_a_point_of_fp16_on_digits(tmp_path: Path) -> None:
    out = tmp_path / "aimc"
    r = run("aimc", "eval", "--chips", "5", "--cases", "digits-cnn,digits-mlp", "--out", str(out))
    assert r.returncode == 0, r.stderr
    s = json.loads((out / "summary.json").read_text())
    for key in ("fp32_acc_mean", "fp16_acc_mean", "fixed_acc_mean"):
        assert s[key] > 90, s
    assert s["chips"] == 5 and s["format"] == {"scale": "uQ1.7", "offset": "sQ7.1"}
    for run_ in s["runs"]:
        assert len(run_["per_chip"]["fixed"]) == 5
        assert run_["fp16_acc_mean"] - run_["fixed_acc_mean"] <= 0.5, run_  # acceptance bound
    assert (out / "aimc_accuracy.png").stat().st_size > 1000


def test_bit_sweep_shows_narrow_offsets_cost_accuracy(tmp_path: Path) -> None:
    out = tmp_path / "bits"
    r = run(
        "aimc",
        "bits",
        "--chips",
        "2",
        "--scale-frac",
        "1,7",
        "--offset-formats",
        "s7.1,s2.1",
        "--out",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads((out / "bits.json").read_text())
    rows = {(q["scale"], q["offset"]): q for q in doc["rows"]}
    assert len(rows) == 4
    assert rows["uQ1.7", "sQ7.1"]["drop_vs_fp16"] <= 0.5
    assert rows["uQ1.7", "sQ2.1"]["drop_vs_fp16"] > rows["uQ1.7", "sQ7.1"]["drop_vs_fp16"] + 1
    assert rows["uQ1.1", "sQ7.1"]["fixed_ge"] < rows["uQ1.7", "sQ7.1"]["fixed_ge"]
    assert rows["uQ1.7", "sQ7.1"]["fixed_ge"] < rows["uQ1.7", "sQ7.1"]["fp16_ge"]
    assert (out / "aimc_bits.png").is_file()


def test_aimc_commands_refuse_bad_input(tmp_path: Path) -> None:
    cases = [
        ("aimc", "eval", "--out", str(tmp_path), "--scale-format", "q1.7"),
        ("aimc", "eval", "--out", str(tmp_path), "--offset-format", "s40.1"),
        ("aimc", "eval", "--out", str(tmp_path), "--cases", "cifar-resnet"),
        ("aimc", "eval", "--out", str(tmp_path), "--prog-sigma", "1.5"),
        ("aimc", "bits", "--out", str(tmp_path), "--scale-frac", "x"),
    ]
    for args in cases:
        r = run(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr

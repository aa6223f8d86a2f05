"""Stochastic computing: device model and fit, packed streams, SC arithmetic and its error
law, the binomial fast path against the packed reference, SC-updated training, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from _cli import run

from sactk.errors import SpecError
from sactk.system import sc

rng0 = np.random.default_rng


def test_device_inverse_and_variation() -> None:
    d = sc.Device()
    p = np.linspace(0.01, 0.99, 25)
    np.testing.assert_allclose(d.p_switch(d.amplitude_for(p), d.width_s), p, rtol=1e-9)
    # a nominal device encodes exactly; a slower one (larger tau0) encodes less
    np.testing.assert_allclose(d.encoded(p, d.tau0_s, d.v0_v), p, rtol=1e-9)
    assert np.all(d.encoded(p, 1.5 * d.tau0_s, d.v0_v) < p)
    assert d.encoded(0.0, 2 * d.tau0_s, d.v0_v) == 0.0 and d.encoded(1.0, d.tau0_s, d.v0_v) == 1.0
    spread = sc.encoding_spread(d, np.array([0.1, 0.5, 0.9]), 4000, seed=1)
    assert np.all(spread["std"] > 0) and np.all(np.abs(spread["mean"] - spread["p"]) < 0.05)
    with pytest.raises(SpecError, match=r"device\.tau0_s"):
        sc.Device(tau0_s=-1.0)


def test_fit_recovers_tau0_and_v0_within_5_percent() -> None:
    d = sc.Device()
    amps = np.round(np.arange(1.8, 3.81, 0.05), 2)
    widths = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
    for seed in range(3):
        df = sc.synthetic_switching_data(d, amps, widths, trials=10000, seed=seed)
        tau0, v0 = sc.fit_device(df["amplitude_v"], df["width_s"], df["switched"], df["trials"])
        assert abs(tau0 / d.tau0_s - 1) < 0.05, tau0
        assert abs(v0 / d.v0_v - 1) < 0.05, v0
    with pytest.raises(SpecError, match="does not rise"):
        sc.fit_device([1.0, 2.0, 3.0], [1e-3] * 3, [80, 50, 20], [100] * 3)


def test_pack_and_count_with_a_partial_last_word() -> None:
    rng = rng0(0)
    for length in (1, 63, 64, 65, 200):
        bits = rng.random((5, length)) < 0.4
        s = sc.pack(bits)
        assert s.dtype == np.uint64 and s.shape == (5, sc.words(length))
        np.testing.assert_array_equal(sc.count(s, length), bits.sum(axis=1))
        # the unused high bits never count, even after a NOT
        np.testing.assert_array_equal(sc.count(~s, length), length - bits.sum(axis=1))


def test_sc_multiply_error_falls_as_sqrt_p_one_minus_p_over_length() -> None:
    rng = rng0(3)
    pa, pb = 0.7, 0.6
    p = pa * pb
    trials = 3000
    for length in (16, 32, 64, 128, 256, 512, 1024):
        a = sc.streams(np.full(trials, pa), length, rng)
        b = sc.streams(np.full(trials, pb), length, rng)
        est = sc.value(sc.mul(a, b), length)
        rms = float(np.sqrt(np.mean((est - p) ** 2)))
        want = np.sqrt(p * (1 - p) / length)
        assert abs(rms / want - 1) < 0.2, (length, rms, want)


def test_bipolar_mux_and_correlation() -> None:
    rng = rng0(4)
    L, n = 1024, 400
    xa, xb = 0.6, -0.5  # bipolar values, p = (x + 1) / 2
    a = sc.streams(np.full(n, (xa + 1) / 2), L, rng)
    b = sc.streams(np.full(n, (xb + 1) / 2), L, rng)
    prod = sc.bipolar_value(sc.mul_bipolar(a, b), L)
    assert abs(prod.mean() - xa * xb) < 4 * prod.std() / np.sqrt(n)
    half = sc.streams(np.full(n, 0.5), L, rng)
    pa, pb = 0.2, 0.9
    s = sc.mux_add(sc.streams(np.full(n, pa), L, rng), sc.streams(np.full(n, pb), L, rng), half)
    assert abs(sc.value(s, L).mean() - (pa + pb) / 2) < 0.01
    # correlation: independent ~ 0, a stream with itself +1, with its complement -1
    assert np.abs(sc.scc(a, b, L)).mean() < 0.1
    np.testing.assert_allclose(sc.scc(a, a, L), 1.0)
    np.testing.assert_allclose(sc.scc(a, ~a, L), -1.0)
    # why it matters: AND of a stream with itself gives p, not p^2
    assert abs(sc.value(sc.mul(a, a), L).mean() - (xa + 1) / 2) < 0.01


def test_binomial_fast_path_agrees_with_packed_streams_in_distribution() -> None:
    from scipy.stats import ks_2samp

    rng = rng0(5)
    pa = np.full(20000, 0.8)
    pb = np.full(20000, 0.35)
    packed = sc.and_counts(pa, pb, 64, rng, packed=True)
    fast = sc.and_counts(pa, pb, 64, rng, packed=False)
    assert ks_2samp(packed, fast).pvalue > 1e-3
    for c in (packed, fast):
        assert abs(c.mean() - 64 * 0.28) < 0.05
        assert abs(c.var() / (64 * 0.28 * 0.72) - 1) < 0.05


def test_mac_cost_model() -> None:
    c = sc.mac_cost(256)
    assert c["bits"] == 8 and c["sc_gates"]["AND2"] == 1 and c["sc_cycles"] == 256
    assert c["fixed_gates"]["AND2"] == 64  # an 8 x 8 array multiplier
    ratios = [sc.mac_cost(L)["ratio"] for L in (16, 64, 256, 1024)]
    assert all(r > 1 for r in ratios) and ratios == sorted(ratios)


def test_sc_training_matches_float_and_rescues_low_precision(tmp_path: Path) -> None:
    out = tmp_path / "sc"
    r = run(
        "sc",
        "train",
        "--length",
        "256",
        "--seeds",
        "3",
        "--lengths",
        "",
        "--bits",
        "6",
        "--out",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    s = json.loads((out / "summary.json").read_text())
    for key in ("length", "float_acc_mean", "sc_acc_mean", "float_acc_std", "sc_acc_std"):
        assert key in s
    assert s["length"] == 256 and s["float_acc_mean"] > 90
    assert abs(s["sc_acc_mean"] - s["float_acc_mean"]) <= 1.0, s  # acceptance bound (docs/sc.md)
    six = s["precision"][0]
    assert six["bits"] == 6
    assert six["sc_acc_mean"] > six["fixed_acc_mean"] + 20  # rounding stalls, SC does not
    for name in ("sc_training_curves.png", "sc_accuracy_vs_bits.png"):
        assert (out / name).stat().st_size > 1000


def test_sc_commands_refuse_bad_input(tmp_path: Path) -> None:
    bad_csv = tmp_path / "d.csv"
    bad_csv.write_text("amplitude_v,width_s,trials\n1,1e-3,10\n")
    cases = [
        ("sc", "train", "--out", str(tmp_path / "x"), "--net", "rnn"),
        ("sc", "train", "--out", str(tmp_path / "x"), "--lengths", "16,abc"),
        ("sc", "train", "--out", str(tmp_path / "x"), "--tau0", "-3"),
        ("sc", "device", "--out", str(tmp_path / "x"), "--data", str(bad_csv)),
        ("sc", "device", "--out", str(tmp_path / "x"), "--data", str(tmp_path / "none.csv")),
        ("sc", "mac-cost", "--length", "1"),
    ]
    for args in cases:
        r = run(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    r = run("sc", "device", "--out", str(tmp_path / "dev"))
    assert r.returncode == 0, r.stderr
    fit = json.loads((tmp_path / "dev" / "device_fit.json").read_text())
    assert abs(fit["v0_v"] / 0.156 - 1) < 0.05  # the bundled synthetic set
    assert (tmp_path / "dev" / "sc_device.png").is_file()

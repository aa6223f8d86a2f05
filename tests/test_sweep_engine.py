"""The sweep engine on real ngspice: kill and resume, dask against local, kept netlists,
Monte Carlo spread and its area law, corners, and the transient speed/power columns."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _cli import SACTK, run

from sactk.sweeps.run import run_sweep
from sactk.sweeps.spec import SweepSpec, load_spec
from sactk.sweeps.store import read_results

pytestmark = pytest.mark.ngspice

# Six jobs of 1500 points: long enough (about 0.5 s each) to be killed midway.
KILLABLE = [
    "--preset",
    "mp-dc",
    "--set",
    "sweep.bias_a=[1e-8, 3e-8, 1e-7, 3e-7, 1e-6, 3e-6]",
    "--set",
    "inputs.random.count=1500",
    "--set",
    "inputs.sweep.points=0",
    "--jobs",
    "1",
]


def _parts(out: Path) -> list[Path]:
    return sorted((out / "results.parquet").glob("part-*.parquet"))


def _recorded(out: Path) -> int:
    """Jobs recorded so far: the manifest with its journal folded in."""
    from sactk.errors import SpecError
    from sactk.sweeps.store import read_manifest

    try:
        return len(read_manifest(out).get("jobs", {}))
    except SpecError:  # not created yet
        return 0


def test_sigkill_midway_then_resume_equals_uninterrupted(tmp_path: Path) -> None:
    ref = tmp_path / "ref"
    r = run("sweep", *KILLABLE, "--out", str(ref))
    assert r.returncode == 0, r.stderr

    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [SACTK, "sweep", *KILLABLE, "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while _recorded(out) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    from sactk.sweeps.store import read_manifest

    finished = read_manifest(out)["jobs"]
    assert 2 <= len(finished) < 6, "the kill should land midway"
    kept = {p.name: p.stat().st_mtime_ns for p in _parts(out) if p.stem[5:] in finished}

    r2 = run("sweep", *KILLABLE, "--out", str(out))
    assert r2.returncode == 0, r2.stderr
    summary = json.loads((out / "manifest.json").read_text())["summary"]
    assert summary["jobs_skipped"] == len(finished)
    assert summary["jobs_ok"] == 6 - len(finished)
    # Finished jobs were not rerun: their parts are untouched.
    assert {p.name: p.stat().st_mtime_ns for p in _parts(out) if p.name in kept} == kept
    pd.testing.assert_frame_equal(read_results(out), read_results(ref), check_exact=True)


SMALL = [
    "--preset",
    "mp-dc",
    "--set",
    "sweep.bias_a=[1e-8, 1e-7, 1e-6]",
    "--set",
    "inputs.random.count=4",
    "--set",
    "inputs.sweep.points=3",
    "--set",
    "mc.instances=3",
]


def test_dask_local_cluster_matches_local_bit_for_bit(tmp_path: Path) -> None:
    r1 = run("sweep", *SMALL, "--out", str(tmp_path / "local"), "--jobs", "2")
    assert r1.returncode == 0, r1.stderr
    r2 = run("sweep", *SMALL, "--out", str(tmp_path / "dask"), "--executor", "dask", "--jobs", "2")
    assert r2.returncode == 0, r2.stderr
    assert "dask executor, 2 workers" in r2.stdout
    a, b = read_results(tmp_path / "local"), read_results(tmp_path / "dask")
    assert len(a) == 3 * 3 * 7
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_keep_netlists_writes_every_job(tmp_path: Path) -> None:
    out = tmp_path / "o"
    r = run("sweep", *SMALL, "--out", str(out), "--keep-netlists")
    assert r.returncode == 0, r.stderr
    jobs = json.loads((out / "manifest.json").read_text())["jobs"]
    files = {p.stem: p.read_text() for p in (out / "netlists").glob("*.cir")}
    assert {j["netlist_hash"] for j in jobs.values()} == set(files)
    for text in files.values():
        assert text.startswith("* sactk mp cell") and ".control" not in text


def _spec(sweep: str, tables: str = "") -> SweepSpec:
    return load_spec(
        text="[sweep]\nbias_a = [1e-8, 1e-6]\n"
        + sweep
        + "[inputs.random]\ncount = 8\n[inputs.sweep]\npoints = 0\n"
        + tables
    )


def test_monte_carlo_spread_falls_with_area(tmp_path: Path) -> None:
    """Pelgrom: 16x the area, a quarter of the sigma (generously 2x..8x here, 30 chips)."""
    spec = _spec("wl_um = [[4.0, 1.0], [16.0, 4.0]]\n", "[mc]\ninstances = 30\nnominal = true\n")
    s = run_sweep(spec, tmp_path / "mc", n_jobs=1)
    assert s.failed_points == 0
    df = read_results(tmp_path / "mc")
    assert set(df["mc_index"]) == set(range(-1, 30)) and (df["mc_seed"] == 1).all()
    df["z_norm"] = df["out_z_a"] / df["bias_a"]
    chips = df[df["mc_index"] >= 0]
    sigma = chips.groupby(["w_um", "bias_a", "point"])["z_norm"].std().groupby(level=0).median()
    assert 0.005 < sigma[4.0] < 0.5
    assert 2.0 < sigma[4.0] / sigma[16.0] < 8.0
    # The nominal instance inside an MC job equals a run without mismatch, bit for bit.
    nom = run_sweep(_spec("wl_um = [[4.0, 1.0], [16.0, 4.0]]\n"), tmp_path / "nom", n_jobs=1)
    assert nom.failed_points == 0
    a = df[df["mc_index"] == -1].sort_values(["w_um", "bias_a", "point"])["out_z_a"].to_numpy()
    b = read_results(tmp_path / "nom").sort_values(["w_um", "bias_a", "point"])["out_z_a"]
    assert np.array_equal(a, b.to_numpy())


def test_corners_and_supply_are_axes(tmp_path: Path) -> None:
    spec = _spec('corner = ["tt", "ff", "ss"]\nvdd_v = [1.6, 1.8]\n')
    s = run_sweep(spec, tmp_path / "c", n_jobs=1)
    assert s.failed_points == 0
    df = read_results(tmp_path / "c")
    assert set(df["corner"]) == {"tt", "ff", "ss"} and set(df["vdd_v"]) == {1.6, 1.8}
    # MP is a ratio of currents: the corner moves the gate voltage, not the function.
    vg = df.groupby("corner")["out_vg_v"].mean()
    assert vg["ss"] > vg["tt"] + 0.02 > vg["ff"] + 0.04
    err = (df["out_z_a"] / df["bias_a"]).groupby(df["point"]).agg(np.ptp)
    assert err.max() < 0.02
    # Supply power scales with the supply voltage at fixed currents.
    p = df.groupby("vdd_v")["power_w"].mean()
    assert p[1.8] / p[1.6] == pytest.approx(1.8 / 1.6, rel=0.02)


def test_transient_settling_scales_as_one_over_bias(tmp_path: Path) -> None:
    spec = load_spec(
        text="[sweep]\nbias_a = [1e-8, 1e-7, 1e-6]\n[inputs.random]\ncount = 0\n"
        "[inputs.sweep]\npoints = 0\n[tran]\n"
    )
    s = run_sweep(spec, tmp_path / "t", n_jobs=1)
    assert s.failed_points == 0
    df = read_results(tmp_path / "t").set_index("bias_a")
    assert (df["analysis"] == "tran").all()
    settle, power = df["settle_s"], df["power_w"]
    # Settling time ~ C U_T / I: a decade of bias is roughly a decade of speed (3x..30x).
    for lo, hi in ((1e-8, 1e-7), (1e-7, 1e-6)):
        assert 3.0 < settle[lo] / settle[hi] < 30.0
        assert power[hi] / power[lo] == pytest.approx(10.0, rel=0.05)
    assert np.allclose(df["energy_j"], power * settle)
    # After the step (input 0 to 2 gamma, others at gamma) the cell settles to MP = gamma.
    assert np.allclose(df["out_z_a"] / df.index, 1.0, atol=0.02)


def test_plot_writes_monte_carlo_area_and_speed_figures(tmp_path: Path) -> None:
    out = tmp_path / "res"
    r = run(
        "sweep",
        *SMALL,
        "--set",
        "sweep.wl_um=[[4.0, 1.0], [16.0, 4.0]]",
        "--set",
        # 16/4 um devices are 16x slower than 4/1 um ones: a 10x longer window.
        "tran.window_as=3e-11",
        "--out",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    r2 = run("plot", str(out), "--out", str(tmp_path / "p"))
    assert r2.returncode == 0, r2.stderr
    for name in ("mc_histograms", "mc_sigma_vs_bias", "area_cost", "speed_power"):
        assert (tmp_path / "p" / f"{name}.png").stat().st_size > 10_000, name
    spread = pd.read_csv(tmp_path / "p" / "mc_spread.csv")
    assert len(spread) == 2 * 3 and (spread["chips"] == 3).all()
    assert "chip_err_p90_pct" in r2.stdout and "settle_s" in r2.stdout


def test_failed_points_are_recorded_and_the_sweep_goes_on(tmp_path: Path) -> None:
    """A window far too short to settle in: tran rows fail with the reason, DC rows are
    kept, the manifest counts the failures, and the exit code is 3."""
    out = tmp_path / "f"
    r = run("sweep", *SMALL, "--set", "tran.window_as=1e-15", "--out", str(out))
    assert r.returncode == 3, r.stderr
    assert "raise tran.window_as" in r.stderr
    df = read_results(out)
    tran = df[df["analysis"] == "tran"]
    assert len(tran) == 3 * 3 and tran["status"].str.startswith("not settled").all()
    assert tran["settle_s"].isna().all()
    assert (df[df["analysis"] == "op"]["status"] == "ok").all()
    summary = json.loads((out / "manifest.json").read_text())["summary"]
    assert summary["failed_points"] == 9 and summary["jobs_failed"] == 3
    assert summary["jobs_ok"] == 3


def test_settling_time_on_synthetic_waveforms() -> None:
    from sactk.sweeps.backends.ngspice_shared import settling_time

    t = np.linspace(0.0, 10.0, 10001)
    tau = 0.5
    y = np.where(t < 1.0, 0.0, 1.0 - np.exp(-(t - 1.0) / tau))
    # 1 % band: exp(-x / tau) = 0.01 at x = tau ln 100.
    assert settling_time(t, y, 1.0, 0.01, 1.0) == pytest.approx(tau * np.log(100), rel=1e-3)
    # Not yet moving towards a final value far away: not settled.
    assert settling_time(t, 0.001 * y, 1.0, 0.01, 1.0) is None
    # Without a known final value, the last sample stands in for it.
    assert settling_time(t, y, 1.0, 0.01) == pytest.approx(tau * np.log(100), rel=2e-2)
    # A step to zero (a differential output's midpoint): the band is 1 % of the step.
    down = np.where(t < 1.0, 2.0, 2.0 * np.exp(-(t - 1.0) / tau))
    assert settling_time(t, down, 1.0, 0.01, 0.0) == pytest.approx(tau * np.log(100), rel=1e-3)


def test_split_covers_every_chip_once_in_order() -> None:
    """Monte Carlo jobs are shared out by chip when there are too few jobs to keep every
    worker busy; whole jobs otherwise. Pure planning: no simulator."""
    from sactk.sweeps.executors import TASKS_PER_WORKER, split
    from sactk.sweeps.run import prepare

    spec = load_spec(
        preset="mp-mc",
        overrides=["mc.instances=50", "sweep.bias_a=[1e-7, 1e-6]", "sweep.temp_c=[27]"],
    )
    _tech, jobs = prepare(spec)
    tasks = split(jobs, 2)
    assert len(tasks) >= TASKS_PER_WORKER * 2
    for job in jobs:
        mine = [(lo, hi) for j, lo, hi in tasks if j.job_id == job.job_id]
        assert mine[0][0] == 0 and mine[-1][1] == len(job.instances)
        assert all(a[1] == b[0] and a[0] < a[1] for a, b in itertools.pairwise(mine))
    most = -(-sum(len(j.instances) for j in jobs) // (TASKS_PER_WORKER * 2))
    assert max(hi - lo for _j, lo, hi in tasks) <= most
    many = split(jobs * 8, 2)  # enough jobs: each is one task
    assert all(lo == 0 and hi == len(j.instances) for j, lo, hi in many)
    assert split(jobs, 1) == [(j, 0, len(j.instances)) for j in jobs]


def test_shared_out_chips_equal_one_process_bit_for_bit(tmp_path: Path) -> None:
    """One 30-chip job on 2 workers: the sweep's own process and a worker each simulate
    shares of the chips (the CLI starts the worker before it plans), and the joined rows
    equal a one-process run exactly, nominal chip included."""
    mc = [
        "--preset",
        "mp-mc",
        "--set",
        "mc.instances=30",
        "--set",
        "sweep.bias_a=[1e-7]",
        "--set",
        "sweep.temp_c=[27]",
        "--set",
        "inputs.random.count=12",
    ]
    r1 = run("sweep", *mc, "--out", str(tmp_path / "one"), "--jobs", "1")
    assert r1.returncode == 0, r1.stderr
    r2 = run("sweep", *mc, "--out", str(tmp_path / "two"), "--jobs", "2")
    assert r2.returncode == 0, r2.stderr
    assert "local executor, 2 workers" in r2.stdout
    a, b = read_results(tmp_path / "one"), read_results(tmp_path / "two")
    assert len(a) == 31 * 12 and (a["status"] == "ok").all()
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    man = json.loads((tmp_path / "two" / "manifest.json").read_text())
    assert len(man["jobs"]) == 1  # one job, stored as one part: resume sees no difference

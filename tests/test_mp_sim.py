"""The MP cell on real ngspice (c180): accuracy, bias collapse, temperature, valid region.

Bounds are acceptance bounds; the figures reached are far inside them and are
reported by `make demo` and docs/cells.md, not hard-coded here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sactk.analysis import metrics
from sactk.sweeps.run import run_sweep
from sactk.sweeps.spec import load_spec
from sactk.sweeps.store import read_results

pytestmark = pytest.mark.ngspice


@pytest.fixture(scope="module")
def dc27(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("mp-dc")
    summary = run_sweep(load_spec(preset="mp-dc"), out, n_jobs=1)
    assert summary.failed_points == 0
    return read_results(out)


def test_results_table_shape(dc27: pd.DataFrame) -> None:
    cols = {
        "in_i0_a",
        "in_i1_a",
        "in_i2_a",
        "in_i3_a",
        "bias_a",
        "temp_c",
        "corner",
        "out_z_a",
        "status",
        "cell",
        "tech",
        "mc_seed",
        "mc_index",
    }
    assert cols <= set(dc27.columns)
    biases = np.sort(dc27["bias_a"].unique())
    assert (
        len(biases) >= 7 and biases[0] == pytest.approx(1e-8) and biases[-1] == pytest.approx(1e-5)
    )
    assert (dc27["status"] == "ok").all()
    assert (dc27.groupby("bias_a")["pattern"].apply(lambda p: (p == "random").sum()) >= 20).all()


def test_matches_ideal_at_every_bias(dc27: pd.DataFrame) -> None:
    acc = metrics.accuracy(dc27)
    assert len(acc) == 7
    assert (acc["points"] >= 20).all()
    assert acc["max_abs_err_pct"].max() < 1.0, acc.to_string()
    assert acc["rms_err_pct"].max() < 0.5, acc.to_string()


def test_normalized_curves_collapse(dc27: pd.DataFrame) -> None:
    col = metrics.collapse(dc27)
    assert set(col["pattern"]) == {"random", "sweep"}
    assert (col["biases"] == 7).all()
    assert col["collapse_pct_fs"].max() < 1.0, col.to_string()


def test_extreme_temperatures(tmp_path: Path) -> None:
    """-40 and 125 C: within 2 % from 30 nA up (junction leakage dominates below, hot)."""
    spec = load_spec(
        preset="mp-temp",
        overrides=[
            "sweep.temp_c=[-40, 125]",
            "sweep.bias_a=[1e-8, 3e-8, 1e-6, 1e-5]",
            "inputs.random.count=20",
            "inputs.sweep.points=13",
        ],
    )
    run_sweep(spec, tmp_path, n_jobs=1)
    df = read_results(tmp_path)
    acc = metrics.accuracy(df)
    from30 = acc[acc["bias_a"] >= 30e-9]
    assert from30["max_abs_err_pct"].max() < 2.0, acc.to_string()
    col = metrics.collapse(df, bias_min_a=30e-9)
    assert col["collapse_pct_fs"].max() < 2.0, col.to_string()
    # cold, leakage is negligible even at 10 nA
    assert acc[acc["temp_c"] == -40]["max_abs_err_pct"].max() < 1.0


def test_outside_valid_region_output_collapses_to_zero(tmp_path: Path) -> None:
    """sum(inputs) < gamma has no non-negative MP solution: the sinks turn off."""
    spec = load_spec(
        text="[sweep]\nbias_a = [1e-6]\n[inputs.random]\ncount = 0\n"
        "[inputs.sweep]\nindex = 0\npoints = 5\nmax_ratio = 0.2\nhold_ratio = 0.1\n"
    )
    run_sweep(spec, tmp_path, n_jobs=1)
    df = read_results(tmp_path)
    assert (metrics.with_ideal(df)["ideal_a"] < 0).all()
    assert (df["out_z_a"].abs() < 0.01 * 1e-6).all(), df["out_z_a"].tolist()


def test_runs_are_deterministic_and_parallel_equals_serial(tmp_path: Path) -> None:
    spec = load_spec(
        preset="mp-dc",
        overrides=[
            "sweep.bias_a=[1e-8, 1e-7, 1e-6, 1e-5]",
            "inputs.random.count=5",
            "inputs.sweep.points=3",
        ],
    )
    run_sweep(spec, tmp_path / "serial", n_jobs=1)
    run_sweep(spec, tmp_path / "parallel", n_jobs=2)
    a = read_results(tmp_path / "serial")
    b = read_results(tmp_path / "parallel")
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_overrides_six_inputs_at_85c(tmp_path: Path) -> None:
    spec = load_spec(
        preset="mp-dc",
        overrides=[
            "cell.n_inputs=6",
            "sweep.temp_c=[85]",
            "sweep.bias_a=[1e-7, 1e-6]",
            "inputs.random.count=20",
        ],
    )
    s = run_sweep(spec, tmp_path, n_jobs=1)
    df = read_results(tmp_path)
    assert s.failed_points == 0
    assert {f"in_i{k}_a" for k in range(6)} <= set(df.columns)
    assert (df["temp_c"] == 85).all()
    assert metrics.accuracy(df)["max_abs_err_pct"].max() < 1.0

"""The S-AC cell library on real ngspice (c180): shapes, inner product, compressive memory.

Each preset runs through the CLI as a user would (`sactk sweep --preset NAME --out DIR`),
at 27 C only to keep `make test` fast; the bounds are acceptance bounds
(nominal circuit within 2 % of full scale of ideal() at every bias from 10 nA to 10 uA,
Pearson r >= 0.98 for N = 8, |INL| <= 0.5 LSB and monotonic). docs/cells.md reports the
figures reached over three temperatures.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _cli import run

from sactk.analysis import metrics
from sactk.sweeps.store import read_results

pytestmark = pytest.mark.ngspice

BIASES = [1e-8, 1e-7, 1e-6, 1e-5]
CONTRACT = {"bias_a", "temp_c", "corner", "status"}


def _sweep(tmp: Path, preset: str, *sets: str, biases: list[float] = BIASES) -> pd.DataFrame:
    args = ["sweep", "--preset", preset, "--set", "sweep.temp_c=[27]", "--out", str(tmp)]
    for s in sets:
        args += ["--set", s]
    r = run(*args)
    assert r.returncode == 0, r.stderr
    df = read_results(tmp)
    assert (df["status"] == "ok").all()
    assert sorted(df["bias_a"].unique()) == biases
    return df


@pytest.fixture(scope="module", params=["relu", "sigmoid", "tanh"])
def shape_df(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    name = request.param
    tmp = tmp_path_factory.mktemp(name)
    return name, _sweep(tmp, f"shape-{name}", "inputs.sweep.points=33"), tmp


def test_shape_matches_ideal_at_every_bias(shape_df) -> None:
    _, df, _ = shape_df
    assert CONTRACT | {"in_x_a", "out_y_a", "ideal_y_a", "fs_a"} <= set(df.columns)
    acc = metrics.accuracy(df)
    assert len(acc) == len(BIASES)
    assert (acc["max_abs_err_pct"] < 2.0).all(), acc
    # Bias collapse: the normalized curve is the same at every bias (2 % of full scale).
    assert (metrics.collapse(df)["collapse_pct_fs"] < 2.0).all()


def test_shape_has_its_shape(shape_df) -> None:
    """The circuit's own curve, not ideal(): odd tanh, monotonic sigmoid, one-sided relu."""
    name, df, _ = shape_df
    for b, g in df.groupby("bias_a"):
        g = g.sort_values("in_x_a")
        x = g["in_x_a"].to_numpy() / b
        y = g["out_y_a"].to_numpy() / b
        assert np.all(np.diff(y) > -0.01), (name, b)  # non-decreasing within 0.25 % of fs
        if name == "tanh":
            assert np.allclose(y, -y[::-1], atol=0.04)  # odd: y(-x) = -y(x), 1 % of fs
            assert y[0] == pytest.approx(-2.0, abs=0.04) and y[-1] == pytest.approx(2.0, abs=0.04)
        if name == "sigmoid":
            assert y[0] == pytest.approx(0.0, abs=0.04) and y[-1] == pytest.approx(4.0, abs=0.04)
        if name == "relu":
            assert np.all(np.abs(y[x <= -1.0]) < 0.04)  # off below -gamma
            assert np.allclose(y[x >= 1.0], x[x >= 1.0], atol=0.04)  # identity above gamma


def test_inner_product_tracks_dot_product(tmp_path: Path) -> None:
    df = _sweep(tmp_path, "inner-product", "inputs.random.count=60", "inputs.sweep.points=0")
    cols = {f"in_x{k}_a" for k in range(8)} | {f"in_w{k}_a" for k in range(8)}
    assert CONTRACT | cols | {"out_y_a", "ideal_y_a", "dot_xw_a"} <= set(df.columns)
    assert (metrics.accuracy(df)["max_abs_err_pct"] < 2.0).all()
    dots = metrics.dot_tracking(df)
    assert len(dots) == len(BIASES) and (dots["vectors"] == 60).all()
    assert (dots["pearson_r"] >= 0.98).all(), dots
    # dot_xw_a is sum w x / bias: at every bias the same normalized numbers.
    for b, g in df.groupby("bias_a"):
        x = g[[f"in_x{k}_a" for k in range(8)]].to_numpy()
        w = g[[f"in_w{k}_a" for k in range(8)]].to_numpy()
        assert np.allclose(g["dot_xw_a"], (x * w).sum(axis=1) / b)


def test_compressive_memory_transfer_inl_dnl(tmp_path: Path) -> None:
    df = _sweep(tmp_path, "compressive-memory")
    assert CONTRACT | {"in_code", "out_i_a", "ideal_i_a"} <= set(df.columns)
    assert sorted(df["in_code"].unique()) == list(range(64))
    assert (metrics.accuracy(df)["max_abs_err_pct"] < 2.0).all()
    lin = metrics.linearity(df)
    assert len(lin) == len(BIASES)
    assert (lin["max_abs_inl_lsb"] <= 0.5).all() and lin["monotonic"].all(), lin
    # Compressive: the top segment's step is 4 units, the first segment's 1 unit.
    t = metrics.inl_dnl(df)
    g = t[t["bias_a"] == 1e-6].sort_values("in_code")
    assert g["lsb_a"].iloc[-1] == pytest.approx(4 * g["lsb_a"].iloc[1])
    # The circuit's current steps, not only ideal()'s, grow with the segment.
    steps = np.diff(g["out_a"].to_numpy())
    assert steps[-1] / steps[0] == pytest.approx(4.0, rel=0.05)
    r = run("plot", str(tmp_path), "--out", str(tmp_path / "plots"))
    assert r.returncode == 0, r.stderr
    for name in ("transfer", "error_vs_bias", "inl_dnl", "inl_vs_bias"):
        assert (tmp_path / "plots" / f"{name}.png").stat().st_size > 10_000, name
    assert "max_abs_inl_lsb" in r.stdout


def test_memory_mismatch_gives_inl(tmp_path: Path) -> None:
    """Pelgrom chips break the array's ratios: INL and DNL appear (zero nominally)."""
    df = _sweep(
        tmp_path,
        "compressive-memory",
        "sweep.bias_a=[1e-7]",
        "mc.instances=4",
        "mc.nominal=true",
        biases=[1e-7],
    )
    lin = metrics.linearity(df)
    nominal = lin[lin["mc_index"] < 0]["max_abs_inl_lsb"].iloc[0]
    chips = lin[lin["mc_index"] >= 0]["max_abs_inl_lsb"]
    assert len(chips) == 4 and (chips > 10 * nominal).all()


def test_plot_draws_every_cell(shape_df) -> None:
    _, _, tmp = shape_df
    r = run("plot", str(tmp), "--out", str(tmp / "plots"))
    assert r.returncode == 0, r.stderr
    for fig in ("transfer", "error_vs_bias"):
        assert (tmp / "plots" / f"{fig}.png").stat().st_size > 10_000, fig


def test_tanh_step_response(tmp_path: Path) -> None:
    """The step bench is generic: stepping x steps all four sources of the tanh pair.

    At 10 and 100 nA only: from 1 uA up the pair's simulated step response does not settle
    (sustained oscillation of the output branches; docs/cells.md, open problem)."""
    df = _sweep(
        tmp_path,
        "shape-tanh",
        "sweep.bias_a=[1e-8, 1e-7]",
        "inputs.sweep.points=0",
        "tran.from_ratio=-2.0",
        "tran.to_ratio=2.0",
        "tran.hold_ratio=0.0",
        biases=[1e-8, 1e-7],
    )
    t = df[df["analysis"] == "tran"].set_index("bias_a")
    assert len(t) == 2 and (t["settle_s"] > 0).all()
    assert 3.0 < t["settle_s"][1e-8] / t["settle_s"][1e-7] < 30.0
    # Settled at x = 2 gamma: y = f(4) - f(0) - 2 = 4 - 0.5 - 2 = 1.5 gamma.
    assert np.allclose(t["out_y_a"] / t.index, 1.5, atol=0.03)

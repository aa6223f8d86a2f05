"""LookupModel without the simulator: interpolation against scipy, the fit on tables with a
known answer, range errors, mismatch sampling, files and their damage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sactk.analysis.lut import LookupModel, holdout_split, interp_planes
from sactk.errors import ModelError


def test_interpolation_matches_scipy_on_uniform_and_uneven_axes() -> None:
    from scipy.interpolate import RegularGridInterpolator

    rng = np.random.default_rng(0)
    t = np.array([-40.0, 27.0, 28.0, 125.0])  # uneven, with one narrow cell
    lb = np.log10([1e-8, 3e-8, 1e-7, 1e-6])  # uneven
    u = np.linspace(0.0, 3.0, 17)  # uniform
    table = rng.normal(size=(2, len(t), len(lb), len(u)))
    n = 5000
    pts = (rng.uniform(-40, 125, n), rng.uniform(lb[0], lb[-1], n), rng.uniform(0, 3, n))
    for plane in (0, 1):
        want = RegularGridInterpolator((t, lb, u), table[plane])(np.column_stack(pts))
        got = interp_planes(table, t, lb, u, plane, *pts, chunk=777)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    # a per-point plane index picks each point's own table
    idx = rng.integers(0, 2, n)
    got = interp_planes(table, t, lb, u, idx, *pts)
    want = np.where(
        idx == 0, interp_planes(table, t, lb, u, 0, *pts), interp_planes(table, t, lb, u, 1, *pts)
    )
    np.testing.assert_allclose(got, want, atol=1e-12)


def _synthetic(chips: int = 0, seed: int = 0) -> pd.DataFrame:
    """Results-shaped rows of a 1-input cell whose normalized output is a known smooth
    function of (x/bias, bias, temperature), optionally with chips of known gain."""
    rng = np.random.default_rng(seed)
    rows = []
    for mc in [-1, *range(chips)]:
        gain = 1.0 if mc < 0 else 1.0 + 0.05 * rng.standard_normal()
        for temp in (-40.0, 27.0, 125.0):
            for bias in (1e-8, 1e-7, 1e-6):
                x = np.linspace(-1.0, 1.0, 41)
                y = gain * np.tanh(2 * x) * (1 + 1e-3 * temp) * (1 + 0.01 * np.log10(bias / 1e-8))
                for p, (xi, yi) in enumerate(zip(x, y, strict=True)):
                    rows.append(
                        {
                            "cell": "tanh",
                            "tech": "c180",
                            "corner": "tt",
                            "temp_c": temp,
                            "bias_a": bias,
                            "analysis": "op",
                            "mc_index": mc,
                            "point": p,
                            "pattern": "sweep",
                            "in_x_a": xi * bias,
                            "ideal_y_a": np.tanh(2 * xi) * bias,
                            "fs_a": 2.0 * bias,
                            "out_y_a": yi * bias,
                            "status": "ok",
                        }
                    )
    return pd.DataFrame(rows)


def test_fit_recovers_a_known_function_and_refuses_outside_its_range() -> None:
    df = _synthetic()
    train, test = holdout_split(df, 0.25, seed=3)
    assert set(train["point"]).isdisjoint(set(test["point"]))  # whole vectors held out
    m = LookupModel(knots=41).fit(train)
    assert m.coordinate_ == "in_x_a" and m.coord_per_bias_
    v = m.validate(test, "holdout")
    assert v["points"] + v["outside_points"] == len(test) and v["points"] > 0
    assert v["max_err_fs"] < 0.01  # linear interpolation of tanh(2x) on 41 knots
    # scikit-learn style predict on (u, bias_a, temp_c) rows, in amperes
    y = m.predict(np.array([[0.5e-7, 1e-7, 27.0]]))
    want = np.tanh(1.0) * 1.027 * 1.01 * 1e-7
    assert abs(y[0] - want) < 0.01 * 2e-7
    with pytest.raises(ModelError, match=r"bias_a .* outside the fitted"):
        m.evaluate(0.0, 1e-5, 27.0)
    with pytest.raises(ModelError, match=r"temp_c .* clamp=True"):
        m.evaluate(0.0, 1e-7, 150.0)
    with pytest.raises(ModelError, match="in_x_a"):
        m.evaluate(2e-7, 1e-7, 27.0)  # u = 2 > 1
    clamped = m.evaluate(2e-7, 1e-7, 150.0, clamp=True)
    assert np.isclose(clamped, m.evaluate(1e-7, 1e-7, 125.0))
    with pytest.raises(ModelError, match="corner 'ss'"):
        m.evaluate(0.0, 1e-7, 27.0, corner="ss")


def test_integer_coordinate_gets_a_knot_per_code() -> None:
    df = _synthetic()
    df = df.drop(columns=["in_x_a"]).assign(in_code=df["point"].astype(int))
    df["cell"] = "compressive_memory"
    df = df.rename(columns={"out_y_a": "out_i_a", "ideal_y_a": "ideal_i_a"})
    m = LookupModel(knots=32).fit(df)
    assert not m.coord_per_bias_
    np.testing.assert_array_equal(m.u_knots_, np.arange(41.0))
    sub = df[(df["temp_c"] == 27.0) & (df["bias_a"] == 1e-7)]
    np.testing.assert_allclose(
        m.evaluate(sub["in_code"], 1e-7, 27.0), sub["out_i_a"], rtol=0, atol=1e-4 * 1e-7
    )


def test_chips_give_per_chip_tables_and_a_seeded_statistical_model() -> None:
    df = _synthetic(chips=30)
    m = LookupModel().fit(df)
    assert m.chips_.shape[0] == 30 and list(m.chip_ids_) == list(range(30))
    assert m.chip_basis_ is not None and len(m.chip_basis_) >= 1
    a, b = m.sample_chips(400, seed=5), m.sample_chips(400, seed=5)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, m.sample_chips(400, seed=6))
    # the drawn chips spread like the fitted ones (5 % gain sigma, at the largest |x|)
    spread = lambda s: float(np.std(s[:, 0, 1, 1, -1]) / np.mean(s[:, 0, 1, 1, -1]))  # noqa: E731
    assert 0.5 < spread(a) / spread(m.chips_) < 1.5
    x = np.full(4, 0.5e-7)
    y = m.evaluate(x, 1e-7, 27.0, chip=np.arange(4))
    assert len(np.unique(np.round(y, 15))) == 4  # four chips, four answers
    y_drawn = m.evaluate(x, 1e-7, 27.0, chip=np.arange(4), chips=a)
    assert np.all(np.abs(y_drawn / m.evaluate(x, 1e-7, 27.0) - 1) < 0.3)


def test_save_load_round_trip_and_damage_detection(tmp_path: Path) -> None:
    m = LookupModel().fit(_synthetic(chips=3))
    m.validate(_synthetic(), "same data")
    path = m.save(tmp_path / "model", {"note": "test"})
    info = json.loads(path.read_text())
    assert info["validation"]["max_err_fs"] >= 0 and info["note"] == "test"
    assert info["axes"]["bias_a"] == pytest.approx([1e-8, 1e-7, 1e-6])
    m2 = LookupModel.load(tmp_path / "model.npz")
    pts = (np.linspace(-1e-7, 1e-7, 9), 1e-7, 60.0)
    np.testing.assert_array_equal(m2.evaluate(*pts), m.evaluate(*pts))
    np.testing.assert_array_equal(m2.chips_, m.chips_)
    npz = tmp_path / "model.npz"
    npz.write_bytes(npz.read_bytes()[:-100])  # truncated
    with pytest.raises(ModelError, match="checksum"):
        LookupModel.load(tmp_path / "model")
    (tmp_path / "model.json").write_text("{not json")
    with pytest.raises(ModelError, match="not a model description"):
        LookupModel.load(tmp_path / "model")
    with pytest.raises(ModelError, match="no such model file"):
        LookupModel.load(tmp_path / "other")


def test_unfitted_model_and_bad_x_shape() -> None:
    with pytest.raises(ModelError, match="not fitted"):
        LookupModel().evaluate(0.0, 1e-7, 27.0)
    m = LookupModel().fit(_synthetic())
    with pytest.raises(ModelError, match=r"shape \(n, 3\)"):
        m.predict(np.zeros((4, 2)))


def test_one_operating_point_path_matches_the_general_one() -> None:
    m = LookupModel().fit(_synthetic(chips=4))
    x = np.linspace(-1.0, 1.0, 2000)  # > 256 points at one bias and temperature
    for bias, temp in ((1e-7, 27.0), (3.3e-8, 60.0), (1e-6, 125.0)):
        u = x * bias
        fast = m.evaluate(u, bias, temp)
        general = m.evaluate(u, np.full(len(u), bias), np.full(len(u), temp))
        np.testing.assert_allclose(fast, general, rtol=1e-12, atol=1e-22)
        chip = np.arange(len(u)) % 4
        np.testing.assert_allclose(
            m.evaluate(u, bias, temp, chip=chip),
            m.evaluate(u, np.full(len(u), bias), np.full(len(u), temp), chip=chip),
            rtol=1e-12,
            atol=1e-22,
        )
    with pytest.raises(ModelError, match="bias_a"):
        m.evaluate(x * 2e-6, 2e-6, 27.0)
    # clamped: the 1 uA table, scaled by the actual bias
    assert np.allclose(
        m.evaluate(x * 2e-6, 2e-6, 27.0, clamp=True), 2 * m.evaluate(x * 1e-6, 1e-6, 27.0)
    )

"""How models follow temperature and bias between fitted conditions (analysis/conditions.py)
and the validation that measures it (analysis/validation.py), without the simulator: the
spline against SciPy's, its exported expressions against its weights, the leakage law, the
joint fit of a leakage coefficient, and leaving a condition out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.interpolate import CubicSpline

from sactk.analysis.conditions import (
    Conditions,
    SplineAxis,
    leak_law,
    leak_law_expr,
    temp_coord,
)
from sactk.analysis.exportfmt import excess_exprs
from sactk.analysis.mpfit import Layout, fit_plane, model
from sactk.analysis.validation import headline, suggestions, vector_folds
from sactk.circuits import mp

GRID_T = np.array([-40.0, 27.0, 85.0, 125.0])
GRID_B = np.log10([1e-8, 1e-7, 1e-6, 1e-5])


def _eval(expr: str, env: dict[str, float]) -> float:
    return float(eval(expr, {"min": min, "max": max, "exp": np.exp, "ln": np.log}, dict(env)))


def test_spline_weights_are_scipy_natural_spline_and_clamp() -> None:
    ax = SplineAxis(temp_coord(GRID_T))
    x = np.linspace(ax.grid[0] - 0.2, ax.grid[-1] + 0.2, 41)
    w = ax.weights(x)
    want = CubicSpline(ax.grid, np.eye(4), bc_type="natural")(np.clip(x, ax.grid[0], ax.grid[-1]))
    assert np.allclose(w, want, atol=1e-12)
    assert np.allclose(w.sum(axis=1), 1.0)
    assert np.allclose(ax.weights(ax.grid), np.eye(4), atol=1e-12)  # exact on the grid


def test_exported_weight_expressions_evaluate_to_the_weights() -> None:
    ax = SplineAxis(GRID_B)
    defs, weights = ax.expressions("x", "cb", lambda n: n)
    for x in (-8.7, -7.5, -6.2, -5.0, -4.0, -9.0):
        env = {"x": x}
        for name, e in defs:
            env[name] = _eval(e, env)
        got = [_eval(w, env) for w in weights]
        assert np.allclose(got, ax.weights(x), atol=1e-12), x


def test_leak_law_is_one_at_27c_and_doubles_every_few_degrees_when_hot() -> None:
    assert leak_law(27.0) == pytest.approx(1.0)
    # diffusion leakage: d ln I / dT = (3 + Eg / kT) / T, about 2x per 7 C near 100 C
    assert 1.8 < float(leak_law(100.0) / leak_law(93.0)) < 2.2
    assert _eval(leak_law_expr("tc"), {"tc": 70.0}) == pytest.approx(float(leak_law(70.0)))


def _synthetic_table(c: float) -> tuple[Conditions, np.ndarray]:
    """A table smooth in 1/T and log I plus c times the leakage term, one parameter."""
    cond = Conditions(GRID_T, GRID_B)
    t, b = np.meshgrid(GRID_T, GRID_B, indexing="ij")
    smooth = 1.0 + 0.02 * temp_coord(t) + 0.01 * b
    return cond, (smooth + c * leak_law(t) / 10.0**b)[..., None]


def test_leak_coefficient_is_fitted_jointly_and_follows_between_grid_points() -> None:
    c = 3e-12  # 3 pA of leakage at 27 C (about 0.66 uA at 125 C)
    cond, table = _synthetic_table(c)
    coef = cond.fit_terms(table)
    assert coef[0, 0] == pytest.approx(c, rel=1e-6)
    for temp, lb in ((100.0, -7.5), (70.0, -8.0), (-10.0, -6.3)):
        want = 1.0 + 0.02 * temp_coord(temp) + 0.01 * lb + c * leak_law(temp) / 10.0**lb
        got = cond.at(table, temp, lb, coef)[0]
        plain = cond.at(table, temp, lb)[0]  # the spline alone
        assert got == pytest.approx(float(want), abs=1e-9)
        if temp == 100.0:
            assert abs(plain - want) > 100 * abs(got - want)  # the law is what it takes
    # on the grid the term adds nothing: the model is the fitted plane
    assert cond.at(table, 85.0, -8.0, coef)[0] == pytest.approx(table[2, 0, 0], abs=1e-15)
    # the exported excess expression is the one the model adds
    wt, wb = cond.weights(100.0, -7.5)
    env = {"tc": 100.0, "lb": -7.5, **{f"wt{i}": v for i, v in enumerate(wt)}}
    env.update({f"wb{i}": v for i, v in enumerate(wb)})
    (expr,) = excess_exprs(
        cond, "tc", "lb", [f"wt{i}" for i in range(4)], [f"wb{i}" for i in range(4)]
    )
    assert _eval(expr, env) == pytest.approx(float(cond.excess(100.0, -7.5)[0]), rel=1e-9)


def test_two_temperatures_have_no_leak_term() -> None:
    cond = Conditions(np.array([27.0, 125.0]), GRID_B)
    assert cond.active() == (False,)
    assert not np.any(cond.fit_terms(np.ones((2, 4, 3))))


def test_batched_fit_is_the_fit_of_each_chip() -> None:
    lay = Layout((np.eye(4),), (0.0,), (1.0,))
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 2, (80, 4))
    x = x[mp.ideal(x, 1.0) > 0.1]
    truth = [lay.ideal_params() + rng.normal(0, 0.01, lay.n_params) for _ in range(3)]
    ys = np.stack([model(lay, x, p, (0.0, 10.0)) for p in truth])
    xs = np.broadcast_to(x, (3, *x.shape))
    batch = fit_plane(lay, xs, ys, (0.0, 10.0))
    for k in range(3):
        assert np.allclose(batch[k], fit_plane(lay, x, ys[k], (0.0, 10.0)), atol=1e-9)


def test_folds_hold_every_vector_out_once_at_every_condition() -> None:
    df = pd.DataFrame(
        {
            "pattern": "random",
            "point": np.tile(np.arange(12), 4),
            "temp_c": np.repeat([0, 1, 2, 3], 12),
        }
    )
    masks = vector_folds(df, 5, seed=3)
    assert np.array_equal(np.sum(masks, axis=0), np.ones(len(df)))
    for m in masks:  # a vector is out at every condition or at none
        out = df[m].groupby("point")["temp_c"].nunique()
        assert (out == 4).all()
    assert [m.tolist() for m in masks] == [m.tolist() for m in vector_folds(df, 5, seed=3)]


def test_headline_takes_the_worst_of_nominal_and_chips() -> None:
    v = {
        "nominal": True, "points": 10, "max_err_fs": 0.001, "rms_err_fs": 0.0004,
        "chips": {"points": 30, "max_err_fs": 0.003, "worst_chip_rms_err_fs": 0.0002},
    }  # fmt: skip
    assert headline(v) == {"points": 40, "max_err_fs": 0.003, "worst_rms_err_fs": 0.0004}


def test_suggestions_are_midpoints_in_the_model_axes() -> None:
    class M:
        temp_c_ = np.array([-40.0, 27.0, 125.0])
        log_bias_ = GRID_B

    t = suggestions(M(), {"axis": "temp_c", "value": 27.0})["temp_c"]
    # midpoints in 1/T: below the arithmetic ones
    assert t[0] < (-40 + 27) / 2 and t[1] < (27 + 125) / 2 and t[0] > -40 and t[1] > 27
    b = suggestions(M(), {"axis": "bias_a", "value": 1e-6})["bias_a"]
    assert b == pytest.approx([3.16e-7, 3.16e-6])

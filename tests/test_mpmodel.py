"""MP-unit models without the simulator: the weighted MP solver, the fit recovering known
gains, files, the range rule and the export text."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sactk.analysis import mpexport
from sactk.analysis.mpfit import Layout, fit_plane, model, solve
from sactk.analysis.mpmodel import MPModel
from sactk.circuits import inner, mp, shape
from sactk.errors import ModelError


def test_solver_with_unit_gains_is_margin_propagation() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 2, (500, 6))
    s, _ = solve(x, np.ones(6), np.ones(500))
    assert np.allclose(s, mp.ideal(x, 1.0), atol=1e-12)


def test_solver_satisfies_the_weighted_kcl() -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 2, (400, 5))
    a = rng.uniform(0.7, 1.3, (400, 5))
    g = rng.uniform(0.5, 1.5, 400)
    s, _ = solve(x, a, g)
    assert np.allclose(np.maximum(0, x - a * s[:, None]).sum(axis=1), g, atol=1e-12)


def test_inner_product_units_reproduce_its_ideal() -> None:
    p = inner.Params(n_inputs=3)
    u = inner.units(p)
    lay = Layout(u.mix, u.offset, u.sign)
    rng = np.random.default_rng(2)
    x, w = rng.uniform(-0.4, 0.4, (2, 200, 3))
    y = model(lay, np.concatenate([x, w], axis=1), lay.ideal_params(), (0.0, np.inf))
    assert np.allclose(y, inner.ideal(x, w, 1.0), atol=1e-12)


def test_solver_satisfies_the_kcl_with_square_law_terms() -> None:
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 2, (400, 5))
    a = rng.uniform(0.7, 1.3, (400, 5))
    c = rng.uniform(-0.1, 0.1, (400, 5))
    g = rng.uniform(0.5, 1.5, 400)
    s, _ = solve(x, a, g, c)
    sink = a * s[:, None] + c * mp.sqrt_term(s)[:, None]
    assert np.allclose(np.maximum(0, x - sink).sum(axis=1), g, atol=1e-12)


def test_fit_recovers_known_gains_and_offsets() -> None:
    lay = Layout((np.eye(4),), (0.0,), (1.0,))
    # a_k, d_k (offsets), c_k (strong inversion's square-law terms), g, b
    true = np.r_[0.85, 1.1, 0.95, 1.02, 0.02, -0.01, 0.0, 0.015, 0.03, 0.0, -0.04, 0.01]
    true = np.r_[true, 0.97, -0.01]
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 2, (200, 4))
    x = x[mp.ideal(x, 1.0) > 0.1]
    y = model(lay, x, true, (0.0, 10.0))
    got = fit_plane(lay, x, y, (0.0, 10.0))
    # the faint pulls of d_k and c_k toward 0 trade a little against the gains
    assert np.allclose(got, true, atol=2e-3), got
    assert np.abs(model(lay, x, got, (0.0, 10.0)) - y).max() < 5e-5


def test_parameters_saved_before_the_offsets_load_with_zero_offsets() -> None:
    lay = Layout((np.eye(3), np.eye(2)), (0.0, 0.0), (1.0, -1.0))
    old = np.arange(2 * 9, dtype=float).reshape(2, 9)  # per unit: a_k, g, b (5 + 4 values)
    new = lay.upgrade(old)
    assert new.shape == (2, lay.n_params) == (2, 19)
    z3, z2 = [0] * 3, [0] * 2
    assert np.array_equal(new[0], [0, 1, 2, *z3, *z3, 3, 4, 5, 6, *z2, *z2, 7, 8])
    assert lay.upgrade(new) is new
    # files with offsets but before the square-law terms: a_k, d_k, g, b (8 + 6 values)
    mid = np.arange(14, dtype=float)
    want = [0, 1, 2, 3, 4, 5, *z3, 6, 7, 8, 9, 10, 11, *z2, 12, 13]
    assert np.array_equal(lay.upgrade(mid), want)


def _synthetic(chips: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    """An MP results table made by the model equation itself, with per-chip gains."""
    rng = np.random.default_rng(4)
    lay = Layout((np.eye(4),), (0.0,), (1.0,))
    gains = 1 + 0.05 * rng.standard_normal((chips, 4))
    rows = []
    x = rng.uniform(0, 2, (60, 4))
    for c in range(-1, chips):
        p = np.r_[np.ones(4) if c < 0 else gains[c], np.zeros(8), 1.0, 0.0]
        for temp in (-40.0, 27.0):
            for bias in (1e-8, 1e-6):
                y = model(lay, x, p, (0.0, 10.0))
                for i in range(len(x)):
                    rows.append(
                        dict(
                            cell="mp",
                            tech="c180",
                            corner="tt",
                            temp_c=temp,
                            bias_a=bias,
                            mc_index=c,
                            analysis="op",
                            point=i,
                            pattern="random",
                            status="ok",
                            **{f"in_i{k}_a": x[i, k] * bias for k in range(4)},
                            ideal_z_a=mp.ideal(x[i], 1.0) * bias,
                            fs_a=x[i].max() * bias,
                            out_z_a=y[i] * bias,
                            power_w=1e-6 * bias / 1e-7,
                        )
                    )
    return pd.DataFrame(rows), gains


def test_units_sum_to_the_cell_at_every_point_and_chip_they_are_asked() -> None:
    """evaluate_units keeps the planes it interpolated per operating point: asked at one
    temperature and chip, then another, then the first again, it must answer each."""
    df, _ = _synthetic()
    m = MPModel().fit(df, {"n_inputs": 4})
    ig = m.layout_.slices()[0].g
    m.params_[:, 0, :, ig] *= 1.2  # -40 C differs from 27 C (the synthetic data do not)
    m.chips_[:, :, 0, :, ig] *= 1.2
    x = df[df["bias_a"] == 1e-6][[f"in_i{k}_a" for k in range(4)]].to_numpy()[:40] / 1e-6
    terms = m.layout_.terms(x)
    seen = []
    for temp, chip in ((-40.0, None), (27.0, None), (27.0, 1), (-40.0, 2), (-40.0, None)):
        c = None if chip is None else np.full(len(x), chip)
        (z,) = m.evaluate_units(terms, 1e-6, temp, chip=c)
        assert np.allclose(z * 1e-6, m.evaluate(x * 1e-6, 1e-6, temp, chip=c), atol=1e-15)
        seen.append(z)
    assert np.abs(seen[0] - seen[1]).max() > 0.05  # the two temperatures do differ


def test_model_fits_chips_and_round_trips_its_files(tmp_path: Path) -> None:
    df, gains = _synthetic()
    m = MPModel().fit(df, {"n_inputs": 4})
    assert np.allclose(m.chips_[:, 0, 0, 0, :4], gains, atol=1e-6)
    v = m.validate(df, "training rows")
    assert v["max_err_fs"] < 1e-6 and v["chips"]["max_err_fs"] < 1e-6
    assert len(v["chips"]["per_chip"]) == 3
    x = df[[f"in_i{k}_a" for k in range(4)]].to_numpy()[:50]
    m.save(tmp_path / "m")
    m2 = MPModel.load(tmp_path / "m.json")
    for chip in (None, np.arange(50) % 3):
        assert np.array_equal(
            m.evaluate(x, 1e-7, 0.0, chip=chip), m2.evaluate(x, 1e-7, 0.0, chip=chip)
        )
    assert json.loads((tmp_path / "m.json").read_text())["kind"] == "MPModel"
    # new chips from the statistical model: seeded, and spread like the fitted ones
    s1, s2 = m.sample_chips(4, seed=5), m.sample_chips(4, seed=5)
    assert np.array_equal(s1, s2) and s1.shape == (4, *m.chips_.shape[1:])
    npz = (tmp_path / "m.npz").read_bytes()
    (tmp_path / "m.npz").write_bytes(npz[:-10])
    with pytest.raises(ModelError, match="checksum"):
        MPModel.load(tmp_path / "m")


def test_range_rule_clamps_bias_and_temperature_unless_strict() -> None:
    df, _ = _synthetic(chips=2)
    m = MPModel().fit(df, {"n_inputs": 4})
    x = np.full((1, 4), 1e-8)
    # clamped: the parameters of the nearest fitted point, scaled by the actual bias
    assert np.isclose(m.evaluate(x * 0.1, 1e-9, 27.0)[0] * 10, m.evaluate(x, 1e-8, 27.0)[0])
    assert np.isclose(m.evaluate(x, 1e-8, 200.0)[0], m.evaluate(x, 1e-8, 27.0)[0])
    with pytest.raises(ModelError, match=r"bias_a .* outside the fitted"):
        m.evaluate(x * 0.1, 1e-9, 27.0, strict=True)
    with pytest.raises(ModelError, match="temp_c 200 outside"):
        m.evaluate(x, 1e-8, 200.0, strict=True)
    with pytest.raises(ModelError, match="needs 4 inputs"):
        m.evaluate(np.ones((2, 3)), 1e-8, 27.0)


def test_export_text_has_ports_and_instance_bias() -> None:
    df, _ = _synthetic(chips=2)
    m = MPModel().fit(df, {"n_inputs": 4})
    sub = mpexport.ngspice_subckt(m, 0)
    assert ".subckt sactk_mp_tt in0 in1 in2 in3 out params: bias_a=" in sub
    va = mpexport.verilog_a(m, 0, chip=1)
    assert "module sactk_mp_tt_chip1(in0, in1, in2, in3, out);" in va
    assert '(*type="instance"*) parameter real bias_a' in va
    assert "V(in0) <+ 0.0 * I(in0);" in va  # a bare 0 lets OpenVAF merge the pin into ground
    with pytest.raises(ModelError, match="export: chip 7 was not fitted"):
        mpexport.verilog_a(m, 0, chip=7)


def _perturbed(lay: Layout, n: int, rng: np.random.Generator) -> np.ndarray:
    """n parameter planes around the ideal: gains, offsets, square-law terms, g and b."""
    p = np.tile(lay.ideal_params(), (n, 1))
    for sl in lay.slices():
        k = sl.a.stop - sl.a.start
        p[:, sl.a] *= rng.uniform(0.85, 1.15, (n, k))
        p[:, sl.d] = rng.uniform(-0.02, 0.02, (n, k))
        p[:, sl.c] = rng.uniform(-0.1, 0.1, (n, k))
        p[:, sl.g] = rng.uniform(0.9, 1.1, n)
        p[:, sl.b] = rng.uniform(-0.05, 0.05, n)
    return p


def test_compiled_solver_and_units_equal_numpy_bit_for_bit() -> None:
    """The runners' compiled path (circuits/mp_compiled.py, numba) gives the NumPy solver's
    numbers exactly, in all three of its forms (unit gains, gains, gains and square-law
    terms), and the units of a perturbed inner product exactly too; the fused cell model
    within 1e-13 (its dot products may sum in another order)."""
    from sactk.analysis.mpfit import unit_outputs
    from sactk.circuits import mp_compiled

    rng = np.random.default_rng(11)
    t = rng.uniform(-0.5, 2.0, (3000, 7))
    a = rng.uniform(0.8, 1.2, (3000, 7))
    c = rng.uniform(-0.2, 0.2, (3000, 7))
    g = rng.uniform(0.5, 1.5, 3000)
    for args in ((None, None), (a.T, None), (a.T, c.T)):
        want = mp.water_level(t.T, g, *args)  # 3000 < COMPILED_FROM: NumPy
        got = mp_compiled.water_level(t.T, g, *args)
        assert np.array_equal(want[0], got[0]) and np.array_equal(want[1], got[1])
    # the tanh cell's two-term units (unit_two) and six-term ones (the per-unit kernel); the
    # inner product's layout is the one the fused model is checked on below
    widths: set[int] = set()
    for u in (shape.units(shape.Params()), inner.units(inner.Params(n_inputs=3))):
        lay = Layout(u.mix, u.offset, u.sign)
        pool = _perturbed(lay, 6, rng)
        idx = rng.integers(0, 6, 2000)
        x = rng.uniform(0.0, 2.0, (2000, lay.mix[0].shape[0]))
        terms = lay.terms(x)
        widths |= {t.shape[1] for t in terms}
        scale = [rng.uniform(0.9, 1.1, 2000) for _ in terms]
        for gs in (None, scale):
            want_z = unit_outputs(lay, terms, pool[idx], (0.0, 3.0), gs)
            got_z = mp_compiled.unit_rows(lay, terms, pool, idx, (0.0, 3.0), gs)
            assert all(np.array_equal(w, z) for w, z in zip(want_z, got_z, strict=True))
    assert widths == {2, 6}  # both kernels ran
    from sactk.analysis.mpfit import model_indexed

    assert len(idx) >= mp.COMPILED_FROM  # model_indexed takes the compiled path
    y = model(lay, x, pool[idx], (0.0, 3.0))
    assert np.array_equal(model_indexed(lay, x, pool, idx, (0.0, 3.0)), y)

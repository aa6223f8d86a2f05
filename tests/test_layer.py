"""A whole S-AC layer in SPICE (circuits/layer.py, sweeps/layer.py, system/network.py,
sactk.api.layer).

Netlist structure is checked on text and data; the runner-against-SPICE claims run the real
ngspice on a small layer with the bounds of issue 17: RMS at most 1 %, max at most 3 % of
the activation's range, nominal and chips, mirror mismatch included.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sactk.circuits import inner, shape
from sactk.circuits.layer import LayerParams, build_layer
from sactk.circuits.topology import wiring
from sactk.errors import SpecError
from sactk.netlists.mismatch import pelgrom_alters
from sactk.netlists.render import Mosfet, render
from sactk.netlists.technology import c180

W22 = np.array([[0.3, -0.2], [0.1, 0.4]])


def _params(d: int = 2, h: int = 2, n: int = 2) -> LayerParams:
    return LayerParams(d, h, inner.Params(n_inputs=n), shape.Params(w_um=8.0))


def test_cells_in_the_layer_are_their_benches_devices() -> None:
    """Chip c's block i is Monte Carlo instance c H B + i of the inner-product sweep: the
    same transistors, in the same order, with the same draws."""
    tech = c180()
    p = _params()
    lay = build_layer(p, tech, W22, bias_a=1e-6)
    bench = inner.build(p.ip, tech, bias_a=1e-6)
    bench_devs = [e for e in bench.netlist.elements if isinstance(e, Mosfet)]
    act_devs = [
        e for e in shape.build(p.act, tech, bias_a=1e-6).netlist.elements if isinstance(e, Mosfet)
    ]
    ips = [g for g in lay.groups if g.kind == "inner_product"]
    acts = [g for g in lay.groups if g.kind == "tanh"]
    assert len(ips) == 2 and len(acts) == 2
    for g in ips:
        assert [(m.kind, m.w_um, m.l_um) for m in g.devices] == [
            (m.kind, m.w_um, m.l_um) for m in bench_devs
        ]
    for g in acts:
        assert [(m.kind, m.w_um, m.l_um) for m in g.devices] == [
            (m.kind, m.w_um, m.l_um) for m in act_devs
        ]
    seeds = {"inner_product": 2, "tanh": 3, "mirrors": 11}
    alters = dict(lay.alters(seeds, chip=1))
    for g in ips:
        want = pelgrom_alters(bench_devs, tech, 2, 1 * 2 * 1 + g.position)
        got = [v for t, v in pelgrom_alters(g.devices, tech, 2, 1 * 2 * 1 + g.position)]
        assert got == [v for _, v in want]
        assert all(alters[t] == v for t, v in pelgrom_alters(g.devices, tech, 2, 2 + g.position))
    text = render(lay.netlist)
    assert text.count("\nibias ") == 1 and "\nixp1 " in text and "\nixn0 " in text
    assert "\nva1_outp " in text


def test_wiring_and_padding() -> None:
    """Three inputs on 2-input blocks: the padded term is the common mode c (no copy); every
    other inner-product term has one fan-out copy; the tanh terms are PMOS copies at the
    gain, two of them with the constant h."""
    p = _params(d=3, h=2, n=2)
    w = np.array([[0.1, -0.2, 0.3], [0.0, 0.4, -0.4]])
    lay = build_layer(p, c180(), w, bias_a=1e-7)
    wr = wiring(lay, w)
    assert wr.ip_copy.shape == (2, 2, 2, 4)
    assert (wr.ip_copy[:, 1, :, [1, 3]] == -1).all()  # block 1, input 3: padding
    assert np.allclose(wr.ip_const[:, 1, :, [1, 3]], p.ip.c_ratio)
    assert wr.ip_const[0, 0, 0, 0] == pytest.approx(p.ip.c_ratio - p.x_cm + 0.1)
    assert wr.ip_const[0, 0, 0, 2] == pytest.approx(p.ip.c_ratio - p.x_cm - 0.1)
    ratios = np.array([o.ratio for o in lay.outputs])
    assert np.allclose(ratios[wr.act_copy], p.gain)
    assert (wr.act_const[:, :, 1] == -1).all() and (wr.act_const[:, :, 0] >= 0).all()
    assert p.z_shift() == pytest.approx(2 * (1 - 0.25) - 2.0 / 4.0)


def test_bad_layers_are_refused() -> None:
    with pytest.raises(SpecError, match="layer: weights must have shape"):
        build_layer(_params(), c180(), np.zeros((3, 2)), bias_a=1e-6)
    with pytest.raises(SpecError, match=r"\|w\| reaches 0.6"):
        build_layer(_params(), c180(), np.full((2, 2), 0.6), bias_a=1e-6)
    with pytest.raises(SpecError, match="tanh neurons only"):
        LayerParams(2, 2, inner.Params(n_inputs=2), shape.Params(shape="sigmoid"))


def test_inference_cost_takes_the_layer_step() -> None:
    from sactk.system.regression import inference_cost

    timing = pd.DataFrame(
        {
            "bias_a": [1e-8, 1e-6],
            "temp_c": [27.0, 27.0],
            "settle_s": [1e-4, 1e-6],
            "settle_layer_s": [2e-4, 2e-6],
            "power_neuron_w": [1e-7, 1e-5],
            "power_shared_w": [1e-8, 1e-6],
        }
    )
    t, p, source = inference_cost(timing, None, 64, 1e-7, 27.0, None)  # type: ignore[arg-type]
    assert t == pytest.approx(2e-5) and p == pytest.approx(1e-7 + 64 * 1e-6)
    assert source.startswith("layer step")


@pytest.mark.ngspice
def test_small_layer_runner_matches_ngspice(tmp_path: Path) -> None:
    """2 inputs x 2 neurons, nominal and 2 chips, at 10 nA, 1 uA and 10 uA: the runner with
    the measured mirror gains within the bounds; ignoring the mirrors' mismatch is visibly
    worse on the chips (the check sees the mirrors)."""
    from sactk.api.layer import Setup, verify_layer

    setup = Setup(features=2, hidden=2, n_block=2, samples=16, chips=2, ip_vectors=60)
    s = verify_layer(tmp_path / "v", setup, jobs=2)
    table = pd.DataFrame(s["errors"])
    assert len(table) == 9
    assert table["rms_err_pct"].max() <= 1.0, table
    assert table["max_err_pct"].max() <= 3.0, table
    chips = table[table["chip"] >= 0]
    assert (chips["rms_err_ideal_mirrors_pct"] > 2 * chips["rms_err_pct"]).mean() >= 0.5, chips
    saved = json.loads((tmp_path / "v" / "summary.json").read_text())
    assert saved["seeds"]["mirrors"] and saved["netlist_hashes"] and saved["versions"]
    frame = pd.read_csv(tmp_path / "v" / "layer.csv")
    assert len(frame) == 3 * 3 * 16 * 2
    assert frame["h_spice"].abs().max() > 0.3  # the neurons do swing
    assert (tmp_path / "v" / "layer.png").is_file()
    assert s["speed"]["ratio"] > 1.0
    _compiled_forward_equals_numpy(tmp_path / "v" / "models", setup)


def _compiled_forward_equals_numpy(models: Path, setup: object) -> None:
    """The compiled forward (system/layer_compiled.py) against the NumPy forward on the
    fitted models, with 2 blocks a neuron (sums over blocks), mirror gains off their ratios
    and the feeds' output conductance on (both fixed-point rounds), nominal and per chip:
    equal to rounding (1e-12)."""
    from dataclasses import replace

    from sactk.analysis.mpmodel import MPModel
    from sactk.api.layer import layer_params
    from sactk.circuits.layer import build_layer
    from sactk.circuits.topology import wiring
    from sactk.netlists.technology import c180
    from sactk.system import network
    from sactk.system.network import LayerRunner, MirrorGains

    ip, act = (MPModel.load(models / n) for n in ("inner_product", "tanh"))
    lp = layer_params(replace(setup, features=4, hidden=1), ip, act)  # type: ignore[type-var]
    rng = np.random.default_rng(11)
    w = rng.uniform(-0.4, 0.4, (1, 4))
    lay = build_layer(lp, c180(), w, bias_a=1e-7)
    assert lp.topology.blocks == 2
    run = LayerRunner(ip, act, lp.topology, wiring(lay, w), lp.x_cm, lp.gain)
    ratios = np.array([o.ratio for o in lay.outputs])
    m = len(ratios)
    gains = MirrorGains(ratios * rng.normal(1, 0.02, m), rng.normal(0, 0.01, m),
                        rng.normal(0, 0.05, m), 0.05, 0.3)  # fmt: skip
    x = rng.uniform(-0.4, 0.4, (400, 4))  # 400 rows: the compiled path
    for chip in (None, 0, 1):
        got = run.forward(x, 1e-7, 27.0, gains, chip=chip)
        keep = network.COMPILED_FROM
        network.COMPILED_FROM = 10**12  # the NumPy forward
        try:
            want = run.forward(x, 1e-7, 27.0, gains, chip=chip)
        finally:
            network.COMPILED_FROM = keep
        assert np.abs(got).max() > 0.1  # the neurons swing
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)


@pytest.mark.ngspice
def test_layer_step_settles_and_scales_with_bias(tmp_path: Path) -> None:
    from sactk.api.layerstep import step_response

    rows = step_response(tmp_path, (1e-8, 1e-6), jobs=2)
    assert list(rows["bias_a"]) == [1e-8, 1e-6]
    assert rows["settle_layer_s"].iloc[0] > 30 * rows["settle_layer_s"].iloc[1]
    assert (rows["power_neuron_w"] > 0).all() and (rows["power_shared_w"] > 0).all()
    # power scales with the bias (every current is a multiple of it)
    ratio = rows["power_neuron_w"].iloc[1] / rows["power_neuron_w"].iloc[0]
    assert 50 < ratio < 200


@pytest.mark.ngspice
def test_one_transient_settles_every_neuron_it_names() -> None:
    """A step job naming two neurons gives the later of their settling times, the numbers
    two one-neuron jobs of the same transient give (step_response runs one a layer)."""
    from sactk.api.layerstep import ACT_W_UM, STEP_WINDOW_AS
    from sactk.sweeps import layer as sim

    lp = LayerParams(2, 2, inner.Params(n_inputs=4), shape.Params(w_um=ACT_W_UM), 4.0, 0.5)
    W = np.array([[0.3, -0.2], [-0.35, 0.1]])
    lay = build_layer(lp, c180(), W, bias_a=1e-6)
    x0, x1 = np.full(2, -0.4), np.full(2, 0.4)
    window = STEP_WINDOW_AS / 1e-6
    res = sim.run(
        [sim.step_job(lay, x0, x1, window, 0.01, name, n)
         for name, n in (("a", (0,)), ("b", (1,)), ("ab", (0, 1)), ("ba", (1, 0)))],
        2,
    )  # fmt: skip
    each = [float(res[k]["settle_s"].iloc[0]) for k in ("a", "b")]
    assert each[0] != each[1]  # the neurons settle at different times: max() is tested
    for both in ("ab", "ba"):  # either order: not just the first neuron named
        assert float(res[both]["settle_s"].iloc[0]) == max(each)
    assert float(res["ab"]["power_w"].iloc[0]) == float(res["a"]["power_w"].iloc[0])


@pytest.mark.ngspice
def test_sinc_r2_in_spice_matches_the_runner(tmp_path: Path) -> None:
    """sinc, 8 neurons, chip 0: the readout trained on the runner gives the same R2 on the
    test set in ngspice within 0.01 at 10 nA, 1 uA and 10 uA (the issue's must-show)."""
    from sactk.api.regress import verify_regression

    rows = verify_regression(tmp_path, hidden=8, biases=(1e-8, 1e-6, 1e-5), jobs=2)
    assert (rows["r2_runner"] > 0.85).all(), rows
    assert (rows["r2_gap"].abs() <= 0.01).all(), rows

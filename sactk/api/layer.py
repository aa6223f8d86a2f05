"""A whole S-AC layer in SPICE against the vectorized runner (``sactk verify layer``).

1. The cells' Monte Carlo sweeps: the inner product (N inputs) and the tanh cell, with as
   many instances as ``chips`` chips of the layer hold (H B and H per chip), and their
   MP-unit models (``--kind mp``).
2. Per bias: the layer netlist (circuits/layer.py) with seeded weights; the term-node
   voltages of the nominal cell benches; every mirror output's gain on every chip, measured
   on the mirrors alone at those voltages.
3. The same S samples through the layer netlist in ngspice (nominal and every chip; one
   loaded circuit per chip and bias) and through the runner (system/network.py) with that
   chip's per-instance models and mirror gains.

Errors are in % of the activation's range (2 h gamma).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sactk.api.reporter import Quiet, Reporter
from sactk.errors import SpecError

ACT_W_UM = 8.0
"""The layer's tanh cells are 8/1 um (W/L 8, twice the cell's default): their term nodes
then sit lower, so the PMOS copies feeding them keep more drain headroom at 10 uA, where
their output conductance is what the runner (gains measured at one voltage) cannot follow.
On sinc with 8 neurons the R2 gap at 10 uA fell from 0.053 to 0.022 (docs/layer.md)."""

MIRROR_SEED_TAG = 0x4D49
"""The mirrors' Pelgrom stream: instance ``chip`` of ``stream(seed, MIRROR_SEED_TAG)``."""


@dataclass(frozen=True)
class Setup:
    """What a layer verification runs; every field is recorded with its results."""

    features: int = 4
    hidden: int = 8
    n_block: int = 4
    samples: int = 100
    biases: tuple[float, ...] = (1e-8, 1e-6, 1e-5)
    temp_c: float = 27.0
    chips: int = 3
    seed: int = 0
    gain: float = 4.0
    input_ratio: float = 0.4
    ip_vectors: int = 120
    mirror_w_um: float | None = None
    mirror_l_um: float | None = None
    act_w_um: float | None = ACT_W_UM
    """Width of the tanh cell's matched devices, um (None: the cell's default, 4 um)."""

    def check(self) -> None:
        if self.samples < 1 or self.chips < 0:
            raise SpecError("--samples must be at least 1 and --chips at least 0")
        if not 1 <= self.n_block <= 32:
            raise SpecError("--block must be from 1 to 32 (the inner product's N)")
        if any(not b > 0 for b in self.biases):
            raise SpecError("--bias: give positive currents in A")
        if not 0 < self.input_ratio <= 0.5:
            raise SpecError("--input-ratio: inputs and weights must stay within (0, 0.5] gamma")


def _mirror_seed(seed: int) -> int:
    from sactk.seeds import instance_seed

    return instance_seed(seed, MIRROR_SEED_TAG)


def cell_models(
    out: Path, setup: Setup, reporter: Reporter, jobs: int | None = None
) -> tuple[Any, Any, dict[str, int]]:
    """Sweep and fit (or reuse) the inner-product and tanh MP-unit models the layer needs."""
    from sactk.analysis.mpmodel import MPModel
    from sactk.api.models import fit
    from sactk.api.sweeping import load, sweep

    blocks = -(-setup.features // setup.n_block)
    biases = ", ".join(f"{b:.6g}" for b in sorted(setup.biases))
    common = [f"sweep.bias_a=[{biases}]", f"sweep.temp_c=[{setup.temp_c:g}]"]
    runs = {
        "inner_product": (
            "inner-product-mc",
            [
                f"cell.n_inputs={setup.n_block}",
                f"mc.instances={max(1, setup.chips * setup.hidden * blocks)}",
                f"inputs.random.count={setup.ip_vectors}",
            ],
        ),
        "tanh": (
            "shape-tanh-mc",
            [f"mc.instances={max(1, setup.chips * setup.hidden)}"]
            + ([f"cell.w_um={setup.act_w_um:g}"] if setup.act_w_um else []),
        ),
    }
    models, seeds = {}, {}
    for name, (preset, extra) in runs.items():
        spec = load(preset=preset, overrides=common + extra)
        reporter.message(f"{name}: {preset} with {spec.mc.instances} Monte Carlo instances")
        sweep(spec, out / "cells" / name, jobs=jobs, reporter=reporter)
        stem = out / "models" / name
        if not (stem.with_suffix(".json")).is_file():
            fit(out / "cells" / name, stem, kind="mp", reporter=reporter)
        models[name] = MPModel.load(stem)  # with its file's spec, seeds and technology
        seeds[name] = int(spec.mc.seed)
    return models["inner_product"], models["tanh"], seeds


def layer_params(setup: Setup, ip: Any, act: Any) -> Any:
    """LayerParams whose cells are exactly the fitted ones (their spec's [cell] tables)."""
    from sactk.circuits import inner, layer, shape

    def table(m: Any) -> dict[str, Any]:
        cell = dict((m.info_.get("spec") or {}).get("cell") or {})
        cell.pop("name", None)
        return cell

    ip_t, act_t = table(ip), table(act)
    return layer.LayerParams(
        n_features=setup.features,
        hidden=setup.hidden,
        ip=inner.Params(**ip_t),
        act=shape.Params(shape="tanh", **act_t),
        gain=setup.gain,
        x_cm=0.5,
        mirror_w_um=setup.mirror_w_um,
        mirror_l_um=setup.mirror_l_um,
    )


def _tech(model: Any) -> Any:
    from sactk.netlists.technology import get_technology

    t = (model.info_.get("technology") or {}).get("name", "c180")
    if t != "c180":
        raise SpecError(f"layer: the models are on {t}; the layer check runs on c180")
    return get_technology("c180")


def simulate(
    setup: Setup,
    ip: Any,
    act: Any,
    seeds: dict[str, int],
    weights: np.ndarray,
    X: np.ndarray,
    reporter: Reporter,
    jobs: int | None = None,
    chips: list[int | None] | None = None,
    spice_rows: np.ndarray | None = None,
) -> dict[str, Any]:
    """Runner and ngspice activations (gamma) of X on the layer with ``weights``, per bias
    and chip (default: nominal and every chip of ``setup``); ngspice simulates the rows
    ``spice_rows`` only (default all). Returns {"runs": {(bias, chip): {"runner",
    "ideal_mirrors", "spice"}}, "spice_s_per_sample", "runner_s_per_sample", ...}."""
    from sactk.circuits.layer import build_layer, wiring
    from sactk.sweeps import layer as sim
    from sactk.sweeps.executors import default_jobs
    from sactk.system.network import LayerRunner

    tech = _tech(ip)
    lp = layer_params(setup, ip, act)
    seeds = dict(seeds, mirrors=_mirror_seed(setup.seed))
    chip_list: list[int | None] = [None, *range(setup.chips)] if chips is None else chips
    rows = np.arange(len(X)) if spice_rows is None else np.asarray(spice_rows)
    layers = {
        b: build_layer(lp, tech, weights, bias_a=b, temp_c=setup.temp_c) for b in setup.biases
    }
    # term-node voltages, then every chip's mirror gains, then the samples
    prep = sim.run([j for b, lay in layers.items() for j in sim.voltage_jobs(lay, f"v{b:g}")], jobs)
    mirror_jobs, sample_jobs = [], []
    volts = {b: sim.node_voltages(prep, f"v{b:g}") for b in layers}
    for b, lay in layers.items():
        held = sim.held_voltage(volts[b], tech)
        for c in chip_list:
            mirror_jobs.append(sim.mirror_job(lay, held, seeds, c, f"m{b:g}-{c}"))
            sample_jobs.append(sim.sample_job(lay, X[rows], seeds, c, f"s{b:g}-{c}"))
    reporter.message(
        f"layer: {setup.features} inputs x {setup.hidden} neurons, "
        f"{len(lay.netlist.elements)} netlist elements; {len(rows)} samples x "
        f"{len(chip_list)} chips x {len(layers)} biases in ngspice"
    )
    gains = sim.run(mirror_jobs, jobs)
    t0 = time.perf_counter()
    with reporter.progress("layer in ngspice", "jobs") as progress:
        spice = sim.run(sample_jobs, jobs, progress)
    spice_wall = time.perf_counter() - t0
    workers = min(len(sample_jobs), jobs or default_jobs())  # what run_jobs starts
    runs: dict[tuple[float, int | None], dict[str, np.ndarray]] = {}
    runner_s = 0.0
    for b, lay in layers.items():
        run = LayerRunner(ip, act, wiring(lay, weights), lp.x_cm, lp.gain)
        ratios = np.array([o.ratio for o in lay.outputs])
        for c in chip_list:
            g = chip_gains(lay, gains[f"m{b:g}-{c}"], volts[b])
            t1 = time.perf_counter()
            y_run = run.forward(X, b, setup.temp_c, g, chip=c)
            runner_s += time.perf_counter() - t1
            df = spice[f"s{b:g}-{c}"].sort_values("point")
            runs[(b, c)] = {
                "runner": y_run,
                "ideal_mirrors": run.forward(X, b, setup.temp_c, run.ideal_gains(ratios), chip=c),
                "spice": np.stack([df[f"h{j}_a"].to_numpy() / b for j in range(setup.hidden)], 1),
            }
    n_runs = len(chip_list) * len(layers)
    return {
        "runs": runs,
        "spice_rows": rows,
        "range": 2.0 * lp.act.h_ratio,
        "spice_s_per_sample": spice_wall * workers / (n_runs * len(rows)),
        "runner_s_per_sample": runner_s / (n_runs * len(X)),
        "workers": workers,
        "netlist_hashes": sorted({j.netlist_hash for j in sample_jobs}),
        "seeds": seeds,
    }


def chip_gains(lay: Any, mirrors: Any, volts: dict[str, dict[str, float]]) -> Any:
    """The runner's MirrorGains of one chip at one bias: the mirror outputs' measured gains
    (a :func:`sactk.sweeps.layer.mirror_job`'s rows) and the tanh term nodes' slope (the
    benches' voltages), with the tanh unit's rest output where its feeds were measured."""
    from sactk.circuits.mp import ideal as mp_ideal
    from sactk.sweeps import layer as sim
    from sactk.system.network import MirrorGains

    act = lay.params.act
    z_rest = float(mp_ideal(np.array([act.c_ratio, act.c_ratio - act.h_ratio]), 1.0))
    a, b, g_v = sim.mirror_gains(lay, mirrors)
    return MirrorGains(a, b, g_v, volts["act"]["dv_dz"], z_rest)


def frame_of(res: dict[str, Any]) -> Any:
    """Every (bias, chip, sample, neuron) that ngspice simulated, with both runners' values
    and their errors in % of the activation range."""
    import pandas as pd

    parts = []
    rows = res["spice_rows"]
    for (b, c), r in res["runs"].items():
        sp = r["spice"]
        s, h = sp.shape
        parts.append(
            pd.DataFrame(
                {
                    "bias_a": b,
                    "chip": -1 if c is None else c,
                    "sample": np.repeat(rows, h),
                    "neuron": np.tile(np.arange(h), s),
                    "h_spice": sp.ravel(),
                    "h_runner": r["runner"][rows].ravel(),
                    "h_runner_ideal_mirrors": r["ideal_mirrors"][rows].ravel(),
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    scale = 100.0 / res["range"]
    frame["err_pct"] = scale * (frame["h_runner"] - frame["h_spice"])
    frame["err_ideal_mirrors_pct"] = scale * (frame["h_runner_ideal_mirrors"] - frame["h_spice"])
    return frame


def summarize(frame: Any) -> Any:
    """Max and RMS error (% of the activation range) per bias and chip (-1: nominal)."""
    g = frame.groupby(["bias_a", "chip"])
    return g.agg(
        max_err_pct=("err_pct", lambda e: float(np.abs(e).max())),
        rms_err_pct=("err_pct", lambda e: float(np.sqrt(np.mean(e**2)))),
        max_err_ideal_mirrors_pct=("err_ideal_mirrors_pct", lambda e: float(np.abs(e).max())),
        rms_err_ideal_mirrors_pct=(
            "err_ideal_mirrors_pct", lambda e: float(np.sqrt(np.mean(e**2)))
        ),
    ).reset_index()  # fmt: skip


def verify_layer(
    out: str | Path,
    setup: Setup | None = None,
    *,
    jobs: int | None = None,
    reporter: Reporter | None = None,
) -> dict[str, Any]:
    """The runner against SPICE on a whole layer: writes OUT/layer.csv (every sample and
    neuron), OUT/summary.csv and OUT/summary.json (errors per bias and chip, speed, setup,
    seeds, versions, netlist hashes) and OUT/layer.png. Returns the summary."""
    from sactk.files import write_csv, write_json
    from sactk.seeds import stream_rng
    from sactk.system.plots import plot_layer_check
    from sactk.versions import tool_versions

    st = setup or Setup()
    st.check()
    rep = reporter or Quiet()
    out = Path(out)
    ip, act, seeds = cell_models(out, st, rep, jobs)
    rng = stream_rng(st.seed, 0x1A7)
    W = rng.uniform(-st.input_ratio, st.input_ratio, (st.hidden, st.features))
    X = rng.uniform(-st.input_ratio, st.input_ratio, (st.samples, st.features))
    res = simulate(st, ip, act, seeds, W, X, rep, jobs)
    frame = frame_of(res)
    table = summarize(frame)
    write_csv(out / "layer.csv", frame)
    write_csv(out / "summary.csv", table)
    plot_layer_check(frame, out, "layer")
    ratio = res["spice_s_per_sample"] / max(res["runner_s_per_sample"], 1e-12)
    summary = {
        "setup": st.__dict__ | {"biases": list(st.biases)},
        "errors": table.to_dict(orient="records"),
        "worst": {
            "max_err_pct": float(table["max_err_pct"].max()),
            "rms_err_pct": float(table["rms_err_pct"].max()),
        },
        "speed": {
            "spice_s_per_sample": res["spice_s_per_sample"],
            "runner_s_per_sample": res["runner_s_per_sample"],
            "ratio": ratio,
            "note": "SPICE: pool wall time x workers / samples (CPU time per sample); runner: "
            "one forward of all samples per chip and bias, divided by samples",
        },
        "seeds": res["seeds"] | {"weights_and_inputs": st.seed},
        "technology": "c180",
        "versions": tool_versions(),
        "netlist_hashes": res["netlist_hashes"],
        "models": {"inner_product": str(out / "models" / "inner_product"),
                   "tanh": str(out / "models" / "tanh")},
    }  # fmt: skip
    write_json(out / "summary.json", summary)
    rep.message(
        f"layer: worst max {summary['worst']['max_err_pct']:.2f} %, worst RMS "
        f"{summary['worst']['rms_err_pct']:.2f} % of the activation range; runner "
        f"{ratio:,.0f}x faster per sample than ngspice"
    )
    return summary


STEP_WINDOW_AS = 2e-11
"""Step-response window times the bias (2 ms at 10 nA, 2 us at 10 uA): the layer settles
within about a third of it (the tanh cell alone needs a tenth: shape-tanh-tran)."""


STEP_BIASES = (1e-8, 3e-8, 1e-7, 3e-7, 1e-6, 3e-6, 1e-5)


def step_response(
    out: str | Path,
    biases: tuple[float, ...] = STEP_BIASES,
    *,
    features: int = 2,
    temp_c: float = 27.0,
    seed: int = 0,
    tolerance: float = 0.01,
    jobs: int | None = None,
    reporter: Reporter | None = None,
) -> Any:
    """The neuron's speed and energy from the layer netlist's step response: every input of
    a ``features`` x 2 layer (seeded weights, nominal devices, the built-in cell sizes)
    steps from -0.4 to +0.4 gamma; each neuron's output must settle within ``tolerance``
    (the slower one counts). The supply power of a 1- and a 2-neuron layer at the final
    inputs splits into a per-neuron and a shared part (fan-out diodes, bias masters).
    Writes OUT/layer_step.csv; returns its rows: bias_a, temp_c, settle_layer_s,
    power_neuron_w, power_shared_w."""
    import pandas as pd

    from sactk.circuits import inner, shape
    from sactk.circuits.layer import LayerParams, build_layer
    from sactk.files import write_csv
    from sactk.netlists.technology import get_technology
    from sactk.seeds import stream_rng
    from sactk.sweeps import layer as sim

    rep = reporter or Quiet()
    tech = get_technology("c180")
    rng = stream_rng(seed, 0x57E)
    W = rng.uniform(-0.4, 0.4, (2, features))
    x0, x1 = np.full(features, -0.4), np.full(features, 0.4)
    jobs_list = []
    for b in biases:
        for h in (1, 2):
            lp = LayerParams(
                features, h, inner.Params(n_inputs=4), shape.Params(w_um=ACT_W_UM), 4.0, 0.5
            )
            lay = build_layer(lp, tech, W[:h], bias_a=b, temp_c=temp_c)
            for j in range(h):
                window = STEP_WINDOW_AS / b
                jobs_list.append(sim.step_job(lay, x0, x1, window, tolerance, f"{b:g}-{h}-{j}", j))
    rep.message(f"layer step response: {len(biases)} biases, {len(jobs_list)} transients")
    res = sim.run(jobs_list, jobs)
    rows = []
    for b in biases:
        p1 = float(res[f"{b:g}-1-0"]["power_w"].iloc[0])
        p2 = float(res[f"{b:g}-2-0"]["power_w"].iloc[0])
        settle = max(float(res[f"{b:g}-2-{j}"]["settle_s"].iloc[0]) for j in range(2))
        rows.append(
            {
                "bias_a": b,
                "temp_c": temp_c,
                "settle_layer_s": settle,
                "power_neuron_w": p2 - p1,
                "power_shared_w": 2 * p1 - p2,
                "features": features,
            }
        )
    frame = pd.DataFrame(rows)
    write_csv(Path(out) / "layer_step.csv", frame)
    return frame


def verify_regression(
    out: str | Path,
    *,
    dataset: str = "sinc",
    hidden: int = 8,
    chip: int = 0,
    biases: tuple[float, ...] = (1e-8, 1e-6, 1e-5),
    temp_c: float = 27.0,
    seed: int = 0,
    ridge_lam: float = 1e-4,
    act_w_um: float | None = ACT_W_UM,
    mirror_w_um: float | None = None,
    mirror_l_um: float | None = None,
    jobs: int | None = None,
    reporter: Reporter | None = None,
) -> Any:
    """The regression experiment end to end on one chip: the readout is trained on the
    runner's activations of that chip (chip in the loop, as ``sactk regress`` does), then
    the same weights, chip and readout run on the test set in ngspice. Writes
    OUT/regression.csv (R2 of both per bias); returns its rows."""
    import pandas as pd

    from sactk.api.regress import dataset as load_dataset
    from sactk.files import write_csv, write_json
    from sactk.system.regression import predict, r2_rmse, ridge, split_and_weights
    from sactk.versions import tool_versions

    rep = reporter or Quiet()
    out = Path(out)
    ds = load_dataset(dataset)
    train, test, Xb, W = split_and_weights(ds, hidden, seed)  # as sactk regress draws them
    n = len(ds.y)
    st = Setup(
        features=Xb.shape[1], hidden=hidden, samples=n, biases=tuple(biases), temp_c=temp_c,
        chips=chip + 1, seed=seed, act_w_um=act_w_um, mirror_w_um=mirror_w_um,
        mirror_l_um=mirror_l_um,
    )  # fmt: skip
    st.check()
    ip, act, seeds = cell_models(out, st, rep, jobs)
    res = simulate(st, ip, act, seeds, W, Xb, rep, jobs, [chip], np.nonzero(test)[0])
    rows = []
    for b in biases:
        r = res["runs"][(b, chip)]
        beta = ridge(r["runner"][train][None], ds.y[train], ridge_lam)
        r2_run, _ = r2_rmse(ds.y[test], predict(r["runner"][test][None], beta))
        r2_sp, _ = r2_rmse(ds.y[test], predict(r["spice"][None], beta))
        rows.append(
            {
                "bias_a": b,
                "temp_c": temp_c,
                "chip": chip,
                "r2_runner": float(r2_run[0]),
                "r2_spice": float(r2_sp[0]),
                "r2_gap": float(r2_sp[0] - r2_run[0]),
                "test_samples": int(test.sum()),
            }
        )
    frame = pd.DataFrame(rows)
    write_csv(out / "regression.csv", frame)
    write_json(
        out / "regression.json",
        {
            "dataset": ds.name,
            "hidden": hidden,
            "rows": rows,
            "seeds": res["seeds"] | {"split_and_weights": seed},
            "versions": tool_versions(),
            "netlist_hashes": res["netlist_hashes"],
        },
    )
    rep.message(
        "regression, chip in the loop: R2 runner vs ngspice "
        + ", ".join(f"{x['r2_runner']:.4f} / {x['r2_spice']:.4f}" for x in rows)
    )
    return frame

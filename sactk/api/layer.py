"""A whole S-AC layer in SPICE against the vectorized runner (``sactk verify layer``).

1. The cells' Monte Carlo sweeps and MP-unit models (inner product and tanh), with as many
   instances as ``chips`` chips of the layer hold (the topology's instance rule).
2. Per bias: the layer netlist (circuits/layer.py) with seeded weights; the term-node
   voltages of the nominal cell benches; every mirror output's gain on every chip.
3. The same samples through the layer netlist in ngspice and through the runner
   (system/network.py) with that chip's models and mirror gains; the figures
   (analysis/layercheck.py) are in % of the activation's range (2 h gamma).
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sactk.analysis.layercheck import (
    ACT_W_UM,
    MIRROR_SEED_TAG,
    STEP_BIASES,
    STEP_WINDOW_AS,
    Setup,
    mirror_seed,
)
from sactk.api.reporter import Quiet, Reporter

if TYPE_CHECKING:
    from sactk.analysis.layercheck import LayerRuns
    from sactk.analysis.mpmodel import MPModel
    from sactk.circuits.layer import LayerParams


NOISE_PRESETS = {"inner_product": "inner-product-noise", "tanh": "shape-tanh-noise"}
NOISE_SWEEPS: dict[str, dict[str, Any]] = {
    "inner-product-noise": {
        "inputs.random.count": 6,
        "inputs.random.min_ratio": -0.4,
        "inputs.random.max_ratio": 0.4,
        "inputs.sweep.points": 0,
    },
    "shape-tanh-noise": {
        "inputs.sweep.points": 5,
        "inputs.sweep.min_ratio": -2.0,
        "inputs.sweep.max_ratio": 2.0,
    },
}
"""The noise sweeps behind an S-AC neuron's models (``sactk fit --noise``): several vectors
over the range the runners drive, so the white term can follow the output; the biases,
temperatures and cell are the Monte Carlo sweep's."""


def cell_models(
    out: Path, setup: Setup, reporter: Reporter, jobs: int | None = None
) -> tuple[MPModel, MPModel, dict[str, int]]:
    """Sweep and fit (or reuse) the inner-product and tanh MP-unit models the layer needs."""
    from sactk.analysis.mpmodel import MPModel
    from sactk.api.models import fit
    from sactk.api.sweeping import load, sweep
    from sactk.circuits.topology import Topology

    n_ip, n_act = Topology(setup.features, setup.hidden, setup.n_block).instances_needed(
        setup.chips
    )
    common: dict[str, Any] = {"sweep.bias_a": sorted(setup.biases), "sweep.temp_c": [setup.temp_c]}
    ip_set = {"cell.n_inputs": setup.n_block, "inputs.random.count": setup.ip_vectors}
    act_set: dict[str, Any] = {"cell.w_um": setup.act_w_um} if setup.act_w_um else {}
    ip_cell = {"cell.n_inputs": setup.n_block}
    runs = {
        "inner_product": ("inner-product-mc", ip_set | {"mc.instances": max(1, n_ip)}, ip_cell),
        "tanh": ("shape-tanh-mc", act_set | {"mc.instances": max(1, n_act)}, act_set),
    }
    models, seeds = {}, {}
    for name, (preset, extra, cell) in runs.items():
        spec = load(preset=preset, updates=common | extra)
        reporter.message(f"{name}: {preset} with {spec.mc.instances} Monte Carlo instances")
        sweep(spec, out / "cells" / name, jobs=jobs, reporter=reporter)
        noise = NOISE_PRESETS[name]  # the same cell's output noise, for the noise check
        nspec = load(preset=noise, updates=NOISE_SWEEPS[noise] | common | cell)
        sweep(nspec, out / "cells" / f"{name}-noise", jobs=jobs, reporter=reporter)
        stem = out / "models" / name
        if not (stem.with_suffix(".json")).is_file():
            # the layer check measures the models against the circuit itself: two folds
            # are enough to choose the square-law pull (sactk fit validates with five)
            fit(out / "cells" / name, stem, kind="mp", folds=2, reporter=reporter,
                noise=out / "cells" / f"{name}-noise")  # fmt: skip
        models[name] = MPModel.load(stem)  # with its file's spec, seeds and technology
        seeds[name] = int(spec.mc.seed)
    return models["inner_product"], models["tanh"], seeds


def layer_params(setup: Setup, ip: MPModel, act: MPModel) -> LayerParams:
    """LayerParams whose cells are exactly the fitted ones (the cells' own parameters)."""
    from sactk.analysis.model import cell_params
    from sactk.circuits import layer

    return layer.LayerParams(
        n_features=setup.features, hidden=setup.hidden, ip=cell_params(ip),
        act=cell_params(act), gain=setup.gain, x_cm=0.5, mirror_w_um=setup.mirror_w_um,
        mirror_l_um=setup.mirror_l_um,
    )  # fmt: skip


def simulate(
    setup: Setup,
    ip: MPModel,
    act: MPModel,
    seeds: dict[str, int],
    weights: np.ndarray,
    X: np.ndarray,
    reporter: Reporter,
    jobs: int | None = None,
    chips: list[int | None] | None = None,
    spice_rows: np.ndarray | None = None,
) -> LayerRuns:
    """Runner and ngspice activations (gamma) of X on the layer with ``weights``, per bias
    and chip (default: nominal and every chip of ``setup``); ngspice simulates the rows
    ``spice_rows`` only (default all)."""
    from sactk.analysis.layercheck import LayerRun, LayerRuns
    from sactk.analysis.model import technology_of
    from sactk.circuits.layer import build_layer
    from sactk.circuits.topology import wiring
    from sactk.sweeps import layer as sim
    from sactk.sweeps.executors import default_jobs
    from sactk.system.network import LayerRunner, MirrorGains

    tech = technology_of(ip)
    lp = layer_params(setup, ip, act)
    seeds = dict(seeds, mirrors=mirror_seed(setup.seed))
    chip_list: list[int | None] = [None, *range(setup.chips)] if chips is None else chips
    rows = np.arange(len(X)) if spice_rows is None else np.asarray(spice_rows)
    lays = [build_layer(lp, tech, weights, bias_a=b, temp_c=setup.temp_c) for b in setup.biases]
    # term-node voltages, then every chip's mirror gains, then the samples
    prep = sim.run([j for i, lay in enumerate(lays) for j in sim.voltage_jobs(lay, f"v{i}")], jobs)
    volts = [sim.node_voltages(prep, f"v{i}") for i in range(len(lays))]
    mirror_jobs, sample_jobs = [], []
    for i, lay in enumerate(lays):
        held = sim.held_voltage(volts[i], tech)
        for c in chip_list:
            mirror_jobs.append(sim.mirror_job(lay, held, seeds, c, f"m{i}-{c}"))
            sample_jobs.append(sim.sample_job(lay, X[rows], seeds, c, f"s{i}-{c}"))
    reporter.message(
        f"layer: {setup.features} inputs x {setup.hidden} neurons, "
        f"{len(lays[0].netlist.elements)} netlist elements; {len(rows)} samples x "
        f"{len(chip_list)} chips x {len(lays)} biases in ngspice"
    )
    gains = sim.run(mirror_jobs, jobs)
    c0 = cpu_s()
    with reporter.progress("layer in ngspice", "jobs") as progress:
        spice = sim.run(sample_jobs, jobs, progress)
    spice_cpu = cpu_s() - c0  # every process that simulated, whatever the load
    workers = min(len(sample_jobs), jobs or default_jobs())  # what run_jobs starts
    runs, runner_s = [], 0.0
    for i, (b, lay) in enumerate(zip(setup.biases, lays, strict=True)):
        run = LayerRunner(ip, act, lp.topology, wiring(lay, weights), lp.x_cm, lp.gain)
        ideal = MirrorGains.ideal(np.array([o.ratio for o in lay.outputs]))
        if i == 0:  # untimed: loads the compiled solve (circuits/mp_compiled.py) once
            run.forward(X, b, setup.temp_c, ideal, chip=chip_list[0])
        for c in chip_list:
            a, off, g_v = sim.mirror_gains(lay, gains[f"m{i}-{c}"])
            g = MirrorGains.measured(a, off, g_v, volts[i]["act"]["dv_dz"], lp.act)
            with one_thread():  # per core: no BLAS threads spinning on the clock
                t1 = time.process_time()
                y_run = run.forward(X, b, setup.temp_c, g, chip=c)
                runner_s += time.process_time() - t1
            df = spice[f"s{i}-{c}"].sort_values("point")
            y_sp = np.stack([df[f"h{j}_a"].to_numpy() / b for j in range(setup.hidden)], 1)
            y_ideal = run.forward(X, b, setup.temp_c, ideal, chip=c)
            runs.append(LayerRun(b, c, y_run, y_ideal, y_sp))
    n_runs = len(chip_list) * len(lays)
    return LayerRuns(
        runs=tuple(runs), spice_rows=rows, range_gamma=2.0 * lp.act.h_ratio,
        spice_s_per_sample=spice_cpu / (n_runs * len(rows)),
        runner_s_per_sample=runner_s / (n_runs * len(X)), workers=workers,
        netlist_hashes=tuple(sorted({j.netlist_hash for j in sample_jobs})), seeds=seeds,
    )  # fmt: skip


def one_thread() -> Any:
    """A context in which NumPy's BLAS runs on one thread (threadpoolctl, which scikit-learn
    brings): a process-time clock then measures one core's work, not threads that spin."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency of scikit-learn
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1)


def cpu_s() -> float:
    """CPU seconds of this process and of its children that have ended (the sweep pool's
    workers are joined when a run finishes): a per-core cost that load does not change,
    unlike wall time x workers."""
    import resource

    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


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
    from sactk.analysis.layercheck import check_summary, frame_of, summarize
    from sactk.api.layernoise import noise_check, noise_summary
    from sactk.files import write_csv, write_json
    from sactk.seeds import stream_rng
    from sactk.system.plots import plot_layer_check

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
    noise = noise_check(st, ip, act, W, X, rep, jobs)
    if len(noise):
        write_csv(out / "noise.csv", noise)
    write_csv(out / "layer.csv", frame)
    write_csv(out / "summary.csv", table)
    plot_layer_check(frame, out, "layer")
    setup_rec = asdict(st) | {"biases": list(st.biases)}
    models = {k: str(out / "models" / k) for k in ("inner_product", "tanh")}
    summary = check_summary(res, table, setup_rec, st.seed, ip.info_, models)
    if len(noise):
        summary["noise"] = noise_summary(noise)
        rep.message(
            "layer noise, runner / netlist RMS over the window (median, worst): "
            + ", ".join(
                f"{r['bias_a']:.3g} A {r['ratio_median']:.3f}, {r['ratio_worst']:.3f}"
                for r in summary["noise"]
            )
        )
    write_json(out / "summary.json", summary)
    rep.message(
        f"layer: worst max {summary['worst']['max_err_pct']:.2f} %, worst RMS "
        f"{summary['worst']['rms_err_pct']:.2f} % of the activation range; runner "
        f"{summary['speed']['ratio']:,.0f}x faster per sample than ngspice"
    )
    return summary


__all__ = ["ACT_W_UM", "MIRROR_SEED_TAG", "STEP_BIASES", "STEP_WINDOW_AS", "Setup"]

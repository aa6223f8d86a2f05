"""The layer runner against ngspice on the same S-AC layer, per sample.

A 4-input x 8-neuron tanh layer (issue 17's check), chip 0, 1 uA, 27 C: ngspice solves S
samples in one loaded circuit (the layer netlist with chip 0's alters; each sample alters
the 8 input sources and solves an operating point); the runner (system/network.py)
evaluates the same samples with chip 0's per-instance models and mirror gains. Both run in
this process on one core. The models come from a `sactk verify layer` folder (default: a
fresh one with 1 chip in a temporary folder).

    OMP_NUM_THREADS=1 taskset -c 0 .venv/bin/python benchmarks/layer_speed.py [VERIFY_DIR]
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path


def main(folder: str | None = None) -> None:
    from benchmarks._common import tmp_dir
    from sactk.analysis.layercheck import mirror_seed
    from sactk.api.layer import Setup, cell_models, layer_params
    from sactk.api.reporter import Quiet
    from sactk.circuits.layer import build_layer
    from sactk.circuits.topology import wiring
    from sactk.netlists.technology import c180
    from sactk.seeds import stream_rng
    from sactk.sweeps import layer as sim
    from sactk.sweeps.backends import get_backend
    from sactk.system.network import LayerRunner, MirrorGains

    out = Path(folder) if folder else tmp_dir()
    setup = Setup(chips=1)
    ip, act, seeds = cell_models(out, setup, Quiet(), jobs=1)
    seeds = dict(seeds, mirrors=mirror_seed(setup.seed))
    lp = layer_params(setup, ip, act)
    rng = stream_rng(setup.seed, 0x1A7)
    W = rng.uniform(-0.4, 0.4, (setup.hidden, setup.features))
    bias, tech = 1e-6, c180()
    lay = build_layer(lp, tech, W, bias_a=bias)
    volts = sim.run(sim.voltage_jobs(lay, "v"), 1)
    nodes = sim.node_voltages(volts, "v")
    held = sim.held_voltage(nodes, tech)
    g = sim.run([sim.mirror_job(lay, held, seeds, 0, "m")], 1)["m"]
    # as sactk verify layer: with the feeds' conductance
    gains = MirrorGains.measured(*sim.mirror_gains(lay, g), nodes["act"]["dv_dz"], lp.act)
    run = LayerRunner(ip, act, lp.topology, wiring(lay, W), lp.x_cm, lp.gain)
    backend = get_backend()
    rows = []
    n_spice = 100
    X = rng.uniform(-0.4, 0.4, (n_spice, setup.features))
    job = sim.sample_job(lay, X, seeds, 0, "s")
    backend.run_job(job)  # warm up: ngspice started, models parsed once
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        backend.run_job(job)
        best = min(best, time.perf_counter() - t0)
    spice_s = best / n_spice
    rows.append(("ngspice (shared), one loaded layer", n_spice, spice_s))
    # best of many for the runner: a batch of 100 takes under a millisecond, where one
    # interruption of the process would decide a best of 3 (timeit's rule: the minimum)
    for n, repeats in ((100, 50), (10_000, 5)):
        Xn = rng.uniform(-0.4, 0.4, (n, setup.features))
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            run.forward(Xn, bias, 27.0, gains, chip=0)
            best = min(best, time.perf_counter() - t0)
        rows.append((f"runner, batch of {n}", n, best / n))
    print(f"# layer_speed: {platform.machine()}, Python {platform.python_version()}")
    print(f"{setup.features} inputs x {setup.hidden} tanh neurons, chip 0, 1 uA, 27 C\n")
    print("| how | samples | s per sample | ngspice / this |")
    print("| --- | ---: | ---: | ---: |")
    for name, n, s in rows:
        print(f"| {name} | {n} | {s:.3g} | {spice_s / s:,.0f} |")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main(sys.argv[1] if len(sys.argv) > 1 else None)

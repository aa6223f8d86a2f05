"""The runner's noise against the layer netlist's ``.noise`` (part of ``sactk verify
layer``).

Per bias, the first ``noise_samples`` samples go through the nominal layer netlist, and
ngspice's ``.noise`` of every neuron's output current is integrated over the readout window
(an integrate-and-dump of ``NOISE_WINDOW_AS / bias_a``, sinc^2 weighting, analysis/noise.py).
The runner (system/network.py) reads the same samples ``NOISE_DRAWS`` times with each cell's
seeded noise for that window; the standard deviation of its outputs is compared with the
netlist's integrated noise, per sample and neuron. The runner's mirrors are ideal copies
here (a gain error of a few % moves the noise by as much) and make no noise of their own:
what the mirrors add shows up as the ratio's shortfall.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sactk.api.reporter import Reporter

if TYPE_CHECKING:
    import pandas as pd

    from sactk.analysis.layercheck import Setup
    from sactk.analysis.mpmodel import MPModel

NOISE_WINDOW_AS = 5e-12
"""The readout window times the bias (0.5 ms at 10 nA, 0.5 us at 10 uA): about the layer's
settling time, which ``sactk verify step`` measures at 3.3e-12 (10 nA) to 5.8e-12 A s
(1 uA) on c180."""
NOISE_DRAWS = 400
"""Noisy reads per sample in the runner: the standard deviation's own sampling error is
1 / sqrt(2 x 400) = 3.5 %."""
DECADES_BELOW, DECADES_ABOVE = 2, 2
"""The ``.noise`` span around 1 / window: below it the window sees the density's
low-frequency level (taken as flat to 0 Hz), above it sinc^2 leaves 5e-5 of the variance."""


def noise_check(
    setup: Setup,
    ip: MPModel,
    act: MPModel,
    weights: np.ndarray,
    X: np.ndarray,
    reporter: Reporter,
    jobs: int | None = None,
) -> pd.DataFrame:
    """Per bias, sample and neuron: the netlist's and the runner's output noise (gamma RMS)
    over the readout window and their ratio. Empty when ``setup.noise_samples`` is 0."""
    import pandas as pd

    from sactk.analysis.model import technology_of
    from sactk.analysis.noise import integrate
    from sactk.api.layer import layer_params
    from sactk.circuits.layer import build_layer
    from sactk.circuits.topology import wiring
    from sactk.sweeps import layer as sim
    from sactk.sweeps.analyses import NoiseSpec
    from sactk.system.network import LayerRunner, MirrorGains

    n = min(setup.noise_samples, len(X))
    if n == 0:
        return pd.DataFrame()
    tech = technology_of(ip)
    lp = layer_params(setup, ip, act)
    xs = X[:n]
    jobs_list, lays = [], []
    for i, b in enumerate(setup.biases):
        lay = build_layer(lp, tech, weights, bias_a=b, temp_c=setup.temp_c)
        lays.append(lay)
        window = NOISE_WINDOW_AS / b
        ns = NoiseSpec(
            fstart_hz=10.0**-DECADES_BELOW / window,
            fstop_hz=10.0**DECADES_ABOVE / window,
            points_per_decade=10,
        )
        for j in range(setup.hidden):
            jobs_list.append(sim.noise_job(lay, xs, j, ns, f"n{i}-{j}"))
    reporter.message(
        f"layer noise: {len(jobs_list)} .noise runs ({n} samples x {setup.hidden} neurons "
        f"x {len(setup.biases)} biases), runner {NOISE_DRAWS} reads per sample"
    )
    factors = mirror_factors(setup, lays, jobs)
    res = sim.run(jobs_list, jobs)
    rows = []
    for i, (b, lay) in enumerate(zip(setup.biases, lays, strict=True)):
        window = NOISE_WINDOW_AS / b
        run = LayerRunner(ip, act, lp.topology, wiring(lay, weights), lp.x_cm, lp.gain)
        gains = MirrorGains.ideal(np.array([o.ratio for o in lay.outputs]))
        reads = np.repeat(xs, NOISE_DRAWS, axis=0)
        y = run.forward(
            reads, b, setup.temp_c, gains, noise_window_s=window, noise_seed=setup.seed,
            mirror_noise=factors[i],
        ).reshape(n, NOISE_DRAWS, setup.hidden)  # fmt: skip
        runner_rms = y.std(axis=1)
        for j in range(setup.hidden):
            df = res[f"n{i}-{j}"]
            for k in range(n):
                p = df[df["point"] == k].sort_values("freq_hz")
                f = np.concatenate([[0.0], p["freq_hz"].to_numpy(float)])
                s = p["onoise_a2_hz"].to_numpy(float)
                var = integrate(f, np.concatenate([s[:1], s]), window_s=window)
                spice = float(np.sqrt(var)) / b
                rows.append({"bias_a": b, "window_s": window, "sample": k, "neuron": j,
                             "mirror_noise": factors[i],
                             "spice_rms_gamma": spice,
                             "runner_rms_gamma": float(runner_rms[k, j]),
                             "ratio": float(runner_rms[k, j]) / spice})  # fmt: skip
    return pd.DataFrame(rows)


def mirror_factors(setup: Setup, lays: list[Any], jobs: int | None) -> list[float]:
    """Per layer (bias): the mirrors' output noise relative to full shot noise, measured on
    the layer's own mirrors at rest (sweeps/layer.py ``mirror_noise_job``): the density of
    a tanh term fed by a copy of Zp, below 1 / window, over 2 q (k^2 I_in + |I_out|), the
    diode's noise copied at the ratio k plus the output device's; at most 1. On c180 it is
    0.53 at 10 uA, where the mirrors leave weak inversion. At 10 nA the measured path gives
    1.35: it also holds the shift mirrors, and scaling every mirror by that made the
    runner's median 6 % high instead of 2 % low (docs/noise.md)."""
    from sactk.analysis.noisemodel import Q_C
    from sactk.sweeps import layer as sim
    from sactk.sweeps.analyses import NoiseSpec

    prep = sim.run([j for i, lay in enumerate(lays) for j in sim.voltage_jobs(lay, f"v{i}")],
                   jobs)  # fmt: skip
    made = []
    for i, lay in enumerate(lays):
        window = NOISE_WINDOW_AS / lay.bias_a
        ns = NoiseSpec(fstart_hz=0.01 / window, fstop_hz=1.0 / window, points_per_decade=5)
        held = sim.held_voltage(sim.node_voltages(prep, f"v{i}"), lay.netlist.tech)
        made.append(sim.mirror_noise_job(lay, held, ns, f"mn{i}"))
    res = sim.run([j for j, _ in made], jobs)
    out = []
    for i, (lay, (_, k)) in enumerate(zip(lays, made, strict=True)):
        df = res[f"mn{i}"]
        o = lay.outputs[k]
        i_in = sim.z_levels(lay)[0] * lay.bias_a
        i_out = abs(float(df[f"o{k}_a"].iloc[0]))
        shot = 2.0 * Q_C * (o.ratio**2 * i_in + i_out)
        out.append(min(float(np.median(df["onoise_a2_hz"].to_numpy(float))) / shot, 1.0))
    return out


def noise_summary(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Per bias: the window, the mean netlist and runner noise (gamma RMS), the median and
    the farthest-from-1 ratio of runner to netlist over samples and neurons."""
    out = []
    for b, g in frame.groupby("bias_a"):
        r = g["ratio"].to_numpy()
        out.append({
            "bias_a": float(b),  # type: ignore[arg-type]
            "window_s": float(g["window_s"].iloc[0]),
            "spice_rms_gamma": float(g["spice_rms_gamma"].mean()),
            "runner_rms_gamma": float(g["runner_rms_gamma"].mean()),
            "ratio_median": float(np.median(r)),
            "ratio_worst": float(r[np.argmax(np.abs(np.log(r)))]),
            "mirror_noise": float(g["mirror_noise"].iloc[0]),
        })  # fmt: skip
    return out

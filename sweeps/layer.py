"""Simulating an S-AC layer netlist (circuits/layer.py) in ngspice: samples, the mirrors'
per-chip gains, the operating voltages of term nodes, and the layer's step response.

Every function returns jobs or reads their results; all samples of one (bias, chip) are
one job, so one loaded circuit serves them all and only the input sources are altered.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from sactk.circuits import inner, shape
from sactk.circuits.base import Probe
from sactk.circuits.layer import Layer, Output, held_outputs, mirror_bench
from sactk.circuits.topology import Kind, Part, Signal
from sactk.errors import SpecError
from sactk.netlists.mismatch import pelgrom_alters
from sactk.netlists.render import Netlist, VoltageSource, render
from sactk.netlists.technology import Technology
from sactk.sweeps import benches, plan
from sactk.sweeps.plan import NOMINAL, Instance, Job, TranSetup


def make_job(
    name: str,
    netlist: Netlist,
    sources: Sequence[str],
    values: np.ndarray,
    probes: Sequence[Probe],
    instance: Instance,
    tran: TranSetup | None = None,
    supply: bool = False,
) -> Job:
    """A job named ``name`` (results are read back by it) through the planner's one job
    builder: rows are the vectors ``values``, numbered in the ``point`` column."""
    v = np.atleast_2d(np.asarray(values, float))
    return plan.make_job(
        netlist,
        render(netlist),
        tuple(probes),
        {},
        tuple(sources),
        v,
        {"point": np.arange(len(v))},
        (instance,),
        tran=tran,
        supply="vdd" if supply else "",
        job_id=name,
    )


def run(jobs: Sequence[Job], n_jobs: int | None = None, progress: Any = None) -> dict[str, Any]:
    """Run jobs (a local pool when there are several): job id -> DataFrame of its rows.
    A point that fails raises SpecError with the simulator's reason."""
    import pandas as pd

    from sactk.sweeps.executors import run_jobs

    out: dict[str, Any] = {}
    for k, (job_id, part, _) in enumerate(run_jobs(list(jobs), "local", n_jobs)):
        if progress is not None:
            progress(k + 1, len(jobs))
        df = pd.read_parquet(io.BytesIO(part.data))
        bad = df[df["status"] != "ok"]
        if len(bad):
            raise SpecError(
                f"layer: {len(bad)} of {len(df)} points of {job_id} failed in ngspice "
                f"({bad['status'].iloc[0]}); try another bias or fewer neurons"
            )
        out[job_id] = df
    return out


def instance(layer: Layer, seeds: dict[str, int] | None, chip: int | None) -> Instance:
    if chip is None:
        return Instance(NOMINAL)
    if seeds is None:
        raise SpecError("layer: a chip needs the seeds of its cells' Monte Carlo sweeps")
    return Instance(chip, layer.alters(seeds, chip))


def sample_job(
    layer: Layer, X: np.ndarray, seeds: dict[str, int] | None, chip: int | None, name: str
) -> Job:
    """All samples X (S, D) in gamma through the layer: columns h{j}_a."""
    return make_job(
        name, layer.netlist, layer.sources, layer.drive(X), layer.probes,
        instance(layer, seeds, chip),
    )  # fmt: skip


# -- term-node voltages, at which the mirrors are characterized --------------------------


VOLTAGE_PROBES = {
    "ip": ("pa0", "pg", "vc"),
    "act": ("pa0", "pa1", "pg", "vc"),
}


def voltage_jobs(layer: Layer, name: str) -> list[Job]:
    """The nominal cell benches at rest (w = x = 0): the voltages of their term, gate and
    cascode-bias nodes, where the mirror outputs feeding them are held for their gains."""
    p, nl = layer.params, layer.netlist
    b, k, t = layer.bias_a, nl.corner, nl.temp_c
    benches = {
        "ip": inner.build(p.ip, nl.tech, bias_a=b, corner=k, temp_c=t),
        "act": shape.build(p.act, nl.tech, bias_a=b, corner=k, temp_c=t),
    }
    jobs = []
    for kind, bench in benches.items():
        probes = [Probe.voltage(f"{node}_v", node) for node in VOLTAGE_PROBES[kind]]
        # the tanh bench also at x = 2 gamma: its P unit's one active term then carries
        # 1 gamma more, and the unit's output z rises by as much (STEP_X)
        x = np.array([[0.0]] + ([[STEP_X * b]] if kind == "act" else []))
        sources, values = (bench.sources, bench.drive(x)) if kind == "act" else ((), x[:, :0])
        jobs.append(
            make_job(f"{name}-{kind}", bench.netlist, sources, values, probes, Instance(NOMINAL))
        )
    return jobs


STEP_X = 2.0
"""The tanh bench's second input (gamma) for the term nodes' voltage slope."""


def held_voltage(volts: dict[str, dict[str, float]], tech: Technology) -> Any:
    """``held_v`` for :func:`mirror_bench` from :func:`voltage_jobs` results."""

    def held(o: Output) -> float:
        v = volts["ip" if o.feed.stage is Kind.INNER_PRODUCT else "act"]
        if o.feed.part is Part.GAMMA:
            return v["pg_v"]
        if o.feed.part is Part.CASCODE:
            return v["vc_v"]
        # every term node where its term is above the water level (where its current
        # matters): the c - h terms sit below it at x = 0, collapsed near 0 V
        return v["pa0_v"]

    return held


def node_voltages(results: dict[str, Any], name: str) -> dict[str, dict[str, float]]:
    """Rest voltages of the benches' nodes, and ``dv_dz``: how much an active tanh term node
    rises per gamma of its unit's output z (the node sits a rectifier's V_SG above the gate
    node, which follows z)."""
    out = {
        kind: {c: float(results[f"{name}-{kind}"][c].iloc[0]) for c in results[f"{name}-{kind}"]
               if c.endswith("_v") and c != "vdd_v"}
        for kind in ("ip", "act")
    }  # fmt: skip
    act = results[f"{name}-act"].sort_values("point")["pa0_v"].to_numpy()
    out["act"]["dv_dz"] = float(act[1] - act[0]) / (STEP_X / 2.0)
    return out


# -- per-chip mirror gains --------------------------------------------------------------


LEVELS = (
    {Signal.ONE: 1.0, Signal.XP: 0.2, Signal.XN: 0.2},
    {Signal.ONE: 1.0, Signal.XP: 0.8, Signal.XN: 0.8},
)
"""The two input levels (gamma) at which each mirror output is measured: the span of an
input's currents x_cm +- x for |x| <= 0.3 .. 0.4."""


def z_levels(layer: Layer) -> tuple[float, float]:
    """Two levels (gamma) spanning a neuron's summed unit outputs: B blocks of a unit whose
    output is c - 1 / 2N at rest (its least) and about 0.5 gamma more at most."""
    p = layer.params
    z0 = inner.rest_output(p.ip)
    return p.blocks * z0, p.blocks * (z0 + 0.5)


def mirror_job(
    layer: Layer,
    held_v: Any,
    seeds: dict[str, int] | None,
    chip: int | None,
    name: str,
) -> Job:
    """The mirrors alone at the two LEVELS: their outputs' currents, columns o{i}_a."""
    zl = z_levels(layer)
    lv = [{**LEVELS[k], Signal.ZP: zl[k], Signal.ZN: zl[k]} for k in range(2)]
    mb = mirror_bench(layer, lv[0], held_v)
    netlist = mb.netlist
    feeds = set(mb.act_feeds)
    held = [e for e in netlist.elements if isinstance(e, VoltageSource) and e.name in feeds]
    rows = [[lv[k][sig] * layer.bias_a for _, sig in mb.signals] for k in (0, 1, 1)]
    volts = [[e.dc_v + (DV if k == 2 else 0.0) for e in held] for k in range(3)]
    values = np.concatenate([np.array(rows), np.array(volts).reshape(3, len(held))], axis=1)
    names = [f"i{name}" for name, _ in mb.signals] + [f"v{e.name}" for e in held]
    group = next(g for g in layer.groups if g.kind is Kind.MIRRORS)
    inst = Instance(NOMINAL)
    if chip is not None:
        assert seeds is not None
        inst = Instance(chip, pelgrom_alters(group.devices, netlist.tech, seeds["mirrors"], chip))
    return make_job(name, netlist, names, values, mb.probes, inst)


DV = 0.05
"""Volts by which the tanh cell's feeds are raised for their output conductance."""


def mirror_gains(layer: Layer, df: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, g_v) per mirror output from a :func:`mirror_job`'s rows: the output current
    (gamma) is a * signal + b between the levels (a ``one`` output is a constant a), and
    changes by g_v per volt of its node (the tanh cell's feeds; else 0). Outputs
    that feed another diode (wired in the bench) get their nominal ratio: their error is in
    the outputs measured downstream of them (the copies of Zp and Zn include the shift k)."""
    zl = z_levels(layer)
    n = len(layer.outputs)
    a = np.array([o.ratio for o in layer.outputs], float)
    b = np.zeros(n)
    g_v = np.zeros(n)
    bias = layer.bias_a
    df = df.sort_values("point")
    for i in held_outputs(layer):
        o = layer.outputs[i]
        y0, y1, y2 = (float(df[f"o{i}_a"].iloc[k]) / bias for k in range(3))
        g_v[i] = (y2 - y1) / DV
        if o.signal is Signal.ONE:
            a[i], b[i] = 0.5 * (y0 + y1), 0.0
            continue
        lo, hi = (
            (LEVELS[0][o.signal], LEVELS[1][o.signal]) if o.signal in (Signal.XP, Signal.XN) else zl
        )
        a[i] = (y1 - y0) / (hi - lo)
        b[i] = y0 - a[i] * lo
    return a, b, g_v


# -- the neuron's step response ---------------------------------------------------------


def step_job(
    layer: Layer,
    x0: np.ndarray,
    x1: np.ndarray,
    window_s: float,
    tolerance: float,
    name: str,
    neurons: tuple[int, ...] = (0,),
) -> Job:
    """Every input steps from x0 to x1 (gamma) at 10 % of ``window_s``; the outputs of
    ``neurons`` must settle, and ``settle_s`` is the latest of them (the rows carry every
    neuron's final value, the supply power and the energy over the settling time)."""
    t_step = 0.1 * window_s
    t_rise = 1e-3 * window_s
    lo, hi = layer.drive(x0[None])[0], layer.drive(x1[None])[0]
    netlist, _ = benches.step_sources(layer.netlist, layer.sources, lo, hi, t_step, t_rise)
    tran = TranSetup(
        t_stop_s=window_s,
        t_max_s=window_s / 2000.0,
        t_step_s=t_step,
        tolerance=tolerance,
        output=layer.probes[neurons[0]],
        also=tuple(layer.probes[j] for j in neurons[1:]),
        sources=layer.sources,
        initial=tuple(float(v) for v in lo),
        final=tuple(float(v) for v in hi),
    )
    return make_job(
        name, netlist, (), np.zeros((1, 0)), layer.probes, Instance(NOMINAL), tran, supply=True
    )


# -- the output noise of a neuron -----------------------------------------------------------


def noise_job(layer: Layer, X: np.ndarray, neuron: int, ns: Any, name: str) -> Job:
    """The nominal layer at the samples X (S, D) in gamma: ngspice's ``.noise`` of neuron
    ``neuron``'s output current (its probe sensed by a 1-ohm CCVS, the first input source
    at ``ac 1``; ``ns`` a NoiseSpec). Rows per sample and frequency: freq_hz, onoise_a2_hz,
    and every neuron's operating point h{j}_a."""
    from sactk.circuits.base import Bench

    bench = Bench(layer.netlist, layer.sources, layer.sources, (layer.probes[neuron],))
    nb, setup = benches.noise_bench(bench, ns)
    v = np.atleast_2d(layer.drive(X))
    return plan.make_job(
        nb.netlist, render(nb.netlist), tuple(layer.probes), {"analysis": "noise"},
        tuple(layer.sources), v, {"point": np.arange(len(v))}, (Instance(NOMINAL),),
        job_id=name, noise=setup,
    )  # fmt: skip


def mirror_noise_job(layer: Layer, held_v: Any, ns: Any, name: str) -> tuple[Job, int]:
    """The mirrors alone at rest (inputs at x_cm, each Zp and Zn at its rest level):
    ngspice's ``.noise`` of the first tanh term fed by a copy of Zp, the inter-stage path
    that makes most of the mirrors' noise. Returns the job and the output's index."""
    from sactk.circuits.base import Bench
    from sactk.circuits.topology import Part

    z0 = z_levels(layer)[0]
    levels = {Signal.ONE: 1.0, Signal.XP: layer.params.x_cm, Signal.XN: layer.params.x_cm,
              Signal.ZP: z0, Signal.ZN: z0}  # fmt: skip
    mb = mirror_bench(layer, levels, held_v)
    held = set(held_outputs(layer))
    i = next(
        k for k, o in enumerate(layer.outputs)
        if k in held and o.signal is Signal.ZP and o.feed.stage is Kind.TANH
        and o.feed.part is Part.TERM
    )  # fmt: skip
    probe = next(pr for pr in mb.probes if pr.column == f"o{i}_a")
    names = tuple(f"i{n}" for n, _ in mb.signals)
    src = names[[sig for _, sig in mb.signals].index(Signal.ZP)]
    bench = Bench(mb.netlist, names, names, (probe,))
    nb, setup = benches.noise_bench(bench, ns.model_copy(update={"input": names.index(src)}))
    row = np.array([[levels[sig] * layer.bias_a for _, sig in mb.signals]])
    job = plan.make_job(
        nb.netlist, render(nb.netlist), (probe,), {"analysis": "noise"}, names, row,
        {"point": np.arange(1)}, (Instance(NOMINAL),), job_id=name, noise=setup,
    )  # fmt: skip
    return job, i

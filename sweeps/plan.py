"""Expand a spec into jobs: one loaded circuit each, with every point that shares it.

A job is one netlist (cell, technology, corner, supply, size, temperature, bias) loaded once.
Inside it, Monte Carlo instances are applied by altering each transistor's ``delvto`` and
``mulu0``, and input vectors by altering the input sources, between operating points
(docs/benchmarks.md measures this against one netlist per instance). Rows come out
instance-major: for each instance, every vector.

Jobs are plain, picklable data with arrays rather than per-point objects, so a sweep of
10^5 points plans in megabytes and ships to any worker (local pool or dask).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from sactk.circuits.base import Bench, Probe, get_cell
from sactk.netlists.mismatch import Alter, nominal_alters, pdk_seed, pelgrom_alters
from sactk.netlists.render import CurrentSource, Mosfet, instance_name, render, text_hash
from sactk.netlists.technology import Technology, get_technology
from sactk.sweeps.spec import SweepSpec, TranSpec

from sactk.errors import SpecError

NOMINAL = -1
"""``mc_seed`` and ``mc_index`` of a nominal (mismatch-free) instance."""


@dataclass(frozen=True)
class Instance:
    """One Monte Carlo instance (chip) of a job's circuit."""

    mc_index: int
    alters: tuple[Alter, ...] = ()
    """Instance-parameter alters applied before its points (Pelgrom draws)."""
    ngseed: int | None = None
    """For a PDK's own statistical models: ``setseed`` this, then reload the circuit."""


@dataclass(frozen=True)
class TranSetup:
    """A step response: run ``tran`` and reduce the output waveform to scalars."""

    t_stop_s: float
    t_max_s: float
    t_step_s: float
    """When the input starts to step."""
    tolerance: float
    """Settling band as a fraction of the final value."""
    output: Probe
    """The probe whose waveform must settle (scaled like its DC column)."""
    source: str = ""
    """Instance name of the stepped source: its DC value is set to ``final_a`` for the
    operating point that gives the true final value, then back to ``initial_a``."""
    initial_a: float = 0.0
    final_a: float = 0.0


@dataclass(frozen=True)
class Job:
    job_id: str
    netlist: str
    netlist_hash: str
    ngbehavior: str | None
    coords: dict[str, Any]
    """Columns shared by every row of the job."""
    sources: tuple[str, ...]
    """Instance names of the sources altered at every vector."""
    values: np.ndarray
    """(V, len(sources)) source values of each vector."""
    point_columns: dict[str, np.ndarray]
    """Per-vector result columns (length V): ``point``, ``pattern``, ``in_*``."""
    probes: tuple[Probe, ...]
    instances: tuple[Instance, ...] = (Instance(NOMINAL),)
    supply: str = ""
    """Vector of the supply's branch current (``vdd#branch``) for ``power_w``; empty: none."""
    vdd_v: float = 0.0
    tran: TranSetup | None = None
    output_columns: tuple[str, ...] = field(default=())

    @property
    def n_points(self) -> int:
        return len(self.instances) * (1 if self.tran else len(self.values))


def normalized_vectors(spec: SweepSpec, ideal: Any) -> list[tuple[str, np.ndarray]]:
    """Input vectors in units of the bias current, shared by every bias.

    Returns (pattern, (N,) vector) pairs: the seeded random vectors whose ideal output is at
    least ``min_ideal_ratio`` (in units of gamma), then the swept-input curve.
    """
    n = spec.cell.n_inputs
    out: list[tuple[str, np.ndarray]] = []
    r = spec.inputs.random
    if r.count:
        rng = np.random.default_rng(r.seed)
        accepted: list[np.ndarray] = []
        for _ in range(1000):
            cand = rng.uniform(0.0, r.max_ratio, size=(max(64, 4 * r.count), n))
            keep = cand[ideal(cand, 1.0) >= r.min_ideal_ratio]
            accepted.extend(keep[: r.count - len(accepted)])
            if len(accepted) >= r.count:
                break
        else:  # pragma: no cover - only for absurd ratios
            raise SpecError(
                "inputs.random.min_ideal_ratio: too few random vectors reach it; lower it or "
                "raise inputs.random.max_ratio"
            )
        out.extend(("random", v) for v in accepted)
    s = spec.inputs.sweep
    if s.points:
        if s.index >= n:
            raise SpecError(f"inputs.sweep.index: must be below cell.n_inputs ({n})")
        for x in np.linspace(0.0, s.max_ratio, s.points):
            v = np.full(n, s.hold_ratio)
            v[s.index] = x
            out.append(("sweep", v))
    return out


def job_key(
    netlist: str,
    coords: dict[str, Any],
    values: np.ndarray,
    instances: tuple[Instance, ...],
    tran: TranSetup | None,
) -> str:
    """The job's identity: a hash of its netlist, coordinates, vectors and instances."""
    h = hashlib.sha256()
    h.update(netlist.encode())
    h.update(json.dumps(coords, sort_keys=True, default=str).encode())
    h.update(np.ascontiguousarray(values, dtype=np.float64).tobytes())
    h.update(json.dumps([(i.mc_index, i.alters, i.ngseed) for i in instances]).encode())
    h.update(repr(tran).encode())
    return h.hexdigest()[:20]


def _instances(spec: SweepSpec, tech: Technology, devices: list[Mosfet]) -> list[Instance]:
    mc = spec.mc
    if mc.instances == 0:
        return [Instance(NOMINAL)]
    out: list[Instance] = []
    if mc.method == "pdk":
        if mc.nominal:
            raise SpecError('mc.nominal: not available with mc.method = "pdk"; run it apart')
        return [Instance(k, (), pdk_seed(mc.seed, k)) for k in range(mc.instances)]
    if mc.nominal:
        out.append(Instance(NOMINAL, nominal_alters(devices, tech)))
    out.extend(Instance(k, pelgrom_alters(devices, tech, mc.seed, k)) for k in range(mc.instances))
    return out


def _chunks(items: list[Instance], size: int) -> Iterator[tuple[Instance, ...]]:
    for i in range(0, len(items), size):
        yield tuple(items[i : i + size])


MAX_JOB_POINTS = 4000
"""Larger jobs are split by input vectors: about 1.5 s of simulation each, so a pool stays
balanced to the end and a kill loses little (docs/benchmarks.md (d): 7 jobs of 14,286 points
left one of 2 workers idle at the end)."""


def _row_slices(n_vectors: int, n_instances: int) -> list[slice]:
    """Split a job's vectors so that vectors x instances stays under MAX_JOB_POINTS."""
    per = max(1, MAX_JOB_POINTS // max(1, n_instances))
    return [slice(i, min(i + per, n_vectors)) for i in range(0, n_vectors, per)]


def _tran_bench(
    bench: Bench, tr: TranSpec, bias_a: float, cols: list[str]
) -> tuple[Bench, np.ndarray, TranSetup]:
    """The bench with input ``tr.input`` as a PWL step, the final inputs, and the setup."""
    if tr.input >= len(cols):
        raise SpecError(f"tran.input: must be below cell.n_inputs ({len(cols)})")
    if tr.from_ratio == tr.to_ratio:
        raise SpecError("tran.to_ratio: must differ from tran.from_ratio to make a step")
    t_stop = tr.window_as / bias_a
    t_step = 0.1 * t_stop
    t_rise = 1e-3 * t_stop
    final = np.full(len(cols), tr.hold_ratio * bias_a)
    final[tr.input] = tr.to_ratio * bias_a
    lo = tr.from_ratio * bias_a
    hi = tr.to_ratio * bias_a
    target = bench.inputs[cols[tr.input]]
    tech = bench.netlist.tech
    els = []
    for e in bench.netlist.elements:
        if isinstance(e, CurrentSource) and instance_name(e, tech) == target:
            e = replace(e, dc_a=lo, pwl=((0.0, lo), (t_step, lo), (t_step + t_rise, hi)))
        elif isinstance(e, CurrentSource) and instance_name(e, tech) in bench.inputs.values():
            e = replace(e, dc_a=tr.hold_ratio * bias_a)
        els.append(e)
    netlist = replace(bench.netlist, elements=tuple(els), method="gear")
    setup = TranSetup(
        t_stop_s=t_stop,
        t_max_s=t_stop / tr.points,
        t_step_s=t_step,
        tolerance=tr.tolerance,
        output=bench.probes[0],
        source=target,
        initial_a=lo,
        final_a=hi,
    )
    return replace(bench, netlist=netlist), final, setup


def _make_job(
    bench: Bench,
    text: str,
    coords: dict[str, Any],
    sources: tuple[str, ...],
    values: np.ndarray,
    point_columns: dict[str, np.ndarray],
    instances: tuple[Instance, ...],
    tran: TranSetup | None = None,
) -> Job:
    """A job of ``bench`` (rendered as ``text``, once per circuit) for these chips and vectors."""
    tech = bench.netlist.tech
    return Job(
        job_id=job_key(text, coords, values, instances, tran),
        netlist=text,
        netlist_hash=text_hash(text),
        ngbehavior=tech.ngbehavior,
        coords=coords,
        sources=sources,
        values=values,
        point_columns=point_columns,
        probes=bench.probes,
        instances=instances,
        supply=bench.supply,
        vdd_v=tech.vdd_v,
        tran=tran,
        output_columns=tuple(p.column for p in bench.probes),
    )


def _circuit_jobs(
    spec: SweepSpec,
    bench: Bench,
    coords: dict[str, Any],
    norm: np.ndarray,
    patterns: np.ndarray,
    instances: list[Instance],
) -> list[Job]:
    """The DC and transient jobs of one circuit: chips in chunks of ``mc.per_job``, DC
    vectors split so that no job exceeds MAX_JOB_POINTS."""
    bias_a = coords["bias_a"]
    cols = list(bench.inputs)
    jobs: list[Job] = []
    if len(norm):
        text = render(bench.netlist)
        values = norm * bias_a
        pcols: dict[str, np.ndarray] = {"point": np.arange(len(norm)), "pattern": patterns}
        pcols.update({c: values[:, k] for k, c in enumerate(cols)})
        sources = tuple(bench.inputs[c] for c in cols)
        for chunk in _chunks(instances, spec.mc.per_job):
            for rows in _row_slices(len(values), len(chunk)):
                jobs.append(
                    _make_job(
                        bench,
                        text,
                        {**coords, "analysis": "op"},
                        sources,
                        values[rows],
                        {k: v[rows] for k, v in pcols.items()},
                        chunk,
                    )
                )
    if spec.tran is not None:
        tb, final, setup = _tran_bench(bench, spec.tran, bias_a, cols)
        text = render(tb.netlist)
        pcols = {"point": np.zeros(1, dtype=int), "pattern": np.array(["step"])}
        pcols.update({c: final[k : k + 1] for k, c in enumerate(cols)})
        for chunk in _chunks(instances, spec.mc.per_job):
            jobs.append(
                _make_job(
                    tb,
                    text,
                    {**coords, "analysis": "tran"},
                    (),
                    np.zeros((1, 0)),
                    pcols,
                    chunk,
                    setup,
                )
            )
    return jobs


def plan(spec: SweepSpec, tech: Technology | None = None) -> list[Job]:
    """All jobs of a sweep in a stable order: corner, supply, size, temperature, bias, chunk."""
    cell = get_cell(spec.cell.name)
    base_tech = tech or get_technology(spec.tech.name, spec.tech.models_dir)
    for corner in spec.sweep.corner:
        base_tech.corner_section(corner)  # validates every corner name before any work
    if spec.mc.instances and spec.mc.method == "pdk":
        if not base_tech.mismatch_params:
            raise SpecError(
                f'mc.method: technology {base_tech.name} has no statistical models; use "pelgrom"'
            )
        base_tech = base_tech.with_(params=base_tech.mismatch_params)
    vectors = normalized_vectors(spec, cell.ideal)
    if not vectors and spec.tran is None:
        raise SpecError(
            "inputs: no points to simulate; set inputs.random.count or inputs.sweep.points, "
            "or add a [tran] section"
        )
    norm = np.array([v for _, v in vectors]) if vectors else np.zeros((0, spec.cell.n_inputs))
    patterns = np.array([p for p, _ in vectors], dtype=object)
    sizes: list[tuple[float | None, float | None]] = (
        [(w, ll) for w, ll in spec.sweep.wl_um] if spec.sweep.wl_um else [(None, None)]
    )
    vdds = spec.sweep.vdd_v or [base_tech.vdd_v]
    mc_seed = spec.mc.seed if spec.mc.instances else NOMINAL
    techs = {
        v: base_tech if v == base_tech.vdd_v else base_tech.with_(vdd_v=float(v)) for v in vdds
    }
    # A chip's draws depend only on the seed and the device list (its sizes), not on the
    # corner, supply, temperature or bias: draw once per size.
    draws: dict[tuple[float, float], list[Instance]] = {}
    jobs: list[Job] = []
    axes = itertools.product(spec.sweep.corner, vdds, sizes, spec.sweep.temp_c, spec.sweep.bias_a)
    for corner, vdd_v, (w_um, l_um), temp_c, bias_a in axes:
        t = techs[vdd_v]
        params = cell.Params(
            n_inputs=spec.cell.n_inputs,
            w_um=w_um if w_um is not None else spec.cell.w_um,
            l_um=l_um if l_um is not None else spec.cell.l_um,
            v_out_v=spec.cell.v_out_v,
            casc_scale=spec.cell.casc_scale,
        )
        w_res, l_res = cell.sizes(params, t)
        bench = cell.build(params, t, bias_a=bias_a, corner=corner, temp_c=temp_c)
        if (w_res, l_res) not in draws:
            devices = [e for e in bench.netlist.elements if isinstance(e, Mosfet)]
            draws[w_res, l_res] = _instances(spec, t, devices)
        coords: dict[str, Any] = {
            "cell": spec.cell.name,
            "tech": t.name,
            "corner": corner,
            "vdd_v": float(t.vdd_v),
            "w_um": float(w_res),
            "l_um": float(l_res),
            "temp_c": float(temp_c),
            "bias_a": float(bias_a),
            "mc_seed": mc_seed,
        }
        jobs += _circuit_jobs(spec, bench, coords, norm, patterns, draws[w_res, l_res])
    return jobs

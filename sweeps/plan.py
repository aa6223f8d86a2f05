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
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sactk.circuits.base import Bench, Condition, Probe, result_column
from sactk.circuits.registry import get_cell
from sactk.errors import SpecError
from sactk.netlists.mismatch import Alter, nominal_alters, pdk_seed, pelgrom_alters
from sactk.netlists.render import (
    Mosfet,
    Netlist,
    identity_text,
    text_hash,
)
from sactk.netlists.technology import Technology
from sactk.sweeps.benches import (
    AcSetup,
    NoiseSetup,
    TranSetup,
    ac_bench,
    logical,
    noise_bench,
    tran_bench,
)
from sactk.sweeps.simulators import NGSPICE, Simulator, simulator_for
from sactk.sweeps.spec import SweepSpec, axis_column, cell_tables

__all__ = ["NOMINAL", "Instance", "Job", "TranSetup", "plan", "tran_bench"]

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
    """The supply's voltage source (``vdd``), whose current gives ``power_w``; empty: none."""
    vdd_v: float = 0.0
    tran: TranSetup | None = None
    output_columns: tuple[str, ...] = field(default=())
    noise: NoiseSetup | None = None
    """A noise job: one row per frequency of every (chip, vector)."""
    ac: AcSetup | None = None
    """An ac job: one row per frequency of every (chip, vector)."""
    simulator: str = "ngspice"
    """The simulator whose language ``netlist`` is in, and that runs the job."""

    @property
    def small_signal(self) -> NoiseSetup | AcSetup | None:
        return self.noise or self.ac

    @property
    def n_points(self) -> int:
        ss = self.small_signal
        per = 1 if self.tran else len(self.values) * (ss.n_freq if ss else 1)
        return len(self.instances) * per


def job_key(
    identity: str,
    coords: dict[str, Any],
    values: np.ndarray,
    instances: tuple[Instance, ...],
    tran: TranSetup | NoiseSetup | AcSetup | None,
) -> str:
    """The job's identity: a hash of its netlist, coordinates, vectors and instances."""
    h = hashlib.sha256()
    h.update(identity.encode())
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
    if mc.method == "pdk" and tech.pdk_pelgrom:
        # the PDK's own per-type laws, drawn by sactk (netlists/ihp.py reads them)
        per_type = {k: (a, b) for k, a, b in tech.pdk_pelgrom}
        nominal = [Instance(NOMINAL, nominal_alters(devices, tech))] if mc.nominal else []
        return nominal + [
            Instance(k, pelgrom_alters(devices, tech, mc.seed, k, per_type))
            for k in range(mc.instances)
        ]
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


def _row_slices(patterns: np.ndarray, n_instances: int) -> list[slice]:
    """Split a job's vectors so that vectors x instances stays under MAX_JOB_POINTS, without
    cutting a swept-input curve (``pattern == "sweep"``): the backend solves a whole curve
    with one dc analysis, which costs about as much as a few operating points."""
    n_vectors = len(patterns)
    per = max(1, MAX_JOB_POINTS // max(1, n_instances))
    sweep = np.asarray(patterns) == "sweep"
    out: list[slice] = []
    i = 0
    while i < n_vectors:
        end = min(i + per, n_vectors)
        while 0 < end < n_vectors and sweep[end - 1] and sweep[end]:
            end += 1  # finish the curve
        out.append(slice(i, end))
        i = end
    return out


def make_job(
    netlist: Netlist,
    text: str,
    probes: tuple[Probe, ...],
    coords: dict[str, Any],
    sources: tuple[str, ...],
    values: np.ndarray,
    point_columns: dict[str, np.ndarray],
    instances: tuple[Instance, ...],
    *,
    tran: TranSetup | None = None,
    supply: str = "",
    job_id: str | None = None,
    noise: NoiseSetup | None = None,
    ac: AcSetup | None = None,
    simulator: str = "ngspice",
) -> Job:
    """A job of ``netlist`` (rendered as ``text``, once per circuit) for these chips and
    vectors; its id is the hash of what decides its numbers unless ``job_id`` names it."""
    tech = netlist.tech
    ident = identity_text(text)  # included files by content (render.identity_text)
    return Job(
        job_id=job_id or job_key(ident, coords, values, instances, tran or noise or ac),
        netlist=text,
        netlist_hash=text_hash(ident),
        ngbehavior=tech.ngbehavior,
        coords=coords,
        sources=sources,
        values=values,
        point_columns=point_columns,
        probes=probes,
        instances=instances,
        supply=supply,
        vdd_v=tech.vdd_v,
        tran=tran,
        output_columns=tuple(p.column for p in probes),
        noise=noise,
        ac=ac,
        simulator=simulator,
    )


def _make_job(
    bench: Bench,
    text: str,
    coords: dict[str, Any],
    sources: tuple[str, ...],
    values: np.ndarray,
    point_columns: dict[str, np.ndarray],
    instances: tuple[Instance, ...],
    tran: TranSetup | None = None,
    noise: NoiseSetup | None = None,
    ac: AcSetup | None = None,
    simulator: str = "ngspice",
) -> Job:
    """A job of ``bench`` (rendered as ``text``, once per circuit) for these chips and vectors."""
    return make_job(
        bench.netlist,
        text,
        bench.probes,
        coords,
        sources,
        values,
        point_columns,
        instances,
        tran=tran,
        supply=bench.supply,
        noise=noise,
        ac=ac,
        simulator=simulator,
    )


def _circuit_jobs(
    spec: SweepSpec,
    bench: Bench,
    coords: dict[str, Any],
    norm: np.ndarray,
    point_columns: dict[str, np.ndarray],
    instances: list[Instance],
    sim: Simulator = NGSPICE,
) -> list[Job]:
    """The DC and transient jobs of one circuit: chips in chunks of ``mc.per_job``, DC
    vectors split so that no job exceeds MAX_JOB_POINTS.

    ``point_columns`` are per-vector columns in units of the bias (pattern, ideal_*, fs,
    domain_ok); they are scaled here, with the input columns, to this circuit's bias."""
    bias_a = coords["bias_a"]
    cols = bench.inputs
    jobs: list[Job] = []
    if len(norm):
        text = sim.render(bench.netlist)
        inputs = logical(bench, norm, bias_a)
        values = bench.drive(inputs)
        pcols: dict[str, np.ndarray] = {"point": np.arange(len(norm))}
        pcols.update({c: inputs[:, k] for k, c in enumerate(cols)})
        for name, col in point_columns.items():
            if col.dtype.kind == "f":
                pcols[result_column(name)] = col * bias_a
            else:
                pcols[name] = col
        for chunk in _chunks(instances, spec.mc.per_job):
            for rows in _row_slices(pcols["pattern"], len(chunk)):
                jobs.append(
                    _make_job(
                        bench,
                        text,
                        {**coords, "analysis": "op"},
                        bench.sources,
                        values[rows],
                        {k: v[rows] for k, v in pcols.items()},
                        chunk,
                        simulator=sim.name,
                    )
                )
    if spec.noise is not None and len(norm):
        nb, ns = noise_bench(bench, spec.noise)
        ntext = sim.render(nb.netlist, noise=True)
        for chunk in _chunks(instances, spec.mc.per_job):
            noise_coords = {**coords, "analysis": "noise"}
            jobs.append(
                _make_job(
                    nb,
                    ntext,
                    noise_coords,
                    bench.sources,
                    values,
                    pcols,
                    chunk,
                    noise=ns,
                    simulator=sim.name,
                )
            )
    if spec.ac is not None and len(norm):
        ab, acs = ac_bench(bench, spec.ac)
        atext = sim.render(ab.netlist)
        for chunk in _chunks(instances, spec.mc.per_job):
            ac_coords = {**coords, "analysis": "ac"}
            jobs.append(
                _make_job(
                    ab,
                    atext,
                    ac_coords,
                    bench.sources,
                    values,
                    pcols,
                    chunk,
                    ac=acs,
                    simulator=sim.name,
                )
            )
    if spec.tran is not None:
        tb, final, setup = tran_bench(bench, spec.tran, bias_a)
        text = sim.render(tb.netlist)
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
                    simulator=sim.name,
                )
            )
    return jobs


def _table_jobs(
    spec: SweepSpec,
    cell: Any,
    table: dict[str, Any],
    axis_keys: list[str],
    base_tech: Technology,
    sim: Simulator = NGSPICE,
) -> list[Job]:
    """The jobs of one combination of the [sweep.cell] axes (the whole sweep without them)."""
    base_params = cell.params(table)
    patterns, norm = cell.vectors(base_params, spec.inputs)
    if not len(norm) and spec.tran is None:
        raise SpecError(
            "inputs: no points to simulate; set inputs.random.count or inputs.sweep.points, "
            "or add a [tran] section"
        )
    point_columns = {"pattern": patterns, **cell.reference(base_params, norm, spec.inputs)}
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
    per_condition = _takes_condition(cell)
    for corner, vdd_v, (w_um, l_um), temp_c, bias_a in axes:
        t = techs[vdd_v]
        if per_condition:  # a reference that depends on the operating point (kT/q)
            cond = Condition(float(temp_c), corner, float(t.vdd_v), float(bias_a), t)
            ref = cell.reference(base_params, norm, spec.inputs, cond=cond)
            point_columns = {"pattern": patterns, **ref}
        params = cell.params(table, w_um=w_um, l_um=l_um)
        w_res, l_res = cell.sizes(params, t)
        bench = cell.build(params, t, bias_a=bias_a, corner=corner, temp_c=temp_c)
        use_own = spec.mc.instances and not (
            spec.mc.method == "pdk" and getattr(cell, "pdk_mismatch", False)
        )
        own = cell.mismatch(params, bias_a, spec.mc.seed, 0, t) if use_own else None
        if own is not None:
            # a cell with its own mismatch model (the crossbar: conductances, feedback
            # resistors, op-amp offsets); its values scale with the bias, so per job
            if spec.mc.method == "pdk":
                raise SpecError(f'mc.method: cell {spec.cell.name} supports "pelgrom" only')
            indices = ([NOMINAL] if spec.mc.nominal else []) + list(range(spec.mc.instances))
            instances = [
                Instance(k, cell.mismatch(params, bias_a, spec.mc.seed, k, t) or ())
                for k in indices
            ]
        else:
            if (w_res, l_res) not in draws:
                devices = [e for e in bench.netlist.elements if isinstance(e, Mosfet)]
                draws[w_res, l_res] = _instances(spec, t, devices)
            instances = draws[w_res, l_res]
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
            **{
                axis_column(spec, k): (table["params"][k] if k not in table else table[k])
                for k in axis_keys
            },
        }
        jobs += _circuit_jobs(spec, bench, coords, norm, point_columns, instances, sim)
    return jobs


def _takes_condition(cell: Any) -> bool:
    """Whether the cell's ``reference`` takes the operating point (``cond=``)."""
    import inspect

    try:
        return "cond" in inspect.signature(cell.reference).parameters
    except (TypeError, ValueError):
        return False


def plan(spec: SweepSpec, tech: Technology | None = None) -> list[Job]:
    """All jobs of a sweep in a stable order: corner, supply, size, temperature, bias, chunk."""
    cell = get_cell(spec.cell.name)
    base_tech = tech or spec.tech.technology()
    for corner in spec.sweep.corner:
        base_tech.corner_section(corner)  # validates every corner name before any work
    if spec.mc.instances and spec.mc.method == "pdk" and not base_tech.pdk_pelgrom:
        if not base_tech.mismatch_params:
            raise SpecError(
                f'mc.method: technology {base_tech.name} has no statistical models; use "pelgrom"'
            )
        base_tech = base_tech.with_(params=base_tech.mismatch_params)
    sim = simulator_for(spec, base_tech)
    jobs: list[Job] = []
    axis_keys = sorted(spec.sweep.cell or {})
    for table in cell_tables(spec):
        jobs += _table_jobs(spec, cell, table, axis_keys, base_tech, sim)
    return _same_columns(jobs) if axis_keys else jobs


def _same_columns(jobs: list[Job]) -> list[Job]:
    """Jobs of different cell-parameter values can have different input columns (2 or 8
    inputs); every job gets them all (NaN where its circuit has none), so every Parquet part
    has one schema and a plain ``pandas.read_parquet`` of the folder loses nothing."""
    import dataclasses

    names: dict[str, np.dtype] = {}
    for j in jobs:
        for k, v in j.point_columns.items():
            names.setdefault(k, np.asarray(v).dtype)
    out = []
    for j in jobs:
        missing = [k for k in names if k not in j.point_columns]
        if not missing:
            out.append(j)
            continue
        n = len(next(iter(j.point_columns.values())))
        cols = dict(j.point_columns)
        for k in missing:
            cols[k] = np.full(n, np.nan) if names[k].kind in "fiu" else np.full(n, None, object)
        out.append(dataclasses.replace(j, point_columns=cols))
    return out

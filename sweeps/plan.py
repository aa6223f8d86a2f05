"""Expand a spec into jobs: one circuit each, with the points that share it.

A job is one netlist (cell, technology, corner, temperature, bias) loaded once; its points
are input vectors applied by altering sources between operating points. Everything in a job
is plain, picklable data, so any executor can ship it to any worker.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sactk.circuits.base import Probe, get_cell
from sactk.netlists.render import render, text_hash
from sactk.netlists.technology import Technology, get_technology
from sactk.sweeps.spec import SweepSpec

from sactk.errors import SpecError

NOMINAL = -1
"""``mc_seed`` and ``mc_index`` of a nominal (mismatch-free) instance."""


@dataclass(frozen=True)
class Point:
    """One operating point of a job: coordinate values and the sources to alter."""

    coords: dict[str, Any]
    alters: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Job:
    job_id: str
    netlist: str
    netlist_hash: str
    ngbehavior: str | None
    coords: dict[str, Any]
    points: tuple[Point, ...]
    probes: tuple[Probe, ...]
    output_columns: tuple[str, ...] = field(default=())


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


def _job_id(netlist: str, coords: dict[str, Any], points: list[Point]) -> str:
    payload = json.dumps(
        {"netlist": netlist, "coords": coords, "points": [p.alters for p in points]},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def plan(spec: SweepSpec, tech: Technology | None = None) -> list[Job]:
    """All jobs of a sweep, in a stable order (temperature, then bias)."""
    cell = get_cell(spec.cell.name)
    params = cell.Params(
        n_inputs=spec.cell.n_inputs,
        w_um=spec.cell.w_um,
        l_um=spec.cell.l_um,
        v_out_v=spec.cell.v_out_v,
        casc_scale=spec.cell.casc_scale,
    )
    tech = tech or get_technology(spec.tech.name, spec.tech.models_dir)
    tech.corner_section(spec.tech.corner)  # validates the corner name early
    vectors = normalized_vectors(spec, cell.ideal)
    jobs: list[Job] = []
    for temp_c in spec.sweep.temp_c:
        for bias_a in spec.sweep.bias_a:
            bench = cell.build(params, tech, bias_a=bias_a, corner=spec.tech.corner, temp_c=temp_c)
            text = render(bench.netlist)
            cols = list(bench.inputs)
            points = []
            for i, (pattern, v) in enumerate(vectors):
                values = v * bias_a
                coords: dict[str, Any] = {"pattern": pattern, "point": i}
                coords.update({c: float(x) for c, x in zip(cols, values, strict=True)})
                alters = tuple(
                    (bench.inputs[c], float(x)) for c, x in zip(cols, values, strict=True)
                )
                points.append(Point(coords, alters))
            job_coords = {
                "cell": spec.cell.name,
                "tech": tech.name,
                "corner": spec.tech.corner,
                "temp_c": float(temp_c),
                "bias_a": float(bias_a),
                "vdd_v": tech.vdd_v,
                "mc_seed": NOMINAL,
                "mc_index": NOMINAL,
            }
            jobs.append(
                Job(
                    job_id=_job_id(text, job_coords, points),
                    netlist=text,
                    netlist_hash=text_hash(text),
                    ngbehavior=tech.ngbehavior,
                    coords=job_coords,
                    points=tuple(points),
                    probes=bench.probes,
                    output_columns=tuple(p.column for p in bench.probes),
                )
            )
    return jobs

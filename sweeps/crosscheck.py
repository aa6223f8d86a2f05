"""A second simulator as a cross-check: re-run a seeded sample of a sweep's points in VACASK.

The sweep's own netlists are re-planned from the manifest's spec (their hashes are compared
with the recorded ones), and VACASK reads each one unchanged through its ngspice front end
(``include "job.cir" lang=ngspice``). Every sampled vector becomes an ``op`` analysis after
``alter instance("SRC") dc=...`` of the cell's input sources, the way the ngspice backend
alters them. The probes map by role to VACASK's vectors: a source's current is
``vNAME:flow(br)`` (same sign as ngspice), a node's voltage is the node's name.

What VACASK takes, measured (docs/ngspice.md has the table): the built-in c180 (BSIM3 level
8, run by VACASK's own BSIM3) and the cells' sources, switches and clamps. Monte Carlo
instances are not re-run (their Pelgrom alters target ngspice's internal instance names),
nor are transient points.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from sactk.errors import SpecError
from sactk.netlists.render import fmt
from sactk.sweeps.backends.vacask_tables import vector as _vector
from sactk.sweeps.plan import Job, plan
from sactk.sweeps.spec import SweepSpec
from sactk.sweeps.store import read_manifest, read_results


def deck(job: Job, rows: list[int], netlist_name: str) -> tuple[str, list[str]]:
    """The VACASK netlist that runs vectors ``rows`` of ``job``; returns it and the analysis
    names (one ``op`` per vector)."""
    temp = job.coords["temp_c"]
    lines = [
        f"sactk cross-check of job {job.job_id}",
        "ground 0",
        f'include "{netlist_name}" lang=ngspice',
        "control",
        f"  options temp={fmt(temp)} gmin=1e-15",
    ]
    names = []
    for k in rows:
        for src, v in zip(job.sources, job.values[k], strict=True):
            lines.append(f'  alter instance("{src}") dc={fmt(float(v))}')
        names.append(f"op{k}")
        lines.append(f"  analysis op{k} op")
    lines.append("endc")
    return "\n".join(lines) + "\n", names


def crosscheck(
    results: str | os.PathLike[str], points: int = 30, seed: int = 0, progress: Any = None
) -> Any:
    """Re-run ``points`` seeded nominal DC points of ``results`` in VACASK. Returns a
    DataFrame: the points' coordinates, each output column as ngspice gave it (``COL``) and
    as VACASK gives it (``COL_vacask``), ``err_fs`` (the largest current difference in
    fractions of the point's full scale ``fs_a``), and ``netlist_same`` (the re-planned
    netlist has the recorded hash)."""
    import pandas as pd

    from sactk.sweeps.backends import vacask

    man = read_manifest(results)
    spec = SweepSpec.model_validate(man["spec"])
    tech = spec.tech.technology()
    df = read_results(results, man)
    ok = df[(df["analysis"] == "op") & (df["status"] == "ok") & (df["mc_index"] < 0)]
    if ok.empty:
        raise SpecError(f"crosscheck: {results} has no nominal DC points to re-run")
    rng = np.random.default_rng(seed)
    sample = ok.iloc[np.sort(rng.choice(len(ok), size=min(points, len(ok)), replace=False))]
    recorded = {tuple(sorted(v["coords"].items())): v["netlist_hash"] for v in man["jobs"].values()}
    out = []
    jobs = [j for j in plan(spec, tech) if j.tran is None]
    for i, job in enumerate(jobs):
        m = np.ones(len(sample), dtype=bool)
        for k, v in job.coords.items():
            if k in sample.columns:
                m &= sample[k].to_numpy() == v
        if not m.any():
            continue
        sub = sample[m]
        pos = {int(p): k for k, p in enumerate(job.point_columns["point"])}
        rows = [pos[int(p)] for p in sub["point"]]
        with tempfile.TemporaryDirectory() as tmp:
            cir = Path(tmp) / "job.cir"
            cir.write_text(job.netlist)
            text, names = deck(job, rows, cir.name)
            vec = vacask.run(text, {cir.name: cir}, names)
        got = sub.copy()
        for p in job.probes:
            a = np.array([float(vec[n][_vector(p.role, p.target)][0]) for n in names])
            if p.minus:
                a = a - np.array([float(vec[n][_vector(p.role, p.minus)][0]) for n in names])
            got[f"{p.column}_vacask"] = p.scale * a
        got["netlist_same"] = recorded.get(tuple(sorted(job.coords.items()))) == job.netlist_hash
        out.append(got)
        if progress is not None:
            progress(i + 1, len(jobs))
    res = pd.concat(out, ignore_index=True)
    cur = [c.removesuffix("_vacask") for c in res.columns if c.endswith("_a_vacask")]
    diff = np.stack([np.abs(res[f"{c}_vacask"] - res[c]) for c in cur], axis=1)
    res["err_fs"] = diff.max(axis=1) / res["fs_a"].to_numpy(float)
    return res

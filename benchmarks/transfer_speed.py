"""Transfer-curve sweeps against the simulator's own speed (`make bench`; docs/benchmarks.md).

Workload: 200 Pelgrom chips of the 4-input MP cell at 100 nA, 27 C, each chip an 81-point
sweep of input 0 with the others held at the bias (no random vectors), one core.

* bare: PySpice's NgSpiceShared driven directly, in one process: per job load the netlist;
  per chip alter its device parameters and the held inputs, run one `dc` of input 0, read
  the output and supply vectors; no planning, no rows, no files;
* sactk: `sactk.api.sweep(spec, DIR, jobs=1)`: planning, the backend (one `dc` per chip and
  operating point), result rows, Parquet parts and the manifest;
* op: the same jobs through sactk's backend with one operating point per point (what every
  point cost before swept inputs ran as `dc`), and how far its currents are from the dc path.

Interleaved, best of `--repeat` for each. Usage: python benchmarks/transfer_speed.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import time
from typing import Any

import numpy as np
from _common import bare_ngspice, read_outputs, tmp_dir

from sactk import api
from sactk.netlists.render import fmt
from sactk.sweeps.backends.ngspice_shared import dc_schedule, instance
from sactk.sweeps.plan import plan

SPEC = """
description = "transfer-curve benchmark: 200 chips x 81-point sweep of input 0, MP cell, 100 nA"
[cell]
name = "mp"
n_inputs = 4
[sweep]
bias_a = [1e-7]
temp_c = [27]
[inputs.random]
count = 0
[inputs.sweep]
index = 0
points = 81
max_ratio = 3.0
hold_ratio = 1.0
[mc]
instances = 200
seed = 1
"""


def bare(jobs: list[Any]) -> float:
    """The floor: the same loads, alters and dc analyses with nothing around them."""
    with bare_ngspice() as ng:
        t0 = time.perf_counter()
        for job in jobs:
            ((_, _, col),) = dc_schedule(job)  # one curve per job: a dc analysis of `col`
            held = [(s, fmt(float(x))) for s, x in zip(job.sources, job.values[0], strict=True)]
            x = job.values[:, col]
            step = (x[-1] - x[0]) / (len(x) - 1)
            dc = f"dc {job.sources[col]} {fmt(x[0])} {fmt(x[-1])} {fmt(step)}"
            ng.load_circuit(job.netlist)
            for inst in job.instances:
                for target, value in (*inst.alters, *held):
                    ng.exec_command(f"alter {target} = {value}")
                ng.exec_command("destroy all")
                ng.exec_command(dc)
                read_outputs(ng, job)
            ng.exec_command("destroy all")
            ng.remove_circuit()
        return time.perf_counter() - t0


def through_backend(jobs: list[Any], use_dc: bool) -> tuple[float, list[dict[str, Any]]]:
    be = instance()
    be.use_dc = use_dc
    t0 = time.perf_counter()
    cols = [be.run_job(j) for j in jobs]
    wall = time.perf_counter() - t0
    be.use_dc = True
    return wall, cols


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    tmp = tmp_dir()
    try:
        (tmp / "spec.toml").write_text(SPEC)
        spec = api.load(tmp / "spec.toml")
        jobs = plan(spec)
        chips = sum(len(j.instances) for j in jobs)
        t_bare = t_sactk = float("inf")
        for k in range(args.repeat):
            t_bare = min(t_bare, bare(jobs))
            t0 = time.perf_counter()
            summary = api.sweep(spec, tmp / f"r{k}", jobs=1)
            t_sactk = min(t_sactk, time.perf_counter() - t0)
            assert summary.failed_points == 0
        t_op, op_cols = through_backend(jobs, use_dc=False)
        _, dc_cols = through_backend(jobs, use_dc=True)
        worst = (
            max(
                float(np.max(np.abs(np.asarray(a["out_z_a"]) - np.asarray(b["out_z_a"]))))
                for a, b in zip(op_cols, dc_cols, strict=True)
            )
            / 1e-7
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {chips} chips x 81 points, best of {args.repeat}"
    )
    print("| method | wall (s) | per chip (ms) |")
    print("| --- | --- | --- |")
    for name, t in (
        ("bare NgSpiceShared, one dc per chip", t_bare),
        ("sactk sweep --jobs 1", t_sactk),
        ("sactk backend, one op per point", t_op),
    ):
        print(f"| {name} | {t:.2f} | {1e3 * t / chips:.2f} |")
    print(f"sactk / bare: {t_sactk / t_bare:.2f}x (goal: within 1.3x)")
    print(f"op path / sactk: {t_op / t_sactk:.1f}x")
    print(f"largest |dc - op| of out_z_a: {worst:.2e} of the bias (goal: below 1e-4)")


if __name__ == "__main__":
    main()

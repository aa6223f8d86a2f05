"""Sweep-engine benchmarks (`make bench`); docs/benchmarks.md records their figures.

(a) sactk against bare NgSpiceShared on the same netlists and points, one core;
(b) Monte Carlo per sample: alters in one loaded circuit against one netlist load per chip;
(c) --jobs 2 against --jobs 1 on the mp-mc preset;
(d) peak memory of the parent process for 25,000- and 100,000-point sweeps;
(e) 100,000 and 1,000,000 points (mp-dc, random vectors at 7 biases and 2 temperatures) on
    a dask LocalCluster of 2 workers: throughput, parent peak
    RSS, and the share of wall time spent recording jobs (journal and manifest) and writing
    result parts.

Usage: python benchmarks/sweep_engine.py [a b c d e]   (default: a b c d; e takes minutes)
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import time
from typing import Any

from _common import bare_ngspice, read_outputs, run_child, tmp_dir

from sactk.sweeps.plan import plan
from sactk.sweeps.run import run_sweep
from sactk.sweeps.spec import load_spec


def _bare_ngspice(jobs: list[Any]) -> float:
    """The same loads, alters, op and vector reads through PySpice's NgSpiceShared alone:
    no planning, no result rows, no files. The floor sactk's overhead is measured against."""

    from sactk.netlists.render import fmt

    with bare_ngspice() as ng:
        t0 = time.perf_counter()
        for job in jobs:
            ng.load_circuit(job.netlist)
            for row in job.values:
                for src, x in zip(job.sources, row, strict=True):
                    ng.exec_command(f"alter {src} = {fmt(float(x))}")
                ng.exec_command("destroy all")
                ng.exec_command("op")
                read_outputs(ng, job)
            ng.exec_command("destroy all")
            ng.remove_circuit()
        return time.perf_counter() - t0


def bench_a(repeat: int = 5) -> dict[str, Any]:
    spec = load_spec(
        preset="mp-dc", overrides=["inputs.random.count=1000", "inputs.sweep.points=0"]
    )
    jobs = plan(spec)
    points = sum(j.n_points for j in jobs)
    # Interleaved, best of each: drift in the machine's load hits both sides alike.
    bare = best = float("inf")
    for _ in range(repeat):
        bare = min(bare, _bare_ngspice(jobs))
        out = tmp_dir()
        t0 = time.perf_counter()
        run_sweep(spec, out / "r", n_jobs=1)
        best = min(best, time.perf_counter() - t0)
        shutil.rmtree(out)
    return {
        "case": "a",
        "points": points,
        "bare_s": round(bare, 3),
        "sactk_s": round(best, 3),
        "ratio": round(best / bare, 3),
        "us_per_point_bare": round(1e6 * bare / points, 1),
        "us_per_point_sactk": round(1e6 * best / points, 1),
    }


def bench_b(instances: int = 100) -> dict[str, Any]:
    """Per Monte Carlo sample (one chip, 24 vectors): batched alters against a fresh load."""
    from dataclasses import replace

    from sactk.sweeps.backends import get_backend

    spec = load_spec(
        preset="mp-mc",
        overrides=[
            "sweep.bias_a=[1e-7]",
            "sweep.temp_c=[27]",
            f"mc.instances={instances}",
            f"mc.per_job={instances}",
            "mc.nominal=false",
        ],
    )
    (job,) = plan(spec)
    backend = get_backend()
    backend.run_job(replace(job, instances=job.instances[:2]))  # warm up
    t0 = time.perf_counter()
    batched = backend.run_job(job)
    t_batched = time.perf_counter() - t0
    t0 = time.perf_counter()
    single = [backend.run_job(replace(job, instances=(inst,))) for inst in job.instances]
    t_single = time.perf_counter() - t0
    same = all(
        s["out_z_a"].tolist() == batched["out_z_a"][k * 24 : (k + 1) * 24].tolist()
        for k, s in enumerate(single)
    )
    return {
        "case": "b",
        "instances": instances,
        "vectors": len(job.values),
        "ms_per_sample_batched": round(1e3 * t_batched / instances, 2),
        "ms_per_sample_one_netlist_each": round(1e3 * t_single / instances, 2),
        "identical": same,
    }


def bench_c(repeat: int = 2) -> dict[str, Any]:
    spec = load_spec(preset="mp-mc")
    walls = {}
    points = 0
    for n in (1, 2):
        best = float("inf")
        for _ in range(repeat):
            out = tmp_dir()
            t0 = time.perf_counter()
            s = run_sweep(spec, out / "r", n_jobs=n)
            best = min(best, time.perf_counter() - t0)
            points = s.points
            shutil.rmtree(out)
        walls[n] = best
    return {
        "case": "c",
        "points": points,
        "jobs1_s": round(walls[1], 2),
        "jobs2_s": round(walls[2], 2),
        "speedup": round(walls[1] / walls[2], 2),
    }


_MEM_CHILD = """
import json, resource, sys, time
from sactk.sweeps.run import run_sweep
from sactk.sweeps.spec import load_spec
count, out = int(sys.argv[1]), sys.argv[2]
over = [f"inputs.random.count={count}", "inputs.sweep.points=0"]
spec = load_spec(preset="mp-dc", overrides=over)
t0 = time.perf_counter()
s = run_sweep(spec, out, n_jobs=2)
wall = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"points": s.points, "wall_s": round(wall, 1), "parent_peak_mib": round(rss, 1)}))
"""


def bench_d() -> list[dict[str, Any]]:
    return run_child(_MEM_CHILD, (3572, 14286), "d")  # x 7 biases: 25,004 and 100,002 points


_SCALE_CHILD = """
import json, resource, sys, threading, time
from sactk.sweeps import store
from sactk.sweeps.run import prepare, run_sweep
from sactk.sweeps.spec import load_spec

def rss_mib():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 2**20

samples = []
def sample():
    while True:
        samples.append(rss_mib())
        time.sleep(0.5)

spent = {"record": 0.0, "parts": 0.0}

def timed(fn, key):
    def wrapper(*a, **k):
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            spent[key] += time.perf_counter() - t
    return wrapper

S = store.ResultsStore
write_job = S.write_job
S._append_journal = timed(S._append_journal, "record")
S._write_manifest = timed(S._write_manifest, "record")
S.write_job = timed(write_job, "parts")  # includes the journal append, subtracted below
count, out = int(sys.argv[1]), sys.argv[2]
over = [f"inputs.random.count={count}", "inputs.sweep.points=0", "sweep.temp_c=[-40, 27]"]
spec = load_spec(preset="mp-dc", overrides=over)
t0 = time.perf_counter()
prepared = prepare(spec)
planned_mib = rss_mib()
threading.Thread(target=sample, daemon=True).start()
s = run_sweep(spec, out, n_jobs=2, executor="dask", prepared=prepared)
wall = time.perf_counter() - t0
half = samples[len(samples) // 2 :]
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({
    "points": s.points, "jobs": s.jobs_total, "failed": s.failed_points,
    "wall_s": round(wall, 1), "points_per_s": round(s.points / wall),
    "parent_peak_mib": round(rss, 1),
    "rss_after_plan_mib": round(planned_mib, 1),
    "rss_run_min_max_mib": [round(min(samples), 1), round(max(samples), 1)],
    "rss_2nd_half_min_max_mib": [round(min(half), 1), round(max(half), 1)],
    "record_pct": round(100 * spent["record"] / wall, 2),
    "parts_pct": round(100 * (spent["parts"] - spent["record"]) / wall, 2),
}))
"""


def bench_e() -> list[dict[str, Any]]:
    # x 7 biases x 2 temperatures: 100,002 and 1,000,006 points
    return run_child(_SCALE_CHILD, (7143, 71429), "e")


def main(cases: list[str]) -> None:
    print(
        f"# machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}",
        flush=True,
    )
    for c in cases or ["a", "b", "c", "d"]:
        result = {"a": bench_a, "b": bench_b, "c": bench_c, "d": bench_d, "e": bench_e}[c]()
        for r in result if isinstance(result, list) else [result]:
            print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

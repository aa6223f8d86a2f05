"""spec -> jobs -> executor -> store: the whole sweep, resumable, with a progress callback."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sactk.netlists.technology import Technology, get_technology
from sactk.sweeps.executors import default_jobs, run_local
from sactk.sweeps.plan import Job, plan
from sactk.sweeps.spec import SweepSpec
from sactk.sweeps.store import ResultsStore

# Below this many points a sweep runs in-process when --jobs is not given: spawning workers
# (about 0.5 s each, PySpice import and ngspice start) costs more than it saves
# (docs/benchmarks.md: 1365 points took 0.62 s serial and 1.01 s on 2 workers).
AUTO_SERIAL_POINTS = 5000

Progress = Callable[[int, int], None]
"""Called with (points finished, points total) after each job."""


@dataclass
class SweepSummary:
    out: Path
    jobs_total: int
    jobs_skipped: int
    points: int
    failed_points: int
    wall_s: float
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def points_per_s(self) -> float:
        return self.points / self.wall_s if self.wall_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "jobs_total": self.jobs_total,
            "jobs_skipped": self.jobs_skipped,
            "points": self.points,
            "failed_points": self.failed_points,
            "wall_s": round(self.wall_s, 3),
            "points_per_s": round(self.points_per_s, 1),
            "failures": self.failures[:20],
        }


def prepare(spec: SweepSpec) -> tuple[Technology, list[Job]]:
    """Resolve the technology and plan every job; raises SpecError before anything is written."""
    tech = get_technology(spec.tech.name, spec.tech.models_dir)
    return tech, plan(spec, tech)


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    *,
    n_jobs: int | None = None,
    keep_netlists: bool = False,
    progress: Progress | None = None,
    prepared: tuple[Technology, list[Job]] | None = None,
) -> SweepSummary:
    """Run (or resume) a sweep into ``out``; returns the summary also stored in the manifest."""
    t0 = time.perf_counter()
    tech, jobs = prepared or prepare(spec)
    store = ResultsStore(out)
    store.open(
        spec.to_dict(),
        tech.to_dict(),
        {"inputs.random.seed": spec.inputs.random.seed, "mc_seed": None},
    )
    done = store.done()
    todo = [j for j in jobs if j.job_id not in done]
    total_points = sum(len(j.points) for j in todo)
    finished = 0
    failed = 0
    failures: list[dict[str, Any]] = []
    by_id = {j.job_id: j for j in todo}
    if progress:
        progress(0, total_points)
    version = ""
    if n_jobs is None:
        n_jobs = 1 if total_points < AUTO_SERIAL_POINTS else default_jobs()
    for job_id, rows, job_version in run_local(todo, n_jobs):
        version = job_version or version
        job = by_id[job_id]
        info = {"netlist_hash": job.netlist_hash, "coords": job.coords}
        store.write_job(job_id, rows, info, job.netlist if keep_netlists else "")
        for r in rows:
            if r["status"] != "ok":
                failed += 1
                failures.append(
                    {
                        "temp_c": r["temp_c"],
                        "bias_a": r["bias_a"],
                        "point": r["point"],
                        "status": r["status"],
                    }
                )
        finished += len(rows)
        if progress:
            progress(finished, total_points)
    if version:
        store.set_versions(version)
    summary = SweepSummary(
        out=store.out,
        jobs_total=len(jobs),
        jobs_skipped=len(jobs) - len(todo),
        points=finished,
        failed_points=failed,
        wall_s=time.perf_counter() - t0,
        failures=failures,
    )
    store.finish(summary.to_dict())
    return summary

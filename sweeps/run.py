"""spec -> jobs -> executor -> store: the whole sweep, resumable, with a progress callback."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sactk.errors import SpecError, SpecMismatch
from sactk.netlists.technology import Technology
from sactk.sweeps.executors import default_jobs, run_jobs
from sactk.sweeps.plan import Job, plan
from sactk.sweeps.spec import SweepSpec
from sactk.sweeps.store import ResultsStore

# Below this much estimated simulator time a sweep runs in-process when --jobs is not given:
# spawning workers (about 0.5 s each, PySpice import and ngspice start) costs more than it
# saves (docs/benchmarks.md: 1365 c180 points took 0.62 s serial and 1.01 s on 2 workers).
# The estimate is points x tech.point_s + jobs x tech.load_s: 5000 c180 points; with 2
# workers a sweep takes about 0.5 s + half, so from 1 s of work on they win.
AUTO_SERIAL_S = 1.0
WARM_SERIAL_S = 0.05
"""The same threshold when ``sactk sweep`` started its workers while it planned
(:mod:`sactk.sweeps.warm`): then the pool costs little more than sending the tasks, and
two workers win from about 250 c180 points (docs/benchmarks.md, "Peers")."""

Progress = Callable[[int, int], None]
"""Called with (points finished, points total) after each job."""


@dataclass
class SweepSummary:
    out: Path
    jobs_total: int
    jobs_skipped: int
    jobs_ok: int
    jobs_failed: int
    points: int
    failed_points: int
    wall_s: float
    executor: str = "local"
    workers: int = 1
    failures: list[dict[str, Any]] = field(default_factory=list)
    jobs_retried: int = 0
    """Jobs that had failed points in an earlier run and ran again in this one."""

    @property
    def points_per_s(self) -> float:
        return self.points / self.wall_s if self.wall_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "jobs_total": self.jobs_total,
            "jobs_skipped": self.jobs_skipped,
            "jobs_ok": self.jobs_ok,
            "jobs_failed": self.jobs_failed,
            "points": self.points,
            "failed_points": self.failed_points,
            "wall_s": round(self.wall_s, 3),
            "points_per_s": round(self.points_per_s, 1),
            "executor": self.executor,
            "workers": self.workers,
            "jobs_retried": self.jobs_retried,
            "failures": self.failures[:20],
        }


def prepare(spec: SweepSpec, tech: Technology | None = None) -> tuple[Technology, list[Job]]:
    """Resolve the technology (unless given) and plan every job; raises SpecError before
    anything is written."""
    tech = tech or spec.tech.technology()
    return tech, plan(spec, tech)


def refuse_stale(store: ResultsStore, spec: dict[str, Any], planned: set[str]) -> None:
    """Refuse to resume into a folder whose finished jobs this plan would not run: the same
    spec, but a circuit that changed since (the cell's file, a model file, sactk's netlists).
    A job's id hashes its netlist text with every included file's content, so an edit
    changes it; resuming would mix two circuits' rows in one folder."""
    old = store.check(spec)
    if old is None:
        return
    stale = sorted(set(old.get("jobs", {})) - planned)
    if stale:
        raise SpecMismatch(
            f"--out: {store.out} holds {len(stale)} finished jobs of a circuit this spec no "
            "longer simulates (the cell's file, a model file or sactk's netlists changed "
            "since); use a new --out, or delete the folder to start over"
        )


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    *,
    n_jobs: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    keep_netlists: bool = False,
    progress: Progress | None = None,
    prepared: tuple[Technology, list[Job]] | None = None,
    timeout_s: float | None = None,
    retries: int = 1,
) -> SweepSummary:
    """Run (or resume) a sweep into ``out``; returns the summary also stored in the manifest."""
    t0 = time.perf_counter()
    tech, jobs = prepared or prepare(spec)
    store = ResultsStore(out)
    planned = {j.job_id for j in jobs}
    refuse_stale(store, spec.to_dict(), planned)
    store.open(
        spec.to_dict(),
        tech.to_dict(),
        {
            "inputs.random.seed": spec.inputs.random.seed,
            "mc_seed": spec.mc.seed if spec.mc.instances else None,
            "mc_method": spec.mc.method if spec.mc.instances else None,
        },
    )
    done = store.done()
    todo = [j for j in jobs if j.job_id not in done]
    # a damaged part is recomputed; one with no job in this plan is dropped with its entry
    for jid in store.damaged:
        if jid not in planned:
            (store.parts / f"part-{jid}.parquet").unlink(missing_ok=True)
            store.manifest["jobs"].pop(jid, None)
    total_points = sum(j.n_points for j in todo)
    finished = failed = jobs_failed = 0
    failures: list[dict[str, Any]] = []
    by_id = {j.job_id: j for j in todo}
    if progress:
        progress(0, total_points)
    version = ""
    if n_jobs is None:
        est_s = total_points * tech.point_s + len(todo) * tech.load_s
        from sactk.sweeps import warm

        threshold = WARM_SERIAL_S if warm.started() else AUTO_SERIAL_S
        auto_serial = executor == "local" and est_s < threshold
        n_jobs = 1 if auto_serial else default_jobs()
    results = run_jobs(todo, executor, n_jobs, scheduler, timeout_s=timeout_s, retries=retries)
    stopped = ""
    for job_id, part, job_version in results:
        version = job_version or version
        job = by_id.pop(job_id)
        info = {"netlist_hash": job.netlist_hash, "coords": job.coords}
        n_bad = store.write_job(job_id, part, info, job.netlist if keep_netlists else "")
        if n_bad:
            jobs_failed += 1
            failed += n_bad
            failures += list(part.failures[: 20 - len(failures)])
        first = finished == 0
        finished += part.points
        if progress:
            progress(finished, total_points)
        stopped = _stop_reason(part, n_bad, first, len(by_id))
        if stopped:
            getattr(results, "close", lambda: None)()  # stops the workers
            break
    if version:
        store.set_versions(version)
    summary = SweepSummary(
        out=store.out,
        jobs_total=len(jobs),
        jobs_skipped=len(jobs) - len(todo),
        jobs_ok=len(todo) - jobs_failed,
        jobs_failed=jobs_failed,
        points=finished,
        failed_points=failed,
        wall_s=time.perf_counter() - t0,
        executor=executor,
        workers=n_jobs,
        failures=failures,
        jobs_retried=len(set(store.failed) & planned),
    )
    doc = summary.to_dict()
    doc["damaged_parts_recomputed"] = sorted(store.damaged)
    store.finish(doc)
    if stopped:
        raise SpecError(
            f"sweep: every point of the first job failed ({stopped}); stopped before the "
            f"other {len(by_id)} jobs ran. Fix the circuit or spec; a rerun retries it"
        )
    return summary


def _stop_reason(part: Any, n_bad: int, first: bool, pending: int) -> str:
    """The reason to stop a sweep whose first finished job failed at every point with a
    simulator error; '' to go on. Not for a timeout or a dead worker, which can pass, nor
    for a step response that did not settle in its window: the circuit has its operating
    points, and the other jobs (their DC points, other biases) still tell something. A
    transient with a tiny window is often the first job to finish."""
    if not (first and pending and part.points and n_bad == part.points and part.failures):
        return ""
    reason = str(part.failures[0].get("status", ""))
    return "" if reason.startswith(("timeout", "worker died", "not settled")) else reason

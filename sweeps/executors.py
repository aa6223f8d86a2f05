"""Executors run jobs on backends and yield results as they finish.

The local executor runs jobs in this process when ``n_jobs == 1`` and otherwise in a pool of
worker processes started with the *spawn* method: ngspice (built with OpenMP) hangs children
forked after it has run, so workers never inherit a loaded simulator. Each worker holds one
ngspice, limited to one thread.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from sactk.sweeps.plan import Job


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def run_one(job: Job, backend: str = "ngspice-shared") -> tuple[str, list[dict[str, Any]], str]:
    """Run one job on this process's backend: (job_id, rows, simulator version)."""
    from sactk.sweeps.backends import get_backend

    b = get_backend(backend)
    rows = b.run_job(job)
    return job.job_id, rows, str(getattr(b, "version", ""))


def run_local(
    jobs: Sequence[Job], n_jobs: int | None = None, backend: str = "ngspice-shared"
) -> Iterator[tuple[str, list[dict[str, Any]], str]]:
    """Yield (job_id, rows, version) for each job as it finishes."""
    n = n_jobs or default_jobs()
    if n <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield run_one(job, backend)
        return
    ctx = multiprocessing.get_context("spawn")
    # Each worker's backend limits ngspice to one thread before the library loads.
    with ProcessPoolExecutor(max_workers=min(n, len(jobs)), mp_context=ctx) as pool:
        pending: set[Future[tuple[str, list[dict[str, Any]], str]]] = set()
        queue = list(jobs)
        # Keep a bounded number of jobs in flight so an interrupt loses little work.
        while queue or pending:
            while queue and len(pending) < 2 * n:
                pending.add(pool.submit(run_one, queue.pop(0), backend))
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()

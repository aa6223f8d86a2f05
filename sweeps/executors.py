"""Executors run jobs on backends and yield results as they finish.

``local``: in this process when ``n_jobs == 1``, otherwise a pool of worker processes
started with the *spawn* method: ngspice (built with OpenMP) hangs children forked after it
has run, so workers never inherit a loaded simulator. Each worker holds one ngspice, limited
to one thread.

``dask``: the same jobs on a ``dask.distributed`` cluster (``scheduler`` address), or on a
LocalCluster of ``n_jobs`` single-threaded worker processes when no address is given. A job
is plain data and the simulator is deterministic, so results are identical to the local
executor's, bit for bit (tests/test_sweep_engine.py).

Both keep a bounded number of jobs in flight, so a killed sweep loses at most those.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from sactk.sweeps.plan import Job

from sactk.errors import SpecError

Result = tuple[str, dict[str, Any], str]
"""(job_id, result columns, simulator version)."""

EXECUTORS = ("local", "dask")


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def run_one(job: Job, backend: str = "ngspice-shared") -> Result:
    """Run one job on this process's backend."""
    from sactk.sweeps.backends import get_backend

    b = get_backend(backend)
    cols = b.run_job(job)
    return job.job_id, cols, str(getattr(b, "version", ""))


def run_local(
    jobs: Sequence[Job], n_jobs: int | None = None, backend: str = "ngspice-shared"
) -> Iterator[Result]:
    """Yield each job's result as it finishes."""
    n = n_jobs or default_jobs()
    if n <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield run_one(job, backend)
        return
    ctx = multiprocessing.get_context("spawn")
    # Each worker's backend limits ngspice to one thread before the library loads.
    with ProcessPoolExecutor(max_workers=min(n, len(jobs)), mp_context=ctx) as pool:
        pending: set[Future[Result]] = set()
        queue = list(reversed(jobs))
        while queue or pending:
            while queue and len(pending) < 2 * n:
                pending.add(pool.submit(run_one, queue.pop(), backend))
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()


def run_dask(
    jobs: Sequence[Job],
    scheduler: str | None = None,
    n_jobs: int | None = None,
    backend: str = "ngspice-shared",
) -> Iterator[Result]:
    """Yield each job's result as it finishes on a dask.distributed cluster."""
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise SpecError(
            "--executor dask: dask.distributed is not installed; pip install 'sactk[dask]' "
            "(make install does) or use --executor local"
        ) from None
    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise SpecError(
                f"--scheduler: cannot reach dask scheduler {scheduler!r} ({exc}); check the "
                "address (tcp://host:8786) or leave it out for a local cluster"
            ) from None
    else:
        # One thread per worker process: one ngspice each (NGSPICE_NOTES.md).
        cluster = LocalCluster(
            n_workers=n_jobs or default_jobs(),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        client = Client(cluster)
    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})) or (n_jobs or 1))
        queue = list(reversed(jobs))
        ac = as_completed()
        in_flight = 0
        while queue and in_flight < 2 * n_workers:
            # pure=False: never let dask deduplicate or cache a simulation.
            ac.add(client.submit(run_one, queue.pop(), backend, pure=False))
            in_flight += 1
        for fut in ac:
            result: Result = fut.result()
            fut.release()
            if queue:
                ac.add(client.submit(run_one, queue.pop(), backend, pure=False))
            yield result
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_jobs(
    jobs: Sequence[Job],
    executor: str = "local",
    n_jobs: int | None = None,
    scheduler: str | None = None,
) -> Iterator[Result]:
    if executor == "local":
        if scheduler:
            raise SpecError("--scheduler: only with --executor dask")
        return run_local(jobs, n_jobs)
    if executor == "dask":
        return run_dask(jobs, scheduler, n_jobs)
    raise SpecError(f"--executor: unknown executor {executor!r}; use one of {', '.join(EXECUTORS)}")

"""Executors run jobs on backends and yield results as they finish.

``local``: in this process when ``n_jobs == 1``, otherwise a pool of worker processes
started with the *spawn* method: ngspice (built with OpenMP) hangs children forked after it
has run, so workers never inherit a loaded simulator. Each worker holds one ngspice, limited
to one thread.

``dask``: the same jobs on a ``dask.distributed`` cluster (``scheduler`` address), or on a
private cluster of ``n_jobs`` single-threaded worker processes when no address is given
(scheduler and workers each in their own process: ``SubprocessCluster``). A job
is plain data and the simulator is deterministic, so results are identical to the local
executor's, bit for bit (tests/test_sweep_engine.py).

Both keep a bounded number of jobs in flight, so a killed sweep loses at most those, and both
return a job's results as one encoded Parquet part (``store.pack`` runs on the worker). The
local pool survives a dying worker and kills a job past ``timeout_s`` (:func:`_run_pool`).
On dask a job is scattered to the cluster and its task refers to it; a task whose worker
died is rerun by dask (``retries=1``), and one whose scattered job died with its worker is
submitted again from this process, up to twice, then recorded as failed points.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
from collections import defaultdict, deque
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from sactk.errors import SpecError
from sactk.sweeps.plan import Job
from sactk.sweeps.store import Part, pack

Result = tuple[str, Part, str]
"""(job_id, the job's encoded results, simulator version)."""

EXECUTORS = ("local", "dask")


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def run_one(job: Job, backend: str = "ngspice-shared") -> Result:
    """Run one job on this process's backend."""
    from sactk.sweeps.backends import get_backend

    _injected_fault(job)
    b = get_backend(backend)
    cols = b.run_job(job)
    return job.job_id, pack(cols), str(getattr(b, "version", ""))


FAULT_ENV = "SACTK_FAULT_INJECT"
"""Test-only fault injection in worker processes: ``hang:<job id prefix>`` sleeps for an
hour in that job, ``exit:<job id prefix>`` kills the worker (os._exit) once, marked by a
file ``<prefix>.done`` in ``SACTK_FAULT_DIR``. tests/faults/ uses it; nothing else does."""


def _injected_fault(job: Job) -> None:
    spec = os.environ.get(FAULT_ENV, "")
    if not spec or ":" not in spec:
        return
    kind, prefix = spec.split(":", 1)
    if not job.job_id.startswith(prefix):
        return
    if kind == "hang":
        import time

        time.sleep(3600)
    elif kind == "exit":
        from pathlib import Path

        mark = Path(os.environ.get("SACTK_FAULT_DIR", ".")) / f"{prefix}.done"
        if not mark.exists():
            mark.write_text("killed once\n")
            os._exit(17)


def _warm_up(backend: str) -> str:
    """Start this worker's simulator (what the first job would otherwise pay)."""
    from sactk.sweeps.backends import get_backend

    b = get_backend(backend)
    start = getattr(b, "start", None)
    if start is not None:
        start()
    return str(getattr(b, "version", ""))


def failed_result(job: Job, reason: str) -> Result:
    """Every point of ``job`` recorded as failed with ``reason`` (no simulator needed)."""
    from sactk.sweeps.backends.ngspice_shared import _Recorder

    rec = _Recorder(job)
    for inst in job.instances:
        for v in range(1 if job.tran is not None else len(job.values)):
            rec.add(inst.mc_index, v, reason)
    return job.job_id, pack(rec.columns()), ""


def run_local(
    jobs: Sequence[Job],
    n_jobs: int | None = None,
    backend: str = "ngspice-shared",
    timeout_s: float | None = None,
    retries: int = 1,
) -> Iterator[Result]:
    """Yield each job's result as it finishes. In-process for one worker and no timeout;
    otherwise a spawned pool that survives faults (:func:`_run_pool`)."""
    n = n_jobs or default_jobs()
    if (n <= 1 or len(jobs) <= 1) and timeout_s is None:
        for job in jobs:
            yield run_one(job, backend)
        return
    yield from _run_pool(jobs, max(1, min(n, len(jobs))), backend, timeout_s, retries)


def _kill(pool: ProcessPoolExecutor) -> None:
    """End a pool for good: kill its workers, shut it down, and unblock its manager thread.

    A worker killed while it writes a result leaves the pool's manager thread reading the
    rest of that message forever; the interpreter then hangs at exit joining that thread
    (seen once in tests/faults/test_workers.py: the sweep had finished). With every worker
    dead, closing our end of the result pipe turns that read into EOF, and the thread ends."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.join(timeout=5)
    with contextlib.suppress(Exception):
        pool._result_queue._writer.close()  # type: ignore[attr-defined]


def _dead_worker(pool: ProcessPoolExecutor) -> bool:
    """Whether a process of ``pool`` has exited (workers only exit when the pool shuts down)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    return any(p.exitcode is not None for p in procs)


def check_main_guard() -> None:
    """Refuse, in one line, to start spawned workers from a script without the main guard.

    A spawned worker imports the parent's main script again (as ``__mp_main__``); a script
    whose code is not under ``if __name__ == "__main__":`` then runs its sweep again in every
    worker, which dies in bootstrap ("worker died"). Only a ``.py`` file run as a script is
    checked: ``sactk``, ``python -m``, ``-c`` and notebooks have no such file."""
    import ast
    import sys

    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if not path or not str(path).endswith(".py") or getattr(main, "__spec__", None) is not None:
        return
    try:
        from pathlib import Path

        tree = ast.parse(Path(path).read_text())
    except (OSError, SyntaxError, ValueError):
        return
    for node in tree.body:
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            return
    from sactk.errors import SpecError

    raise SpecError(
        f"{path}: sactk runs sweeps in worker processes that import this script again; put "
        'its code under `if __name__ == "__main__":` (or pass jobs=1)'
    )


def _run_pool(
    jobs: Sequence[Job], n: int, backend: str, timeout_s: float | None, retries: int
) -> Iterator[Result]:
    """A pool of ``n`` spawned workers that survives faults.

    * A worker that dies (crash, out of memory, killed) breaks the pool: every job then in
      flight is charged one attempt and queued again on a fresh pool.
    * A job running longer than ``timeout_s`` has its pool killed; it is charged an attempt,
      the other jobs in flight are queued again free. With a timeout, every new pool first
      starts its workers' simulators, so the clock counts a job's own run and not a worker's
      start-up (seconds on a loaded machine).
    * A job out of attempts (``retries`` + 1) is recorded as failed points with the reason,
      so the sweep completes and the summary names it. Finished jobs are never redone.
    """
    check_main_guard()
    ctx = multiprocessing.get_context("spawn")
    queue = deque(jobs)
    attempts: dict[str, int] = defaultdict(int)
    limit = n if timeout_s else 2 * n  # with a timeout, a submitted job is a running job
    while queue:
        pool = ProcessPoolExecutor(max_workers=n, mp_context=ctx)
        running: dict[Future[Result], tuple[Job, float]] = {}
        charged: list[tuple[Job, str]] = []
        try:
            started = True
            if timeout_s:
                warm = [pool.submit(_warm_up, backend) for _ in range(n)]
                _, not_done = wait(warm, timeout=max(120.0, 10 * timeout_s))
                started = not not_done
                if not started:  # workers that cannot start within minutes: report, no hang
                    charged.append((queue.popleft(), "worker did not start"))
                for w in warm:
                    with contextlib.suppress(Exception):
                        w.result(timeout=0)
            while started and (queue or running):
                broken = False
                while queue and len(running) < limit:
                    job = queue.popleft()
                    try:
                        running[pool.submit(run_one, job, backend)] = (job, time.monotonic())
                    except BrokenProcessPool:  # a worker died since the last wait
                        queue.appendleft(job)
                        broken = True
                        break
                done, _ = (
                    (set(), set())
                    if broken
                    else wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
                )
                for fut in done:
                    job, _t0 = running.pop(fut)
                    try:
                        result = fut.result()
                    except BrokenProcessPool:
                        broken = True
                        charged.append((job, "worker died"))
                        continue
                    yield result
                # A worker killed while it held the pool's result-queue lock can leave the
                # pool waiting forever without noticing (seen under `kill -9`): check the
                # workers ourselves and restart the pool when one is gone.
                broken = broken or _dead_worker(pool)
                if broken:
                    charged += [(j, "worker died") for j, _ in running.values()]
                    running.clear()
                    break
                if timeout_s:
                    now = time.monotonic()
                    late = [f for f, (_j, t0) in running.items() if now - t0 > timeout_s]
                    if late:
                        for f in late:
                            charged.append((running.pop(f)[0], f"timeout after {timeout_s:g} s"))
                        queue.extendleft(j for j, _ in running.values())  # free retry
                        running.clear()
                        _kill(pool)
                        break
        finally:
            _kill(pool)
        for job, reason in charged:
            attempts[job.job_id] += 1
            if attempts[job.job_id] > retries:
                yield failed_result(job, f"{reason} ({attempts[job.job_id]} attempts)")
            else:
                queue.appendleft(job)


def run_dask(
    jobs: Sequence[Job],
    scheduler: str | None = None,
    n_jobs: int | None = None,
    backend: str = "ngspice-shared",
) -> Iterator[Result]:
    """Yield each job's result as it finishes on a dask.distributed cluster."""
    try:
        from distributed import Client, as_completed
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
        # One thread per worker process: one ngspice each (docs/ngspice.md, threads). The
        # scheduler runs in its own process too: hosted in this one, its per-task traffic
        # grew this process's memory by about 1 MiB per job (docs/benchmarks.md (e)).
        from distributed.deploy.subprocess import SubprocessCluster

        cluster = SubprocessCluster(
            n_workers=n_jobs or default_jobs(),
            threads_per_worker=1,
            dashboard_address=None,  # type: ignore[arg-type]  # documented: None disables it
        )
        client = Client(cluster)
    from distributed import KilledWorker
    from distributed.client import FutureCancelledError

    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})) or (n_jobs or 1))
        queue = list(reversed(jobs))
        ac = as_completed()
        held: dict[Any, tuple[Job, Any]] = {}  # task key -> (job, its scattered data)
        attempts: dict[str, int] = defaultdict(int)

        def scatter(job: Job) -> Any:
            """The job's copy on the cluster. A worker that just died can still be picked
            (its connection then closes under us): wait for the scheduler to drop it."""
            for wait_s in (0.5, 1.0, 2.0, 4.0, 8.0):
                try:
                    return client.scatter([job], hash=False, direct=False)[0]
                except OSError:  # CommClosedError and other connection failures
                    time.sleep(wait_s)
            return client.scatter([job], hash=False, direct=False)[0]

        def submit(job: Job) -> None:
            # The job goes to the cluster by scatter, not as a task argument: large task
            # arguments made the client process grow by about 0.2 MiB per task
            # (docs/benchmarks.md (e)). pure=False: never let dask deduplicate a simulation.
            data = scatter(job)
            fut = client.submit(run_one, data, backend, pure=False, retries=1)
            held[fut.key] = (job, data)
            ac.add(fut)

        for _ in range(min(len(queue), 2 * n_workers)):
            submit(queue.pop())
        for fut in ac:
            job, data = held.pop(fut.key)
            lost = ""
            try:
                result: Result = fut.result()
            except (FutureCancelledError, KilledWorker) as exc:
                # a worker died holding the job's data, or the job killed workers repeatedly
                attempts[job.job_id] += 1
                lost = f"dask: {type(exc).__name__} ({attempts[job.job_id]} attempts)"
            fut.release()
            data.release()
            if lost and attempts[job.job_id] <= 2:
                submit(job)  # from the client's copy: any worker can take it
                continue
            if queue:
                submit(queue.pop())
            yield failed_result(job, lost) if lost else result
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_jobs(
    jobs: Sequence[Job],
    executor: str = "local",
    n_jobs: int | None = None,
    scheduler: str | None = None,
    timeout_s: float | None = None,
    retries: int = 1,
) -> Iterator[Result]:
    if timeout_s is not None and not timeout_s > 0:
        raise SpecError(f"--timeout {timeout_s}: give a positive number of seconds")
    if retries < 0:
        raise SpecError(f"--retries {retries}: give 0 or more")
    if executor == "local":
        if scheduler:
            raise SpecError("--scheduler: only with --executor dask")
        return run_local(jobs, n_jobs, timeout_s=timeout_s, retries=retries)
    if executor == "dask":
        return run_dask(jobs, scheduler, n_jobs)
    raise SpecError(f"--executor: unknown executor {executor!r}; use one of {', '.join(EXECUTORS)}")

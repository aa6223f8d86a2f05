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
import os
import time
from collections import defaultdict, deque
from collections.abc import Iterator, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from itertools import pairwise
from typing import Any

from sactk.errors import SpecError
from sactk.sweeps import warm
from sactk.sweeps.plan import Job
from sactk.sweeps.store import Part, pack

Result = tuple[str, Part, str]
"""(job_id, the job's encoded results, simulator version)."""

Task = tuple[Job, int, int]
"""A job's chips ``lo:hi`` (its instances): what one worker runs at a time."""

TaskResult = tuple[str, int, Any, str]
"""(job_id, lo, the task's results, simulator version): a whole job's results come encoded
(a ``Part``), a share of its chips as result columns the parent joins (:func:`_joined`)."""

TASKS_PER_WORKER = 8
"""No task holds more than 1/(this x workers) of a sweep's chips (:func:`split`): a one-job
sweep of 50 chips keeps every worker busy, and the last task to finish is short."""

EXECUTORS = ("local", "dask")


def default_jobs() -> int:
    from sactk.procs import cores

    return cores()


def run_one(job: Job, backend: str = "ngspice-shared") -> Result:
    """Run one job on this process's backend."""
    jid, _lo, part, version = run_task(job, 0, len(job.instances), backend)
    return jid, part, version


FAULT_ENV = warm.FAULT_ENV
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


def failed_result(job: Job, reason: str) -> Result:
    """Every point of ``job`` recorded as failed with ``reason`` (no simulator needed)."""
    jid, _lo, cols, _v = _failed_task((job, 0, len(job.instances)), reason)
    return jid, pack(cols), ""


def _failed_task(task: Task, reason: str) -> TaskResult:
    """Every point of a task recorded as failed, as result columns."""
    from sactk.sweeps.backends.recorder import Recorder

    job, lo, hi = task
    rec = Recorder(job)
    for inst in job.instances[lo:hi]:
        for v in range(1 if job.tran is not None else len(job.values)):
            rec.add(inst.mc_index, v, reason)
    return job.job_id, lo, rec.columns(), ""


def split(jobs: Sequence[Job], n: int) -> list[Task]:
    """The tasks of ``jobs`` for ``n`` workers: every job's chips in shares of at most
    1/(``TASKS_PER_WORKER`` n) of the sweep's chips, so each worker gets several tasks and
    none holds the rest waiting; a sweep of many small jobs keeps them whole. A job's rows do
    not depend on how its chips are shared out (each task loads the netlist anew; checked
    bit for bit in tests/test_sweep_engine.py)."""
    if n <= 1:
        return [(j, 0, len(j.instances)) for j in jobs]
    chips = sum(len(j.instances) for j in jobs)
    most = max(1, -(-chips // (TASKS_PER_WORKER * n)))  # chips a task may hold
    tasks: list[Task] = []
    for j in jobs:
        k = len(j.instances)
        pieces = max(1, -(-k // most))
        edges = [round(i * k / pieces) for i in range(pieces + 1)]
        tasks += [(j, lo, hi) for lo, hi in pairwise(edges) if hi > lo]
    return tasks


def run_task(job: Job, lo: int, hi: int, backend: str = "ngspice-shared") -> TaskResult:
    """Run chips ``lo:hi`` of ``job`` on this process's backend: the encoded part for the
    whole job, result columns for a share of it."""
    from dataclasses import replace

    from sactk.sweeps.backends import get_backend

    whole = lo == 0 and hi == len(job.instances)
    _injected_fault(job)
    b = get_backend("vacask" if job.simulator == "vacask" else backend)
    cols = b.run_job(job if whole else replace(job, instances=job.instances[lo:hi]))
    return job.job_id, lo, pack(cols) if whole else cols, str(getattr(b, "version", ""))


def _joined(results: Iterator[TaskResult], tasks: Sequence[Task]) -> Iterator[Result]:
    """Each job's result once all its tasks are in: shares joined in chip order, encoded."""
    import numpy as np

    expected: dict[str, int] = defaultdict(int)
    for job, _lo, _hi in tasks:
        expected[job.job_id] += 1
    held: dict[str, list[tuple[int, Any]]] = defaultdict(list)
    for jid, lo, payload, version in results:
        if isinstance(payload, Part):
            yield jid, payload, version
            continue
        held[jid].append((lo, payload))
        if len(held[jid]) < expected[jid]:
            continue
        shares = [c for _lo, c in sorted(held.pop(jid), key=lambda x: x[0])]
        cols = {
            k: np.concatenate([np.asarray(c[k]) for c in shares])
            if isinstance(shares[0][k], np.ndarray)
            else [x for c in shares for x in c[k]]
            for k in shares[0]
        }
        yield jid, pack(cols), version


def run_local(
    jobs: Sequence[Job],
    n_jobs: int | None = None,
    backend: str = "ngspice-shared",
    timeout_s: float | None = None,
    retries: int = 1,
) -> Iterator[Result]:
    """Yield each job's result as it finishes. In-process for one worker and no timeout;
    otherwise a spawned pool that survives faults (:func:`_run_pool`), Monte Carlo jobs
    split by chip when there are too few jobs to keep every worker busy (:func:`split`)."""
    n = n_jobs or default_jobs()
    if (n <= 1 or sum(len(j.instances) for j in jobs) <= 1) and timeout_s is None:
        warm.discard()
        for job in jobs:
            yield run_one(job, backend)
        return
    tasks = split(jobs, n)
    helpers = max(1, min(warm.helpers(n, timeout_s is not None), len(tasks)))
    here = helpers < n  # this process simulates too
    yield from _joined(_run_pool(tasks, helpers, backend, timeout_s, retries, here), tasks)


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
    tasks: Sequence[Task],
    n: int,
    backend: str,
    timeout_s: float | None,
    retries: int,
    here: bool = False,
) -> Iterator[TaskResult]:
    """A pool of ``n`` spawned workers that survives faults.

    * ``here``: this process runs tasks too, one at a time in a thread of its own, while
      this thread keeps the workers fed and collects their results (ngspice's calls release
      the GIL). It holds the plan and its simulator starts in 0.1 s, so a sweep gains a
      core without paying a worker's start-up. (Run between collections instead, a long
      task of its own left the workers idle: a 21-chip inner-product job kept a 2-core
      sweep at 1.4 cores.)
    * The first pool is the one :mod:`sactk.sweeps.warm` started while the sweep was
      planned, when it has ``n`` workers.
    * A worker that dies (crash, out of memory, killed) breaks the pool: every task then in
      flight is charged one attempt and queued again on a fresh pool.
    * A task running longer than ``timeout_s`` has its pool killed; it is charged an attempt,
      the other tasks in flight are queued again free. With a timeout, every new pool first
      starts its workers' simulators, so the clock counts a task's own run and not a worker's
      start-up (seconds on a loaded machine).
    * A task out of attempts (``retries`` + 1) is recorded as failed points with the reason,
      so the sweep completes and the summary names it. Finished tasks are never redone.
    """
    check_main_guard()
    queue = deque(tasks)
    limit = n if timeout_s else 2 * n  # with a timeout, a submitted task is a running task
    pool = warm.take(n)
    local = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sactk-sim") if here else None
    try:
        yield from _pool_rounds(queue, n, backend, timeout_s, retries, limit, pool, local)
    finally:
        if local is not None:
            local.shutdown(wait=False, cancel_futures=True)


def _pool_rounds(
    queue: deque[Task],
    n: int,
    backend: str,
    timeout_s: float | None,
    retries: int,
    limit: int,
    pool: Any,
    local: ThreadPoolExecutor | None,
) -> Iterator[TaskResult]:
    """The rounds of :func:`_run_pool`: one pool each, until every task has a result."""
    attempts: dict[tuple[str, int], int] = defaultdict(int)
    mine: Future[TaskResult] | None = None  # the task this process runs (thread ``local``)
    while queue or mine is not None:
        if pool is None:
            pool, warming = warm.new_pool(n, backend)
        else:
            warming = [pool.submit(warm.warm_up, backend) for _ in range(n)] if timeout_s else []
        running: dict[Future[TaskResult], tuple[Task, float]] = {}
        charged: list[tuple[Task, str]] = []
        try:
            started = True
            if timeout_s:
                _, not_done = wait(warming, timeout=max(120.0, 10 * timeout_s))
                started = not not_done
                if not started:  # workers that cannot start within minutes: report, no hang
                    charged.append((queue.popleft(), "worker did not start"))
                for w in warming:
                    with contextlib.suppress(Exception):
                        w.result(timeout=0)
            while started and (queue or running or mine is not None):
                broken = False
                while queue and len(running) < limit:
                    task = queue.popleft()
                    try:
                        fut = pool.submit(run_task, *task, backend)
                    except BrokenProcessPool:  # a worker died since the last wait
                        queue.appendleft(task)
                        broken = True
                        break
                    running[fut] = (task, time.monotonic())
                if local is not None and mine is None and queue and not broken:
                    mine = local.submit(run_task, *queue.popleft(), backend)
                waiting = set(running) | ({mine} if mine is not None else set())
                done = set() if broken else wait(waiting, 0.5, FIRST_COMPLETED)[0]
                for fut in done:
                    if fut is mine:  # errors of this process's own simulator propagate
                        mine = None
                        yield fut.result()
                        continue
                    task, _t0 = running.pop(fut)
                    try:
                        result = fut.result()
                    except BrokenProcessPool:
                        broken = True
                        charged.append((task, "worker died"))
                        continue
                    yield result
                # A worker killed while it held the pool's result-queue lock can leave the
                # pool waiting forever without noticing (seen under `kill -9`): check the
                # workers ourselves and restart the pool when one is gone.
                broken = broken or _dead_worker(pool)
                if broken:
                    charged += [(t, "worker died") for t, _ in running.values()]
                    running.clear()
                    break
                if timeout_s:
                    now = time.monotonic()
                    late = [f for f, (_t, t0) in running.items() if now - t0 > timeout_s]
                    if late:
                        for f in late:
                            charged.append((running.pop(f)[0], f"timeout after {timeout_s:g} s"))
                        queue.extendleft(t for t, _ in running.values())  # free retry
                        running.clear()
                        warm.kill(pool)
                        break
        finally:
            warm.kill(pool)
            pool = None
        for task, reason in charged:
            key = (task[0].job_id, task[1])
            attempts[key] += 1
            if attempts[key] > retries:
                yield _failed_task(task, f"{reason} ({attempts[key]} attempts)")
            else:
                queue.appendleft(task)


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

"""Worker processes started before a sweep is planned, so their start-up overlaps the parent's.

A spawned worker costs about 0.5 s before it can simulate (a fresh Python, NumPy, PySpice,
ngspice's start); planning a sweep in the parent costs about as much (the spec's models, the
cells, the plan). ``sactk sweep`` calls :func:`start` as soon as it knows the command (before
it parses the spec), and the executor takes the pool with :func:`take` when the sweep turns
out to need one; a sweep that runs in-process :func:`discard` s it. docs/benchmarks.md
("Peers") measures what this buys on a 1200-point sweep.

This module imports nothing heavy: it runs before the spec's modules are loaded.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

_POOL: Any = None
_WORKERS = 0


def warm_up(backend: str) -> str:
    """In a worker: import the backend and start its simulator (what the first job would
    otherwise pay); returns the simulator's version."""
    from sactk.sweeps.backends import get_backend

    b = get_backend(backend)
    start = getattr(b, "start", None)
    if start is not None:
        start()
    return str(getattr(b, "version", ""))


def new_pool(n: int, backend: str = "ngspice-shared") -> tuple[Any, list[Any]]:
    """A pool of ``n`` spawned workers, each already starting its simulator; returns the
    pool and the warm-up futures."""
    from sactk.procs import spawn_pool

    pool = spawn_pool(n)
    return pool, [pool.submit(warm_up, backend) for _ in range(n)]


FAULT_ENV = "SACTK_FAULT_INJECT"
"""Test-only fault injection in worker processes (:mod:`sactk.sweeps.executors`)."""


def helpers(n: int, timeout: bool) -> int:
    """Worker processes a local sweep on ``n`` cores starts. The process that plans the
    sweep also simulates (n - 1 workers), except with a timeout, which only a separate
    process can enforce, and under test fault injection, whose victims must be workers."""
    return n if timeout or os.environ.get(FAULT_ENV) else n - 1


def start(n: int) -> None:
    """Start ``n`` workers for the sweep this process is about to plan (no-op for n < 1)."""
    global _POOL, _WORKERS
    if n < 1 or _POOL is not None:
        return
    _POOL, _ = new_pool(n)
    _WORKERS = n


def started() -> bool:
    """Whether a started pool is waiting to be taken."""
    return _POOL is not None


def take(n: int) -> Any:
    """The started pool if it has ``n`` workers (the caller owns it from now on), else None;
    a pool of another size is discarded."""
    global _POOL, _WORKERS
    pool, workers = _POOL, _WORKERS
    _POOL, _WORKERS = None, 0
    if pool is not None and workers != n:
        kill(pool)
        return None
    return pool


def discard() -> None:
    """Stop a started pool nobody took."""
    global _POOL, _WORKERS
    if _POOL is not None:
        kill(_POOL)
    _POOL, _WORKERS = None, 0


def kill(pool: Any) -> None:
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
        pool._result_queue._writer.close()

"""Spawned process pools, the one way sactk starts worker processes (sweeps' workers in
sactk.sweeps.warm, figure renderers in sactk.analysis.render). Imports nothing heavy."""

from __future__ import annotations

import os
import sys
from typing import Any


def cores() -> int:
    """The cores this process may run on (its CPU affinity, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def spawn_pool(n: int, initializer: Any = None) -> Any:
    """A ProcessPoolExecutor of ``n`` spawned workers (spawn, not fork: the parent may hold
    ngspice and threads)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # The CLI ends with os._exit (sactk.cli.main), so a pool it discards after a bad-input
    # error leaves its queues' semaphores to multiprocessing's resource tracker, which
    # unlinks them and warns on stderr after the one error line. The tracker takes this
    # process's -W options when it starts: it cleans up without the warning.
    quiet = "ignore::UserWarning:multiprocessing.resource_tracker"
    if quiet not in sys.warnoptions:
        sys.warnoptions.append(quiet)
    return ProcessPoolExecutor(
        max_workers=n, mp_context=multiprocessing.get_context("spawn"), initializer=initializer
    )

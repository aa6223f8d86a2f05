"""Pieces the benchmark scripts share: temporary folders, bare ngspice, child processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def tmp_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="sactk-bench-"))


@contextmanager
def bare_ngspice() -> Iterator[Any]:
    """PySpice's NgSpiceShared alone, one thread, in its own run directory: the floor sactk's
    overhead is measured against."""
    from sactk.sweeps.backends import compat

    compat.prepare_environment()
    cls = compat.shared_class()
    rundir = tmp_dir()
    old = os.getcwd()
    os.chdir(rundir)
    try:
        ng = cls.new_instance()
        ng.exec_command("set num_threads=1")
        yield ng
    finally:
        os.chdir(old)
        shutil.rmtree(rundir, ignore_errors=True)


def run_child(code: str, counts: tuple[int, ...], case: str) -> list[dict[str, Any]]:
    """Run ``code`` in a fresh Python for each random-vector count (argv: count, results
    folder); its last stdout line is a JSON row."""
    rows = []
    for count in counts:
        out = tmp_dir()
        try:
            r = subprocess.run(
                [sys.executable, "-c", code, str(count), str(out / "r")],
                capture_output=True,
                text=True,
                check=True,
            )
            rows.append({"case": case, **json.loads(r.stdout.strip().splitlines()[-1])})
        finally:
            shutil.rmtree(out)
    return rows


def read_outputs(ng: Any, job: Any) -> list[Any]:
    """Read a job's probe vectors and its supply current after an analysis, as sactk does."""
    import numpy as np

    from sactk.sweeps.backends import compat

    vecs = [
        np.asarray(compat.read_vector(ng, compat.vector_name(p.role, p.target))) for p in job.probes
    ]
    return [*vecs, compat.read_vector(ng, compat.vector_name("current", job.supply))]

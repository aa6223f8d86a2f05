"""dask for real: a scheduler and two worker processes on localhost, as on a cluster, and
one worker killed (SIGKILL) mid-sweep. Nothing is lost and the results equal a local run's,
bit for bit."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))
import contextlib

from _cli import run

from sactk.sweeps.store import read_manifest, read_results

pytestmark = pytest.mark.ngspice
DASK = str(Path(sys.executable).parent / "dask")
SPEC = ["--preset", "mp-dc", "--set", "inputs.random.count=1200", "--set", "inputs.sweep.points=0"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [DASK, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


def test_a_worker_killed_mid_sweep_loses_nothing(tmp_path: Path) -> None:
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [_start("scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard")]
    try:
        for k in range(2):
            procs.append(
                _start(
                    "worker",
                    address,
                    "--nthreads",
                    "1",
                    "--no-nanny",
                    "--no-dashboard",
                    "--name",
                    f"w{k}",
                )
            )
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        out = tmp_path / "dask"
        sweep = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "sactk"),
                "sweep",
                *SPEC,
                "--out",
                str(out),
                "--executor",
                "dask",
                "--scheduler",
                address,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and sweep.poll() is None:
            if (out / "results.parquet").is_dir() and any((out / "results.parquet").iterdir()):
                break  # one job has finished: the others are in flight or queued
            time.sleep(0.02)
        assert sweep.poll() is None, "the sweep ended before a worker could be killed"
        os.killpg(procs[1].pid, signal.SIGKILL)  # worker w0, mid-sweep
        _, err = sweep.communicate(timeout=300)
        assert sweep.returncode == 0, err
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    man = read_manifest(out)
    assert man["summary"]["failed_points"] == 0 and man["summary"]["jobs_ok"] == 7
    local = tmp_path / "local"
    assert run("sweep", *SPEC, "--out", str(local), "--jobs", "1").returncode == 0
    pd.testing.assert_frame_equal(read_results(out), read_results(local), check_exact=True)

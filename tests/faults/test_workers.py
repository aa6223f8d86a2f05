"""Worker faults on real ngspice: a worker that dies mid-sweep (killed from outside, or
crashing inside a job) and a job that hangs past --timeout. The sweep completes, finished
jobs are never lost or redone, and what could not be computed is recorded with its reason."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))
from _cli import SACTK, job_timeout_s, run

pytestmark = pytest.mark.ngspice

ARGS = [
    "sweep",
    "--preset",
    "mp-dc",
    "--set",
    "inputs.random.count=40",
    "--set",
    "inputs.sweep.points=40",
    "--jobs",
    "2",
]


def _job_ids() -> list[str]:
    from sactk.sweeps.run import prepare
    from sactk.sweeps.spec import load_spec

    spec = load_spec(preset="mp-dc", overrides=["inputs.random.count=40", "inputs.sweep.points=40"])
    return [j.job_id for j in prepare(spec)[1]]


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def test_worker_crash_inside_a_job_is_retried(tmp_path: Path) -> None:
    victim = _job_ids()[3]
    env = {**os.environ, "SACTK_FAULT_INJECT": f"exit:{victim}", "SACTK_FAULT_DIR": str(tmp_path)}
    out = tmp_path / "r"
    r = subprocess.run(
        [SACTK, *ARGS, "--out", str(out)], env=env, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / f"{victim}.done").is_file()  # the worker really died once
    m = _manifest(out)
    assert m["summary"]["failed_points"] == 0 and m["summary"]["jobs_ok"] == len(_job_ids())
    assert m["jobs"][victim]["status"] == "ok"


def test_worker_killed_from_outside_mid_sweep(tmp_path: Path) -> None:
    out = tmp_path / "r"
    proc = subprocess.Popen(
        [SACTK, *ARGS, "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    killed = None
    deadline = time.time() + 120
    while killed is None and time.time() < deadline and proc.poll() is None:
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                stat = Path(f"/proc/{pid}/stat").read_text().split()
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if int(stat[3]) == proc.pid and b"multiprocessing" in cmd and b"spawn_main" in cmd:
                parts = list((out / "results.parquet").glob("part-*.parquet"))
                if parts:  # mid-sweep: something finished, something running
                    os.kill(int(pid), signal.SIGKILL)
                    killed = int(pid)
                    break
        time.sleep(0.05)
    _, err = proc.communicate(timeout=300)
    assert killed is not None, "no worker found to kill"
    assert proc.returncode == 0, err
    m = _manifest(out)
    assert m["summary"]["failed_points"] == 0
    assert m["summary"]["jobs_ok"] + m["summary"]["jobs_skipped"] == len(_job_ids())


def test_hung_job_times_out_and_a_rerun_retries_it(tmp_path: Path) -> None:
    """The clock starts when a worker's simulator is up, and the timeout is 10x a clean
    run's time per job measured just before (at least 5 s), so a machine loaded by other
    work stretches it as much as the jobs; a worker's start-up does not count."""
    ids = _job_ids()
    victim = ids[1]
    env = {**os.environ, "SACTK_FAULT_INJECT": f"hang:{victim}"}
    out = tmp_path / "r"
    limit = job_timeout_s(["sweep", *ARGS[1:]], tmp_path / "clean", floor_s=5.0)
    t0 = time.time()
    r = subprocess.run(
        [SACTK, *ARGS, "--timeout", f"{limit:g}", "--retries", "1", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert time.time() - t0 < 2 * limit + 300  # two attempts of the victim, not an hour
    assert r.returncode == 3, r.stderr  # some points failed: exit 3, the summary says which
    assert f"timeout after {limit:g} s (2 attempts)" in r.stderr
    m = _manifest(out)
    assert m["jobs"][victim]["status"] == "failed"
    others = [m["jobs"][j]["status"] for j in ids if j != victim]
    assert others == ["ok"] * (len(ids) - 1)  # every other job finished, none lost
    # a rerun keeps what finished and runs the failed job again (the hang is gone now)
    r = run("sweep", *ARGS[1:], "--out", str(out))
    assert r.returncode == 0 and "1 failed before and run again" in r.stdout, r.stderr
    s = _manifest(out)["summary"]
    assert s["jobs_skipped"] == len(ids) - 1 and s["jobs_retried"] == 1 and s["jobs_ok"] == 1
    assert _manifest(out)["jobs"][victim]["status"] == "ok"

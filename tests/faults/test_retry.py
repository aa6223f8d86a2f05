"""Failed points are never silent: a rerun retries them, plot/fit/report warn about them,
and a folder where nothing simulated is refused in one line. The manifest's journal keeps
every finished job through a kill, torn last line included."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))
from _cli import job_timeout_s, run

from sactk.sweeps.store import JOURNAL, read_manifest

SMALL = ["--set", "sweep.bias_a=[1e-8, 1e-6]", "--set", "inputs.random.count=4"]
# 10-point jobs run in about 20 ms once a worker's simulator is up, which is when the
# --timeout clock starts; the timeout is 10x a clean run's time per job, measured first
# (_cli.job_timeout_s), so a busy machine stretches it as much as the jobs.
SMALL += ["--set", "inputs.sweep.points=5"]


def _ids(*extra: str) -> list[str]:
    from sactk.sweeps.plan import plan
    from sactk.sweeps.spec import load_spec

    sets = [s for s in SMALL if s != "--set"] + list(extra)
    return [j.job_id for j in plan(load_spec(preset="mp-dc", overrides=sets))]


@pytest.mark.ngspice
def test_failed_points_are_reported_then_retried(tmp_path: Path) -> None:
    victim = _ids()[0]
    out = tmp_path / "r"
    hang = {**os.environ, "SACTK_FAULT_INJECT": f"hang:{victim}"}
    args = ["sweep", "--preset", "mp-dc", *SMALL, "--out", str(out)]
    limit = job_timeout_s(args[:-2], tmp_path / "clean")
    r = run(*args, "--timeout", f"{limit:g}", "--retries", "0", env=hang)
    assert r.returncode == 3 and f"timeout after {limit:g} s" in r.stderr, r.stderr
    # plot and fit go on with what simulated, and say what is missing
    r = run("plot", str(out), "--out", str(tmp_path / "p"))
    assert r.returncode == 0 and "warning:" in r.stderr and "points failed" in r.stderr
    r = run("report", str(out), "--out", str(tmp_path / "rep.html"))
    assert r.returncode == 0 and "warning:" in r.stderr
    # a rerun retries the failed job
    r = run(*args)
    assert r.returncode == 0 and "1 failed before and run again" in r.stdout, r.stderr
    assert read_manifest(out)["summary"]["failed_points"] == 0
    r = run("plot", str(out), "--out", str(tmp_path / "p2"))
    assert r.returncode == 0 and "warning" not in r.stderr


@pytest.mark.ngspice
def test_a_folder_where_nothing_simulated_is_refused(tmp_path: Path) -> None:
    (victim,) = _ids("sweep.bias_a=[1e-8]")
    out = tmp_path / "r"
    hang = {**os.environ, "SACTK_FAULT_INJECT": f"hang:{victim}"}
    args = ["sweep", "--preset", "mp-dc", *SMALL, "--set", "sweep.bias_a=[1e-8]"]
    limit = job_timeout_s(args, tmp_path / "clean")
    r = run(*args, "--out", str(out), "--timeout", f"{limit:g}", "--retries", "0", env=hang)
    assert r.returncode == 3
    for cmd in (["plot", str(out), "--out", str(tmp_path / "p")], ["fit", str(out), "--out", "m"]):
        r = run(*cmd, cwd=tmp_path)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert r.returncode == 2 and len(lines) == 1, r.stderr
        assert "no usable points" in lines[0] and "failed jobs run again" in lines[0]
    # and a rerun (the hang gone) retries the failed job: the folder is whole again
    r = run(*args, "--out", str(out))
    assert r.returncode == 0 and "1 failed before and run again" in r.stdout, r.stderr
    assert read_manifest(out)["summary"]["failed_points"] == 0


@pytest.mark.ngspice
def test_journal_is_folded_and_survives_a_torn_line(tmp_path: Path) -> None:
    out = tmp_path / "r"
    r = run("sweep", "--preset", "mp-dc", *SMALL, "--out", str(out))
    assert r.returncode == 0
    assert not (out / JOURNAL).exists()  # folded into manifest.json at the end
    full = json.loads((out / "manifest.json").read_text())
    ids = sorted(full["jobs"])
    assert len(ids) == 2
    # what a kill leaves: the manifest as the sweep opened it, a journal with one whole
    # line and one torn one
    opened = {k: v for k, v in full.items() if k not in ("jobs", "summary")} | {"jobs": {}}
    (out / "manifest.json").write_text(json.dumps(opened))
    lines = [json.dumps({"job_id": j, **full["jobs"][j]}) for j in ids]
    (out / JOURNAL).write_text(lines[0] + "\n" + lines[1][: len(lines[1]) // 2])
    assert sorted(read_manifest(out)["jobs"]) == ids[:1]
    r = run("sweep", "--preset", "mp-dc", *SMALL, "--out", str(out))
    assert r.returncode == 0 and "1 ok, 0 with failures, 1 already done" in r.stdout
    assert sorted(read_manifest(out)["jobs"]) == ids and not (out / JOURNAL).exists()

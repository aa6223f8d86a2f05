"""Transfer curves by one ngspice dc analysis per chip: which rows qualify, that the planner
keeps a curve in one job, that dc agrees with one operating point per point, and that a
failed dc analysis falls back to operating points."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sactk.sweeps.backends.ngspice_shared import NgspiceSharedBackend, dc_schedule, instance
from sactk.sweeps.plan import Job, _row_slices, plan
from sactk.sweeps.spec import load_spec


def _job(values: np.ndarray, pattern: list[str]) -> Job:
    return Job(
        job_id="x",
        netlist="",
        netlist_hash="",
        ngbehavior=None,
        coords={},
        sources=tuple(f"iin{k}" for k in range(values.shape[1])),
        values=values,
        point_columns={"pattern": np.array(pattern, dtype=object)},
        probes=(),
    )


def test_schedule_finds_linear_one_source_runs() -> None:
    rnd = np.random.default_rng(0).uniform(0, 1, (4, 3))
    curve = np.column_stack([np.linspace(0, 3, 9), np.ones(9), np.full(9, 2.0)])
    job = _job(np.vstack([rnd, curve, rnd]), ["random"] * 4 + ["sweep"] * 9 + ["random"] * 4)
    assert dc_schedule(job) == [(0, 4, -1), (4, 13, 0), (13, 17, -1)]
    two = curve.copy()
    two[:, 1] = np.linspace(1, 2, 9)  # two sources move together: not one dc analysis
    assert dc_schedule(_job(two, ["sweep"] * 9)) == [(0, 9, -1)]
    bent = curve.copy()
    bent[:, 0] = np.linspace(0, 3, 9) ** 2  # uneven steps
    assert dc_schedule(_job(bent, ["sweep"] * 9)) == [(0, 9, -1)]
    assert dc_schedule(_job(curve[:2], ["sweep"] * 2)) == [(0, 2, -1)]  # too short to bother


def test_planner_keeps_each_curve_in_one_job() -> None:
    """50 chips allow 80 vectors per job: a cut at 80 inside the curve moves to its end; a
    cut among random vectors stays."""
    curve_cut = np.array(["random"] * 30 + ["sweep"] * 81, dtype=object)
    assert [(s.start, s.stop) for s in _row_slices(curve_cut, 50)] == [(0, 111)]
    random_cut = np.array(["random"] * 100 + ["sweep"] * 10, dtype=object)
    assert [(s.start, s.stop) for s in _row_slices(random_cut, 50)] == [(0, 80), (80, 110)]


def _jobs() -> list[Job]:
    spec = load_spec(
        preset="mp-mc",
        overrides=[
            "sweep.bias_a=[1e-8, 1e-6]",
            "sweep.temp_c=[27, 125]",
            "mc.instances=3",
            "inputs.random.count=4",
            "inputs.sweep.points=21",
        ],
    )
    return plan(spec)


def _run(be: NgspiceSharedBackend, jobs: list[Job], use_dc: bool) -> list[dict[str, Any]]:
    be.use_dc = use_dc
    try:
        return [be.run_job(j) for j in jobs]
    finally:
        be.use_dc = True


@pytest.mark.ngspice
def test_dc_agrees_with_operating_points() -> None:
    """Same rows, same statuses, currents within 1e-4 of the bias (measured: about 2e-5)."""
    jobs = _jobs()
    assert any(c >= 0 for j in jobs for _, _, c in dc_schedule(j))
    be = instance()
    op, dc = _run(be, jobs, False), _run(be, jobs, True)
    for a, b, job in zip(op, dc, jobs, strict=True):
        assert list(a["status"]) == list(b["status"]) and set(a["status"]) == {"ok"}
        assert np.array_equal(a["mc_index"], b["mc_index"])
        for col in ("out_z_a", "power_w"):
            d = np.abs(np.asarray(a[col]) - np.asarray(b[col]))
            scale = job.coords["bias_a"] if col.endswith("_a") else np.abs(a[col]).max()
            assert np.max(d) / scale < 1e-4, (col, job.coords)


@pytest.mark.ngspice
def test_a_failed_dc_analysis_falls_back_to_operating_points(monkeypatch: Any) -> None:
    jobs = _jobs()[:1]
    be = instance()
    op = _run(be, jobs, False)
    monkeypatch.setattr(be, "_dc", lambda *a: "dc sweep: no convergence (injected)")
    fallback = _run(be, jobs, True)
    for col in ("out_z_a", "status"):
        assert list(op[0][col]) == list(fallback[0][col])

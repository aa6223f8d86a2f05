"""Workflows on the simulator: load a spec, run a sweep into a results folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sactk.api.reporter import Quiet, Reporter
from sactk.errors import SpecError


def load(
    spec: str | Path | None = None,
    *,
    preset: str | None = None,
    text: str | None = None,
    overrides: list[str] | None = None,
    updates: dict[str, Any] | None = None,
) -> Any:
    """A validated ``SweepSpec`` from a TOML file, a built-in preset or TOML ``text``, with
    ``--set``-style ``overrides`` (``["sweep.temp_c=[85]"]``) and typed ``updates``
    (``{"sweep.temp_c": [85.0]}``: values as they are, never formatted into text)."""
    from sactk.sweeps.spec import load_spec

    if sum(x is not None for x in (spec, preset, text)) != 1:
        raise SpecError("spec: give one of a spec file, --preset NAME or TOML text")
    return load_spec(spec, preset=preset, text=text, overrides=overrides or [], updates=updates)


def presets() -> dict[str, str]:
    """Built-in spec names and their one-line descriptions."""
    import tomllib

    from sactk.sweeps.spec import preset_names, preset_text

    return {n: tomllib.loads(preset_text(n)).get("description", "") for n in preset_names()}


def preset_text(name: str) -> str:
    """The TOML text of built-in preset ``name`` (a start for one's own spec)."""
    from sactk.sweeps.spec import preset_text as _text

    return _text(name)


def start_workers(cores: int, timeout: bool = False) -> None:
    """Start the worker processes of a local sweep on ``cores`` cores now, before its spec
    is parsed and planned, so their start-up overlaps this process's (``sactk sweep`` does;
    docs/sweeps.md "Executors"). :func:`sweep` takes them if the sweep needs a pool of that
    size; :func:`stop_workers` ends them otherwise. ``timeout``: the sweep has a job timeout
    (then this process does not simulate, and one more worker is started)."""
    if cores < 2:
        return
    from sactk.sweeps import warm

    warm.start(warm.helpers(cores, timeout))


def stop_workers() -> None:
    """End workers :func:`start_workers` started and no sweep took (cheap when none)."""
    import sys

    warm = sys.modules.get("sactk.sweeps.warm")
    if warm is not None:
        warm.discard()


def describe(summary: Any) -> str:
    """One line: points, speed, jobs and failures of a finished sweep."""
    s = summary
    return (
        f"{s.points} points in {s.wall_s:.1f} s ({s.points_per_s:.0f} points/s, "
        f"{s.executor} executor, {s.workers} worker{'s' if s.workers != 1 else ''}); "
        f"jobs: {s.jobs_ok} ok, {s.jobs_failed} with failures, {s.jobs_skipped} already done"
        + (f", {s.jobs_retried} failed before and run again" if s.jobs_retried else "")
        + f"; {s.failed_points} points failed -> {s.out}"
    )


def sweep(
    spec: Any,
    out: str | Path,
    *,
    jobs: int | None = None,
    keep_netlists: bool = False,
    executor: str = "local",
    scheduler: str | None = None,
    timeout_s: float | None = None,
    retries: int = 1,
    reporter: Reporter | None = None,
) -> Any:
    """Run ``spec`` (a ``SweepSpec``, see :func:`load`) into ``out``; resumes a folder that
    holds the same spec. Returns the ``SweepSummary``; reports its line and the first failed
    points. Bad input fails before anything is written."""
    from sactk.sweeps.executors import EXECUTORS
    from sactk.sweeps.run import prepare, refuse_stale, run_sweep
    from sactk.sweeps.store import ResultsStore

    rep = reporter or Quiet()
    out = Path(out)
    if executor not in EXECUTORS:
        raise SpecError(f"--executor: unknown {executor!r}; use one of {', '.join(EXECUTORS)}")
    tech = spec.tech.technology()
    _compile_models(spec, tech, rep)
    prepared = prepare(spec, tech)  # bad input fails here, before any output or progress bar
    refuse_stale(ResultsStore(out), spec.to_dict(), {j.job_id for j in prepared[1]})
    if timeout_s is not None and not timeout_s > 0:
        raise SpecError(f"--timeout {timeout_s:g}: give a positive number of seconds")
    with rep.progress("sweep", "points") as progress:
        summary = run_sweep(
            spec,
            out,
            n_jobs=jobs,
            executor=executor,
            scheduler=scheduler,
            keep_netlists=keep_netlists,
            progress=progress,
            prepared=prepared,
            timeout_s=timeout_s,
            retries=retries,
        )
    rep.message(describe(summary))
    for f in summary.failures[:10]:
        where = " ".join(f"{k}={v}" for k, v in f.items() if k != "status" and v is not None)
        rep.error(f"  failed: {where}: {f['status']}")
    return summary


def _compile_models(spec: Any, tech: Any, rep: Reporter) -> None:
    """A VACASK technology's Verilog-A model is compiled on first use (BSIM-CMG takes about
    30 s); say so before it happens rather than sit silent. Cached after (docs/ngspice.md)."""
    if (spec.sim.name or tech.simulators[0]) == "vacask" and tech.vacask_osdi.endswith(".va"):
        from sactk.sweeps.backends import vacask

        vacask.module_files(tech, progress=rep.message)


def sweep_preset(
    preset: str,
    out: str | Path,
    overrides: list[str] | None = None,
    *,
    updates: dict[str, Any] | None = None,
    jobs: int | None = None,
    reporter: Reporter | None = None,
) -> Any:
    """:func:`sweep` of a built-in preset with ``--set`` overrides and typed updates."""
    spec = load(preset=preset, overrides=overrides, updates=updates)
    return sweep(spec, out, jobs=jobs, reporter=reporter)


def crosscheck(
    results: str | Path,
    points: int = 30,
    *,
    seed: int = 0,
    out: str | Path | None = None,
    reporter: Reporter | None = None,
) -> Any:
    """Re-run a seeded sample of ``points`` nominal DC points of a results folder in VACASK
    (sactk.sweeps.crosscheck) and compare. Returns the per-point DataFrame (ngspice's and
    VACASK's value of every output column, ``err_fs``); writes it to ``out`` (CSV) if given."""
    from sactk.files import write_csv
    from sactk.sweeps.crosscheck import crosscheck as _crosscheck

    if points < 1:
        raise SpecError(f"crosscheck: --points {points}; give at least 1")
    rep = reporter or Quiet()
    with rep.progress("VACASK", "jobs") as progress:
        res = _crosscheck(results, points, seed, progress=progress)
    worst = float(res["err_fs"].max())
    rep.message(
        f"{len(res)} points re-run in VACASK: largest |VACASK - ngspice| of an output current "
        f"{100 * worst:.2g} % of full scale"
        + ("" if res["netlist_same"].all() else "; some netlists differ from the recorded ones")
    )
    if out is not None:
        write_csv(Path(out), res)
    return res

"""Workflows on results folders: plots and metric tables, the HTML report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sactk.api.reporter import Quiet, Reporter
from sactk.files import write_csv


def warn_failed(res: Any, reporter: Reporter | None) -> None:
    """Say so when a results folder holds failed points (``res``: analysis Results)."""
    note = res.failure_note()
    if note:
        (reporter or Quiet()).error(f"warning: {note}")


@dataclass
class Characterization:
    """What :func:`plot` made: the files and the metric tables (DataFrames by name)."""

    paths: list[Path] = field(default_factory=list)
    tables: dict[str, Any] = field(default_factory=dict)
    coordinates: list[str] = field(default_factory=list)
    """The results' condition columns (corner, supply, size, swept cell parameters, ...)."""


def plot(
    results: str | Path,
    out: str | Path,
    model: str | Path | None = None,
    *,
    reporter: Reporter | None = None,
) -> Characterization:
    """Characterization plots of a results folder (PNG and PDF) into ``out``, its metric
    tables as CSV beside them, and with ``model`` that lookup model's residuals on it.
    Failed points are left out, with a warning; a folder with none that simulated is a
    SpecError."""
    from sactk.analysis import render
    from sactk.analysis.metrics import summary_tables
    from sactk.analysis.modelplots import plot_chip_errors, plot_residuals
    from sactk.analysis.plots import plot_all
    from sactk.analysis.results import load_results

    out = Path(out)
    res = load_results(results)
    warn_failed(res, reporter)
    df = res.frame
    with render.in_parallel():
        paths = plot_all(df, out)
        if model is not None:
            from sactk.analysis.model import load_model

            m = load_model(model)
            paths += plot_residuals(m, df, out) + plot_chip_errors(m, df, out, "model_chips")
        tables = summary_tables(df)
        from sactk.analysis.smallsignal import small_signal

        extra, plots = small_signal(df, res.manifest, out)  # [noise] and [ac] sweeps
        paths += plots
    tables.update({k: v for k, v in extra.items() if not v.empty})
    for name, table in tables.items():
        paths.append(write_csv(out / f"{name}.csv", table))
    from sactk.analysis.metrics import conditions

    return Characterization(paths, tables, conditions(df))


def accuracy_and_collapse(results: str | Path, plots_dir: str | Path) -> dict[str, Any]:
    """Accuracy and bias-collapse tables of a results folder (records), plus its plots."""
    from sactk.analysis import metrics
    from sactk.analysis.plots import plot_all
    from sactk.analysis.results import load_results

    df = load_results(results).frame
    acc = metrics.accuracy(df)
    col = metrics.collapse(df)
    col30 = metrics.collapse(df, bias_min_a=30e-9)
    plot_all(df, Path(plots_dir))
    return {
        "accuracy": acc.to_dict(orient="records"),
        "collapse": col.to_dict(orient="records"),
        "collapse_from_30nA": col30.to_dict(orient="records"),
    }


def spread_and_speed(results: str | Path, plots_dir: str | Path) -> dict[str, Any]:
    """Monte Carlo spread and speed/power tables of a results folder (records, the ones
    that apply), plus their plots."""
    from sactk.analysis import metrics
    from sactk.analysis.plots import plot_monte_carlo, plot_speed_power
    from sactk.analysis.results import load_results

    df = load_results(results).frame
    plots_dir = Path(plots_dir)
    plot_monte_carlo(df, plots_dir)
    plot_speed_power(df, plots_dir)
    out: dict[str, Any] = {}
    for name, table in (
        ("mc_spread", metrics.mc_spread(df)),
        ("speed_power", metrics.speed_power(df)),
    ):
        if not table.empty:
            out[name] = table.to_dict(orient="records")
    return out


def report(
    results: list[str | Path] | list[Path],
    out: str | Path,
    models: list[Path] | None = None,
    *,
    title: str = "",
    extra: list[tuple[str, Path]] | None = None,
    reporter: Reporter | None = None,
    ready: dict[Path, Any] | None = None,
) -> Path:
    """One self-contained HTML page of results folders, lookup models and experiment
    folders (``extra``: (title, folder) with summary.csv and PNG plots). A folder with
    failed points gets a warning (the page says how many); one with none that simulated is a
    SpecError. ``ready``: sections built ahead (sactk.analysis.report.results_parts)."""
    from sactk.analysis.report import write_report
    from sactk.sweeps.store import read_manifest

    for r in results:
        failed = sum(int(j.get("failed", 0)) for j in read_manifest(r).get("jobs", {}).values())
        if failed:
            (reporter or Quiet()).error(
                f"warning: {r}: {failed} points failed; the report leaves them out. Rerun the "
                f"same `sactk sweep` into {r}: failed jobs run again"
            )
    return write_report([Path(r) for r in results], Path(out), models or [], title, extra, ready)

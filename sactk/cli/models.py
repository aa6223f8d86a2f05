"""The model commands: ``fit`` (with its validation printout) and ``refine`` (adaptive
characterization)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from sactk import api
from sactk.cli.console import Console
from sactk.cli.root import app


@app.command()
def fit(
    results: Annotated[Path, typer.Argument(help="Results directory of `sactk sweep`.")],
    out: Annotated[Path, typer.Option(help="Model path stem: writes OUT.npz and OUT.json.")],
    validate: Annotated[
        Path | None,
        typer.Option(
            help="A second results directory (new vectors, other conditions): its figures "
            "become the model's validation."
        ),
    ] = None,
    folds: Annotated[
        int, typer.Option(help="Folds of the input vectors for held-out validation (2 or more).")
    ] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the fold split.")] = 0,
    output: Annotated[
        str | None, typer.Option(help="Result column to model (default: the cell's output).")
    ] = None,
    knots: Annotated[
        int, typer.Option(min=2, help="Lookup models: knots in the input coordinate.")
    ] = 32,
    smoothing: Annotated[float, typer.Option(min=0.0, help="Curvature penalty.")] = 1e-2,
    kind: Annotated[
        str,
        typer.Option(
            help="mp: MP units with the cell's real inputs (MP, inner product); lookup: a "
            "table against one coordinate; inputs: a table of the cell's own 1 to 3 inputs "
            "(a user subcircuit's drop-in model); auto: inputs for a user subcircuit, mp "
            "where the cell has MP units, else lookup."
        ),
    ] = "auto",
    noise: Annotated[
        Path | None,
        typer.Option(
            help="A noise sweep of the same cell (its spec has a noise table): the model's "
            "output noise terms come from it (default: the results' own noise rows, if any)."
        ),
    ] = None,
) -> None:
    """Fit a model of a cell's output (per chip with Monte Carlo results) on every point,
    and measure it where it did not fit: new input vectors (k-fold, worst fold), each
    interior temperature and bias left out, and --validate DIR. All of it goes into
    OUT.json (validation, cross_validation, conditions_left_out)."""
    model, path = api.fit(
        results,
        out,
        validate=validate,
        folds=folds,
        seed=seed,
        output=output,
        knots=knots,
        smoothing=smoothing,
        kind=kind,
        noise=noise,
        reporter=Console(),
    )
    r = model.ranges()
    what = {
        "lookup": f"against {model.coordinate_}, {len(getattr(model, 'u_knots_', []))} knots",
        "inputs": f"table of inputs {', '.join(getattr(model, 'inputs_', []))}",
    }.get(model.kind, f"MP units on inputs {', '.join(getattr(model, 'inputs_', []))}")
    typer.echo(
        f"{path}: {model.cell_}.{model.output_} {what} x {len(model.log_bias_)} biases "
        f"({r['bias_a'][0]:.3g}..{r['bias_a'][1]:.3g} A) x {len(model.temp_c_)} temperatures "
        f"x {len(model.corners_)} corners"
        + (f", {len(model.chip_ids_)} chips" if len(model.chip_ids_) else "")
    )
    for line in validation_lines(model.meta_):
        typer.echo(line)


def validation_lines(meta: dict[str, Any]) -> list[str]:
    """What ``fit`` prints of a model's validation record (MODEL.json), in % of full scale."""
    out = []
    noise = api.models.noise_line(meta)
    if noise:
        out.append(noise)
    cv = meta.get("cross_validation")
    if cv:
        chips = f" (nominal and {cv['chips']} chips)" if cv["chips"] else ""
        out.append(
            f"new input vectors, worst of {cv['folds']} folds{chips}: max "
            f"{100 * cv['max_err_fs']:.3f} %, worst RMS {100 * cv['worst_rms_err_fs']:.3f} % "
            "of full scale"
        )
    loco = meta.get("conditions_left_out") or {}
    for r in loco.get("per_condition", []):
        unit = "C" if r["axis"] == "temp_c" else "A"
        out.append(
            f"  {r['axis']} {r['value']:g} {unit} left out: max {100 * r['max_err_fs']:.3f} %, "
            f"worst RMS {100 * r['worst_rms_err_fs']:.3f} %"
        )
    if loco.get("max_err_fs") is not None:
        out.append(
            f"conditions left out: worst max {100 * loco['max_err_fs']:.3f} % (between fitted "
            f"conditions about {100 * loco['estimated_between_grid_max_err_fs']:.3f} %: an "
            "estimate, a quarter of it)"
        )
    v = meta.get("validation")
    if v and v["how"].startswith("separate"):
        line = (
            f"validation ({v['how']}): {v['points']} points, max |error| "
            f"{100 * v['max_err_fs']:.3f} % of full scale, RMS {100 * v['rms_err_fs']:.4f} %"
        )
        out.append(line)
        if "chips" in v:
            c = v["chips"]
            out.append(
                f"  per chip: {c['points']} points, max {100 * c['max_err_fs']:.2f} %, worst "
                f"chip RMS {100 * c['worst_chip_rms_err_fs']:.3f} %, worst RMS of a chip at "
                f"an operating point {100 * c['rms_err_fs']:.3f} % of full scale"
            )
    return out


@app.command()
def refine(
    spec: Annotated[Path | None, typer.Argument(help="Sweep spec (TOML): the start.")] = None,
    preset: Annotated[str | None, typer.Option(help="Built-in spec (see `sactk presets`).")] = None,
    out: Annotated[Path, typer.Option(help="Folder of the rounds and the model.")] = Path(
        "refine-out"
    ),
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a spec key: section.key=TOML value."),
    ] = None,
    target_pct: Annotated[
        float, typer.Option(help="Worst left-out-condition error to reach, % of full scale.")
    ] = 0.3,
    max_points: Annotated[int, typer.Option(help="Point budget over all rounds.")] = 200_000,
    kind: Annotated[str, typer.Option(help="Model kind: auto, mp, lookup or inputs.")] = "auto",
    jobs: Annotated[int | None, typer.Option(min=1, help="Worker processes.")] = None,
) -> None:
    """Characterize a cell to an accuracy: sweep, fit, leave each interior temperature and
    bias out, and add conditions where the model misses most, until the target or the point
    budget. Resumes like a sweep; DIR/model is the final model, DIR/refine.json the rounds."""
    r = api.refine(
        spec,
        out,
        preset=preset,
        overrides=set_ or [],
        target_fs=target_pct / 100.0,
        max_points=max_points,
        kind=kind,
        jobs=jobs,
        reporter=Console(),
    )
    for k, rd in enumerate(r.rounds):
        worst = rd["left_out_max_err_fs"]
        shown = "n/a" if worst is None else f"{100 * worst:.3f} %"
        typer.echo(
            f"round {k}: +{len(rd['temp_c'])} temperatures x {len(rd['bias_a'])} biases, "
            f"{rd['points']} points; worst left-out condition {shown}"
        )
    typer.echo(
        f"stopped: {r.stopped}; {r.points} points in {len(r.rounds)} rounds -> {r.model_path}"
    )
    for line in validation_lines(r.model.meta_):
        typer.echo(line)

"""The ``sactk`` command line.

Exit codes: 0 success; 2 bad input (one line naming the field and the fix); 3 finished but
some points failed (the summary lists them); 1 internal error (``--debug`` shows the trace).
Heavy libraries are imported inside the commands that need them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from sactk.errors import SactkError

app = typer.Typer(
    name="sactk",
    help="Characterize analog ML compute cells on ngspice and carry the results up to ML.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_STATE = {"debug": False}


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    _STATE["debug"] = debug


def _err(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)


@app.command()
def presets() -> None:
    """List the built-in sweep specs."""
    import tomllib

    from sactk.sweeps.spec import preset_names, preset_text

    for name in preset_names():
        desc = tomllib.loads(preset_text(name)).get("description", "")
        typer.echo(f"{name:<16} {desc}")


def _load(spec: Path | None, preset: str | None, overrides: list[str]) -> Any:
    from sactk.errors import SpecError
    from sactk.sweeps.spec import load_spec

    if (spec is None) == (preset is None):
        raise SpecError("spec: give a spec file or --preset NAME (not both)")
    return load_spec(spec, preset=preset, overrides=overrides)


def _sweep_with_progress(
    spec: Any,
    out: Path,
    jobs: int | None,
    keep: bool,
    executor: str = "local",
    scheduler: str | None = None,
    timeout_s: float | None = None,
    retries: int = 1,
) -> Any:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from sactk.errors import SpecError
    from sactk.sweeps.run import prepare, run_sweep
    from sactk.sweeps.store import ResultsStore

    prepared = prepare(spec)  # bad input fails here, before any output or progress bar
    ResultsStore(out).check(spec.to_dict())
    if timeout_s is not None and not timeout_s > 0:
        raise SpecError(f"--timeout {timeout_s:g}: give a positive number of seconds")
    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]sweep[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("points"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("sweep", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        summary = run_sweep(
            spec,
            out,
            n_jobs=jobs,
            executor=executor,
            scheduler=scheduler,
            keep_netlists=keep,
            progress=progress,
            prepared=prepared,
            timeout_s=timeout_s,
            retries=retries,
        )
    return summary


def _print_summary(summary: Any) -> None:
    s = summary
    typer.echo(
        f"{s.points} points in {s.wall_s:.1f} s ({s.points_per_s:.0f} points/s, "
        f"{s.executor} executor, {s.workers} worker{'s' if s.workers != 1 else ''}); "
        f"jobs: {s.jobs_ok} ok, {s.jobs_failed} with failures, {s.jobs_skipped} already done; "
        f"{s.failed_points} points failed -> {s.out}"
    )
    for f in s.failures[:10]:
        where = " ".join(f"{k}={v}" for k, v in f.items() if k != "status" and v is not None)
        typer.echo(f"  failed: {where}: {f['status']}", err=True)


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
        typer.Option(help="dask scheduler address (tcp://host:8786); none: a LocalCluster."),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(help="Seconds a job may run before its worker is killed and it is retried."),
    ] = None,
    retries: Annotated[
        int, typer.Option(min=0, max=10, help="Retries of a job whose worker died or timed out.")
    ] = 1,
) -> None:
    """Run a sweep with a progress bar; resumes into an existing DIR."""
    from sactk.errors import SpecError
    from sactk.sweeps.executors import EXECUTORS

    if executor not in EXECUTORS:
        raise SpecError(f"--executor: unknown {executor!r}; use one of {', '.join(EXECUTORS)}")
    s = _load(spec, preset, set_ or [])
    summary = _sweep_with_progress(
        s, out, jobs, keep_netlists, executor, scheduler, timeout_s=timeout, retries=retries
    )
    _print_summary(summary)
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
    from sactk.analysis.metrics import summary_tables
    from sactk.analysis.plots import plot_all, plot_residuals
    from sactk.sweeps.store import read_results

    df = read_results(results)
    paths = plot_all(df, out)
    if model is not None:
        from sactk.analysis.lut import LookupModel

        paths += plot_residuals(LookupModel.load(model), df, out)
    for p in paths:
        typer.echo(str(p))
    shown = {
        "accuracy": ["temp_c", "bias_a", "points", "max_abs_err_pct", "rms_err_pct"],
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
    for name, table in summary_tables(df).items():
        path = out / f"{name}.csv"
        table.to_csv(path, index=False)
        typer.echo(str(path))
        if name in shown:
            typer.echo(
                f"\n{name}:\n" + table[shown[name]].to_string(index=False, float_format="%.4g")
            )


def fit_model(
    results: Path,
    out: Path,
    validate: Path | None = None,
    holdout: float = 0.2,
    seed: int = 0,
    output: str | None = None,
    knots: int = 32,
    smoothing: float = 1e-2,
) -> tuple[Any, Path]:
    """Fit a LookupModel on ``results``, validate it, save it and its residual plot."""
    from sactk.analysis.lut import LookupModel, holdout_split, model_stem
    from sactk.analysis.plots import plot_residuals
    from sactk.errors import SpecError
    from sactk.sweeps.store import read_manifest, read_results, tool_versions

    df = read_results(results)
    man = read_manifest(results)
    meta: dict[str, Any] = {"results": str(results)}
    if validate is not None:
        train, test = df, read_results(validate)
        if set(test["cell"].unique()) != set(df["cell"].unique()):
            raise SpecError(f"fit: --validate {validate} holds another cell; give the same cell")
        how = f"separate results {validate}"
        meta["validated_on"] = str(validate)
    else:
        train, test = holdout_split(df, holdout, seed)
        how = f"{holdout:g} of the input vectors held out (seed {seed})"
        meta["validated_on"] = str(results)
        meta["holdout"] = {"fraction": holdout, "seed": seed}
    model = LookupModel(output=output, knots=knots, smoothing=smoothing).fit(train)
    model.validate(test, how)
    meta.update(
        technology=man.get("technology"),
        spec=man.get("spec"),
        seeds=man.get("seeds"),
        versions={**man.get("versions", {}), **{"fit_" + k: v for k, v in tool_versions().items()}},
        netlist_hashes=sorted({j.get("netlist_hash", "") for j in man.get("jobs", {}).values()}),
    )
    path = model.save(out, meta)
    stem = model_stem(out)
    plot_residuals(model, test, stem.parent, f"{stem.name}.residuals")
    return model, path


@app.command()
def fit(
    results: Annotated[Path, typer.Argument(help="Results directory of `sactk sweep`.")],
    out: Annotated[Path, typer.Option(help="Model path stem: writes OUT.npz and OUT.json.")],
    validate: Annotated[
        Path | None,
        typer.Option(help="Validate on this second results directory instead of a holdout."),
    ] = None,
    holdout: Annotated[
        float, typer.Option(help="Fraction of input vectors held out for validation.")
    ] = 0.2,
    seed: Annotated[int, typer.Option(help="Seed of the holdout draw.")] = 0,
    output: Annotated[
        str | None, typer.Option(help="Result column to model (default: the cell's output).")
    ] = None,
    knots: Annotated[int, typer.Option(min=2, help="Knots in the input coordinate.")] = 32,
    smoothing: Annotated[float, typer.Option(min=0.0, help="Curvature penalty.")] = 1e-2,
) -> None:
    """Fit a bias-normalized lookup model of a cell's output and validate it on held-out
    points; the error goes into OUT.json as validation.max_err_fs and rms_err_fs."""
    model, path = fit_model(results, out, validate, holdout, seed, output, knots, smoothing)
    v = model.meta_["validation"]
    r = model.ranges()
    typer.echo(
        f"{path}: {model.cell_}.{model.output_} against {model.coordinate_}, "
        f"{len(model.u_knots_)} knots x {len(model.log_bias_)} biases "
        f"({r['bias_a'][0]:.3g}..{r['bias_a'][1]:.3g} A) x {len(model.temp_c_)} temperatures "
        f"x {len(model.corners_)} corners"
        + (f", {len(model.chip_ids_)} chips" if len(model.chip_ids_) else "")
    )
    typer.echo(
        f"validation ({v['how']}): {v['points']} points, max |error| "
        f"{100 * v['max_err_fs']:.3f} % of full scale, RMS {100 * v['rms_err_fs']:.4f} %"
    )
    if "chips" in v:
        c = v["chips"]
        typer.echo(
            f"  per-chip tables: {c['points']} points, max {100 * c['max_err_fs']:.2f} %, "
            f"RMS {100 * c['rms_err_fs']:.3f} % of full scale"
        )


@app.command("export")
def export_cmd(
    model: Annotated[Path, typer.Argument(help="Model written by `sactk fit` (stem or .json).")],
    fmt: Annotated[
        str, typer.Option("--format", help="csv, json, verilog-a (a folder) or ngspice.")
    ],
    out: Annotated[Path, typer.Option(help="Output file (folder for verilog-a).")],
) -> None:
    """Write a lookup model for other tools."""
    from sactk.analysis.export import FORMATS, export
    from sactk.analysis.lut import LookupModel
    from sactk.errors import SpecError

    if fmt not in FORMATS:
        raise SpecError(f"export: --format {fmt!r} unknown; choose one of {', '.join(FORMATS)}")
    for p in export(LookupModel.load(model), fmt, out):
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
    from sactk.analysis.report import write_report

    typer.echo(str(write_report(results, out, model or [])))


@app.command()
def regress(
    out: Annotated[Path, typer.Option(help="Folder for summary.json, summary.csv and plots.")],
    dataset: Annotated[
        str | None, typer.Option(help="Built-in data: sinc, surface or diabetes.")
    ] = None,
    data: Annotated[Path | None, typer.Option(help="A CSV with a header row.")] = None,
    target: Annotated[str | None, typer.Option(help="The CSV's target column.")] = None,
    hidden: Annotated[int, typer.Option(min=1, max=4096, help="Hidden S-AC neurons.")] = 64,
    model: Annotated[
        Path,
        typer.Option(
            help="Folder with inner_product and tanh lookup models and timing.csv "
            "(what `sactk demo` writes to demo-out/models)."
        ),
    ] = Path("demo-out/models"),
    chips: Annotated[int, typer.Option(min=1, max=1000, help="Monte Carlo chips.")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of weights, split and chips.")] = 0,
    gain: Annotated[
        float, typer.Option(min=0.1, max=100.0, help="Mirror gain between inner product and tanh.")
    ] = 4.0,
    ridge_lambda: Annotated[
        float, typer.Option("--ridge", min=0.0, help="Ridge penalty (relative).")
    ] = 1e-4,
    quantize_bits: Annotated[
        int,
        typer.Option(help="Store weights through the compressive memory's law (bits; 0: off)."),
    ] = 0,
) -> None:
    """S-AC regression across bias, temperature and chips on characterized lookup models:
    R2 and RMSE (mean and spread over chips), energy per inference and throughput."""
    from sactk.errors import SpecError
    from sactk.system.datasets import load_csv, load_dataset
    from sactk.system.regression import load_models

    if data is not None and dataset is not None:
        raise SpecError("regress: give --dataset or --data, not both")
    if data is not None:
        if not target:
            raise SpecError("--target: name the CSV's target column (--target COLUMN)")
        ds = load_csv(data, target)
    else:
        if target:
            raise SpecError("--target applies to --data FILE.csv only")
        ds = load_dataset(dataset or "sinc", seed=seed)
    summary = regress_run(
        ds, load_models(model), out, hidden, chips, seed, gain, ridge_lambda, quantize_bits
    )
    cols = [
        "bias_a",
        "temp_c",
        "r2_mean",
        "r2_std",
        "r2_float_mean",
        "rmse_mean",
        "energy_j",
        "throughput_hz",
    ]
    typer.echo(summary[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    typer.echo(f"summary: {out / 'summary.json'}, plots: {out}")


def regress_run(
    ds: Any,
    models: Any,
    out: Path,
    hidden: int,
    chips: int,
    seed: int,
    gain: float,
    ridge_lambda: float,
    quantize_bits: int,
) -> Any:
    """Run the experiment, write summary.json, summary.csv and the plots; return the rows."""
    import hashlib

    from sactk.analysis.plots import plot_regression, plot_regression_fit
    from sactk.sweeps.store import _atomic_write_bytes, tool_versions
    from sactk.system.regression import run

    typer.echo(
        f"{ds.description}: {len(ds.y)} rows, {len(ds.features)} features; "
        f"{hidden} hidden S-AC neurons x {chips} chips"
    )
    rows, details = run(
        ds,
        models,
        hidden=hidden,
        chips=chips,
        seed=seed,
        gain=gain,
        lam=ridge_lambda,
        quantize_bits=quantize_bits,
    )
    out.mkdir(parents=True, exist_ok=True)
    model_info = {}
    for k, v in models.source.items():
        p = Path(v + ".npz") if k != "timing" else Path(v)
        model_info[k] = {
            "path": v,
            "sha256": hashlib.sha256(p.read_bytes()).hexdigest() if v and p.is_file() else "",
        }
    doc = {
        "dataset": {
            "name": ds.name,
            "description": ds.description,
            "rows": len(ds.y),
            "features": list(ds.features),
            "target": ds.target,
            **ds.meta,
        },
        "hidden": hidden,
        "chips": chips,
        "seed": seed,
        "gain": gain,
        "ridge": ridge_lambda,
        "quantize_bits": quantize_bits,
        "models": model_info,
        "versions": tool_versions(),
        "rows": rows.to_dict(orient="records"),
    }
    _atomic_write_bytes(out / "summary.json", (json.dumps(doc, indent=1) + "\n").encode())
    rows.to_csv(out / "summary.csv", index=False)
    title = f"S-AC regression on {ds.name}: {hidden} neurons, {chips} chips"
    plot_regression(rows, out, title)
    plot_regression_fit(details, rows, out, title)
    return rows


sc_app = typer.Typer(
    help="Stochastic computing with probabilistic-switching (CBRAM-like) devices.",
    no_args_is_help=True,
)
app.add_typer(sc_app, name="sc")


def _device(tau0: float, v0: float, width: float, sigma_ln_tau0: float, sigma_v0: float) -> Any:
    from sactk.system.sc import Device

    return Device(tau0, v0, width, sigma_ln_tau0, sigma_v0)


def _int_list(text: str, name: str) -> list[int]:
    from sactk.errors import SpecError

    if not text.strip():
        return []
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise SpecError(f"{name}: {text!r} is not a comma-separated list of integers") from None
    return values


_TAU0 = typer.Option("--tau0", help="Device tau0 (s); default Jo et al. 2009.")
_V0 = typer.Option("--v0", help="Device V0 (V).")
_WIDTH = typer.Option("--width", help="Pulse width used for encoding (s).")
_SLT = typer.Option("--sigma-ln-tau0", help="Device-to-device spread of ln tau0.")
_SV0 = typer.Option("--sigma-v0", help="Device-to-device relative spread of V0.")


@sc_app.command("train")
def sc_train(
    out: Annotated[Path, typer.Option(help="Folder for summary.json and plots.")],
    length: Annotated[int, typer.Option(min=1, max=65536, help="Stream length L.")] = 256,
    seeds: Annotated[int, typer.Option(min=1, max=100, help="Seeds (runs) per setting.")] = 3,
    net: Annotated[str, typer.Option(help="cnn (conv 3x3x8, pool, dense) or mlp.")] = "cnn",
    epochs: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    lr: Annotated[float, typer.Option(min=1e-6, max=10.0, help="Learning rate.")] = 0.1,
    lengths: Annotated[
        str, typer.Option(help="Stream lengths of the accuracy-vs-L sweep ('' skips it).")
    ] = "16,32,64,128,256,512,1024",
    bits: Annotated[
        str, typer.Option(help="Weight precisions of the fixed-point sweep ('' skips it).")
    ] = "4,5,6,7,8,9,10,11,12,13,14,15,16",
    packed: Annotated[
        bool, typer.Option(help="Generate real packed bit streams (slow reference path).")
    ] = False,
    tau0: Annotated[float, _TAU0] = 2.85e5,
    v0: Annotated[float, _V0] = 0.156,
    width: Annotated[float, _WIDTH] = 1e-3,
    sigma_ln_tau0: Annotated[float, _SLT] = 0.1,
    sigma_v0: Annotated[float, _SV0] = 0.01,
) -> None:
    """Train on scikit-learn's 8x8 digits with SC weight updates (CBRAM bit streams) and a
    floating-point baseline; sweeps stream length and weight precision."""
    from rich.progress import Progress

    from sactk.analysis.plots import plot_sc
    from sactk.errors import SpecError
    from sactk.sweeps.store import _atomic_write_bytes, tool_versions
    from sactk.system.sc_train import NETS, experiment

    if net not in NETS:
        raise SpecError(f"--net {net!r}: choose one of {', '.join(NETS)}")
    device = _device(tau0, v0, width, sigma_ln_tau0, sigma_v0)
    ls = _int_list(lengths, "--lengths")
    bs = _int_list(bits, "--bits")
    if any(v < 1 for v in ls) or any(not 2 <= b <= 32 for b in bs):
        raise SpecError("--lengths must be >= 1 and --bits within 2..32")
    with Progress(transient=True) as bar:
        task = bar.add_task("training", total=None)
        summary = experiment(
            net,
            length,
            seeds,
            ls,
            bs,
            device,
            epochs,
            lr,
            packed,
            progress=lambda d, t: bar.update(task, completed=d, total=t),
        )
    summary["device"] = dict(device.__dict__)
    summary["versions"] = tool_versions()
    summary["packed"] = packed
    out.mkdir(parents=True, exist_ok=True)
    _atomic_write_bytes(out / "summary.json", (json.dumps(summary, indent=1) + "\n").encode())
    plot_sc(summary, out)
    typer.echo(
        f"{net}, {seeds} seeds, {epochs} epochs: float {summary['float_acc_mean']:.2f} "
        f"+- {summary['float_acc_std']:.2f} %, SC (L = {length}) {summary['sc_acc_mean']:.2f} "
        f"+- {summary['sc_acc_std']:.2f} % ({summary['sc_minus_float']:+.2f} points)"
    )
    for r in summary["precision"]:
        typer.echo(
            f"  {r['bits']:>2} bits: rounded updates {r['fixed_acc_mean']:6.2f} %, "
            f"SC updates {r['sc_acc_mean']:6.2f} %"
        )
    typer.echo(f"summary: {out / 'summary.json'}")


@sc_app.command("mac-cost")
def sc_mac_cost(
    length: Annotated[list[int] | None, typer.Option(help="Stream lengths (repeatable).")] = None,
) -> None:
    """Gate equivalents of an SC multiply-accumulate against a fixed-point MAC of the same
    effective precision (log2 L bits); gate model in docs/sc.md."""
    from sactk.system.sc import mac_cost

    typer.echo("| L | bits | SC MAC (GE) | fixed-point MAC (GE) | ratio | SC cycles |")
    typer.echo("| --- | --- | --- | --- | --- | --- |")
    for L in length or [16, 64, 256, 1024]:
        c = mac_cost(L)
        typer.echo(
            f"| {L} | {c['bits']} | {c['sc_ge']:.1f} | {c['fixed_ge']:.1f} | "
            f"{c['ratio']:.1f}x | {c['sc_cycles']} |"
        )


@sc_app.command("device")
def sc_device(
    out: Annotated[Path, typer.Option(help="Folder for the fit and its plot.")],
    data: Annotated[
        Path | None,
        typer.Option(
            help="CSV: amplitude_v, width_s, switched, trials (default: the bundled synthetic set)."
        ),
    ] = None,
    width: Annotated[float, _WIDTH] = 1e-3,
    sigma_ln_tau0: Annotated[float, _SLT] = 0.1,
    sigma_v0: Annotated[float, _SV0] = 0.01,
) -> None:
    """Fit tau0 and V0 to switching-probability data; plot data, fit and the encoding
    spread of devices with the fitted nominal values and the given variation."""
    import pandas as pd

    from sactk.analysis.plots import plot_device_fit
    from sactk.errors import SpecError
    from sactk.system.sc import EXAMPLE_DATA, fit_device

    path = data or EXAMPLE_DATA
    if not path.is_file():
        raise SpecError(f"--data {path}: no such file")
    try:
        df = pd.read_csv(path, comment="#")
    except (ValueError, OSError) as exc:
        raise SpecError(f"--data {path}: not a readable CSV ({exc})") from None
    need = ["amplitude_v", "width_s", "switched", "trials"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise SpecError(
            f"--data {path.name}: missing columns {', '.join(missing)}; need {', '.join(need)}"
        )
    for c in need:
        if not pd.api.types.is_numeric_dtype(df[c]) or df[c].isna().any():
            raise SpecError(f"--data {path.name}: column {c!r} must be numbers with no gaps")
    fitted = fit_device(df["amplitude_v"], df["width_s"], df["switched"], df["trials"])
    device = _device(fitted[0], fitted[1], width, sigma_ln_tau0, sigma_v0)
    out.mkdir(parents=True, exist_ok=True)
    plot_device_fit(df, device, fitted, out)
    doc = {"data": str(path), "tau0_s": fitted[0], "v0_v": fitted[1], "rows": len(df)}
    (out / "device_fit.json").write_text(json.dumps(doc, indent=1) + "\n")
    typer.echo(
        f"tau0 = {fitted[0]:.4g} s, V0 = {fitted[1] * 1e3:.2f} mV from {len(df)} rows of {path}"
    )
    typer.echo(f"plot: {out / 'sc_device.png'}")


aimc_app = typer.Typer(
    help="Analog in-memory computing tiles with a fixed-point near-memory unit (NMPU).",
    no_args_is_help=True,
)
app.add_typer(aimc_app, name="aimc")

_CASES = {
    "digits-cnn": ("digits", "cnn"),
    "digits-mlp": ("digits", "mlp"),
    "breast-cancer-mlp": ("breast-cancer", "mlp"),
}


def _tile(
    dac_bits: int, adc_bits: int, prog: float, read: float, gain: float, offset: float, ir: float
) -> Any:
    from sactk.system.aimc import TileSpec

    return TileSpec(dac_bits, adc_bits, prog, read, gain, offset, ir)


_DAC = typer.Option("--dac-bits", help="Input DAC bits.")
_ADC = typer.Option("--adc-bits", help="Column ADC bits.")
_PROG = typer.Option("--prog-sigma", help="Programming noise, fraction of G_max.")
_READ = typer.Option("--read-sigma", help="Read noise, fraction of each device current.")
_GAIN = typer.Option("--gain-sigma", help="Column gain spread (read-out).")
_OFFS = typer.Option("--offset-sigma", help="Column offset spread, fraction of full scale.")
_IR = typer.Option("--ir-drop", help="Gain loss of a full 64-row tile from wire IR drop.")


@aimc_app.command("characterize")
def aimc_characterize(
    out: Annotated[Path, typer.Option(help="Folder for results, crossbar.json and plots.")],
    rows: Annotated[
        str, typer.Option(help="Tile sizes (rows) of the IR-drop sweep.")
    ] = "8,16,32,64",
    chips: Annotated[int, typer.Option(min=2, max=1000, help="Monte Carlo chips.")] = 20,
    jobs: Annotated[int | None, typer.Option(min=1, help="Worker processes.")] = None,
) -> None:
    """Characterize the crossbar tile on ngspice: Monte Carlo gain and offset per column
    (`crossbar` preset) and IR drop against tile size; writes crossbar.json, which
    `sactk aimc eval --crossbar` uses for the tile model's column errors."""
    import pandas as pd

    from sactk.analysis.metrics import crossbar_columns
    from sactk.analysis.plots import plot_crossbar
    from sactk.errors import SpecError
    from sactk.sweeps.spec import load_spec
    from sactk.sweeps.store import read_results

    sizes = _int_list(rows, "--rows")
    if not sizes or any(not 1 <= r <= 64 for r in sizes):
        raise SpecError("--rows: give tile sizes from 1 to 64")
    spec = load_spec(preset="crossbar", overrides=[f"mc.instances={chips}"])
    _print_summary(_sweep_with_progress(spec, out / "crossbar-mc", jobs, False))
    cols = crossbar_columns(read_results(out / "crossbar-mc"))
    size_tables = []
    for r in sizes:
        s = load_spec(
            preset="crossbar",
            overrides=[f"cell.n_inputs={r}", "mc.instances=0", "sweep.bias_a=[2e-5]"],
        )
        _print_summary(_sweep_with_progress(s, out / f"crossbar-rows{r}", jobs, False))
        size_tables.append(crossbar_columns(read_results(out / f"crossbar-rows{r}")))
    sizes_df = pd.concat(size_tables, ignore_index=True)
    plot_crossbar(cols, sizes_df, out)
    mc = cols[(cols["mc_index"] >= 0)]
    mc27 = mc[mc["temp_c"] == min(mc["temp_c"].unique(), key=lambda t: abs(t - 27.0))]
    nom64 = sizes_df[(sizes_df["temp_c"] == 27.0)].groupby("rows")["gain"].mean()
    ir = float(1.0 - nom64.iloc[-1]) * 64.0 / float(nom64.index[-1])
    doc: dict[str, Any] = {
        "gain_sigma": float(mc27["gain"].std()),
        "offset_sigma": float(mc27["offset_fs"].std()),
        "ir_drop": max(ir, 0.0),
        "nonlin_fs_max": float(mc27["nonlin_fs"].max()),
        "gain_loss_by_rows": {str(int(k)): float(1 - v) for k, v in nom64.items()},
        "chips": chips,
        "source": "sactk aimc characterize: crossbar preset, 16 rows x 4 differential columns",
    }
    (out / "crossbar.json").write_text(json.dumps(doc, indent=1) + "\n")
    cols.to_csv(out / "crossbar_columns.csv", index=False)
    sizes_df.to_csv(out / "crossbar_sizes.csv", index=False)
    typer.echo(
        f"column gain sigma {100 * doc['gain_sigma']:.2f} %, offset sigma "
        f"{100 * doc['offset_sigma']:.3f} % of full scale, IR-drop gain loss of a 64-row tile "
        f"{100 * doc['ir_drop']:.2f} % at G_max = 100 uS, 27 C; nonlinearity <= "
        f"{100 * doc['nonlin_fs_max']:.3f} % of full scale"
    )
    typer.echo(f"{out / 'crossbar.json'}, plot {out / 'crossbar.png'}")


@aimc_app.command("eval")
def aimc_eval(
    out: Annotated[Path, typer.Option(help="Folder for summary.json and the plot.")],
    chips: Annotated[int, typer.Option(min=1, max=1000, help="Chips (tile instances).")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the split, training and chips.")] = 0,
    cases: Annotated[
        str, typer.Option(help="Comma list of digits-cnn, digits-mlp, breast-cancer-mlp.")
    ] = "digits-cnn,digits-mlp,breast-cancer-mlp",
    scale_format: Annotated[str, typer.Option(help="NMPU scale format.")] = "u1.7",
    offset_format: Annotated[str, typer.Option(help="NMPU offset format.")] = "s7.1",
    dac_bits: Annotated[int, _DAC] = 8,
    adc_bits: Annotated[int, _ADC] = 8,
    prog_sigma: Annotated[float, _PROG] = 0.02,
    read_sigma: Annotated[float, _READ] = 0.01,
    gain_sigma: Annotated[float, _GAIN] = 0.02,
    offset_sigma: Annotated[float, _OFFS] = 0.005,
    ir_drop: Annotated[float, _IR] = 0.01,
    crossbar: Annotated[
        Path | None,
        typer.Option(help="crossbar.json of `sactk aimc characterize`: measured column errors."),
    ] = None,
) -> None:
    """Float-trained networks through AIMC tiles with FP32, FP16 and fixed-point NMPU
    post-processing: accuracy over chips and the fixed-point drop against FP16."""
    from sactk.analysis.plots import plot_aimc
    from sactk.errors import SpecError
    from sactk.sweeps.store import _atomic_write_bytes, tool_versions
    from sactk.system.aimc import evaluate, parse_format
    from sactk.system.nmpu import NMPUFormat

    names = [c.strip() for c in cases.split(",") if c.strip()]
    bad = [c for c in names if c not in _CASES]
    if bad or not names:
        raise SpecError(f"--cases {cases!r}: choose from {', '.join(_CASES)}")
    fmt = NMPUFormat(
        parse_format(scale_format, "--scale-format"), parse_format(offset_format, "--offset-format")
    )
    if crossbar is not None:
        try:
            meas = json.loads(crossbar.read_text())
            gain_sigma, offset_sigma = float(meas["gain_sigma"]), float(meas["offset_sigma"])
            ir_drop = float(meas["ir_drop"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SpecError(f"--crossbar {crossbar}: not a crossbar.json ({exc})") from None
    spec = _tile(dac_bits, adc_bits, prog_sigma, read_sigma, gain_sigma, offset_sigma, ir_drop)
    runs = []
    for name in names:
        ds, net = _CASES[name]
        r = evaluate(ds, net, chips, seed, spec, {"default": fmt})
        r.update(
            case=name,
            dataset=ds,
            net=net,
            drop_fixed_vs_fp16=r["fp16_acc_mean"] - r["fixed_acc_mean"],
        )
        runs.append(r)
        typer.echo(
            f"{name:<18} float {r['float_acc']:6.2f} %  FP32 {r['fp32_acc_mean']:6.2f}  "
            f"FP16 {r['fp16_acc_mean']:6.2f}  fixed ({fmt}) {r['fixed_acc_mean']:6.2f} "
            f"+- {r['fixed_acc_std']:.2f}  drop vs FP16 {r['drop_fixed_vs_fp16']:+.2f} points"
        )
    head = runs[0]
    doc = {
        "case": head["case"],
        "fp32_acc_mean": head["fp32_acc_mean"],
        "fp16_acc_mean": head["fp16_acc_mean"],
        "fixed_acc_mean": head["fixed_acc_mean"],
        "fp32_acc_std": head["fp32_acc_std"],
        "fp16_acc_std": head["fp16_acc_std"],
        "fixed_acc_std": head["fixed_acc_std"],
        "drop_fixed_vs_fp16": head["drop_fixed_vs_fp16"],
        "chips": chips,
        "seed": seed,
        "format": {"scale": str(fmt.scale), "offset": str(fmt.offset)},
        "tile": dict(spec.__dict__),
        "runs": runs,
        "versions": tool_versions(),
    }
    out.mkdir(parents=True, exist_ok=True)
    _atomic_write_bytes(out / "summary.json", (json.dumps(doc, indent=1) + "\n").encode())
    plot_aimc(runs, out)
    typer.echo(f"summary: {out / 'summary.json'}")


@aimc_app.command("bits")
def aimc_bits(
    out: Annotated[Path, typer.Option(help="Folder for bits.json and the Pareto plot.")],
    chips: Annotated[int, typer.Option(min=1, max=1000)] = 3,
    seed: Annotated[int, typer.Option()] = 0,
    case: Annotated[
        str, typer.Option(help="digits-cnn, digits-mlp or breast-cancer-mlp.")
    ] = "digits-mlp",
    scale_frac: Annotated[
        str, typer.Option(help="Scale fraction bits to sweep.")
    ] = "1,2,3,4,5,6,7,8,10",
    offset_formats: Annotated[
        str, typer.Option(help="Offset formats to sweep.")
    ] = "s7.0,s7.1,s7.2,s5.1,s3.1",
) -> None:
    """Sweep the NMPU's scale and offset bit widths: accuracy drop against FP16 and the
    post-processing cost per format (Pareto plot; cost model in docs/aimc.md)."""
    from sactk.analysis.plots import plot_aimc_bits
    from sactk.errors import SpecError
    from sactk.system.aimc import TileSpec, evaluate, parse_format
    from sactk.system.fixed import QFormat
    from sactk.system.nmpu import NMPUFormat, cost

    if case not in _CASES:
        raise SpecError(f"--case {case!r}: choose from {', '.join(_CASES)}")
    fracs = _int_list(scale_frac, "--scale-frac")
    if not fracs or any(not 0 <= f <= 20 for f in fracs):
        raise SpecError("--scale-frac: give fraction bits between 0 and 20")
    offs = [parse_format(t, "--offset-formats") for t in offset_formats.split(",") if t.strip()]
    fmts = {f"u1.{f}|{o}": NMPUFormat(QFormat(1, f, False), o) for f in fracs for o in offs}
    ds, net = _CASES[case]
    spec = TileSpec()
    r = evaluate(ds, net, chips, seed, spec, {"default": NMPUFormat(), **fmts})
    rows = []
    for name, fmt in fmts.items():
        c = cost(fmt, spec.adc_bits)
        m = r[f"fixed:{name}_acc_mean"]
        rows.append(
            {
                "scale": str(fmt.scale),
                "offset": str(fmt.offset),
                "bits": fmt.scale.bits + fmt.offset.bits,
                "acc_mean": m,
                "acc_std": r[f"fixed:{name}_acc_std"],
                "drop_vs_fp16": r["fp16_acc_mean"] - m,
                "fixed_ge": c["fixed_ge"],
                "fp16_ge": c["fp16_ge"],
            }
        )
    out.mkdir(parents=True, exist_ok=True)
    doc = {"case": case, "chips": chips, "fp16_acc_mean": r["fp16_acc_mean"], "rows": rows}
    (out / "bits.json").write_text(json.dumps(doc, indent=1) + "\n")
    plot_aimc_bits(doc, out)
    for row in sorted(rows, key=lambda q: q["fixed_ge"]):
        typer.echo(
            f"scale {row['scale']:<8} offset {row['offset']:<8} {row['bits']:>2} bits  "
            f"drop {row['drop_vs_fp16']:+6.2f} points  {row['fixed_ge']:6.0f} GE "
            f"(FP16 FMA {row['fp16_ge']:.0f} GE)"
        )
    typer.echo(f"plot: {out / 'aimc_bits.png'}")


def characterize(results: Path, plots_dir: Path) -> dict[str, Any]:
    """Accuracy and collapse tables of a results directory, plus its plots."""
    from sactk.analysis import metrics
    from sactk.analysis.plots import plot_all
    from sactk.sweeps.store import read_results

    df = read_results(results)
    acc = metrics.accuracy(df)
    col = metrics.collapse(df)
    col30 = metrics.collapse(df, bias_min_a=30e-9)
    plot_all(df, plots_dir)
    return {
        "accuracy": acc.to_dict(orient="records"),
        "collapse": col.to_dict(orient="records"),
        "collapse_from_30nA": col30.to_dict(orient="records"),
    }


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for everything the demo makes.")] = Path(
        "demo-out"
    ),
    jobs: Annotated[int | None, typer.Option(min=1, help="Worker processes.")] = None,
) -> None:
    """The main job end to end on c180: MP sweeps across bias, temperature and mismatch chips,
    the step response, plots, lookup models with exports, the S-AC regression experiment
    and an HTML report."""
    import pandas as pd

    from sactk.sweeps.spec import load_spec

    out.mkdir(parents=True, exist_ok=True)
    failed = 0
    spec = load_spec(preset="mp-temp")
    typer.echo("1/7 sweeping the 4-input MP cell: 7 bias currents x 3 temperatures on c180 ...")
    summary = _sweep_with_progress(spec, out / "mp-sweep", jobs, False)
    _print_summary(summary)
    typer.echo("2/7 error against ideal(), bias collapse and plots ...")
    figures = characterize(out / "mp-sweep", out / "plots")
    acc = pd.DataFrame(figures["accuracy"])
    typer.echo("\nmax |error| against ideal(), % of the largest input (RMS in summary.csv):")
    piv = acc.pivot_table(index="bias_a", columns="temp_c", values="max_abs_err_pct")
    typer.echo(piv.map(lambda v: f"{v:.3f}").to_string())
    typer.echo("\nbias collapse across 10 nA..10 uA (% of full scale):")
    typer.echo("   temp   vectors  10 nA..10 uA  30 nA..10 uA")
    for r, r30 in zip(figures["collapse"], figures["collapse_from_30nA"], strict=True):
        typer.echo(
            f"  {r['temp_c']:>5g} C  {r['pattern']:<7} {r['collapse_pct_fs']:>12.3f}"
            f"  {r30['collapse_pct_fs']:>12.3f}"
        )

    mc, spread = _demo_step(
        "3/7 mismatch: 200 Pelgrom chips x 3 biases x 3 temperatures (mp-mc)",
        "mp-mc",
        out,
        jobs,
        "mc_spread",
        ["temp_c", "bias_a", "sigma_pct", "chip_err_median_pct", "chip_err_p90_pct"],
        "sigma of out_z_a / bias_a across chips (% of gamma); each chip's max |error| "
        "(% of largest input), median and 90th percentile:",
    )
    tr, sp = _demo_step(
        "4/7 step response: settling time, power, energy per operation (mp-tran)",
        "mp-tran",
        out,
        jobs,
        "speed_power",
        ["bias_a", "settle_s", "power_w", "energy_j"],
        "settle_s to 1 % of final, supply power_w, energy_j = power_w x settle_s:",
    )
    figures["mc_spread"] = spread.to_dict(orient="records")
    figures["speed_power"] = sp.to_dict(orient="records")
    acc.to_csv(out / "summary.csv", index=False)
    spread.to_csv(out / "mc_spread.csv", index=False)
    sp.to_csv(out / "speed_power.csv", index=False)
    typer.echo("\n5/7 lookup models: the MP cell (20 % of the vectors held out), exports ...")
    from sactk.analysis.export import export

    model, mpath = fit_model(out / "mp-sweep", out / "models" / "mp")
    v = model.meta_["validation"]
    typer.echo(
        f"{mpath}: held-out max |error| {100 * v['max_err_fs']:.3f} % of full scale "
        f"(RMS {100 * v['rms_err_fs']:.4f} %) over {v['points']} points"
    )
    for fmt, dest in (("ngspice", "mp.sub"), ("verilog-a", "verilog-a"), ("csv", "mp.csv")):
        export(model, fmt, out / "models" / dest)
    figures["model_validation"] = v
    models = [mpath]
    for preset, name in (("inner-product-mc", "inner_product"), ("shape-tanh-mc", "tanh")):
        typer.echo(f"{preset}: an S-AC neuron's cells, nominal and 20 mismatch chips ...")
        s_ = _sweep_with_progress(load_spec(preset=preset), out / preset, jobs, False)
        failed += s_.failed_points
        m_, p_ = fit_model(out / preset, out / "models" / name)
        vv = m_.meta_["validation"]
        typer.echo(
            f"{p_}: held-out max |error| {100 * vv['max_err_fs']:.3f} % of full scale; "
            f"per-chip tables RMS {100 * vv['chips']['rms_err_fs']:.2f} %"
        )
        figures[f"{name}_model_validation"] = vv
        models.append(p_)
    # settling time against bias (MP step response): the regression's energy and throughput
    sp[["temp_c", "bias_a", "settle_s"]].to_csv(out / "models" / "timing.csv", index=False)

    typer.echo("\n6/7 S-AC regression on sinc(3x): 64 neurons, 5 chips, every bias and temperature")
    from sactk.system.datasets import load_dataset
    from sactk.system.regression import load_models

    rows = regress_run(
        load_dataset("sinc"), load_models(out / "models"), out / "regress", 64, 5, 0, 4.0, 1e-4, 0
    )
    shown = ["bias_a", "temp_c", "r2_mean", "r2_std", "r2_float_mean", "energy_j", "throughput_hz"]
    typer.echo(rows[shown].to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    figures["regression"] = rows.to_dict(orient="records")
    (out / "summary.json").write_text(json.dumps(figures, indent=1))
    typer.echo("\n7/7 HTML report ...")
    from sactk.analysis.report import write_report

    page = write_report(
        [out / p for p in ("mp-sweep", "mp-mc", "mp-tran", "inner-product-mc", "shape-tanh-mc")],
        out / "report.html",
        models,
        title="sactk demo: S-AC cells on c180, lookup models and the bias-scaling experiment",
        extra=[("S-AC regression on sinc(3x)", out / "regress")],
    )
    typer.echo(f"report: {page}")
    typer.echo(f"\nplots in {out / 'plots'}, figures in {out / 'summary.json'}")
    if summary.failed_points or mc.failed_points or tr.failed_points or failed:
        raise typer.Exit(3)


def _demo_step(
    title: str, preset: str, out: Path, jobs: int | None, table: str, cols: list[str], head: str
) -> tuple[Any, Any]:
    """One demo sweep: run the preset into out/preset, plot, print one table."""
    import pandas as pd

    from sactk.sweeps.spec import load_spec

    typer.echo(f"\n{title} ...")
    summary = _sweep_with_progress(load_spec(preset=preset), out / preset, jobs, False)
    _print_summary(summary)
    df = pd.DataFrame(characterize_engine(out / preset, out / "plots")[table])
    typer.echo(head)
    typer.echo(df[cols].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    return summary, df


def characterize_engine(results: Path, plots_dir: Path) -> dict[str, Any]:
    """Monte Carlo and speed/power tables of a results directory, plus its plots."""
    import matplotlib

    from sactk.analysis import metrics
    from sactk.analysis.plots import plot_monte_carlo, plot_speed_power
    from sactk.sweeps.store import read_results

    matplotlib.use("Agg")
    df = read_results(results)
    plots_dir.mkdir(parents=True, exist_ok=True)
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


def main(argv: list[str] | None = None) -> None:
    """Console entry point: maps sactk errors to one line and an exit code.

    Typer runs in standalone mode, so its own usage errors exit 2 and ``typer.Exit(n)``
    exits n; sactk's errors and anything unexpected are caught here.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        app(args=args, prog_name="sactk")
    except SactkError as exc:
        if debug:
            raise
        _err(str(exc).replace("\n", " "))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _err("interrupted; rerun the same command to resume")
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        _err(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the trace)")
        sys.exit(1)

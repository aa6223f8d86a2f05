"""Commands of the system experiments: S-AC regression, stochastic computing and AIMC."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sactk import api
from sactk.cli.console import Console, float_list, int_list, str_list
from sactk.cli.root import app

LISTS = "Lists: repeat the option or separate values with commas."


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
            help="Folder with the inner_product and tanh models and timing.csv (what "
            "`sactk demo` writes to demo-out/models)."
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
    chip_source: Annotated[
        str,
        typer.Option(
            help="simulated: chips made of the fitted Monte Carlo instances; sampled: drawn "
            "from the statistical mismatch model; auto: simulated when there are enough."
        ),
    ] = "auto",
    windows: Annotated[
        list[str] | None,
        typer.Option(help="Noise trade-off's readout windows, in settling times (with 1)."),
    ] = None,
) -> None:
    """S-AC regression across bias, temperature and chips on the cells' characterized
    models: R2 and RMSE (mean and spread over chips), R2 with the cells' noise when the
    models carry it, energy per inference and throughput."""
    ds = api.dataset(dataset, data, target, seed)
    summary = api.regress(
        ds,
        model,
        out,
        hidden=hidden,
        chips=chips,
        seed=seed,
        gain=gain,
        ridge=ridge_lambda,
        quantize_bits=quantize_bits,
        chip_source=chip_source,
        windows=tuple(float_list(windows, "--windows")) if windows else None,
        reporter=Console(),
    )
    cols = ["bias_a", "temp_c", "r2_mean", "r2_std", "r2_noise_mean", "r2_float_mean"]
    cols += ["rmse_mean", "energy_j", "throughput_hz"]
    typer.echo(f"chips: {summary['chip_source'].iloc[0]}")
    typer.echo(summary[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    typer.echo(f"summary: {out / 'summary.json'}, plots: {out}")


sc_app = typer.Typer(
    help="Stochastic computing with probabilistic-switching (CBRAM-like) devices.",
    no_args_is_help=True,
)
app.add_typer(sc_app, name="sc")

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
    epochs: Annotated[int, typer.Option(min=1, max=1000, help="Training epochs.")] = 20,
    lr: Annotated[float, typer.Option(min=1e-6, max=10.0, help="Learning rate.")] = 0.1,
    lengths: Annotated[
        list[str],
        typer.Option(help="Stream lengths of the accuracy-vs-L sweep; '' skips it. " + LISTS),
    ] = ["16,32,64,128,256,512,1024"],
    bits: Annotated[
        list[str],
        typer.Option(help="Weight precisions of the fixed-point sweep; '' skips it. " + LISTS),
    ] = ["4,5,6,7,8,9,10,11,12,13,14,15,16"],
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
    s = api.sc.train(
        out,
        length=length,
        seeds=seeds,
        net=net,
        epochs=epochs,
        lr=lr,
        lengths=int_list(lengths, "--lengths"),
        bits=int_list(bits, "--bits"),
        packed=packed,
        dev=api.sc.device(tau0, v0, width, sigma_ln_tau0, sigma_v0),
        reporter=Console(),
    )
    typer.echo(
        f"{net}, {seeds} seeds, {epochs} epochs: float {s['float_acc_mean']:.2f} "
        f"+- {s['float_acc_std']:.2f} %, SC (L = {length}) {s['sc_acc_mean']:.2f} "
        f"+- {s['sc_acc_std']:.2f} % ({s['sc_minus_float']:+.2f} points)"
    )
    for r in s["precision"]:
        typer.echo(
            f"  {r['bits']:>2} bits: rounded updates {r['fixed_acc_mean']:6.2f} %, "
            f"SC updates {r['sc_acc_mean']:6.2f} %"
        )
    typer.echo(f"summary: {out / 'summary.json'}")


@sc_app.command("mac-cost")
def sc_mac_cost(
    lengths: Annotated[
        list[str] | None,
        typer.Option("--lengths", "--length", help="Stream lengths. " + LISTS),
    ] = None,
) -> None:
    """Gate equivalents of an SC multiply-accumulate against a fixed-point MAC of the same
    effective precision (log2 L bits); gate model in docs/sc.md."""
    typer.echo("| L | bits | SC MAC (GE) | fixed-point MAC (GE) | ratio | SC cycles |")
    typer.echo("| --- | --- | --- | --- | --- | --- |")
    for c in api.sc.mac_cost(int_list(lengths, "--lengths") or None):
        typer.echo(
            f"| {c['length']} | {c['bits']} | {c['sc_ge']:.1f} | {c['fixed_ge']:.1f} | "
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
    doc = api.sc.fit_device(out, data, width=width, sigma_ln_tau0=sigma_ln_tau0, sigma_v0=sigma_v0)
    typer.echo(
        f"tau0 = {doc['tau0_s']:.4g} s, V0 = {doc['v0_v'] * 1e3:.2f} mV from {doc['rows']} "
        f"rows of {doc['data']}"
    )
    typer.echo(f"plot: {out / 'sc_device.png'}")


aimc_app = typer.Typer(
    help="Analog in-memory computing tiles with a fixed-point near-memory unit (NMPU).",
    no_args_is_help=True,
)
app.add_typer(aimc_app, name="aimc")

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
        list[str], typer.Option(help="Tile sizes (rows) of the IR-drop sweep. " + LISTS)
    ] = ["8,16,32,64"],
    chips: Annotated[int, typer.Option(min=2, max=1000, help="Monte Carlo chips.")] = 20,
    jobs: Annotated[int | None, typer.Option(min=1, help="Worker processes.")] = None,
) -> None:
    """Characterize the crossbar tile on ngspice: Monte Carlo gain and offset per column
    (`crossbar` preset) and IR drop against tile size; writes crossbar.json, which
    `sactk aimc eval --crossbar` uses for the tile model's column errors."""
    doc = api.aimc.characterize(
        out, rows=int_list(rows, "--rows"), chips=chips, jobs=jobs, reporter=Console()
    )
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
        list[str],
        typer.Option(help="Any of digits-cnn, digits-mlp, breast-cancer-mlp. " + LISTS),
    ] = ["digits-cnn,digits-mlp,breast-cancer-mlp"],
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
    api.aimc.evaluate(
        out,
        chips=chips,
        seed=seed,
        cases=str_list(cases),
        fmt=api.aimc.nmpu_format(scale_format, offset_format),
        spec=api.aimc.tile(
            dac_bits, adc_bits, prog_sigma, read_sigma, gain_sigma, offset_sigma, ir_drop, crossbar
        ),
        reporter=Console(),
    )
    typer.echo(f"summary: {out / 'summary.json'}")


@aimc_app.command("bits")
def aimc_bits(
    out: Annotated[Path, typer.Option(help="Folder for bits.json and the Pareto plot.")],
    chips: Annotated[int, typer.Option(min=1, max=1000, help="Chips (tile instances).")] = 3,
    seed: Annotated[int, typer.Option(help="Seed of the split, training and chips.")] = 0,
    case: Annotated[
        str, typer.Option(help="digits-cnn, digits-mlp or breast-cancer-mlp.")
    ] = "digits-mlp",
    scale_frac: Annotated[
        list[str], typer.Option(help="Scale fraction bits to sweep. " + LISTS)
    ] = ["1,2,3,4,5,6,7,8,10"],
    offset_formats: Annotated[list[str], typer.Option(help="Offset formats to sweep. " + LISTS)] = [
        "s7.0,s7.1,s7.2,s5.1,s3.1"
    ],
) -> None:
    """Sweep the NMPU's scale and offset bit widths: accuracy drop against FP16 and the
    post-processing cost per format (Pareto plot; cost model in docs/aimc.md)."""
    doc = api.aimc.bits(
        out,
        chips=chips,
        seed=seed,
        case=case,
        scale_frac=int_list(scale_frac, "--scale-frac"),
        offset_formats=str_list(offset_formats),
    )
    for row in sorted(doc["rows"], key=lambda q: q["fixed_ge"]):
        typer.echo(
            f"scale {row['scale']:<8} offset {row['offset']:<8} {row['bits']:>2} bits  "
            f"drop {row['drop_vs_fp16']:+6.2f} points  {row['fixed_ge']:6.0f} GE "
            f"(FP16 FMA {row['fp16_ge']:.0f} GE)"
        )
    typer.echo(f"plot: {out / 'aimc_bits.png'}")

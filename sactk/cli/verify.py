"""``sactk verify``: a whole S-AC layer in ngspice against the vectorized runner."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sactk import api
from sactk.cli.console import Console, float_list
from sactk.cli.root import app

verify_app = typer.Typer(
    help="Check the vectorized runner against a whole S-AC layer simulated in ngspice.",
    no_args_is_help=True,
)
app.add_typer(verify_app, name="verify")

BIAS_HELP = "Bias currents in A (SPICE suffixes allowed); repeat or separate with commas."


@verify_app.command("layer")
def layer(
    out: Annotated[Path, typer.Option(help="Folder for the sweeps, models, CSVs and plot.")],
    features: Annotated[int, typer.Option(min=1, max=64, help="Layer inputs D.")] = 4,
    hidden: Annotated[int, typer.Option(min=1, max=64, help="Tanh neurons H.")] = 8,
    block: Annotated[
        int,
        typer.Option(
            min=1,
            max=32,
            help="Inner-product inputs N. A D that is not a multiple of N pads the last block "
            "with x = w = 0 (each padded term carries the common mode c).",
        ),
    ] = 4,
    samples: Annotated[int, typer.Option(min=1, max=100000, help="Input vectors.")] = 100,
    bias: Annotated[list[str] | None, typer.Option(help=BIAS_HELP)] = None,
    temp: Annotated[float, typer.Option(min=-60, max=175, help="Temperature, C.")] = 27.0,
    chips: Annotated[int, typer.Option(min=0, max=50, help="Monte Carlo chips.")] = 3,
    seed: Annotated[int, typer.Option(help="Seed of weights, inputs and mirror draws.")] = 0,
    noise_samples: Annotated[
        int,
        typer.Option(
            min=0, help="Samples whose output noise the runner must match (0: no noise check)."
        ),
    ] = 2,
    jobs: Annotated[int | None, typer.Option(min=1, help="Worker processes.")] = None,
) -> None:
    """The runner against ngspice on one layer: activations of the same weights, inputs and
    chips (the cells' own Monte Carlo instances, fan-out, inter-stage and bias mirrors as
    transistors); max and RMS error in % of the activation range, the speed ratio, and each
    neuron's output noise over a readout window against the netlist's .noise."""
    biases = tuple(float_list(bias, "--bias")) if bias else (1e-8, 1e-6, 1e-5)
    setup = api.layer.Setup(
        features=features, hidden=hidden, n_block=block, samples=samples, biases=biases,
        temp_c=temp, chips=chips, seed=seed, noise_samples=noise_samples,
    )  # fmt: skip
    s = api.layer.verify_layer(out, setup, jobs=jobs, reporter=Console())
    typer.echo("bias_a    chip  max %  RMS %  (ideal mirrors: max %, RMS %)")
    for e in s["errors"]:
        chip = "nom" if e["chip"] < 0 else str(e["chip"])
        typer.echo(
            f"{e['bias_a']:<9.3g} {chip:>4} {e['max_err_pct']:6.2f} {e['rms_err_pct']:6.2f}"
            f"  ({e['max_err_ideal_mirrors_pct']:.2f}, {e['rms_err_ideal_mirrors_pct']:.2f})"
        )
    if s.get("noise"):
        typer.echo("bias_a    window_s   netlist RMS  runner RMS (gamma)  ratio median, worst")
        for r in s["noise"]:
            typer.echo(
                f"{r['bias_a']:<9.3g} {r['window_s']:<9.3g}  {r['spice_rms_gamma']:.3e}"
                f"    {r['runner_rms_gamma']:.3e}          {r['ratio_median']:.3f}, "
                f"{r['ratio_worst']:.3f}"
            )
    typer.echo(f"summary: {out / 'summary.json'}, plot: {out / 'layer.png'}")


@verify_app.command("regress")
def regress(
    out: Annotated[Path, typer.Option(help="Folder for the sweeps, models and regression.csv.")],
    dataset: Annotated[
        str, typer.Option(help="Built-in data: sinc, surface or diabetes.")
    ] = "sinc",
    hidden: Annotated[int, typer.Option(min=1, max=64, help="Tanh neurons.")] = 8,
    chip: Annotated[int, typer.Option(min=0, max=50, help="The Monte Carlo chip.")] = 0,
    bias: Annotated[list[str] | None, typer.Option(help=BIAS_HELP)] = None,
    temp: Annotated[float, typer.Option(min=-60, max=175, help="Temperature, C.")] = 27.0,
    seed: Annotated[int, typer.Option(help="Seed of split and weights.")] = 0,
    jobs: Annotated[int | None, typer.Option(min=1, help="Worker processes.")] = None,
) -> None:
    """Regression with the readout trained on the runner (chip in the loop), then the same
    network, weights, chip and readout on the test set in ngspice: R2 of both."""
    from sactk.api.regress import verify_regression

    biases = tuple(float_list(bias, "--bias")) if bias else (1e-8, 1e-6, 1e-5)
    rows = verify_regression(
        out, dataset=dataset, hidden=hidden, chip=chip, biases=biases, temp_c=temp, seed=seed,
        jobs=jobs, reporter=Console(),
    )  # fmt: skip
    typer.echo(rows.to_string(index=False, float_format=lambda v: f"{v:.4g}"))


@verify_app.command("step")
def step(
    out: Annotated[Path, typer.Option(help="Folder for layer_step.csv.")],
    bias: Annotated[list[str] | None, typer.Option(help=BIAS_HELP)] = None,
    features: Annotated[int, typer.Option(min=1, max=64, help="Layer inputs D.")] = 2,
    jobs: Annotated[int | None, typer.Option(min=1, help="Worker processes.")] = None,
) -> None:
    """The neuron's settling time and power from the layer netlist's step response."""
    from sactk.api.layerstep import STEP_BIASES, step_response

    biases = tuple(float_list(bias, "--bias")) if bias else STEP_BIASES
    rows = step_response(out, biases, features=features, jobs=jobs, reporter=Console())
    typer.echo(rows.to_string(index=False, float_format=lambda v: f"{v:.4g}"))

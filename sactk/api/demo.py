"""The main job end to end on c180: MP sweeps across bias, temperature and mismatch chips,
the step response, plots, lookup models with exports, the S-AC regression experiment and an
HTML report (``sactk demo``; README's "What the demo produces" lists every file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sactk.api.characterize import accuracy_and_collapse, report, spread_and_speed
from sactk.api.layer import NOISE_SWEEPS
from sactk.api.layerstep import step_response
from sactk.api.models import export, fit
from sactk.api.regress import dataset, regress
from sactk.api.reporter import Quiet, Reporter
from sactk.api.sweeping import load, sweep_preset
from sactk.errors import SpecError, SpecMismatch
from sactk.files import write_csv, write_json

QUICK: dict[str, dict[str, Any]] = {
    "mp-temp": {
        "sweep.bias_a": [1e-8, 1e-7, 1e-6],
        "inputs.random.count": 8,
        "inputs.sweep.points": 11,
    },
    "mp-mc": {"mc.instances": 4, "sweep.temp_c": [27.0], "inputs.random.count": 8},
    "mp-tran": {"sweep.bias_a": [1e-8, 1e-6]},
    "shape-tanh-tran": {"sweep.bias_a": [1e-8, 1e-6]},
    "inner-product-mc": {
        "mc.instances": 3,
        "sweep.bias_a": [1e-8, 1e-6],
        "sweep.temp_c": [27.0],
        "inputs.random.count": 16,
    },
    "shape-tanh-mc": {
        "mc.instances": 3,
        "sweep.bias_a": [1e-8, 1e-6],
        "sweep.temp_c": [27.0],
        "inputs.sweep.points": 21,
    },
}
"""``quick=True``: the same steps on small sweeps (seconds, for a smoke test); the figures
are not the demo's."""

FULL: dict[str, dict[str, Any]] = {
    "mp-mc": {"inputs.random.count": 24},
    "inner-product-mc": {"mc.instances": 5},
    "shape-tanh-mc": {"mc.instances": 5},
}
"""The full demo's departures from the presets: its mismatch step measures the spread of 200
chips and fits no model, so it keeps 24 vectors per chip (the preset sweeps 60, what an
MP-unit model of every chip needs); the regression runs on 5 chips, so the neuron's cells
are characterized on 5 (the presets' 20 are for ``sactk regress --chips 20``)."""

FILES = (
    "mp-sweep/results.parquet",
    "mp-sweep/manifest.json",
    "mp-mc/results.parquet",
    "mp-mc/manifest.json",
    "mp-tran/results.parquet",
    "mp-tran/manifest.json",
    "shape-tanh-tran/results.parquet",
    "inner-product-mc/results.parquet",
    "inner-product-mc/manifest.json",
    "shape-tanh-mc/results.parquet",
    "shape-tanh-mc/manifest.json",
    "inner-product-noise/results.parquet",
    "shape-tanh-noise/results.parquet",
    "plots/transfer.png",
    "plots/transfer.pdf",
    "plots/error_vs_bias.png",
    "plots/error_vs_bias.pdf",
    "plots/error_heatmap.png",
    "plots/error_heatmap.pdf",
    "plots/scatter.png",
    "plots/scatter.pdf",
    "plots/mc_histograms.png",
    "plots/mc_histograms.pdf",
    "plots/mc_sigma_vs_bias.png",
    "plots/mc_sigma_vs_bias.pdf",
    "plots/speed_power.png",
    "plots/speed_power.pdf",
    "summary.json",
    "summary.csv",
    "mc_spread.csv",
    "speed_power.csv",
    "models/mp.npz",
    "models/mp.json",
    "models/mp.residuals.png",
    "models/inner_product.npz",
    "models/inner_product.json",
    "models/inner_product.residuals.png",
    "models/tanh.npz",
    "models/tanh.json",
    "models/tanh.residuals.png",
    "models/mp.sub",
    "models/verilog-a/sactk_mp_tt.va",
    "models/timing.csv",
    "layer-step/layer_step.csv",
    "regress/summary.json",
    "regress/summary.csv",
    "regress/regression.png",
    "regress/regression_fit.png",
    "regress/noise_tradeoff.csv",
    "regress/noise_tradeoff.png",
    "report.html",
)
"""Every file the demo writes (README, "What the demo produces"), relative to its folder."""


def demo(
    out: str | Path = "demo-out",
    *,
    jobs: int | None = None,
    quick: bool = False,
    reporter: Reporter | None = None,
) -> dict[str, Any]:
    """Run the demo into ``out``; returns its figures (what summary.json holds) with
    ``failed_points``, the number of points that did not simulate. Its plots are drawn by
    worker processes while it goes on (sactk.analysis.render)."""
    import tempfile

    from sactk.analysis import render

    # the report's plots drawn ahead live in `early` until the page embeds them
    with tempfile.TemporaryDirectory() as early, render.in_parallel():
        return _demo(Path(out), jobs, quick, reporter or Quiet(), Path(early))


def _demo(out: Path, jobs: int | None, quick: bool, rep: Reporter, early: Path) -> dict[str, Any]:
    import pandas as pd

    from sactk.analysis.report import results_parts

    failed = 0

    def updates_of(preset: str) -> dict[str, Any]:
        return (QUICK if quick else FULL).get(preset, {})

    def run(preset: str, folder: str, extra: dict[str, Any] | None = None) -> Any:
        nonlocal failed
        updates = updates_of(preset) | (extra or {})
        try:
            s = sweep_preset(preset, out / folder, updates=updates, jobs=jobs, reporter=rep)
        except SpecMismatch:
            raise SpecError(
                f"demo: {out} holds a demo run with other settings (--quick, or an older "
                f"sactk); remove it (rm -rf {out}) or give another --out"
            ) from None
        failed += s.failed_points
        return s

    if quick:
        rep.message("quick run: small sweeps that check the pipeline, not the demo's figures")
    rep.message("1/7 sweeping the 4-input MP cell: 7 bias currents x 3 temperatures on c180 ...")
    run("mp-temp", "mp-sweep")
    rep.message("2/7 error against ideal(), bias collapse and plots ...")
    figures = accuracy_and_collapse(out / "mp-sweep", out / "plots")
    acc = pd.DataFrame(figures["accuracy"])
    rep.message("\nmax |error| against ideal(), % of the largest input (RMS in summary.csv):")
    piv = acc.pivot_table(index="bias_a", columns="temp_c", values="max_abs_err_pct")
    rep.message(piv.map(lambda v: f"{v:.3f}").to_string())
    rep.message("\nbias collapse across 10 nA..10 uA (% of full scale):")
    rep.message("   temp   vectors  10 nA..10 uA  30 nA..10 uA")
    for r, r30 in zip(figures["collapse"], figures["collapse_from_30nA"], strict=True):
        rep.message(
            f"  {r['temp_c']:>5g} C  {r['pattern']:<7} {r['collapse_pct_fs']:>12.3f}"
            f"  {r30['collapse_pct_fs']:>12.3f}"
        )

    tables = {}
    for title, preset, table, cols, head in (
        (
            "3/7 mismatch: {n} Pelgrom chips x {b} biases x {t} temperatures (mp-mc)",
            "mp-mc",
            "mc_spread",
            ["temp_c", "bias_a", "sigma_pct", "chip_err_median_pct", "chip_err_p90_pct"],
            "sigma of out_z_a / bias_a across chips (% of gamma); each chip's max |error| "
            "(% of largest input), median and 90th percentile:",
        ),
        (
            "4/7 step response: settling time, power, energy per operation (mp-tran)",
            "mp-tran",
            "speed_power",
            ["bias_a", "settle_s", "power_w", "energy_j"],
            "settle_s to 1 % of final, supply power_w, energy_j = power_w x settle_s:",
        ),
    ):
        grid = load(preset=preset, updates=updates_of(preset))
        n, b, t = grid.mc.instances, len(grid.sweep.bias_a), len(grid.sweep.temp_c)
        rep.message("\n" + title.format(n=n, b=b, t=t) + " ...")
        run(preset, preset)
        df = pd.DataFrame(spread_and_speed(out / preset, out / "plots")[table])
        rep.message(head)
        rep.message(df[cols].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
        tables[table] = df
    spread, sp = tables["mc_spread"], tables["speed_power"]
    figures["mc_spread"] = spread.to_dict(orient="records")
    figures["speed_power"] = sp.to_dict(orient="records")
    write_csv(out / "summary.csv", acc)
    write_csv(out / "mc_spread.csv", spread)
    write_csv(out / "speed_power.csv", sp)

    # the report's sections of these three folders, built now: their plots are drawn by the
    # figure workers while this process fits the cell models on one core (step 5)
    first = [out / p for p in ("mp-sweep", "mp-mc", "mp-tran")]
    ready = results_parts(first, early)

    folds = 2 if quick else 5  # the quick run checks the pipeline, not the figures
    rep.message(f"\n5/7 cell models: the MP cell (validated on {folds} folds of its vectors) ...")
    model, mpath = fit(out / "mp-sweep", out / "models" / "mp", folds=folds)
    v = model.meta_["validation"]
    rep.message(
        f"{mpath}: new vectors, worst fold: max |error| {100 * v['max_err_fs']:.3f} % of "
        f"full scale (RMS {100 * v['rms_err_fs']:.4f} %) over {v['points']} points"
    )
    for fmt, dest in (("ngspice", "mp.sub"), ("verilog-a", "verilog-a")):
        export(model, fmt, out / "models" / dest)
    figures["model_validation"] = v
    models = [mpath]
    for preset, name, noise in (
        ("inner-product-mc", "inner_product", "inner-product-noise"),
        ("shape-tanh-mc", "tanh", "shape-tanh-noise"),
    ):
        cells = load(preset=preset, updates=updates_of(preset))
        n_mc, grid = cells.mc.instances, cells.sweep
        rep.message(f"{preset}: an S-AC neuron's cells, nominal and {n_mc} mismatch chips ...")
        run(preset, preset)
        rep.message(f"{noise}: their output noise at the same biases and temperatures ...")
        run(noise, noise, NOISE_SWEEPS[noise] | {"sweep.bias_a": list(grid.bias_a),
                                          "sweep.temp_c": list(grid.temp_c)})  # fmt: skip
        m_, p_ = fit(out / preset, out / "models" / name, folds=folds, noise=out / noise)
        vv = m_.meta_["validation"]
        rep.message(
            f"{p_}: new vectors, worst fold: max |error| {100 * vv['max_err_fs']:.3f} % of "
            f"full scale; per chip max {100 * vv['chips']['max_err_fs']:.2f} %, worst RMS "
            f"{100 * vv['chips']['rms_err_fs']:.2f} %"
        )
        figures[f"{name}_model_validation"] = vv
        models.append(p_)
    # settling times against bias, the regression's energy and throughput: the MP step for
    # the inner product, the tanh cell's own step for the activation
    rep.message("shape-tanh-tran: the activation cell's step response ...")
    run("shape-tanh-tran", "shape-tanh-tran")
    act = pd.DataFrame(spread_and_speed(out / "shape-tanh-tran", out / "plots-tanh")["speed_power"])
    timing = sp[["temp_c", "bias_a", "settle_s"]].merge(
        act[["bias_a", "settle_s"]].rename(columns={"settle_s": "settle_act_s"}), on="bias_a"
    )
    rep.message("the layer netlist's step response: the neuron's settling time and power ...")
    step = step_response(
        out / "layer-step",
        tuple(float(b) for b in sorted(act["bias_a"].unique())),
        jobs=jobs,
        reporter=rep,
    )
    timing = timing.merge(
        step[["bias_a", "settle_layer_s", "power_neuron_w", "power_shared_w"]], on="bias_a"
    )
    write_csv(out / "models" / "timing.csv", timing)

    hidden, chips = (16, 2) if quick else (64, 5)
    rep.message(
        f"\n6/7 S-AC regression on sinc(3x): {hidden} neurons, {chips} chips, every bias "
        "and temperature"
    )
    rows = regress(
        dataset("sinc"), out / "models", out / "regress", hidden=hidden, chips=chips, reporter=rep
    )
    shown = ["bias_a", "temp_c", "r2_mean", "r2_noise_mean", "r2_float_mean", "energy_j",
             "throughput_hz"]  # fmt: skip
    rep.message(rows[shown].to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    figures["regression"] = rows.to_dict(orient="records")
    write_json(out / "summary.json", figures)
    rep.message("\n7/7 HTML report ...")
    page = report(
        [*first, out / "inner-product-mc", out / "shape-tanh-mc"],
        out / "report.html",
        models,
        title="sactk demo: S-AC cells on c180, lookup models and the bias-scaling experiment",
        extra=[("S-AC regression on sinc(3x)", out / "regress")],
        ready=ready,
    )
    rep.message(f"report: {page}")
    rep.message(f"\nplots in {out / 'plots'}, figures in {out / 'summary.json'}")
    return {**figures, "failed_points": failed}

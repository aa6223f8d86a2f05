"""The cells' figures and tables: model-card curves, the MP characterization, the sweep
engine's and the other cells' plots, lookup-model figures (README.md, docs/cells.md,
docs/models.md, docs/sweeps.md)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from sactk import api
from sactk.analysis.figures import STYLE
from sactk.docsgen.common import DOCS, IMG, README, TABLE_BIASES, bias_text, pct, write_block
from sactk.netlists.technology import c180
from sactk.sweeps.curves import device_curves


def mp_results(tech: str = "c180") -> tuple[Any, Any]:
    """The mp-temp preset on ``tech``: (accuracy table, collapse tables all / from 30 nA)."""
    from sactk.analysis import metrics
    from sactk.analysis.results import load_results

    tmp = Path(tempfile.mkdtemp())
    try:
        api.sweep_preset("mp-temp", tmp / "r", [f"tech.name={tech}"])
        df = load_results(tmp / "r").frame
        return metrics.accuracy(df), (
            metrics.collapse(df),
            metrics.collapse(df, bias_min_a=30e-9),
        )
    finally:
        shutil.rmtree(tmp)


def mp_accuracy_block(c180: Any, gf: Any) -> str:
    """docs/cells.md: max / RMS error per bias and temperature, c180 and GF180MCU."""
    cols = [("c180", -40.0), ("c180", 27.0), ("c180", 125.0)]
    head = "| bias (gamma) | c180 -40 C max / RMS | c180 27 C | c180 125 C |"
    sep = "| --- | --- | --- | --- |"
    if gf is not None:
        cols += [("gf", 27.0), ("gf", 125.0)]
        head += " GF180MCU 27 C | GF180MCU 125 C |"
        sep += " --- | --- |"
    lines = [head, sep]
    for b in TABLE_BIASES:
        cells = []
        for which, t in cols:
            acc = c180 if which == "c180" else gf
            r = acc[(acc["bias_a"] == b) & (acc["temp_c"] == t)].iloc[0]
            cells.append(f"{pct(r['max_abs_err_pct'])} / {pct(r['rms_err_pct'])}")
        lines.append(f"| {bias_text(b)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def mp_collapse_block(c180: Any, gf: Any) -> str:
    """docs/cells.md: bias collapse per temperature (all vectors), c180 and GF180MCU."""
    full, from30 = c180
    worst = full.groupby("temp_c")["collapse_pct_fs"].max()
    worst30 = from30.groupby("temp_c")["collapse_pct_fs"].max()
    text = (
        "Bias collapse (largest spread of out_z_a / bias_a across the 7 bias currents from "
        f"10 nA to 10 uA, % of full scale): c180 {pct(worst[-40.0])} % at -40 C, "
        f"{pct(worst[27.0])} % at 27 C, {pct(worst[125.0])} % at 125 C "
        f"({pct(worst30[125.0])} % from 30 nA up)"
    )
    if gf is not None:
        gfull, _ = gf
        text += f"; GF180MCU at most {pct(gfull['collapse_pct_fs'].max())} % at any temperature"
    return text + "."


def mp_readme_block(c180: Any, gf: Any) -> str:
    """README: the headline error figures of the MP cell."""
    cold = c180[c180["temp_c"] < 100]["max_abs_err_pct"].max()
    text = (
        "Figures reached (error in % of the largest input, vectors with ideal output >= 0.1 "
        f"gamma): at most {pct(cold)} % from 10 nA to 10 uA at -40 and 27 C, on c180"
    )
    if gf is not None:
        text += f"; on GF180MCU at most {pct(gf['max_abs_err_pct'].max())} % at -40, 27 and 125 C"
    return text + "."


def mp_numbers() -> None:
    """The MP cell's tables and headline figures in docs/cells.md and README.md."""
    import os

    acc, col = mp_results("c180")
    gf_acc = gf_col = None
    if os.environ.get("PDK_ROOT"):
        gf_acc, gf_col = mp_results("gf180mcu")
    else:
        print("PDK_ROOT not set: the GF180MCU columns are left out")
    write_block(DOCS / "cells.md", "mp_accuracy", mp_accuracy_block(acc, gf_acc))
    write_block(DOCS / "cells.md", "mp_collapse", mp_collapse_block(col, gf_col))
    write_block(README, "mp_headline", mp_readme_block(acc, gf_acc))


def model_curves() -> None:
    df = device_curves(c180())
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(2, 2, figsize=(9, 6.5))
        for row, dev in enumerate(("nmos", "pmos")):
            d = df[df["device"] == dev]
            for t, g in d[d["curve"] == "idvg"].groupby("temp_c"):
                ax[row, 0].semilogy(g["vgs_v"], g["id_a"].abs(), label=f"{t:g} C")
            for (t, c), g in d[d["curve"].str.startswith("idvd")].groupby(["temp_c", "curve"]):
                if t in (-40.0, 125.0) and c != "idvd_0.9":
                    continue
                ls = {-40.0: ":", 27.0: "-", 125.0: "--"}[t]
                ax[row, 1].plot(
                    g["vds_v"], 1e6 * g["id_a"], ls, label=f"|Vgs| = {c[5:]} V, {t:g} C"
                )
            ax[row, 0].set(
                xlabel="|Vgs| (V)",
                ylabel="|Id| (A)",
                title=f"c180 {dev} W/L = 2/1 um, |Vds| = 1.8 V",
            )
            ax[row, 1].set(xlabel="|Vds| (V)", ylabel="|Id| (uA)", title=f"c180 {dev} Id-Vd")
            ax[row, 0].legend()
            ax[row, 1].legend(ncol=2)
        fig.tight_layout()
        fig.savefig(IMG / "c180_curves.png", bbox_inches="tight")
        plt.close(fig)


def mp_figures() -> None:
    tmp = Path(tempfile.mkdtemp())
    try:
        api.sweep_preset("mp-temp", tmp / "r")
        plots = tmp / "p"
        api.plot(tmp / "r", plots)
        for name in ("transfer", "error_vs_bias", "scatter"):
            shutil.copy(plots / f"{name}.png", IMG / f"mp_{name}.png")
    finally:
        shutil.rmtree(tmp)


def engine_figures() -> None:
    """Mismatch (mp-mc), area cost (mp-area) and speed/power (mp-tran) figures."""
    tmp = Path(tempfile.mkdtemp())
    try:
        for preset, names in (
            ("mp-mc", ("mc_histograms", "mc_sigma_vs_bias")),
            ("mp-area", ("area_cost",)),
            ("mp-tran", ("speed_power",)),
        ):
            api.sweep_preset(preset, tmp / preset)
            api.plot(tmp / preset, tmp / f"{preset}-plots")
            for name in names:
                shutil.copy(tmp / f"{preset}-plots" / f"{name}.png", IMG / f"mp_{name}.png")
    finally:
        shutil.rmtree(tmp)


def cell_figures() -> None:
    """The S-AC cell library: transfer curves, inner-product scatter, memory INL/DNL."""
    tmp = Path(tempfile.mkdtemp())
    try:
        for preset, names in (
            ("shape-relu", ("transfer",)),
            ("shape-sigmoid", ("transfer",)),
            ("shape-tanh", ("transfer",)),
            ("inner-product", ("scatter", "transfer")),
            ("compressive-memory", ("transfer", "inl_dnl")),
        ):
            api.sweep_preset(preset, tmp / preset)
            api.plot(tmp / preset, tmp / f"{preset}-plots")
            for name in names:
                shutil.copy(
                    tmp / f"{preset}-plots" / f"{name}.png",
                    IMG / f"{preset.replace('-', '_')}_{name}.png",
                )
    finally:
        shutil.rmtree(tmp)


def lookup_figures() -> None:
    """Error heatmap of mp-temp and the residuals of its lookup model on the held-out
    vectors (docs/lookup.md): what `sactk fit` and `sactk plot` make."""
    tmp = Path(tempfile.mkdtemp())
    try:
        api.sweep_preset("mp-temp", tmp / "r")
        api.fit(tmp / "r", tmp / "m")
        api.plot(tmp / "r", tmp / "p")
        shutil.copy(tmp / "p" / "error_heatmap.png", IMG / "mp_error_heatmap.png")
        shutil.copy(tmp / "m.residuals.png", IMG / "mp_model_residuals.png")
    finally:
        shutil.rmtree(tmp)

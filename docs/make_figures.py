"""Regenerate the figures in docs/: `.venv/bin/python docs/make_figures.py`.

Model-card curves (docs/models.md), the MP characterization shown in README.md and
docs/cells.md, and the Monte Carlo, area and speed/power figures of docs/sweeps.md, all
simulated with ngspice on c180.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from sactk import api
from sactk.analysis.figures import STYLE
from sactk.netlists.technology import c180
from sactk.sweeps.curves import device_curves

IMG = Path(__file__).parent / "img"


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


def regression_figures() -> None:
    """The bias-scaling experiment as `sactk demo` runs it (README, docs/regression.md)."""
    tmp = Path(tempfile.mkdtemp())
    try:
        api.demo(tmp)
        for name in ("regression", "regression_fit"):
            shutil.copy(tmp / "regress" / f"{name}.png", IMG / f"sac_{name}.png")
    finally:
        shutil.rmtree(tmp)


def sc_figures() -> None:
    """Stochastic-computing training (CNN and MLP) and the device fit (docs/sc.md, README)."""
    tmp = Path(tempfile.mkdtemp())
    try:
        api.sc.train(tmp / "cnn", net="cnn")
        api.sc.train(tmp / "mlp", net="mlp")
        api.sc.fit_device(tmp / "dev")
        for name in ("sc_accuracy_vs_length", "sc_accuracy_vs_bits", "sc_training_curves"):
            shutil.copy(tmp / "cnn" / f"{name}.png", IMG / f"{name}.png")
        shutil.copy(tmp / "mlp" / "sc_accuracy_vs_bits.png", IMG / "sc_mlp_accuracy_vs_bits.png")
        shutil.copy(tmp / "dev" / "sc_device.png", IMG / "sc_device.png")
    finally:
        shutil.rmtree(tmp)


def aimc_figures() -> None:
    """Crossbar characterization, AIMC accuracy and the NMPU bit sweep (docs/aimc.md)."""
    tmp = Path(tempfile.mkdtemp())
    try:
        api.aimc.characterize(tmp / "xbar")
        api.aimc.evaluate(tmp / "eval", spec=api.aimc.tile(crossbar=tmp / "xbar" / "crossbar.json"))
        api.aimc.bits(tmp / "bits")
        shutil.copy(tmp / "xbar" / "crossbar.png", IMG / "aimc_crossbar.png")
        shutil.copy(tmp / "eval" / "aimc_accuracy.png", IMG / "aimc_accuracy.png")
        shutil.copy(tmp / "bits" / "aimc_bits.png", IMG / "aimc_bits.png")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    IMG.mkdir(exist_ok=True)
    model_curves()
    mp_figures()
    engine_figures()
    cell_figures()
    lookup_figures()
    regression_figures()
    sc_figures()
    aimc_figures()
    print("figures written to", IMG)

"""docs/noise.md: the MP cell's output noise on five processes (c180, GF180MCU, sky130 in
ngspice; SG13G2, ASAP7 in VACASK), from the ``mp-noise`` preset at 27 C (needs PDK_ROOT:
``python docs/make_figures.py noise_figures``)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sactk import api
from sactk.analysis.figures import STYLE
from sactk.docsgen.common import DOCS, IMG, bias_text, write_block

TECHS = ("c180", "gf180mcu", "sky130", "sg13g2", "asap7")
BIASES = (1e-8, 1e-7, 1e-6)


def _sweep(tech: str, tmp: Path) -> Any:
    from sactk.analysis.results import load_results

    out = tmp / tech
    api.sweep_preset("mp-noise", out, [f"tech.name={tech}", "sweep.temp_c=[27]"])
    return load_results(out).frame


def _e(v: float) -> str:
    return "-" if not np.isfinite(v) else f"{v:.2g}"


def noise_figures() -> None:
    """The table (noise_processes block) and the density figure (img/noise_processes.png)."""
    from sactk.analysis.noise import at_frequency, noise_rows, noise_table

    tmp = Path(tempfile.mkdtemp())
    try:
        frames = {t: _sweep(t, tmp) for t in TECHS}
    finally:
        shutil.rmtree(tmp)
    growth: dict[str, list[float]] = {}
    lines = [
        "| process | bias | I_out | density at 1 kHz (A^2/Hz) | / 2qI_out | at 1 Hz "
        "| flicker corner | rms, 10 us window | SNR |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(TECHS), figsize=(20, 3.8), sharey=True)
        for ax, tech in zip(axes, TECHS, strict=True):
            df = frames[tech]
            table = noise_table(df, window_s=1e-5)
            rows = noise_rows(df)
            for b in BIASES:
                g = rows[rows["bias_a"] == b].sort_values("freq_hz")
                f, s = g["freq_hz"].to_numpy(), g["onoise_a2_hz"].to_numpy()
                i_out = float(g["out_z_a"].iloc[0])
                t = table[table["bias_a"] == b].iloc[0]
                corner = float(t["corner_hz"])
                lines.append(
                    f"| {tech} | {bias_text(b)} | {bias_text(i_out)} | {_e(t['density_1khz'])} "
                    f"| {t['shot_ratio']:.2f} | {_e(at_frequency(f, s, 1.0))} | "
                    f"{'white' if not np.isfinite(corner) else f'{corner:.2g} Hz'} | "
                    f"{100 * t['noise_rms_a'] / b:.3f} % of bias | {t['snr_db']:.1f} dB |"
                )
                growth.setdefault(tech, []).append(at_frequency(f, s, 1.0))
                ax.loglog(f, s, label=f"{bias_text(b)}")
            ax.set(title=tech, xlabel="freq_hz (Hz)")
            ax.legend(fontsize=8)
        axes[0].set_ylabel("onoise_a2_hz: output noise density (A^2/Hz)")
        fig.suptitle("MP cell output noise, 4 inputs at the bias, 27 C, tt (mp-noise preset)")
        fig.savefig(IMG / "noise_processes.png", dpi=110, bbox_inches="tight")
        plt.close(fig)
    steps = {t: np.array(v[1:]) / np.array(v[:-1]) for t, v in growth.items()}
    lines.append("")
    lines.append(
        "Per decade of bias, the 1 Hz density grew by "
        + "; ".join(f"{t} {', '.join(f'{x:.0f}x' for x in steps[t])}" for t in TECHS)
        + "."
    )
    write_block(DOCS / "noise.md", "noise_processes", "\n".join(lines))


def layer_noise_figures() -> None:
    """docs/noise.md's layer_noise block: ``sactk verify layer``'s noise check on a 4 x 4
    layer (c180, nominal, 4 samples) at 10 nA to 10 uA."""
    import pandas as pd

    from sactk.api.layer import Setup, verify_layer

    tmp = Path(tempfile.mkdtemp())
    try:
        setup = Setup(
            features=4, hidden=4, samples=4, chips=0, biases=(1e-8, 1e-7, 1e-6, 1e-5),
            noise_samples=4,
        )  # fmt: skip
        s = verify_layer(tmp, setup)
        per = pd.read_csv(tmp / "noise.csv")
    finally:
        shutil.rmtree(tmp)
    lines = [
        "| bias | readout window | netlist `.noise` (RMS, gamma) | runner (RMS, gamma) | "
        "runner / netlist: median | farthest from 1 | mirrors' noise / full shot noise |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in s["noise"]:
        lines.append(
            f"| {bias_text(r['bias_a'])} | {r['window_s']:.2g} s | {r['spice_rms_gamma']:.2e} "
            f"| {r['runner_rms_gamma']:.2e} | {r['ratio_median']:.3f} | {r['ratio_worst']:.3f} "
            f"| {r['mirror_noise']:.2f} |"
        )
    lines.append(
        f"\n{len(per)} neuron outputs (4 inputs x 4 neurons, 4 samples, 4 biases, 27 C); "
        "`python docs/make_figures.py layer_noise_figures`."
    )
    write_block(DOCS / "noise.md", "layer_noise", "\n".join(lines))


def bandwidth_figures() -> None:
    """docs/noise.md's bandwidth block and img/mp_bandwidth.png: the ``mp-ac`` preset on
    c180 (``python docs/make_figures.py bandwidth_figures``)."""
    from sactk.analysis.bandwidth import bandwidth_table, plot_bandwidth
    from sactk.analysis.results import load_results

    tmp = Path(tempfile.mkdtemp())
    try:
        api.sweep_preset("mp-ac", tmp / "r")
        df = load_results(tmp / "r").frame
        table = bandwidth_table(df)
        plot_bandwidth(df, tmp / "p")
        shutil.copy(tmp / "p" / "bandwidth.png", IMG / "mp_bandwidth.png")
    finally:
        shutil.rmtree(tmp)
    lines = [
        "| bias | -3 dB bandwidth | tau = 1 / (2 pi bw) | ln(100) tau | step's settle_s (1 %) "
        "| settle_s / ln(100) tau |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in table.sort_values("bias_a").to_dict(orient="records"):
        lines.append(
            f"| {bias_text(r['bias_a'])} | {r['bandwidth_hz']:.3g} Hz | {r['tau_s']:.3g} s | "
            f"{r['settle_est_s']:.3g} s | {r['settle_s']:.3g} s | {r['settle_ratio']:.2f} |"
        )
    write_block(DOCS / "noise.md", "mp_bandwidth", "\n".join(lines))


def export_noise_figures() -> None:
    """docs/noise.md's export_noise block: a sky130 MP-unit model's exports against the
    transistor cell at 6 vectors it never saw (needs PDK_ROOT and VACASK:
    ``python docs/make_figures.py export_noise_figures``)."""
    from sactk.api.noisecheck import export_noise_check

    text = (
        '[cell]\nname = "mp"\n[tech]\nname = "sky130"\n[sweep]\nbias_a = [1e-8, 1e-6]\n'
        "temp_c = [27]\n[inputs.random]\ncount = {n}\nseed = {seed}\n[inputs.sweep]\n"
        "points = 0\n[noise]\nfstop_hz = 1e6\npoints_per_decade = 5\n"
    )
    tmp = Path(tempfile.mkdtemp())
    try:
        for name, n, seed in (("fit", 40, 3), ("new", 6, 9)):
            (tmp / f"{name}.toml").write_text(text.format(n=n, seed=seed))
            api.sweep(api.load(tmp / f"{name}.toml"), tmp / name)
        api.fit(tmp / "fit", tmp / "m", folds=2)
        got = export_noise_check(tmp / "m", tmp / "new", tmp / "x", vectors=6)
    finally:
        shutil.rmtree(tmp)
    lines = [
        "| bias | frequency | VACASK / cell: median | farthest from 1 | within 10 % | ngspice / "
        "cell: median | farthest | exports / model |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for (b, hz), g in got.groupby(["bias_a", "freq_hz"], sort=True):
        va, ng = g["vacask_ratio"].to_numpy(), g["ngspice_ratio"].to_numpy()
        faithful = np.concatenate([g["vacask_a2_hz"], g["ngspice_a2_hz"]]) / np.concatenate(
            [g["model_a2_hz"], g["model_a2_hz"]]
        )
        lines.append(
            f"| {bias_text(b)} | {hz:g} Hz | {np.median(va):.3f} | "
            f"{va[np.argmax(np.abs(va - 1))]:.3f} | {int(np.sum(np.abs(va - 1) <= 0.1))} of "
            f"{len(va)} | {np.median(ng):.3f} | {ng[np.argmax(np.abs(ng - 1))]:.3f} | "
            f"{faithful.min():.3f}..{faithful.max():.3f} |"
        )
    write_block(DOCS / "noise.md", "export_noise", "\n".join(lines))


def chip_noise_figures() -> None:
    """docs/noise.md's chip_noise block: how the noise terms' per-output coefficients spread
    over 10 Monte Carlo chips of the mp-noise preset at 27 C, on c180 and sky130 (needs
    PDK_ROOT: ``python docs/make_figures.py chip_noise_figures``)."""
    from sactk.analysis.noise import noise_rows
    from sactk.analysis.noisemodel import fit_spectrum
    from sactk.analysis.results import load_results

    lines = [
        "| process | bias | output: sd / mean | white W / out: sd / mean | flicker K / out^2: "
        "sd / mean |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    tmp = Path(tempfile.mkdtemp())
    try:
        for tech in ("c180", "sky130"):
            api.sweep_preset(
                "mp-noise", tmp / tech, [f"tech.name={tech}", "sweep.temp_c=[27]",
                                         "mc.instances=10"],
            )  # fmt: skip
            rows = noise_rows(load_results(tmp / tech).frame)
            b: Any
            for b, g in rows.groupby("bias_a", sort=True):
                fit = []
                for _, h in g.groupby("mc_index"):
                    h = h.sort_values("freq_hz")
                    f, d = h["freq_hz"].to_numpy(float), h["onoise_a2_hz"].to_numpy(float)
                    w, k, _ = fit_spectrum(f[f <= 1e5], d[f <= 1e5])
                    fit.append((abs(float(h["out_z_a"].iloc[0])), w, k))
                arr = np.array(fit)
                o, wo, ko = arr[:, 0], arr[:, 1] / arr[:, 0], arr[:, 2] / arr[:, 0] ** 2

                def spread(v: np.ndarray) -> str:
                    return "-" if not v.mean() > 0 else f"{v.std() / v.mean():.3f}"

                lines.append(
                    f"| {tech} | {bias_text(b)} | {spread(o)} | {spread(wo)} | {spread(ko)} |"
                )
    finally:
        shutil.rmtree(tmp)
    write_block(DOCS / "noise.md", "chip_noise", "\n".join(lines))

"""Characterization plots (PNG and PDF, one style). Plotting never computes what
analysis/metrics.py should: every number drawn comes from a metrics function or a column."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sactk.analysis import metrics

STYLE: Any = {
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "font.size": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 7,
    "legend.frameon": False,
}


def _si(x: float, unit: str) -> str:
    for f, p in ((1e-12, "p"), (1e-9, "n"), (1e-6, "u"), (1e-3, "m"), (1.0, "")):
        if abs(x) < f * 999.5:
            return f"{x / f:.3g} {p}{unit}"
    return f"{x:.3g} {unit}"


def _save(fig: Any, outdir: Path, name: str) -> list[Path]:
    paths = []
    for ext in ("png", "pdf"):
        p = outdir / f"{name}.{ext}"
        fig.savefig(p, bbox_inches="tight")
        paths.append(p)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return paths


def _bias_colors(biases: np.ndarray) -> dict[float, Any]:
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    n = max(len(biases) - 1, 1)
    return {b: cmap(i / n) for i, b in enumerate(sorted(biases))}


def plot_transfer(df: Any, outdir: Path) -> list[Path]:
    """Swept-input transfer curves, raw (log-log) and bias-normalized, one panel row per
    temperature; the normalized panel overlays ideal() and shows the deviation below it."""
    import matplotlib.pyplot as plt

    d = metrics.with_ideal(df[(df["pattern"] == "sweep") & (df["status"] == "ok")])
    if d.empty:
        return []
    temps = sorted(d["temp_c"].unique())
    swept = metrics.input_cols(d)[0]
    # the swept column is the one that varies within a job
    for c in metrics.input_cols(d):
        if d.groupby("bias_a")[c].nunique().max() > 1:
            swept = c
            break
    colors = _bias_colors(d["bias_a"].unique())
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(len(temps), 3, figsize=(11, 3.2 * len(temps)), squeeze=False)
        for row, t in zip(axes, temps, strict=True):
            dt = d[d["temp_c"] == t]
            for b, g in dt.groupby("bias_a"):
                g = g.sort_values(swept)
                lab = _si(float(b), "A")
                pos = g[g[swept] > 0]
                row[0].loglog(pos[swept], pos["out_z_a"], color=colors[b], label=lab)
                row[1].plot(g[swept] / b, g["out_z_a"] / b, color=colors[b], label=lab)
                fs = float(g["ideal_z_a"].max() / b)
                row[2].plot(
                    g[swept] / b,
                    100 * (g["out_z_a"] - g["ideal_z_a"]) / b / fs,
                    color=colors[b],
                    label=lab,
                )
            g0 = dt[dt["bias_a"] == dt["bias_a"].min()].sort_values(swept)
            row[1].plot(
                g0[swept] / g0["bias_a"],
                g0["ideal_z_a"] / g0["bias_a"],
                "k--",
                lw=1,
                label="ideal()",
            )
            row[0].set(xlabel=f"{swept} (A)", ylabel="out_z_a (A)", title=f"raw, {t:g} C")
            row[1].set(
                xlabel=f"{swept} / bias_a",
                ylabel="out_z_a / bias_a",
                title=f"bias-normalized, {t:g} C",
            )
            row[2].set(
                xlabel=f"{swept} / bias_a",
                ylabel="circuit - ideal (% of full scale)",
                title=f"deviation from ideal(), {t:g} C",
            )
            row[1].legend(title="bias_a (gamma)", ncol=2)
        fig.suptitle(
            f"MP cell, {d['tech'].iloc[0]} {d['corner'].iloc[0]}: input swept, others held"
        )
        fig.tight_layout()
        return _save(fig, outdir, "transfer")


def plot_error_vs_bias(df: Any, outdir: Path) -> list[Path]:
    """Max and RMS error (% of largest input) against bias, one line per temperature."""
    import matplotlib.pyplot as plt

    acc = metrics.accuracy(df)
    if acc.empty:
        return []
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(1, 2, figsize=(9, 3.4))
        for t, g in acc.groupby("temp_c"):
            ax[0].loglog(g["bias_a"], g["max_abs_err_pct"], "o-", label=f"{t:g} C")
            ax[1].loglog(g["bias_a"], g["rms_err_pct"], "o-", label=f"{t:g} C")
        for a, lim, what in ((ax[0], 1.0, "max |error|"), (ax[1], 0.5, "RMS error")):
            a.axhline(lim, color="r", ls=":", lw=1, label=f"{lim:g} % bound")
            a.set(xlabel="bias_a, gamma (A)", ylabel=f"{what} (% of largest input)")
            a.legend()
        fig.suptitle("MP cell against ideal(): vectors with ideal output >= 0.1 gamma")
        fig.tight_layout()
        return _save(fig, outdir, "error_vs_bias")


def plot_scatter(df: Any, outdir: Path) -> list[Path]:
    """Circuit against ideal for the random vectors, normalized by bias."""
    import matplotlib.pyplot as plt

    d = metrics.valid(metrics.with_ideal(df[df["pattern"] == "random"]))
    if d.empty:
        return []
    colors = _bias_colors(d["bias_a"].unique())
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(4.2, 4))
        for b, g in d.groupby("bias_a"):
            ax.plot(
                g["ideal_z_a"] / b, g["out_z_a"] / b, ".", color=colors[b], label=_si(float(b), "A")
            )
        lim = float(max(d["ideal_z_a"] / d["bias_a"]))
        ax.plot([0, lim], [0, lim], "k--", lw=1, label="y = x")
        ax.set(
            xlabel="ideal_z_a / bias_a",
            ylabel="out_z_a / bias_a",
            title="random input vectors, all temperatures",
        )
        ax.legend(ncol=2)
        fig.tight_layout()
        return _save(fig, outdir, "scatter")


def plot_all(df: Any, outdir: str | Path) -> list[Path]:
    """Every characterization plot of a results table into ``outdir``."""
    import matplotlib

    matplotlib.use("Agg")
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for f in (plot_transfer, plot_error_vs_bias, plot_scatter):
        paths += f(df, out)
    return paths

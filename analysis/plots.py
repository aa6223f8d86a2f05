"""Characterization plots (PNG and PDF, one style). Plotting never computes what
analysis/metrics.py should: every number drawn comes from a metrics function or a column."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sactk.analysis import metrics
from sactk.analysis.figures import STYLE, axis_label, bias_colors, condition_label, save, si
from sactk.circuits.base import ideal_result_column

if TYPE_CHECKING:
    import pandas as pd


def _swept(d: pd.DataFrame) -> str:
    """The input column that varies within a bias (the swept one) of sweep-pattern rows."""
    cols = metrics.input_cols(d)
    for c in cols:
        if d.groupby("bias_a")[c].nunique().max() > 1:
            return str(c)
    return str(cols[0])


def _norm(d: pd.DataFrame, col: str) -> pd.Series:
    """A column in units of the bias if it is a current, else as is (``in_code``)."""
    return d[col] / d["bias_a"] if col.endswith("_a") else d[col]


def plot_transfer(df: pd.DataFrame, outdir: Path) -> list[Path]:
    """Swept-input transfer curves, raw and bias-normalized, one panel row per temperature,
    one line per bias; the normalized panel overlays ideal() and the third shows the
    deviation from it in % of full scale."""
    import matplotlib.pyplot as plt

    d = metrics.with_ideal(df[(df["pattern"].isin(["sweep", "code"])) & (df["status"] == "ok")])
    if d.empty:
        return []
    cell = metrics.cell_of(d)
    out = cell.output
    temps = sorted(d["temp_c"].unique())
    swept = _swept(d)
    xunit = "bias_a" if swept.endswith("_a") else ""
    xlab = f"{swept} / bias_a" if xunit else swept
    colors = bias_colors(d["bias_a"].unique())
    positive = bool((d[swept] > 0).any() and (d["out_a"] > 0).all())
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(len(temps), 3, figsize=(11, 3.2 * len(temps)), squeeze=False)
        for row, t in zip(axes, temps, strict=True):
            dt = d[d["temp_c"] == t]
            # one series per bias and per combination of every other coordinate that
            # varies (corner, supply, size, cell parameters): colour = bias, line = the rest
            other = [
                k for k in metrics.conditions(d, drop=("temp_c", "bias_a")) if d[k].nunique() > 1
            ]
            combos = [()] if not other else list(dt.groupby(other).groups)
            for b, g_b in dt.groupby("bias_a"):
                for ci, combo in enumerate(combos):
                    vals = combo if isinstance(combo, tuple) else (combo,)
                    g = g_b
                    for k, v in zip(other, vals, strict=False):
                        g = g[g[k] == v]
                    if g.empty:
                        continue
                    g = g.sort_values(swept)
                    ls = ("-", "--", ":", "-.")[ci % 4]
                    lab = si(float(b), "A") + "".join(
                        f", {condition_label(k, v)}" for k, v in zip(other, vals, strict=False)
                    )
                    if positive:
                        pos = g[g[swept] > 0]
                        row[0].loglog(pos[swept], pos["out_a"], ls, color=colors[b], label=lab)
                    else:
                        row[0].plot(g[swept], g["out_a"], ls, color=colors[b], label=lab)
                    row[1].plot(_norm(g, swept), g["out_a"] / b, ls, color=colors[b], label=lab)
                    row[2].plot(_norm(g, swept), g["err_pct_fs"], ls, color=colors[b], label=lab)
            g0 = dt[dt["bias_a"] == dt["bias_a"].min()]
            for k in other:  # ideal() of one combination: they share it unless a parameter varies
                g0 = g0[g0[k] == g0[k].iloc[0]]
            g0 = g0.sort_values(swept)
            row[1].plot(
                _norm(g0, swept), g0["ideal_a"] / g0["bias_a"], "k--", lw=1, label="ideal()"
            )
            if not positive:
                # Signed values over decades of bias: symmetric log axes, linear within
                # half the smallest bias of zero.
                lin = 0.5 * float(d["bias_a"].min())
                row[0].set_yscale("symlog", linthresh=lin)
                if xunit:
                    row[0].set_xscale("symlog", linthresh=lin)
            xraw = axis_label(swept)
            xlab = axis_label(swept, per_bias=bool(xunit))
            row[0].set(xlabel=xraw, ylabel=axis_label(out), title=f"raw, {t:g} C")
            row[1].set(
                xlabel=xlab,
                ylabel=axis_label(out, per_bias=True),
                title=f"bias-normalized, {t:g} C",
            )
            row[2].set(
                xlabel=xlab,
                ylabel="circuit - ideal (% of full scale)",
                title=f"deviation from ideal(), {t:g} C",
            )
            row[1].legend(title="bias_a (gamma)", ncol=2)
        fixed = [k for k in ("tech", "corner") if d[k].nunique() == 1]
        fig.suptitle(
            f"{cell.title}: transfer"
            + "".join(f", {condition_label(k, d[k].iloc[0])}" for k in fixed)
            + (f" (line style: {', '.join(other)})" if other else "")
        )
        return save(fig, outdir, "transfer")


def plot_error_vs_bias(df: pd.DataFrame, outdir: Path) -> list[Path]:
    """Max and RMS error (% of full scale) against bias, one line per condition (those of
    temperature, corner, supply and size that vary in the results)."""
    import matplotlib.pyplot as plt

    acc = metrics.accuracy(df)
    if acc.empty:
        return []
    cell = metrics.cell_of(df)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(1, 2, figsize=(9, 3.4))
        keys = metrics.conditions(acc, drop=("bias_a", "tech"))
        varying = [k for k in keys if acc[k].nunique() > 1] or ["temp_c"]
        for key, g in acc.groupby(varying):
            vals = key if isinstance(key, tuple) else (key,)
            label = ", ".join(condition_label(k, v) for k, v in zip(varying, vals, strict=True))
            ax[0].loglog(g["bias_a"], g["max_abs_err_pct"], "o-", label=label)
            ax[1].loglog(g["bias_a"], g["rms_err_pct"], "o-", label=label)
        for a, lim, what in ((ax[0], 1.0, "max |error|"), (ax[1], 0.5, "RMS error")):
            a.axhline(lim, color="r", ls=":", lw=1, label=f"{lim:g} % bound")
            a.set(xlabel="bias_a, gamma (A)", ylabel=f"{what} (% of full scale)")
            a.legend()
        fig.suptitle(f"{cell.title} against ideal(), nominal circuit")
        return save(fig, outdir, "error_vs_bias")


def plot_scatter(df: pd.DataFrame, outdir: Path) -> list[Path]:
    """Circuit against ideal for the random vectors, normalized by bias; for the inner
    product also against the true dot product."""
    import matplotlib.pyplot as plt

    d = metrics.valid(metrics.with_ideal(df[df["pattern"] == "random"]))
    if d.empty:
        return []
    cell = metrics.cell_of(d)
    colors = bias_colors(d["bias_a"].unique())
    refs = [("ideal_a", f"{ideal_result_column(cell)} / bias_a")]
    if "dot_xw_a" in d.columns:
        refs.append(("dot_xw_a", "dot_xw_a / bias_a (true w.x)"))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(refs), figsize=(4.2 * len(refs), 4), squeeze=False)
        for ax, (col, label) in zip(axes[0], refs, strict=True):
            for key, g in d.groupby("bias_a"):
                b = float(np.asarray(key))
                ax.plot(g[col] / b, g["out_a"] / b, ".", color=colors[b], label=si(b, "A"))
            lo = float(min(d[col] / d["bias_a"]))
            hi = float(max(d[col] / d["bias_a"]))
            if col == "ideal_a":
                ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="y = x")
            ax.set(xlabel=label, ylabel=f"{cell.output} / bias_a", title="random input vectors")
            ax.legend(ncol=2)
        return save(fig, outdir, "scatter")


def plot_linearity(df: pd.DataFrame, outdir: Path) -> list[Path]:
    """Compressive memory: INL and DNL (LSB of the law) against code, one line per bias and a
    panel row per temperature, and the worst |INL| against bias."""
    import matplotlib.pyplot as plt

    t = metrics.inl_dnl(metrics.op_rows(df))
    if t.empty:
        return []
    lin = metrics.linearity_of(t)
    temps = sorted(t["temp_c"].unique())
    colors = bias_colors(t["bias_a"].unique())
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(len(temps), 2, figsize=(9, 3 * len(temps)), squeeze=False)
        for row, temp in zip(axes, temps, strict=True):
            for b, g in t[t["temp_c"] == temp].groupby("bias_a"):
                lab = si(float(b), "A")
                row[0].plot(g["in_code"], g["inl_lsb"], ".-", color=colors[b], label=lab)
                row[1].plot(g["in_code"], g["dnl_lsb"], ".-", color=colors[b], label=lab)
            for a, what in ((row[0], "INL"), (row[1], "DNL")):
                bound = "+-0.5 LSB" if what == "INL" else "-1 LSB: a missing code"
                a.axhline(0.5 if what == "INL" else -1.0, color="r", ls=":", lw=1, label=bound)
                if what == "INL":
                    a.axhline(-0.5, color="r", ls=":", lw=1)
                a.set(xlabel="input code", ylabel=f"{what} (LSB of the law)", title=f"{temp:g} C")
            row[1].legend(loc="best")
            row[0].legend(title="bias_a", ncol=2)
        fig.suptitle("Compressive memory: end-point INL and DNL, local LSB of the law")
        paths = save(fig, outdir, "inl_dnl")
        fig, ax = plt.subplots(figsize=(4.6, 3.4))
        for temp, g in lin.groupby("temp_c"):
            label = f"{float(np.asarray(temp)):g} C"
            ax.loglog(g["bias_a"], g["max_abs_inl_lsb"], "o-", label=label)
        ax.axhline(0.5, color="r", ls=":", lw=1, label="0.5 LSB")
        ax.set(xlabel="bias_a (A)", ylabel="max |INL| (LSB)", title="worst INL against bias")
        ax.legend()
        return paths + save(fig, outdir, "inl_vs_bias")


def plot_monte_carlo(df: pd.DataFrame, outdir: Path) -> list[Path]:
    """Mismatch: histograms of the normalized output of one vector across chips (a panel per
    temperature, a colour per bias), sigma against bias, and chip max error against bias."""
    import matplotlib.pyplot as plt

    spread = metrics.mc_spread(df)
    if spread.empty:
        return []
    chips = metrics.chip_rows(df)
    sizes = spread[["w_um", "l_um"]].drop_duplicates().to_numpy()
    w0, l0 = sizes[0]
    chips = chips[(chips["w_um"] == w0) & (chips["l_um"] == l0)]
    ref = int(chips["point"].min())
    temps = sorted(chips["temp_c"].unique())
    colors = bias_colors(chips["bias_a"].unique())
    paths: list[Path] = []
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(temps), figsize=(3.2 * len(temps), 3), squeeze=False)
        for ax, t in zip(axes[0], temps, strict=True):
            d = chips[(chips["temp_c"] == t) & (chips["point"] == ref)]
            for b, g in d.groupby("bias_a"):
                z = g["out_a"] / b
                ax.hist(z, bins=25, histtype="step", color=colors[b], label=si(float(b), "A"))
            ideal = float((d["ideal_a"] / d["bias_a"]).iloc[0])
            ax.axvline(ideal, color="k", ls="--", lw=1, label="ideal()")
            ax.set(xlabel="output / gamma", ylabel="chips", title=f"{t:g} C, input vector {ref}")
        axes[0][0].legend(title="bias_a")
        title = metrics.cell_of(chips).title
        fig.suptitle(
            f"{title} mismatch: {int(spread['chips'].max())} chips, {w0:g}/{l0:g} um; each "
            f"panel: the spread of one input vector (point {ref}, the first simulated) over chips"
        )
        paths += save(fig, outdir, "mc_histograms")

        fig, ax = plt.subplots(1, 2, figsize=(9, 3.4))
        for (t, w, ll), g in spread.groupby(["temp_c", "w_um", "l_um"]):
            lab = f"{t:g} C" + (f", {w:g}/{ll:g} um" if len(sizes) > 1 else "")
            ax[0].semilogx(g["bias_a"], g["sigma_pct"], "o-", label=lab)
            (line,) = ax[1].semilogx(g["bias_a"], g["chip_err_p90_pct"], "o-", label=lab + " p90")
            ax[1].semilogx(
                g["bias_a"], g["chip_err_median_pct"], "s--", color=line.get_color(), alpha=0.6
            )
        ax[0].set(xlabel="bias_a (A)", ylabel="sigma of output / bias_a (% of gamma)")
        ax[1].set(
            xlabel="bias_a (A)",
            ylabel="chip max |error| (% of full scale)",
            title="90th percentile (solid), median (dashed)",
        )
        for a in ax:
            a.set_ylim(bottom=0)
            a.legend()
        paths += save(fig, outdir, "mc_sigma_vs_bias")
    return paths


def plot_area(df: pd.DataFrame, outdir: Path) -> list[Path]:
    """Area an accuracy target costs: worst 90th-percentile chip error against W L."""
    import matplotlib.pyplot as plt

    spread = metrics.mc_spread(df)
    if spread.empty or spread["area_um2"].nunique() < 2:
        return []
    cost = metrics.area_cost_of(spread)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(4.6, 3.6))
        ax.loglog(cost["area_um2"], cost["chip_err_p90_pct"], "o-", label="90th percentile")
        ax.loglog(cost["area_um2"], cost["chip_err_median_pct"], "s--", label="median")
        a = cost["area_um2"].to_numpy()
        ref = cost["chip_err_p90_pct"].iloc[0] * np.sqrt(a[0] / a)
        ax.loglog(a, ref, "k:", lw=1, label="Pelgrom 1/sqrt(WL)")
        ax.axhline(1.0, color="r", ls=":", lw=1, label="1 % target")
        for _, r in cost.iterrows():
            ax.annotate(f"{r['w_um']:g}/{r['l_um']:g}", (r["area_um2"], r["chip_err_p90_pct"]))
        ax.set(
            xlabel="W L of each matched device (um2)",
            ylabel="chip max |error| (% of full scale)",
            title=f"{metrics.cell_of(df).title}: mismatch error against device area",
        )
        ax.legend()
        return save(fig, outdir, "area_cost")


def plot_speed_power(df: pd.DataFrame, outdir: Path) -> list[Path]:
    """Bias scaling: settling time, supply power and energy per operation against bias."""
    import matplotlib.pyplot as plt

    sp = metrics.speed_power(df)
    if sp.empty:
        return []
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(1, 3, figsize=(11, 3.4))
        for t, g in sp.groupby("temp_c"):
            b = g["bias_a"].to_numpy()
            (line,) = ax[0].loglog(b, g["settle_s"], "o-", label=f"{t:g} C")
            ax[0].loglog(
                b, g["settle_s"].iloc[0] * b[0] / b, ":", color=line.get_color(), label="1 / bias"
            )
            ax[1].loglog(b, g["power_w"], "o-", label=f"{t:g} C")
            ax[2].loglog(b, g["energy_j"], "o-", label=f"{t:g} C")
        ax[0].set(xlabel="bias_a (A)", ylabel="settle_s: to 1 % of final (s)")
        ax[1].set(xlabel="bias_a (A)", ylabel="power_w: supply power (W)")
        ax[2].set(xlabel="bias_a (A)", ylabel="energy_j = power_w x settle_s (J)")
        for a in ax:
            a.legend()
        fig.suptitle(f"{metrics.cell_of(df).title} step response: speed and energy against bias")
        return save(fig, outdir, "speed_power")


def plot_error_heatmap(df: pd.DataFrame, outdir: Path) -> list[Path]:
    """Max |error| against ideal() (% of full scale) as a heatmap over bias x temperature,
    one panel per corner; needs at least two biases or two temperatures."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    acc = metrics.accuracy(df)
    if acc.empty or (acc["bias_a"].nunique() < 2 and acc["temp_c"].nunique() < 2):
        return []
    corners = sorted(acc["corner"].unique())
    with plt.rc_context({**STYLE, "axes.grid": False}):
        fig, axes = plt.subplots(
            1, len(corners), figsize=(1.2 + 4.2 * len(corners), 3.2), squeeze=False
        )
        for ax, corner in zip(axes[0], corners, strict=True):
            piv = acc[acc["corner"] == corner].pivot_table(
                index="temp_c", columns="bias_a", values="max_abs_err_pct", aggfunc="max"
            )
            vals = piv.to_numpy()
            pos = vals[np.isfinite(vals) & (vals > 0)]
            norm = LogNorm(vmin=pos.min(), vmax=pos.max()) if len(pos) else None
            im = ax.imshow(vals, aspect="auto", origin="lower", cmap="magma_r", norm=norm)
            for (i, j), v in np.ndenumerate(vals):
                r, g, b, _ = im.cmap(im.norm(v)) if np.isfinite(v) else (1, 1, 1, 1)
                dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5  # perceived luminance
                ax.text(
                    j,
                    i,
                    f"{v:.2g}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if dark else "black",
                )
            ax.set_xticks(range(piv.shape[1]), [si(b, "A") for b in piv.columns], rotation=45)
            ax.set_yticks(range(piv.shape[0]), [f"{t:g} C" for t in piv.index])
            ax.set(xlabel="bias_a", ylabel="temp_c", title=f"corner {corner}")
            fig.colorbar(im, ax=ax, label="max |error| (% of full scale)")
        fig.suptitle(
            f"{metrics.cell_of(df).title}: error against ideal() over bias and temperature"
        )
        return save(fig, outdir, "error_heatmap")


def plot_all(df: pd.DataFrame, outdir: str | Path) -> list[Path]:
    """Every characterization plot that applies to a results table, into ``outdir``."""
    import matplotlib

    matplotlib.use("Agg")
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    nominal = metrics.op_rows(df)
    if not nominal.empty:
        for f in (
            plot_transfer,
            plot_error_vs_bias,
            plot_error_heatmap,
            plot_scatter,
            plot_linearity,
        ):
            paths += f(nominal, out)
    for f in (plot_monte_carlo, plot_area, plot_speed_power):
        paths += f(df, out)
    return paths


def plot_crossbar(columns: pd.DataFrame, sizes: pd.DataFrame, outdir: Path) -> list[Path]:
    """Crossbar characterization: per-column gain and offset over Monte Carlo chips (one
    histogram per bias), and the nominal gain loss (IR drop) against tile size."""
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    outdir.mkdir(parents=True, exist_ok=True)
    chips = columns[columns["mc_index"] >= 0]
    t0 = min(chips["temp_c"].unique(), key=lambda t: abs(t - 27.0))
    chips = chips[chips["temp_c"] == t0]
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(1, 3, figsize=(12, 3.4))
        for b, g in chips.groupby("bias_a"):
            lab = f"G_max x V_read = {si(b, 'A')}"
            ax[0].hist(100 * (g["gain"] - 1), bins=20, alpha=0.5, label=lab)
            ax[1].hist(100 * g["offset_fs"], bins=20, alpha=0.5, label=lab)
        ax[0].set(
            xlabel="column gain error (%)",
            ylabel="columns x chips",
            title=f"gain, {chips['mc_index'].nunique()} chips, {t0:g} C",
        )
        ax[1].set(xlabel="column offset (% of full scale)", title="offset")
        for a in ax[:2]:
            a.legend(fontsize=6)
        for t, g in sizes.groupby("temp_c"):
            m = g.groupby("rows")["gain"].mean()
            ax[2].plot(m.index, 100 * (1 - m.to_numpy()), "o-", label=f"{t:g} C")
        ax[2].set(
            xlabel="tile rows",
            ylabel="gain loss from IR drop (%)",
            xscale="log",
            title="IR drop against tile size (nominal)",
        )
        ax[2].legend(fontsize=7)
        return save(fig, outdir, "crossbar")

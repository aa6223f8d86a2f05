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


def _condition_label(column: str, value: Any) -> str:
    """A legend entry for one condition value: ``27 C``, ``ff``, ``1.8 V``, ``w 4 um``."""
    units = {"temp_c": " C", "vdd_v": " V"}
    if column in units:
        return f"{value:g}{units[column]}"
    if column in ("w_um", "l_um"):
        return f"{column[0].upper()} {value:g} um"
    return str(value)


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


def _swept(d: Any) -> str:
    """The input column that varies within a bias (the swept one) of sweep-pattern rows."""
    cols = metrics.input_cols(d)
    for c in cols:
        if d.groupby("bias_a")[c].nunique().max() > 1:
            return str(c)
    return str(cols[0])


def _norm(d: Any, col: str) -> Any:
    """A column in units of the bias if it is a current, else as is (``in_code``)."""
    return d[col] / d["bias_a"] if col.endswith("_a") else d[col]


def plot_transfer(df: Any, outdir: Path) -> list[Path]:
    """Swept-input transfer curves, raw and bias-normalized, one panel row per temperature,
    one line per bias; the normalized panel overlays ideal() and the third shows the
    deviation from it in % of full scale."""
    import matplotlib.pyplot as plt

    d = metrics.with_ideal(df[(df["pattern"].isin(["sweep", "code"])) & (df["status"] == "ok")])
    if d.empty:
        return []
    cell = metrics.cell_of(d)
    out = cell.OUTPUT
    temps = sorted(d["temp_c"].unique())
    swept = _swept(d)
    xunit = "bias_a" if swept.endswith("_a") else ""
    xlab = f"{swept} / bias_a" if xunit else swept
    colors = _bias_colors(d["bias_a"].unique())
    positive = bool((d[swept] > 0).any() and (d["out_a"] > 0).all())
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(len(temps), 3, figsize=(11, 3.2 * len(temps)), squeeze=False)
        for row, t in zip(axes, temps, strict=True):
            dt = d[d["temp_c"] == t]
            for b, g in dt.groupby("bias_a"):
                g = g.sort_values(swept)
                lab = _si(float(b), "A")
                if positive:
                    pos = g[g[swept] > 0]
                    row[0].loglog(pos[swept], pos["out_a"], color=colors[b], label=lab)
                else:
                    row[0].plot(g[swept], g["out_a"], color=colors[b], label=lab)
                row[1].plot(_norm(g, swept), g["out_a"] / b, color=colors[b], label=lab)
                row[2].plot(_norm(g, swept), g["err_pct_fs"], color=colors[b], label=lab)
            g0 = dt[dt["bias_a"] == dt["bias_a"].min()].sort_values(swept)
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
            xraw = f"{swept} (A)" if xunit else swept
            row[0].set(xlabel=xraw, ylabel=f"{out} (A)", title=f"raw, {t:g} C")
            row[1].set(xlabel=xlab, ylabel=f"{out} / bias_a", title=f"bias-normalized, {t:g} C")
            row[2].set(
                xlabel=xlab,
                ylabel="circuit - ideal (% of full scale)",
                title=f"deviation from ideal(), {t:g} C",
            )
            row[1].legend(title="bias_a (gamma)", ncol=2)
        fig.suptitle(f"{cell.TITLE}, {d['tech'].iloc[0]} {d['corner'].iloc[0]}: transfer")
        fig.tight_layout()
        return _save(fig, outdir, "transfer")


def plot_error_vs_bias(df: Any, outdir: Path) -> list[Path]:
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
            label = ", ".join(_condition_label(k, v) for k, v in zip(varying, vals, strict=True))
            ax[0].loglog(g["bias_a"], g["max_abs_err_pct"], "o-", label=label)
            ax[1].loglog(g["bias_a"], g["rms_err_pct"], "o-", label=label)
        for a, lim, what in ((ax[0], 1.0, "max |error|"), (ax[1], 0.5, "RMS error")):
            a.axhline(lim, color="r", ls=":", lw=1, label=f"{lim:g} % bound")
            a.set(xlabel="bias_a, gamma (A)", ylabel=f"{what} (% of full scale)")
            a.legend()
        fig.suptitle(f"{cell.TITLE} against ideal(), nominal circuit")
        fig.tight_layout()
        return _save(fig, outdir, "error_vs_bias")


def plot_scatter(df: Any, outdir: Path) -> list[Path]:
    """Circuit against ideal for the random vectors, normalized by bias; for the inner
    product also against the true dot product."""
    import matplotlib.pyplot as plt

    d = metrics.valid(metrics.with_ideal(df[df["pattern"] == "random"]))
    if d.empty:
        return []
    cell = metrics.cell_of(d)
    colors = _bias_colors(d["bias_a"].unique())
    refs = [("ideal_a", f"{cell.IDEAL} / bias_a")]
    if "dot_xw" in d.columns:
        refs.append(("dot_xw", "dot_xw / bias_a (true w.x)"))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(refs), figsize=(4.2 * len(refs), 4), squeeze=False)
        for ax, (col, label) in zip(axes[0], refs, strict=True):
            for b, g in d.groupby("bias_a"):
                ax.plot(g[col] / b, g["out_a"] / b, ".", color=colors[b], label=_si(float(b), "A"))
            lo = float(min(d[col] / d["bias_a"]))
            hi = float(max(d[col] / d["bias_a"]))
            if col == "ideal_a":
                ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="y = x")
            ax.set(xlabel=label, ylabel=f"{cell.OUTPUT} / bias_a", title="random input vectors")
            ax.legend(ncol=2)
        fig.tight_layout()
        return _save(fig, outdir, "scatter")


def plot_linearity(df: Any, outdir: Path) -> list[Path]:
    """Compressive memory: INL and DNL (LSB of the law) against code, one line per bias and a
    panel row per temperature, and the worst |INL| against bias."""
    import matplotlib.pyplot as plt

    t = metrics.inl_dnl(metrics.op_rows(df))
    if t.empty:
        return []
    lin = metrics.linearity_of(t)
    temps = sorted(t["temp_c"].unique())
    colors = _bias_colors(t["bias_a"].unique())
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(len(temps), 2, figsize=(9, 3 * len(temps)), squeeze=False)
        for row, temp in zip(axes, temps, strict=True):
            for b, g in t[t["temp_c"] == temp].groupby("bias_a"):
                lab = _si(float(b), "A")
                row[0].plot(g["in_code"], g["inl_lsb"], ".-", color=colors[b], label=lab)
                row[1].plot(g["in_code"], g["dnl_lsb"], ".-", color=colors[b], label=lab)
            for a, what in ((row[0], "INL"), (row[1], "DNL")):
                a.axhline(0.5 if what == "INL" else -1.0, color="r", ls=":", lw=1)
                if what == "INL":
                    a.axhline(-0.5, color="r", ls=":", lw=1)
                a.set(xlabel="in_code", ylabel=f"{what} (LSB of the law)", title=f"{temp:g} C")
            row[0].legend(title="bias_a", ncol=2)
        fig.suptitle("Compressive memory: end-point INL and DNL, local LSB of the law")
        fig.tight_layout()
        paths = _save(fig, outdir, "inl_dnl")
        fig, ax = plt.subplots(figsize=(4.6, 3.4))
        for temp, g in lin.groupby("temp_c"):
            ax.loglog(g["bias_a"], g["max_abs_inl_lsb"], "o-", label=f"{temp:g} C")
        ax.axhline(0.5, color="r", ls=":", lw=1, label="0.5 LSB")
        ax.set(xlabel="bias_a (A)", ylabel="max |INL| (LSB)", title="worst INL against bias")
        ax.legend()
        fig.tight_layout()
        return paths + _save(fig, outdir, "inl_vs_bias")


def plot_monte_carlo(df: Any, outdir: Path) -> list[Path]:
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
    colors = _bias_colors(chips["bias_a"].unique())
    paths: list[Path] = []
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(temps), figsize=(3.2 * len(temps), 3), squeeze=False)
        for ax, t in zip(axes[0], temps, strict=True):
            d = chips[(chips["temp_c"] == t) & (chips["point"] == ref)]
            for b, g in d.groupby("bias_a"):
                z = g["out_a"] / b
                ax.hist(z, bins=25, histtype="step", color=colors[b], label=_si(float(b), "A"))
            ideal = float((d["ideal_a"] / d["bias_a"]).iloc[0])
            ax.axvline(ideal, color="k", ls="--", lw=1, label="ideal()")
            ax.set(xlabel=f"output / bias_a, vector {ref}", ylabel="chips", title=f"{t:g} C")
        axes[0][0].legend(title="bias_a")
        title = metrics.cell_of(chips).TITLE
        fig.suptitle(f"{title} mismatch: {int(spread['chips'].max())} chips, {w0:g}/{l0:g} um")
        fig.tight_layout()
        paths += _save(fig, outdir, "mc_histograms")

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
        fig.tight_layout()
        paths += _save(fig, outdir, "mc_sigma_vs_bias")
    return paths


def plot_area(df: Any, outdir: Path) -> list[Path]:
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
            title=f"{metrics.cell_of(df).TITLE}: mismatch error against device area",
        )
        ax.legend()
        fig.tight_layout()
        return _save(fig, outdir, "area_cost")


def plot_speed_power(df: Any, outdir: Path) -> list[Path]:
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
        fig.suptitle(f"{metrics.cell_of(df).TITLE} step response: speed and energy against bias")
        fig.tight_layout()
        return _save(fig, outdir, "speed_power")


def plot_error_heatmap(df: Any, outdir: Path) -> list[Path]:
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
            ax.set_xticks(range(piv.shape[1]), [_si(b, "A") for b in piv.columns], rotation=45)
            ax.set_yticks(range(piv.shape[0]), [f"{t:g} C" for t in piv.index])
            ax.set(xlabel="bias_a", ylabel="temp_c", title=f"corner {corner}")
            fig.colorbar(im, ax=ax, label="max |error| (% of full scale)")
        fig.suptitle(
            f"{metrics.cell_of(df).TITLE}: error against ideal() over bias and temperature"
        )
        fig.tight_layout()
        return _save(fig, outdir, "error_heatmap")


def plot_residuals(model: Any, df: Any, outdir: Path, name: str = "model_residuals") -> list[Path]:
    """Lookup-model residuals (model - simulation, % of full scale) against the model's
    coordinate, one panel per temperature, one colour per bias."""
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    from sactk.analysis.lut import ok_rows

    rows = ok_rows(df, nominal=True)
    rows = rows[model.inside(rows)]
    if rows.empty:
        return []
    e = model.errors(rows)
    e["u_norm"] = model._u(e)
    temps = sorted(e["temp_c"].unique())
    colors = _bias_colors(e["bias_a"].unique())
    v = model.meta_.get("validation", {})
    outdir.mkdir(parents=True, exist_ok=True)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(
            1, len(temps), figsize=(1.5 + 3.6 * len(temps), 3.3), squeeze=False, sharey=True
        )
        for ax, t in zip(axes[0], temps, strict=True):
            g = e[e["temp_c"] == t]
            for b, gb in g.groupby("bias_a"):
                ax.plot(
                    gb["u_norm"], 100 * gb["err_fs"], ".", ms=3, color=colors[b], label=_si(b, "A")
                )
            ax.axhline(1.0, color="r", ls=":", lw=1)
            ax.axhline(-1.0, color="r", ls=":", lw=1)
            unit = "/ bias_a" if model.coord_per_bias_ else ""
            ax.set(xlabel=f"{model.coordinate_} {unit}".strip(), title=f"{t:g} C")
        axes[0][0].set_ylabel("model - simulation (% of full scale)")
        axes[0][-1].legend(title="bias_a", loc="best")
        txt = ""
        if "max_err_fs" in v:
            txt = (
                f"; held-out max {100 * v['max_err_fs']:.2f} %,"
                f" RMS {100 * v['rms_err_fs']:.3f} % of full scale"
            )
        fig.suptitle(f"Lookup model of {model.cell_}.{model.output_}, nominal{txt}", fontsize=9)
        fig.tight_layout()
        return _save(fig, outdir, name)


def plot_all(df: Any, outdir: str | Path) -> list[Path]:
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


def plot_regression(rows: Any, outdir: Path, title: str = "") -> list[Path]:
    """The bias-scaling experiment (``sactk regress``): unexplained variance 1 - R2 against
    bias and against energy per inference (hardware-in-the-loop readout and the
    floating-point readout run on the chips, mean and spread over chips, one line per
    temperature), and throughput against power."""
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    outdir.mkdir(parents=True, exist_ok=True)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(1, 3, figsize=(12.5, 3.6))
        for t, g in rows.groupby("temp_c"):
            g = g.sort_values("bias_a")
            b = g["bias_a"].to_numpy()
            hil = 1.0 - g["r2_mean"].to_numpy()
            (line,) = ax[0].loglog(b, hil, "o-", label=f"{t:g} C, readout fitted on chip")
            ax[0].fill_between(
                b,
                np.maximum(hil - g["r2_std"], 1e-9),
                hil + g["r2_std"],
                color=line.get_color(),
                alpha=0.2,
            )
            ax[0].loglog(
                b,
                1.0 - g["r2_float_mean"],
                "s:",
                color=line.get_color(),
                ms=3,
                label=f"{t:g} C, float readout on chip",
            )
            ax[0].loglog(
                b,
                1.0 - g["r2_float_nominal"],
                "^--",
                color=line.get_color(),
                ms=3,
                lw=0.8,
                label=f"{t:g} C, float readout, no mismatch",
            )
            ax[1].loglog(g["energy_j"], hil, "o-", color=line.get_color(), label=f"{t:g} C")
            ax[2].loglog(
                g["power_w"], g["throughput_hz"], "o-", color=line.get_color(), label=f"{t:g} C"
            )
            for x, y, bb in zip(g["power_w"], g["throughput_hz"], b, strict=True):
                ax[2].annotate(
                    _si(bb, "A"), (x, y), fontsize=6, xytext=(3, -8), textcoords="offset points"
                )
        ideal = 1.0 - float(rows["r2_ideal"].iloc[0])
        ax[0].axhline(ideal, color="k", ls="--", lw=1, label="ideal cells (float)")
        ax[0].axhline(0.05, color="r", ls=":", lw=1, label="R2 = 0.95")
        ax[0].set(xlabel="bias_a (A)", ylabel="1 - R2 on test data (mean over chips)")
        ax[1].set(xlabel="energy_j per inference (J)", ylabel="1 - R2, readout fitted on chip")
        ax[2].set(xlabel="power_w of the hidden layer (W)", ylabel="throughput_hz (inferences/s)")
        from matplotlib.ticker import NullFormatter

        ax[0].legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=2)
        for a in ax[1:]:
            a.legend(fontsize=6)
            a.xaxis.set_minor_formatter(NullFormatter())
        ax[2].yaxis.set_minor_formatter(NullFormatter())
        fig.suptitle(title or "S-AC regression against bias")
        fig.tight_layout()
        return _save(fig, outdir, "regression")


def plot_regression_fit(details: Any, rows: Any, outdir: Path, title: str = "") -> list[Path]:
    """For a 1-D data set: the target and the chips' predictions at the lowest and highest
    bias (27 C, or the temperature nearest to it)."""
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    X, y, curves = details["X"], details["y"], details["curves"]
    if X.shape[1] != 1:
        return []
    temps = sorted({t for t, _ in curves})
    t = min(temps, key=lambda v: abs(v - 27.0))
    biases = sorted(b for tt, b in curves if tt == t)
    order = np.argsort(X[:, 0])
    test = details["test"][order]
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
        for ax, b in zip(axes, (biases[0], biases[-1]), strict=True):
            pred = curves[(t, b)][:, order]
            ax.plot(X[order, 0], y[order], "k-", lw=2, label="target")
            for c in range(pred.shape[0]):
                ax.plot(X[order, 0], pred[c], lw=0.8, label="chips" if c == 0 else None)
            ax.plot(X[order, 0][test], y[order][test], "k.", ms=3, label="test points")
            r = rows[(rows["temp_c"] == t) & (rows["bias_a"] == b)].iloc[0]
            ax.set(
                xlabel="x",
                title=f"bias {_si(b, 'A')}, {t:g} C: R2 {r['r2_mean']:.4f} "
                f"(mean of {int(r['chips'])} chips)",
            )
            ax.legend()
        axes[0].set_ylabel("y")
        fig.suptitle(title or "S-AC regression: hardware-in-the-loop readout")
        fig.tight_layout()
        return _save(fig, outdir, "regression_fit")


def plot_sc(summary: dict[str, Any], outdir: Path) -> list[Path]:
    """Stochastic-computing training: test accuracy against stream length, training curves
    (float against SC at the chosen length), and accuracy against weight precision."""
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    outdir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    net, L = summary["net"], summary["length"]
    with plt.rc_context(STYLE):
        if summary["lengths"]:
            fig, ax = plt.subplots(figsize=(5, 3.4))
            ls = [r["length"] for r in summary["lengths"]]
            m = np.array([r["sc_acc_mean"] for r in summary["lengths"]])
            s = np.array([r["sc_acc_std"] for r in summary["lengths"]])
            ax.errorbar(ls, m, yerr=s, fmt="o-", capsize=3, label="SC updates")
            ax.axhline(summary["float_acc_mean"], color="k", ls="--", label="floating point")
            ax.axhspan(
                summary["float_acc_mean"] - 1,
                summary["float_acc_mean"] + 1,
                color="k",
                alpha=0.08,
                label="float +- 1 point",
            )
            ax.set_xscale("log", base=2)
            ax.set(
                xlabel="stream length L (bits)",
                ylabel="test accuracy (%)",
                title=f"{net}: accuracy against L ({summary['seeds']} seeds)",
            )
            ax.legend()
            fig.tight_layout()
            paths += _save(fig, outdir, "sc_accuracy_vs_length")
        fig, ax = plt.subplots(1, 2, figsize=(9, 3.3))
        for name, style in (("float", "-"), ("sc", "--")):
            for i, curve in enumerate(summary["curves"][name]):
                c = np.array(curve)
                lab = (name if name == "float" else f"SC, L = {L}") if i == 0 else None
                color = "k" if name == "float" else "tab:orange"
                ax[0].plot(c[:, 0], c[:, 1], style, color=color, lw=1, label=lab)
                ax[1].plot(c[:, 0], 100 * c[:, 2], style, color=color, lw=1, label=lab)
        ax[0].set(xlabel="epoch", ylabel="training loss (cross-entropy)", yscale="log")
        ax[1].set(xlabel="epoch", ylabel="test accuracy (%)")
        for a in ax:
            a.legend()
        fig.suptitle(f"{net}: training curves, one line per seed")
        fig.tight_layout()
        paths += _save(fig, outdir, "sc_training_curves")
        if summary["precision"]:
            fig, ax = plt.subplots(figsize=(5.5, 3.6))
            b = [r["bits"] for r in summary["precision"]]
            for key, lab, fmt in (
                ("fixed", "fixed point, rounded updates", "s-"),
                ("sc", f"fixed point, SC updates (L = {L})", "o-"),
            ):
                ax.errorbar(
                    b,
                    [r[f"{key}_acc_mean"] for r in summary["precision"]],
                    yerr=[r[f"{key}_acc_std"] for r in summary["precision"]],
                    fmt=fmt,
                    capsize=3,
                    label=lab,
                )
            ax.axhline(summary["float_acc_mean"], color="k", ls="--", label="float weights")
            ax.set(
                xlabel="weight precision (bits)",
                ylabel="test accuracy (%)",
                title=f"{net}: accuracy against weight precision",
            )
            ax.legend()
            fig.tight_layout()
            paths += _save(fig, outdir, "sc_accuracy_vs_bits")
    return paths


def plot_device_fit(
    data: Any, device: Any, fitted: tuple[float, float], outdir: Path
) -> list[Path]:
    """Switching probability against amplitude (one colour per width): data and the fitted
    model; and what devices with the model's spread encode against the target p."""
    import matplotlib
    import matplotlib.pyplot as plt

    from sactk.system.sc import encoding_spread

    matplotlib.use("Agg")
    outdir.mkdir(parents=True, exist_ok=True)
    tau0, v0 = fitted
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
        for (w, g), color in zip(
            data.groupby("width_s"),
            plt.cm.viridis(np.linspace(0, 0.9, data["width_s"].nunique())),
            strict=True,
        ):
            ax[0].plot(
                g["amplitude_v"],
                g["switched"] / g["trials"],
                "o",
                color=color,
                ms=4,
                label=f"data, t = {_si(w, 's')}",
            )
            v = np.linspace(data["amplitude_v"].min(), data["amplitude_v"].max(), 200)
            ax[0].plot(v, device.p_switch(v, w, tau0, v0), "-", color=color, lw=1)
        ax[0].set(
            xlabel="pulse amplitude (V)",
            ylabel="switching probability",
            title=f"fit: tau0 = {tau0:.3g} s, V0 = {v0 * 1e3:.1f} mV",
        )
        ax[0].legend(fontsize=6)
        p = np.linspace(0.01, 0.99, 50)
        spread = encoding_spread(device, p, 2000, 0)
        ax[1].plot(p, p, "k--", lw=1, label="ideal")
        ax[1].plot(p, spread["mean"], "-", label="mean over devices")
        ax[1].fill_between(p, spread["p05"], spread["p95"], alpha=0.3, label="5-95 % of devices")
        ax[1].set(
            xlabel="target p",
            ylabel="encoded p'",
            title=f"encoding with device spread (ln tau0 {device.sigma_ln_tau0:g}, "
            f"V0 {100 * device.sigma_v0:g} %)",
        )
        ax[1].legend(fontsize=7)
        fig.tight_layout()
        return _save(fig, outdir, "sc_device")


def plot_aimc(runs: list[dict[str, Any]], outdir: Path) -> list[Path]:
    """Accuracy of each case: float, and through the tiles with FP32, FP16 and fixed-point
    NMPU post-processing (mean and spread over chips)."""
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    outdir.mkdir(parents=True, exist_ok=True)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(1.5 + 2.2 * len(runs), 3.4))
        keys = [
            ("float_acc", "float (no tile)"),
            ("fp32", "tile + FP32"),
            ("fp16", "tile + FP16"),
            ("fixed", "tile + fixed NMPU"),
        ]
        w = 0.8 / len(keys)
        for j, (k, lab) in enumerate(keys):
            m = [r[k] if k == "float_acc" else r[f"{k}_acc_mean"] for r in runs]
            e = [0 if k == "float_acc" else r[f"{k}_acc_std"] for r in runs]
            ax.bar(np.arange(len(runs)) + (j - 1.5) * w, m, w, yerr=e, capsize=2, label=lab)
        ax.set_xticks(range(len(runs)), [r["case"] for r in runs])
        lo = min(min(r["fixed_acc_mean"], r["fp16_acc_mean"]) for r in runs)
        ax.set(
            ylabel="test accuracy (%)",
            ylim=(max(0, lo - 5), 100.5),
            title=f"AIMC inference, {runs[0]['chips']} chips",
        )
        ax.legend(fontsize=7, loc="lower right")
        fig.tight_layout()
        return _save(fig, outdir, "aimc_accuracy")


def plot_aimc_bits(doc: dict[str, Any], outdir: Path) -> list[Path]:
    """Pareto plot: accuracy drop against FP16 versus post-processing cost (gate
    equivalents per column), one point per (scale, offset) format, the front highlighted."""
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    rows = doc["rows"]
    ge = np.array([r["fixed_ge"] for r in rows])
    drop = np.array([r["drop_vs_fp16"] for r in rows])
    order = np.argsort(ge)
    front, best = [], np.inf
    for i in order:
        if drop[i] < best:
            front.append(i)
            best = drop[i]
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.5, 4))
        for off in sorted({r["offset"] for r in rows}):
            idx = [i for i, r in enumerate(rows) if r["offset"] == off]
            ax.plot(ge[idx], drop[idx], "o", label=f"offset {off}")
        ax.plot(ge[front], drop[front], "k-", lw=1, label="Pareto front")
        for i in front:
            ax.annotate(
                rows[i]["scale"],
                (ge[i], drop[i]),
                fontsize=6,
                xytext=(3, 3),
                textcoords="offset points",
            )
        ax.axhline(0.5, color="r", ls=":", lw=1, label="0.5 point")
        ax.axvline(rows[0]["fp16_ge"], color="grey", ls="--", lw=1, label="FP16 FMA")
        ax.set(
            xlabel="NMPU cost per column (gate equivalents)",
            ylabel="accuracy drop against FP16 (points)",
            title=f"{doc['case']}: NMPU formats, {doc['chips']} chips",
        )
        ax.legend(fontsize=6)
        fig.tight_layout()
        return _save(fig, outdir, "aimc_bits")


def plot_crossbar(columns: Any, sizes: Any, outdir: Path) -> list[Path]:
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
            lab = f"G_max x V_read = {_si(b, 'A')}"
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
        fig.tight_layout()
        return _save(fig, outdir, "crossbar")

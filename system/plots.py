"""Plots of the system experiments: S-AC regression, stochastic-computing training and
device fit, AIMC accuracy and NMPU bit widths. Every number drawn comes from the
experiment's summary; nothing is computed here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sactk.analysis.figures import STYLE, save, si


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
            if "r2_noise_mean" in g and g["r2_noise_mean"].notna().any():
                ax[0].loglog(
                    b, 1.0 - g["r2_noise_mean"], "x-.", color=line.get_color(), ms=4, lw=0.8,
                    label=f"{t:g} C, readout fitted on chip, with noise",
                )  # fmt: skip
            ax[1].loglog(g["energy_j"], hil, "o-", color=line.get_color(), label=f"{t:g} C")
            ax[2].loglog(
                g["power_w"], g["throughput_hz"], "o-", color=line.get_color(), label=f"{t:g} C"
            )
            for x, y, bb in zip(g["power_w"], g["throughput_hz"], b, strict=True):
                ax[2].annotate(
                    si(bb, "A"), (x, y), fontsize=6, xytext=(3, -8), textcoords="offset points"
                )
        ideal = 1.0 - float(rows["r2_ideal"].iloc[0])
        ax[0].axhline(ideal, color="k", ls="--", lw=1, label="ideal cells (float)")
        ax[0].axhline(0.05, color="r", ls=":", lw=1, label="R2 = 0.95")
        ax[0].set(xlabel="bias current gamma (A)", ylabel="1 - R2 on test data (mean over chips)")
        ax[1].set(xlabel="energy per inference (J)", ylabel="1 - R2, readout fitted on chip")
        ax[2].set(xlabel="supply power of the hidden layer (W)", ylabel="throughput (inferences/s)")
        from matplotlib.ticker import NullFormatter

        ax[0].legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=2)
        for a in ax[1:]:
            a.legend(fontsize=6)
            a.xaxis.set_minor_formatter(NullFormatter())
        ax[2].yaxis.set_minor_formatter(NullFormatter())
        fig.suptitle(title or "S-AC regression against bias")
        return save(fig, outdir, "regression")


def plot_noise_tradeoff(tradeoff: Any, outdir: Path, title: str = "") -> list[Path]:
    """Energy per inference against 1 - R2 with noise (chip in the loop), one line per bias
    through the readout windows (in settling times), at the temperature nearest 27 C; the
    noiseless 1 - R2 of each bias is the dotted floor."""
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    if tradeoff is None or len(tradeoff) == 0:
        return []
    temps = tradeoff["temp_c"].unique()
    t = float(min(temps, key=lambda v: abs(v - 27.0)))
    rows = tradeoff[tradeoff["temp_c"] == t]
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5.6, 3.8))
        for b, g in rows.groupby("bias_a"):
            g = g.sort_values("window_s")
            (line,) = ax.loglog(g["energy_j"], 1.0 - g["r2_noise_mean"], "o-", label=si(b, "A"))
            ax.loglog(g["energy_j"], 1.0 - g["r2_mean"], ":", color=line.get_color(), lw=0.8)
            for x, y, m in zip(g["energy_j"], 1.0 - g["r2_noise_mean"], g["window_settle"],
                               strict=True):  # fmt: skip
                ax.annotate(
                    f"{m:g}x", (x, y), fontsize=6, xytext=(3, 3), textcoords="offset points"
                )
        ax.set(
            xlabel="energy per inference (J)",
            ylabel="1 - R2 with noise, readout fitted on chip",
            title=title or f"noise against energy at {t:g} C (windows in settling times)",
        )
        ax.legend(fontsize=6, title="bias", title_fontsize=6)
        return save(fig, outdir, "noise_tradeoff")


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
                title=f"bias {si(b, 'A')}, {t:g} C: R2 {r['r2_mean']:.4f} "
                f"(mean of {int(r['chips'])} chips)",
            )
            ax.legend()
        axes[0].set_ylabel("y")
        fig.suptitle(title or "S-AC regression: hardware-in-the-loop readout")
        return save(fig, outdir, "regression_fit")


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
            paths += save(fig, outdir, "sc_accuracy_vs_length")
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
        paths += save(fig, outdir, "sc_training_curves")
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
            paths += save(fig, outdir, "sc_accuracy_vs_bits")
    return paths


def plot_device_fit(
    data: Any, device: Any, fitted: tuple[float, float], spread: Any, outdir: Path
) -> list[Path]:
    """Switching probability against amplitude (one colour per width): data and the fitted
    model; and what devices with the model's spread encode against the target p
    (``spread``: ``p``, ``mean``, ``p05``, ``p95`` from system.sc.encoding_spread)."""
    import matplotlib
    import matplotlib.pyplot as plt

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
                label=f"data, t = {si(w, 's')}",
            )
            v = np.linspace(data["amplitude_v"].min(), data["amplitude_v"].max(), 200)
            ax[0].plot(v, device.p_switch(v, w, tau0, v0), "-", color=color, lw=1)
        ax[0].set(
            xlabel="pulse amplitude (V)",
            ylabel="switching probability",
            title=f"fit: tau0 = {tau0:.3g} s, V0 = {v0 * 1e3:.1f} mV",
        )
        ax[0].legend(fontsize=6)
        p = spread["p"]
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
        return save(fig, outdir, "sc_device")


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
        return save(fig, outdir, "aimc_accuracy")


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
        return save(fig, outdir, "aimc_bits")


def plot_layer_check(frame: Any, outdir: Path, stem: str = "layer") -> list[Path]:
    """``sactk verify layer``: the runner's error against ngspice on the same layer, samples
    and chips, against ngspice's activation, one panel per bias (nominal in black, chips in
    colours; the runner on the identity would be 0), and the error with and without the
    mirrors' measured gains against bias."""
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    outdir.mkdir(parents=True, exist_ok=True)
    biases = sorted(frame["bias_a"].unique())
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(1, len(biases) + 1, figsize=(3.4 * (len(biases) + 1), 3.4))
        for a, b in zip(ax, biases, strict=False):
            g = frame[frame["bias_a"] == b]
            for chip, gc in g.groupby("chip"):
                a.plot(
                    gc["h_spice"], gc["err_pct"], ".", ms=3,
                    color="k" if chip < 0 else None,
                    label="nominal" if chip < 0 else f"chip {chip}",
                )  # fmt: skip
            a.axhline(0.0, color="0.5", lw=0.8)
            a.set_title(f"bias {si(b, 'A')}")
            a.set_xlabel("h, ngspice (gamma)")
        ax[0].set_ylabel("runner - ngspice, % of the activation range")
        ax[0].legend(fontsize=7)
        last = ax[-1]
        for col, label in (
            ("err_pct", "runner with measured mirror gains"),
            ("err_ideal_mirrors_pct", "runner with ideal mirrors"),
        ):
            rms = frame.groupby("bias_a")[col].apply(lambda e: float(np.sqrt(np.mean(e**2))))
            worst = frame.groupby("bias_a")[col].apply(lambda e: float(np.abs(e).max()))
            (line,) = last.loglog(rms.index, rms.to_numpy(), "o-", label=f"RMS, {label}")
            last.loglog(worst.index, worst.to_numpy(), "s--", color=line.get_color(),
                        label=f"max, {label}")  # fmt: skip
        last.set_xlabel("bias (A)")
        last.set_ylabel("error, % of the activation range")
        last.legend(fontsize=6)
        fig.tight_layout()
        return save(fig, outdir, stem)

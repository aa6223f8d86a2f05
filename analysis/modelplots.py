"""Plots of fitted cell models against the simulation: residuals of the nominal circuit and
the error of every Monte Carlo chip (``sactk fit``, ``sactk plot --model``, the report)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sactk.analysis.figures import STYLE, bias_colors, save, si

if TYPE_CHECKING:
    import pandas as pd

    from sactk.analysis.model import Model


def plot_residuals(
    model: Model, df: pd.DataFrame, outdir: Path, name: str = "model_residuals"
) -> list[Path]:
    """Lookup-model residuals (model - simulation, % of full scale) against the model's
    coordinate, one panel per temperature, one colour per bias."""
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    from sactk.analysis.lutfit import ok_rows

    rows = ok_rows(df, nominal=True)
    rows = rows[model.inside(rows)]
    if rows.empty:
        return []
    e = model.errors(rows)
    e["u_norm"] = model.coordinate_values(e)
    temps = sorted(e["temp_c"].unique())
    colors = bias_colors(e["bias_a"].unique())
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
                    gb["u_norm"], 100 * gb["err_fs"], ".", ms=3, color=colors[b], label=si(b, "A")
                )
            ax.axhline(1.0, color="r", ls=":", lw=1, label="+-1 % of full scale")
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
        kind = "MP-unit model" if model.kind == "mp" else "Lookup model"
        fig.suptitle(f"{kind} of {model.cell_}.{model.output_}, nominal{txt}", fontsize=9)
        return save(fig, outdir, name)


def plot_chip_errors(
    model: Model, df: pd.DataFrame, outdir: Path, name: str = "chip_errors"
) -> list[Path]:
    """Per-chip model error on the Monte Carlo rows of ``df``: the largest |model -
    simulation| (left) and the RMS (right) of every chip at every operating point, against
    bias, one colour per temperature; [] without chips."""
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    from sactk.analysis.lutfit import ok_rows

    rows = ok_rows(df)
    if "mc_index" not in rows.columns or not len(model.chip_ids_):
        return []
    rows = rows[(rows["mc_index"] >= 0) & rows["mc_index"].isin(model.chip_ids_)]
    rows = rows[model.inside(rows)]
    if rows.empty:
        return []
    e = model.errors(rows).assign(_a=lambda d: 100 * d["err_fs"].abs())
    per = e.groupby(["mc_index", "temp_c", "bias_a"]).agg(
        max_pct=("_a", "max"), rms_pct=("_a", lambda a: float(np.sqrt(np.mean(a**2))))
    )
    per = per.reset_index()
    temps = sorted(per["temp_c"].unique())
    palette = ["tab:blue", "tab:green", "tab:red", "tab:purple", "tab:orange", "tab:brown"]
    outdir.mkdir(parents=True, exist_ok=True)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.3))
        for ax, col, what in zip(axes, ("max_pct", "rms_pct"), ("max", "RMS"), strict=True):
            for i, t in enumerate(temps):
                g = per[per["temp_c"] == t]
                jitter = 1.0 + 0.04 * (i - (len(temps) - 1) / 2)
                ax.semilogx(
                    g["bias_a"] * jitter, g[col], "o", ms=3, alpha=0.6,
                    color=palette[i % len(palette)], label=f"{t:g} C",
                )  # fmt: skip
            worst = per.groupby("bias_a")[col].max()
            ax.semilogx(worst.index, worst.to_numpy(), "k-", lw=1, label="worst chip")
            ax.set(
                xlabel="bias current bias_a (A)",
                ylabel=f"{what} |model - simulation| (% of full scale)",
                ylim=(0, None),
            )
        axes[0].legend(loc="best", title="one point: a chip at an operating point")
        kind = "MP-unit model" if model.kind == "mp" else "lookup model"
        fig.suptitle(
            f"{kind} of {model.cell_}.{model.output_}: held-out error of "
            f"{per['mc_index'].nunique()} Monte Carlo chips",
            fontsize=9,
        )
        return save(fig, outdir, name)

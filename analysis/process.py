"""The same cells on several technologies: the tables and the figure of docs/process.md.

Input per technology: three results tables of the 4-input MP cell, from the presets
``mp-temp`` (7 biases x -40, 27, 125 C), ``mp-area`` (100 Pelgrom chips at five sizes,
100 nA, 27 C) and ``mp-tran`` (step response at 7 biases, 27 C). Every figure is one of
sactk's own metrics (analysis/metrics.py), so docs/process.md says nothing ``sactk plot``
would not.

Area for 1 % accuracy: Pelgrom's law makes the chips' error spread fall as 1 / sqrt(W L), so
sigma_pct = k / sqrt(area) is fitted through the sizes (least squares in log space) and
area_1pct = k^2 um2 per matched device (Pelgrom et al., IEEE JSSC 24(5), 1989).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sactk.analysis import metrics
from sactk.analysis.figures import STYLE, save


def tables(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``results[tech][preset]`` -> the comparison tables (DataFrames): ``accuracy`` (max
    error against ideal() per bias at 27 C, and over -40..125 C from 30 nA, and how many
    points failed there: ``failed_27c``, ``failed``), ``collapse``,
    ``mismatch`` (sigma at 4/1 um, the fitted k and the area for 1 %), ``speed``."""
    import pandas as pd

    acc_rows, col_rows, mm_rows, sp_rows = [], [], [], []
    spreads = {t: metrics.mc_spread(r["mp-area"]) for t, r in results.items()}
    for tech, res in results.items():
        acc = metrics.accuracy(res["mp-temp"])
        ops = metrics.op_rows(res["mp-temp"])
        bad = ops[ops["status"] != "ok"]  # points with no operating point (out of headroom)
        for b, g in acc.groupby("bias_a"):
            at27 = g[g["temp_c"] == 27.0]["max_abs_err_pct"]
            failed = bad[bad["bias_a"] == b]
            acc_rows.append(
                {"tech": tech, "bias_a": b, "max_err_27c_pct": float(at27.max()),
                 "max_err_all_temps_pct": float(g["max_abs_err_pct"].max()),
                 "failed_27c": int((failed["temp_c"] == 27.0).sum()), "failed": len(failed)}
            )  # fmt: skip
        # collapse over the biases where every point has an operating point: a bias out of
        # headroom (ASAP7 at 10 uA) would measure where the cell stops, not how it scales
        temp = res["mp-temp"]
        col = metrics.collapse(temp[~temp["bias_a"].isin(set(bad["bias_a"]))])
        for t, g in col.groupby("temp_c"):
            col_rows.append(
                {"tech": tech, "temp_c": t, "collapse_pct_fs": float(g["collapse_pct_fs"].max()),
                 "bias_max_a": float(g["bias_max_a"].max())}
            )  # fmt: skip
        spread = spreads[tech].sort_values("area_um2")
        area, sigma = spread["area_um2"].to_numpy(float), spread["sigma_pct"].to_numpy(float)
        # log sigma = log k - 0.5 log area: fit log k with the slope fixed by Pelgrom
        k = float(np.exp(np.mean(np.log(sigma) + 0.5 * np.log(area))))
        at41 = spread[(spread["w_um"] == 4.0) & (spread["l_um"] == 1.0)]["sigma_pct"]
        mm_rows.append(
            {"tech": tech, "sigma_pct_at_4x1um": float(at41.iloc[0]) if len(at41) else np.nan,
             "k_pct_um": k, "area_1pct_um2": k**2,
             "worst_fit_ratio": float(np.max(np.abs(np.log(sigma * np.sqrt(area) / k))))}
        )  # fmt: skip
        sp = metrics.speed_power(res["mp-tran"])
        for r in sp.itertuples():
            sp_rows.append(
                {"tech": tech, "bias_a": r.bias_a, "settle_s": r.settle_s,
                 "power_w": r.power_w, "energy_j": r.energy_j}
            )  # fmt: skip
    return {
        "accuracy": pd.DataFrame(acc_rows),
        "collapse": pd.DataFrame(col_rows),
        "mismatch": pd.DataFrame(mm_rows),
        "speed": pd.DataFrame(sp_rows),
        "spread": spreads,
    }


def plot(t: dict[str, Any], outdir: Path, name: str = "process_comparison") -> list[Path]:
    """Four panels: error against bias (27 C solid, worst temperature dashed), the chips'
    error spread against device area with the Pelgrom fit, settling time and energy per
    operation against bias; one colour per technology."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = dict(
        zip(
            t["mismatch"]["tech"],
            ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"],
            strict=False,
        )
    )
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(1, 4, figsize=(15, 3.4))
        for tech, g in t["accuracy"].groupby("tech"):
            ax[0].loglog(
                g["bias_a"], g["max_err_27c_pct"], "o-", color=colors[tech], label=f"{tech}, 27 C"
            )
            ax[0].loglog(
                g["bias_a"], g["max_err_all_temps_pct"], "s--", color=colors[tech], ms=3,
                label=f"{tech}, worst of -40..125 C",
            )  # fmt: skip
        ax[0].set(
            xlabel="bias current bias_a (A)",
            ylabel="max |circuit - ideal()| (% of full scale)",
            title="MP cell against ideal()",
        )
        ax[0].legend(fontsize=6)
        for tech, s in t["spread"].items():
            s = s.sort_values("area_um2")
            k = float(t["mismatch"].set_index("tech").loc[tech, "k_pct_um"])
            ax[1].loglog(s["area_um2"], s["sigma_pct"], "o", color=colors[tech], label=tech)
            a = np.geomspace(s["area_um2"].min(), s["area_um2"].max(), 20)
            ax[1].loglog(a, k / np.sqrt(a), "-", color=colors[tech], lw=0.8)
        ax[1].axhline(1.0, color="k", ls=":", lw=1, label="1 % of full scale")
        ax[1].set(xlabel="area W L of one matched device (um2)", ylabel="chips' error sigma (% FS)",
                  title="mismatch at 100 nA, 27 C (line: k / sqrt(W L))")  # fmt: skip
        ax[1].legend(fontsize=7)
        for tech, g in t["speed"].groupby("tech"):
            ax[2].loglog(g["bias_a"], g["settle_s"], "o-", color=colors[tech], label=tech)
            ax[3].loglog(g["bias_a"], g["energy_j"], "o-", color=colors[tech], label=tech)
        ax[2].set(
            xlabel="bias current bias_a (A)",
            ylabel="settling time (s)",
            title="step response, 27 C",
        )
        ax[3].set(xlabel="bias current bias_a (A)", ylabel="energy per operation (J)",
                  title="supply energy over the settling time")  # fmt: skip
        ax[2].legend(fontsize=7)
        fig.suptitle(
            f"The 4-input MP cell on {len(t['spread'])} technologies "
            "(sactk presets mp-temp, mp-area, mp-tran)",
            fontsize=9,
        )
        return save(fig, outdir, name)

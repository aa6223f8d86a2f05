"""A cell's small-signal bandwidth from the ``ac`` rows of a sweep with ``[ac]``
(sweeps/analyses.py): the -3 dB frequency of the transfer from one input to the main
output, per vector and chip, its time constant, and a cross-check against the step
response's settling time when the same results hold ``[tran]`` rows.

For a single dominant pole at f_3dB, a small step settles to a fraction ``tol`` of its final
value in ln(1 / tol) tau, tau = 1 / (2 pi f_3dB) (any circuits text: a first-order system's
step response is 1 - exp(-t / tau)). A large step (the ``[tran]`` presets step an input by 4x)
moves the operating point, so the weak-inversion poles, which scale with current, are
slower at the start: the measured settling time sits above the small-signal estimate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sactk.analysis.noise import KEYS

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd


def ac_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The ``ac`` rows that simulated."""
    if "analysis" not in df.columns or "ac_phase_deg" not in df.columns:
        return df.iloc[:0]
    return df[(df["analysis"] == "ac") & (df["status"] == "ok")]


def gain_column(df: pd.DataFrame) -> str:
    """``ac_gain`` (A/A, V/V), ``ac_gain_ohm`` (V/A) or ``ac_gain_s`` (A/V)."""
    return next(c for c in ("ac_gain", "ac_gain_ohm", "ac_gain_s") if c in df.columns)


def corner_3db(f: np.ndarray, gain: np.ndarray) -> float:
    """The first frequency where ``gain`` falls 3 dB (1 / sqrt 2) below its value at the
    first frequency, interpolated log-log; NaN if it stays above within the span."""
    g0 = gain[0]
    below = np.nonzero(gain < g0 / np.sqrt(2.0))[0]
    if g0 <= 0 or len(below) == 0 or below[0] == 0:
        return float("nan")
    k = below[0]
    lf, lg = np.log(f[k - 1 : k + 1]), np.log(gain[k - 1 : k + 1])
    target = np.log(g0 / np.sqrt(2.0))
    return float(np.exp(lf[0] + (target - lg[0]) * (lf[1] - lf[0]) / (lg[1] - lg[0])))


def bandwidth_table(df: pd.DataFrame, tolerance: float = 0.01) -> pd.DataFrame:
    """Per operating point (median over vectors and chips): the low-frequency gain, the
    -3 dB bandwidth, tau_s = 1 / (2 pi bw) and the small-signal settling estimate
    ``settle_est_s`` = ln(1 / tolerance) tau; with ``[tran]`` rows in ``df`` also the
    measured ``settle_s`` and ``settle_ratio`` = settle_s / settle_est_s."""
    import pandas as pd

    rows = ac_rows(df)
    if rows.empty:
        return pd.DataFrame()
    col = gain_column(rows)
    keys = [k for k in KEYS if k in rows.columns]
    per = []
    for key, g in rows.groupby([*keys, "mc_index", "point"], sort=True):
        g = g.sort_values("freq_hz")
        f, gain = g["freq_hz"].to_numpy(float), g[col].to_numpy(float)
        rec = dict(zip([*keys, "mc_index", "point"], key, strict=True))
        rec.update({f"{col}_dc": float(gain[0]), "bandwidth_hz": corner_3db(f, gain)})
        per.append(rec)
    pts = pd.DataFrame(per)
    table = pts.groupby(keys, sort=True)[[f"{col}_dc", "bandwidth_hz"]].median().reset_index()
    table["tau_s"] = 1.0 / (2.0 * np.pi * table["bandwidth_hz"])
    table["settle_est_s"] = np.log(1.0 / tolerance) * table["tau_s"]
    tran = df[(df["analysis"] == "tran") & (df["status"] == "ok")]
    if len(tran) and "settle_s" in tran.columns:
        measured = tran.groupby(keys, sort=True)["settle_s"].median().reset_index()
        table = table.merge(measured, on=keys, how="left")
        table["settle_ratio"] = table["settle_s"] / table["settle_est_s"]
    table["chips"] = pts.groupby(keys, sort=True)["mc_index"].nunique().to_numpy()
    return table


def plot_bandwidth(df: pd.DataFrame, outdir: Path) -> list[Path]:
    """The transfer's magnitude against frequency per bias (nominal, first vector), and the
    bandwidth (with the step response's settling, when there) against bias."""
    import matplotlib.pyplot as plt

    from sactk.analysis.figures import STYLE, save

    rows = ac_rows(df)
    if rows.empty:
        return []
    col = gain_column(rows)
    table = bandwidth_table(df)
    first = rows[
        (rows["mc_index"] == rows["mc_index"].min()) & (rows["point"] == rows["point"].min())
    ]
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(1, 2, figsize=(11, 3.8))
        for (corner, temp, bias), g in first.groupby(["corner", "temp_c", "bias_a"], sort=True):
            g = g.sort_values("freq_hz")
            ax[0].loglog(g["freq_hz"], g[col], label=f"{bias:.3g} A, {temp:g} C, {corner}")
        ax[0].set(xlabel="freq_hz (Hz)", ylabel=f"{col}: |transfer|", title="Small-signal transfer")
        ax[0].legend(fontsize=6)
        for (corner, temp), g in table.groupby(["corner", "temp_c"], sort=True):
            (line,) = ax[1].loglog(
                g["bias_a"], g["bandwidth_hz"], "o-", label=f"{temp:g} C, {corner}"
            )
            if "settle_s" in g.columns:
                ax[1].loglog(g["bias_a"], 1.0 / g["settle_s"], "s:", color=line.get_color(),
                             label=f"1 / settle_s (step), {temp:g} C")  # fmt: skip
        ax[1].set(xlabel="bias_a (A)", ylabel="bandwidth_hz (-3 dB), 1/s", title="Bandwidth")
        ax[1].legend(fontsize=6)
        return save(fig, outdir, "bandwidth")

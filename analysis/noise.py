"""Noise: what a ``[noise]`` sweep measured, read out the way a circuit reads a cell.

The results hold each operating point's output noise density (``onoise_a2_hz``, A^2/Hz
through the held output pin; ``_v2_hz`` for a voltage output) over frequency. A held pin has
no pole of its own (../shared/pdks/README.md: flat to 100 MHz), so a noise figure needs the
bandwidth of what reads it. Two readouts:

* a brick-wall band from the first frequency to ``bandwidth_hz``;
* an integration window of ``window_s`` (integrate and dump): the density weighted by
  |sinc(f T)|^2, sinc(x) = sin(pi x) / (pi x), whose equivalent noise bandwidth is 1 / (2 T).

Per operating point (and chip): ``noise_rms_a`` = sqrt of that integral, ``snr_db`` = 20 log10
(full scale / noise_rms_a) with the full scale of the accuracy figures (it scales with the
bias), the density at 1 kHz and its ratio to the shot noise 2 q I_out of the output current
(a weak-inversion device's drain noise is 2 q I: Tsividis, "Operation and Modeling of the MOS
Transistor", 3rd ed., 2011, section 9.3), and the flicker corner: the frequency at which a fit
S(f) = W + K / f has K / f = W (NaN for white noise).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

Q_C = 1.602176634e-19
"""Elementary charge, C (CODATA 2018, exact)."""

KEYS = ["corner", "vdd_v", "w_um", "l_um", "temp_c", "bias_a"]


def readout(manifest: dict[str, Any]) -> dict[str, float | None]:
    """The readout a sweep's ``[noise]`` table states (``bandwidth_hz`` or ``window_s``)."""
    noise = (manifest.get("spec") or {}).get("noise") or {}
    return {"bandwidth_hz": noise.get("bandwidth_hz"), "window_s": noise.get("window_s")}


def noise_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The noise rows that simulated."""
    if "analysis" not in df.columns or "freq_hz" not in df.columns:
        return df.iloc[:0]
    return df[(df["analysis"] == "noise") & (df["status"] == "ok")]


def density_column(df: pd.DataFrame) -> str:
    """``onoise_a2_hz`` (current output) or ``onoise_v2_hz``."""
    return "onoise_a2_hz" if "onoise_a2_hz" in df.columns else "onoise_v2_hz"


def integrate(
    f: np.ndarray, s: np.ndarray, bandwidth_hz: float | None = None, window_s: float | None = None
) -> float:
    """The integral of density ``s`` over frequency ``f`` (ascending), by the trapezoid rule
    in f: up to ``bandwidth_hz`` (interpolated log-log at the edge), or weighted by
    sinc^2(f window_s); with neither, over the whole span.

    The window's weight oscillates faster than a density is sampled (10 points a decade):
    the density is interpolated log-log onto 400 points a decade, and beyond f window_s = 2
    the weight is its average over the oscillation, 1 / (2 pi^2 (f window_s)^2). A first
    frequency of 0 extends the first density flat to DC."""
    f, s = np.asarray(f, float), np.asarray(s, float)
    if window_s is not None:
        dc = int(f[0] == 0.0)
        lf, ls = np.log(f[dc:]), np.log(s[dc:])
        fine = np.exp(np.linspace(lf[0], lf[-1], max(2, int(400 * (lf[-1] - lf[0]) / np.log(10)))))
        if dc:
            fine = np.concatenate([np.linspace(0.0, fine[0], 50, endpoint=False), fine])
        sf = np.exp(np.interp(np.log(np.maximum(fine, f[dc])), lf, ls))
        u = fine * window_s
        weight = np.where(
            u < 2.0, np.sinc(u) ** 2, 1.0 / (2.0 * np.pi**2 * np.maximum(u, 2.0) ** 2)
        )
        return float(np.trapezoid(sf * weight, fine))
    if bandwidth_hz is not None and bandwidth_hz < f[-1]:
        edge = float(np.exp(np.interp(np.log(bandwidth_hz), np.log(f), np.log(s))))
        keep = f < bandwidth_hz
        f, s = np.append(f[keep], bandwidth_hz), np.append(s[keep], edge)
    return float(np.trapezoid(s, f))


def at_frequency(f: np.ndarray, s: np.ndarray, hz: float) -> float:
    """The density at ``hz``, interpolated log-log (NaN outside the span)."""
    if not f[0] <= hz <= f[-1]:
        return float("nan")
    return float(np.exp(np.interp(np.log(hz), np.log(f), np.log(s))))


def flicker_corner(f: np.ndarray, s: np.ndarray) -> float:
    """Corner of S(f) = W + K / f, fitted with equal relative weight at every frequency;
    NaN when it is not inside the span (white noise, or flicker to the end of it)."""
    a = np.stack([np.ones_like(f), 1.0 / f], axis=1) / s[:, None]
    w, k = np.linalg.lstsq(a, np.ones_like(f), rcond=None)[0]
    inside = w > 0 and k > 0 and f[0] <= k / w <= f[-1]
    return float(k / w) if inside else float("nan")


def noise_table(
    df: pd.DataFrame, bandwidth_hz: float | None = None, window_s: float | None = None
) -> pd.DataFrame:
    """Per operating point (mean over vectors and chips): density at 1 kHz, its ratio to
    2 q |I_out| (current outputs), flicker corner, ``noise_rms_*`` over the readout and
    ``snr_db`` against the full scale; ``chips`` counted, ``readout`` named."""
    import pandas as pd

    rows = noise_rows(df)
    if rows.empty:
        return pd.DataFrame()
    dens = density_column(rows)
    unit = "a" if dens.endswith("a2_hz") else "v"
    out_col = next((c for c in rows.columns if c.startswith("out_") and c.endswith("_a")), None)
    keys = [k for k in KEYS if k in rows.columns]
    per_point = []
    for key, g in rows.groupby([*keys, "mc_index", "point"], sort=True):
        g = g.sort_values("freq_hz")
        f, s = g["freq_hz"].to_numpy(float), g[dens].to_numpy(float)
        total = integrate(f, s, bandwidth_hz, window_s)
        rms = float(np.sqrt(max(total, 0.0)))
        d1k = at_frequency(f, s, 1e3)
        rec = dict(zip([*keys, "mc_index", "point"], key, strict=True))
        rec.update(density_1khz=d1k, corner_hz=flicker_corner(f, s), **{f"noise_rms_{unit}": rms})
        if "fs_a" in g.columns and rms > 0:
            rec["snr_db"] = 20.0 * np.log10(float(g["fs_a"].iloc[0]) / rms)
        if unit == "a" and out_col is not None:
            i_out = abs(float(g[out_col].iloc[0]))
            rec["shot_ratio"] = d1k / (2.0 * Q_C * i_out) if i_out > 0 else float("nan")
        per_point.append(rec)
    pts = pd.DataFrame(per_point)
    value_cols = [c for c in pts.columns if c not in (*keys, "mc_index", "point")]
    table = pts.groupby(keys, sort=True)[value_cols].mean().reset_index()
    table["chips"] = pts.groupby(keys, sort=True)["mc_index"].nunique().to_numpy()
    top = bandwidth_hz or float(rows["freq_hz"].max())
    readout = (
        f"window {window_s:g} s (sinc^2)"
        if window_s is not None
        else f"{float(rows['freq_hz'].min()):g} Hz to {top:g} Hz"
    )
    table["readout"] = readout
    return table


def plot_noise(
    df: pd.DataFrame,
    outdir: Path,
    bandwidth_hz: float | None = None,
    window_s: float | None = None,
) -> list[Path]:
    """Density against frequency per bias (nominal, first vector, per temperature and
    corner), and integrated noise, SNR and flicker corner against bias."""
    import matplotlib.pyplot as plt

    from sactk.analysis.figures import STYLE, save

    rows = noise_rows(df)
    if rows.empty:
        return []
    dens = density_column(rows)
    unit = "A^2/Hz" if dens.endswith("a2_hz") else "V^2/Hz"
    table = noise_table(df, bandwidth_hz, window_s)
    first = rows[
        (rows["mc_index"] == rows["mc_index"].min()) & (rows["point"] == rows["point"].min())
    ]
    paths: list[Path] = []
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        for (corner, temp, bias), g in first.groupby(["corner", "temp_c", "bias_a"], sort=True):
            g = g.sort_values("freq_hz")
            ax.loglog(g["freq_hz"], g[dens], label=f"{bias:.3g} A, {temp:g} C, {corner}")
        ax.set(xlabel="freq_hz (Hz)", ylabel=f"{dens}: output noise density ({unit})")
        ax.legend(fontsize=7)
        ax.set_title("Output noise density per bias")
        paths += save(fig, outdir, "noise_density")
        fig, ax = plt.subplots(1, 3, figsize=(12, 3.6))
        rms = next(c for c in table.columns if c.startswith("noise_rms_"))
        for (corner, temp), g in table.groupby(["corner", "temp_c"], sort=True):
            lab = f"{temp:g} C, {corner}"
            ax[0].loglog(g["bias_a"], g[rms], "o-", label=lab)
            if "snr_db" in g.columns:
                ax[1].semilogx(g["bias_a"], g["snr_db"], "o-", label=lab)
            ax[2].loglog(g["bias_a"], g["corner_hz"], "o-", label=lab)
        if table["corner_hz"].isna().all():
            ax[2].text(0.5, 0.5, "white in the span:\nno flicker corner", ha="center",
                       va="center", transform=ax[2].transAxes)  # fmt: skip
        ax[0].set(xlabel="bias_a (A)", ylabel=f"{rms} over the readout")
        ax[1].set(xlabel="bias_a (A)", ylabel="snr_db: full scale / noise_rms (dB)")
        ax[2].set(xlabel="bias_a (A)", ylabel="corner_hz: flicker corner (Hz)")
        for a in ax:
            a.legend(fontsize=7)
        fig.suptitle(f"Noise against bias, readout {table['readout'].iloc[0]}")
        paths += save(fig, outdir, "noise_snr")
    return paths

"""The small-signal analyses' tables and plots of a results frame, for ``sactk plot`` and
the report: noise (analysis/noise.py) and bandwidth (analysis/bandwidth.py), each when the
frame holds its rows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd


def small_signal(
    df: pd.DataFrame, manifest: dict[str, Any], outdir: Path
) -> tuple[dict[str, pd.DataFrame], list[Path]]:
    """({"noise": ..., "bandwidth": ...} of the analyses ``df`` holds, their plots)."""
    tables: dict[str, pd.DataFrame] = {}
    plots: list[Path] = []
    if "freq_hz" not in df.columns:
        return tables, plots
    from sactk.analysis.bandwidth import ac_rows, bandwidth_table, plot_bandwidth
    from sactk.analysis.noise import noise_rows, noise_table, plot_noise, readout

    if not noise_rows(df).empty:
        tables["noise"] = noise_table(df, **readout(manifest))
        plots += plot_noise(df, outdir, **readout(manifest))
    if not ac_rows(df).empty:
        tables["bandwidth"] = bandwidth_table(df)
        plots += plot_bandwidth(df, outdir)
    return tables, plots

"""Circuit against ideal: error tables and the bias-collapse measure.

All functions take the tidy results DataFrame (one row per simulated point) and return new
DataFrames; nothing here reads files or draws.

Definitions (docs/cells.md):

* error of a point, % of the largest input: 100 (out_z_a - ideal_z_a) / max_i in_i_a.
* bias collapse: with every current divided by bias_a, the same normalized input vector
  should give the same normalized output at every bias. For each normalized vector, the
  spread max - min of out_z_a / bias_a across bias currents, in % of full scale, where full
  scale is the largest normalized ideal output of the compared vectors.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sactk.circuits.base import get_cell

GROUP = ["tech", "corner", "temp_c", "bias_a"]


def input_cols(df: Any) -> list[str]:
    cols = [c for c in df.columns if c.startswith("in_i") and c.endswith("_a")]
    return sorted(cols, key=lambda c: int(c[4:-2]))


def with_ideal(df: Any) -> Any:
    """Add ``ideal_z_a``, ``err_a`` and ``err_pct_in`` (% of the largest input) columns."""
    df = df.copy()
    cols = input_cols(df)
    x = df[cols].to_numpy(dtype=float)
    out = np.full(len(df), np.nan)
    for name in df["cell"].unique():
        m = (df["cell"] == name).to_numpy()
        out[m] = get_cell(name).ideal(x[m], df.loc[m, "bias_a"].to_numpy(dtype=float))
    df["ideal_z_a"] = out
    df["err_a"] = df["out_z_a"] - df["ideal_z_a"]
    df["err_pct_in"] = 100.0 * df["err_a"] / x.max(axis=1)
    return df


def valid(df: Any, min_ideal_ratio: float = 0.1) -> Any:
    """Rows that simulated and whose ideal output is at least ``min_ideal_ratio`` gamma."""
    if "ideal_z_a" not in df.columns:
        df = with_ideal(df)
    m = (df["status"] == "ok") & (df["ideal_z_a"] >= min_ideal_ratio * df["bias_a"])
    return df[m]


def accuracy(df: Any, min_ideal_ratio: float = 0.1) -> Any:
    """Per operating point: points, max |error| and RMS error in % of the largest input."""
    v = valid(with_ideal(df), min_ideal_ratio)
    g = v.groupby(GROUP, sort=True)["err_pct_in"]
    table = g.agg(
        points="size",
        max_abs_err_pct=lambda e: float(np.max(np.abs(e))),
        rms_err_pct=lambda e: float(np.sqrt(np.mean(np.square(e)))),
    )
    return table.reset_index()


def collapse(df: Any, min_ideal_ratio: float = 0.1, bias_min_a: float | None = None) -> Any:
    """Per (tech, corner, temp_c, pattern): the largest normalized-output spread across bias.

    Returns columns ``collapse_pct_fs`` (% of full scale), ``worst_point``, ``biases`` (how
    many bias currents were compared) and ``bias_min_a``/``bias_max_a``.
    """
    v = valid(with_ideal(df), min_ideal_ratio)
    if bias_min_a is not None:
        v = v[v["bias_a"] >= bias_min_a * (1 - 1e-9)]
    v = v.assign(z_norm=v["out_z_a"] / v["bias_a"], ideal_norm=v["ideal_z_a"] / v["bias_a"])
    rows = []
    for key, grp in v.groupby(["tech", "corner", "temp_c", "pattern"], sort=True):
        per_point = grp.groupby("point")
        spread = per_point["z_norm"].max() - per_point["z_norm"].min()
        counts = per_point["z_norm"].size()
        spread = spread[counts == grp["bias_a"].nunique()]  # compare only complete points
        fs = float(grp["ideal_norm"].abs().max())
        worst = int(spread.idxmax()) if len(spread) else -1
        rows.append(
            {
                **dict(zip(["tech", "corner", "temp_c", "pattern"], key, strict=True)),
                "collapse_pct_fs": float(100.0 * spread.max() / fs) if len(spread) else np.nan,
                "worst_point": worst,
                "biases": int(grp["bias_a"].nunique()),
                "bias_min_a": float(grp["bias_a"].min()),
                "bias_max_a": float(grp["bias_a"].max()),
            }
        )
    import pandas as pd

    return pd.DataFrame(rows)

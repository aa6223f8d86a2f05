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

CONDITIONS = ["tech", "corner", "vdd_v", "w_um", "l_um", "temp_c", "bias_a"]
"""Columns that identify one circuit's operating condition (those present are used)."""


def conditions(df: Any, drop: tuple[str, ...] = ()) -> list[str]:
    """The condition columns present in ``df`` (older results lack vdd_v, w_um, l_um)."""
    return [c for c in CONDITIONS if c in df.columns and c not in drop]


def op_rows(df: Any, nominal: bool | None = True) -> Any:
    """DC rows; ``nominal=True``: only mismatch-free ones, ``False``: only MC chips, None: all."""
    m = np.ones(len(df), dtype=bool)
    if "analysis" in df.columns:
        m &= (df["analysis"] == "op").to_numpy()
    if nominal is not None and "mc_index" in df.columns:
        chips = (df["mc_index"] >= 0).to_numpy()
        m &= ~chips if nominal else chips
    return df[m]


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
    """Per operating point (nominal circuit): points, max |error| and RMS error in % of the
    largest input."""
    v = valid(with_ideal(op_rows(df)), min_ideal_ratio)
    g = v.groupby(conditions(v), sort=True)["err_pct_in"]
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
    v = valid(with_ideal(op_rows(df)), min_ideal_ratio)
    if bias_min_a is not None:
        v = v[v["bias_a"] >= bias_min_a * (1 - 1e-9)]
    v = v.assign(z_norm=v["out_z_a"] / v["bias_a"], ideal_norm=v["ideal_z_a"] / v["bias_a"])
    rows = []
    keys = [*conditions(v, drop=("bias_a",)), "pattern"]
    for key, grp in v.groupby(keys, sort=True):
        per_point = grp.groupby("point")
        spread = per_point["z_norm"].max() - per_point["z_norm"].min()
        counts = per_point["z_norm"].size()
        spread = spread[counts == grp["bias_a"].nunique()]  # compare only complete points
        fs = float(grp["ideal_norm"].abs().max())
        worst = int(spread.idxmax()) if len(spread) else -1
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "collapse_pct_fs": float(100.0 * spread.max() / fs) if len(spread) else np.nan,
                "worst_point": worst,
                "biases": int(grp["bias_a"].nunique()),
                "bias_min_a": float(grp["bias_a"].min()),
                "bias_max_a": float(grp["bias_a"].max()),
            }
        )
    import pandas as pd

    return pd.DataFrame(rows)


# ---------------------------------------------------------------------- Monte Carlo


def chip_rows(df: Any, min_ideal_ratio: float = 0.1) -> Any:
    """Monte Carlo chips' DC rows that simulated, with ideal() and the error columns, whose
    ideal output is at least ``min_ideal_ratio`` gamma."""
    return valid(with_ideal(op_rows(df, nominal=False)), min_ideal_ratio)


def _chip_errors(v: Any) -> Any:
    g = v.groupby([*conditions(v), "mc_index"], sort=True)["err_pct_in"]
    return g.agg(lambda e: float(np.max(np.abs(e)))).rename("max_abs_err_pct").reset_index()


def chip_errors(df: Any, min_ideal_ratio: float = 0.1) -> Any:
    """Per chip (mc_index) and condition: its max |error| against ideal() over its valid
    vectors, in % of the largest input (full scale of that vector)."""
    return _chip_errors(chip_rows(df, min_ideal_ratio))


def mc_spread(df: Any, min_ideal_ratio: float = 0.1) -> Any:
    """Per condition: the chip-to-chip spread of out_z_a / bias_a, and chip error statistics.

    ``sigma_pct``: for each input vector, the standard deviation across chips of the
    normalized output (in % of the bias current gamma); the median over vectors is reported.
    ``chip_err_median_pct`` and ``chip_err_p90_pct``: median and 90th percentile over chips of
    each chip's max |error| (see :func:`chip_errors`). ``chips``: how many were simulated.
    """
    import pandas as pd

    v = chip_rows(df, min_ideal_ratio)
    if v.empty:
        return pd.DataFrame()
    keys = conditions(v)
    z = v.assign(z_norm=v["out_z_a"] / v["bias_a"])
    sig = z.groupby([*keys, "point"])["z_norm"].std(ddof=1).groupby(level=keys).median()
    ce = _chip_errors(v).groupby(keys)["max_abs_err_pct"]
    out = pd.DataFrame(
        {
            "chips": ce.size(),
            "sigma_pct": 100.0 * sig,
            "chip_err_median_pct": ce.median(),
            "chip_err_p90_pct": ce.quantile(0.9),
        }
    ).reset_index()
    out["area_um2"] = out["w_um"] * out["l_um"] if "w_um" in out.columns else np.nan
    return out


def area_cost_of(spread: Any) -> Any:
    """:func:`area_cost` from an :func:`mc_spread` table already computed."""
    if spread.empty or "w_um" not in spread.columns:
        return spread
    keys = [c for c in ("tech", "corner", "vdd_v", "w_um", "l_um") if c in spread.columns]
    out = spread.groupby(keys, sort=True).agg(
        area_um2=("area_um2", "first"),
        chip_err_p90_pct=("chip_err_p90_pct", "max"),
        chip_err_median_pct=("chip_err_median_pct", "max"),
        sigma_pct=("sigma_pct", "max"),
    )
    return out.reset_index().sort_values("area_um2").reset_index(drop=True)


def area_cost(df: Any, min_ideal_ratio: float = 0.1) -> Any:
    """Per device size: the worst (over bias and temperature) 90th-percentile chip error,
    against the area W L of one matched device, um2."""
    return area_cost_of(mc_spread(df, min_ideal_ratio))


# ---------------------------------------------------------------------- speed and power


def speed_power(df: Any) -> Any:
    """Per condition, from the transient rows: settle_s, power_w and energy_j (nominal
    circuit; with Monte Carlo chips only, their median), plus settle_s * bias_a, which is
    constant when settling time scales as 1 / bias."""
    import pandas as pd

    if "analysis" not in df.columns:
        return pd.DataFrame()
    t = df[(df["analysis"] == "tran") & (df["status"] == "ok")]
    if t.empty:
        return pd.DataFrame()
    if (t["mc_index"] < 0).any():
        t = t[t["mc_index"] < 0]
    keys = conditions(t)
    out = t.groupby(keys, sort=True)[["settle_s", "power_w", "energy_j"]].median().reset_index()
    out["settle_x_bias_as"] = out["settle_s"] * out["bias_a"]
    return out


def summary_tables(df: Any) -> dict[str, Any]:
    """Every table that applies to these results: accuracy, collapse, mc_spread, area_cost,
    speed_power (empty ones left out)."""
    tables = {}
    if not op_rows(df).empty:
        tables["accuracy"] = accuracy(df)
        tables["collapse"] = collapse(df)
    spread = mc_spread(df)
    if not spread.empty:
        tables["mc_spread"] = spread
        if "w_um" in spread.columns and spread["area_um2"].nunique() > 1:
            tables["area_cost"] = area_cost_of(spread)
    sp = speed_power(df)
    if not sp.empty:
        tables["speed_power"] = sp
    return {k: v for k, v in tables.items() if not v.empty}

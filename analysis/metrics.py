"""Circuit against ideal: error tables, bias collapse, Monte Carlo spread, linearity.

All functions take the tidy results DataFrame (one row per simulated point) and return new
DataFrames; nothing here reads files or draws.

Definitions (docs/cells.md). Each cell names its main output and ideal column
(``out_z_a``/``ideal_z_a`` for MP, ``out_y_a``/``ideal_y_a`` for shapes and the inner product,
``out_i_a``/``ideal_i_a`` for the memory); the sweep writes, per point, the full scale
``fs_a`` and whether the circuit is meant to follow ideal() there (``domain_ok``).

* error of a point, % of full scale: 100 (out - ideal) / fs_a. For MP, fs_a is the largest
  input of the vector; for the other cells a fixed multiple of the bias (their output range).
* bias collapse: with every current divided by bias_a, the same normalized input vector
  should give the same normalized output at every bias. For each normalized vector, the
  spread max - min of out / bias_a across bias currents, in % of full scale.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sactk.circuits.base import Cell, ideal_result_column
from sactk.circuits.registry import get_cell
from sactk.errors import SpecError

if TYPE_CHECKING:
    import pandas as pd

CONDITIONS = ["tech", "corner", "vdd_v", "w_um", "l_um", "temp_c", "bias_a"]
"""Columns that identify one circuit's operating condition (those present are used)."""


def conditions(df: pd.DataFrame, drop: tuple[str, ...] = ()) -> list[str]:
    """The condition columns present in ``df``: :data:`CONDITIONS`, then the cell's
    parameters swept as axes ([sweep.cell]: a column named like the parameter)."""
    return [c for c in CONDITIONS + cell_axes(df) if c in df.columns and c not in drop]


def cell_axes(df: pd.DataFrame) -> list[str]:
    """Result columns that are parameters of the results' cell (``n_inputs``, ...)."""
    import dataclasses

    if "cell" not in df.columns or df.empty:
        return []
    try:
        cell = cell_of(df)
    except SpecError:
        return []
    ptype = getattr(cell, "params_type", None)
    if ptype is None or not dataclasses.is_dataclass(ptype):
        return []
    names = [f.name for f in dataclasses.fields(ptype)]
    names += [c for c in df.columns if c.startswith("param_")]  # a subcircuit's parameters
    return [c for c in names if c in df.columns and c not in CONDITIONS]


def op_rows(df: pd.DataFrame, nominal: bool | None = True) -> pd.DataFrame:
    """DC rows; ``nominal=True``: only mismatch-free ones, ``False``: only MC chips, None: all."""
    m = np.ones(len(df), dtype=bool)
    if "analysis" in df.columns:
        m &= (df["analysis"] == "op").to_numpy()
    if nominal is not None and "mc_index" in df.columns:
        chips = (df["mc_index"] >= 0).to_numpy()
        m &= ~chips if nominal else chips
    return df[m]


def cell_of(df: pd.DataFrame) -> Cell:
    """The cell of a results table (one cell per results directory)."""
    names = df["cell"].unique()
    if len(names) != 1:
        raise SpecError(f"results mix cells {sorted(names)}; analyse one cell at a time")
    return get_cell(str(names[0]))


def input_cols(df: pd.DataFrame) -> list[str]:
    """The input columns (``in_*``), in the order the sweep wrote them (the cell's order)."""
    return [c for c in df.columns if c.startswith("in_")]


def with_ideal(df: pd.DataFrame) -> pd.DataFrame:
    """Add the generic columns ``out_a`` (the cell's main output), ``ideal_a``, ``err_a``
    and ``err_pct_fs`` (% of full scale)."""
    df = df.copy()
    if df.empty:
        for c in ("out_a", "ideal_a", "err_a", "err_pct_fs"):
            df[c] = np.zeros(0)
        return df
    cell = cell_of(df)
    df["out_a"] = df[cell.output]
    df["ideal_a"] = df[ideal_result_column(cell)]
    df["err_a"] = df["out_a"] - df["ideal_a"]
    df["err_pct_fs"] = 100.0 * df["err_a"] / df["fs_a"]
    return df


def valid(df: pd.DataFrame) -> pd.DataFrame:
    """Rows that simulated and that lie where the cell is meant to follow ideal()."""
    if "err_pct_fs" not in df.columns:
        df = with_ideal(df)
    m = df["status"] == "ok"
    if "domain_ok" in df.columns:  # absent on transient-only results
        m &= df["domain_ok"].astype(bool)
    return df[m]


def accuracy(df: pd.DataFrame) -> pd.DataFrame:
    """Per operating point (nominal circuit): points, max |error| and RMS error in % of
    full scale."""
    v = valid(with_ideal(op_rows(df)))
    g = v.groupby(conditions(v), sort=True)["err_pct_fs"]
    table = g.agg(
        points="size",
        max_abs_err_pct=lambda e: float(np.max(np.abs(e))),
        rms_err_pct=lambda e: float(np.sqrt(np.mean(np.square(e)))),
    )
    return table.reset_index()


def collapse(df: pd.DataFrame, bias_min_a: float | None = None) -> pd.DataFrame:
    """Per (tech, corner, temp_c, pattern): the largest normalized-output spread across bias.

    Returns columns ``collapse_pct_fs`` (% of full scale), ``worst_point``, ``biases`` (how
    many bias currents were compared) and ``bias_min_a``/``bias_max_a``.
    """
    import pandas as pd

    v = valid(with_ideal(op_rows(df)))
    if bias_min_a is not None:
        v = v[v["bias_a"] >= bias_min_a * (1 - 1e-9)]
    v = v.assign(z_norm=v["out_a"] / v["bias_a"], fs_norm=v["fs_a"] / v["bias_a"])
    rows = []
    keys = [*conditions(v, drop=("bias_a",)), "pattern"]
    for key, grp in v.groupby(keys, sort=True):
        per_point = grp.groupby("point")
        spread = per_point["z_norm"].max() - per_point["z_norm"].min()
        counts = per_point["z_norm"].size()
        spread = spread[counts == grp["bias_a"].nunique()]  # compare only complete points
        fs = float(grp["fs_norm"].max())
        worst = int(np.asarray(spread.idxmax())) if len(spread) else -1
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
    return pd.DataFrame(rows)


def dot_tracking(df: pd.DataFrame) -> pd.DataFrame:
    """Inner product: per condition, Pearson r of the circuit's and of ideal()'s output with
    the true dot product over the random vectors, and the least-squares scale
    out_y_a ~ k dot_xw_a (the 'known scale'). Empty for other cells."""
    import pandas as pd

    if "dot_xw_a" not in df.columns:
        return pd.DataFrame()
    v = valid(with_ideal(op_rows(df)))
    v = v[v["pattern"] == "random"]
    rows = []
    keys = conditions(v)
    for key, g in v.groupby(keys, sort=True):
        d = g["dot_xw_a"].to_numpy()
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "vectors": len(g),
                "pearson_r": float(np.corrcoef(g["out_a"], d)[0, 1]),
                "pearson_r_ideal": float(np.corrcoef(g["ideal_a"], d)[0, 1]),
                "scale": float(np.dot(g["out_a"], d) / np.dot(d, d)),
            }
        )
    return pd.DataFrame(rows)


def inl_dnl(df: pd.DataFrame) -> pd.DataFrame:
    """Compressive memory: per code and condition (and chip), INL and DNL in LSB of the
    compressive law, where one LSB is the law's local step (ideal_i(code) - ideal_i(code-1);
    code 0 takes code 1's step).

    INL is end-point corrected (IEEE Std 1658 practice for DACs): the measured transfer is
    scaled and shifted so that codes 0 and 2^n - 1 match the law; gain and offset errors are
    reported apart (``gain_err_pct``, ``offset_lsb`` in :func:`linearity`). DNL(code) =
    (measured step - ideal step) / ideal step; DNL > -1 everywhere means monotonic."""
    import pandas as pd

    if "in_code" not in df.columns:
        return pd.DataFrame()
    d = with_ideal(op_rows(df, nominal=None))
    d = d[d["status"] == "ok"]
    keys = [*conditions(d), "mc_index"]
    parts = []
    for _, g in d.groupby(keys, sort=True):
        g = g.sort_values("in_code")
        ideal = g["ideal_a"].to_numpy()
        meas = g["out_a"].to_numpy()
        step = np.diff(ideal)
        lsb = np.concatenate([step[:1], step])
        gain = (ideal[-1] - ideal[0]) / (meas[-1] - meas[0])
        corrected = ideal[0] + (meas - meas[0]) * gain
        inl = (corrected - ideal) / lsb
        dnl = np.concatenate([[0.0], (np.diff(corrected) - step) / step])
        parts.append(
            g[[*keys, "in_code", "out_a", "ideal_a"]].assign(
                lsb_a=lsb,
                inl_lsb=inl,
                dnl_lsb=dnl,
                gain_err_pct=100.0 * (1.0 / gain - 1.0),
                offset_lsb=(meas[0] - ideal[0]) / lsb[0],
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def linearity(df: pd.DataFrame) -> pd.DataFrame:
    """Compressive memory: per condition (and chip), max |INL|, DNL range, monotonicity,
    gain and offset errors (see :func:`inl_dnl`)."""
    return linearity_of(inl_dnl(df))


def linearity_of(t: pd.DataFrame) -> pd.DataFrame:
    """:func:`linearity` from an :func:`inl_dnl` table already computed."""
    if t.empty:
        return t
    keys = [*conditions(t), "mc_index"]
    out = t.groupby(keys, sort=True).agg(
        codes=("in_code", "size"),
        max_abs_inl_lsb=("inl_lsb", lambda e: float(np.max(np.abs(e)))),
        min_dnl_lsb=("dnl_lsb", "min"),
        max_dnl_lsb=("dnl_lsb", "max"),
        gain_err_pct=("gain_err_pct", "first"),
        offset_lsb=("offset_lsb", "first"),
    )
    out["monotonic"] = out["min_dnl_lsb"] > -1.0
    return out.reset_index()


# ---------------------------------------------------------------------- Monte Carlo


def chip_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Monte Carlo chips' DC rows that simulated and lie in the cell's domain, with the
    error columns."""
    return valid(with_ideal(op_rows(df, nominal=False)))


def _chip_errors(v: pd.DataFrame) -> pd.DataFrame:
    # |error| first, then pandas' own max per group: a Python function per group took 5760
    # calls and most of a demo report's mc_spread time
    keys = [*conditions(v), "mc_index"]
    e = v[keys].assign(max_abs_err_pct=v["err_pct_fs"].abs())
    return e.groupby(keys, sort=True)["max_abs_err_pct"].max().reset_index()


def chip_errors(df: pd.DataFrame) -> pd.DataFrame:
    """Per chip (mc_index) and condition: its max |error| against ideal() over its valid
    vectors, in % of full scale."""
    return _chip_errors(chip_rows(df))


def mc_spread(df: pd.DataFrame) -> pd.DataFrame:
    """Per condition: the chip-to-chip spread of the output / bias_a, and chip error statistics.

    ``sigma_pct``: for each input vector, the standard deviation across chips of the
    normalized output (in % of the bias current gamma); the median over vectors is reported.
    ``chip_err_median_pct`` and ``chip_err_p90_pct``: median and 90th percentile over chips of
    each chip's max |error| (see :func:`chip_errors`). ``chips``: how many were simulated.
    """
    import pandas as pd

    v = chip_rows(df)
    if v.empty:
        return pd.DataFrame()
    keys = conditions(v)
    z = v.assign(z_norm=v["out_a"] / v["bias_a"])
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


def area_cost_of(spread: pd.DataFrame) -> pd.DataFrame:
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


def area_cost(df: pd.DataFrame) -> pd.DataFrame:
    """Per device size: the worst (over bias and temperature) 90th-percentile chip error,
    against the area W L of one matched device, um2."""
    return area_cost_of(mc_spread(df))


# ---------------------------------------------------------------------- speed and power


def speed_power(df: pd.DataFrame) -> pd.DataFrame:
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


def summary_tables(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every table that applies to these results: accuracy, collapse, mc_spread, area_cost,
    speed_power (empty ones left out)."""
    tables = {}
    if not op_rows(df).empty:
        tables["accuracy"] = accuracy(df)
        tables["collapse"] = collapse(df)
        tables["dot_tracking"] = dot_tracking(df)
    tables["inl_dnl"] = inl_dnl(df)  # nominal and Monte Carlo chips alike
    tables["linearity"] = linearity_of(tables["inl_dnl"])
    spread = mc_spread(df)
    if not spread.empty:
        tables["mc_spread"] = spread
        if "w_um" in spread.columns and spread["area_um2"].nunique() > 1:
            tables["area_cost"] = area_cost_of(spread)
    sp = speed_power(df)
    if not sp.empty:
        tables["speed_power"] = sp
    return {k: v for k, v in tables.items() if not v.empty}


def crossbar_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Per-column non-ideality of crossbar results: for every (operating point, chip,
    column) a least-squares line out = gain ideal + offset over the input vectors. Columns:
    ``gain`` (1 is ideal), ``offset_fs`` (offset / full scale), ``nonlin_fs`` (largest
    residual from the line / full scale) and ``err_fs`` (largest |out - ideal| / full scale);
    full scale = n_rows x bias_a. IR drop shows as a gain below 1 that grows with the
    conductance (bias_a), the wire temperature and the tile size."""
    import pandas as pd

    rows = op_rows(df, nominal=None)
    rows = rows[rows["status"] == "ok"]
    cols = sorted(
        int(c[len("out_y") : -2])
        for c in rows.columns
        if c.startswith("out_y") and c.endswith("_a")
    )
    n_rows = len(input_cols(rows))
    keys = [*conditions(rows), "mc_index"]
    out = []
    for key, g in rows.groupby(keys, sort=True):
        fs = float(g["bias_a"].iloc[0]) * n_rows
        for c in cols:
            x = g[f"ideal_y{c}_a"].to_numpy(float)
            y = g[f"out_y{c}_a"].to_numpy(float)
            gain, off = np.polyfit(x, y, 1)
            res = y - (gain * x + off)
            out.append(
                {
                    **dict(zip(keys, key, strict=True)),
                    "column": c,
                    "rows": n_rows,
                    "gain": float(gain),
                    "offset_fs": float(off / fs),
                    "nonlin_fs": float(np.max(np.abs(res)) / fs),
                    "err_fs": float(np.max(np.abs(y - x)) / fs),
                }
            )
    return pd.DataFrame(out)

"""Units in names at the edges: the results carry every reference column in amperes with
``_a`` (``ideal_z_a``, ``fs_a``, ``dot_xw_a``), and tables and model files written before
that (``ideal_z``, ``dot_xw``) still load, under today's names."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sactk.analysis.mpmodel import MPModel
from sactk.analysis.results import upgrade_reference_columns
from sactk.circuits import mp
from sactk.circuits.base import ideal_result_column, legacy_reference_columns, result_column
from sactk.circuits.registry import get_cell


def test_reference_columns_get_their_unit() -> None:
    assert result_column("ideal_z") == "ideal_z_a"
    assert result_column("fs") == "fs_a"
    assert result_column("ideal_z_a") == "ideal_z_a"
    assert ideal_result_column(get_cell("mp")) == "ideal_z_a"
    assert ideal_result_column(get_cell("inner_product")) == "ideal_y_a"
    old = ["in_i0_a", "ideal_z", "dot_xw", "fs_a", "out_z_a", "ideal_y3"]
    assert legacy_reference_columns(old) == {
        "ideal_z": "ideal_z_a",
        "dot_xw": "dot_xw_a",
        "ideal_y3": "ideal_y3_a",
    }
    assert legacy_reference_columns(["ideal_z_a", "fs_a", "out_z_a"]) == {}


def test_a_folder_resumed_across_the_rename_reads_as_one_column() -> None:
    """Parts written before (ideal_z) and after (ideal_z_a) in one results table."""
    df = pd.DataFrame(
        {"ideal_z": [1e-7, 2e-7, np.nan], "ideal_z_a": [np.nan, np.nan, 3e-7], "x": [1, 2, 3]}
    )
    up = upgrade_reference_columns(df)
    assert list(up.columns) == ["ideal_z_a", "x"]
    np.testing.assert_array_equal(up["ideal_z_a"], [1e-7, 2e-7, 3e-7])


def _mp_rows(ideal: str) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for bias in (1e-8, 1e-6):
        for p in range(40):
            x = rng.uniform(0.2, 1.5, 4)
            z = float(mp.ideal(x, 1.0))
            rows.append(
                {
                    "cell": "mp",
                    "tech": "c180",
                    "corner": "tt",
                    "temp_c": 27.0,
                    "bias_a": bias,
                    "analysis": "op",
                    "mc_index": -1,
                    "point": p,
                    "pattern": "random",
                    **{f"in_i{k}_a": x[k] * bias for k in range(4)},
                    ideal: z * bias,
                    "fs_a": x.max() * bias,
                    "domain_ok": True,
                    "out_z_a": 0.98 * z * bias,
                    "status": "ok",
                }
            )
    return pd.DataFrame(rows)


def test_an_older_results_table_and_model_file_load_under_todays_names(tmp_path: Path) -> None:
    new = MPModel().fit(_mp_rows("ideal_z_a"), {"n_inputs": 4})
    old = MPModel().fit(_mp_rows("ideal_z"), {"n_inputs": 4})  # a table from before
    assert new.coordinate_ == old.coordinate_ == "ideal_z_a"
    x = _mp_rows("ideal_z_a")[[f"in_i{k}_a" for k in range(4)]].to_numpy()
    np.testing.assert_array_equal(new.evaluate(x, 1e-7, 27.0), old.evaluate(x, 1e-7, 27.0))
    # a model file written before units in names records its ideal column as ideal_z
    path = new.save(tmp_path / "m")
    info = json.loads(path.read_text())
    info["ideal"] = "ideal_z"
    path.write_text(json.dumps(info))
    assert MPModel.load(tmp_path / "m").coordinate_ == "ideal_z_a"


@pytest.mark.ngspice
def test_results_columns_carry_units(tmp_path: Path) -> None:
    from sactk import api
    from sactk.analysis.results import load_results

    spec = api.load(preset="inner-product", updates={"sweep.bias_a": [1e-7]})
    api.sweep(spec, tmp_path / "r", jobs=1)
    df = load_results(tmp_path / "r").frame
    assert {"ideal_y_a", "dot_xw_a", "fs_a"} <= set(df.columns)
    assert not {"ideal_y", "dot_xw", "fs"} & set(df.columns)
    ok = df[df["status"] == "ok"]
    assert np.all(np.abs(ok["ideal_y_a"]) <= 2.0 * 1e-7)  # amperes at 100 nA, not gamma


def test_an_mp_fit_takes_the_cells_parameters_not_a_column_count() -> None:
    from sactk.errors import SpecError

    rows = _mp_rows("ideal_z_a")
    assert MPModel().fit(rows).layout_.sizes == [4]  # the MP cell's defaults: 4 inputs
    three = rows.drop(columns=["in_i3_a"])  # inputs that no default or table explains
    with pytest.raises(SpecError, match="give 4 inputs, the results have 3"):
        MPModel().fit(three)
    assert MPModel().fit(three, {"n_inputs": 3}).layout_.sizes == [3]

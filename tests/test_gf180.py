"""The same MP cell on the real GF180MCU 3.3 V devices (found through PDK_ROOT).

Skipped only where no PDK is found; CI sets PDK_ROOT to ../shared/pdks.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sactk.analysis import metrics
from sactk.circuits import mp
from sactk.netlists.render import render
from sactk.netlists.technology import gf180mcu
from sactk.sweeps.run import run_sweep
from sactk.sweeps.spec import load_spec
from sactk.sweeps.store import read_results

pytestmark = [pytest.mark.ngspice, pytest.mark.pdk]


def test_builder_sizes_for_the_process(pdk_root: Path) -> None:
    tech = gf180mcu()
    text = render(mp.build(mp.Params(), tech).netlist)
    assert "nmos_3p3" in text and "pmos_3p3" in text and "nch" not in text
    assert "sw_stat_mismatch=0" in text and ".lib" in text and "typical" in text
    # L = max(1 um, 4 Lmin) = 1.12 um on GF180MCU (Lmin 0.28 um)
    assert "l=1.12u" in text


def test_mp_dc_on_gf180mcu(tmp_path: Path, pdk_root: Path) -> None:
    spec = load_spec(preset="mp-dc", overrides=['tech.name="gf180mcu"'])
    s = run_sweep(spec, tmp_path / "a", n_jobs=2)
    assert s.failed_points == 0
    df = read_results(tmp_path / "a")
    assert (df["tech"] == "gf180mcu").all()
    acc = metrics.accuracy(df)
    assert len(acc) == 7
    assert acc["max_abs_err_pct"].max() < 1.0, acc.to_string()
    assert acc["rms_err_pct"].max() < 0.5, acc.to_string()
    assert metrics.collapse(df)["collapse_pct_fs"].max() < 1.0


def test_gf180_nominal_runs_are_deterministic(tmp_path: Path, pdk_root: Path) -> None:
    """design.ngspice turns mismatch on by default; nominal runs must not draw from it."""
    spec = load_spec(
        preset="mp-dc",
        overrides=[
            'tech.name="gf180mcu"',
            "sweep.bias_a=[1e-7]",
            "inputs.random.count=4",
            "inputs.sweep.points=2",
        ],
    )
    run_sweep(spec, tmp_path / "a", n_jobs=1)
    run_sweep(spec, tmp_path / "b", n_jobs=1)
    pd.testing.assert_frame_equal(
        read_results(tmp_path / "a"), read_results(tmp_path / "b"), check_exact=True
    )

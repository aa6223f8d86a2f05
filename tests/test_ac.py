"""Small-signal bandwidth (``[ac]``: sweeps/benches.ac_bench, the ngspice backend's ``ac``,
analysis/bandwidth.py) on the real ngspice: the MP cell's transfer from its one active input
has a DC gain of 1, its -3 dB bandwidth follows the bias in weak inversion, and the step
response to the same point settles no faster than the single-pole estimate ln(100) tau
(documented bound: within 1x to 15x of it, docs/noise.md "Bandwidth")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _cli import run

from sactk.analysis.bandwidth import bandwidth_table, corner_3db
from sactk.errors import SpecError
from sactk.sweeps.spec import load_spec
from sactk.sweeps.store import read_results


def test_corner_of_a_single_pole() -> None:
    f = np.logspace(1, 8, 71)
    gain = 2.0 / np.abs(1 + 1j * f / 3e4)
    assert abs(corner_3db(f, gain) / 3e4 - 1) < 0.02
    assert np.isnan(corner_3db(f, np.full(71, 2.0)))  # flat: no corner in the span


def test_ac_specs_are_checked() -> None:
    with pytest.raises(SpecError, match="fstop_hz"):
        load_spec(text="[sweep]\nbias_a = [1e-7]\n[ac]\nfstart_hz = 1e6\nfstop_hz = 1e3\n")
    with pytest.raises(SpecError, match="points_per_decade"):
        load_spec(text="[sweep]\nbias_a = [1e-7]\n[ac]\npoints_per_decade = 0\n")


@pytest.mark.ngspice
def test_mp_bandwidth_follows_the_bias_and_bounds_the_settling(tmp_path: Path) -> None:
    out = tmp_path / "r"
    r = run("sweep", "--preset", "mp-ac", "--out", str(out),
            "--set", "sweep.bias_a=[1e-8, 1e-7, 1e-6]")  # fmt: skip
    assert r.returncode == 0, r.stderr
    df = read_results(out)
    ac = df[df["analysis"] == "ac"]
    assert len(ac) == 3 * 91 and {"freq_hz", "ac_gain", "ac_phase_deg"} <= set(ac.columns)
    table = bandwidth_table(df).sort_values("bias_a")
    assert np.allclose(table["ac_gain_dc"], 1.0, atol=0.05), table
    bw = table["bandwidth_hz"].to_numpy()
    assert bw[1] / bw[0] > 5.0, bw  # weak inversion: gm, and the poles, follow the bias
    assert bw[2] > bw[1], bw
    ratio = table["settle_ratio"].to_numpy()
    assert ((ratio >= 1.0) & (ratio <= 15.0)).all(), table
    r = run("plot", str(out), "--out", str(tmp_path / "p"))
    assert r.returncode == 0, r.stderr
    assert "bandwidth:" in r.stdout and "settle_est_s" in r.stdout
    saved = pd.read_csv(tmp_path / "p" / "bandwidth.csv")
    assert np.allclose(saved["bandwidth_hz"], table["bandwidth_hz"])
    assert (tmp_path / "p" / "bandwidth.png").stat().st_size > 10_000

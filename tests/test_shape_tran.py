"""Step response of the activation cells (real ngspice).

Without the gate-node capacitor (cell.comp_scale), the tanh and sigmoid cells rang from
1 uA up and never settled. Each cell must now settle at every bias from 10 nA to 10 uA and
at -40, 27 and 125 C, for steps across the middle of the shape and to zero output. Settling
must get faster with bias (a 1000x bias range gives at least 30x).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sactk.analysis import metrics
from sactk.sweeps.run import run_sweep
from sactk.sweeps.spec import load_spec
from sactk.sweeps.store import read_results

pytestmark = pytest.mark.ngspice


@pytest.mark.parametrize("shape", ["tanh", "sigmoid"])
def test_activation_cells_settle_at_every_bias(tmp_path: Path, shape: str) -> None:
    spec = load_spec(preset=f"shape-{shape}-tran", overrides=["sweep.temp_c=[-40, 27, 125]"])
    s = run_sweep(spec, tmp_path / "r", n_jobs=2)
    assert s.failed_points == 0, s.failures[:3]
    sp = metrics.speed_power(read_results(tmp_path / "r"))
    for _, g in sp.groupby("temp_c"):
        g = g.sort_values("bias_a")
        assert len(g) == 7
        assert g["settle_s"].iloc[0] > 30 * g["settle_s"].iloc[-1]


@pytest.mark.parametrize(("start", "stop"), [(0.0, 2.0), (-2.0, 2.0), (3.9, -3.9)])
def test_hard_steps_settle_at_high_bias(tmp_path: Path, start: float, stop: float) -> None:
    """The steps that rang before the fix (0 -> 2, -2 -> 2 gamma) and a step to the
    sigmoid's zero output (its band is 1 % of the step)."""
    spec = load_spec(
        preset="shape-sigmoid-tran",
        overrides=[
            "sweep.bias_a=[1e-6, 1e-5]",
            f"tran.from_ratio={start}",
            f"tran.to_ratio={stop}",
        ],
    )
    assert run_sweep(spec, tmp_path / "r", n_jobs=1).failed_points == 0


def test_without_the_capacitor_the_cell_rings(tmp_path: Path) -> None:
    """The check sees the failure: comp_scale = 0 is the old circuit."""
    spec = load_spec(
        preset="shape-tanh-tran",
        overrides=["sweep.bias_a=[3e-6]", "cell.comp_scale=0", "tran.to_ratio=2.0",
                   "tran.from_ratio=0.0"],
    )  # fmt: skip
    s = run_sweep(spec, tmp_path / "r", n_jobs=1)
    assert s.failed_points == 1 and "not settled" in s.failures[0]["status"]

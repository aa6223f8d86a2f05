"""`sactk demo --quick`: the demo's whole pipeline on small sweeps, run as a user runs it,
writes every file the README promises (sactk.api.demo.FILES)."""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path

import numpy as np
import pytest
from _cli import run

from sactk.api.demo import FILES

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_promises_only_files_the_demo_lists() -> None:
    """Every `demo-out/...` path in the README's demo section is one the smoke test checks."""
    text = README.read_text()
    section = text.split("## What the demo produces", 1)[1].split("\n## ", 1)[0]
    promised = re.findall(r"`demo-out/([^`]+)`", section)
    assert len(promised) >= 6, promised
    for p in promised:
        pattern = p.rstrip("/") + ("/*" if p.endswith("/") else "")
        assert any(fnmatch.fnmatch(f, pattern) for f in FILES), f"README promises {p}"


@pytest.mark.ngspice
def test_quick_demo_writes_every_promised_file(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    r = run("demo", "--quick", "--out", str(out), timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    missing = [f for f in FILES if not (out / f).exists()]
    assert not missing, missing
    empty = [f for f in FILES if (out / f).is_file() and (out / f).stat().st_size == 0]
    assert not empty, empty
    figures = json.loads((out / "summary.json").read_text())
    for key in ("accuracy", "collapse", "mc_spread", "speed_power", "model_validation"):
        assert figures[key], key
    assert len(figures["regression"]) == 2  # two biases at 27 C in the quick run
    assert all(0.5 < row["r2_mean"] <= 1.0 for row in figures["regression"])
    # the models carry their cells' noise: R2 with noise beside R2 without, and the
    # trade-off's white noise falls as 1 / sqrt(window) (windows 1, 4, 16 settling times)
    assert all(0.5 < row["r2_noise_mean"] <= 1.0 for row in figures["regression"])
    import pandas as pd

    trade = pd.read_csv(out / "regress" / "noise_tradeoff.csv")
    for _, g in trade.groupby("bias_a"):
        g = g.sort_values("window_settle")
        assert g["window_settle"].tolist() == [1.0, 4.0, 16.0]
        steps = g["noise_rms_gamma"].to_numpy()[:-1] / g["noise_rms_gamma"].to_numpy()[1:]
        assert np.allclose(steps, 2.0, rtol=0.1), g
    page = (out / "report.html").read_text()
    assert "S-AC regression on sinc(3x)" in page and page.count("<img") >= 10
    # the first three sections are built ahead (their plots drawn while the models fit)
    for name in ("mp-sweep", "mp-mc", "mp-tran", "inner-product-mc", "shape-tanh-mc"):
        assert f'<img alt="{name}: ' in page, name
    assert "7/7 HTML report" in r.stdout
    # the full demo into the quick run's folder: refused at once, with the way out
    r = run("demo", "--out", str(out), timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert f"rm -rf {out}" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr

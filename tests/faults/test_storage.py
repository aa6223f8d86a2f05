"""Storage faults on real ngspice results: a truncated or changed part is detected on load
(one line, exit 2) and a resume recomputes only the damaged job, losing nothing finished."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))
from _cli import run

pytestmark = pytest.mark.ngspice


def _sweep(out: Path) -> None:
    r = run(
        "sweep",
        "--preset",
        "mp-dc",
        "--set",
        "sweep.bias_a=[1e-8, 1e-7, 1e-6]",
        "--set",
        "inputs.random.count=5",
        "--set",
        "inputs.sweep.points=5",
        "--out",
        str(out),
    )
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_damaged_part_is_detected_and_only_it_is_recomputed(tmp_path: Path, damage: str) -> None:
    out = tmp_path / "r"
    _sweep(out)
    man = json.loads((out / "manifest.json").read_text())
    assert all(len(j["sha256"]) == 64 for j in man["jobs"].values())
    parts = sorted((out / "results.parquet").glob("part-*.parquet"))
    assert len(parts) == 3
    before = {p.name: pd.read_parquet(p) for p in parts}
    victim = parts[1]
    data = victim.read_bytes()
    if damage == "truncate":
        victim.write_bytes(data[: len(data) // 2])
    else:  # one flipped byte in the middle: still a plausible file, wrong content
        i = len(data) // 2
        victim.write_bytes(data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :])
    r = run("plot", str(out), "--out", str(tmp_path / "p"))
    assert r.returncode == 2
    assert victim.name in r.stderr and "rerun the same `sactk sweep`" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    _sweep(out)  # the resume
    man = json.loads((out / "manifest.json").read_text())
    s = man["summary"]
    assert s["jobs_skipped"] == 2 and s["jobs_ok"] == 1  # only the damaged job ran
    assert s["damaged_parts_recomputed"] == [victim.stem.removeprefix("part-")]
    for p in sorted((out / "results.parquet").glob("part-*.parquet")):
        pd.testing.assert_frame_equal(pd.read_parquet(p), before[p.name])  # nothing lost

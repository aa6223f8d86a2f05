"""sactk against its peers on one job, whole process (`make bench`; docs/benchmarks.md).

The jobs (issue 31): the 4-input MP cell on c180 at 100 nA and 27 C,

* N Pelgrom chips x 24 random input vectors, one DC operating point each, N = 50 (1200
  points) and 500 (12,000 points);
* 200 chips x an 81-point transfer curve of input 0 (one ``dc`` analysis per chip),

results written to a file.

Each tool runs as a fresh process, timed from start to exit by this script:

* ``plain``: benchmarks/peer_plain.py, a PySpice script (load once, alter per chip, `op` per
  point, one NumPy file);
* ``pool-2``: the same script in a pool of 2 spawned processes, one task per chip;
* ``sactk``: ``sactk sweep SPEC --out DIR`` at its default worker choice;
* ``sactk --jobs 1``: the same in one process;
* ``sedes``: when it is installed and its bundled ngspice loads on this machine (otherwise
  the table says why not).

All cases run the same netlist, chips and vectors (the peers' job file is written from
sactk's own plan), interleaved, ``--repeat`` times (default 5); the table gives the median.
The peers' output currents are checked against sactk's results before timing.

Usage: python benchmarks/peers.py [--repeat 5] [--chips 50 500] [--transfer 200]
       [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import tmp_dir

HERE = Path(__file__).resolve().parent
SACTK = str(Path(sys.executable).with_name("sactk"))
BEGIN, END = "<!-- peers:begin -->", "<!-- peers:end -->"

CIRCUIT = """
[cell]
name = "mp"
n_inputs = 4
[tech]
name = "c180"
[sweep]
bias_a = [1e-7]
temp_c = [27]
[mc]
instances = {chips}
seed = 1
nominal = false
"""
"""What both jobs share: the MP cell on c180 at 100 nA and 27 C, N Pelgrom chips."""

SPEC = (
    'description = "peers benchmark: MP cell, {chips} Pelgrom chips x 24 vectors"\n'
    + CIRCUIT
    + """
[inputs.random]
count = 24
seed = 1
max_ratio = 2.0
min_ideal_ratio = 0.1
[inputs.sweep]
points = 0
"""
)

TRANSFER = (
    'description = "peers benchmark: MP cell, {chips} Pelgrom chips x an 81-point dc"\n'
    + CIRCUIT
    + """
[inputs.random]
count = 0
[inputs.sweep]
index = 0
points = 81
max_ratio = 3.0
hold_ratio = 1.0
"""
)


def job_file(spec_path: Path, out: Path) -> tuple[Path, float]:
    """The peers' job file from sactk's plan of ``spec_path``; returns it and the output
    probe's scale (sactk stores ``scale * i(vout)``)."""
    from sactk import api
    from sactk.netlists.render import fmt
    from sactk.sweeps.backends.compat import vector_name
    from sactk.sweeps.backends.ngspice_shared import dc_schedule
    from sactk.sweeps.run import prepare

    _tech, jobs = prepare(api.load(spec_path))
    job = jobs[0]
    probe = job.probes[0]
    doc: dict[str, Any] = {
        "netlist": job.netlist,
        "chips": [list(map(list, inst.alters)) for j in jobs for inst in j.instances],
        "probe": vector_name(probe.role, probe.target),
        "supply": vector_name("current", job.supply),
    }
    rows = [
        [[s, fmt(float(x), s)] for s, x in zip(job.sources, row, strict=True)] for row in job.values
    ]
    ((_start, _stop, col),) = dc_schedule(job)
    if col >= 0:  # a transfer curve: one dc analysis per chip, as sactk's backend runs it
        x = job.values[:, col]
        step = (x[-1] - x[0]) / (len(x) - 1)
        doc["dc"] = f"dc {job.sources[col]} {fmt(x[0])} {fmt(x[-1])} {fmt(step)}"
        doc["held"] = rows[0]
    else:
        doc["vectors"] = rows
    assert all(j.netlist == job.netlist for j in jobs), "one netlist for every chip"
    path = out / "job.json"
    path.write_text(json.dumps(doc))
    return path, probe.scale


def sedes_reason() -> str:
    """'' when sedes can simulate here, else why not (one line)."""
    try:
        import sedes  # type: ignore[import-not-found]
    except ImportError:
        return "not installed"
    try:
        pool = sedes.SimulationPool(workers=1, timeout_secs=20)
        r = pool.run_simulations_batch([("* t\nr1 a 0 1k\ni1 0 a dc 1m\n.end\n", ["op"])])[0]
        return "" if r.success else f"its simulation failed: {r.error}"
    except Exception as exc:  # a bundled library that does not load here
        return f"does not run here: {str(exc).splitlines()[0][:120]}"


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def run_case(chips: int, repeat: int, transfer: bool = False) -> dict[str, Any]:
    out = tmp_dir()
    try:
        spec = out / "spec.toml"
        spec.write_text((TRANSFER if transfer else SPEC).format(chips=chips))
        job, scale = job_file(spec, out)
        plain = [sys.executable, str(HERE / "peer_plain.py"), str(job), str(out / "p.npy")]
        cases: dict[str, list[str]] = {
            "plain script (PySpice, 1 process)": plain,
            "2-process pool, one task per chip": [*plain, "2"],
            "sactk sweep (default workers)": [SACTK, "sweep", str(spec), "--out", "@"],
            "sactk sweep --jobs 1": [SACTK, "sweep", str(spec), "--out", "@", "--jobs", "1"],
        }
        check_agreement(cases, out, scale)
        walls: dict[str, list[float]] = {k: [] for k in cases}
        for r in range(repeat):
            for name, cmd in cases.items():
                target = out / f"r{r}-{abs(hash(name))}"
                walls[name].append(timed([str(target) if c == "@" else c for c in cmd]))
                shutil.rmtree(target, ignore_errors=True)
        label = f"{chips} chips x 81-point dc" if transfer else f"{chips} chips x 24 vectors"
        return {"job": f"{label} ({chips * (81 if transfer else 24)} points)", "walls": walls}
    finally:
        shutil.rmtree(out, ignore_errors=True)


def check_agreement(cases: dict[str, list[str]], out: Path, scale: float) -> None:
    """The peers computed what sactk computed (same currents, 1e-9 relative)."""
    from sactk.sweeps.store import read_results

    plain = cases["plain script (PySpice, 1 process)"]
    subprocess.run(plain, check=True, capture_output=True)
    got = np.load(out / "p.npy")[:, 0] * scale
    target = out / "check"
    subprocess.run(
        [str(target) if c == "@" else c for c in cases["sactk sweep --jobs 1"]],
        check=True,
        capture_output=True,
    )
    df = read_results(target).sort_values(["mc_index", "point"])
    want = df["out_z_a"].to_numpy()
    if not np.allclose(got, want, rtol=1e-9, atol=1e-18):
        raise SystemExit(f"peers: the plain script and sactk differ ({np.max(abs(got - want))})")
    shutil.rmtree(target)


def table(rows: list[dict[str, Any]], repeat: int, sedes: str) -> str:
    head = (
        f"Command: `python benchmarks/peers.py` (in `make bench`). Machine: "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"whole process, median of {repeat} interleaved runs, measured "
        f"{time.strftime('%Y-%m-%d')}.\n\n"
        "| job | tool, how it ran | median wall (s) | vs sactk |\n| --- | --- | ---: | ---: |\n"
    )
    lines = []
    for row in rows:
        med = {k: statistics.median(v) for k, v in row["walls"].items()}
        ref = med["sactk sweep (default workers)"]
        for name, m in med.items():
            lines.append(f"| {row['job']} | {name} | {m:.2f} | {m / ref:.2f} |")
    note = f"\nsedes: {sedes or 'ran'}.\n"
    return head + "\n".join(lines) + "\n" + note


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--chips", type=int, nargs="*", default=[50, 500])
    ap.add_argument(
        "--transfer",
        type=int,
        nargs="*",
        default=[200],
        help="chips of the transfer-curve job (81-point dc per chip)",
    )
    ap.add_argument("--write", type=Path, help="replace the peers table in this markdown file")
    a = ap.parse_args()
    rows = [run_case(c, a.repeat) for c in a.chips]
    rows += [run_case(c, a.repeat, transfer=True) for c in a.transfer]
    text = table(rows, a.repeat, sedes_reason())
    print(text)
    if a.write:
        doc = a.write.read_text()
        start, stop = doc.index(BEGIN) + len(BEGIN), doc.index(END)
        a.write.write_text(doc[:start] + "\n" + text + doc[stop:])


if __name__ == "__main__":
    main()

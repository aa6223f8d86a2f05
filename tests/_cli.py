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


def job_timeout_s(args: list[str], scratch: Path, floor_s: float = 2.0) -> float:
    """A ``--timeout`` for a fault test, scaled to this machine now: the same sweep run
    clean into ``scratch``, 10x its time per job (wall x workers / jobs, start-up
    included), at least ``floor_s``. A busy machine slows the clean run as much as the
    faulty one, so only the injected victim ever reaches it (issue 31: tests that hold
    under load)."""
    import re

    r = run(*args, "--out", str(scratch))
    m = re.search(r"in ([\d.]+) s .*?(\d+) workers?\); jobs: (\d+) ok", r.stdout)
    if r.returncode != 0 or m is None:
        raise AssertionError(f"clean run for the timeout failed: {r.stdout} {r.stderr}")
    wall, workers, jobs = float(m.group(1)), int(m.group(2)), int(m.group(3))
    return max(floor_s, 10.0 * wall * workers / max(jobs, 1))

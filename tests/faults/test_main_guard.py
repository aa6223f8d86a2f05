"""A user's script that runs a multi-worker sweep without ``if __name__ == "__main__":``
gets one line saying what to add, instead of "worker died" (spawned workers import the
script again). Both scripts run as a user runs them: ``python script.py``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
from sactk import api
from sactk.errors import SpecError
spec = api.load(preset="mp-dc", updates={{"sweep.bias_a": [1e-7, 1e-6]}})
try:
    api.sweep(spec, {out!r}, jobs=2)
except SpecError as exc:
    print("REFUSED:", exc)
    raise SystemExit(2)
print("DONE")
"""


def _run(tmp_path: Path, guarded: bool) -> subprocess.CompletedProcess[str]:
    body = SCRIPT.format(out=str(tmp_path / "r"))
    if guarded:
        body = 'if __name__ == "__main__":\n' + "".join(
            "    " + line + "\n" for line in body.strip().splitlines()
        )
    script = tmp_path / "user_script.py"
    script.write_text(body)
    return subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=600
    )


@pytest.mark.ngspice
def test_unguarded_script_is_told_what_to_add(tmp_path: Path) -> None:
    r = _run(tmp_path, guarded=False)
    assert r.returncode == 2, r.stdout + r.stderr
    assert 'if __name__ == "__main__":' in r.stdout
    assert "worker died" not in r.stdout + r.stderr


@pytest.mark.ngspice
def test_guarded_script_runs_its_sweep(tmp_path: Path) -> None:
    r = _run(tmp_path, guarded=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "DONE" in r.stdout

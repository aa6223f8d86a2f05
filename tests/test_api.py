"""The README's Python API example, run as written in a fresh folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _example() -> str:
    section = README.read_text().split("## Python API", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


@pytest.mark.ngspice
def test_readme_api_example_runs(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-c", _example()], cwd=tmp_path, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert "195 points, 0 failed" in r.stdout
    assert "new vectors: max error" in r.stdout
    assert (tmp_path / "api-r1-plots" / "transfer.png").stat().st_size > 0
    assert "sactk_mp_tt" in (tmp_path / "api-r1-model.sub").read_text()


def test_api_covers_every_workflow() -> None:
    """Every command of the CLI has its function in sactk.api."""
    from sactk import api

    for name in ("sweep", "plot", "fit", "export", "report", "regress", "demo", "load"):
        assert callable(getattr(api, name)), name
    for name in ("train", "fit_device", "mac_cost"):
        assert callable(getattr(api.sc, name)), name
    for name in ("characterize", "evaluate", "bits"):
        assert callable(getattr(api.aimc, name)), name


def test_functions_win_over_submodules_of_the_same_name() -> None:
    """``demo``, ``regress`` and ``refine`` are submodules and functions of sactk.api; the
    names load lazily, and importing the submodule first must still leave the function
    (a fresh interpreter, so no other test's imports decide it)."""
    code = (
        "from sactk.api.regress import verify_regression; from sactk.api.demo import FILES; "
        "import sactk.api.refine; from sactk import api; "
        "print(all(callable(getattr(api, n)) and not isinstance(getattr(api, n), type(api)) "
        "for n in ('regress', 'demo', 'refine', 'sweep', 'fit')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "True", out.stderr[-2000:]

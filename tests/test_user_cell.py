"""A user's cell (tests/usercells.py: an NMOS current mirror, out = in): one CellType and one
register_cell call, or an installed entry point, and the whole toolkit takes it (spec
validation, sweep on ngspice, plots, metrics, lookup model) with no edit to sactk."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from _cli import run
from usercells import MIRROR

from sactk import api
from sactk.circuits import CellType, get_cell, register_cell, unregister_cell
from sactk.errors import SpecError

SPEC = """
[cell]
name = "user_mirror"
l_um = 2.0
[sweep]
bias_a = [1e-8, 1e-7, 1e-6]
[inputs.random]
count = 0
[inputs.sweep]
points = 9
min_ratio = 0.5
max_ratio = 2.0
"""


@pytest.fixture
def mirror() -> Any:
    register_cell(MIRROR)
    yield MIRROR
    unregister_cell(MIRROR.name)


def test_registry_refusals(mirror: Any) -> None:
    assert get_cell("user_mirror") is mirror
    with pytest.raises(SpecError, match="already registered"):
        register_cell(MIRROR)
    with pytest.raises(SpecError, match="built-in"):
        register_cell(CellType(**{**MIRROR.__dict__, "name": "mp"}))
    with pytest.raises(SpecError, match="not a Cell"):
        register_cell(object())  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="must match"):
        register_cell(CellType(**{**MIRROR.__dict__, "name": "Bad Name"}))


def test_the_cell_validates_its_own_table(mirror: Any, tmp_path: Path) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC.replace("l_um = 2.0", "l_um = 500.0"))
    with pytest.raises(SpecError, match=r"cell\.l_um: Input should be less than"):
        api.load(spec)
    with pytest.raises(SpecError, match=r"cell\.n_inputs: unknown key"):
        api.load(preset="mp-dc", overrides=["cell.name=user_mirror"])  # mp-dc sets n_inputs


@pytest.mark.ngspice
def test_a_user_cell_runs_through_the_toolkit(mirror: Any, tmp_path: Path) -> None:
    spec_file = tmp_path / "mirror.toml"
    spec_file.write_text(SPEC)
    summary = api.sweep(api.load(spec_file), tmp_path / "r")
    assert summary.points == 27 and summary.failed_points == 0
    made = api.plot(tmp_path / "r", tmp_path / "p")
    assert (tmp_path / "p" / "transfer.png").stat().st_size > 0
    acc = made.tables["accuracy"]
    # a mirror copies its input within a few % (channel-length modulation: the diode sits
    # at Vgs, the output at VDD); a broken cell contract would give garbage or no table
    assert len(acc) == 3 and (acc["max_abs_err_pct"] < 10).all()
    model, path = api.fit(tmp_path / "r", tmp_path / "m", knots=5)
    assert model.cell_ == "user_mirror" and path.is_file()


@pytest.mark.ngspice
def test_an_installed_cell_works_from_the_command_line(tmp_path: Path) -> None:
    """A package that declares the cell as a ``sactk.cells`` entry point: the sactk command
    sweeps and fits it (the package is importable from PYTHONPATH, as pip would make
    it)."""
    dist = tmp_path / "site" / "usercells-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: usercells\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[sactk.cells]\nuser_mirror = usercells:MIRROR\n")
    tests = Path(__file__).resolve().parent
    env = {**os.environ, "PYTHONPATH": f"{tmp_path / 'site'}{os.pathsep}{tests}"}
    (tmp_path / "mirror.toml").write_text(SPEC)
    r = run("sweep", str(tmp_path / "mirror.toml"), "--out", str(tmp_path / "r"), env=env)
    assert r.returncode == 0, r.stderr
    r = run("plot", str(tmp_path / "r"), "--out", str(tmp_path / "p"), env=env)
    assert r.returncode == 0 and (tmp_path / "p" / "transfer.png").is_file(), r.stderr
    r = run("fit", str(tmp_path / "r"), "--out", str(tmp_path / "m"), "--knots", "5", env=env)
    assert r.returncode == 0 and "user_mirror.out_y_a" in r.stdout, r.stderr
    # without the entry point the same spec is refused in one line
    r = run("sweep", str(tmp_path / "mirror.toml"), "--out", str(tmp_path / "r2"))
    assert r.returncode == 2 and "unknown cell 'user_mirror'" in r.stderr

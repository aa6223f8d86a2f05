"""One test per PySpice 1.5 / ngspice 39 workaround in sweeps/backends/compat.py."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sactk.circuits import mp
from sactk.netlists.render import render
from sactk.netlists.technology import c180
from sactk.sweeps.backends import compat
from sactk.sweeps.backends.ngspice_shared import instance


def test_1_library_path_falls_back_to_so0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "libngspice.so.0").write_bytes(b"")
    monkeypatch.setenv("NGSPICE_LIBRARY_PATH", "placeholder")  # so the undo restores it
    monkeypatch.delenv("NGSPICE_LIBRARY_PATH")
    monkeypatch.setattr(compat, "LIB_CANDIDATES", (str(tmp_path),))
    assert compat.ensure_library_path() == str(tmp_path / "libngspice.so.0")
    assert os.environ["NGSPICE_LIBRARY_PATH"] == str(tmp_path / "libngspice.so.0")


def test_1_plain_so_needs_no_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "libngspice.so").write_bytes(b"")
    monkeypatch.setenv("NGSPICE_LIBRARY_PATH", "placeholder")  # so the undo restores it
    monkeypatch.delenv("NGSPICE_LIBRARY_PATH")
    monkeypatch.setattr(compat, "LIB_CANDIDATES", (str(tmp_path),))
    compat.ensure_library_path()
    assert "NGSPICE_LIBRARY_PATH" not in os.environ


@pytest.mark.ngspice
def test_2_version_warning_silenced(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    instance().start()
    compat.quiet_pyspice_logging()
    assert logging.getLogger("PySpice").level == logging.CRITICAL
    assert not [r for r in caplog.records if "Unsupported Ngspice" in r.getMessage()]


@pytest.mark.ngspice
def test_3_stderr_chatter_does_not_raise() -> None:
    b = instance()
    out = b.command("echo $no_such_variable_here")  # ngspice answers on stderr
    assert "no such variable" in out


@pytest.mark.ngspice
def test_3_bsim3_card_loads_as_bsim3_without_errors() -> None:
    """The c180 level=8 card must be read as BSIM3 (not BSIM4 as under some compat modes)."""
    b = instance()
    b.start()
    text = render(mp.build(mp.Params(n_inputs=2), c180()).netlist)
    with b._in_rundir():
        out = b._load(text, None)
    try:
        assert "error" not in out.lower(), out
        show = b.command("showmod mmos")
        assert "BSIM3" in show or "bsim3" in show.lower(), show
    finally:
        b._ng.remove_circuit()


@pytest.mark.ngspice
def test_4_read_vector_numpy_copy() -> None:
    b = instance()
    b.start()
    text = render(mp.build(mp.Params(n_inputs=2), c180(), bias_a=1e-6).netlist)
    with b._in_rundir():
        b._load(text, None)
        b._ng.exec_command("op")
        v = compat.read_vector(b._ng, "v(vdd)")
        missing = compat.read_vector(b._ng, "v(no_such_node)")
        b._ng.remove_circuit()
    assert isinstance(v, np.ndarray) and v.dtype == np.float64
    assert v[0] == pytest.approx(1.8)
    assert missing is None


@pytest.mark.ngspice
def test_5_one_thread_and_user_spiceinit_ignored(tmp_path: Path) -> None:
    """A .spiceinit in the user's folder must not change sactk's simulations."""
    (tmp_path / ".spiceinit").write_text("set ngbehavior=ltpsa\nset num_threads=4\n")
    code = (
        "from sactk.sweeps.backends.ngspice_shared import instance\n"
        "b = instance(); print(b.command('echo $num_threads'))\n"
        "import os; print('OMP', os.environ.get('OMP_THREAD_LIMIT'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split()
    assert "1" in lines and "OMP" in lines and lines[lines.index("OMP") + 1] == "1", out.stdout

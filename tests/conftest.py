"""Test options and shared fixtures.

``--ngspice=required`` (what `make test` and CI pass) turns a missing simulator into a
failure; without it, simulator tests are skipped where ngspice is absent. PDK tests run
wherever ``PDK_ROOT`` holds the GF180MCU (marker ``pdk``) or sky130 (marker ``sky130``) models
and are skipped only where it does not; CI sets PDK_ROOT to ../shared/pdks, which has both.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

GF180 = Path("gf180mcuD") / "libs.tech" / "ngspice" / "sm141064.ngspice"
SKY130 = Path("sky130A") / "libs.tech" / "ngspice" / "parameters" / "lod.spice"
ASAP7 = Path("asap7") / "models" / "hspice" / "7nm_TT_160803.pm"
SG13G2 = Path("ihp-sg13g2") / "libs.tech" / "ngspice" / "models" / "cornerMOSlv.lib"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--ngspice",
        choices=["auto", "required"],
        default="auto",
        help="required: fail (never skip) simulator tests when ngspice is missing",
    )


def _pdk_root() -> Path | None:
    root = os.environ.get("PDK_ROOT")
    if root and (Path(root) / GF180).is_file():
        return Path(root)
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    from sactk.sweeps.backends.compat import find_libngspice

    if "ngspice" in item.keywords and find_libngspice() is None:
        if item.config.getoption("--ngspice") == "required":
            pytest.fail("ngspice is required (--ngspice=required) but libngspice was not found")
        pytest.skip("ngspice not installed")
    if "pdk" in item.keywords and _pdk_root() is None:
        pytest.skip("no GF180MCU models under PDK_ROOT")
    if "sky130" in item.keywords and _sky130_root() is None:
        pytest.skip("no sky130 models under PDK_ROOT")
    root = os.environ.get("PDK_ROOT")
    if "asap7" in item.keywords and not (root and (Path(root) / ASAP7).is_file()):
        pytest.skip("no ASAP7 cards under PDK_ROOT")
    if "sg13g2" in item.keywords and not (root and (Path(root) / SG13G2).is_file()):
        pytest.skip("no IHP SG13G2 models under PDK_ROOT")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the VACASK processes' Verilog-A models (BSIM-CMG about 30 s, PSP 103.6 about
    10 s) in the background while the first tests run, on a machine whose cache
    (~/.cache/sactk/osdi) does not have them yet; a test that needs one waits for its file
    (sweeps/backends/vacask.ensure_osdi holds a lock per module)."""
    import threading

    root = os.environ.get("PDK_ROOT")
    if not root:
        return

    def build(va: Path) -> None:
        from sactk.sweeps.backends import vacask

        try:
            vacask.ensure_osdi(va)
        except Exception:  # the test that needs it reports the error
            return

    for va in (
        Path(root) / "verilog-a" / "bsimcmg" / "bsimcmg.va",
        Path(root) / "ihp-sg13g2" / "libs.tech" / "verilog-a" / "psp103" / "psp103.va",
    ):
        if va.is_file():
            threading.Thread(target=build, args=(va,), daemon=True).start()


def _sky130_root() -> Path | None:
    root = os.environ.get("PDK_ROOT")
    if root and (Path(root) / SKY130).is_file():
        return Path(root)
    return None


@pytest.fixture
def pdk_root() -> Path:
    root = _pdk_root()
    assert root is not None
    return root

"""What every cell builder returns, and the registry of cells."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from sactk.netlists.render import Netlist

from sactk.errors import SpecError


@dataclass(frozen=True)
class Probe:
    """A result column read from a simulator vector: ``column = scale * vector``."""

    column: str
    """Result column, with its unit suffix (``out_z_a``)."""
    vector: str
    """ngspice vector name after an operating point (``v(g)``, ``vout#branch``)."""
    scale: float = 1.0


@dataclass(frozen=True)
class Bench:
    """A cell in its test bench, ready to simulate and to alter between points."""

    netlist: Netlist
    inputs: dict[str, str]
    """Input column (``in_i0_a``) -> instance name of the source that sets it."""
    probes: tuple[Probe, ...]
    supply: str = "vdd#branch"
    """Branch-current vector of the supply source; power_w = -vdd_v * this."""


CELLS = ("mp",)


def get_cell(name: str) -> ModuleType:
    """The module of a cell family (``Params``, ``build``, ``ideal``, ``input_columns``)."""
    if name == "mp":
        from sactk.circuits import mp

        return mp
    raise SpecError(f"cell.name: unknown cell {name!r}; use one of {', '.join(CELLS)}")

"""Errors sactk raises. Each maps to a CLI exit code; messages are one line and name the fix."""

from __future__ import annotations


class SactkError(Exception):
    """Base class; ``exit_code`` is what the CLI returns."""

    exit_code = 1


class SpecError(SactkError):
    """Bad user input: a spec, an override, a name or a value. Exit 2.

    The message starts with the field path (``sweep.bias_a: ...``) and says how to fix it.
    """

    exit_code = 2


class SpecMismatch(SpecError):
    """An output folder holds results of another spec, so a rerun cannot resume it. Exit 2."""


class SimulatorUnavailable(SactkError):
    """ngspice (or its shared library) cannot be found or loaded. Exit 2."""

    exit_code = 2


class SimulationError(SactkError):
    """A simulation failed; carries the evidence (simulator output, netlist, coordinates)."""

    exit_code = 3

    def __init__(
        self,
        reason: str,
        *,
        output: str = "",
        netlist_path: str | None = None,
        coords: dict[str, object] | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.output = output
        self.netlist_path = netlist_path
        self.coords = coords or {}


class ModelError(SactkError, ValueError):
    """A lookup model cannot answer: not fitted, a damaged file, a point outside its range.
    Exit 2."""

    exit_code = 2

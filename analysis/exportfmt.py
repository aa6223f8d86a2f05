"""What every exported model text shares: numbers, module names, interpolation weights and
SPICE line wrapping. One place, so the lookup and MP-unit exports (analysis/export.py,
analysis/mpexport.py) format the same number the same way."""

from __future__ import annotations

import re

import numpy as np

from sactk.errors import SpecError

MODULE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,50}$")
"""An exported subcircuit or Verilog-A module name: a plain lower-case identifier."""


def num(v: float) -> str:
    """A number as exported: 12 significant digits, never locale- or repr-dependent."""
    return f"{float(v):.12g}"


def module_name(cell: str, corner: str, chip: int | None = None) -> str:
    """``sactk_<cell>_<corner>`` (``_chip<K>`` for fitted chip K), checked against
    :data:`MODULE_NAME`."""
    name = (f"sactk_{cell}_{corner}" + ("" if chip is None else f"_chip{chip}")).lower()
    if not MODULE_NAME.match(name):
        raise SpecError(f"export: module name {name!r} is not a plain identifier")
    return name


def hat_terms(x: str, grid: np.ndarray, fn_min: str = "min", fn_max: str = "max") -> list[str]:
    """Expressions of the linear-interpolation weights of ``x`` on ``grid``; the end
    weights saturate at 1 outside the grid (clamping)."""
    n = len(grid)
    if n == 1:
        return ["1"]
    out = []
    for j in range(n):
        parts = []
        if j > 0:
            parts.append(f"({x} - ({num(grid[j - 1])})) / {num(grid[j] - grid[j - 1])}")
        else:
            parts.append("1")
        if j < n - 1:
            parts.append(f"(({num(grid[j + 1])}) - {x}) / {num(grid[j + 1] - grid[j])}")
        else:
            parts.append("1")
        out.append(f"{fn_max}(0, {fn_min}({parts[0]}, {parts[1]}))")
    return out


def wrap(text: str, width: int = 100) -> list[str]:
    """Split a long expression over SPICE continuation lines at spaces."""
    lines, cur = [], ""
    for tok in text.split(" "):
        if cur and len(cur) + len(tok) + 1 > width:
            lines.append(cur)
            cur = "+ " + tok
        else:
            cur = f"{cur} {tok}" if cur else tok
    lines.append(cur)
    return lines

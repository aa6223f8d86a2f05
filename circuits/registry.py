"""The cell registry: names to :class:`~sactk.circuits.base.Cell` objects.

Built-in cells are found by name and their modules imported on first use (so ``import
sactk`` stays light). A user's cell is registered once with :func:`register_cell`, before
the spec that names it is loaded; after that ``sactk.api.sweep``, ``plot``, ``fit`` and
``report`` treat it like a built-in one::

    from sactk.circuits import CellType, register_cell
    register_cell(CellType(name="wta2", title="2-input WTA", output="out_z_a", ...))
"""

from __future__ import annotations

import difflib
import importlib
import re

from sactk.circuits.base import Cell
from sactk.errors import SpecError

_BUILTIN = {
    "mp": "mp",
    "relu": "shape",
    "sigmoid": "shape",
    "tanh": "shape",
    "inner_product": "inner",
    "compressive_memory": "cmem",
    "crossbar": "crossbar",
}
"""Built-in cell name -> module under sactk.circuits (which lists its cells in ``CELLS``)."""

_CELLS: dict[str, Cell] = {}
NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def register_cell(cell: Cell, *, replace: bool = False) -> Cell:
    """Make ``cell`` known by its name; returns it. A built-in name, a taken name (unless
    ``replace``), a bad name or an object that is not a Cell is a SpecError."""
    if not isinstance(cell, Cell):
        raise SpecError(
            f"register_cell: {cell!r} is not a Cell (needs name, title, output, ideal_column, "
            "params, sizes, build, vectors, reference, mismatch); see sactk.circuits.base"
        )
    name = cell.name
    if not isinstance(name, str) or not NAME.match(name):
        raise SpecError(f"register_cell: name {name!r} must match {NAME.pattern}")
    if name in _BUILTIN:
        raise SpecError(f"register_cell: {name!r} is a built-in cell; choose another name")
    if name in _CELLS and not replace:
        raise SpecError(f"register_cell: {name!r} is already registered; pass replace=True")
    _CELLS[name] = cell
    return cell


def unregister_cell(name: str) -> None:
    """Forget a user cell (built-in cells stay)."""
    if name not in _BUILTIN:
        _CELLS.pop(name, None)


def cell_names() -> list[str]:
    """Every known cell name: built-in and registered."""
    return sorted(set(_BUILTIN) | set(_CELLS))


def get_cell(name: str) -> Cell:
    """The cell called ``name``; an unknown name is a SpecError listing the known ones."""
    if name not in _CELLS and name in _BUILTIN:
        module = importlib.import_module(f"sactk.circuits.{_BUILTIN[name]}")
        for cell in module.CELLS:
            _CELLS[cell.name] = cell
    if name not in _CELLS:
        names = cell_names()
        hint = difflib.get_close_matches(name, names, n=1)
        extra = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise SpecError(f"cell.name: unknown cell {name!r}{extra}; use one of {', '.join(names)}")
    return _CELLS[name]

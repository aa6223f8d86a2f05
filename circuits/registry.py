"""The cell registry: names to :class:`~sactk.circuits.base.Cell` objects.

Built-in cells are found by name and their modules imported on first use (so ``import
sactk`` stays light). A user's cell comes in two ways:

* from Python, :func:`register_cell` once, before the spec that names it is loaded; after
  that ``sactk.api.sweep``, ``plot``, ``fit`` and ``report`` treat it like a built-in one::

      from sactk.circuits import CellType, register_cell
      register_cell(CellType(name="wta2", title="2-input WTA", output="out_z_a", ...))

* from an installed package, an entry point in the group ``sactk.cells`` naming a Cell (or
  a tuple of them), e.g. ``[project.entry-points."sactk.cells"] wta2 = "mycells:WTA2"``; the
  ``sactk`` command then knows the cell too. Entry points load the first time a name is not
  found among the registered cells.
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
    "subckt": "subckt",
}
"""Built-in cell name -> module under sactk.circuits (which lists its cells in ``CELLS``)."""

_CELLS: dict[str, Cell] = {}
NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
ENTRY_POINTS = "sactk.cells"
_plugins_loaded = False


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
    """Every known cell name: built-in, registered and from installed entry points."""
    _load_plugins()
    return sorted(set(_BUILTIN) | set(_CELLS))


def _load_plugins() -> None:
    """Register the cells of every ``sactk.cells`` entry point, once per process; a plugin
    that fails to load or gives something that is not a Cell is a SpecError naming it."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINTS):
        try:
            obj = ep.load()
        except Exception as exc:
            raise SpecError(
                f"cell plugin {ep.name!r} ({ep.value}) failed to load: {type(exc).__name__}: "
                f"{exc}; fix or uninstall the package that provides it"
            ) from None
        for cell in obj if isinstance(obj, list | tuple) else [obj]:
            if getattr(cell, "name", None) not in _CELLS:
                register_cell(cell)


def get_cell(name: str) -> Cell:
    """The cell called ``name``; an unknown name is a SpecError listing the known ones."""
    if name not in _CELLS and name in _BUILTIN:
        module = importlib.import_module(f"sactk.circuits.{_BUILTIN[name]}")
        for cell in module.CELLS:
            _CELLS[cell.name] = cell
    if name not in _CELLS:
        _load_plugins()
    if name not in _CELLS:
        names = cell_names()
        hint = difflib.get_close_matches(name, names, n=1)
        extra = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise SpecError(f"cell.name: unknown cell {name!r}{extra}; use one of {', '.join(names)}")
    return _CELLS[name]

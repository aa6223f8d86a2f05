"""Cell builders: one module per cell family, the cell contract (base.py) and the registry.

``Cell`` is what a cell is to sactk; ``CellType`` makes one from a parameter dataclass and
plain functions; ``register_cell`` adds a user's cell, ``get_cell`` finds any cell by name.
"""

from sactk.circuits.base import Bench, Cell, CellType, Probe
from sactk.circuits.registry import cell_names, get_cell, register_cell, unregister_cell

__all__ = [
    "Bench",
    "Cell",
    "CellType",
    "Probe",
    "cell_names",
    "get_cell",
    "register_cell",
    "unregister_cell",
]

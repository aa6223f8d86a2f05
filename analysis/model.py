"""The Model protocol: what every fitted cell model is to sactk, and the one way to load
one.

Three kinds implement it:

* :class:`~sactk.analysis.lut.LookupModel` (``kind = "lookup"``): a table of the output
  against one coordinate (the ideal output, a single input or a code), per operating point
  and chip;
* :class:`~sactk.analysis.mpmodel.MPModel` (``kind = "mp"``): the cell's MP units with
  per-branch parameters, evaluated on the cell's real input currents;
* :class:`~sactk.analysis.inputmodel.InputModel` (``kind = "inputs"``): a table of the
  output against the cell's own inputs (current or voltage, up to 3), a user circuit's
  drop-in export.

Callers never ask which class a model is (``hasattr(m, "layout_")``): they read ``kind``
and ``cell_inputs``, and call the protocol's methods. Units: ``evaluate`` takes and returns
amperes at the cell's ports; inside, both kinds work in units of the bias (gamma).
docs/architecture.md has a worked example of adding a kind.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from sactk.errors import ModelError

if TYPE_CHECKING:
    import pandas as pd
    from numpy.typing import ArrayLike

    from sactk.netlists.technology import Technology


@runtime_checkable
class Model(Protocol):
    """A fitted cell model (see the module docstring)."""

    kind: ClassVar[str]
    """``lookup`` or ``mp``: the name ``sactk fit --kind`` takes."""
    file_kind: ClassVar[str]
    """The ``kind`` its MODEL.json records (``LookupModel``, ``MPModel``)."""
    cell_inputs: ClassVar[bool]
    """True: ``evaluate`` takes the cell's real inputs (..., inputs); False: its one
    coordinate (the ideal output, a single input or a code)."""
    cell_: str
    output_: str
    corners_: np.ndarray
    chip_ids_: np.ndarray
    chips_: Any
    info_: dict[str, Any]
    meta_: dict[str, Any]
    """What the fit recorded: ``validation`` (its held-out figures), ``fit_points``."""
    coordinate_: str
    """The results column residual plots use as their axis (the ideal output, an input)."""
    coord_per_bias_: bool
    """Whether ``coordinate_`` is a current (divided by the bias on the axis)."""

    def coordinate_values(self, df: pd.DataFrame) -> np.ndarray:
        """``coordinate_`` of rows, normalized as the model's axis (per bias for currents)."""
        ...

    def predict_results(self, df: pd.DataFrame, clamp: bool = ...) -> np.ndarray:
        """The model at every row of a results table (chips by their ``mc_index``)."""
        ...

    def inside(self, rows: pd.DataFrame) -> np.ndarray:
        """Which rows are inside the fitted range (validation counts only those)."""
        ...

    def errors(self, df: pd.DataFrame) -> pd.DataFrame:
        """Rows with the model's ``pred`` and ``err_fs`` (fraction of full scale)."""
        ...

    def validate(self, df: pd.DataFrame, how: str) -> dict[str, Any]:
        """Held-out figures on ``df`` (recorded in ``meta_["validation"]``)."""
        ...

    @property
    def input_columns(self) -> list[str]:
        """The results columns ``evaluate`` takes: the cell's inputs, or the coordinate."""
        ...

    def evaluate(
        self,
        x: ArrayLike,
        bias_a: ArrayLike,
        temp_c: ArrayLike,
        *,
        corner: str | None = None,
        chip: ArrayLike | None = None,
        chips: np.ndarray | None = None,
        clamp: bool = ...,
    ) -> np.ndarray:
        """The output current (A) at inputs ``x`` (A, or the coordinate's unit), nominal
        (``chip`` None) or per point on chip ``chip`` (a position in ``chips``, default
        the fitted ``chips_``; :meth:`chip_rows` turns Monte Carlo ids into positions)."""
        ...

    def chip_rows(self, ids: ArrayLike, what: str = ...) -> np.ndarray:
        """Positions in ``chips_`` of Monte Carlo instance ids."""
        ...

    def sample_chips(self, n: int, seed: int) -> np.ndarray:
        """``n`` new chips from the statistical mismatch model (seeded)."""
        ...

    def power_w(
        self, bias_a: ArrayLike, temp_c: ArrayLike, corner: str | None = None
    ) -> np.ndarray:
        """Static supply power of one cell (W)."""
        ...

    def save(self, path: str | os.PathLike[str], meta: dict[str, Any] | None = None) -> Path:
        """MODEL.npz and MODEL.json; returns the json path."""
        ...

    def export(self, fmt: str, out: Path, chip: int | None = None) -> list[Path]:
        """The model for another tool (csv, json, verilog-a, ngspice)."""
        ...

    def module_name(self, corner: str, chip: int | None = None) -> str:
        """The exported subcircuit's or module's name."""
        ...

    def roundtrip_drive(self, x: ArrayLike) -> tuple[np.ndarray, str]:
        """How a round-trip deck drives the export's input pins for inputs ``x``: (values
        (P, pins), one kind per pin: ``i`` a current in A, ``v`` a voltage)."""
        ...


def model_classes() -> dict[str, Any]:
    """Every model kind by the ``kind`` its MODEL.json records."""
    from sactk.analysis.inputmodel import InputModel
    from sactk.analysis.lut import LookupModel
    from sactk.analysis.mpmodel import MPModel

    return {cls.file_kind: cls for cls in (LookupModel, MPModel, InputModel)}


def load_model(path: str | os.PathLike[str]) -> Model:
    """A saved model of any kind, by what its MODEL.json says; a damaged or unknown file
    raises ModelError."""
    from sactk.analysis.modelio import model_kind

    kind = model_kind(path)
    classes = model_classes()
    if kind not in classes:
        raise ModelError(f"{path}: unknown model kind {kind!r}; refit with this sactk")
    model: Model = classes[kind].load(path)
    return model


def cell_params(model: Model) -> Any:
    """The parameters of the cell ``model`` was fitted on, validated by the cell itself
    (its ``params``) from the ``[cell]`` table its MODEL.json records."""
    from sactk.circuits.registry import get_cell

    spec = model.info_.get("spec") or {}
    table = {k: v for k, v in (spec.get("cell") or {}).items() if k != "name"}
    return get_cell(model.cell_).params(table)


def technology_of(model: Model) -> Technology:
    """The technology the model's results were simulated on (built-in or from PDK_ROOT)."""
    from sactk.netlists.technology import get_technology

    return get_technology((model.info_.get("technology") or {}).get("name", "c180"))

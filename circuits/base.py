"""What every cell builder returns, the contract a cell module follows, and the registry.

A cell module (``sactk.circuits.mp``, ``shape``, ``inner``, ``cmem``) provides:

* ``Params``: a frozen dataclass; ``params_from_spec(cell_spec, w_um, l_um)`` makes one from
  the spec's ``[cell]`` table and refuses keys the cell does not have.
* ``build(params, tech, *, bias_a, corner, temp_c) -> Bench``.
* ``ideal(...)``: the function the circuit implements, in NumPy.
* ``vectors(params, inputs) -> (patterns, norm)``: the input vectors to simulate, in units
  of the bias current for columns ending in ``_a`` (so the same normalized vectors serve
  every bias), as is for the others (``in_code``).
* ``reference(params, norm, inputs) -> dict``: per-vector columns in units of the bias:
  every ``ideal_*`` column, ``fs`` (the full scale errors are measured against) and the
  boolean ``domain_ok`` (the circuit is meant to follow ideal() there).
* ``OUTPUT`` / ``IDEAL``: the main output column and its ideal column; ``TITLE``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from sactk.errors import SpecError
from sactk.netlists.render import Netlist


@dataclass(frozen=True)
class Probe:
    """A result column read from simulator vectors: ``column = scale * (vector - minus)``.

    ``minus`` makes a differential output (two branch currents) one column.
    """

    column: str
    """Result column, with its unit suffix (``out_z_a``)."""
    vector: str
    """ngspice vector name after an operating point (``v(g)``, ``vout#branch``)."""
    scale: float = 1.0
    minus: str = ""
    """A second vector subtracted from ``vector`` before scaling; empty: none."""


def _identity(values: np.ndarray) -> np.ndarray:
    return values


@dataclass(frozen=True)
class Bench:
    """A cell in its test bench, ready to simulate and to alter between points."""

    netlist: Netlist
    inputs: tuple[str, ...]
    """Logical input columns (``in_i0_a``, ``in_x_a``, ``in_code``)."""
    sources: tuple[str, ...]
    """Instance names of the sources altered at every input vector."""
    probes: tuple[Probe, ...]
    drive: Callable[[np.ndarray], np.ndarray] = _identity
    """(V, len(inputs)) logical values -> (V, len(sources)) source values: how the cell's
    encoding (common-mode offsets, copies, a code's switch voltages) reaches the sources.
    Default: one source per input, equal to it."""
    supply: str = "vdd#branch"
    """Branch-current vector of the supply source; power_w = -vdd_v * this."""


CELLS = ("mp", "relu", "sigmoid", "tanh", "inner_product", "compressive_memory", "crossbar")

_MODULES = {
    "mp": "mp",
    "relu": "shape",
    "sigmoid": "shape",
    "tanh": "shape",
    "inner_product": "inner",
    "compressive_memory": "cmem",
    "crossbar": "crossbar",
}


def get_cell(name: str) -> ModuleType:
    """The module of a cell (see this module's docstring for what it provides)."""
    if name not in _MODULES:
        import difflib

        hint = difflib.get_close_matches(name, CELLS, n=1)
        extra = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise SpecError(f"cell.name: unknown cell {name!r}{extra}; use one of {', '.join(CELLS)}")
    import importlib

    return importlib.import_module(f"sactk.circuits.{_MODULES[name]}")


def params_from_fields(
    params_cls: Any, cell_spec: Any, extra: dict[str, Any] | None = None, **sizes: Any
) -> Any:
    """``params_cls(**fields)`` from the spec's [cell] keys that were set (others keep the
    cell's defaults); a key the cell does not have is an error naming the cell's keys."""
    known = {f.name for f in dataclasses.fields(params_cls)}
    given = {k: getattr(cell_spec, k) for k in cell_spec.model_fields_set if k != "name"}
    given = {k: v for k, v in given.items() if v is not None}
    given.update({k: v for k, v in sizes.items() if v is not None})
    for key in sorted(given):
        if key not in known:
            keys = ", ".join(sorted(known - set(extra or {})))
            raise SpecError(
                f"cell.{key}: not a parameter of cell {cell_spec.name}; its parameters are {keys}"
            )
    return params_cls(**given, **(extra or {}))


def random_and_sweep(
    n: int,
    inputs: Any,
    accept: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The generic vectors of an ``n``-input cell, in units of the bias.

    Seeded random vectors uniform in [random.min_ratio, random.max_ratio] that ``accept``
    (default: all), then input ``sweep.index`` swept over [sweep.min_ratio,
    sweep.max_ratio] with the others held at ``sweep.hold_ratio``. Returns (patterns, norm).
    """
    vecs: list[np.ndarray] = []
    pats: list[str] = []
    r = inputs.random
    if r.count:
        if r.min_ratio >= r.max_ratio:
            raise SpecError("inputs.random.min_ratio: must be below inputs.random.max_ratio")
        rng = np.random.default_rng(r.seed)
        accepted: list[np.ndarray] = []
        for _ in range(1000):
            cand = rng.uniform(r.min_ratio, r.max_ratio, size=(max(64, 4 * r.count), n))
            keep = cand if accept is None else cand[accept(cand)]
            accepted.extend(keep[: r.count - len(accepted)])
            if len(accepted) >= r.count:
                break
        else:  # pragma: no cover - only for absurd ratios
            raise SpecError(
                "inputs.random.min_ideal_ratio: too few random vectors reach it; lower it or "
                "raise inputs.random.max_ratio"
            )
        vecs.extend(accepted)
        pats.extend(["random"] * len(accepted))
    s = inputs.sweep
    if s.points:
        if s.index >= n:
            raise SpecError(f"inputs.sweep.index: must be below the cell's {n} inputs")
        if s.min_ratio >= s.max_ratio:
            raise SpecError("inputs.sweep.min_ratio: must be below inputs.sweep.max_ratio")
        for x in np.linspace(s.min_ratio, s.max_ratio, s.points):
            v = np.full(n, s.hold_ratio)
            v[s.index] = x
            vecs.append(v)
            pats.append("sweep")
    norm = np.array(vecs, dtype=float) if vecs else np.zeros((0, n))
    return np.array(pats, dtype=object), norm


def check_positive(params: Any, fields: tuple[str, ...]) -> None:
    """Every named field of ``params`` that is set must be a positive number."""
    for f in fields:
        v = getattr(params, f)
        if v is not None and not v > 0:
            raise SpecError(f"cell.{f}: must be a positive number")


def fixed_full_scale(n: int, fs: float) -> dict[str, np.ndarray]:
    """``reference`` columns of a cell whose full scale is a fixed multiple of the bias and
    that follows ideal() everywhere in its input range."""
    return {"fs": np.full(n, fs), "domain_ok": np.ones(n, dtype=bool)}


def differential_probes(column: str = "out_y_a") -> tuple[Probe, ...]:
    """A differential current output held by sources ``voutp``/``voutn``: I(y+) - I(y-) and
    each branch. Each output's current enters its held source from the + terminal, so
    I = -branch."""
    stem = column[: -len("_a")]
    return (
        Probe(column, "voutp#branch", -1.0, minus="voutn#branch"),
        Probe(f"{stem}p_a", "voutp#branch", -1.0),
        Probe(f"{stem}n_a", "voutn#branch", -1.0),
    )

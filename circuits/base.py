"""The cell contract: what a cell is to sactk, the benches its builder returns, and shared
helpers for cell modules.

A cell is anything that satisfies :class:`Cell` (a Protocol): a name, its main output and
ideal columns, and five functions. :class:`CellType` builds one from plain functions and a
frozen dataclass of parameters; every built-in cell is a ``CellType`` (``mp.CELL``,
``shape.CELLS``, ...). A new cell is one module plus one ``register_cell`` call
(sactk.circuits.registry); the spec, the sweep planner, analysis and the golden-netlist
tests then know it.

Each cell module also has its own ``ideal(...)``: the vectorized NumPy function the circuit
is meant to compute, with the arguments that function needs (MP takes inputs and gamma, the
memory a code). What sactk calls uniformly is ``reference``, which evaluates it on the
sweep's normalized vectors.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, Protocol, runtime_checkable

import numpy as np
from pydantic import Field

from sactk.circuits.topology import SourceRole
from sactk.errors import SpecError
from sactk.netlists.mismatch import Alter
from sactk.netlists.render import Netlist
from sactk.netlists.technology import Technology


class ProbeRole(StrEnum):
    """What a probe reads; each backend maps a role to its own vector names."""

    CURRENT = "current"
    """The current through a voltage source (``target``: its instance name, ``vout``),
    flowing into its + terminal: a held output's current, the supply's."""
    VOLTAGE = "voltage"
    """A node's voltage (``target``: the node)."""


@dataclass(frozen=True)
class Probe:
    """A result column read from the simulator: ``column = scale * (target - minus)``.

    ``Probe.current("out_z_a", "vout", -1.0)`` reads the current of the voltage source
    ``vout``; ``Probe.voltage("out_vg_v", "g")`` the node ``g``. ``minus`` (same role) makes
    a differential output one column. The backend maps the role to its vector names (ngspice
    ``vout#branch`` and ``v(g)``; VACASK ``vout:flow(br)`` and ``g``). An ngspice vector name
    given as ``target`` (``"vout#branch"``, ``"v(g)"``: cells written before roles) is read
    as the role and target it names.
    """

    column: str
    """Result column, with its unit suffix (``out_z_a``)."""
    target: str
    """The voltage source's instance name (CURRENT) or the node (VOLTAGE)."""
    scale: float = 1.0
    minus: str = ""
    """A second source or node subtracted before scaling; empty: none."""
    role: ProbeRole = ProbeRole.CURRENT

    def __post_init__(self) -> None:
        for name in ("target", "minus"):
            value = getattr(self, name)
            if value.endswith("#branch"):
                object.__setattr__(self, name, value.removesuffix("#branch"))
                object.__setattr__(self, "role", ProbeRole.CURRENT)
            elif value.startswith("v(") and value.endswith(")"):
                object.__setattr__(self, name, value[2:-1])
                object.__setattr__(self, "role", ProbeRole.VOLTAGE)

    @classmethod
    def current(cls, column: str, source: str, scale: float = 1.0, minus: str = "") -> Probe:
        """The current into the + terminal of voltage source ``source`` (instance name)."""
        return cls(column, source, scale, minus, ProbeRole.CURRENT)

    @classmethod
    def voltage(cls, column: str, node: str, scale: float = 1.0, minus: str = "") -> Probe:
        """The voltage of ``node`` (minus that of ``minus``)."""
        return cls(column, node, scale, minus, ProbeRole.VOLTAGE)


def result_column(name: str) -> str:
    """The results column of a per-vector reference column: a float column of ``reference``
    is in units of the bias, and the sweep scales it to amperes at each bias and names it
    so (``ideal_z`` -> ``ideal_z_a``, ``fs`` -> ``fs_a``, ``dot_xw`` -> ``dot_xw_a``)."""
    return name if name.endswith("_a") else f"{name}_a"


def ideal_result_column(cell: Cell) -> str:
    """The results column of ``cell``'s ideal output, in amperes (``ideal_z_a``)."""
    return result_column(cell.ideal_column)


LEGACY_REFERENCE = ("ideal_", "dot_xw")
"""Reference columns that results written before sactk named units carry without ``_a``."""


def legacy_reference_columns(columns: list[str]) -> dict[str, str]:
    """Reference columns of results written before units were in these names, and their
    names today (``ideal_z`` -> ``ideal_z_a``, ``dot_xw`` -> ``dot_xw_a``)."""
    return {
        c: result_column(c)
        for c in columns
        if c.startswith(LEGACY_REFERENCE) and not c.endswith("_a")
    }


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
    supply: str = "vdd"
    """The supply's voltage source (instance name): power_w = -vdd_v * its current."""
    roles: Mapping[str, SourceRole] = field(default_factory=dict)
    """What each ideal current source of the bench stands for, by element name (a term,
    a unit's gamma, the cascode bias): how a composite (circuits/layer.py) replaces them."""


@dataclass(frozen=True)
class Condition:
    """The operating point a reference is computed at: what a user's ``ideal(norm, params,
    cond)`` may need beyond its inputs (kT/q at ``temp_c``, the supply, the process)."""

    temp_c: float = 27.0
    corner: str = "tt"
    vdd_v: float = 1.8
    bias_a: float = 1e-6
    tech: Technology | None = None

    @property
    def ut_v(self) -> float:
        """The thermal voltage kT/q at ``temp_c``, V (CODATA k and q)."""
        return 1.380649e-23 * (self.temp_c + 273.15) / 1.602176634e-19


@runtime_checkable
class Cell(Protocol):
    """What sactk needs of a cell. Currents in vectors and references are in units of the
    bias (``_a`` columns); the sweep scales them to each bias."""

    name: str
    """The ``[cell] name`` of specs and the ``cell`` column of results (a lower-case name)."""
    title: str
    """For plot titles (``MP cell``)."""
    output: str
    """The main output column (``out_z_a``), what metrics and lookup models use."""
    ideal_column: str
    """Its ideal column (``ideal_z``), written by ``reference``."""

    def params(
        self, table: Mapping[str, Any], *, w_um: float | None = None, l_um: float | None = None
    ) -> Any:
        """The cell's parameters from the spec's ``[cell]`` table (without ``name``),
        validated; ``w_um``/``l_um`` from ``sweep.wl_um`` override the table's. Bad input
        raises SpecError naming ``cell.KEY``."""
        ...

    def sizes(self, params: Any, tech: Technology) -> tuple[float, float]:
        """(W, L) in um of the matched devices: what Pelgrom mismatch scales with."""
        ...

    def build(
        self, params: Any, tech: Technology, *, bias_a: float, corner: str, temp_c: float
    ) -> Bench:
        """The cell in its test bench."""
        ...

    def vectors(self, params: Any, inputs: Any) -> tuple[np.ndarray, np.ndarray]:
        """(patterns, norm): a label per vector (``random``, ``sweep``, ``code``) and the
        (V, n_inputs) input vectors, in units of the bias for ``_a`` inputs."""
        ...

    def reference(self, params: Any, norm: np.ndarray, inputs: Any) -> dict[str, np.ndarray]:
        """Per-vector columns in units of the bias: every ``ideal_*`` column, ``fs`` (the
        full scale errors are quoted in) and the boolean ``domain_ok`` (the circuit is
        meant to follow ideal() there). The results carry each float column in amperes,
        named by :func:`result_column` (``ideal_z_a``, ``fs_a``)."""
        ...

    def mismatch(
        self, params: Any, bias_a: float, seed: int, index: int, tech: Technology | None = None
    ) -> tuple[Alter, ...] | None:
        """The alters that make chip ``index`` of ``seed`` for a cell with its own mismatch
        model (the crossbar's conductances, a user subcircuit's devices on ``tech``); None:
        sactk's Pelgrom draws per transistor."""
        ...


@dataclass(frozen=True)
class CellType:
    """A :class:`Cell` made of a parameter dataclass and plain functions."""

    name: str
    title: str
    output: str
    ideal_column: str
    params_type: type
    """Frozen dataclass of the parameters; fields may carry pydantic ``Field`` bounds in
    ``Annotated`` types, which :func:`params_from_table` enforces."""
    build: Callable[..., Bench]
    """``build(params, tech, *, bias_a, corner, temp_c) -> Bench``."""
    vectors: Callable[[Any, Any], tuple[np.ndarray, np.ndarray]]
    reference: Callable[[Any, np.ndarray, Any], dict[str, np.ndarray]]
    sizes: Callable[[Any, Technology], tuple[float, float]]
    own_mismatch: Callable[..., tuple[Alter, ...]] | None = None
    """``(params, bias_a, seed, index[, tech]) -> alters`` of a cell with its own mismatch
    model (``tech`` is passed to a function that takes it)."""
    pdk_mismatch: bool = False
    """With its own mismatch model: whether ``mc.method = "pdk"`` may still use the PDK's
    statistical models instead (a user subcircuit's devices are the PDK's)."""
    fixed: Mapping[str, Any] = field(default_factory=dict)
    """Parameters set by the cell's name (a shape cell's ``shape``), not by the table."""
    units: Callable[[Any], Any] | None = None
    """``(params) -> mp.Units``: how the inputs feed the cell's MP units, for cells whose
    behavioural model (analysis/mpmodel.py) is built from them; None: no such model."""

    def params(
        self, table: Mapping[str, Any], *, w_um: float | None = None, l_um: float | None = None
    ) -> Any:
        return params_from_table(
            self.params_type, table, self.name, self.fixed, w_um=w_um, l_um=l_um
        )

    def mismatch(
        self, params: Any, bias_a: float, seed: int, index: int, tech: Technology | None = None
    ) -> tuple[Alter, ...] | None:
        if self.own_mismatch is None:
            return None
        import inspect

        if tech is not None and "tech" in inspect.signature(self.own_mismatch).parameters:
            return self.own_mismatch(params, bias_a, seed, index, tech=tech)
        return self.own_mismatch(params, bias_a, seed, index)


def module_cell(name: str, namespace: Mapping[str, Any], **extra: Any) -> CellType:
    """The CellType of a cell module that follows the built-in layout: ``TITLE``, ``OUTPUT``,
    ``IDEAL``, ``Params``, ``build``, ``vectors``, ``reference`` and ``sizes`` (and
    ``units`` if it has MP units) in ``namespace`` (pass ``globals()``); ``extra`` sets
    ``own_mismatch`` or ``fixed``."""
    ns = namespace
    return CellType(
        name=name,
        title=ns["TITLE"],
        output=ns["OUTPUT"],
        ideal_column=ns["IDEAL"],
        params_type=ns["Params"],
        build=ns["build"],
        vectors=ns["vectors"],
        reference=ns["reference"],
        sizes=ns["sizes"],
        **({"units": ns["units"]} if "units" in ns else {}),
        **extra,
    )


# Parameter types shared by the built-in cells (the bounds every cell has always had).
SizeUm = Annotated[float | None, Field(gt=0, le=1000)]
"""A device width or length in um; None: the technology's default."""
OutV = Annotated[float | None, Field(gt=0, le=10)]
"""The voltage an output current is read at; None: half the supply."""
CascScale = Annotated[float, Field(ge=1, le=16)]
"""Cascode W and L relative to the matched devices'."""
Ratio = Annotated[float, Field(gt=0, le=100)]
"""A current in units of the bias."""
Inputs = Annotated[int, Field(ge=1, le=64)]
"""A number of inputs (rows)."""


def params_from_table(
    params_type: Any,
    table: Mapping[str, Any],
    cell: str,
    fixed: Mapping[str, Any] | None = None,
    **sizes: float | None,
) -> Any:
    """``params_type(**table)`` for cell ``cell``, validated: a key the cell does not have is
    refused with its parameters listed; values are checked strictly against the field types
    and their ``Field`` bounds (an integer field refuses 4.5, a number field refuses "4");
    ``fixed`` fields (set by the cell's name) cannot be given; ``sizes`` (w_um, l_um of a
    ``sweep.wl_um`` entry) override the table. Errors are SpecError naming ``cell.KEY``."""
    import difflib
    import typing

    from pydantic import ConfigDict, ValidationError, create_model

    fixed = dict(fixed or {})
    fields = [f for f in dataclasses.fields(params_type) if f.name not in fixed]
    known = [f.name for f in fields]
    for key in sorted(table):
        if key not in known:
            hint = difflib.get_close_matches(key, known, n=1)
            extra = f"did you mean {hint[0]!r}? " if hint else ""
            raise SpecError(
                f"cell.{key}: unknown key, not a parameter of cell {cell}; {extra}its "
                "parameters are " + ", ".join(sorted(known))
            )
    hints = typing.get_type_hints(params_type, include_extras=True)
    definitions: dict[str, Any] = {f.name: (hints[f.name], None) for f in fields}
    model = create_model(
        f"{params_type.__name__}Table",
        __config__=ConfigDict(strict=True, extra="forbid"),
        **definitions,
    )
    given = {**table, **{k: v for k, v in sizes.items() if v is not None}}
    try:
        checked = model.model_validate(given)
    except ValidationError as err:
        e = err.errors()[0]
        where = ".".join(str(p) for p in e["loc"] if not isinstance(p, int))
        got = e.get("input")
        raise SpecError(f"cell.{where}: {e['msg']} (got {got!r})") from None
    return params_type(**{k: getattr(checked, k) for k in checked.model_fields_set}, **fixed)


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
        Probe.current(column, "voutp", -1.0, minus="voutn"),
        Probe.current(f"{stem}p_a", "voutp", -1.0),
        Probe.current(f"{stem}n_a", "voutn", -1.0),
    )

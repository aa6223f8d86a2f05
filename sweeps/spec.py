"""Sweep specs: TOML in, a validated frozen :class:`SweepSpec` out.

pydantic does the validating (strict types, ranges, unknown keys); this module turns its
errors into one line that names the file, the field and the fix. ``--set a.b=value``
overrides take TOML value syntax (``--set sweep.temp_c=[85]``); a bare word is a string
(``--set tech.name=gf180mcu`` or ``sky130``).
"""

from __future__ import annotations

import difflib
import re
import tomllib
import typing
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from sactk.errors import SpecError
from sactk.netlists.render import SPICE_SCALE
from sactk.sweeps.analyses import AcSpec, NoiseSpec, TranSpec

if TYPE_CHECKING:
    from sactk.netlists.technology import Technology

__all__ = ["AcSpec", "NoiseSpec", "SweepSpec", "TranSpec", "load_spec"]

_CONFIG = ConfigDict(strict=True, extra="forbid", frozen=True)
NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"


class CellSpec(BaseModel):
    """[cell]: which cell (``name``) and its parameters. The other keys belong to the cell:
    it validates them itself (sactk.circuits.base.Cell.params), when the spec is loaded.
    Unset keys take the cell's defaults (docs/cells.md)."""

    model_config = ConfigDict(strict=True, extra="allow", frozen=True)
    name: str = Field("mp", pattern=NAME_PATTERN)

    @property
    def table(self) -> dict[str, Any]:
        """The cell's parameters as given in the spec (every key but ``name``)."""
        return dict(self.model_extra or {})


class TechSpec(BaseModel):
    """[tech]: technology name and where a PDK's models are (corners are a sweep axis)."""

    model_config = _CONFIG
    name: str = Field("c180", pattern=NAME_PATTERN)
    models_dir: str | None = None
    flavour: str | None = Field(None, pattern=NAME_PATTERN)
    """Device flavour where a technology has several (asap7: lvt, rvt, slvt, sram)."""
    va_dir: str | None = None
    """asap7: the folder of BSIM-CMG's Verilog-A (default ``$PDK_ROOT/verilog-a/bsimcmg``)."""

    def technology(self) -> Technology:
        """The technology this table names, found with its options (get_technology)."""
        from sactk.netlists.technology import get_technology

        return get_technology(self.name, self.models_dir, self.flavour, self.va_dir)


def _each_within(v: list[float] | None, lo: float, hi: float, what: str, span: str) -> None:
    """Every value in [lo, hi]; else 'what <x> <unit> is outside <span>' (span has the unit)."""
    unit = span.rsplit(" ", 1)[-1]
    for x in v or []:
        if not lo <= x <= hi:
            raise ValueError(f"{what} {x!r} {unit} is outside {span}")


class SweepAxes(BaseModel):
    """[sweep]: the operating conditions; one circuit per (corner, vdd, size, temp, bias)."""

    model_config = _CONFIG
    bias_a: list[float] = Field(min_length=1, max_length=1000)
    temp_c: list[float] = Field(default_factory=lambda: [27.0], min_length=1, max_length=100)
    corner: list[str] = Field(default_factory=lambda: ["tt"], min_length=1, max_length=16)
    vdd_v: list[float] | None = Field(None, min_length=1, max_length=100)
    """Supply voltages, V; none means the technology's nominal supply."""
    wl_um: list[list[float]] | None = Field(None, min_length=1, max_length=100)
    """(W, L) of the cell's matched devices in um, one circuit each; none means cell.w_um/l_um."""
    cell: dict[str, list[Any]] | None = None
    """[sweep.cell]: cell parameters as axes (``n_inputs = [2, 4, 8]``), each value a circuit
    of its own and a results column; checked by the cell like [cell]."""

    @field_validator("cell")
    @classmethod
    def _cell_axes(cls, v: dict[str, list[Any]] | None) -> dict[str, list[Any]] | None:
        for k, vals in (v or {}).items():
            if not re.match(NAME_PATTERN, k):
                raise ValueError(f"{k!r} is not a parameter name")
            if not isinstance(vals, list) or not 1 <= len(vals) <= 100:
                raise ValueError(f"{k}: give a list of 1 to 100 values")
            if k in ("name", "w_um", "l_um"):
                raise ValueError(f"{k}: not a cell axis (sizes are sweep.wl_um)")
        return v

    @field_validator("corner")
    @classmethod
    def _corner_names(cls, v: list[str]) -> list[str]:
        for x in v:
            if not re.match(NAME_PATTERN, x):
                raise ValueError(f"corner {x!r} is not a name like tt, ff, ss, fs, sf")
        return v

    @field_validator("vdd_v")
    @classmethod
    def _vdd_range(cls, v: list[float] | None) -> list[float] | None:
        _each_within(v, 0.2, 10.0, "supply", "0.2..10 V")
        return v

    @field_validator("wl_um")
    @classmethod
    def _wl_range(cls, v: list[list[float]] | None) -> list[list[float]] | None:
        for pair in v or []:
            if len(pair) != 2:
                raise ValueError(f"size {pair!r} must be a [W, L] pair in um")
            if not all(0 < x <= 1000 for x in pair):
                raise ValueError(f"size {pair!r} um is outside (0, 1000] um")
        return v

    @field_validator("bias_a")
    @classmethod
    def _bias_range(cls, v: list[float]) -> list[float]:
        _each_within(v, 1e-13, 1e-2, "bias current", "1e-13..1e-2 A")
        return v

    @field_validator("temp_c")
    @classmethod
    def _temp_range(cls, v: list[float]) -> list[float]:
        _each_within(v, -60.0, 200.0, "temperature", "-60..200 C")
        return v


class RandomInputs(BaseModel):
    """[inputs.random]: seeded random input vectors, uniform in [min_ratio, max_ratio] * bias_a.

    The same normalized vectors are used at every bias, which is what makes the normalized
    outputs comparable across bias (the bias-collapse view).
    """

    model_config = _CONFIG
    count: int = Field(24, ge=0, le=100000)
    seed: int = Field(1, ge=0, le=2**63 - 1)
    min_ratio: float = Field(0.0, ge=-100, le=100)
    """Lower end of the uniform range; negative for cells with signed inputs."""
    max_ratio: float = Field(2.0, ge=-100, le=100)
    min_ideal_ratio: float = Field(0.1, ge=0, le=100)


class SweptInput(BaseModel):
    """[inputs.sweep]: one input swept from min_ratio to max_ratio * bias_a, the others held."""

    model_config = _CONFIG
    index: int = Field(0, ge=0)
    points: int = Field(41, ge=0, le=100001)
    min_ratio: float = Field(0.0, ge=-100, le=100)
    max_ratio: float = Field(3.0, ge=-100, le=100)
    hold_ratio: float = Field(1.0, ge=-100, le=100)


class InputsSpec(BaseModel):
    model_config = _CONFIG
    random: RandomInputs = Field(default_factory=lambda: RandomInputs())
    sweep: SweptInput = Field(default_factory=lambda: SweptInput())


class MonteCarloSpec(BaseModel):
    """[mc]: Pelgrom mismatch instances ("chips"), each a seeded draw for every transistor.

    Instance k of seed s is the same chip at every bias, temperature, corner and size (its
    normalized draws are fixed; sigma scales with 1/sqrt(W L)), on every executor and run.
    """

    model_config = _CONFIG
    instances: int = Field(0, ge=0, le=100000)
    """Number of mismatch instances; 0 runs the nominal circuit only."""
    seed: int = Field(1, ge=0, le=2**63 - 1)
    per_job: int = Field(50, ge=1, le=100000)
    """Instances simulated in one loaded circuit (one job, one Parquet part)."""
    nominal: bool = Field(False)
    """Also run the mismatch-free circuit (mc_index -1) next to the instances."""
    method: Literal["pelgrom", "pdk"] = "pelgrom"
    """``pelgrom``: sactk's draws from the technology's A_VT and A_beta, altered into one
    loaded circuit. ``pdk``: the PDK's own statistical models (its mismatch switch on, one
    ngspice ``setseed`` and reload per instance)."""


class SimSpec(BaseModel):
    """[sim]: which simulator runs the jobs. None: the technology's first (c180, GF180MCU
    and sky130 run on ngspice; asap7 and sg13g2 need VACASK's compiled models)."""

    model_config = _CONFIG
    name: Literal["ngspice", "vacask"] | None = None


class SweepSpec(BaseModel):
    """A whole sweep. ``to_dict()`` is what the manifest records."""

    model_config = _CONFIG
    description: str = Field("", max_length=2000)
    cell: CellSpec = Field(default_factory=lambda: CellSpec())
    tech: TechSpec = Field(default_factory=lambda: TechSpec())
    sweep: SweepAxes
    inputs: InputsSpec = Field(default_factory=lambda: InputsSpec())
    mc: MonteCarloSpec = Field(default_factory=lambda: MonteCarloSpec())
    tran: TranSpec | None = None
    noise: NoiseSpec | None = None
    ac: AcSpec | None = None
    sim: SimSpec = Field(default_factory=lambda: SimSpec())

    def to_dict(self) -> dict[str, Any]:
        d = self.model_dump(mode="json")
        for key in ("noise", "ac"):  # manifests written before these existed still resume
            if d.get(key) is None:
                d.pop(key, None)
        if d.get("sim") == {"name": None}:
            d.pop("sim")
        for key in ("flavour", "va_dir"):  # manifests written before these still resume
            if d["tech"].get(key) is None:
                d["tech"].pop(key, None)
        return d


# ---------------------------------------------------------------------------- presets


def preset_names() -> list[str]:
    folder = resources.files("sactk.sweeps") / "presets"
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml"))


def preset_text(name: str) -> str:
    names = preset_names()
    if name not in names:
        hint = difflib.get_close_matches(name, names, n=1)
        extra = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise SpecError(
            f"--preset: unknown preset {name!r}{extra}; `sactk presets` lists: {', '.join(names)}"
        )
    return (resources.files("sactk.sweeps") / "presets" / f"{name}.toml").read_text()


# ---------------------------------------------------------------------------- loading

_BARE_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


def parse_override(item: str) -> tuple[list[str], Any]:
    """``"a.b=value"`` -> (["a", "b"], parsed value)."""
    if "=" not in item:
        raise SpecError(f"--set {item!r}: expected section.key=value, e.g. --set sweep.temp_c=[85]")
    key, _, raw = item.partition("=")
    path = key.strip().split(".")
    if not all(re.match(r"^[a-z_][a-z0-9_]*$", p) for p in path):
        raise SpecError(f"--set {item!r}: {key!r} is not a key path like section.key")
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        spice = _SPICE_NUMBER.sub(_spice_to_float, raw)
        try:  # SPICE suffixes: 10n, [1u, 2.5u], 3meg
            value = tomllib.loads(f"v = {spice}")["v"] if spice != raw else None
        except tomllib.TOMLDecodeError:
            value = None
        if value is not None:
            return path, value
        if _BARE_WORD.match(raw):
            value = raw
        else:
            raise SpecError(
                f"--set {key}: {raw!r} is not a TOML value; quote strings, write lists as "
                "[a, b], numbers as 1e-8 or with a SPICE suffix (10n)"
            ) from None
    return path, value


# A number with a SPICE scale suffix (ngspice manual, "scale factors"), outside quotes.
_SPICE_NUMBER = re.compile(
    r"(?<![\w.\"'])([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)(meg|[fpnumkgt])(?![\w\"'])",
    re.IGNORECASE,
)


def _spice_to_float(m: re.Match[str]) -> str:
    return repr(float(m.group(1)) * SPICE_SCALE[m.group(2).lower()])


def overridden(overrides: list[str] | None) -> list[str]:
    """The dotted key paths that ``--set`` items set."""
    return [item.partition("=")[0].strip() for item in overrides or [] if "=" in item]


def _blame(source: str, field: str, overrides: list[str] | None) -> str:
    """``--set KEY`` when an override set ``field`` (or a table above it), else ``source``."""
    for key in overridden(overrides):
        if field == key or field.startswith(key + ".") or key.startswith(field + "."):
            return f"--set {key}"
    return source


def _known_keys(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


def _model_of(ann: Any) -> type[BaseModel] | None:
    """The model class of a field annotation (``Model`` or ``Model | None``), else None."""
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in typing.get_args(ann):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def _check_path(path: list[str], item: str) -> None:
    model: type[BaseModel] = SweepSpec
    for i, part in enumerate(path):
        if model is CellSpec and part != "name":
            return  # the cell's own keys (tables too): the cell checks them when loaded
        fields = model.model_fields
        if part not in fields:
            where = ".".join(path[:i]) or "top level"
            hint = difflib.get_close_matches(part, list(fields), n=1)
            extra = f"; did you mean {'.'.join([*path[:i], hint[0]])!r}?" if hint else ""
            raise SpecError(f"--set {item}: unknown key {part!r} in {where}{extra}")
        if i < len(path) - 1:
            sub = _model_of(fields[part].annotation)
            if sub is None:
                if i == len(path) - 2 and "dict" in str(fields[part].annotation):
                    return  # a table of free keys (sweep.cell): checked when loaded
                raise SpecError(f"--set {item}: {'.'.join(path[: i + 1])} is not a table")
            model = sub


def apply_overrides(
    data: dict[str, Any], overrides: list[str], updates: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``--set`` strings (parsed as TOML values), then typed ``updates`` (a dotted key to a
    Python value: ``{"sweep.bias_a": [1e-8, 1e-6]}``), which never pass through text."""
    items = [(*parse_override(item), item) for item in overrides]
    items += [(key.split("."), value, f"{key}=...") for key, value in (updates or {}).items()]
    for path, value, item in items:
        _check_path(path, item)
        node = data
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise SpecError(f"--set {item}: {part} is not a table in the spec")
        node[path[-1]] = value
    return data


def _format_error(
    source: str, err: ValidationError, data: dict[str, Any], overrides: list[str] | None = None
) -> str:
    e = err.errors()[0]
    loc = [str(p) for p in e["loc"]]
    field = ".".join(p for p in loc if not p.isdigit()) or "spec"
    source = _blame(source, field, overrides)
    idx = [p for p in loc if p.isdigit()]
    at = f"[{idx[0]}]" if idx else ""
    kind = e["type"]
    if kind == "extra_forbidden":
        parent: type[BaseModel] = SweepSpec
        for p in loc[:-1]:
            sub = _model_of(parent.model_fields[p].annotation)
            if sub is not None:
                parent = sub
        hint = difflib.get_close_matches(loc[-1], _known_keys(parent), n=1)
        known = ", ".join(_known_keys(parent))
        fix = f"did you mean {hint[0]!r}?" if hint else f"known keys: {known}"
        return f"{source}: {field}: unknown key; {fix}"
    if kind == "missing":
        return (
            f"{source}: {field}: required key is missing; add it "
            "(`sactk presets --show NAME` prints a complete spec)"
        )
    msg = e["msg"]
    got = e.get("input")
    shown = repr(got) if not isinstance(got, dict | list) else ""
    where = f"{source}{at}" if source == f"--set {field}" else f"{source}: {field}{at}"
    return f"{where}: {msg}{' (got ' + shown + ')' if shown else ''}"


def load_spec(
    path: str | Path | None = None,
    *,
    preset: str | None = None,
    text: str | None = None,
    overrides: list[str] | None = None,
    updates: Mapping[str, Any] | None = None,
) -> SweepSpec:
    """Load a spec from a file, a preset or TOML text, apply ``--set`` overrides and typed
    ``updates`` (:func:`apply_overrides`), validate."""
    if sum(x is not None for x in (path, preset, text)) != 1:
        raise SpecError("spec: give exactly one of a spec file or --preset NAME")
    if preset is not None:
        source, text = f"preset {preset}", preset_text(preset)
    elif path is not None:
        p = Path(path)
        source = str(p)
        if not p.is_file():
            raise SpecError(f"{p}: spec file not found; check the path or use --preset NAME")
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError(f"{p}: cannot read spec ({exc}); give a UTF-8 TOML file") from None
    else:
        source = "spec"
    assert text is not None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        hint = ""
        if _SPICE_NUMBER.search(text):
            hint = " (numbers in a spec file take no SPICE suffix: write 1e-08 for 10n)"
        raise SpecError(f"{source}: malformed TOML ({exc}){hint}; fix the syntax") from None
    data = apply_overrides(data, overrides or [], updates)
    cell = data.get("cell")
    if isinstance(cell, dict) and isinstance(cell.get("file"), str) and cell["file"]:
        # a cell's file (a user subcircuit) is relative to the spec file, else to the cwd
        base = Path(path).parent if path is not None else Path.cwd()
        cell["file"] = str(base / cell["file"])
        if isinstance(cell.get("trust"), list):  # trusted include folders, likewise
            cell["trust"] = [str(base / t) if isinstance(t, str) else t for t in cell["trust"]]
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as err:
        raise SpecError(_format_error(source, err, data, overrides)) from None
    check_cell(spec, source, overrides)
    return spec


def cell_tables(spec: SweepSpec) -> list[dict[str, Any]]:
    """The [cell] table once per combination of the [sweep.cell] axes, in a stable order."""
    import itertools

    axes = spec.sweep.cell or {}
    keys = sorted(axes)
    base = spec.cell.table
    nested = base.get("params") if isinstance(base.get("params"), dict) else None
    out = []
    for combo in itertools.product(*(axes[k] for k in keys)):
        table = dict(base)
        for k, v in zip(keys, combo, strict=True):
            if nested is not None and k in nested:  # a user subcircuit's own parameter
                table["params"] = {**table.get("params", {}), k: v}
            else:
                table[k] = v
        out.append(table)
    return out


def axis_column(spec: SweepSpec, key: str) -> str:
    """The results column of a [sweep.cell] axis: the parameter's name, ``param_<name>`` for
    a user subcircuit's own parameter."""
    nested = spec.cell.table.get("params")
    return f"param_{key}" if isinstance(nested, dict) and key in nested else key


def check_cell(spec: SweepSpec, source: str = "spec", overrides: list[str] | None = None) -> Any:
    """The cell's parameters from ``spec.cell`` (and each ``sweep.wl_um`` size), checked by
    the cell itself; a bad key or value is a SpecError naming the source and the key."""
    from sactk.circuits.registry import get_cell

    try:
        cell = get_cell(spec.cell.name)
        sizes: list[tuple[float | None, float | None]] = [(None, None)]
        sizes += [(w, ll) for w, ll in spec.sweep.wl_um or []]
        for table in cell_tables(spec):
            for w_um, l_um in sizes:
                cell.params(table, w_um=w_um, l_um=l_um)
        return cell
    except SpecError as exc:
        field, _, rest = str(exc).partition(":")  # cell errors name their key: cell.KEY: ...
        key = field.removeprefix("cell.")
        if isinstance(spec.cell.table.get(key), list):
            rest += f"; to sweep a cell parameter, write sweep.cell.{key} = [...]"
        if key in (spec.sweep.cell or {}):
            field = f"sweep.cell.{key}"
        who = _blame(source, field, overrides)
        if who == f"--set {field}":
            raise SpecError(f"{who}:{rest}") from None
        raise SpecError(f"{who}: {field}:{rest}") from None

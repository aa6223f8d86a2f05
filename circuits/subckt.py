"""A user's own circuit as a cell: a ``.subckt`` from a SPICE file and a map of its ports.

```toml
[cell]
name = "subckt"
file = "wta.sp"          # relative to the spec file; included by its checked path
subckt = "wta2"          # the .subckt to instantiate
ideal = "mypkg.cells:wta_ideal"   # optional: f(norm inputs (V, N), params) -> ideal main output
[cell.ports]
in = ["a", "b"]          # current-driven inputs: columns in_a_a, in_b_a (units of bias_a)
vin = ["s"]              # optional voltage-driven inputs: in_s_v (inputs.* ratios in volts)
out = ["oa", "ob"]       # output currents into pins held at out_v: out_oa_a, out_ob_a
out_v = 0.9              # optional; default VDD/2
vout = ["x"]             # optional: pins whose voltage is read (out_x_v)
vdd = "vdd"
gnd = "gnd"
bias = "ib"              # optional: a pin from which the bench sinks bias_a
[cell.params]            # passed to the subcircuit (it must declare them)
w = 4.0
```

Every port of the subcircuit must have a role. The bench feeds each input pin from the
supply with a current source that the sweep alters per vector (in units of the bias, like
every cell), and holds each output pin at ``out_v`` with a voltage source whose current is
the output. The first ``out`` pin is the cell's main output. Without ``ideal`` the cell has
no ideal column: accuracy metrics are skipped, and plots and lookup models work on the
input.

Monte Carlo: ``mc.method = "pdk"`` uses the PDK's statistical models. ``"pelgrom"`` draws
sactk's threshold and current-factor shifts for the MOSFETs the subcircuit declares with
``M`` lines and numeric (or parameter) W and L; devices inside nested subcircuits are not
visible to sactk and keep their nominal values.
"""

from __future__ import annotations

import importlib
import math
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from sactk.circuits.base import Bench, Probe, module_cell, random_and_sweep
from sactk.errors import SpecError
from sactk.netlists.mismatch import Alter, normal_draws
from sactk.netlists.render import (
    NAME_RE,
    CurrentSource,
    Element,
    Netlist,
    SubcktInstance,
    VoltageSource,
    check_path,
    fmt,
    spice_number,
)
from sactk.netlists.technology import Technology

TITLE = "User subcircuit"
OUTPUT = "out_y_a"  # the instance's is out_<first out pin>_a (Params.output)
IDEAL = "ideal_y"
ROLES = ("in", "vin", "out", "vout", "vdd", "gnd", "bias")


@dataclass(frozen=True)
class Device:
    """A MOSFET the subcircuit declares: its instance name, model and size (um)."""

    name: str
    model: str
    w_um: float
    l_um: float


@dataclass(frozen=True)
class Subckt:
    """What sactk reads of a ``.subckt`` block: ports, declared parameters, MOSFETs."""

    name: str
    ports: tuple[str, ...]
    params: dict[str, str]
    devices: tuple[Device, ...]
    unsized: tuple[str, ...]
    """MOSFETs whose W or L is an expression sactk cannot read."""


def _lines(text: str) -> list[str]:
    """Logical lines: comments dropped, ``+`` continuations joined, lower case."""
    out: list[str] = []
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].split("$ ", 1)[0].rstrip()
        if not line.strip() or line.lstrip().startswith("*"):
            continue
        if line.lstrip().startswith("+") and out:
            out[-1] += " " + line.lstrip()[1:]
        else:
            out.append(line.strip())
    return [x.lower() for x in out]


def _assignments(tokens: list[str]) -> dict[str, str]:
    """``w = 4u l={x}`` tokens -> {"w": "4u", "l": "{x}"}."""
    joined = " ".join(tokens)
    return dict(re.findall(r"([a-z_][a-z0-9_]*)\s*=\s*(\{[^}]*\}|'[^']*'|\S+)", joined))


def read_subckt(path: Path, name: str, given: dict[str, str] | None = None) -> Subckt:
    """The ``.subckt name`` block of the SPICE file ``path``; ``given`` parameter values
    override the declared defaults when sizes are read."""
    try:
        lines = _lines(path.read_text(errors="replace"))
    except OSError as exc:
        raise SpecError(f"cell.file: cannot read {path} ({exc.strerror})") from None
    found: list[str] = []
    for i, line in enumerate(lines):
        toks = line.split()
        if toks[0] != ".subckt" or len(toks) < 2:
            continue
        found.append(toks[1])
        if toks[1] != name:
            continue
        head = [t for t in toks[2:] if t != "params:"]
        ports = tuple(t for t in head if "=" not in t and not _is_value(head, t))
        params = _assignments(toks[2:])
        values = {**params, **(given or {})}
        devices, unsized = [], []
        for body in lines[i + 1 :]:
            b = body.split()
            if b[0].startswith(".ends"):
                break
            if b[0].startswith(".param"):
                params.update(_assignments(b[1:]))
            elif b[0].startswith("m") and len(b) >= 6:
                kv = _assignments(b[6:])
                w, ll = _size(kv.get("w"), values), _size(kv.get("l"), values)
                if w is None or ll is None:
                    unsized.append(b[0])
                else:
                    devices.append(Device(b[0], b[5], w * 1e6, ll * 1e6))
        return Subckt(name, ports, params, tuple(devices), tuple(unsized))
    listed = ", ".join(found) if found else "none"
    raise SpecError(f"cell.subckt: no .subckt {name!r} in {path}; subcircuits there: {listed}")


def _is_value(head: list[str], tok: str) -> bool:
    """``w = 4`` split into three tokens: ``4`` and ``=`` are not ports."""
    k = head.index(tok)
    return (
        tok == "=" or (k > 0 and head[k - 1] == "=") or (k + 1 < len(head) and head[k + 1] == "=")
    )


def _size(text: str | None, params: dict[str, str]) -> float | None:
    """A W or L in metres: a number (SPICE suffixes), a parameter, or a {expression} of
    numbers and parameters with + - * / (evaluated without eval)."""
    if text is None:
        return None
    t = text.strip("{}' ")
    return _value(t, params, 0)


def _value(expr: str, params: dict[str, str], depth: int) -> float | None:
    import ast

    n = spice_number(expr)
    if n is not None or depth > 4:
        return n
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        return None

    def ev(node: ast.AST) -> float | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.Name) and node.id in params:
            return _value(params[node.id].strip("{}' "), params, depth + 1)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            v = ev(node.operand)
            return None if v is None else -v
        if isinstance(node, ast.BinOp) and isinstance(
            node.op, ast.Add | ast.Sub | ast.Mult | ast.Div
        ):
            a, b = ev(node.left), ev(node.right)
            if a is None or b is None or (isinstance(node.op, ast.Div) and b == 0):
                return None
            ops = {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}
            return ops.get(type(node.op), a / b if b else None)
        return None

    return ev(tree.body)


@dataclass(frozen=True)
class Params:
    """A subcircuit cell (the module docstring has the spec)."""

    file: str = ""
    """Path of the SPICE file (the spec loader makes it absolute, relative to the spec)."""
    subckt: str = ""
    ports: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    ideal: str | None = None
    w_um: float | None = None
    l_um: float | None = None

    def __post_init__(self) -> None:
        self.info  # noqa: B018  (reads and checks the file, the block and the ports)

    @cached_property
    def info(self) -> Subckt:
        """The subcircuit as read from the file, checked against the ports and parameters;
        read once per Params (build, sizes and mismatch all ask for it)."""
        if not self.file:
            raise SpecError("cell.file: missing; give the SPICE file of the subcircuit")
        check_path(self.file, "cell.file")
        path = Path(self.file)
        if not path.is_file():
            raise SpecError(f"cell.file: {path} not found; give a path relative to the spec")
        if not NAME_RE.match(self.subckt or ""):
            raise SpecError(f"cell.subckt: {self.subckt!r} is not a subcircuit name")
        sub = read_subckt(path, self.subckt, {k: str(v) for k, v in self.params.items()})
        roles = self._roles()
        for role, pins in roles.items():
            for p in pins:
                if p not in sub.ports:
                    raise SpecError(
                        f"cell.ports.{role}: {p!r} is not a port of {sub.name}; its ports are "
                        + ", ".join(sub.ports)
                    )
        given = [p for pins in roles.values() for p in pins]
        missing = [p for p in sub.ports if p not in given]
        if missing:
            raise SpecError(
                f"cell.ports: port {missing[0]!r} of {sub.name} has no role; give it one of "
                + ", ".join(ROLES)
            )
        for k, v in self.params.items():
            if k not in sub.params:
                declared = ", ".join(sub.params) or "none"
                raise SpecError(
                    f"cell.params.{k}: not a parameter {sub.name} declares (declared: {declared})"
                )
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise SpecError(f"cell.params.{k}: {v!r} is not a finite number")
        return sub

    def _roles(self) -> dict[str, list[str]]:
        known = (*ROLES, "out_v")
        for k in self.ports:
            if k not in known:
                raise SpecError(f"cell.ports.{k}: unknown role; use {', '.join(known)}")
        out: dict[str, list[str]] = {}
        for role in ROLES:
            v = self.ports.get(role, [] if role in ("out", "vout", "in", "vin") else None)
            if v is None:
                if role in ("vdd", "gnd"):
                    raise SpecError(f"cell.ports.{role}: missing; name the {role} pin")
                continue
            pins = [v] if isinstance(v, str) else v
            if not isinstance(pins, list) or not all(isinstance(p, str) for p in pins):
                raise SpecError(f"cell.ports.{role}: give pin names (a list of strings)")
            for p in pins:
                if not NAME_RE.match(p):
                    raise SpecError(f"cell.ports.{role}: {p!r} is not a valid pin name")
            out[role] = pins
        if not out.get("in") and not out.get("vin"):
            raise SpecError("cell.ports.in: give at least one input pin (in or vin)")
        if not out.get("out"):
            raise SpecError("cell.ports.out: give at least one output pin")
        return out


def input_columns(params: Params) -> list[str]:
    """Current inputs (A), then voltage inputs (V): ``inputs.*`` ratios are units of the
    bias for the first and volts for the second."""
    roles = params._roles()
    return [f"in_{p}_a" for p in roles["in"]] + [f"in_{p}_v" for p in roles["vin"]]


def output_column(params: Params) -> str:
    return f"out_{params._roles()['out'][0]}_a"


def sizes(params: Params, tech: Technology) -> tuple[float, float]:
    """The first declared MOSFET's size (what result columns w_um, l_um report)."""
    devs = params.info.devices
    return (devs[0].w_um, devs[0].l_um) if devs else (0.0, 0.0)


def build(
    params: Params,
    tech: Technology,
    *,
    bias_a: float = 1e-6,
    corner: str = "tt",
    temp_c: float = 27.0,
) -> Bench:
    sub = params.info
    roles = params._roles()
    out_v = params.ports.get("out_v", tech.vdd_v / 2.0)
    if isinstance(out_v, bool) or not isinstance(out_v, int | float):
        raise SpecError(f"cell.ports.out_v: {out_v!r} is not a number (V)")
    node = {p: f"in_{p}" for p in roles["in"] + roles["vin"]}
    node |= {p: f"out_{p}" for p in roles["out"]}
    node |= {p: f"vo_{p}" for p in roles.get("vout", [])}
    node |= {roles["vdd"][0]: "vdd", roles["gnd"][0]: "0"}
    if roles.get("bias"):
        node[roles["bias"][0]] = "bias"
    els: list[Element] = [VoltageSource("dd", "vdd", "0", tech.vdd_v)]
    els += [CurrentSource(f"in_{p}", "vdd", f"in_{p}", bias_a) for p in roles["in"]]
    els += [VoltageSource(f"in_{p}", f"in_{p}", "0", 0.0) for p in roles["vin"]]
    if roles.get("bias"):
        els.append(CurrentSource("bias", "bias", "0", bias_a))
    els.append(
        SubcktInstance(
            "cell",
            tuple(node[p] for p in sub.ports),
            sub.name,
            tuple((k, float(v)) for k, v in params.params.items()),
        )
    )
    els += [VoltageSource(f"out_{p}", f"out_{p}", "0", float(out_v)) for p in roles["out"]]
    # out_y_a: the main output (the first out pin) under the name analysis reads
    probes = [Probe.current(OUTPUT, f"vout_{roles['out'][0]}", -1.0)]
    probes += [Probe.current(f"out_{p}_a", f"vout_{p}", -1.0) for p in roles["out"]]
    probes += [Probe.voltage(f"out_{p}_v", f"vo_{p}") for p in roles.get("vout", [])]
    netlist = Netlist(
        title=f"sactk user cell {sub.name}",
        tech=tech,
        corner=corner,
        temp_c=temp_c,
        elements=tuple(els),
        includes=(str(Path(params.file).resolve()),),
    )
    return Bench(
        netlist=netlist,
        inputs=tuple(input_columns(params)),
        sources=tuple(f"iin_{p}" for p in roles["in"]) + tuple(f"vin_{p}" for p in roles["vin"]),
        probes=tuple(probes),
    )


def vectors(params: Params, inputs: Any) -> tuple[np.ndarray, np.ndarray]:
    return random_and_sweep(len(input_columns(params)), inputs)


def ideal_function(params: Params) -> Any:
    """The user's ideal() (``package.module:function``), or None."""
    if not params.ideal:
        return None
    mod, _, fn = params.ideal.partition(":")
    try:
        return getattr(importlib.import_module(mod), fn)
    except (ImportError, AttributeError, ValueError) as exc:
        raise SpecError(
            f"cell.ideal: cannot import {params.ideal!r} ({exc}); give package.module:function"
        ) from None


def reference(params: Params, norm: np.ndarray, inputs: Any) -> dict[str, np.ndarray]:
    """ideal_y from the user's function (NaN without one); full scale: the largest input."""
    f = ideal_function(params)
    n = len(norm)
    y = np.full(n, np.nan) if f is None or not n else np.asarray(f(norm, params), float)
    fs = norm.max(axis=1) if n else np.zeros(0)
    return {"ideal_y": y, "fs": fs, "domain_ok": np.isfinite(y)}


def mismatch(
    params: Params, bias_a: float, seed: int, index: int, tech: Technology | None = None
) -> tuple[Alter, ...]:
    """Pelgrom shifts of the subcircuit's own MOSFETs with the technology's coefficients
    (netlists/mismatch.py); instance -1 is the nominal circuit."""
    from sactk.netlists.technology import c180

    t = tech or c180()
    sub = params.info
    if sub.unsized:
        raise SpecError(
            f"cell.file: the W or L of {sub.unsized[0]} in {sub.name} is not a number sactk can "
            'read; give numbers or parameters, or use mc.method = "pdk"'
        )
    devs = sub.devices
    out: list[Alter] = []
    z = normal_draws(seed, index, len(devs)) if index >= 0 else np.zeros((len(devs), 2))
    for d, (z_vt, z_beta) in zip(devs, z, strict=True):
        if d.model not in (t.nmos, t.pmos):
            raise SpecError(
                f"cell.file: {d.name} in {sub.name} uses model {d.model!r}, not {t.name}'s "
                f'{t.nmos} or {t.pmos}; Pelgrom draws need them (or use mc.method = "pdk")'
            )
        root = math.sqrt(d.w_um * d.l_um)
        dvt = 1e-3 * t.avt_mv_um / root * z_vt
        target = f"@m.xcell.{d.name}"
        out.append((f"{target}[delvto]", fmt(-dvt if d.model == t.pmos else dvt, "delvto")))
        dbeta = 1e-2 * t.abeta_pct_um / root * z_beta
        out.append((f"{target}[mulu0]", fmt(max(0.05, 1.0 + dbeta), "mulu0")))
    return tuple(out)


CELL = module_cell("subckt", globals(), own_mismatch=mismatch, pdk_mismatch=True)
CELLS = (CELL,)

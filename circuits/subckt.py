"""A user's own circuit as a cell: a ``.subckt`` from a SPICE file and a map of its ports.

```toml
[cell]
name = "subckt"
file = "wta.sp"          # relative to the spec file; read by netlists/userfile.py
subckt = "wta2"          # the .subckt to instantiate
ideal = "wtacell:wta_ideal"       # optional: f(norm (V, N), params[, cond]) -> main output
trust = ["../models"]    # optional: folders outside the file's own it may include
full_scale = 1.0         # optional: the main output's full scale in units of the bias
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
the output. The first ``out`` pin is the cell's main output. Only the named block and what it
uses reach the netlist, as text (netlists/userfile.py: what is refused). Without ``ideal``
the cell has no ideal column: accuracy metrics are skipped; plots and models still work.

Monte Carlo: ``mc.method = "pdk"`` uses the PDK's statistical models. ``"pelgrom"`` draws
sactk's threshold and current-factor shifts for every MOSFET below the cell
(netlists/hierarchy.py): ``M`` lines and the MOSFET inside each of the technology's device
wrappers, through nested subcircuits; anything it cannot reach is refused.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from sactk.circuits.base import Bench, Condition, Probe, module_cell, random_and_sweep
from sactk.errors import SpecError
from sactk.netlists.hierarchy import Reach, Subckt, reach, read_subckt
from sactk.netlists.mismatch import VT_BETA, Alter, draw_values, normal_draws
from sactk.netlists.render import (
    NAME_RE,
    CurrentSource,
    Element,
    Netlist,
    SubcktInstance,
    VoltageSource,
    check_path,
)
from sactk.netlists.technology import Technology

TITLE = "User subcircuit"
OUTPUT = "out_y_a"  # the instance's is out_<first out pin>_a (Params.output)
IDEAL = "ideal_y"
ROLES = ("in", "vin", "out", "vout", "vdd", "gnd", "bias")


@dataclass(frozen=True)
class Params:
    """A subcircuit cell (the module docstring has the spec)."""

    file: str = ""
    """Path of the SPICE file (the spec loader makes it absolute, relative to the spec)."""
    subckt: str = ""
    ports: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    ideal: str | None = None
    trust: list[str] = field(default_factory=list)
    """Folders outside the file's own from which it may ``.include`` (netlists/userfile.py)."""
    full_scale: float | None = None
    """The main output's full scale in units of the bias; default: the largest current
    input of each vector, or 1 (the bias) for a cell with voltage inputs only."""
    w_um: float | None = None
    l_um: float | None = None

    def __post_init__(self) -> None:
        if self.w_um is not None or self.l_um is not None:
            raise SpecError(
                "cell.w_um: a subcircuit sets its own device sizes, so cell.w_um, cell.l_um and "
                "sweep.wl_um do not apply; give sizes as the subcircuit's parameters "
                "(cell.params) and sweep them with sweep.cell.<name>"
            )
        fs = self.full_scale
        if fs is not None and (isinstance(fs, bool) or not isinstance(fs, int | float)
                               or not math.isfinite(fs) or fs <= 0):  # fmt: skip
            raise SpecError(f"cell.full_scale: {fs!r} must be a positive number (units of bias)")
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
        if not isinstance(self.trust, list) or not all(isinstance(t, str) for t in self.trust):
            raise SpecError("cell.trust: give a list of folders (strings)")
        trust = tuple(Path(check_path(t, "cell.trust")) for t in self.trust)
        sub = read_subckt(path, self.subckt, trust)
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


def devices(params: Params, tech: Technology) -> Reach:
    """The MOSFETs below the cell on ``tech``, through wrappers and nested subcircuits."""
    key = (tech.name, tech.device_kind, tech.nmos, tech.pmos, tech.scale_um)
    cache: dict[Any, Reach] = params.__dict__.setdefault("_reach", {})
    if key not in cache:
        given = {k: str(v) for k, v in params.params.items()}
        cache[key] = reach(params.info, tech, given)
    return cache[key]


def sizes(params: Params, tech: Technology) -> tuple[float, float]:
    """The first MOSFET's size (what result columns w_um, l_um report)."""
    devs = devices(params, tech).devices
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
        library=sub.lines,
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
    """The user's ideal() (``package.module:function``), or None. The module is found on
    the Python path or beside the cell's SPICE file (the spec's folder)."""
    if not params.ideal:
        return None
    import sys

    mod, _, fn = params.ideal.partition(":")
    here = str(Path(params.file).resolve().parent)
    added = here not in sys.path
    if added:
        sys.path.insert(0, here)
    try:
        return getattr(importlib.import_module(mod), fn)
    except (ImportError, AttributeError, ValueError) as exc:
        raise SpecError(
            f"cell.ideal: cannot import {params.ideal!r} ({exc}); give package.module:function "
            "of a module on the Python path or beside the cell's file"
        ) from None
    finally:
        if added:
            sys.path.remove(here)


def reference(
    params: Params, norm: np.ndarray, inputs: Any, cond: Condition | None = None
) -> dict[str, np.ndarray]:
    """ideal_y from the user's function (NaN without one): ``ideal(norm, params)`` or, if
    it takes a third argument, ``ideal(norm, params, cond)`` with the operating point
    (temperature, corner, supply, bias, technology: circuits/base.Condition). Full scale:
    ``full_scale``, else the largest current input, else 1 (voltage inputs never scale it)."""
    import inspect

    f = ideal_function(params)
    n = len(norm)
    if f is None or not n:
        y = np.full(n, np.nan)
    else:
        try:
            takes = len(inspect.signature(f).parameters) >= 3
        except (TypeError, ValueError):
            takes = False
        if takes and cond is None:
            cond = Condition()
        y = np.asarray(f(norm, params, cond) if takes else f(norm, params), float)
        if y.shape != (n,):
            raise SpecError(
                f"cell.ideal: {params.ideal} returned shape {y.shape}; return one value per "
                f"vector, shape ({n},)"
            )
    n_current = len(params._roles()["in"])
    if params.full_scale is not None:
        fs = np.full(n, float(params.full_scale))
    elif n_current and n:
        fs = np.abs(norm[:, :n_current]).max(axis=1)
    else:
        fs = np.ones(n)
    return {"ideal_y": y, "fs": fs, "domain_ok": np.isfinite(y)}


def mismatch(
    params: Params, bias_a: float, seed: int, index: int, tech: Technology | None = None
) -> tuple[Alter, ...]:
    """Pelgrom shifts of every MOSFET below the cell with the technology's coefficients
    (netlists/mismatch.py): ``M`` lines and the MOSFET inside each PDK device wrapper, through
    nested subcircuits. Area is W L mult. Instance -1 is the nominal circuit. A device sactk
    cannot reach or size is refused, pointing to the PDK's own statistics."""
    from sactk.netlists.technology import c180

    t = tech or c180()
    sub = params.info
    found = devices(params, t)
    pdk = 'or use mc.method = "pdk" (the PDK\'s own statistical models)'
    if found.unreached:
        raise SpecError(
            f"mc.method: Pelgrom draws cannot reach inside {found.unreached[0]} in {sub.name} "
            f"(neither the file nor {t.name}'s devices {t.nmos}, {t.pmos} define it); {pdk}"
        )
    if found.unsized:
        raise SpecError(
            f"mc.method: the W or L of {found.unsized[0]} in {sub.name} is not a number sactk "
            f"can read; give numbers or parameters, {pdk}"
        )
    if not found.devices:
        raise SpecError(f"mc.method: {sub.name} has no MOSFET for Pelgrom draws; {pdk}")
    devs = found.devices
    out: list[Alter] = []
    z = normal_draws(seed, index, len(devs)) if index >= 0 else np.zeros((len(devs), 2))
    for d, (z_vt, z_beta) in zip(devs, z, strict=True):
        if d.model not in (t.nmos, t.pmos):
            raise SpecError(
                f"mc.method: {d.name} in {sub.name} uses model {d.model!r}, not {t.name}'s "
                f"{t.nmos} or {t.pmos}; Pelgrom draws need them, {pdk}"
            )
        root = math.sqrt(d.w_um * d.l_um * d.mult)
        dvt = 1e-3 * t.avt_mv_um / root * z_vt
        dbeta = 1e-2 * t.abeta_pct_um / root * z_beta
        vt_value, beta_value = draw_values(dvt, dbeta, "p" if d.model == t.pmos else "n", t)
        target = f"@m.{d.path}"
        vt, beta = VT_BETA[t.mismatch_style]
        out.append((f"{target}[{vt}]", vt_value))
        out.append((f"{target}[{beta}]", beta_value))
    return tuple(out)


CELL = module_cell("subckt", globals(), own_mismatch=mismatch, pdk_mismatch=True)
CELLS = (CELL,)

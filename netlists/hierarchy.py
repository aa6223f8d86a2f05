"""A user subcircuit as sactk sees it: its ports and parameters, the lines a netlist
carries (netlists/userfile.py), and every MOSFET below its instance, through PDK device
wrappers and nested subcircuits, with sizes read from numbers, parameters and
``{expressions}`` (evaluated without eval). circuits/subckt.py builds the cell on it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sactk.errors import SpecError
from sactk.netlists.render import spice_number
from sactk.netlists.technology import Technology
from sactk.netlists.userfile import Library, instance_subckt, read_library


@dataclass(frozen=True)
class Device:
    """A MOSFET sactk can reach: its ngspice instance path below the bench, model, size."""

    path: str
    """``xcell.m1``, ``xcell.xinner.m1`` or, for a PDK device, the MOSFET inside its
    wrapper (``xcell.xm1.msky130_fd_pr__nfet_01v8``): ``@m.<path>[delvto]`` alters it."""
    model: str
    w_um: float
    l_um: float
    mult: float = 1.0
    """Parallel devices (``m``, ``mult``): Pelgrom's area is W L mult."""

    @property
    def name(self) -> str:
        return self.path.split(".")[1] if self.path.count(".") else self.path


@dataclass(frozen=True)
class Subckt:
    """What sactk reads of a ``.subckt`` block: ports, declared parameters, the lines the
    netlist carries (netlists/userfile.py) and the library they came from."""

    name: str
    ports: tuple[str, ...]
    params: dict[str, str]
    lines: tuple[str, ...]
    library: Library


def read_subckt(path: Path, name: str, trust: tuple[Path, ...] = ()) -> Subckt:
    """The ``.subckt name`` block of the SPICE file ``path`` and what it needs."""
    lib = read_library(path, trust)
    if name not in lib.subckts:
        listed = ", ".join(lib.subckts) or "none"
        raise SpecError(f"cell.subckt: no .subckt {name!r} in {path}; subcircuits there: {listed}")
    toks = lib.subckts[name].header.tokens
    head = toks[2:]
    ports = tuple(t for t in head if "=" not in t and not _is_value(head, t))
    params = _assignments(head)
    for line in lib.subckts[name].body:
        if line.tokens[0].startswith(".param"):
            params.update(_assignments(line.tokens[1:]))
    return Subckt(name, ports, params, tuple(lib.closure(name)), lib)


def _assignments(tokens: list[str]) -> dict[str, str]:
    """``w = 4u l={x}`` tokens -> {"w": "4u", "l": "{x}"}."""
    joined = " ".join(tokens)
    return dict(re.findall(r"([a-z_][a-z0-9_]*)\s*=\s*(\{[^}]*\}|'[^']*'|\S+)", joined))


@dataclass
class Reach:
    """The walk of a subcircuit's hierarchy: the MOSFETs found and what stopped it."""

    devices: list[Device] = field(default_factory=list)
    unreached: list[str] = field(default_factory=list)
    """Instances sactk cannot see into (``xu1 (opamp)``: a subcircuit neither the file
    nor the technology's device list defines)."""
    unsized: list[str] = field(default_factory=list)


def reach(sub: Subckt, tech: Technology, given: dict[str, str] | None = None) -> Reach:
    """Every MOSFET below the cell's instance ``xcell``: ``M`` lines, and ``X`` instances of
    the technology's device wrappers (sky130, GF180), through nested subcircuits."""
    out = Reach()
    glob = {n: _rhs(line.text, n) for n, line in sub.library.params}
    scope = {**glob, **sub.params, **(given or {})}
    _walk(sub.library, sub.name, scope, "xcell", tech, out, 0)
    return out


def _rhs(text: str, name: str) -> str:
    return _assignments(text.split()[1:]).get(name, "")


def _walk(lib: Library, name: str, scope: dict[str, str], prefix: str, tech: Technology,
          out: Reach, depth: int) -> None:  # fmt: skip
    um = 1.0 if tech.scale_um else 1e6  # .option scale=1u: plain numbers are um
    scope = dict(scope)
    for line in lib.subckts[name].body:
        toks = line.tokens
        head = toks[0]
        if head.startswith(".param"):
            scope.update(_assignments(toks[1:]))
        elif head.startswith("m") and len(toks) >= 6:
            kv = _assignments(toks[6:])
            if tech.fin_w_um and "w" not in kv and "nfin" in kv:
                # a FinFET's width is its fins: W = nfin x the fin's effective width
                nfin = _size(kv["nfin"], scope)
                kv["w"] = repr(nfin * tech.fin_w_um * 1e-6) if nfin else kv["nfin"]
            _device(out, f"{prefix}.{head}", toks[5], kv, scope, um)
        elif head.startswith("x"):
            child = instance_subckt(toks)
            kv = _assignments(toks[toks.index(child) + 1 :]) if child else {}
            if child in lib.subckts and depth < 8:
                inner = {**scope, **_header_params(lib, child)}
                for k, v in kv.items():
                    val = _size(v, scope)
                    inner[k] = v if val is None else repr(val)
                _walk(lib, child, inner, f"{prefix}.{head}", tech, out, depth + 1)
            elif tech.device_kind == "subckt" and child in (tech.nmos, tech.pmos):
                inside = tech.subckt_device.format(model=child)
                _device(out, f"{prefix}.{head}.{inside}", child, kv, scope, um)
            else:
                out.unreached.append(f"{head} ({child})")


def _header_params(lib: Library, name: str) -> dict[str, str]:
    return _assignments(lib.subckts[name].header.tokens[2:])


def _device(out: Reach, path: str, model: str, kv: dict[str, str], scope: dict[str, str],
            um: float) -> None:  # fmt: skip
    w, ll = _size(kv.get("w"), scope), _size(kv.get("l"), scope)
    mult = 1.0
    for k in ("m", "mult"):
        v = _size(kv.get(k), scope) if k in kv else 1.0
        mult *= v if v and v > 0 else 1.0
    if w is None or ll is None or not (w > 0 and ll > 0):
        out.unsized.append(path.split(".", 1)[1])
    else:
        out.devices.append(Device(path, model, w * um, ll * um, mult))


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

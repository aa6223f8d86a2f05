"""Netlists as data, and the one function that turns them into SPICE text.

Nothing a user writes reaches the text unchecked: element and node names must match
:data:`NAME_RE`, numbers are validated as finite and formatted here, and paths may not contain
quotes or line breaks. The text never contains a ``.control`` block; the backend drives the
simulator with its own commands.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from sactk.errors import SpecError
from sactk.netlists.technology import Technology

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
"""Element, node, model and parameter names: lower case (ngspice's control language lowers
source names), a letter first, at most 64 characters."""


def check_node(name: str, what: str = "node") -> str:
    """A node name: ``0`` (ground) or a valid name."""
    return name if name == "0" else check_name(name, what)


def check_name(name: str, what: str = "name") -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise SpecError(
            f"{what}: {name!r} is not a valid netlist name; use lower-case letters, digits and "
            "'_', starting with a letter"
        )
    return name


def fmt(value: float, what: str = "value") -> str:
    """Format a number for SPICE: finite, 9 significant digits, no unit suffix."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SpecError(f"{what}: {value!r} is not a number")
    v = float(value)
    if not math.isfinite(v):
        raise SpecError(f"{what}: {value!r} is not a finite number")
    if v == 0.0:
        return "0"
    return f"{v:.9g}"


SPICE_SCALE = {"f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3,
               "meg": 1e6, "g": 1e9, "t": 1e12}  # fmt: skip
"""SPICE scale suffixes (ngspice manual, "scale factors"); ``meg`` before ``m``."""


def spice_number(text: str) -> float | None:
    """``4u`` -> 4e-06, ``1.5`` -> 1.5, ``2meg`` -> 2e6 (letters after the suffix, a unit,
    are ignored); None if ``text`` is not a plain number."""
    m = re.fullmatch(
        r"([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)(meg|[fpnumkgt])?[a-z]*", text.lower()
    )
    if not m:
        return None
    return float(m.group(1)) * (SPICE_SCALE[m.group(2)] if m.group(2) else 1.0)


def check_path(path: str, what: str = "path") -> str:
    if any(c in path for c in "'\"\n\r\0"):
        raise SpecError(f"{what}: path {path!r} contains a quote or line break; rename it")
    return path


@dataclass(frozen=True)
class Mosfet:
    """A MOSFET instance; ``kind`` picks the technology's NMOS or PMOS device."""

    name: str
    d: str
    g: str
    s: str
    b: str
    kind: str  # "n" or "p"
    w_um: float
    l_um: float


@dataclass(frozen=True)
class CurrentSource:
    """DC current ``dc_a`` flowing from node ``p`` through the source into node ``n``."""

    name: str
    p: str
    n: str
    dc_a: float
    pwl: tuple[tuple[float, float], ...] = ()
    """Piecewise-linear waveform for transient runs: (time_s, current_a) pairs."""
    ac: float = 0.0
    """Small-signal magnitude for ``ac`` and ``noise`` analyses (the input they refer to)."""


@dataclass(frozen=True)
class VoltageSource:
    """DC voltage ``dc_v`` between ``p`` (+) and ``n`` (-). Its branch current, positive from
    ``p`` through the source to ``n``, is readable as ``<name>#branch``."""

    name: str
    p: str
    n: str
    dc_v: float
    ac: float = 0.0
    """Small-signal magnitude for ``ac`` and ``noise`` analyses."""


@dataclass(frozen=True)
class Resistor:
    """A resistor of ``r_ohm`` between ``p`` and ``n``, with a linear temperature
    coefficient ``tc1`` (1/K, about the nominal temperature)."""

    name: str
    p: str
    n: str
    r_ohm: float
    tc1: float = 0.0


@dataclass(frozen=True)
class Vcvs:
    """An ideal voltage amplifier: V(p) - V(n) = gain (V(cp) - V(cn))."""

    name: str
    p: str
    n: str
    cp: str
    cn: str
    gain: float


@dataclass(frozen=True)
class Capacitor:
    """A capacitor of ``c_f`` farads between ``p`` and ``n``."""

    name: str
    p: str
    n: str
    c_f: float


@dataclass(frozen=True)
class Ccvs:
    """A current-controlled voltage source: ``v(p) - v(n) = gain * i(control)``, where
    ``control`` is a voltage source's instance name (a 1-ohm sense turns the current through
    a held output into the voltage ngspice's ``noise`` analysis needs)."""

    name: str
    p: str
    n: str
    control: str
    gain: float = 1.0


@dataclass(frozen=True)
class Diode:
    """A diode from anode ``p`` to cathode ``n`` with model ``model`` (defined in a file the
    netlist includes)."""

    name: str
    p: str
    n: str
    model: str


@dataclass(frozen=True)
class SubcktInstance:
    """An instance of subcircuit ``subckt`` (from a file the netlist includes): ``nodes`` in
    the subcircuit's port order, ``params`` as ``name=value`` numbers."""

    name: str
    nodes: tuple[str, ...]
    subckt: str
    params: tuple[tuple[str, float], ...] = ()


Element = (
    Mosfet
    | CurrentSource
    | VoltageSource
    | Resistor
    | Vcvs
    | Ccvs
    | Capacitor
    | Diode
    | SubcktInstance
)


@dataclass(frozen=True)
class Netlist:
    """One test bench: elements on a technology at one corner and temperature."""

    title: str
    tech: Technology
    corner: str
    temp_c: float
    elements: tuple[Element, ...]
    options: tuple[tuple[str, float], ...] = field(default=(("gmin", 1e-15),))
    includes: tuple[str, ...] = ()
    """Files ``.include``d after the technology's models."""
    library: tuple[str, ...] = ()
    """SPICE lines sactk read from a user's file and checked (netlists/userfile.py): a user
    cell's subcircuits, carried as text so that the netlist's hash follows the file."""
    method: str = ""
    """Transient integration method (``gear`` or ``trap``); empty: ngspice's default (trap).
    Gear damps the point-to-point ringing trapezoidal integration puts on source branch
    currents (seen as +-3 % jumps of the MP output at 1 uA with long time steps)."""

    def element(self, name: str) -> Element:
        for e in self.elements:
            if e.name == name:
                return e
        raise KeyError(name)


def _prefix(e: Element, tech: Technology) -> str:
    if isinstance(e, Mosfet):
        return "x" if tech.device_kind == "subckt" else "m"
    if isinstance(e, CurrentSource):
        return "i"
    if isinstance(e, Resistor):
        return "r"
    if isinstance(e, Vcvs):
        return "e"
    if isinstance(e, Ccvs):
        return "h"
    if isinstance(e, Capacitor):
        return "c"
    if isinstance(e, Diode):
        return "d"
    if isinstance(e, SubcktInstance):
        return "x"
    return "v"


def instance_name(e: Element, tech: Technology) -> str:
    """The SPICE instance name: type letter + element name (``iin0``, ``mms0``, ``xmms0``)."""
    return _prefix(e, tech) + e.name


def check_mosfet(e: Mosfet, tech: Technology) -> None:
    """A MOSFET's nodes, kind and size against the technology (both simulators' renderers)."""
    for n in (e.d, e.g, e.s, e.b):
        check_node(n, f"node of {e.name}")
    if e.kind not in ("n", "p"):
        raise SpecError(f"element {e.name}: kind must be 'n' or 'p'")
    if e.w_um < tech.wmin_um or e.l_um < tech.lmin_um:
        raise SpecError(
            f"element {e.name}: W/L {e.w_um}/{e.l_um} um is below the {tech.name} minimum "
            f"{tech.wmin_um}/{tech.lmin_um} um"
        )
    if tech.lmax_um is not None and e.l_um > tech.lmax_um:
        raise SpecError(
            f"element {e.name}: L {e.l_um} um is above the {tech.name} models' longest "
            f"{tech.lmax_um} um; use shorter devices (cell.l_um, cell.casc_scale, wl_um)"
        )


def _render_element(e: Element, tech: Technology) -> str:
    name = instance_name(e, tech)
    check_name(e.name, f"element {e.name!r}")
    if isinstance(e, Mosfet):
        check_mosfet(e, tech)
        model = tech.nmos if e.kind == "n" else tech.pmos
        # A device wider than the technology draws is m equal parallel devices.
        m = 1 if tech.wmax_um is None else max(1, math.ceil(e.w_um / tech.wmax_um - 1e-9))
        w_um = e.w_um / m
        # Drain/source diffusion geometry from the drawn width; PD/PS >= W keeps BSIM3's
        # parameter check quiet (docs/ngspice.md, BSIM3 side effects).
        a_pm2 = w_um * tech.diff_ext_um
        p_um = 2.0 * (w_um + tech.diff_ext_um)
        u, p = ("", "") if tech.scale_um else ("u", "p")  # .option scale=1u: plain um
        geo = (
            f"w={fmt(w_um)}{u} l={fmt(e.l_um)}{u} ad={fmt(a_pm2)}{p} as={fmt(a_pm2)}{p} "
            f"pd={fmt(p_um)}{u} ps={fmt(p_um)}{u}"
        )
        if m > 1:
            geo += "".join(
                f" {check_name(k, 'tech.multiplier_params')}={m}" for k in tech.multiplier_params
            )
        return f"{name} {e.d} {e.g} {e.s} {e.b} {model} {geo}"
    if isinstance(e, SubcktInstance):
        for n in e.nodes:
            check_node(n, f"node of {e.name}")
        sub = check_name(e.subckt, f"subcircuit of {e.name}")
        pars = "".join(
            f" {check_name(k, f'parameter of {e.name}')}={fmt(v, f'{e.name}.{k}')}"
            for k, v in e.params
        )
        return f"{name} {' '.join(e.nodes)} {sub}{pars}"
    check_node(e.p, f"node of {e.name}")
    check_node(e.n, f"node of {e.name}")
    if isinstance(e, Capacitor):
        if not (isinstance(e.c_f, int | float) and e.c_f > 0):
            raise SpecError(f"element {e.name}: capacitance {e.c_f!r} must be a positive number")
        return f"{name} {e.p} {e.n} {fmt(e.c_f, e.name + '.c_f')}"
    if isinstance(e, Diode):
        return f"{name} {e.p} {e.n} {check_name(e.model, f'model of {e.name}')}"
    if isinstance(e, Resistor):
        if not e.r_ohm > 0:
            raise SpecError(f"element {e.name}: resistance {e.r_ohm!r} must be positive")
        r = fmt(e.r_ohm, e.name + ".r_ohm")
        return f"{name} {e.p} {e.n} {r} tc1={fmt(e.tc1, e.name + '.tc1')}"
    if isinstance(e, Ccvs):
        ctrl = check_name(e.control, f"control of {e.name}")
        return f"{name} {e.p} {e.n} {ctrl} {fmt(e.gain, e.name + '.gain')}"
    if isinstance(e, Vcvs):
        check_node(e.cp, f"node of {e.name}")
        check_node(e.cn, f"node of {e.name}")
        return f"{name} {e.p} {e.n} {e.cp} {e.cn} {fmt(e.gain, e.name + '.gain')}"
    if isinstance(e, CurrentSource):
        text = f"{name} {e.p} {e.n} dc {fmt(e.dc_a, e.name + '.dc_a')}"
        if e.pwl:
            pts = " ".join(f"{fmt(t, e.name + '.pwl')} {fmt(v, e.name + '.pwl')}" for t, v in e.pwl)
            text += f" pwl({pts})"
        if e.ac:
            text += f" ac {fmt(e.ac, e.name + '.ac')}"
        return text
    ac = f" ac {fmt(e.ac, e.name + '.ac')}" if e.ac else ""
    return f"{name} {e.p} {e.n} dc {fmt(e.dc_v, e.name + '.dc_v')}{ac}"


def write(netlist: Netlist, out: TextIO) -> None:
    """Write the SPICE text of ``netlist`` to a text stream."""
    tech = netlist.tech
    if "\n" in netlist.title or "\r" in netlist.title:
        raise SpecError("title: must be one line")
    out.write(f"* {netlist.title}\n")
    out.write(f"* technology {tech.name}, corner {netlist.corner}\n")
    for inc in tech.includes:
        out.write(f".include '{check_path(str(inc), 'tech.includes')}'\n")
    for pname, pval in tech.params:
        out.write(f".param {check_name(pname, 'tech.params')}={fmt(pval, pname)}\n")
    section = check_name(tech.corner_section(netlist.corner), "tech.corner")
    if tech.scale_um:
        out.write(".option scale=1e-6\n")
    if tech.corner_includes:
        for inc in tech.corner_includes[section]:
            out.write(f".include '{check_path(str(inc), 'tech.corner_includes')}'\n")
    else:
        out.write(f".lib '{check_path(str(tech.model_lib), 'tech.model_lib')}' {section}\n")
    for user_file in netlist.includes:
        out.write(f".include '{check_path(str(user_file), 'cell.file')}'\n")
    for line in netlist.library:
        if "\n" in line or "\r" in line:
            raise SpecError("cell.file: a library line holds a line break")
        out.write(line + "\n")
    opts = " ".join(f"{check_name(k, 'option')}={fmt(v, k)}" for k, v in netlist.options)
    if netlist.method:
        if netlist.method not in ("gear", "trap"):
            raise SpecError(f"method: {netlist.method!r} is not gear or trap")
        opts += f" method={netlist.method}"
    out.write(f".options temp={fmt(netlist.temp_c, 'temp_c')} {opts}\n")
    for e in netlist.elements:
        out.write(_render_element(e, tech) + "\n")
    out.write(".end\n")


def render(netlist: Netlist) -> str:
    import io

    buf = io.StringIO()
    write(netlist, buf)
    return buf.getvalue()


def text_hash(text: str) -> str:
    """SHA-256 of netlist text (hex, first 16 characters), recorded with every result."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


_INCLUDE = re.compile(
    r"^[ \t]*\.(?:inc(?:lude)?[ \t]+(['\"]?)([^'\"\s]+)\1"
    r"|lib[ \t]+(['\"]?)([^'\"\s]+)\3[ \t]+\w)",
    re.I | re.M,
)
"""An ``.include FILE`` or ``.lib FILE SECTION`` line (not a ``.lib SECTION`` header)."""


def _file_of(m: re.Match[str]) -> str:
    return m.group(2) or m.group(4)


def _digest(path: Path, seen: frozenset[Path] = frozenset()) -> str:
    """SHA-256 of a model file and, recursively, of every file it includes."""
    try:
        st = path.stat()
    except OSError:
        return "missing:" + path.name
    key = (str(path), st.st_mtime_ns, st.st_size)
    if key in _DIGESTS:
        return _DIGESTS[key]
    data = path.read_bytes()
    h = hashlib.sha256(data)
    text = data.decode("utf-8", errors="replace")
    for m in _INCLUDE.finditer(text):
        inner = (path.parent / _file_of(m)).resolve()
        if inner != path.resolve() and inner not in seen:
            h.update(_digest(inner, seen | {path.resolve()}).encode())
    _DIGESTS[key] = h.hexdigest()
    return _DIGESTS[key]


_DIGESTS: dict[tuple[str, int, int], str] = {}


def identity_text(text: str) -> str:
    """Netlist text with every included file's path replaced by the hash of its content
    (and of what it includes): what decides the numbers, wherever sactk or the PDK is
    installed. An edited model file changes it; a moved one does not."""

    def sub(m: re.Match[str]) -> str:
        return m.group(0).replace(_file_of(m), "sha256:" + _digest(Path(_file_of(m))))

    return _INCLUDE.sub(sub, text)

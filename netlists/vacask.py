"""Netlists in VACASK's own language, from the same :class:`~sactk.netlists.render.Netlist`.

VACASK reads an ngspice netlist through ``include ... lang=ngspice``, but that reader drops
OSDI devices silently (../shared/pdks/README.md: the device carries 0 A and the run exits 0)
and cannot take an instance parameter such as ``delvto``. So sactk writes the native language
itself: every element as VACASK's instance line (``name (nodes) master p=v``), and the
technology's MOSFET cards converted into ``model`` blocks of an OSDI device.

Model cards are read from the technology's SPICE files by a small reader of what open PDKs
and sactk's own c180 use (``.lib NAME`` ... ``.endl`` sections, ``.lib FILE NAME``,
``.include``, ``.param`` and ``.model`` with ``+`` continuations, ``{expr}`` values over the
section's parameters). No converted file is written or committed: the text is made per job
and hashed with it. The same rules as :mod:`sactk.netlists.render` hold: names match the
name pattern and numbers are formatted here.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from dataclasses import dataclass
from pathlib import Path

from sactk.errors import SpecError
from sactk.netlists.render import (
    Capacitor,
    Ccvs,
    CurrentSource,
    Element,
    Mosfet,
    Netlist,
    Resistor,
    SubcktInstance,
    Vcvs,
    VoltageSource,
    check_mosfet,
    check_name,
    check_node,
    check_path,
    fmt,
    instance_name,
    spice_number,
)
from sactk.netlists.technology import Technology


@dataclass(frozen=True)
class Card:
    """One ``.model`` card: name, SPICE type (``nmos``/``pmos``), parameters in file order as
    written, and the ``.param`` values in force where it stands. Values are evaluated when
    the card is used, so an expression over the device's own ``w`` and ``l`` (IHP's cards)
    gets each device's numbers."""

    name: str
    kind: str
    raw: tuple[tuple[str, str], ...]
    env: tuple[tuple[str, float], ...] = ()

    def values(self, extra: dict[str, float] | None = None) -> tuple[tuple[str, float], ...]:
        env = {**dict(self.env), **(extra or {})}
        return tuple((k, evaluate(v, env, f"model {self.name} {k}")) for k, v in self.raw)


_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}


def evaluate(expr: str, params: dict[str, float], what: str) -> float:
    """An arithmetic expression over numbers and ``params`` (+ - * / **, parentheses);
    anything else is a SpecError naming ``what``. Never ``eval``."""

    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.Name) and node.id in params:
            return params[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return float(_OPS[type(node.op)](walk(node.left), walk(node.right)))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            v = walk(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        raise SpecError(f"{what}: cannot read {expr!r} (numbers, parameters and + - * / only)")

    text = expr.strip()
    number = spice_number(text)
    if number is not None:
        return number
    try:
        return walk(ast.parse(text, mode="eval"))
    except SyntaxError:
        raise SpecError(f"{what}: cannot read {expr!r}") from None


def _logical_lines(path: Path) -> list[str]:
    """The file's lines, lower case, comments dropped and ``+`` continuations joined."""
    try:
        raw = path.read_text(encoding="utf-8", errors="replace").lower().splitlines()
    except OSError as exc:
        raise SpecError(f"tech.models_dir: cannot read model file {path} ({exc})") from None
    out: list[str] = []
    for line in raw:
        line = line.split("$")[0].rstrip()
        s = line.strip()
        if not s or s.startswith("*"):
            continue
        if s.startswith("+") and out:
            out[-1] += " " + s[1:]
        else:
            out.append(s)
    return out


_ASSIGN = re.compile(r"([a-z_][a-z0-9_]*)\s*=\s*(\{[^}]*\}|'[^']*'|[^\s=]+)")


def _assignments(text: str) -> list[tuple[str, str]]:
    return [(k, v.strip("{}'")) for k, v in _ASSIGN.findall(text)]


def read_cards(path: Path, section: str | None = None) -> list[Card]:
    """Every ``.model`` card that ``.lib PATH SECTION`` (or ``.include PATH``, for no
    section) brings in, values evaluated over the section's ``.param`` lines."""
    params: dict[str, float] = {}
    cards: list[Card] = []
    _collect(path, section, params, cards, depth=0)
    return cards


def read_params(path: Path) -> dict[str, float]:
    """The ``.param`` values a SPICE file defines (and what it includes)."""
    params: dict[str, float] = {}
    _collect(path, None, params, [], depth=0)
    return params


def _collect(
    path: Path, section: str | None, params: dict[str, float], cards: list[Card], depth: int
) -> None:
    if depth > 8:
        raise SpecError(f"tech.models_dir: {path} nests .lib/.include more than 8 deep")
    lines = _logical_lines(path)
    if section is not None:
        start = next((i for i, x in enumerate(lines) if x.split() == [".lib", section]), None)
        if start is None:
            raise SpecError(f"sweep.corner: {path.name} has no section {section!r}")
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith(".endl")), None)
        lines = lines[start + 1 : end]
    for line in lines:
        words = line.split()
        head = words[0]
        if head == ".param":
            for k, v in _assignments(line[len(".param") :]):
                params[k] = evaluate(v, params, f"{path.name}: .param {k}")
        elif head in (".lib", ".include", ".inc") and len(words) >= 2:
            target = path.parent / words[1].strip("'\"")
            _collect(target, words[2] if head == ".lib" and len(words) > 2 else None,
                     params, cards, depth + 1)  # fmt: skip
        elif head == ".model" and len(words) >= 3:
            name, kind = words[1], words[2]
            rest = line.split(None, 3)[3] if len(words) > 3 else ""
            cards.append(Card(name, kind, tuple(_assignments(rest)), tuple(params.items())))


def model_block(
    card: Card,
    device: str,
    drop: tuple[str, ...],
    rename: str = "",
    extra: dict[str, float] | None = None,
) -> str:
    """``model NAME DEVICE (type=+-1 p=v ...)``: the card as a VACASK model of the OSDI
    ``device``, its expressions evaluated with ``extra`` (a device's ``w`` and ``l``);
    parameters in ``drop`` (``level``, ``version``, ...) left out."""
    if card.kind in ("nmos", "pmos"):
        kind = 1 if card.kind == "nmos" else -1
    else:  # a Verilog-A card (``.model x psp103va type=+1``): the type parameter says
        typ = dict(card.raw).get("type")
        kind = round(evaluate(typ, dict(card.env), f"model {card.name} type")) if typ else 0
        if kind not in (1, -1):
            raise SpecError(f"model {card.name}: neither nmos/pmos nor type=+1/-1")
    raw = Card(card.name, card.kind, tuple((k, v) for k, v in card.raw if k not in drop), card.env)
    pars = " ".join(
        f"{check_name(k, f'parameter of model {card.name}')}={fmt(v, f'{card.name}.{k}')}"
        for k, v in raw.values(extra)
        if k != "type"
    )
    name = check_name(rename or card.name, "model name")
    return f"model {name} {check_name(device, 'tech.vacask_device')} (type={kind} {pars})"


def tech_cards(tech: Technology, corner: str) -> list[Card]:
    """The technology's NMOS and PMOS cards at ``corner``, from its VACASK card files."""
    section = tech.corner_section(corner)
    if tech.vacask_cards:
        cards = _cached_cards(Path(tech.vacask_cards[section]), None)
    else:
        cards = _cached_cards(tech.model_lib, section)
    by_name = {c.name: c for c in cards}
    out = []
    for model in (tech.nmos, tech.pmos):
        if model not in by_name:
            raise SpecError(
                f"tech: model {model!r} is not in the {tech.name} cards at corner {corner}"
            )
        out.append(by_name[model])
    return out


_CARDS: dict[tuple[str, str | None, int], list[Card]] = {}


def _cached_cards(path: Path, section: str | None) -> list[Card]:
    """:func:`read_cards`, once per file, section and modification time in a process."""
    try:
        key = (str(path), section, path.stat().st_mtime_ns)
    except OSError:
        raise SpecError(f"tech.models_dir: model file {path} not found") from None
    if key not in _CARDS:
        _CARDS[key] = read_cards(path, section)
    return _CARDS[key]


BUILTIN_MODELS = (
    "model vsource vsource",
    "model isource isource",
    "model vcvs vcvs",
    "model ccvs ccvs",
    "model resistor sp_resistor",
    "model capacitor sp_capacitor",
)


def _mosfet(e: Mosfet, tech: Technology) -> str:
    check_mosfet(e, tech)
    name = instance_name(e, tech)
    model = (
        device_model(name)
        if tech.vacask_per_device
        else (tech.nmos if e.kind == "n" else tech.pmos)
    )
    w_um, m = finger_width_um(e, tech)
    if tech.fin_w_um:
        # a FinFET's width is a whole number of fins (ASAP7: one fin is W_eff 2 HFIN + TFIN)
        nfin = max(1, round(e.w_um / tech.fin_w_um))
        geo = f"l={fmt(e.l_um * 1e-6)} nfin={nfin}"
    else:
        a_m2 = w_um * tech.diff_ext_um * 1e-12
        p_m = 2.0 * (w_um + tech.diff_ext_um) * 1e-6
        geo = (
            f"w={fmt(w_um * 1e-6)} l={fmt(e.l_um * 1e-6)} ad={fmt(a_m2)} as={fmt(a_m2)} "
            f"pd={fmt(p_m)} ps={fmt(p_m)}"
        )
    geo += "".join(f" {check_name(k, 'tech.vacask_instance')}={fmt(v, k)}"
                   for k, v in tech.vacask_instance)  # fmt: skip
    if m > 1:
        geo += f" $mfactor={m}"  # OSDI's multiplicity: m equal devices in parallel
    return f"{name} ({e.d} {e.g} {e.s} {e.b}) {model} {geo}"


SOLVER = 'homotopy_startgmin=1e-9 op_homotopy=["src","gdev","gshunt"] op_itlcont=25'
"""VACASK solver options for cells biased at nA. Where Newton fails to continue from the
last point (after 25 iterations, not 50), source stepping is tried first, and gmin stepping
starts at 1e-9 S. On three Monte Carlo jobs of the MP cell (c180 at 27 C/100 nA and
125 C/1 uA, 21 chips x 60 vectors; SG13G2 at 100 nA, 5 x 24) VACASK took 4.9 s in all
instead of 14.8 s with its defaults. ``nr_bypass=1`` was faster still but left chips up to
3 % of the bias off ngspice, so it is not set."""


def finger_width_um(e: Mosfet, tech: Technology) -> tuple[float, int]:
    """(width of one device, count m): a device wider than the technology draws is m equal
    parallel devices (as netlists/render.py does for ngspice)."""
    m = 1 if tech.wmax_um is None else max(1, math.ceil(e.w_um / tech.wmax_um - 1e-9))
    return e.w_um / m, m


def device_model(instance: str) -> str:
    """The name of a MOSFET's own model copy (:attr:`Technology.vacask_per_device`)."""
    return f"mm_{instance}"


def _pwl(e: CurrentSource) -> str:
    pts = ",".join(f"{fmt(t, e.name + '.pwl')},{fmt(v, e.name + '.pwl')}" for t, v in e.pwl)
    return f' type="pwl" wave=[{pts}]'


def element_line(e: Element, tech: Technology) -> str:
    """One element as a VACASK instance line (the same instance name as in ngspice)."""
    check_name(e.name, f"element {e.name!r}")
    if isinstance(e, Mosfet):
        return _mosfet(e, tech)
    name = instance_name(e, tech)
    if isinstance(e, Ccvs):
        nodes = " ".join(check_node(n, f"node of {e.name}") for n in (e.p, e.n))
        ctrl = check_name(e.control, f"control of {e.name}")
        return f'{name} ({nodes}) ccvs ctlinst="{ctrl}" gain={fmt(e.gain, e.name + ".gain")}'
    if isinstance(e, Vcvs):
        nodes = " ".join(check_node(n, f"node of {e.name}") for n in (e.p, e.n, e.cp, e.cn))
        return f"{name} ({nodes}) vcvs gain={fmt(e.gain, e.name + '.gain')}"
    if isinstance(e, SubcktInstance):
        nodes = " ".join(check_node(n, f"node of {e.name}") for n in e.nodes)
        pars = "".join(
            f" {check_name(k, f'parameter of {e.name}')}={fmt(v, f'{e.name}.{k}')}"
            for k, v in e.params
        )
        return f"{name} ({nodes}) {check_name(e.subckt, f'subcircuit of {e.name}')}{pars}"
    if not isinstance(e, CurrentSource | VoltageSource | Resistor | Capacitor):
        raise SpecError(
            f"element {e.name}: a {type(e).__name__} has no VACASK form in sactk yet; "
            'run this cell with sim.name = "ngspice"'
        )
    nodes = f"({check_node(e.p, f'node of {e.name}')} {check_node(e.n, f'node of {e.name}')})"
    if isinstance(e, Resistor):
        if not e.r_ohm > 0:
            raise SpecError(f"element {e.name}: resistance {e.r_ohm!r} must be positive")
        return (
            f"{name} {nodes} resistor r={fmt(e.r_ohm, e.name + '.r_ohm')} "
            f"tc1r={fmt(e.tc1, e.name + '.tc1')}"
        )
    if isinstance(e, Capacitor):
        return f"{name} {nodes} capacitor c={fmt(e.c_f, e.name + '.c_f')}"
    if isinstance(e, CurrentSource):
        text = f"{name} {nodes} isource dc={fmt(e.dc_a, e.name + '.dc_a')}"
        text += _pwl(e) if e.pwl else ""
    else:
        text = f"{name} {nodes} vsource dc={fmt(e.dc_v, e.name + '.dc_v')}"
    return text + (f" mag={fmt(e.ac, e.name + '.ac')}" if e.ac else "")


_NUM_SUFFIX = re.compile(r"(?<![a-z0-9_.])(\d+\.?\d*(?:e[-+]?\d+)?)(meg|[fpnumkgt])[a-z]*")


def _value(text: str, where: str) -> str:
    """A user's parameter value in VACASK's terms: a number (SPICE suffixes read), or an
    expression of numbers, names and + - * / ( ) (suffixed numbers inside converted)."""
    t = text.strip().strip("{}'\"").strip()
    n = spice_number(t)
    if n is not None:
        return fmt(n, where)
    if not re.fullmatch(r"[a-z0-9_.+\-*/() ]+", t):
        raise SpecError(f"cell.file: {where}: cannot carry {text!r} into VACASK")
    return _NUM_SUFFIX.sub(lambda m: fmt(spice_number(m.group(0)) or 0.0, where), t)


def _pairs(tokens: list[str], where: str) -> str:
    text = " ".join(tokens).replace(" = ", "=").replace("= ", "=").replace(" =", "=")
    return " ".join(f"{check_name(k, where)}={_value(v, where)}" for k, v in _ASSIGN.findall(text))


_MASTERS = {"r": ("resistor", "r"), "c": ("capacitor", "c"), "v": ("vsource", "dc"),
            "i": ("isource", "dc")}  # fmt: skip


def library_lines(lines: tuple[str, ...], tech: Technology) -> list[str]:
    """A user cell's SPICE lines (netlists/userfile.py's closure: parameters and ``.subckt``
    blocks) in VACASK's language: ``subckt NAME (ports)`` with ``parameters``, and each
    element (M, X, R, C, V, I) as an instance line. A MOSFET names the technology's model
    (``nmos_rvt``) and takes its instance parameters (ASAP7: ``l``, ``nfin``)."""
    out: list[str] = []
    for line in lines:
        toks = line.split()
        head, where = toks[0], f"cell.file line {line[:40]!r}"
        if head == ".param":
            out.append(f"parameters {_pairs(toks[1:], where)}")
        elif head == ".subckt":
            ports = [t for t in toks[2:] if "=" not in t]
            names = " ".join(check_node(n, where) for n in ports)
            out.append(f"subckt {check_name(toks[1], where)}({names})")
            if toks[2 + len(ports) :]:
                out.append(f"  parameters {_pairs(toks[2 + len(ports) :], where)}")
        elif head.startswith(".ends"):
            out.append("ends")
        elif head.startswith("m") and len(toks) >= 6:
            nodes = " ".join(check_node(n, where) for n in toks[1:5])
            model = check_name(toks[5], where)
            if model not in (tech.nmos, tech.pmos):
                raise SpecError(
                    f"cell.file: {toks[0]} uses model {model!r}; on VACASK a cell's MOSFETs use "
                    f"{tech.name}'s {tech.nmos} or {tech.pmos}"
                )
            out.append(f"  {check_name(head, where)} ({nodes}) {model} {_pairs(toks[6:], where)}")
        elif head.startswith("x"):
            ports = [t for t in toks[1:] if "=" not in t]
            sub = ports[-1]
            nodes = " ".join(check_node(n, where) for n in ports[:-1])
            rest = _pairs(toks[1 + len(ports) :], where)
            out.append(f"  {check_name(head, where)} ({nodes}) {check_name(sub, where)} {rest}")
        elif head[0] in _MASTERS and len(toks) >= 4:
            master, par = _MASTERS[head[0]]
            vals = [t for t in toks[3:] if t not in ("dc",)]
            nodes = f"({check_node(toks[1], where)} {check_node(toks[2], where)})"
            out.append(
                f"  {check_name(head, where)} {nodes} {master} {par}={_value(vals[0], where)}"
            )
        else:
            raise SpecError(
                f"cell.file: {where}: {head!r} has no VACASK form in sactk (M, X, R, C, V, I "
                'and .param do); use sim.name = "ngspice"'
            )
    return out


def render_vacask(netlist: Netlist, osdi: tuple[str, ...]) -> str:
    """A VACASK netlist up to its analyses: title, ground, the OSDI files to ``load`` (file
    names; the backend links compiled ones into the run folder), the technology's MOSFET
    models at the netlist's corner, the elements, and ``control`` with the options (the
    backend appends its analyses and ``endc``)."""
    tech = netlist.tech
    if netlist.includes:
        raise SpecError(
            "cell.trust: a cell file's trusted outside includes run on ngspice only; "
            'use sim.name = "ngspice"'
        )
    if "\n" in netlist.title or "\r" in netlist.title:
        raise SpecError("title: must be one line")
    lines = [f"{netlist.title} (technology {tech.name}, corner {netlist.corner})", "ground 0"]
    lines += [f'load "{check_path(name, "tech.vacask_osdi")}"' for name in osdi]
    lines += BUILTIN_MODELS
    cards = tech_cards(tech, netlist.corner)
    if tech.vacask_per_device:
        env = dict(tech.vacask_card_env)
        lines += [
            model_block(
                cards[0 if e.kind == "n" else 1],
                tech.vacask_device,
                tech.vacask_drop,
                device_model(instance_name(e, tech)),
                {**env, "w": finger_width_um(e, tech)[0] * 1e-6, "l": e.l_um * 1e-6},
            )
            for e in netlist.elements
            if isinstance(e, Mosfet)
        ]
    else:
        lines += [model_block(c, tech.vacask_device, tech.vacask_drop) for c in cards]
    if netlist.library:  # a user's cell: its subcircuits, and the technology's own cards
        if tech.vacask_per_device:
            lines += [model_block(c, tech.vacask_device, tech.vacask_drop) for c in cards]
        lines += library_lines(netlist.library, tech)
    lines += [element_line(e, tech) for e in netlist.elements]
    # VACASK sets options in its control block; the backend appends the analyses and endc
    opts = " ".join(f"{check_name(k, 'option')}={fmt(v, k)}" for k, v in netlist.options)
    lines += ["control", f"  options temp={fmt(netlist.temp_c, 'temp_c')} {opts} {SOLVER}"]
    return "\n".join(lines) + "\n"

"""A user's SPICE file, read the way sactk needs it: only the subcircuits, models and
parameters a cell uses ever reach a netlist, and nothing that acts outside the simulation.

:func:`read_library` parses the file and every file it ``.include``s or ``.lib``s inside its
own folder. It refuses, in one line naming the file and line:

* ``.control`` blocks and the commands that run programs or scripts (``shell``, ``system``,
  ``.exec``): sactk drives the simulator itself, and a shared file must not run commands;
* an ``.include`` / ``.lib`` of a file outside the folder (``..``, an absolute path), unless
  the spec trusts that folder (``cell.trust = ["../models"]``): such a file is included as it
  is and its content is hashed into the job's identity;
* a missing included file, and parameters named like ngspice's built-in functions (``ln``,
  ``exp``, ...), which ngspice would read as the function.

:meth:`Library.closure` is the text a netlist carries: the named ``.subckt`` block, the
subcircuits it instantiates (recursively), and the ``.param``, ``.func`` and ``.model`` lines
they name. Analysis cards (``.op``, ``.dc``, ``.tran``...), ``.options`` and unused blocks
are left out. Because the netlist carries the text rather than a path, its hash (the job's
identity) changes with every edit of the circuit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sactk.errors import SpecError

DANGEROUS = (".control", ".endc", "shell", "system", ".exec", ".shell", "exec")
"""First tokens that act outside the simulation (ngspice control language, Spectre/HSPICE
script hooks)."""

SPICE_FUNCTIONS = frozenset(
    [
        "abs",
        "acos",
        "acosh",
        "asin",
        "asinh",
        "atan",
        "atanh",
        "cos",
        "cosh",
        "exp",
        "ln",
        "log",
        "log10",
        "sin",
        "sinh",
        "sqrt",
        "tan",
        "tanh",
        "min",
        "max",
        "pow",
        "pwr",
        "sgn",
        "floor",
        "ceil",
        "nint",
        "int",
        "u",
        "uramp",
        "ddt",
        "temper",
        "hertz",
        "pi",
        "gauss",
        "agauss",
        "aunif",
        "unif",
        "limit",
        "table",
        "if",
    ]
)
"""Names of ngspice's built-in functions and constants (ngspice manual, "B source" and
".param"): a parameter so named is read as the function."""

IDENT = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class Line:
    """One logical line (continuations joined, comments dropped, lower case)."""

    text: str
    file: Path
    number: int
    raw: str = ""
    """The line as written (case kept): an include's path."""

    @property
    def where(self) -> str:
        return f"{self.file.name}:{self.number}"

    @property
    def tokens(self) -> list[str]:
        return self.text.split()


@dataclass(frozen=True)
class Block:
    """A ``.subckt`` block: its header line and body lines (without ``.ends``)."""

    name: str
    header: Line
    body: tuple[Line, ...]


@dataclass
class Library:
    """Everything a user's file (and what it includes inside its folder) defines."""

    root: Path
    subckts: dict[str, Block] = field(default_factory=dict)
    models: dict[str, Line] = field(default_factory=dict)
    params: list[tuple[str, Line]] = field(default_factory=list)
    """Top-level ``.param`` and ``.func`` definitions, in file order."""
    files: list[Path] = field(default_factory=list)
    """Every file read (the user's file first)."""
    trusted: list[Line] = field(default_factory=list)
    """``.include`` / ``.lib`` lines of trusted outside folders, passed on as they are."""

    def closure(self, name: str) -> list[str]:
        """The lines a netlist needs for subcircuit ``name``: parameters, models, blocks."""
        blocks: list[str] = []
        todo = [name]
        while todo:
            n = todo.pop()
            if n in blocks:
                continue
            blocks.append(n)
            todo += [s for s in instantiated(self.subckts[n]) if s in self.subckts]
        order = [n for n in self.subckts if n in blocks]
        text = [ln.text for n in order for ln in (self.subckts[n].header, *self.subckts[n].body)]
        used = set(IDENT.findall(" ".join(text)))
        params: list[str] = []
        for pname, line in reversed(self.params):  # a parameter may use an earlier one
            if pname in used and line.text not in params:
                params.insert(0, line.text)
                used |= set(IDENT.findall(line.text))
        models = [ln.text for m, ln in self.models.items() if m in used]
        out = [ln.text for ln in self.trusted] + params + models
        for n in order:
            b = self.subckts[n]
            out += [b.header.text, *(ln.text for ln in b.body), f".ends {n}"]
        return out


def instantiated(block: Block) -> list[str]:
    """Names of the subcircuits a block's ``X`` lines instantiate."""
    return [s for s in (instance_subckt(ln.tokens) for ln in block.body) if s]


def instance_subckt(toks: list[str]) -> str | None:
    """The subcircuit name of an ``X`` line: the last token before parameters."""
    if not toks or not toks[0].startswith("x"):
        return None
    head = []
    for t in toks[1:]:
        if t == "params:" or "=" in t:
            break
        head.append(t)
    return head[-1] if head else None


def logical_lines(path: Path) -> list[Line]:
    """The file's logical lines: comments (``*``, ``;``, ``$ ``) dropped, ``+`` lines joined."""
    try:
        raw = path.read_text(errors="replace").splitlines()
    except OSError as exc:
        raise SpecError(f"cell.file: cannot read {path} ({exc.strerror})") from None
    out: list[Line] = []
    for k, r in enumerate(raw, 1):
        line = r.split(";", 1)[0].split("$ ", 1)[0].rstrip()
        s = line.strip()
        if not s or s.startswith("*"):
            continue
        if s.startswith("+") and out:
            prev = out[-1]
            more = s[1:].strip()
            out[-1] = Line(
                f"{prev.text} {more.lower()}", prev.file, prev.number, f"{prev.raw} {more}"
            )
        else:
            out.append(Line(s.lower(), path, k, s))
    return out


def _target(line: Line, raw_arg: str, base: Path, root: Path, trust: tuple[Path, ...]) -> Path:
    arg = raw_arg.strip("'\"")
    p = (base / arg).resolve() if not Path(arg).is_absolute() else Path(arg).resolve()
    inside = p.is_relative_to(root) or any(p.is_relative_to(t) for t in trust)
    if not inside:
        raise SpecError(
            f"cell.file: {line.where} includes {arg}, outside {root}; copy it beside the "
            'file, or trust its folder with cell.trust = ["<folder>"]'
        )
    if not p.is_file():
        raise SpecError(f"cell.file: {line.where} includes {arg}, which does not exist")
    return p


def _raw_argument(line: Line) -> str:
    """The path argument of an include line, in its original case."""
    parts = line.raw.split(None, 2)
    return parts[1] if len(parts) > 1 else ""


def read_library(path: Path, trust: tuple[Path, ...] = ()) -> Library:
    """Parse ``path`` and its includes inside its folder (or ``trust``ed folders)."""
    root = path.resolve().parent
    lib = Library(root=root)
    _read(lib, path.resolve(), None, root, tuple(t.resolve() for t in trust), 0)
    return lib


def _read(
    lib: Library, path: Path, section: str | None, root: Path, trust: tuple[Path, ...], depth: int
) -> None:
    if depth > 8:
        raise SpecError(f"cell.file: includes nested deeper than 8 levels at {path.name}")
    if path not in lib.files:
        lib.files.append(path)
    lines = logical_lines(path)
    in_section: str | None = None
    block: list[Line] | None = None
    depth_sub = 0
    for line in lines:
        toks = line.tokens
        head = toks[0]
        if head in DANGEROUS or head.startswith(".control"):
            raise SpecError(
                f"cell.file: {line.where} has {head!r}, a command that acts outside the "
                "simulation; sactk runs no control blocks or shell commands from a cell "
                "file: delete it"
            )
        if head == ".lib" and len(toks) == 2 and block is None:  # a section of this file
            in_section = toks[1]
            continue
        if head == ".endl":
            in_section = None
            continue
        if in_section is not None and in_section != section:
            continue
        if head in (".include", ".inc", ".lib") and len(toks) >= 2:
            if block is not None:
                raise SpecError(
                    f"cell.file: {line.where} includes a file inside .subckt; move the "
                    f"{head} line above the block"
                )
            target = _target(line, _raw_argument(line), line.file.parent, root, trust)
            sec = toks[2] if head == ".lib" and len(toks) > 2 else None
            if target.is_relative_to(root):
                _read(lib, target, sec, root, trust, depth + 1)
            else:  # a trusted outside file: passed on as it is, hashed by content
                quoted = str(target)
                if any(c in quoted for c in "'\"\n"):
                    raise SpecError(f"cell.trust: path {quoted!r} contains a quote")
                text = f".include '{quoted}'" if sec is None else f".lib '{quoted}' {sec}"
                lib.trusted.append(Line(text, line.file, line.number))
                lib.files.append(target)
            continue
        if head == ".subckt":
            if block is not None:
                depth_sub += 1
                block.append(line)
                continue
            if len(toks) < 2:
                raise SpecError(f"cell.file: {line.where}: .subckt without a name")
            block = [line]
            continue
        if head.startswith(".ends") and block is not None:
            if depth_sub:
                depth_sub -= 1
                block.append(line)
                continue
            name = block[0].tokens[1]
            lib.subckts.setdefault(name, Block(name, _header(block[0]), tuple(block[1:])))
            block = None
            continue
        if block is not None:
            if head in (".param", ".func"):
                _check_params(line)
            block.append(line)
        elif head in (".param", ".func"):
            for pname in _check_params(line):
                lib.params.append((pname, line))
        elif head == ".model" and len(toks) >= 3:
            lib.models.setdefault(toks[1], line)
    if block is not None:
        raise SpecError(f"cell.file: {block[0].where}: .subckt {block[0].tokens[1]} has no .ends")


def _header(line: Line) -> Line:
    """A ``.subckt`` header without the ``params:`` keyword (ngspice reads parameters
    without it; VACASK's ngspice reader takes the keyword for a node), parameters checked."""
    toks = [t for t in line.tokens if t != "params:"]
    _check_names(line, _param_names(" ".join(toks[2:])))
    return Line(" ".join(toks), line.file, line.number)


def _param_names(text: str) -> list[str]:
    return re.findall(r"([a-z_][a-z0-9_]*)\s*=", text)


def _check_params(line: Line) -> list[str]:
    toks = line.tokens
    if toks[0] == ".func":
        m = re.match(r"\.func\s+([a-z_][a-z0-9_]*)", line.text)
        names = [m.group(1)] if m else []
    else:
        names = _param_names(" ".join(toks[1:]))
    _check_names(line, names)
    return names


def _check_names(line: Line, names: list[str]) -> None:
    for n in names:
        if n in SPICE_FUNCTIONS:
            raise SpecError(
                f"cell.file: {line.where} defines a parameter {n!r}, the name of an ngspice "
                "function, which ngspice would read as the function; rename it"
            )

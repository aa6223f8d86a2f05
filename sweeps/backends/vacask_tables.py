"""How a job's vectors and chips reach VACASK: the Pelgrom alters as ``alter`` lines or as
tables read at the sweep index, and the order the points run in (sweeps/backends/vacask.py
runs them)."""

from __future__ import annotations

import re
from typing import Any

from sactk.errors import SpecError

_TARGET = re.compile(r"^@(?:m\.)?([a-z][a-z0-9_.]*)\[([a-z0-9_]+)\]$")
"""ngspice's ``@mname[param]`` and, below a subcircuit, ``@m.xdut.m1[param]``: VACASK names
that device ``xdut:m1``."""


def instance_alters(alters: tuple[tuple[str, str], ...], text: str = "") -> list[str]:
    """ngspice-style ``@name[param]`` alters as VACASK ``alter instance("name") p=v`` lines,
    one per instance; ``alter model("mm_name")`` where the device has its own model copy
    in ``text`` (netlists/vacask.device_model)."""
    per: dict[str, list[str]] = {}
    for target, value in alters:
        m = _TARGET.match(target)
        if m is None:
            raise SpecError(f"mc: cannot apply {target} in VACASK (a subcircuit's device?)")
        per.setdefault(m.group(1).replace(".", ":"), []).append(f"{m.group(2)}={value}")
    out = []
    for k, v in per.items():
        own = f"mm_{k}"
        what = f'model("{own}")' if f"\nmodel {own} " in text else f'instance("{k}")'
        out.append(f"  alter {what} {' '.join(v)}")
    return out


def tabled(text: str, chips: list[Any]) -> tuple[str, dict[str, list[str]]] | None:
    """``text`` with each of the chips' altered parameters read from a table
    ``sactk_a<j>[sactk_k]`` (on the device's own model copy, else on its instance line),
    and per table the chips' values; None where the chips alter different parameters, a
    subcircuit's device, or a parameter the line already sets."""
    targets = [t for t, _v in chips[0].alters] if chips else []
    if not targets or any([t for t, _v in c.alters] != targets for c in chips):
        return None
    tables: dict[str, list[str]] = {}
    for j, target in enumerate(targets):
        m = _TARGET.match(target)
        if m is None or "." in m.group(1):
            return None
        dev, par = m.group(1), m.group(2)
        model = re.compile(rf"^(model mm_{re.escape(dev)} \S+ \()(.*)\)$", re.M)
        line = model.search(text) or re.search(rf"^({re.escape(dev)} \()(.*)()$", text, re.M)
        if line is None or re.search(rf"(^|[\s(]){re.escape(par)}=", line.group(2)):
            return None
        name = f"sactk_a{j}"
        end = line.end(2)
        text = f"{text[:end]} {par}={name}[sactk_k]{text[end:]}"
        tables[name] = [c.alters[j][1] for c in chips]
    return text, tables


def walk(values: Any) -> list[int]:
    """An order of the rows of ``values`` in which each is the nearest (in units of each
    column's largest magnitude) of those left to the one before, from the one nearest the
    mean: VACASK continues each operating point from the last, and short steps converge
    (random input vectors in file order cost 2.3x the Newton iterations on the MP cell)."""
    import numpy as np

    x = np.asarray(values, dtype=float)
    scale = np.abs(x).max(axis=0)
    x = x / np.where(scale > 0, scale, 1.0)
    left = np.ones(len(x), dtype=bool)
    k = int(np.argmin(np.abs(x - x.mean(axis=0)).sum(axis=1)))
    order = [k]
    left[k] = False
    for _ in range(len(x) - 1):
        d = np.abs(x - x[k]).sum(axis=1)
        d[~left] = np.inf
        k = int(np.argmin(d))
        order.append(k)
        left[k] = False
    return order


def snake(vectors: int, chips: int) -> list[tuple[int, int]]:
    """(vector, chip) in the order one sweep runs every chip of a job: vector by vector,
    the chips forward at even vectors and back at odd ones, so each point differs from the
    one before by one chip's mismatch or by one vector on the same chip."""
    return [
        (v, c)
        for v in range(vectors)
        for c in (range(chips) if v % 2 == 0 else range(chips - 1, -1, -1))
    ]


def vector(role: Any, target: str) -> str:
    """VACASK's vector of a probe: a voltage source's current ``NAME:flow(br)`` (ngspice's
    sign), a node's voltage its name."""
    return target if str(getattr(role, "value", role)) == "voltage" else f"{target}:flow(br)"


def probe_values(plot: dict[str, Any], p: Any) -> Any:
    """A probe's column from a raw file's vectors ``plot`` (scaled, a difference where it
    has ``minus``)."""
    import numpy as np

    v = np.asarray(plot[vector(p.role, p.target)], dtype=float)
    if p.minus:
        v = v - np.asarray(plot[vector(p.role, p.minus)], dtype=float)
    return p.scale * v


def row(cols: dict[str, Any], i: int) -> dict[str, float]:
    """Point ``i`` of result columns, as floats."""
    return {k: float(v[i]) for k, v in cols.items()}


def columns(job: Any, plot: dict[str, Any], n: int) -> dict[str, Any] | str:
    """The job's probe columns (and ``power_w``) from a raw file's vectors ``plot`` of ``n``
    points; a reason where a vector is missing."""
    import numpy as np

    cols: dict[str, Any] = {}
    for p in job.probes:
        name = vector(p.role, p.target)
        if name not in plot or len(plot[name]) != n:
            return f"no operating point: vector {name} missing"
        cols[p.column] = probe_values(plot, p)
    if job.supply:
        idd = plot.get(vector("current", job.supply))
        if idd is not None:
            cols["power_w"] = -job.vdd_v * np.asarray(idd, dtype=float)
    return cols

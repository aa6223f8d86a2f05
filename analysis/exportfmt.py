"""What every exported model text shares: numbers, module names, interpolation weights and
SPICE line wrapping. One place, so the lookup and MP-unit exports (analysis/export.py,
analysis/mpexport.py) format the same number the same way."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from sactk.errors import SpecError

if TYPE_CHECKING:
    from sactk.analysis.conditions import Conditions

MODULE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,50}$")
"""An exported subcircuit or Verilog-A module name: a plain lower-case identifier."""


def num(v: float) -> str:
    """A number as exported: 12 significant digits, never locale- or repr-dependent."""
    return f"{float(v):.12g}"


def module_name(cell: str, corner: str, chip: int | None = None) -> str:
    """``sactk_<cell>_<corner>`` (``_chip<K>`` for fitted chip K), checked against
    :data:`MODULE_NAME`."""
    name = (f"sactk_{cell}_{corner}" + ("" if chip is None else f"_chip{chip}")).lower()
    if not MODULE_NAME.match(name):
        raise SpecError(f"export: module name {name!r} is not a plain identifier")
    return name


def hat_terms(x: str, grid: np.ndarray, fn_min: str = "min", fn_max: str = "max") -> list[str]:
    """Expressions of the linear-interpolation weights of ``x`` on ``grid``; the end
    weights saturate at 1 outside the grid (clamping)."""
    n = len(grid)
    if n == 1:
        return ["1"]
    out = []
    for j in range(n):
        parts = []
        if j > 0:
            parts.append(f"({x} - ({num(grid[j - 1])})) / {num(grid[j] - grid[j - 1])}")
        else:
            parts.append("1")
        if j < n - 1:
            parts.append(f"(({num(grid[j + 1])}) - {x}) / {num(grid[j + 1] - grid[j])}")
        else:
            parts.append("1")
        out.append(f"{fn_max}(0, {fn_min}({parts[0]}, {parts[1]}))")
    return out


def wrap(text: str, width: int = 100) -> list[str]:
    """Split a long expression over SPICE continuation lines at spaces."""
    lines, cur = [], ""
    for tok in text.split(" "):
        if cur and len(cur) + len(tok) + 1 > width:
            lines.append(cur)
            cur = "+ " + tok
        else:
            cur = f"{cur} {tok}" if cur else tok
    lines.append(cur)
    return lines


def excess_exprs(cond: Conditions, tc: str, lb: str, wt: list[str], wb: list[str]) -> list[str]:
    """Per physics term of analysis/conditions.py: phi_m(T, I) - sum_t sum_b wt_t wb_b
    phi_m[t, b] as an expression of the clamped temperature ``tc`` (C) and log10 bias
    ``lb``, given the weights' names; "" for an inactive term."""
    from sactk.analysis.conditions import leak_law, leak_law_expr

    (leak,) = cond.active()
    out = [""]
    if leak:  # E is separable: its spline is a product of two sums
        law = " + ".join(f"{w} * {num(v)}" for w, v in zip(wt, leak_law(cond.temp_c), strict=True))
        inv_b = " + ".join(f"{w} * {num(10.0**-b)}" for w, b in zip(wb, cond.log_bias, strict=True))
        out[0] = f"{leak_law_expr(tc)} / exp({num(np.log(10.0))} * {lb}) - ({law}) * ({inv_b})"
    return out


def blend(table: np.ndarray, wt: list[str], wb: list[str], coef: np.ndarray, ex: list[str]) -> str:
    """sum_t sum_b wt_t wb_b table[t, b] + sum_m coef_m ex_m as an expression (analysis/
    conditions.py; ``ex`` as :func:`ngspice_conditions` returns them)."""
    terms = []
    for t in range(table.shape[0]):
        inner = " + ".join(f"{wb[b]} * {num(table[t, b])}" for b in range(table.shape[1]))
        terms.append(f"{wt[t]} * ({inner})")
    terms += [f"({num(c)}) * {e}" for c, e in zip(coef, ex, strict=True) if e and c]
    return " + ".join(terms)


def ngspice_conditions(cond: Conditions) -> tuple[list[str], list[str], list[str], list[str]]:
    """Subcircuit lines that evaluate a model's condition weights (analysis/conditions.py):
    the clamped ``lb`` and bias weights as parameters of the instance (``bias_a``), the
    temperature weights and the physics terms' excesses as nodes of ``temper``. Returns
    (lines, temperature weights, bias weights, excess per term or "")."""
    from sactk.analysis.conditions import temp_coord_expr

    t, b = cond.temp_c, cond.log_bias
    lines = [f".param lb = {{min(max(log10(bias_a), {num(b[0])}), {num(b[-1])})}}"]
    bdefs, wbx = cond.b_axis.expressions("lb", "cb", lambda n: n)
    lines += [f".param {n} = {{{e}}}" for n, e in bdefs]
    lines += [f".param wb{j} = {{{w}}}" for j, w in enumerate(wbx)]
    wb = [f"{{wb{j}}}" for j in range(len(wbx))]
    lines.append(f"btc tc 0 v = min(max(temper, {num(t[0])}), {num(t[-1])})")
    tdefs, wtx = cond.t_axis.expressions(temp_coord_expr("v(tc)"), "ct", lambda n: f"v({n})")
    lines += [f"b{n} {n} 0 v = {e}" for n, e in tdefs]
    for k, w in enumerate(wtx):
        lines += wrap(f"bwt{k} wt{k} 0 v = {w}")
    wt = [f"v(wt{k})" for k in range(len(wtx))]
    ex = []
    for m, e in enumerate(excess_exprs(cond, "v(tc)", "{lb}", wt, wb)):
        if e:
            lines += wrap(f"bex{m} ex{m} 0 v = {e}")
        ex.append(f"v(ex{m})" if e else "")
    return lines, wt, wb, ex


def va_conditions(cond: Conditions) -> tuple[list[str], list[str], list[str], list[str], list[str]]:
    """Verilog-A statements that evaluate a model's condition weights from ``$temperature``
    and ``bias_a`` (both clamped). Returns (statements, reals they declare, temperature
    weights, bias weights, excess per physics term or "")."""
    from sactk.analysis.conditions import temp_coord_expr

    t, b = cond.temp_c, cond.log_bias
    body = [
        f"    tc = min(max($temperature - 273.15, {num(t[0])}), {num(t[-1])});",
        f"    lb = min(max(log(bias_a), {num(b[0])}), {num(b[-1])});  // log() is base 10",
        f"    xt = {temp_coord_expr('tc')};",
    ]
    bdefs, wbx = cond.b_axis.expressions("lb", "cb", lambda n: n)
    tdefs, wtx = cond.t_axis.expressions("xt", "ct", lambda n: n)
    body += [f"    {n} = {e};" for n, e in bdefs + tdefs]
    body += [f"    wb{j} = {w};" for j, w in enumerate(wbx)]
    body += [f"    wt{k} = {w};" for k, w in enumerate(wtx)]
    wt, wb = [f"wt{k}" for k in range(len(wtx))], [f"wb{j}" for j in range(len(wbx))]
    ex = []
    for m, e in enumerate(excess_exprs(cond, "tc", "lb", wt, wb)):
        if e:
            body.append(f"    ex{m} = {e};")
        ex.append(f"ex{m}" if e else "")
    reals = ["tc", "lb", "xt", *(n for n, _ in bdefs + tdefs), *wt, *wb, *(e for e in ex if e)]
    return body, reals, wt, wb, ex

"""MP-unit models out to simulators, with the cell's own ports.

Both forms are drop-in cells: one pin per input current, one output pin, and ``bias_a`` as an
*instance* parameter; nothing needs the ideal output precomputed.

* **Pins.** ``in0 .. in{n-1}`` take the cell's input currents in the results' input order
  (MP: ``in_i0_a..``; inner product: ``in_x0_a.., in_w0_a..``, signed). The model holds
  every input pin at 0 V and reads the current flowing into it. The output current flows
  into ``out`` and through the model to ground (the cell sinks it), whatever ``out``'s
  voltage.
* **Equations.** Every MP unit's KCL, ``sum_k max(0, t_k + d_k - a_k s) = g``, is solved by the
  simulator on an internal node whose voltage is s (normalized to the bias, so the node's
  currents are of order 1 A in every bias range); a 1e12 ohm leak keeps the node defined when
  no branch conducts. Parameters and the residual follow temperature and ``log10(bias_a)``
  as in :class:`~sactk.analysis.mpmodel.MPModel` (analysis/conditions.py: the spline's
  weights and the leakage law written out as expressions), with its range rule.
* **Chips.** ``chip=K`` writes fitted chip K's parameters (module ``..._chipK``).

ngspice reads the subcircuit (``.include``); the Verilog-A module compiles with OpenVAF
(``openvaf-r``) and runs in VACASK (tests/test_mpexport.py does both).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sactk.analysis.exportfmt import (
    blend,
    hat_terms,
    module_name,
    ngspice_conditions,
    num,
    va_conditions,
    wrap,
)
from sactk.analysis.mpmodel import MPModel
from sactk.analysis.noisemodel import ngspice_noise, va_noise
from sactk.circuits.mp import SQRT_FLOOR
from sactk.errors import SpecError
from sactk.files import write_json, write_text

LEAK_OHM = 1e12


def mp_module_name(model: MPModel, corner: str, chip: int | None) -> str:
    return module_name(model.cell_, corner, chip)


def _planes(model: MPModel, k: int, chip: int | None) -> np.ndarray:
    """(T, B, P) parameter planes of corner k, nominal or fitted chip ``chip``."""
    if chip is None:
        return model.params_[k]
    return model.chips_[int(model.chip_rows(chip, "export")), k]


def _coef(model: MPModel, k: int, chip: int | None) -> np.ndarray:
    """(2, P) physics-term coefficients of corner k, nominal or fitted chip ``chip``."""
    if chip is None:
        return np.asarray(model.coef_[k])
    return np.asarray(model.chip_coef_[int(model.chip_rows(chip, "export")), k])


def _unit_exprs(
    model: MPModel, p: dict[int, str], x: list[str], s: list[str]
) -> tuple[list[str], list[str]]:
    """Per unit: the KCL current leaving node s (g - sum max(0, t_k + d_k - a_k s - c_k q(s)))
    and the unit's output z; ``p[j]`` is parameter j, ``x[i]`` input i, ``s[u]`` unit u's node
    voltage (q: circuits.mp.sqrt_term)."""
    lay = model.layout_
    kcl, outs = [], []
    r0 = num(np.sqrt(SQRT_FLOOR))
    for u, (sl, mix, off) in enumerate(zip(lay.slices(), lay.mix, lay.offset, strict=True)):
        q = f"(sqrt(max({s[u]}, 0) + {num(SQRT_FLOOR)}) - {r0})"
        branches = []
        for k in range(mix.shape[1]):
            t = " ".join(
                f"{'+' if mix[i, k] >= 0 else '-'} {num(abs(mix[i, k]))} * {x[i]}"
                for i in range(mix.shape[0])
                if mix[i, k] != 0
            )
            off_k = float(np.broadcast_to(np.asarray(off, float), (mix.shape[1],))[k])
            branches.append(
                f"max(0, {num(off_k)} {t} + {p[sl.d.start + k]} - {p[sl.a.start + k]} * {s[u]}"
                f" - {p[sl.c.start + k]} * {q})"
            )
        kcl.append(f"{p[sl.g]} - ({' + '.join(branches)})")
        c = f"min(max({s[u]}, 0), {num(model.s_hi_)})"
        outs.append(f"max(0, {s[u]} + {p[sl.b]} * {c} * {c})")
    return kcl, outs


def ngspice_subckt(model: MPModel, k: int, chip: int | None = None) -> str:
    corner = str(model.corners_[k])
    name = mp_module_name(model, corner, chip)
    planes = _planes(model, k, chip)
    n = len(model.inputs_)
    pins = [f"in{i}" for i in range(n)]
    bias0 = num(10 ** float(np.median(model.log_bias_)))
    lines = [
        f"* sactk MP-unit model: cell {model.cell_}, output {model.output_}, corner {corner}"
        + ("" if chip is None else f", chip {chip}"),
        "* pins: " + ", ".join(f"{p} = {c}" for p, c in zip(pins, model.inputs_, strict=True)),
        "*   input currents flow into the pins, held at 0 V; the output current flows into",
        "*   out and through the model to ground",
        f"* fitted: bias_a {num(10 ** model.log_bias_[0])}..{num(10 ** model.log_bias_[-1])} A,"
        f" temp {num(model.temp_c_[0])}..{num(model.temp_c_[-1])} C; clamped outside",
        "* between fitted conditions: natural cubic spline in -1000/(T + 273.15) and log10(bias_a)"
        " plus a junction-leakage law (sactk analysis/conditions.py)",
        f".subckt {name} {' '.join(pins)} out params: bias_a={bias0}",
    ]
    cond_lines, wtn, wbn, ex = ngspice_conditions(model.cond_)
    lines += cond_lines
    for i in range(n):
        lines += [f"vs{i} in{i} 0 0", f"bx{i} x{i} 0 v = i(vs{i}) / {{bias_a}}"]
    coef = _coef(model, k, chip)
    for j in range(planes.shape[-1]):
        lines += wrap(f"bp{j} p{j} 0 v = {blend(planes[..., j], wtn, wbn, coef[:, j], ex)}")
    units = range(len(model.layout_.mix))
    kcl, outs = _unit_exprs(
        model,
        {j: f"v(p{j})" for j in range(planes.shape[-1])},
        [f"v(x{i})" for i in range(n)],
        [f"v(s{u})" for u in units],
    )
    for u in units:
        lines += wrap(f"bk{u} s{u} 0 i = {kcl[u]}")
        lines.append(f"rk{u} s{u} 0 {num(LEAK_OHM)}")
    signed = " ".join(
        f"{'+' if sg > 0 else '-'} {z}" for sg, z in zip(model.layout_.sign, outs, strict=True)
    )
    lines += wrap(f"by yh 0 v = {signed}")

    def pwl(r: np.ndarray) -> str:
        pts = ", ".join(f"{num(u)}, {num(v)}" for u, v in zip(model.r_knots_, r, strict=True))
        return f"pwl(v(yh), {pts})"

    res = []
    for t in range(len(model.temp_c_)):
        inner = [f"{wbn[b]} * {pwl(model.resid_[k, t, b])}" for b in range(len(model.log_bias_))]
        res.append(f"{wtn[t]} * ({' + '.join(inner)})")
    for m, e in enumerate(ex):
        if e and np.any(model.resid_coef_[k, m]):
            res.append(f"{e} * {pwl(model.resid_coef_[k, m])}")
    noise, extra = ngspice_noise(
        model.meta_.get("noise"), corner, model.temp_c_, model.log_bias_, wtn, wbn, "v(yo)"
    )
    if not noise:
        lines += wrap(f"bout out 0 i = {{bias_a}} * (v(yh) + {' + '.join(res)})")
    else:  # the output current on a node, so that its noise can follow it
        lines += wrap(f"byo yo 0 v = {{bias_a}} * (v(yh) + {' + '.join(res)})")
        lines += noise
        lines += wrap(f"bout out 0 i = v(yo) + {extra}")
    lines.append(f".ends {name}")
    return "\n".join(lines) + "\n"


def verilog_a(model: MPModel, k: int, chip: int | None = None) -> str:
    corner = str(model.corners_[k])
    name = mp_module_name(model, corner, chip)
    planes = _planes(model, k, chip)
    n = len(model.inputs_)
    units = range(len(model.layout_.mix))
    nt, nb, npar, nr = (
        len(model.temp_c_),
        len(model.log_bias_),
        planes.shape[-1],
        len(model.r_knots_),
    )
    pins = ", ".join([f"in{i}" for i in range(n)] + ["out"])
    kcl, outs = _unit_exprs(
        model,
        {j: f"p{j}" for j in range(npar)},
        [f"x{i}" for i in range(n)],
        [f"V(s{u})" for u in units],
    )
    body, cond_reals, wt, wb, ex = va_conditions(model.cond_)
    for i in range(n):
        # 0 * I keeps the pin a node of its own (a bare 0 lets OpenVAF merge it into ground)
        body += [f"    V(in{i}) <+ 0.0 * I(in{i});", f"    x{i} = I(in{i}) / bias_a;"]
    coef = _coef(model, k, chip)
    body += [f"    p{j} = {blend(planes[..., j], wt, wb, coef[:, j], ex)};" for j in range(npar)]
    for u in units:
        body += [
            f"    I(s{u}) <+ {kcl[u]};",
            f"    I(s{u}) <+ V(s{u}) / {num(LEAK_OHM)};",
            f"    z{u} = {outs[u]};",
        ]
    body.append(
        "    yh = "
        + " ".join(
            f"{'+' if sg > 0 else '-'} z{u}"
            for u, sg in zip(units, model.layout_.sign, strict=True)
        )
        + ";"
    )
    lo, hi = num(model.r_knots_[0]), num(model.r_knots_[-1])
    body.append(f"    yc = min(max(yh, {lo}), {hi});")
    body += [f"    h{i} = {w};" for i, w in enumerate(hat_terms("yc", model.r_knots_))]
    body.append("    r = 0.0;")
    for t in range(nt):
        for b in range(nb):
            row = " + ".join(f"h{i} * {num(v)}" for i, v in enumerate(model.resid_[k, t, b]))
            body.append(f"    r = r + wt{t} * wb{b} * ({row});")
    for m, e in enumerate(ex):
        if e and np.any(model.resid_coef_[k, m]):
            row = " + ".join(f"h{i} * {num(v)}" for i, v in enumerate(model.resid_coef_[k, m]))
            body.append(f"    r = r + {e} * ({row});")
    body += ["    iout = bias_a * (yh + r);", "    I(out) <+ iout;"]
    # the output noise the model was fitted with (analysis/noisemodel.py), if any
    noise, noise_reals = va_noise(
        model.meta_.get("noise"), corner, model.temp_c_, model.log_bias_, wt, wb
    )
    body += noise
    reals = (
        ["yh", "yc", "r", *cond_reals, *noise_reals]
        + [f"x{i}" for i in range(n)]
        + [f"p{j}" for j in range(npar)]
        + [f"z{u}" for u in units]
        + [f"h{i}" for i in range(nr)]
    )
    text = [
        f"// sactk MP-unit model: cell {model.cell_}, output {model.output_}, corner {corner}"
        + ("" if chip is None else f", chip {chip}"),
        "// pins: " + ", ".join(f"in{i} = {c}" for i, c in enumerate(model.inputs_)),
        "// input currents flow into the pins, held at 0 V; the output current flows into out",
        f"// fitted: bias_a {num(10 ** model.log_bias_[0])}..{num(10 ** model.log_bias_[-1])} A,"
        f" temp {num(model.temp_c_[0])}..{num(model.temp_c_[-1])} C; clamped outside",
        '`include "disciplines.vams"',
        "",
        f"module {name}({pins});",
        f"  inout {pins};",
        f"  electrical {pins};",
        f"  electrical {', '.join(f's{u}' for u in units)};",
        '  (*type="instance"*) parameter real bias_a = '
        f"{num(10 ** float(np.median(model.log_bias_)))} from (0:inf);",
        f"  real {', '.join(reals)};",
        "  (*retrieve*) real iout;",
        "  analog begin",
        *body,
        "  end",
        "endmodule",
    ]
    return "\n".join(text) + "\n"


MP_SCHEMA = "sactk-mp-units-1"
"""The ``schema`` of an MP-unit model's JSON export (docs/lookup.md, "Tables out")."""


def _param_rows(model: MPModel) -> list[dict[str, Any]]:
    """One row per chip (-1: nominal) x corner x temperature x bias x unit x branch: the
    branch's a, d and c and its unit's g and b, at the fitted grid."""
    pools = [(-1, model.params_)] + [
        (int(c), model.chips_[i]) for i, c in enumerate(model.chip_ids_)
    ]
    rows = []
    for chip, planes in pools:
        for k, corner in enumerate(model.corners_):
            for t, temp in enumerate(model.temp_c_):
                for b, lb in enumerate(model.log_bias_):
                    p = planes[k, t, b]
                    for u, sl in enumerate(model.layout_.slices()):
                        for br, (a, d, c) in enumerate(zip(p[sl.a], p[sl.d], p[sl.c], strict=True)):
                            rows.append({
                                "chip": chip, "corner": str(corner), "temp_c": float(temp),
                                "bias_a": float(10.0**lb), "unit": u, "branch": br,
                                "a": float(a), "d": float(d), "c": float(c),
                                "g": float(p[sl.g]), "b": float(p[sl.b]),
                            })  # fmt: skip
    return rows


def mp_to_csv(model: MPModel, out: Path) -> Path:
    """The parameters as a tidy table (:func:`_param_rows`); the layout, residual and the
    rest of the equation are in the JSON export."""
    import pandas as pd

    from sactk.files import write_csv

    return write_csv(out, pd.DataFrame(_param_rows(model)))


def mp_to_json(model: MPModel, out: Path) -> Path:
    """Everything :meth:`MPModel.evaluate` computes at the fitted grid: the units' layout
    (inputs to terms), the parameter planes of the nominal circuit and of every chip, the
    residual table, the bend's range and the equation (schema :data:`MP_SCHEMA`)."""
    lay = model.layout_
    doc = {
        "schema": MP_SCHEMA,
        "cell": model.cell_,
        "output": model.output_,
        "inputs": list(model.inputs_),
        "equation": (
            "per unit u: terms t = x_n @ mix_u + offset_u (x_n = inputs / bias_a); solve "
            "sum_k max(0, t_k + d_k - a_k s - c_k (sqrt(s + s0) - sqrt(s0))) = g for s; "
            "z_u = max(0, s + b min(max(s, 0), s_hi)^2); y_n = sum_u sign_u z_u; output = "
            "bias_a (y_n + interp(y_n, residual.knots, residual.table)) at the grid points"
        ),
        "s0": float(SQRT_FLOOR),
        "s_hi": float(model.s_hi_),
        "units": [
            {
                "sign": float(sg),
                "mix": np.asarray(m).tolist(),
                "offset": np.broadcast_to(np.asarray(o, float), (m.shape[1],)).tolist(),
            }
            for sg, m, o in zip(lay.sign, lay.mix, lay.offset, strict=True)
        ],
        "param_order": "per unit: a_0..a_{K-1}, d_0..d_{K-1}, c_0..c_{K-1}, g, b",
        "corners": [str(c) for c in model.corners_],
        "temp_c": [float(t) for t in model.temp_c_],
        "bias_a": [float(10.0**b) for b in model.log_bias_],
        "params": np.asarray(model.params_).tolist(),
        "chips": {
            str(int(c)): np.asarray(model.chips_[i]).tolist() for i, c in enumerate(model.chip_ids_)
        },
        "residual": {
            "knots": np.asarray(model.r_knots_).tolist(),
            "table": np.asarray(model.resid_).tolist(),
        },
        "between_conditions": "not exported: use the ngspice or Verilog-A export, or sactk",
        "noise": model.meta_.get("noise"),
    }
    return write_json(out, doc)


def export_mp(model: MPModel, fmt: str, out: Path, chip: int | None = None) -> list[Path]:
    """``ngspice``: one include file with a subcircuit per corner; ``verilog-a``: a folder
    with one module per corner; ``csv`` and ``json``: the parameters at the fitted grid
    (every chip; ``chip`` does not apply)."""
    if fmt in ("csv", "json"):
        if chip is not None:
            raise SpecError(
                f"export: --chip applies to ngspice and verilog-a; the {fmt} export holds "
                "every chip"
            )
        return [(mp_to_csv if fmt == "csv" else mp_to_json)(model, out)]
    if fmt == "ngspice":
        subs = [ngspice_subckt(model, k, chip) for k in range(len(model.corners_))]
        return [
            write_text(out, "* written by sactk export; .include this file\n" + "\n".join(subs))
        ]
    if fmt == "verilog-a":
        out.mkdir(parents=True, exist_ok=True)
        return [
            write_text(out / f"{mp_module_name(model, str(c), chip)}.va", verilog_a(model, k, chip))
            for k, c in enumerate(model.corners_)
        ]
    raise SpecError(
        f"export: --format {fmt!r} unknown; choose one of csv, json, verilog-a, ngspice"
    )

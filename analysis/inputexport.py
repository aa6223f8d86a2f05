"""Input-table models on disk and out to other tools: drop-in cells with the circuit's pins.

* **ngspice**: ``.subckt sactk_<subckt>_<corner> <the subcircuit's own pins> params:
  bias_a=...``, one per corner (``--chip K``: that chip's table).
* **verilog-a**: ``<name>.va``, a module with the same pins and ``bias_a`` as an instance
  parameter (OpenVAF builds it for VACASK and ngspice's OSDI).
* **csv** / **json**: the knot table, one row per (corner, temp_c, bias_a, knot).

Both behavioural forms evaluate :meth:`InputModel.evaluate`: hat functions of each input,
their tensor product with the table's knot values, and between the fitted temperatures and
biases the spline and leakage law of analysis/conditions.py. Pins by role (the spec's
``cell.ports``): a current input is held at its ground pin's potential through a 0 V sense
source and read as the current into it; a voltage input is read against the ground pin and
draws no current; the modelled output current flows into its pin and out of the ground pin
(the cell sinks it); the bias pin is tied to the supply pin (a 0 V source in ngspice, 1 ohm
in Verilog-A) that carries whatever the bench sinks there; every other pin sees 1 Tohm to
ground. Supply current is not modelled.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sactk.analysis.exportfmt import blend, hat_terms, ngspice_conditions, num, va_conditions, wrap
from sactk.analysis.modelio import FORMAT, META_KEYS, model_stem, read_files, write_files
from sactk.errors import ModelError, SpecError
from sactk.files import write_json, write_text

if TYPE_CHECKING:
    from sactk.analysis.inputmodel import InputModel

FORMATS = ("csv", "json", "verilog-a", "ngspice")


def pins(model: InputModel) -> list[tuple[str, str]]:
    """(pin, role) in the subcircuit's port order: ``in<i>`` (input i), ``out`` (the
    modelled output), ``gnd``, ``vdd``, ``bias`` or ``other``."""
    got = model.info_.get("pins")
    if got:
        return [(str(p), str(r)) for p, r in got]
    out = [(c.removeprefix("in_").rsplit("_", 1)[0], f"in{i}") for i, c in enumerate(model.inputs_)]
    return [*out, ("out", "out"), ("gnd", "gnd")]


def cell_pins(spec_cell: dict[str, Any], inputs: list[str], output: str) -> list[list[str]]:
    """The pins of a user subcircuit (port order) with their roles for this model."""
    from sactk.circuits.registry import get_cell

    params = get_cell("subckt").params({k: v for k, v in spec_cell.items() if k != "name"})
    roles = params._roles()
    by_pin: dict[str, str] = {}
    for role in ("vdd", "gnd", "bias"):
        for p in roles.get(role) or []:
            by_pin[p] = role
    for i, c in enumerate(inputs):
        by_pin[c.removeprefix("in_").rsplit("_", 1)[0]] = f"in{i}"
    out_pin = output.removeprefix("out_").rsplit("_", 1)[0]
    if out_pin not in params.info.ports:  # out_y_a: the main output, the first out pin
        out_pin = roles["out"][0]
    by_pin[out_pin] = "out"
    return [[p, by_pin.get(p, "other")] for p in params.info.ports]


def save_inputs(
    model: InputModel, path: str | os.PathLike[str], meta: dict[str, Any] | None = None
) -> Path:
    arrays: dict[str, np.ndarray] = {
        "table": model.table_,
        "chips": model.chips_,
        "chip_ids": model.chip_ids_,
        "log_bias": model.log_bias_,
        "temp_c": model.temp_c_,
        "corners": model.corners_,
        **{f"grid{d}": g for d, g in enumerate(model.grids_)},
    }
    if model.power_w_ is not None:
        arrays["power_w"] = model.power_w_
    if model.chip_mean_ is not None and model.chip_basis_ is not None:
        arrays["chip_mean"] = model.chip_mean_
        arrays["chip_basis"] = model.chip_basis_
    info: dict[str, Any] = {
        "format": FORMAT,
        "kind": "InputModel",
        "cell": model.cell_,
        "output": model.output_,
        "inputs": list(model.inputs_),
        "coordinate": model.coordinate_,
        "axes": {
            "corner": model.corners_.tolist(),
            "temp_c": model.temp_c_.tolist(),
            "bias_a": (10**model.log_bias_).tolist(),
            **{c: g.tolist() for c, g in zip(model.inputs_, model.grids_, strict=True)},
        },
        "form": (
            "out / bias_a (a current output) = sum over knots of prod_i hat_i(u_i) T[knot], "
            "u_i = input / bias_a (currents) or the input in V; between fitted temp_c and "
            "bias_a the natural cubic spline and leakage law of sactk analysis/conditions.py"
        ),
        "params": {
            "output": model.output,
            "knots": model.knots,
            "smoothing": model.smoothing,
            "chip_variance": model.chip_variance,
        },
        **model.meta_,
        **(meta or {}),
    }
    spec_cell = (info.get("spec") or {}).get("cell") or {}
    if spec_cell.get("name") == "subckt":
        info["pins"] = cell_pins(spec_cell, model.inputs_, model.output_)
        info["subckt"] = spec_cell.get("subckt")
    model.info_ = {**model.info_, **info}
    return write_files(model_stem(path), arrays, info)


def load_inputs(cls: Any, path: str | os.PathLike[str]) -> Any:
    info, arr = read_files(path, "InputModel")
    p = info.get("params", {})
    m = cls(
        output=p.get("output"),
        knots=p.get("knots"),
        smoothing=float(p.get("smoothing", 1e-3)),
        chip_variance=float(p.get("chip_variance", 0.99)),
    )
    try:
        m.cell_, m.output_ = str(info["cell"]), str(info["output"])
        m.inputs_ = [str(c) for c in info["inputs"]]
        m.coordinate_ = str(info["coordinate"])
        m.grids_ = [arr[f"grid{d}"] for d in range(len(m.inputs_))]
        m.table_, m.chips_, m.chip_ids_ = arr["table"], arr["chips"], arr["chip_ids"]
        m.log_bias_, m.temp_c_ = arr["log_bias"], arr["temp_c"]
        m.corners_ = arr["corners"].astype(str)
    except KeyError as exc:
        raise ModelError(f"{model_stem(path)}: {exc.args[0]!r} missing; refit") from None
    m.per_bias_ = np.array([c.endswith("_a") for c in m.inputs_])
    m.out_per_bias_ = m.output_.endswith("_a")
    m.coord_per_bias_ = m.coordinate_.endswith("_a")
    m.chip_mean_, m.chip_basis_ = arr.get("chip_mean"), arr.get("chip_basis")
    m.power_w_ = arr.get("power_w")
    want = (
        len(m.corners_),
        len(m.temp_c_),
        len(m.log_bias_),
        int(np.prod([len(g) for g in m.grids_])),
    )
    if m.table_.shape != want:
        raise ModelError(f"{model_stem(path)}: table shape {m.table_.shape} != axes {want}")
    m.meta_ = {k: v for k, v in info.items() if k in META_KEYS}
    m.info_ = info
    m._conditions()
    return m


def export_inputs(model: InputModel, fmt: str, out: Path, chip: int | None) -> list[Path]:
    if fmt not in FORMATS:
        raise SpecError(f"export: --format {fmt!r} unknown; choose one of {', '.join(FORMATS)}")
    if chip is not None:
        pos = int(model.chip_rows([chip], "export --chip")[0])
        table, coef = model.chips_[pos], model.chip_coef_[pos]
    else:
        table, coef = model.table_, model.coef_
    if fmt == "csv":
        return [write_text(out, _csv(model, table))]
    if fmt == "json":
        doc = {
            "cell": model.cell_,
            "output": model.output_,
            "inputs": model.inputs_,
            "inputs_per_bias": model.per_bias_.tolist(),
            "chip": chip,
            "axes": {
                "corner": model.corners_.tolist(),
                "temp_c": model.temp_c_.tolist(),
                "log10_bias_a": model.log_bias_.tolist(),
                **{f"u{d}": g.tolist() for d, g in enumerate(model.grids_)},
            },
            "table": table.reshape(*table.shape[:3], *(len(g) for g in model.grids_)).tolist(),
            "terms": {"names": ["leak"], "coefficients": coef.tolist()},
            "pins": pins(model),
        }
        return [write_json(out, doc)]
    names = [model.module_name(str(c), chip) for c in model.corners_]
    if fmt == "ngspice":
        subs = [_ngspice(model, n, table[k], coef[k]) for k, n in enumerate(names)]
        return [
            write_text(out, "* written by sactk export; .include this file\n" + "\n".join(subs))
        ]
    out.mkdir(parents=True, exist_ok=True)
    return [
        write_text(out / f"{n}.va", _va(model, n, table[k], coef[k])) for k, n in enumerate(names)
    ]


def _csv(model: InputModel, table: np.ndarray) -> str:
    fh = io.StringIO(newline="")
    w = csv.writer(fh)
    norm = [
        c.removesuffix("_a") + "_per_bias" if p else c
        for c, p in zip(model.inputs_, model.per_bias_, strict=True)
    ]
    w.writerow(["corner", "temp_c", "bias_a", *norm, f"{model.output_}_per_bias"])
    knots = list(itertools.product(*model.grids_))
    for k, corner in enumerate(model.corners_):
        for t, temp in enumerate(model.temp_c_):
            for b, lb in enumerate(model.log_bias_):
                for p, u in enumerate(knots):
                    w.writerow(
                        [corner, num(temp), num(10**lb), *map(num, u), num(table[k, t, b, p])]
                    )
    return fh.getvalue()


def _roles(model: InputModel) -> tuple[list[tuple[str, str]], dict[str, str]]:
    ps = pins(model)
    for pin, _ in ps:  # the subcircuit's internal nodes (conditions, inputs, knots)
        if re.fullmatch(r"tc|ct[tpq]\d+|wt\d+|ex\d+|sx\w*", pin):
            raise SpecError(f"export: pin {pin!r} clashes with the model's internal node names")
    by_role = {r: p for p, r in ps}
    if "gnd" not in by_role:
        raise SpecError("export: the model's cell has no ground pin; refit with cell.ports.gnd")
    return ps, by_role


def _ngspice(model: InputModel, name: str, table: np.ndarray, coef: np.ndarray) -> str:
    ps, role = _roles(model)
    gnd = role["gnd"]
    bias0 = num(10 ** float(np.median(model.log_bias_)))
    lines = [
        f"* sactk input-table model: cell {model.cell_}, output {model.output_} on pin "
        f"{role.get('out')}, inputs {', '.join(model.inputs_)}",
        f"* fitted: bias_a {num(10 ** model.log_bias_[0])}..{num(10 ** model.log_bias_[-1])} A, "
        f"temp {num(model.temp_c_[0])}..{num(model.temp_c_[-1])} C; inputs clamped to the table",
        f".subckt {name} {' '.join(p for p, _ in ps)} params: bias_a={bias0}",
    ]
    cond, wt, wb, ex = ngspice_conditions(model.cond_)
    lines += cond
    for d, (grid, per) in enumerate(zip(model.grids_, model.per_bias_, strict=True)):
        pin = role[f"in{d}"]
        if per:
            lines.append(f"vsx{d} {pin} {gnd} 0")
            raw = f"i(vsx{d}) / {{bias_a}}"
        else:
            raw = f"v({pin}, {gnd})"
        lines.append(f"bsxu{d} sxu{d} 0 v = min(max({raw}, {num(grid[0])}), {num(grid[-1])})")
        for j, h in enumerate(hat_terms(f"v(sxu{d})", grid)):
            lines += wrap(f"bsxh{d}_{j} sxh{d}_{j} 0 v = {h}")
    terms = []
    for p, knot in enumerate(itertools.product(*(range(len(g)) for g in model.grids_))):
        lines += wrap(f"bsxc{p} sxc{p} 0 v = {blend(table[:, :, p], wt, wb, coef[:, p], ex)}")
        terms.append("*".join([*(f"v(sxh{d}_{j})" for d, j in enumerate(knot)), f"v(sxc{p})"]))
    scale = "{bias_a} * " if model.out_per_bias_ else ""
    lines += wrap(f"bsxout {role['out']} {gnd} i = {scale}( {' + '.join(terms)} )")
    if "bias" in role and "vdd" in role:
        lines.append(f"vsxbias {role['vdd']} {role['bias']} 0")
    for k, (pin, r) in enumerate(ps):
        if r in ("other", "vdd") or (r == "bias" and "vdd" not in role):
            lines.append(f"rsx{k} {pin} {gnd} 1e12")
    lines.append(f".ends {name}")
    return "\n".join(lines) + "\n"


def _va(model: InputModel, name: str, table: np.ndarray, coef: np.ndarray) -> str:
    ps, role = _roles(model)
    gnd = role["gnd"]
    body, reals, wt, wb, ex = va_conditions(model.cond_)
    decl = [f"u{d}" for d in range(len(model.grids_))]
    for d, (grid, per) in enumerate(zip(model.grids_, model.per_bias_, strict=True)):
        pin = role[f"in{d}"]
        if per:  # 0 * I keeps the pin a node (a bare 0.0 lets OpenVAF merge it into ground)
            body += [
                f"    V({pin}, {gnd}) <+ 0.0 * I({pin}, {gnd});",
                f"    u{d} = I({pin}, {gnd}) / bias_a;",
            ]
        else:
            body.append(f"    u{d} = V({pin}, {gnd});")
        body.append(f"    u{d} = min(max(u{d}, {num(grid[0])}), {num(grid[-1])});")
        for j, h in enumerate(hat_terms(f"u{d}", grid)):
            body.append(f"    h{d}_{j} = {h};")
            decl.append(f"h{d}_{j}")
    body.append("    y = 0.0;")
    for p, knot in enumerate(itertools.product(*(range(len(g)) for g in model.grids_))):
        hats = " * ".join(f"h{d}_{j}" for d, j in enumerate(knot))
        body.append(f"    y = y + {hats} * ({blend(table[:, :, p], wt, wb, coef[:, p], ex)});")
    scale = "bias_a * " if model.out_per_bias_ else ""
    body += [f"    iout = {scale}y;", f"    I({role['out']}, {gnd}) <+ iout;"]
    if "bias" in role and "vdd" in role:
        # 1 ohm to the supply (OpenVAF keeps no 0 V branch between two pins)
        body.append(f"    I({role['vdd']}, {role['bias']}) <+ V({role['vdd']}, {role['bias']});")
    for pin, r in ps:
        if r in ("other", "vdd") or (r == "bias" and "vdd" not in role):
            body.append(f"    I({pin}, {gnd}) <+ V({pin}, {gnd}) * 1e-12;")
    names = ", ".join(p for p, _ in ps)
    text = [
        f"// sactk input-table model: cell {model.cell_}, output {model.output_}, inputs "
        + ", ".join(model.inputs_),
        '`include "disciplines.vams"',
        "",
        f"module {name}({names});",
        f"  inout {names};",
        f"  electrical {names};",
        '  (*type="instance"*) parameter real bias_a = '
        f"{num(10 ** float(np.median(model.log_bias_)))} from (0:inf);",
        f"  real y, {', '.join(decl + reals)};",
        "  (*retrieve*) real iout;",
        "  analog begin",
        *body,
        "  end",
        "endmodule",
    ]
    return "\n".join(text) + "\n"

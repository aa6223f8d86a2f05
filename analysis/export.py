"""Lookup models out to other tools: CSV, JSON, Verilog-A and an ngspice subcircuit.

The behavioural forms compute the model's own interpolation, so they reproduce
:meth:`LookupModel.evaluate` (nominal table, one corner per module or subcircuit): linear in
u, and between the fitted temperatures and biases the natural cubic spline and leakage law of
analysis/conditions.py, written out as expressions.

* **csv**: the tidy table, one row per (corner, temp_c, bias_a, u) knot.
* **json**: axes and nested table, with the model's description.
* **verilog-a**: two flavours side by side.
  ``<name>_tm.va`` + ``<name>.tbl`` uses ``$table_model`` (Spectre, Xyce; linear in every
  axis, ``E``: error outside the table). ``<name>.va`` writes the interpolation out as hat
  functions, so compilers without ``$table_model`` (OpenVAF, behind ngspice's and VACASK's
  OSDI models) can build it; it clamps to the fitted range.
* **ngspice**: ``.subckt sactk_<cell>_<corner> inp out params: bias_a=...``: a behavioural
  source with one ``pwl()`` per (temperature, bias) plane, weighted by hat functions of
  ``log10(bias_a)`` and the circuit temperature ``temper``; clamps to the fitted range.

Ports of the modules: a current-coordinate model (``in_x_a``, ``ideal_z_a``) reads the current
flowing into ``inp`` (held at 0 V); a code-coordinate model (the memory's ``in_code``) reads
the voltage of ``inp`` as the code. The output current flows into ``out`` and through the
device to ground (the cell sinks it), as a current-mode cell output does.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sactk.analysis import exportfmt
from sactk.analysis.exportfmt import hat_terms, ngspice_conditions, num, va_conditions, wrap
from sactk.analysis.lut import LookupModel
from sactk.errors import SpecError
from sactk.files import write_json, write_text

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


FORMATS = ("csv", "json", "verilog-a", "ngspice")


def module_name(model: LookupModel, corner: str) -> str:
    """``sactk_<cell>_<corner>``, with ``_chip<K>`` for a chip's own table."""
    return exportfmt.module_name(model.cell_, corner, getattr(model, "export_chip_", None))


def export(model: LookupModel, fmt: str, out: str | os.PathLike[str]) -> list[Path]:
    """Write ``model`` in format ``fmt`` to ``out`` (a file; a folder for verilog-a)."""
    path = Path(out)
    if fmt == "csv":
        return [to_csv(model, path)]
    if fmt == "json":
        return [to_json(model, path)]
    if fmt == "verilog-a":
        return to_verilog_a(model, path)
    if fmt == "ngspice":
        return [to_ngspice(model, path)]
    raise SpecError(f"export: --format {fmt!r} unknown; choose one of {', '.join(FORMATS)}")


def _knot_rows(model: LookupModel) -> list[tuple[str, float, float, float, float]]:
    rows = []
    for k, corner in enumerate(model.corners_):
        for t, temp in enumerate(model.temp_c_):
            for b, lb in enumerate(model.log_bias_):
                for i, u in enumerate(model.u_knots_):
                    rows.append(
                        (
                            str(corner),
                            float(temp),
                            float(10**lb),
                            float(u),
                            model.table_[k, t, b, i],
                        )
                    )
    return rows


def to_csv(model: LookupModel, path: Path) -> Path:
    """Tidy table: corner, temp_c, bias_a, the coordinate (its unit), the normalized and
    the physical output."""
    scale_u = model.coord_per_bias_
    ucol = model.coordinate_  # the results' own column name (ideal_z_a, in_x_a, in_code)
    norm = f"{model.output_}_per_bias" if model.out_per_bias_ else f"{model.output_}_table"
    fh = io.StringIO(newline="")
    w = csv.writer(fh)
    w.writerow(["corner", "temp_c", "bias_a", ucol, "u_norm", norm, model.output_])
    for corner, temp, bias, u, y in _knot_rows(model):
        w.writerow(
            [
                corner,
                num(temp),
                num(bias),
                num(u * bias if scale_u else u),
                num(u),
                num(y),
                num(y * bias if model.out_per_bias_ else y),
            ]
        )
    return write_text(path, fh.getvalue())


def to_json(model: LookupModel, path: Path) -> Path:
    """Axes, the nested nominal table ``table[corner][temp][bias][u]`` and the description."""
    info = dict(getattr(model, "info_", {}))
    doc = {
        "cell": model.cell_,
        "output": model.output_,
        "coordinate": model.coordinate_,
        "coordinate_per_bias": bool(model.coord_per_bias_),
        "output_per_bias": bool(model.out_per_bias_),
        "chip": getattr(model, "export_chip_", None),
        "interpolation": (
            "linear in u; in temp_c and log10(bias_a) a natural cubic spline in "
            "-1000/(temp_c + 273.15) and log10(bias_a) through the planes plus leak[u] * (E - "
            "spline of E), E = leak_law(temp_c) / bias_a (sactk analysis/conditions.py); "
            "corner discrete"
        ),
        "axes": {
            "corner": model.corners_.tolist(),
            "temp_c": model.temp_c_.tolist(),
            "log10_bias_a": model.log_bias_.tolist(),
            "u": model.u_knots_.tolist(),
        },
        "table": model.table_.tolist(),
        "terms": {"names": ["leak"], "coefficients": model.coef_.tolist()},
        "validation": model.meta_.get("validation"),
        "technology": info.get("technology"),
        "versions": info.get("versions"),
    }
    return write_json(path, doc)


# -- shared pieces of the behavioural forms ------------------------------------------------


# -- ngspice -------------------------------------------------------------------------------


def ngspice_subckt(model: LookupModel, corner_index: int) -> str:
    corner = str(model.corners_[corner_index])
    name = module_name(model, corner)
    lo, hi = num(model.u_knots_[0]), num(model.u_knots_[-1])
    bias0 = num(10 ** float(np.median(model.log_bias_)))
    per_bias = model.coord_per_bias_
    lines = [
        f"* sactk lookup model: cell {model.cell_}, output {model.output_}, corner {corner}",
        f"* coordinate {model.coordinate_}: "
        + ("current into inp (held at 0 V)" if per_bias else "voltage of inp (1 V per code)"),
        "* output current flows into out and through the model to ground",
        f"* fitted ranges: bias_a {num(10 ** model.log_bias_[0])}..{num(10 ** model.log_bias_[-1])}"
        f" A, temp {num(model.temp_c_[0])}..{num(model.temp_c_[-1])} C; clamped outside",
        f".subckt {name} inp out params: bias_a={bias0}",
    ]
    cond_lines, wt, wb, ex = ngspice_conditions(model.cond_)
    lines += cond_lines
    if per_bias:
        lines.append("vsense inp 0 0")
        raw = "i(vsense) / {bias_a}"
    else:
        lines.append("rin inp 0 1e12")
        raw = "v(inp)"
    lines.append(f"bu u 0 v = min(max({raw}, {lo}), {hi})")

    def pwl(row: np.ndarray) -> str:
        pts = ", ".join(f"{num(u)}, {num(y)}" for u, y in zip(model.u_knots_, row, strict=True))
        return f"pwl(v(u), {pts})"

    terms = []
    for t in range(len(model.temp_c_)):
        inner = [
            f"{wb[b]} * {pwl(model.table_[corner_index, t, b])}"
            for b in range(len(model.log_bias_))
        ]
        terms.append(f"{wt[t]} * ( {' + '.join(inner)} )")
    for m, e in enumerate(ex):
        if e and np.any(model.coef_[corner_index, m]):
            terms.append(f"{e} * {pwl(model.coef_[corner_index, m])}")
    scale = "{bias_a} * " if model.out_per_bias_ else ""
    expr = f"bout out 0 i = {scale}( {' + '.join(terms)} )"
    lines += wrap(expr)
    lines.append(f".ends {name}")
    return "\n".join(lines) + "\n"


def to_ngspice(model: LookupModel, path: Path) -> Path:
    """One subcircuit per corner in one include file."""
    subs = [ngspice_subckt(model, k) for k in range(len(model.corners_))]
    return write_text(path, "* written by sactk export; .include this file\n" + "\n".join(subs))


# -- Verilog-A -----------------------------------------------------------------------------


def _va_header(model: LookupModel, name: str, corner: str, flavour: str) -> list[str]:
    per_bias = model.coord_per_bias_
    return [
        f"// sactk lookup model, {flavour}: cell {model.cell_}, output {model.output_}, "
        f"corner {corner}",
        f"// out/bias_a = T(u, log10(bias_a), temp_c), u = {model.coordinate_}"
        + (" / bias_a" if per_bias else ""),
        f"// fitted: bias_a {num(10 ** model.log_bias_[0])}..{num(10 ** model.log_bias_[-1])} A,"
        f" temp {num(model.temp_c_[0])}..{num(model.temp_c_[-1])} C,"
        f" u {num(model.u_knots_[0])}..{num(model.u_knots_[-1])}",
        '`include "disciplines.vams"',
        "",
        f"module {name}(inp, out);",
        "  inout inp, out;",
        "  electrical inp, out;",
        # an instance parameter: each instance has its own bias (x1 (a z) m bias_a=1e-7)
        '  (*type="instance"*) parameter real bias_a = '
        f"{num(10 ** float(np.median(model.log_bias_)))} from (0:inf);",
    ]


def _va_input(model: LookupModel) -> list[str]:
    if model.coord_per_bias_:
        # 0 * I keeps inp a node: a bare 0.0 lets OpenVAF merge it into ground (input reads 0)
        return ["    V(inp) <+ 0.0 * I(inp);", "    u = I(inp) / bias_a;"]
    return ["    I(inp) <+ V(inp) * 1e-12;", "    u = V(inp);"]


def verilog_a_table(model: LookupModel, corner_index: int, tbl_name: str) -> tuple[str, str]:
    """(module text, table file text) of the ``$table_model`` flavour."""
    corner = str(model.corners_[corner_index])
    name = module_name(model, corner) + "_tm"
    axes = [("u", model.u_knots_)]
    if len(model.log_bias_) > 1:
        axes.append(("lb", model.log_bias_))
    if len(model.temp_c_) > 1:
        axes.append(("tc", model.temp_c_))
    scale = "bias_a * " if model.out_per_bias_ else ""
    ctrl = ",".join("1E" for _ in axes)
    call = ", ".join(a for a, _ in axes)
    text = [
        *_va_header(model, name, corner, "$table_model flavour"),
        "  real u, lb, tc, y;",
        "  analog begin",
        "    tc = $temperature - 273.15;",
        "    lb = log(bias_a);  // Verilog-A log() is base 10",
        *_va_input(model),
        f'    y = $table_model({call}, "{tbl_name}", "{ctrl}");',
        f"    I(out) <+ {scale}y;",
        "  end",
        "endmodule",
    ]
    rows = [f"# sactk table for {name}: columns {' '.join(a for a, _ in axes)} y"]
    for t in range(len(model.temp_c_)):
        for b in range(len(model.log_bias_)):
            for i, u in enumerate(model.u_knots_):
                vals = [u]
                if len(model.log_bias_) > 1:
                    vals.append(model.log_bias_[b])
                if len(model.temp_c_) > 1:
                    vals.append(model.temp_c_[t])
                vals.append(model.table_[corner_index, t, b, i])
                rows.append(" ".join(num(v) for v in vals))
    return "\n".join(text) + "\n", "\n".join(rows) + "\n"


def verilog_a_explicit(model: LookupModel, corner_index: int) -> str:
    """The self-contained flavour: hat-function interpolation written out (OpenVAF)."""
    corner = str(model.corners_[corner_index])
    name = module_name(model, corner)
    lo, hi = num(model.u_knots_[0]), num(model.u_knots_[-1])
    nk, nb, nt = len(model.u_knots_), len(model.log_bias_), len(model.temp_c_)
    cond_body, cond_reals, wt, wb, ex = va_conditions(model.cond_)
    decl = ", ".join([f"hu{i}" for i in range(nk)] + cond_reals)
    body = [*cond_body, *_va_input(model), f"    u = min(max(u, {lo}), {hi});"]
    body += [f"    hu{i} = {w};" for i, w in enumerate(hat_terms("u", model.u_knots_))]
    body.append("    y = 0.0;")
    for t in range(nt):
        for b in range(nb):
            row = model.table_[corner_index, t, b]
            s = " + ".join(f"hu{i} * {num(v)}" for i, v in enumerate(row))
            body.append(f"    y = y + {wt[t]} * {wb[b]} * ({s});")
    for m, e in enumerate(ex):
        if e and np.any(model.coef_[corner_index, m]):
            s = " + ".join(f"hu{i} * {num(v)}" for i, v in enumerate(model.coef_[corner_index, m]))
            body.append(f"    y = y + {e} * ({s});")
    scale = "bias_a * " if model.out_per_bias_ else ""
    body.append(f"    iout = {scale}y;")
    body.append("    I(out) <+ iout;")
    text = [
        *_va_header(model, name, corner, "explicit interpolation (OpenVAF)"),
        "  real u;",
        f"  real {decl};",
        "  (*retrieve*) real y;",
        "  (*retrieve*) real iout;",
        "  analog begin",
        *body,
        "  end",
        "endmodule",
    ]
    return "\n".join(text) + "\n"


def to_verilog_a(model: LookupModel, folder: Path) -> list[Path]:
    """Both flavours for every corner into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for k, corner in enumerate(model.corners_):
        name = module_name(model, str(corner))
        tbl = f"{name}.tbl"
        va_tm, table = verilog_a_table(model, k, tbl)
        for fname, text in (
            (f"{name}_tm.va", va_tm),
            (tbl, table),
            (f"{name}.va", verilog_a_explicit(model, k)),
        ):
            written.append(write_text(folder / fname, text))
    return written


def evaluate_verilog_a(
    va_path: Path, u: ArrayLike, bias_a: ArrayLike, temp_c: ArrayLike
) -> np.ndarray:
    """Compile the explicit flavour with OpenVAF's front end (``verilogae``) and evaluate
    its output current ``iout`` at points."""
    try:
        import verilogae  # type: ignore[import-untyped]
    except ImportError as exc:
        raise SpecError("verilogae is not installed; pip install verilogae (dev extra)") from exc
    mod = verilogae.load(str(va_path))
    f = mod.functions["iout"]
    u, bias_a, temp_c = (np.asarray(a, float) for a in (u, bias_a, temp_c))
    kw: dict[str, Any] = {"temperature": temp_c + 273.15, "bias_a": bias_a}
    if f.currents:
        kw["currents"] = {next(iter(f.currents)): u}
    else:
        kw["voltages"] = {next(iter(f.voltages)): u}
    return np.asarray(f.eval(**kw), dtype=float)

"""Round-trip decks: an exported model in a fresh netlist, one instance per point, for
ngspice and for VACASK. The one writer of both decks, for every model kind: a model says
how its pins are driven (:meth:`Model.roundtrip_drive`), this module writes the text and
reads the outputs back; sactk.api.models runs the simulators.

Instance n has pins ``a<n>_<i>`` driven by ``iin<n>_<i>`` (a current into the pin) or
``vin<n>_<i>`` (a voltage on it), its output on ``o<n>`` held at 0 V by ``vo<n>``: what the
model sinks is what ``vo<n>`` supplies."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from sactk.analysis.exportfmt import num
from sactk.errors import SpecError


def _instances(values: np.ndarray, kinds: str, bias_a: np.ndarray, vacask: bool) -> list[str]:
    lines = []
    for n, (row, b) in enumerate(zip(values, bias_a, strict=True)):
        pins = [f"a{n}_{i}" for i in range(len(row))]
        for i, (pin, v, kind) in enumerate(zip(pins, row, kinds, strict=True)):
            if kind == "i":
                lines.append(
                    f"iin{n}_{i} (0 {pin}) isource dc={num(v)}"
                    if vacask
                    else f"iin{n}_{i} 0 {pin} dc {num(v)}"
                )
            else:
                lines.append(
                    f"vin{n}_{i} ({pin} 0) vsource dc={num(v)}"
                    if vacask
                    else f"vin{n}_{i} {pin} 0 dc {num(v)}"
                )
        if vacask:
            lines += [
                f"x{n} ({' '.join(pins)} o{n}) cellmodel bias_a={num(b)}",
                f"vo{n} (o{n} 0) vsource dc=0",
            ]
        else:
            lines += [f"x{n} {' '.join(pins)} o{n} {{name}} bias_a={num(b)}", f"vo{n} o{n} 0 0"]
    return lines


def ngspice_deck(
    name: str, include: Path, values: np.ndarray, kinds: str, bias_a: np.ndarray, temp_c: float
) -> str:
    """The subcircuit ``name`` from the file ``include`` once per row of ``values`` (P,
    pins), pin i driven as ``kinds[i]`` (``i`` current in A, ``v`` voltage), at ``bias_a``
    (P,) and ``temp_c``; output n is read as ``vo<n>#branch``."""
    body = [ln.replace("{name}", name) for ln in _instances(values, kinds, bias_a, False)]
    lines = [f"* sactk round trip of {name}", f'.include "{include.resolve()}"', *body]
    lines += [f".temp {num(temp_c)}", ".op", ".end"]
    return "\n".join(lines) + "\n"


def vacask_deck(
    name: str, osdi_name: str, values: np.ndarray, kinds: str, bias_a: np.ndarray, temp_c: float
) -> str:
    """:func:`ngspice_deck` for VACASK: the compiled module ``osdi_name`` loaded as model
    ``cellmodel`` (of module ``name``), one ``op0`` analysis at ``temp_c``; output n is the
    vector ``vo<n>:flow(br)``. Tight tolerances stop Newton exactly at a kink of a
    piecewise-linear model (the VACASK notes: one step past it otherwise)."""
    head = [
        f"sactk round trip of {name}",
        "ground 0",
        f'load "{osdi_name}"',
        "model isource isource",
        "model vsource vsource",
        f"model cellmodel {name}",
    ]
    tail = [
        "control",
        f"  options temp={num(temp_c)} reltol=1e-9 abstol=1e-20",
        "  analysis op0 op",
        "endc",
    ]
    return "\n".join(head + _instances(values, kinds, bias_a, True) + tail) + "\n"


def ngspice_outputs(output: str, points: int) -> np.ndarray:
    """What each instance of :func:`ngspice_deck` sinks (A), from the text ``ngspice -b``
    printed; a missing one is a SpecError with the simulator's last lines."""
    found = dict(re.findall(r"^\s*vo(\d+)#branch\s+(\S+)", output, flags=re.M))
    if len(found) != points:
        tail = output.strip().splitlines()[-3:]
        raise SpecError(f"ngspice round trip failed: {' | '.join(tail)}")
    return np.array([-float(found[str(n)]) for n in range(points)])  # vo supplies it


def vacask_outputs(vectors: dict[str, np.ndarray], points: int) -> np.ndarray:
    """What each instance of :func:`vacask_deck` sinks (A): minus the flow of its output
    source (VACASK's flow has ngspice's i(vo) sign)."""
    return np.array([-float(vectors[f"vo{n}:flow(br)"][0]) for n in range(points)])


# -- the output noise of an exported model -------------------------------------------------

SENSE_VA = """`include "disciplines.vams"
module sactk_sense(p, n);
  inout p, n;
  electrical p, n;
  analog begin
    I(p, n) <+ V(p, n);  // 1 ohm without noise: the output current's A^2/Hz as V^2/Hz
  end
endmodule
"""
"""A noiseless 1-ohm load for VACASK, whose noise analysis reads a node voltage."""


def _noise_source(line: str, vacask: bool) -> str:
    """The first input source of a deck, at small-signal magnitude 1."""
    return line + (" mag=1" if vacask else " ac 1")


def ngspice_noise_deck(
    name: str,
    include: Path,
    row: np.ndarray,
    kinds: str,
    bias_a: float,
    temp_c: float,
    span: tuple[float, float, int],
) -> str:
    """One instance of subcircuit ``name`` at inputs ``row``: ngspice's ``.noise`` of its
    output current (held at 0 V by ``vo0``, sensed by a 1-ohm CCVS) over ``span`` (fstart,
    fstop, points per decade), printed as A^2/Hz."""
    body = [
        ln.replace("{name}", name) for ln in _instances(row[None], kinds, np.array([bias_a]), False)
    ]
    body[0] = _noise_source(body[0], False)
    f0, f1, ppd = span
    lines = [f"* sactk noise round trip of {name}", f'.include "{include.resolve()}"', *body]
    lines += ["hsense ns 0 vo0 1", f".temp {num(temp_c)}", ".control", "set sqrnoise"]
    src = body[0].split()[0]
    lines += [f"noise v(ns) {src} dec {ppd} {num(f0)} {num(f1)}", "setplot noise1"]
    lines += ["print frequency onoise_spectrum", ".endc", ".end"]
    return "\n".join(lines) + "\n"


def ngspice_noise_outputs(output: str) -> tuple[np.ndarray, np.ndarray]:
    """(frequency, density) from what :func:`ngspice_noise_deck` printed."""
    rows = re.findall(r"^\d+\s+(\S+)\s+(\S+)\s*$", output, flags=re.M)
    if not rows:
        tail = output.strip().splitlines()[-3:]
        raise SpecError(f"ngspice noise round trip failed: {' | '.join(tail)}")
    f, s = np.array(rows, float).T
    return f, s


def vacask_noise_deck(
    name: str,
    osdi_names: tuple[str, str],
    row: np.ndarray,
    kinds: str,
    bias_a: float,
    temp_c: float,
    span: tuple[float, float, int],
) -> str:
    """:func:`ngspice_noise_deck` for VACASK: the module and the noiseless sense load
    (:data:`SENSE_VA`) compiled as ``osdi_names``; the analysis ``nz`` has ``onoise``."""
    lines = _instances(row[None], kinds, np.array([bias_a]), True)
    lines[0] = _noise_source(lines[0], True)
    lines = [ln for ln in lines if not ln.startswith("vo0")] + ["rs (o0 0) sense"]
    f0, f1, ppd = span
    src = lines[0].split()[0]
    head = [f"sactk noise round trip of {name}", "ground 0"]
    head += [f'load "{n}"' for n in osdi_names]
    head += ["model isource isource", "model vsource vsource", f"model cellmodel {name}"]
    head += ["model sense sactk_sense"]
    tail = ["control", f"  options temp={num(temp_c)}"]
    tail += [
        f'  analysis nz noise out="o0" in="{src}" from={num(f0)} to={num(f1)} mode="dec" '
        f"points={ppd}",
        "endc",
    ]
    return "\n".join(head + lines + tail) + "\n"

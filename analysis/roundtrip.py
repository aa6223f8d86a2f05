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

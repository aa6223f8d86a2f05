"""Building blocks shared by cells: sizing rules, cascoded sinks, cascode bias, clamps.

Every size is derived from the technology, so a builder sized for c180 is also sized for a
user's PDK without hand edits.
"""

from __future__ import annotations

from sactk.netlists.render import CurrentSource, Mosfet
from sactk.netlists.technology import Technology


def analog_l_um(tech: Technology) -> float:
    """Channel length for matched analog devices: 1 um or 4 Lmin, whichever is longer.

    Long channels keep DIBL and length modulation small; 1 um is a common floor for
    current-mode mirrors in 0.18 um processes (Razavi, Design of Analog CMOS ICs, ch. 5).
    """
    if tech.analog_l_um is not None:
        return tech.analog_l_um  # a FinFET process: 4 Lmin, not 1 um (netlists/finfet.py)
    return max(1.0, 4.0 * tech.lmin_um)


def analog_w_um(tech: Technology, l_um: float) -> float:
    """Width for the matched devices: W/L = 4, so 10 uA stays near moderate inversion."""
    return max(tech.wmin_um, 4.0 * l_um)


def matched_sizes(w_um: float | None, l_um: float | None, tech: Technology) -> tuple[float, float]:
    """(W, L) in um of a cell's matched devices: the given values, or :func:`analog_w_um` and
    :func:`analog_l_um`."""
    l_res = l_um if l_um is not None else analog_l_um(tech)
    w_res = w_um if w_um is not None else analog_w_um(tech, l_res)
    return w_res, l_res


def cascoded_sink(
    name: str,
    top: str,
    gate: str,
    casc_gate: str,
    w_um: float,
    l_um: float,
    casc_scale: float = 1.0,
) -> tuple[Mosfet, Mosfet]:
    """An NMOS sink (gate ``gate``) under a cascode (gate ``casc_gate``), drain ``top``.

    The cascode has the sink's W/L scaled in both W and L by ``casc_scale``: a longer cascode
    has more intrinsic gain, so the sink's drain moves less when ``top`` moves.
    Internal node: ``<name>_c``. Returns (sink, cascode).
    """
    mid = f"{name}_c"
    return (
        Mosfet(f"{name}s", mid, gate, "0", "0", "n", w_um, l_um),
        Mosfet(f"{name}c", top, casc_gate, mid, "0", "n", w_um * casc_scale, l_um * casc_scale),
    )


def cascode_bias(
    name: str,
    node: str,
    vdd: str,
    bias_a: float,
    w_um: float,
    l_um: float,
    tech: Technology | None = None,
) -> tuple[CurrentSource, Mosfet]:
    """Cascode gate voltage from a diode carrying ``bias_a`` with 1/16 of the sinks' W/L.

    A weaker diode sets the cascode gate about n U_T ln(16) (weak inversion) or 3 V_ov
    (strong inversion) above what the cascodes need, so the sinks under them keep
    V_DS > 4 U_T at every bias: a wide-swing cascode bias (Razavi ch. 5) that scales with the
    bias current instead of a fixed voltage. With ``tech``, the diode is never narrower than
    the technology's minimum width (sky130's 0.42 um; the W/L ratio then rises above 1/16).
    """
    w = w_um / 4.0 if tech is None else max(tech.wmin_um, w_um / 4.0)
    return (
        CurrentSource(f"{name}", vdd, node, bias_a),
        Mosfet(f"{name}d", node, node, "0", "0", "n", w, long_l_um(4.0 * l_um, tech)),
    )


def long_l_um(l_um: float, tech: Technology | None) -> float:
    """A long device's length, cut to the longest the technology's models cover (SG13G2's
    cards stop at 10 um, ASAP7's gates at 0.7 um): a bias diode or clamp that would be longer
    is drawn at that length (it then passes a little more current; its job, a gate voltage
    or a clamp, does not need more). Unchanged where the models have no limit."""
    if tech is None or tech.lmax_um is None:
        return l_um
    return min(l_um, tech.lmax_um)


def rectifier_w_um(w_um: float, tech: Technology) -> float:
    """Width of an MP rectifier: the technology's ``rectifier_w_um`` (narrower on ASAP7 and
    SG13G2), else the matched width ``w_um``. At 125 C and 30 nA a 5-fin ASAP7 rectifier,
    off at V_GS = 0, leaked 6.2 % of full scale out of the g node; one fin 1.3 %
    (docs/cells.md)."""
    return w_um if tech.rectifier_w_um is None else tech.rectifier_w_um


def off_clamp(name: str, node: str, tech: Technology, l_um: float) -> list[Mosfet]:
    """A normally-off NMOS (gate and drain at ground) that conducts only if ``node`` goes
    below ground by a threshold. It keeps Newton's method away from absurd negative operating
    points on high-impedance nodes drained by an ideal current (docs/ngspice.md, convergence
    on GF180MCU).
    Minimum width and 4x length keep its leakage far below a 10 nA bias. None where the
    technology says the node may sit below ground (``tech.off_clamp``, SG13G2)."""
    if not tech.off_clamp:
        return []
    return [Mosfet(name, "0", "0", node, "0", "n", tech.wmin_um, long_l_um(4.0 * l_um, tech))]


def high_clamp(name: str, node: str, vdd: str, tech: Technology, l_um: float) -> Mosfet:
    """A normally-off diode-connected NMOS from ``node`` to the supply: it conducts only if
    ``node`` rises a threshold (with body effect) above VDD. Newton's method otherwise found
    operating points with a current-fed diode node at +15 kV (compressive memory, -40 C,
    10 uA) - the upward twin of :func:`off_clamp`."""
    return Mosfet(name, node, node, vdd, "0", "n", tech.wmin_um, long_l_um(4.0 * l_um, tech))

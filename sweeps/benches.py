"""Test benches derived from a cell's: a step response for ``[tran]`` and small-signal
benches for ``[noise]`` and ``[ac]`` (the sweep planner, sweeps/plan.py, makes jobs of them)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from sactk.circuits.base import Bench, Probe, ProbeRole
from sactk.errors import SpecError
from sactk.netlists.render import Ccvs, CurrentSource, Netlist, VoltageSource, instance_name
from sactk.sweeps.spec import AcSpec, NoiseSpec, TranSpec


@dataclass(frozen=True)
class TranSetup:
    """A step response: run ``tran`` and reduce the output waveform to scalars."""

    t_stop_s: float
    t_max_s: float
    t_step_s: float
    """When the input starts to step."""
    tolerance: float
    """Settling band as a fraction of the final value."""
    output: Probe
    """The probe whose waveform must settle (scaled like its DC column)."""
    also: tuple[Probe, ...] = ()
    """Further probes whose waveforms must settle in the same transient: ``settle_s`` is the
    latest of all (a layer's neurons from one run instead of one run each)."""
    sources: tuple[str, ...] = ()
    """Instance names of the stepped sources: their DC values are set to ``final`` for the
    operating point that gives the true final value, then back to ``initial``."""
    initial: tuple[float, ...] = ()
    final: tuple[float, ...] = ()


def logical(bench: Bench, norm: np.ndarray, bias_a: float) -> np.ndarray:
    """Normalized vectors -> input column values: currents (``_a``) scale with the bias."""
    unit = np.array([bias_a if c.endswith("_a") else 1.0 for c in bench.inputs])
    return norm * unit


def tran_bench(bench: Bench, tr: TranSpec, bias_a: float) -> tuple[Bench, np.ndarray, TranSetup]:
    """The bench with input ``tr.input`` stepped (every source it drives becomes a PWL step),
    the final input values, and the setup."""
    cols = bench.inputs
    if tr.input >= len(cols):
        raise SpecError(f"tran.input: must be below the cell's {len(cols)} inputs")
    if not all(c.endswith("_a") for c in cols):
        raise SpecError("tran: this cell's inputs are not currents; remove the [tran] section")
    if tr.from_ratio == tr.to_ratio:
        raise SpecError("tran.to_ratio: must differ from tran.from_ratio to make a step")
    t_stop = tr.window_as / bias_a
    t_step = 0.1 * t_stop
    t_rise = 1e-3 * t_stop
    start = np.full((1, len(cols)), tr.hold_ratio)
    start[0, tr.input] = tr.from_ratio
    end = start.copy()
    end[0, tr.input] = tr.to_ratio
    final = logical(bench, end, bias_a)[0]
    lo = bench.drive(logical(bench, start, bias_a))[0]
    hi = bench.drive(final[None, :])[0]
    netlist, stepped = step_sources(bench.netlist, bench.sources, lo, hi, t_step, t_rise)
    netlist = replace(netlist, method="gear")
    setup = TranSetup(
        t_stop_s=t_stop,
        t_max_s=t_stop / tr.points,
        t_step_s=t_step,
        tolerance=tr.tolerance,
        output=bench.probes[0],
        sources=tuple(bench.sources[i] for i in stepped),
        initial=tuple(float(lo[i]) for i in stepped),
        final=tuple(float(hi[i]) for i in stepped),
    )
    return replace(bench, netlist=netlist), final, setup


def step_sources(
    netlist: Netlist,
    sources: tuple[str, ...],
    lo: np.ndarray,
    hi: np.ndarray,
    t_step_s: float,
    t_rise_s: float,
) -> tuple[Netlist, list[int]]:
    """The netlist with current source ``sources[i]`` (an instance name, ``iin0``) stepped
    from ``lo[i]`` to ``hi[i]`` at ``t_step_s`` in ``t_rise_s`` (a PWL step; a source with
    lo == hi is held at it), and the indices of the stepped sources. The one place a step
    input is written (cells' [tran] and the layer's step response)."""
    src_index = {name: i for i, name in enumerate(sources)}
    stepped: list[int] = []
    els = []
    for e in netlist.elements:
        i = src_index.get(instance_name(e, netlist.tech), -1)
        if i >= 0:
            if not isinstance(e, CurrentSource):
                raise SpecError("tran: this cell's inputs are not current sources; remove [tran]")
            if lo[i] != hi[i]:
                stepped.append(i)
                pwl = ((0.0, lo[i]), (t_step_s, lo[i]), (t_step_s + t_rise_s, hi[i]))
                e = replace(e, dc_a=float(lo[i]), pwl=tuple((t, float(v)) for t, v in pwl))
            else:
                e = replace(e, dc_a=float(lo[i]))
        els.append(e)
    return replace(netlist, elements=tuple(els)), stepped


def n_freq(fstart_hz: float, fstop_hz: float, points_per_decade: int) -> int:
    """Frequencies ngspice reports for a ``dec`` sweep: points per decade over the span,
    plus the first."""
    decades = np.log10(fstop_hz / fstart_hz)
    return int(np.floor(points_per_decade * decades + 1e-9)) + 1


@dataclass(frozen=True)
class NoiseSetup:
    """A ``noise`` analysis per point: ngspice's ``noise <output> <source> dec ...``."""

    output: str
    """The output expression (``v(nsense)``: the main output current through a 1-ohm CCVS)."""
    source: str
    """The input source's instance name (it carries ``ac 1``)."""
    fstart_hz: float
    fstop_hz: float
    points_per_decade: int
    scale2: float = 1.0
    """The main probe's scale squared (its density is scale^2 times the sensed one)."""
    out_unit: str = "a2_hz"
    """``a2_hz`` for a current output, ``v2_hz`` for a voltage."""
    in_unit: str = "a2_hz"

    @property
    def n_freq(self) -> int:
        return n_freq(self.fstart_hz, self.fstop_hz, self.points_per_decade)


@dataclass(frozen=True)
class AcSetup:
    """An ``ac`` analysis per point: ngspice's ``ac dec ...`` with the input source at
    ``ac 1``; the transfer is ``scale * (vectors[0] - vectors[1])``."""

    vectors: tuple[str, ...]
    fstart_hz: float
    fstop_hz: float
    points_per_decade: int
    scale: float = 1.0
    unit: str = ""
    """The transfer's unit suffix: ``""`` (A/A, V/V), ``_ohm`` (V/A) or ``_s`` (A/V)."""

    @property
    def n_freq(self) -> int:
        return n_freq(self.fstart_hz, self.fstop_hz, self.points_per_decade)


def _small_signal(bench: Bench, index: int, section: str) -> tuple[Bench, str, bool, Probe]:
    """The bench with input ``index``'s source at ``ac 1`` and its main output, if a
    current, sensed by a 1-ohm CCVS into node ``nsense`` (minus a second for a differential
    output). Returns (bench, source, whether the input is a current, the main probe)."""
    tech = bench.netlist.tech
    if index >= len(bench.sources):
        raise SpecError(f"{section}.input: must be below the cell's {len(bench.sources)} sources")
    src = bench.sources[index]
    els, current_in = [], True
    for e in bench.netlist.elements:
        if isinstance(e, CurrentSource | VoltageSource) and instance_name(e, tech) == src:
            e = replace(e, ac=1.0)
            current_in = isinstance(e, CurrentSource)
        els.append(e)
    probe: Probe = bench.probes[0]
    if probe.role == ProbeRole.CURRENT:
        minus = probe.minus
        els.append(Ccvs("sense", "nsense" if not minus else "nsense1", "0", probe.target))
        if minus:
            els.append(Ccvs("sensem", "nsense", "nsense1", minus, -1.0))
    return (
        replace(bench, netlist=replace(bench.netlist, elements=tuple(els))),
        src,
        current_in,
        probe,
    )


def noise_bench(bench: Bench, ns: NoiseSpec) -> tuple[Bench, NoiseSetup]:
    """The bench with its noise input (``ns.input``) at ``ac 1`` and its main output sensed:
    a current output through a 1-ohm CCVS on its held source (minus a second for a
    differential output), a voltage output read directly."""
    nb, src, current_in, probe = _small_signal(bench, ns.input, "noise")
    if probe.role == ProbeRole.CURRENT:
        output, out_unit = "v(nsense)", "a2_hz"
    else:
        output = f"v({probe.target}, {probe.minus})" if probe.minus else f"v({probe.target})"
        out_unit = "v2_hz"
    setup = NoiseSetup(
        output=output,
        source=src,
        fstart_hz=ns.fstart_hz,
        fstop_hz=ns.fstop_hz,
        points_per_decade=ns.points_per_decade,
        scale2=probe.scale**2,
        out_unit=out_unit,
        in_unit="a2_hz" if current_in else "v2_hz",
    )
    return nb, setup


def ac_bench(bench: Bench, ac: AcSpec) -> tuple[Bench, AcSetup]:
    """The bench with input ``ac.input`` at ``ac 1`` and its main output read as a complex
    transfer (a current through the 1-ohm sense, a voltage directly)."""
    nb, _, current_in, probe = _small_signal(bench, ac.input, "ac")
    current_out = probe.role == ProbeRole.CURRENT
    if current_out:
        vectors: tuple[str, ...] = ("v(nsense)",)
    else:
        vectors = (f"v({probe.target})",) + ((f"v({probe.minus})",) if probe.minus else ())
    unit = {(True, True): "", (False, False): "", (True, False): "_ohm", (False, True): "_s"}
    setup = AcSetup(
        vectors=vectors,
        fstart_hz=ac.fstart_hz,
        fstop_hz=ac.fstop_hz,
        points_per_decade=ac.points_per_decade,
        scale=probe.scale,
        unit=unit[(current_in, current_out)],
    )
    return nb, setup

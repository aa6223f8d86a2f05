"""A whole S-AC hidden layer as one transistor netlist: the network the runner stands for.

A neuron j computes h_j = tanh-cell(gain * sum_b IP_b(x_b, w_jb)) (system/sac.py). Here every
current that the cell benches take from ideal sources comes from transistors, except the
weights (stored currents: the compressive memory is its own cell) and the three references
a chip takes from outside (the bias current and the input currents):

* **Fan-out.** Input x_d (in gamma, |x_d| <= ``x_cm``) arrives as two currents
  (x_cm + x_d) and (x_cm - x_d) into PMOS diodes; PMOS outputs copy each into the two terms
  of every inner-product unit that sees it (2 H copies of each polarity). Inner-product term
  k of a unit is then the weight's current (c - x_cm +- w) plus one copy, which is c +- w +- x
  as the cell's encoding wants (circuits/inner.py).
* **Inter-stage mirror.** The B blocks of a neuron share two output nodes: their z+ sinks
  draw Zp from one node, their z- sinks Zn from another. At each node a PMOS bias copy
  supplies a constant k and a PMOS diode the rest, Zp - k (Zn - k); PMOS copies of ratio
  ``gain`` of the diodes feed the tanh cell's terms h + gain (Zp - k), gain (Zn - k) (its
  P unit) and h + gain (Zn - k), gain (Zp - k) (its N unit). That is the cell's encoding
  c + x/2, c - h - x/2, c - x/2, c - h + x/2 with x = gain (Zp - Zn) and a common mode
  c = h + gain ((Zp + Zn)/2 - k), which MP passes through (MP(a + k, b + k) =
  MP(a, b) + k) and the output z_P - z_N cancels. k (:meth:`LayerParams.z_shift`) puts that
  common mode at the cell's own c_ratio at rest. Every unit output is at least
  c_ip - 1/2N (the terms of a unit sum to 2N c_ip), so the diodes never turn off.
  Only PMOS copies reach the cell: an NMOS copy sinking from a term node (to subtract)
  leaves saturation when that node collapses below the water level, so the term near the
  kink is not the copy's measured current (it cost 0.16 in R2 at 10 uA); without k the
  cell's terms reach 6.4 gamma and its PMOS feeds leave saturation at 10 uA.
* **Bias distribution.** The chip's bias generator gives gamma into an NMOS master diode
  and out of a PMOS one; NMOS outputs sink every MP unit's gamma, PMOS outputs source every
  cascode-bias current and the activation's constants c and c - h (widths c and c - h
  times a unit device).

Every mirror device is W/L ``mirror_w_um``/``mirror_l_um`` per unit of ratio (default 8x
wider and 4x longer than the cells' matched devices: 32x their area, so 1/5.7 of their
threshold mismatch (Pelgrom, IEEE JSSC 1989); 4x longer for less channel-length
modulation; W/L 8 so the ratio-4 copies keep their saturation margin at 10 uA, where W/L 4
left 40 uA copies at the edge of saturation and the layer check's RMS error at 0.5 %
instead of 0.3 %; Razavi ch. 5).

**Same devices everywhere.** Each inner-product block and activation cell is the cell's
own bench (``inner.build``, ``shape.build``) with its sources replaced and its nodes
renamed: its transistors, in the bench's order, are the devices whose Pelgrom draws a
Monte Carlo sweep of that cell takes. So chip c's block i = j B + b is instance c H B + i
of the inner-product sweep (seed of its ``mc.seed``), its activation j is instance c H + j
of the tanh sweep, and the mirrors are instance c of their own seed; the fitted
per-instance models describe exactly the devices this netlist simulates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from sactk.circuits import inner, shape
from sactk.circuits.base import Probe
from sactk.circuits.primitives import analog_l_um, analog_w_um
from sactk.circuits.topology import Feed, Kind, Part, Signal, SourceRole, Topology
from sactk.errors import SpecError
from sactk.netlists.mismatch import Alter, pelgrom_alters
from sactk.netlists.render import (
    CurrentSource,
    Element,
    Mosfet,
    Netlist,
    VoltageSource,
)
from sactk.netlists.technology import Technology


@dataclass(frozen=True)
class LayerParams:
    """An S-AC hidden layer: D inputs, H tanh neurons of B = ceil(D / N) inner products."""

    n_features: int
    hidden: int
    ip: inner.Params = field(default_factory=lambda: inner.Params(n_inputs=4))
    act: shape.Params = field(default_factory=shape.Params)
    gain: float = 4.0
    """Inter-stage mirror ratio: the activation's input is gain * (Zp - Zn)."""
    x_cm: float = 0.5
    """Common mode of each input's current pair, in gamma."""
    mirror_w_um: float | None = None
    mirror_l_um: float | None = None

    def __post_init__(self) -> None:
        for name in ("n_features", "hidden"):
            v = getattr(self, name)
            if not isinstance(v, int) or not 1 <= v <= 256:
                raise SpecError(f"layer.{name}: must be an integer from 1 to 256")
        if self.act.shape != "tanh":
            raise SpecError("layer.activation: the layer netlist supports tanh neurons only")
        if not 0 < self.x_cm < self.ip.c_ratio:
            raise SpecError("layer.x_cm: must be between 0 and the inner product's c_ratio")
        if not 0 < self.gain <= 32:
            raise SpecError("layer.gain: must be in (0, 32]")
        if self.z_shift() <= 0:
            raise SpecError(
                "layer.gain: the tanh cell's c_ratio - h_ratio exceeds gain x the inner "
                "products' rest output; raise the gain or lower the cell's c_ratio"
            )

    def z_shift(self) -> float:
        """k (gamma): the constant taken off Zp and Zn before the copies, so that at rest
        (every block's units at c_ip - 1/2N) the tanh cell's terms are its own encoding at
        its c_ratio: h + gain (B z0 - k) = c_act."""
        z0 = inner.rest_output(self.ip)
        return self.blocks * z0 - (self.act.c_ratio - self.act.h_ratio) / self.gain

    @property
    def topology(self) -> Topology:
        """The layer's sizes and instance map, read by every consumer."""
        return Topology(self.n_features, self.hidden, self.ip.n_inputs)

    @property
    def blocks(self) -> int:
        return self.topology.blocks

    def mirror_size(self, tech: Technology) -> tuple[float, float]:
        l_um = self.mirror_l_um or 4.0 * analog_l_um(tech)
        return self.mirror_w_um or 8.0 * analog_w_um(tech, analog_l_um(tech)), l_um

    def w_limit(self) -> float:
        """Largest |w| (gamma) the term currents c - x_cm - |w| >= 0 allow."""
        return self.ip.c_ratio - self.x_cm


@dataclass(frozen=True)
class Output:
    """One mirror output: which device, what it copies (``signal``, its index) at ``ratio``,
    and where its current goes (``feed``)."""

    device: str
    signal: Signal
    index: int
    ratio: float
    node: str
    """The node it drives in the network."""
    kind: str
    """``n`` (sinks current from ``node``) or ``p`` (sources into it)."""
    feed: Feed


@dataclass
class _Builder:
    p: LayerParams
    tech: Technology
    bias_a: float
    elements: list[Element] = field(default_factory=list)
    mirrors: list[Mosfet] = field(default_factory=list)
    outputs: list[Output] = field(default_factory=list)

    def mirror(self, m: Mosfet) -> None:
        self.mirrors.append(m)
        self.elements.append(m)

    def out(
        self,
        name: str,
        node: str,
        kind: str,
        gate: str,
        signal: Signal,
        index: int,
        ratio: float,
        feed: Feed,
    ) -> None:
        w, ll = self.p.mirror_size(self.tech)
        rail = "vdd" if kind == "p" else "0"
        self.mirror(Mosfet(name, node, gate, rail, rail, kind, ratio * w, ll))
        self.outputs.append(Output(name, signal, index, ratio, node, kind, feed))

    def diode(self, name: str, node: str, kind: str) -> None:
        w, ll = self.p.mirror_size(self.tech)
        rail = "vdd" if kind == "p" else "0"
        self.mirror(Mosfet(name, node, node, rail, rail, kind, w, ll))


@dataclass(frozen=True)
class Group:
    """Transistors drawn together: one Monte Carlo instance of one cell (or the mirrors)."""

    kind: Kind
    position: int
    """Block i = j B + b, neuron j, or 0 for the mirrors."""
    devices: tuple[Mosfet, ...]


@dataclass(frozen=True)
class Layer:
    """The layer netlist, how to drive it and what to read."""

    netlist: Netlist
    sources: tuple[str, ...]
    """Input sources: ixp0..ixp{D-1}, then ixn0..ixn{D-1}."""
    probes: tuple[Probe, ...]
    """h0_a..h{H-1}_a: each neuron's differential output current."""
    groups: tuple[Group, ...]
    outputs: tuple[Output, ...]
    """Every mirror output, in mirror-device order."""
    params: LayerParams
    bias_a: float

    def drive(self, X: np.ndarray) -> np.ndarray:
        """(S, D) inputs in gamma -> (S, 2 D) source currents in A."""
        x = np.asarray(X, float)
        return np.concatenate([self.params.x_cm + x, self.params.x_cm - x], axis=1) * self.bias_a

    def alters(self, seeds: dict[str, int], chip: int) -> tuple[Alter, ...]:
        """The Pelgrom alters of chip ``chip``: every cell instance and the mirrors, with the
        seed of their kind (``seeds[kind]``)."""
        topo = self.params.topology
        out: list[Alter] = []
        for g in self.groups:
            index = int(topo.instance(g.kind, chip, g.position))
            out.extend(pelgrom_alters(g.devices, self.netlist.tech, seeds[g.kind], index))
        return tuple(out)


def _place(
    bench_elements: tuple[Element, ...],
    prefix: str,
    nodes: dict[str, str],
    replace_source: Callable[[CurrentSource], list[Element]],
    keep_voltage: tuple[str, ...] = (),
) -> tuple[list[Element], tuple[Mosfet, ...]]:
    """A cell's bench inside the network: transistors renamed ``prefix`` + name, nodes
    renamed by ``nodes`` (else prefixed; 0 and vdd kept), current sources replaced."""

    def node(n: str) -> str:
        return n if n in ("0", "vdd") else nodes.get(n, prefix + n)

    out: list[Element] = []
    devices: list[Mosfet] = []
    for e in bench_elements:
        if isinstance(e, Mosfet):
            m = replace(e, name=prefix + e.name, d=node(e.d), g=node(e.g), s=node(e.s))
            m = replace(m, b=node(e.b))
            devices.append(m)
            out.append(m)
        elif isinstance(e, CurrentSource):
            out.extend(replace_source(e))
        elif isinstance(e, VoltageSource) and e.name in keep_voltage:
            out.append(replace(e, name=prefix + e.name, p=node(e.p)))
        elif not isinstance(e, VoltageSource):
            raise SpecError(f"layer: unexpected element {e.name!r} in a cell bench")
    return out, tuple(devices)


def build_layer(
    params: LayerParams,
    tech: Technology,
    weights: np.ndarray,
    *,
    bias_a: float,
    temp_c: float = 27.0,
    corner: str = "tt",
) -> Layer:
    """The layer netlist with weights (H, D) in gamma; inputs at x = 0 until altered."""
    p = params
    topo = p.topology
    n, h, d, nb = p.ip.n_inputs, p.hidden, p.n_features, p.blocks
    w = np.asarray(weights, float)
    if w.shape != (h, d):
        raise SpecError(f"layer: weights must have shape ({h}, {d}), not {w.shape}")
    if np.abs(w).max(initial=0.0) > p.w_limit() + 1e-12:
        raise SpecError(
            f"layer: |w| reaches {np.abs(w).max():g} gamma; the encoding allows "
            f"{p.w_limit():g} (ip.c_ratio - x_cm)"
        )
    bld = _Builder(p, tech, bias_a)
    els = bld.elements
    els.append(VoltageSource("dd", "vdd", "0", tech.vdd_v))
    # bias distribution: the chip's bias generator gives gamma into an NMOS master diode and
    # out of a PMOS one (a copy of one into the other would carry the copy's channel-length
    # error, 8 % on c180, into every constant)
    els.append(CurrentSource("bias", "vdd", "nb", bias_a))
    els.append(CurrentSource("biasp", "pb", "0", bias_a))
    bld.diode("bn", "nb", "n")
    bld.diode("bp", "pb", "p")
    # fan-out: each input's two currents into PMOS diodes
    for k in range(d):
        els.append(CurrentSource(f"xp{k}", f"fp{k}", "0", p.x_cm * bias_a))
        els.append(CurrentSource(f"xn{k}", f"fn{k}", "0", p.x_cm * bias_a))
        bld.diode(f"fdp{k}", f"fp{k}", "p")
        bld.diode(f"fdn{k}", f"fn{k}", "p")
    groups: list[Group] = []
    ip_bench = inner.build(p.ip, tech, bias_a=bias_a, corner=corner, temp_c=temp_c)
    act_bench = shape.build(p.act, tech, bias_a=bias_a, corner=corner, temp_c=temp_c)
    c = p.ip.c_ratio
    h_c = p.act.h_ratio
    # tanh terms: (constant in gamma, the Z it copies at ratio gain)
    # (unit, term) -> (constant in gamma, the Z it copies at ratio gain)
    plans = {
        (0, 0): (h_c, Signal.ZP),
        (0, 1): (0.0, Signal.ZN),
        (1, 0): (h_c, Signal.ZN),
        (1, 1): (0.0, Signal.ZP),
    }
    for j in range(h):
        for b in range(nb):
            pre = f"b{j}_{b}_"

            def ip_source(
                e: CurrentSource, pre: str = pre, j: int = j, b: int = b
            ) -> list[Element]:
                role = _role(ip_bench.roles, e)
                feed = Feed(Kind.INNER_PRODUCT, role.part, j, b, role.unit, role.term)
                if role.part is Part.CASCODE:
                    bld.out(pre + "cb", pre + "vc", "p", "pb", Signal.ONE, 0, 1.0, feed)
                    return []
                if role.part is Part.GAMMA:
                    bld.out(pre + e.name, pre + e.p, "n", "nb", Signal.ONE, 0, 1.0, feed)
                    return []
                k = role.term
                col = topo.column(b, k)
                node = pre + e.n
                if col >= d:  # padding: x = w = 0, the term is the common mode
                    return [CurrentSource(pre + e.name, "vdd", node, c * bias_a)]
                wk = float(w[j, col])
                sw = 1.0 if k < n else -1.0
                sx = sw * (1.0 if role.unit == 0 else -1.0)
                sig, gate = (Signal.XP, f"fp{col}") if sx > 0 else (Signal.XN, f"fn{col}")
                bld.out(pre + "f" + e.name, node, "p", gate, sig, col, 1.0, feed)
                return [CurrentSource(pre + e.name, "vdd", node, (c - p.x_cm + sw * wk) * bias_a)]

            els_b, devs = _place(
                ip_bench.netlist.elements,
                pre,
                {"outp": f"sp{j}", "outn": f"sn{j}"},
                ip_source,
            )
            els.extend(els_b)
            groups.append(Group(Kind.INNER_PRODUCT, j * nb + b, devs))
        # inter-stage mirror of neuron j
        bld.diode(f"isp{j}", f"sp{j}", "p")
        bld.diode(f"isn{j}", f"sn{j}", "p")
        for u, side in enumerate("pn"):
            shift = Feed(Kind.INNER_PRODUCT, Part.SHIFT, j, unit=u)
            bld.out(f"ik{side}{j}", f"s{side}{j}", "p", "pb", Signal.ONE, 0, p.z_shift(), shift)
        pre = f"a{j}_"

        def act_source(e: CurrentSource, pre: str = pre, j: int = j) -> list[Element]:
            role = _role(act_bench.roles, e)
            feed = Feed(Kind.TANH, role.part, j, 0, role.unit, role.term)
            if role.part is Part.CASCODE:
                bld.out(pre + "cb", pre + "vc", "p", "pb", Signal.ONE, 0, 1.0, feed)
            elif role.part is Part.GAMMA:
                bld.out(pre + e.name, pre + e.p, "n", "nb", Signal.ONE, 0, 1.0, feed)
            else:
                const, src = plans[(role.unit, role.term)]
                node = pre + e.n
                if const > 0:
                    cf = Feed(Kind.TANH, Part.CONST, j, 0, role.unit, role.term)
                    bld.out(pre + e.name + "c", node, "p", "pb", Signal.ONE, 0, const, cf)
                gate = f"sp{j}" if src is Signal.ZP else f"sn{j}"
                bld.out(pre + e.name + "p", node, "p", gate, src, j, p.gain, feed)
            return []

        els_a, devs = _place(
            act_bench.netlist.elements, pre, {}, act_source, keep_voltage=("outp", "outn")
        )
        els.extend(els_a)
        groups.append(Group(Kind.TANH, j, devs))
    groups.insert(0, Group(Kind.MIRRORS, 0, tuple(bld.mirrors)))
    netlist = Netlist(
        title=f"sactk S-AC layer, {d} inputs x {h} tanh neurons",
        tech=tech,
        corner=corner,
        temp_c=temp_c,
        elements=tuple(els),
    )
    probes = tuple(
        Probe.current(f"h{j}_a", f"va{j}_outp", -1.0, minus=f"va{j}_outn") for j in range(h)
    )
    return Layer(
        netlist=netlist,
        sources=tuple(f"ixp{k}" for k in range(d)) + tuple(f"ixn{k}" for k in range(d)),
        probes=probes,
        groups=tuple(groups),
        outputs=tuple(bld.outputs),
        params=p,
        bias_a=bias_a,
    )


def _role(roles: Mapping[str, SourceRole], e: CurrentSource) -> SourceRole:
    """The bench role of current source ``e``; a source without one cannot be placed."""
    role = roles.get(e.name)
    if role is None:
        raise SpecError(f"layer: unexpected source {e.name!r} in a cell bench (no role)")
    return role


@dataclass(frozen=True)
class MirrorBench:
    """The layer's mirrors alone (:func:`mirror_bench`): the netlist, the probes ``o{i}_a``
    of the measured outputs, the signal each driven current source stands for, and the
    held sources of the outputs that feed tanh terms (their conductance is measured)."""

    netlist: Netlist
    probes: tuple[Probe, ...]
    signals: tuple[tuple[str, Signal], ...]
    """(current source element name, the signal it carries), in netlist order."""
    act_feeds: tuple[str, ...]
    """Held voltage sources (element names) of the outputs that feed tanh terms."""


def mirror_bench(
    layer: Layer, levels: Mapping[Signal, float], held_v: Callable[[Output], float]
) -> MirrorBench:
    """The layer's mirror devices alone (same names, sizes and order, so the same draws):
    every signal at ``levels[signal]`` gamma (``ONE`` is the bias), every output's drain
    on its own node held at ``held_v(output)``; probes ``o{i}_a`` read each output's current
    (positive: into its node for a PMOS, out of it for an NMOS)."""
    p, bias = layer.params, layer.bias_a
    tech = layer.netlist.tech
    outs = {o.device: i for i, o in enumerate(layer.outputs)}
    els: list[Element] = [VoltageSource("dd", "vdd", "0", tech.vdd_v)]
    els.append(CurrentSource("bias", "vdd", "nb", bias))
    els.append(CurrentSource("biasp", "pb", "0", bias))
    signals: list[tuple[str, Signal]] = []
    # each input's two currents into its fan-out diodes, each neuron's Zp and Zn into its
    # inter-stage diodes: (source, node, signal), in the netlist's order
    drives = [(f"x{s}{k}", f"f{s}{k}", sig) for k in range(p.n_features)
              for s, sig in (("p", Signal.XP), ("n", Signal.XN))]  # fmt: skip
    drives += [(f"z{s}{j}", f"s{s}{j}", sig) for j in range(p.hidden)
               for s, sig in (("p", Signal.ZP), ("n", Signal.ZN))]  # fmt: skip
    for name, node, sig in drives:
        els.append(CurrentSource(name, node, "0", levels[sig] * bias))
        signals.append((name, sig))
    group = next(g for g in layer.groups if g.kind is Kind.MIRRORS)
    held = set(held_outputs(layer))
    probes: list[Probe] = []
    act_feeds: list[str] = []
    for m in group.devices:
        i = outs.get(m.name)
        if i is None or i not in held:
            els.append(m)  # diodes, and the copies that feed other diodes, stay wired
            continue
        o = layer.outputs[i]
        els.append(replace(m, d=f"o{i}"))
        els.append(VoltageSource(f"o{i}", f"o{i}", "0", held_v(o)))
        sign = 1.0 if o.kind == "p" else -1.0  # a PMOS pushes current into the held source
        probes.append(Probe.current(f"o{i}_a", f"vo{i}", sign))
        if o.feed.stage is Kind.TANH and o.feed.part in (Part.TERM, Part.CONST):
            act_feeds.append(f"o{i}")
    netlist = Netlist(
        title="sactk S-AC layer mirrors",
        tech=tech,
        corner=layer.netlist.corner,
        temp_c=layer.netlist.temp_c,
        elements=tuple(els),
    )
    return MirrorBench(netlist, tuple(probes), tuple(signals), tuple(act_feeds))


def held_outputs(layer: Layer) -> list[int]:
    """Indices of the outputs :func:`mirror_bench` measures (not the wired internal ones)."""
    # the shifts stay wired: the copies of Zp and Zn include them
    return [i for i, o in enumerate(layer.outputs) if o.feed.part is not Part.SHIFT]

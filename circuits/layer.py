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

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from sactk.circuits import inner, shape
from sactk.circuits.base import Probe
from sactk.circuits.primitives import analog_l_um, analog_w_um
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

SIGNALS = ("one", "xp", "xn", "zp", "zn")
"""What a mirror output copies: the bias (``one``, a constant 1 gamma), an input's positive
or negative current, a neuron's summed z+ or z- current."""


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
        z0 = self.ip.c_ratio - 1.0 / (2 * self.ip.n_inputs)
        return self.blocks * z0 - (self.act.c_ratio - self.act.h_ratio) / self.gain

    @property
    def blocks(self) -> int:
        return -(-self.n_features // self.ip.n_inputs)

    def mirror_size(self, tech: Technology) -> tuple[float, float]:
        l_um = self.mirror_l_um or 4.0 * analog_l_um(tech)
        return self.mirror_w_um or 8.0 * analog_w_um(tech, analog_l_um(tech)), l_um

    def w_limit(self) -> float:
        """Largest |w| (gamma) the term currents c - x_cm - |w| >= 0 allow."""
        return self.ip.c_ratio - self.x_cm


@dataclass(frozen=True)
class Output:
    """One mirror output: which device, what it copies (``signal``, its index) at ``ratio``."""

    device: str
    signal: str
    index: int
    ratio: float
    node: str
    """The node it drives in the network."""
    kind: str
    """``n`` (sinks current from ``node``) or ``p`` (sources into it)."""


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
        self, name: str, node: str, kind: str, gate: str, signal: str, index: int, ratio: float
    ) -> None:
        w, ll = self.p.mirror_size(self.tech)
        rail = "vdd" if kind == "p" else "0"
        self.mirror(Mosfet(name, node, gate, rail, rail, kind, ratio * w, ll))
        self.outputs.append(Output(name, signal, index, ratio, node, kind))

    def diode(self, name: str, node: str, kind: str) -> None:
        w, ll = self.p.mirror_size(self.tech)
        rail = "vdd" if kind == "p" else "0"
        self.mirror(Mosfet(name, node, node, rail, rail, kind, w, ll))


@dataclass(frozen=True)
class Group:
    """Transistors drawn together: one Monte Carlo instance of one cell (or the mirrors)."""

    kind: str
    """``inner_product``, ``tanh`` or ``mirrors``."""
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
        p = self.params
        per = {"inner_product": p.hidden * p.blocks, "tanh": p.hidden, "mirrors": 1}
        out: list[Alter] = []
        for g in self.groups:
            index = chip * per[g.kind] + g.position
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
    plans = {"sp0": (h_c, "zp"), "sp1": (0.0, "zn"), "sn0": (h_c, "zn"), "sn1": (0.0, "zp")}
    for j in range(h):
        for b in range(nb):
            pre = f"b{j}_{b}_"

            def ip_source(
                e: CurrentSource, pre: str = pre, j: int = j, b: int = b
            ) -> list[Element]:
                if e.name == "cb":
                    bld.out(pre + "cb", pre + "vc", "p", "pb", "one", 0, 1.0)
                    return []
                if e.name.endswith("gam"):
                    bld.out(pre + e.name, pre + e.p, "n", "nb", "one", 0, 1.0)
                    return []
                unit, k = e.name[1], int(e.name[2:])  # s{p|n}{k}
                col = b * n + (k % n)
                node = pre + e.n
                if col >= d:  # padding: x = w = 0, the term is the common mode
                    return [CurrentSource(pre + e.name, "vdd", node, c * bias_a)]
                wk = float(w[j, col])
                sw = 1.0 if k < n else -1.0
                sx = sw * (1.0 if unit == "p" else -1.0)
                sig = "xp" if sx > 0 else "xn"
                bld.out(pre + "f" + e.name, node, "p", f"f{sig[1]}{col}", sig, col, 1.0)
                return [CurrentSource(pre + e.name, "vdd", node, (c - p.x_cm + sw * wk) * bias_a)]

            els_b, devs = _place(
                ip_bench.netlist.elements,
                pre,
                {"outp": f"sp{j}", "outn": f"sn{j}"},
                ip_source,
            )
            els.extend(els_b)
            groups.append(Group("inner_product", j * nb + b, devs))
        # inter-stage mirror of neuron j
        bld.diode(f"isp{j}", f"sp{j}", "p")
        bld.diode(f"isn{j}", f"sn{j}", "p")
        bld.out(f"ikp{j}", f"sp{j}", "p", "pb", "one", 0, p.z_shift())
        bld.out(f"ikn{j}", f"sn{j}", "p", "pb", "one", 0, p.z_shift())
        pre = f"a{j}_"

        def act_source(e: CurrentSource, pre: str = pre, j: int = j) -> list[Element]:
            if e.name == "cb":
                bld.out(pre + "cb", pre + "vc", "p", "pb", "one", 0, 1.0)
            elif e.name.endswith("gam"):
                bld.out(pre + e.name, pre + e.p, "n", "nb", "one", 0, 1.0)
            elif e.name in plans:
                const, src = plans[e.name]
                node = pre + e.n
                if const > 0:
                    bld.out(pre + e.name + "c", node, "p", "pb", "one", 0, const)
                bld.out(pre + e.name + "p", node, "p", f"s{src[1]}{j}", src, j, p.gain)
            else:
                raise SpecError(f"layer: unexpected source {e.name!r} in the activation bench")
            return []

        els_a, devs = _place(
            act_bench.netlist.elements, pre, {}, act_source, keep_voltage=("outp", "outn")
        )
        els.extend(els_a)
        groups.append(Group("tanh", j, devs))
    groups.insert(0, Group("mirrors", 0, tuple(bld.mirrors)))
    netlist = Netlist(
        title=f"sactk S-AC layer, {d} inputs x {h} tanh neurons",
        tech=tech,
        corner=corner,
        temp_c=temp_c,
        elements=tuple(els),
    )
    probes = tuple(
        Probe(f"h{j}_a", f"va{j}_outp#branch", -1.0, minus=f"va{j}_outn#branch") for j in range(h)
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


def mirror_bench(
    layer: Layer, levels: dict[str, float], held_v: Callable[[Output], float]
) -> tuple[Netlist, tuple[Probe, ...]]:
    """The layer's mirror devices alone (same names, sizes and order, so the same draws):
    every signal at ``levels[signal]`` gamma (``one`` is the bias), every output's drain
    on its own node held at ``held_v(output)``; probes ``o{i}_a`` read each output's current
    (positive: into its node for a PMOS, out of it for an NMOS)."""
    p, bias = layer.params, layer.bias_a
    tech = layer.netlist.tech
    outs = {o.device: i for i, o in enumerate(layer.outputs)}
    els: list[Element] = [VoltageSource("dd", "vdd", "0", tech.vdd_v)]
    els.append(CurrentSource("bias", "vdd", "nb", bias))
    els.append(CurrentSource("biasp", "pb", "0", bias))
    for k in range(p.n_features):
        els.append(CurrentSource(f"xp{k}", f"fp{k}", "0", levels["xp"] * bias))
        els.append(CurrentSource(f"xn{k}", f"fn{k}", "0", levels["xn"] * bias))
    for j in range(p.hidden):
        els.append(CurrentSource(f"zp{j}", f"sp{j}", "0", levels["zp"] * bias))
        els.append(CurrentSource(f"zn{j}", f"sn{j}", "0", levels["zn"] * bias))
    group = next(g for g in layer.groups if g.kind == "mirrors")
    held = set(held_outputs(layer))
    probes: list[Probe] = []
    for m in group.devices:
        i = outs.get(m.name)
        if i is None or i not in held:
            els.append(m)  # diodes, and the copies that feed other diodes, stay wired
            continue
        o = layer.outputs[i]
        els.append(replace(m, d=f"o{i}"))
        els.append(VoltageSource(f"o{i}", f"o{i}", "0", held_v(o)))
        sign = 1.0 if o.kind == "p" else -1.0  # a PMOS pushes current into the held source
        probes.append(Probe(f"o{i}_a", f"vo{i}#branch", sign))
    return Netlist(
        title="sactk S-AC layer mirrors",
        tech=tech,
        corner=layer.netlist.corner,
        temp_c=layer.netlist.temp_c,
        elements=tuple(els),
    ), tuple(probes)


def held_outputs(layer: Layer) -> list[int]:
    """Indices of the outputs :func:`mirror_bench` measures (not the wired internal ones)."""
    return [
        i
        for i, o in enumerate(layer.outputs)
        if not o.device.startswith("ik")  # the shifts stay wired: the copies include them
    ]


@dataclass(frozen=True)
class Wiring:
    """Where every term of the layer gets its current, as index arrays over
    ``Layer.outputs`` (-1: none), for the vectorized runner (system/network.py)."""

    ip_const: np.ndarray
    """(H, B, 2, 2N) the weight's ideal current of each inner-product term, gamma."""
    ip_copy: np.ndarray
    """(H, B, 2, 2N) the fan-out output adding x_cm +- x (-1 for padding)."""
    ip_gamma: np.ndarray
    """(H, B, 2) the output sinking each unit's gamma."""
    act_const: np.ndarray
    """(H, 2, 2) the bias copy of each activation term (h), -1 where it has none."""
    act_copy: np.ndarray
    """(H, 2, 2) the PMOS copy of Zp or Zn (ratio gain) each term is made of."""
    act_gamma: np.ndarray
    """(H, 2)."""
    signal: np.ndarray
    """(M,) index into SIGNALS of each output."""
    index: np.ndarray
    """(M,) input or neuron index of each output's signal."""


def wiring(layer: Layer, weights: np.ndarray) -> Wiring:
    p = layer.params
    n, h, nb, d = p.ip.n_inputs, p.hidden, p.blocks, p.n_features
    at = {o.device: i for i, o in enumerate(layer.outputs)}
    w = np.asarray(weights, float)
    c = p.ip.c_ratio
    ip_const = np.full((h, nb, 2, 2 * n), c)
    ip_copy = np.full((h, nb, 2, 2 * n), -1, dtype=np.intp)
    ip_gamma = np.zeros((h, nb, 2), dtype=np.intp)
    act = {key: np.full((h, 2, 2), -1, dtype=np.intp) for key in ("c", "p")}
    act_gamma = np.zeros((h, 2), dtype=np.intp)
    for j in range(h):
        for b in range(nb):
            pre = f"b{j}_{b}_"
            for u, unit in enumerate("pn"):
                ip_gamma[j, b, u] = at[f"{pre}{unit}gam"]
                for k in range(2 * n):
                    col = b * n + (k % n)
                    if col < d:
                        sw = 1.0 if k < n else -1.0
                        ip_const[j, b, u, k] = c - p.x_cm + sw * w[j, col]
                        ip_copy[j, b, u, k] = at[f"{pre}fs{unit}{k}"]
        for u, unit in enumerate("pn"):
            act_gamma[j, u] = at[f"a{j}_{unit}gam"]
            for k in range(2):
                for key in act:
                    act[key][j, u, k] = at.get(f"a{j}_s{unit}{k}{key}", -1)
    return Wiring(
        ip_const, ip_copy, ip_gamma, act["c"], act["p"], act_gamma,
        np.array([SIGNALS.index(o.signal) for o in layer.outputs]),
        np.array([o.index for o in layer.outputs]),
    )  # fmt: skip

"""The one typed description of an S-AC hidden layer that every consumer reads.

An S-AC hidden layer (circuits/layer.py) has D inputs and H tanh neurons; each neuron sums
B = ceil(D / N) inner-product blocks of N inputs. The netlist builder, the sweep jobs that
simulate it (sweeps/layer.py), the vectorized runners (system/network.py, system/sac.py)
and the check (sactk.api.layer) all take their sizes, their instance map and the meaning of
every mirror output from here; nothing passes meaning through element names.

* :class:`Topology`: the sizes and the chip -> Monte Carlo instance rule.
* :class:`Signal`: what a mirror output copies.
* :class:`Feed`: where a mirror output's current goes (which term of which unit).
* :class:`SourceRole`: what an ideal current source of a cell bench stands for, so the
  layer can replace it with a mirror output.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sactk.circuits.layer import Layer


class Signal(IntEnum):
    """What a mirror output copies, in units of the bias: the bias itself (``ONE``, a
    constant 1 gamma), an input's positive or negative current (x_cm +- x), a neuron's
    summed z+ or z- current (Zp, Zn)."""

    ONE = 0
    XP = 1
    XN = 2
    ZP = 3
    ZN = 4


class Kind(StrEnum):
    """A group of transistors drawn together: one Monte Carlo instance of one cell, or the
    layer's mirrors. The value is the cell's name (its Monte Carlo sweep's)."""

    INNER_PRODUCT = "inner_product"
    TANH = "tanh"
    MIRRORS = "mirrors"


class Part(StrEnum):
    """What a current source of a cell bench, or the mirror output replacing it, supplies."""

    TERM = "term"
    """One term of an MP unit (its input current)."""
    GAMMA = "gamma"
    """An MP unit's bias sink (gamma)."""
    CASCODE = "cascode"
    """The cascode-bias current."""
    CONST = "const"
    """A constant part of an activation term (the h of h + gain (Zp - k))."""
    SHIFT = "shift"
    """The constant k taken off a neuron's Zp or Zn before the inter-stage copies."""


@dataclass(frozen=True)
class SourceRole:
    """What an ideal current source of a cell bench stands for (``Bench.roles``)."""

    part: Part
    unit: int = 0
    """The MP unit (0: the P unit, 1: the N unit)."""
    term: int = 0
    """The term's index within its unit."""


@dataclass(frozen=True)
class Feed:
    """Where a mirror output's current goes: ``part`` of unit ``unit`` (term ``term``) of
    the ``stage`` cell of neuron ``neuron`` (inner-product block ``block``)."""

    stage: Kind
    part: Part
    neuron: int
    block: int = 0
    unit: int = 0
    term: int = 0


@dataclass(frozen=True)
class Topology:
    """The sizes of an S-AC hidden layer and where each cell instance comes from.

    **The instance rule** (the one place it is written): chip c's inner-product block
    i = j B + b is Monte Carlo instance c H B + i of the inner-product sweep; its activation
    j is instance c H + j of the tanh sweep; its mirrors are instance c of their own seed.
    """

    features: int
    """D, the layer's inputs."""
    hidden: int
    """H, the tanh neurons."""
    n_inputs: int
    """N, the inner product's inputs per block."""

    @property
    def blocks(self) -> int:
        """B = ceil(D / N) inner-product blocks per neuron (the last one padded)."""
        return -(-self.features // self.n_inputs)

    def per_chip(self, kind: Kind) -> int:
        """Instances of ``kind`` one chip holds."""
        return {Kind.INNER_PRODUCT: self.hidden * self.blocks, Kind.TANH: self.hidden}.get(
            Kind(kind), 1
        )

    def instance(
        self, kind: Kind, chip: np.ndarray | int, position: np.ndarray | int
    ) -> np.ndarray:
        """The Monte Carlo instance of ``kind`` at ``position`` (block j B + b, neuron j, or
        0 for the mirrors) on ``chip``; arrays broadcast."""
        return np.asarray(chip) * self.per_chip(kind) + np.asarray(position)

    def chip_instances(self, kind: Kind, chip: np.ndarray | int) -> np.ndarray:
        """Every instance of ``kind`` on ``chip`` (chips on a leading axis if an array):
        (..., H B) blocks or (..., H) neurons, in position order."""
        positions = np.arange(self.per_chip(kind))
        return self.instance(kind, np.asarray(chip)[..., None], positions)

    def instances_needed(self, chips: int) -> tuple[int, int]:
        """(inner-product, activation) instances that ``chips`` chips hold."""
        return chips * self.per_chip(Kind.INNER_PRODUCT), chips * self.per_chip(Kind.TANH)

    def column(self, block: int, term: int) -> int:
        """The input column term ``term`` of a block's unit sees (x_k and w_k for k < N,
        then again for the negative half); at or beyond D it is padding (x = w = 0)."""
        return block * self.n_inputs + (term % self.n_inputs)


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
    """(M,) the :class:`Signal` (as int) each output copies."""
    index: np.ndarray
    """(M,) input or neuron index of each output's signal."""


def wiring(layer: Layer, weights: np.ndarray) -> Wiring:
    """The runner's index arrays, from each output's :class:`Feed` (and the weights)."""
    p = layer.params
    topo = p.topology
    n, h, nb, d = p.ip.n_inputs, p.hidden, p.blocks, p.n_features
    w = np.asarray(weights, float)
    c = p.ip.c_ratio
    ip_const = np.full((h, nb, 2, 2 * n), c)
    for b in range(nb):
        for k in range(2 * n):
            col = topo.column(b, k)
            if col < d:
                sw = 1.0 if k < n else -1.0
                ip_const[:, b, :, k] = (c - p.x_cm + sw * w[:, col])[:, None]
    ip_copy = np.full((h, nb, 2, 2 * n), -1, dtype=np.intp)
    ip_gamma = np.zeros((h, nb, 2), dtype=np.intp)
    act_const = np.full((h, 2, 2), -1, dtype=np.intp)
    act_copy = np.full((h, 2, 2), -1, dtype=np.intp)
    act_gamma = np.zeros((h, 2), dtype=np.intp)
    for i, o in enumerate(layer.outputs):
        f = o.feed
        if f.stage is Kind.INNER_PRODUCT and f.part is Part.TERM:
            ip_copy[f.neuron, f.block, f.unit, f.term] = i
        elif f.stage is Kind.INNER_PRODUCT and f.part is Part.GAMMA:
            ip_gamma[f.neuron, f.block, f.unit] = i
        elif f.stage is Kind.TANH and f.part is Part.TERM:
            act_copy[f.neuron, f.unit, f.term] = i
        elif f.stage is Kind.TANH and f.part is Part.CONST:
            act_const[f.neuron, f.unit, f.term] = i
        elif f.stage is Kind.TANH and f.part is Part.GAMMA:
            act_gamma[f.neuron, f.unit] = i
    return Wiring(
        ip_const, ip_copy, ip_gamma, act_const, act_copy, act_gamma,
        np.array([int(o.signal) for o in layer.outputs]),
        np.array([o.index for o in layer.outputs]),
    )  # fmt: skip

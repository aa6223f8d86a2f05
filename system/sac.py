"""Vectorized S-AC network layers built from fitted lookup models.

A hidden neuron of shape-based analog computing (S-AC) is an MP inner product followed by a
shape cell (docs/cells.md):

    h_j = act( gain * sum_b IP_b(x_b, w_jb) )

where the D inputs are split into blocks of the inner-product cell's N inputs (each block is
its own circuit; their differential output currents add on a wire), ``gain`` is the current
mirror ratio between the two stages, and ``act`` is the tanh (or sigmoid, relu) cell. Inputs
and weights are in units of the bias current gamma, within the inner product's encoding
(|w| + |x| <= c). Outputs are normalized: h / bias_a.

Every cell instance goes through its model at the operating point (bias, temperature,
corner): the inner product through its MP-unit model with its real inputs (x, w) when the
model is an MPModel (else a lookup table against its ideal output), the
activation through its lookup table against its input. With chips, each instance of each
chip has its own parameters: a simulated Monte Carlo instance (``simulated_chips``) or a draw from
the models' statistical mismatch model (``sample_chips``). Evaluation is one NumPy pass
over (chips, samples, neurons, blocks): no Python loop over any of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sactk.circuits.topology import Kind, Topology
from sactk.errors import SpecError


def quantize_to_law(w: np.ndarray, bits: int, exp_bits: int, w_max: float) -> np.ndarray:
    """Weights stored as (sign, code) in the compressive memory: the magnitude becomes the
    nearest current of the memory's code-to-current law (circuits/cmem.py), scaled so the
    largest code gives ``w_max``."""
    from sactk.circuits.cmem import law_units

    levels = law_units(np.arange(2**bits), bits, exp_bits).astype(float)
    levels *= w_max / levels[-1]
    mag = np.abs(np.asarray(w, float))
    idx = np.clip(np.searchsorted(levels, mag), 1, len(levels) - 1)
    lower = levels[idx - 1]
    upper = levels[idx]
    q = np.where(mag - lower <= upper - mag, lower, upper)
    return np.sign(w) * q


def _cells(
    model: Any,
    x: np.ndarray,
    bias_a: float,
    temp_c: float,
    corner: str | None,
    plane: np.ndarray | None,
    pool: np.ndarray | None,
    noise: dict[str, Any] | None = None,
) -> np.ndarray:
    """Output currents of cells driven by ``x`` (gamma): every cell on the nominal table
    (``plane`` None), or cell i on table ``pool[plane[i]]``. Inputs beyond the
    characterized range are clamped to it (the cells saturate there). ``noise``: the
    keywords ``noise_window_s`` and ``seed`` of the model's evaluate (each cell its own
    draw)."""
    chip = None if plane is None else np.broadcast_to(plane, x.shape)
    return np.asarray(
        model.evaluate(
            x * bias_a,
            bias_a,
            temp_c,
            corner=corner,
            chip=chip,
            chips=None if plane is None else pool,
            clamp=True,
            **(noise or {}),
        )
    )


NOISE_TAG = 0x4E5
"""The stream of the runner's noise draws: ``stream_rng(seed, NOISE_TAG, stage, chip)``."""


def noise_keywords(window_s: float | None, seed: int | None, *tags: int) -> dict[str, Any]:
    """The evaluate keywords of one seeded noise draw (none without a window)."""
    if window_s is None:
        return {}
    if seed is None:
        raise SpecError("noise: a readout window needs a seed (every random draw is seeded)")
    from sactk.seeds import stream_rng

    draw = int(stream_rng(seed, NOISE_TAG, *tags).integers(2**31 - 1))
    return {"noise_window_s": float(window_s), "seed": draw}


@dataclass
class Chips:
    """Per-instance tables of one or more chips: ``ip`` (C*H*B, ...) and ``act`` (C*H, ...)."""

    n: int
    ip: np.ndarray | None
    act: np.ndarray | None
    seed: int | None


class SACHiddenLayer:
    """A layer of S-AC neurons on lookup models (see the module docstring).

    Parameters: ``ip_model``/``act_model`` fitted LookupModels of the inner-product and shape
    cells; ``weights`` (H, D) in gamma; ``gain`` the mirror ratio; ``n_inputs`` the inner
    product cell's N (default: from the model's results, else 4).
    """

    def __init__(
        self,
        ip_model: Any,
        act_model: Any,
        weights: np.ndarray,
        gain: float = 4.0,
        n_inputs: int | None = None,
        c_ratio: float = 1.0,
    ) -> None:
        self.mp = ip_model.cell_inputs  # an MP-unit model: the cell's real inputs
        if ip_model.cell_ != "inner_product":
            raise SpecError(f"model: expected an inner_product model, got {ip_model.cell_!r}")
        if act_model.cell_ not in ("tanh", "sigmoid", "relu"):
            raise SpecError(f"model: expected a shape-cell model, got {act_model.cell_!r}")
        self.ip = ip_model
        self.act = act_model
        self.w = np.asarray(weights, float)
        self.gain = float(gain)
        spec_n = (getattr(ip_model, "info_", {}) or {}).get("spec", {}) or {}
        self.n = int(n_inputs or spec_n.get("cell", {}).get("n_inputs") or 4)
        if self.mp:
            self.n = len(ip_model.inputs_) // 2
        self.c_ratio = c_ratio
        h, d = self.w.shape
        self.topology = Topology(d, h, self.n)
        self.blocks = self.topology.blocks
        self.hidden = h

    # -- the ideal network (floating point, no circuit) --------------------------------------

    def _blocks(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s, d = X.shape
        if d != self.w.shape[1]:
            raise SpecError(f"layer: inputs have {d} features, weights {self.w.shape[1]}")
        width = self.topology.blocks * self.topology.n_inputs  # the last block padded
        xp = np.zeros((s, width))
        xp[:, :d] = X
        wp = np.zeros((self.hidden, width))
        wp[:, :d] = self.w
        return xp.reshape(s, 1, self.blocks, self.n), wp.reshape(
            1, self.hidden, self.blocks, self.n
        )

    def ideal_ip(self, X: np.ndarray) -> np.ndarray:
        """(S, H, B) ideal inner-product outputs, in gamma (inner.ideal, exact MP)."""
        from sactk.circuits.inner import ideal

        xb, wb = self._blocks(np.asarray(X, float))
        s = xb.shape[0]
        out = np.empty((s, self.hidden, self.blocks))
        step = max(1, 16384 // (self.hidden * self.blocks))  # samples per chunk, in cache
        for i in range(0, s, step):
            out[i : i + step] = ideal(xb[i : i + step], wb, 1.0)
        return out

    def ideal(self, X: np.ndarray) -> np.ndarray:
        """(S, H) activations of the ideal network (cells' ideal() functions), in gamma."""
        from sactk.circuits import shape

        z = self.gain * self.ideal_ip(X).sum(axis=-1)
        p = shape.Params(shape=self.act.cell_)
        lo, hi = p.x_range()
        return np.asarray(shape.ideal(np.clip(z, lo, hi), 1.0, p))

    # -- the circuit, through the lookup models ----------------------------------------------

    def sample_chips(self, n: int, seed: int) -> Chips:
        """``n`` chips: every inner-product block and activation cell of every neuron gets
        its own table from the models' statistical mismatch model (seeded)."""
        ip = self.ip.sample_chips(n * self.hidden * self.blocks, seed)
        act = self.act.sample_chips(n * self.hidden, seed + 1_000_003)
        return Chips(n, ip, act, seed)

    def instances_needed(self, n: int) -> tuple[int, int]:
        """(inner-product, activation) cell instances that ``n`` chips of this layer hold."""
        return self.topology.instances_needed(n)

    def simulated_chips(self, n: int) -> Chips:
        """``n`` chips made of the simulated Monte Carlo instances themselves, placed by the
        layer's instance rule (:class:`~sactk.circuits.topology.Topology`): their fitted
        parameters or tables, every operating point."""
        n_ip, n_act = self.instances_needed(n)
        have = (len(self.ip.chip_ids_), len(self.act.chip_ids_))
        if have[0] < n_ip or have[1] < n_act:
            raise SpecError(
                f"chips: {n} simulated chips of {self.hidden} neurons x {self.blocks} blocks "
                f"need {n_ip} inner-product and {n_act} activation instances; the models hold "
                f"{have[0]} and {have[1]}: sweep more Monte Carlo instances, use fewer chips "
                "or neurons, or sampled chips"
            )
        ip = self.ip.chips_[self.ip.chip_rows(np.arange(n_ip), "chips")]
        act = self.act.chips_[self.act.chip_rows(np.arange(n_act), "chips")]
        return Chips(n, ip, act, None)

    def forward(
        self,
        X: np.ndarray,
        bias_a: float,
        temp_c: float,
        corner: str | None = None,
        chips: Chips | None = None,
        ideal_ip: np.ndarray | None = None,
        noise_window_s: float | None = None,
        noise_seed: int | None = None,
    ) -> tuple[np.ndarray, float]:
        """(C, S, H) normalized activations h / bias_a, and the fraction of activation
        inputs clamped to the shape cell's characterized range. ``chips=None``: the nominal
        circuit (C = 1). ``ideal_ip`` reuses :meth:`ideal_ip` of the same X.

        ``noise_window_s``: every cell adds its output noise (the models' noise terms,
        analysis/noisemodel.py) as one integrate-and-dump read over that window would see
        it, drawn independently per chip, sample, neuron and block from ``noise_seed``: the
        inner products' noise reaches the activation through the mirror gain and its
        slope, the mirrors between the stages add theirs (:meth:`interstage_noise`), the
        activation cell adds its own."""
        s, h, b = len(X), self.hidden, self.blocks
        c = 1 if chips is None else chips.n
        ip_plane = act_plane = None
        if chips is not None:  # instance index of every block and every activation cell
            on = np.arange(c)
            act_plane = self.topology.chip_instances(Kind.TANH, on)[:, None, :]
            ip_plane = self.topology.chip_instances(Kind.INNER_PRODUCT, on).reshape(c, 1, h, b)
        if self.mp:  # the cell's own inputs (x, w) per block, in A
            xb, wb = self._blocks(np.asarray(X, float))
            xw = np.concatenate(np.broadcast_arrays(xb, wb), axis=-1) * bias_a
            # chip by chip: the (S, H, B, 2N) inputs are shared, and a model flattening
            # them broadcast over chips would copy them once per chip
            y_ip = np.stack(
                [
                    self.ip.evaluate(
                        xw,
                        bias_a,
                        temp_c,
                        corner=corner,
                        chip=None if ip_plane is None else np.broadcast_to(ip_plane[i], (s, h, b)),
                        chips=None if chips is None else chips.ip,
                        **noise_keywords(noise_window_s, noise_seed, 0, i),
                    )
                    for i in range(c)
                ]
            )
        else:
            u = self.ideal_ip(X) if ideal_ip is None else ideal_ip  # (S, H, B), gamma
            uu = np.broadcast_to(u[None], (c, s, h, b))
            y_ip = _cells(
                self.ip, uu, bias_a, temp_c, corner, ip_plane, None if chips is None else chips.ip,
                noise_keywords(noise_window_s, noise_seed, 0),
            )  # fmt: skip
        z = self.gain * y_ip.sum(axis=-1) / bias_a  # (C, S, H), gamma
        if noise_window_s is not None:
            z = z + self.interstage_noise(y_ip / bias_a, bias_a, noise_window_s, noise_seed)
        lo, hi = self.act.u_knots_[0], self.act.u_knots_[-1]
        clipped = float(np.mean((z < lo) | (z > hi)))
        a = _cells(
            self.act, z, bias_a, temp_c, corner, act_plane, None if chips is None else chips.act,
            noise_keywords(noise_window_s, noise_seed, 1),
        )  # fmt: skip
        return a / bias_a, clipped

    def interstage_noise(
        self, y_ip: np.ndarray, bias_a: float, window_s: float, seed: int | None
    ) -> np.ndarray:
        """Shot noise of the mirrors between the stages at the activation's input (gamma),
        for inner-product outputs ``y_ip`` (C, S, H, B) in gamma. Each neuron's Zp and Zn
        (the sums of its blocks' unit outputs, at least c - 1/2N each: inner.rest_output)
        flow through a diode whose noise, 2 q Z, is copied at the mirror ratio ``gain``,
        and each copy adds its own, 2 q gain Z: gain (gain + 1) 2 q (Zp + Zn) in all
        (system/network.py, UnitNoise.shot). Zp + Zn is taken as 2 B (c - 1/2N) + sum |y|.
        In the layer check's runner these mirrors make 80 % of the mirrors' noise variance;
        the fan-out and bias mirrors' rest is left out here."""
        from sactk.analysis.model import cell_params
        from sactk.circuits.inner import rest_output

        if seed is None:
            raise SpecError("noise: a readout window needs a seed (every random draw is seeded)")
        from sactk.analysis.noisemodel import Q_C
        from sactk.seeds import stream_rng

        z_rest = rest_output(cell_params(self.ip))
        common = 2.0 * self.blocks * z_rest + np.abs(y_ip).sum(axis=-1)
        var = Q_C * self.gain * (self.gain + 1.0) * common / (window_s * bias_a)
        draw = stream_rng(seed, NOISE_TAG, 2).standard_normal(common.shape)
        return np.asarray(draw * np.sqrt(var))

    def power_w(self, bias_a: float, temp_c: float, corner: str | None = None) -> float:
        """Static supply power of the layer: H neurons x (B inner products + 1 activation)."""
        p_ip = float(self.ip.power_w(bias_a, temp_c, corner))
        p_act = float(self.act.power_w(bias_a, temp_c, corner))
        return self.hidden * (self.blocks * p_ip + p_act)

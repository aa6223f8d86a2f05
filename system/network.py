"""The vectorized runner of an S-AC layer at its transistors' level of detail.

It computes what the layer netlist (circuits/layer.py) computes, from fitted models only:

* every inner-product term is the weight's current plus its fan-out copy, a * (x_cm +- x) + b,
  with (a, b) the measured gain of that mirror output on that chip;
* every MP unit solves its MP-unit model (analysis/mpmodel.py) on those terms with its
  instance's fitted parameters, its bias scaled by the gain of the mirror that sinks it;
* a neuron's summed z+ and z- (Zp, Zn) reach the tanh cell's four terms through the
  inter-stage copies (a constant h on two of them plus a copy of Zp or Zn at ratio gain,
  each with its measured gain);
* the tanh cell's two units solve its MP-unit model with that neuron's instance.

Everything is normalized to the bias current. With ideal mirrors (``gains=None``) it is the
network of system/sac.py with per-instance models. One NumPy pass over (samples, neurons,
blocks) per operating point; no Python loop over samples or neurons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sactk.circuits import shape
from sactk.circuits.mp import COMPILED_FROM
from sactk.circuits.topology import Kind, Signal, Topology, Wiring

if TYPE_CHECKING:
    from sactk.analysis.mpmodel import MPModel


@dataclass(frozen=True)
class MirrorGains:
    """Per mirror output of one chip at one operating point: output = a * signal + b (gamma),
    plus g_v (gamma per volt) times how far its node moved from where it was measured."""

    a: np.ndarray
    b: np.ndarray
    g_v: np.ndarray | None = None
    """Output conductance of the tanh cell's feeds; None: ideal current sources."""
    dv_dz: float = 0.0
    """How an active tanh term node moves per gamma of its unit's output (V)."""
    z_rest: float = 0.0
    """The unit output (gamma) at which the feeds were measured (the cell at x = 0)."""

    @classmethod
    def measured(
        cls, a: np.ndarray, b: np.ndarray, g_v: np.ndarray, dv_dz: float, act: shape.Params
    ) -> MirrorGains:
        """A chip's measured gains (sweeps/layer.py ``mirror_gains``), with the tanh cell's
        rest unit output, where its feeds were measured."""
        return cls(a, b, g_v, dv_dz, shape.rest_unit_output(act))

    @classmethod
    def ideal(cls, ratios: np.ndarray) -> MirrorGains:
        """Every mirror an exact copy at its ratio."""
        return cls(np.asarray(ratios, float), np.zeros(len(ratios)))


class LayerRunner:
    """H tanh neurons over D inputs from an inner-product and a tanh MP-unit model."""

    def __init__(
        self,
        ip_model: MPModel,
        act_model: MPModel,
        topology: Topology,
        wiring: Wiring,
        x_cm: float,
        gain: float,
    ):
        self.ip, self.act, self.wr = ip_model, act_model, wiring
        self.topology = topology
        self.x_cm, self.gain = float(x_cm), float(gain)
        self.h, self.b = topology.hidden, topology.blocks

    def forward(
        self,
        X: np.ndarray,
        bias_a: float,
        temp_c: float,
        gains: MirrorGains,
        *,
        corner: str | None = None,
        chip: int | None = None,
        noise_window_s: float | None = None,
        noise_seed: int | None = None,
        mirror_noise: float = 1.0,
    ) -> np.ndarray:
        """(S, H) activations (gamma) for inputs X (S, D) in gamma, on chip ``chip`` (its
        instances c H B + i and c H + j) or the nominal circuit (None).

        ``noise_window_s``: each inner-product block and each tanh cell adds its output
        noise for that readout window (the models' noise terms, analysis/noisemodel.py),
        drawn from ``noise_seed`` independently per sample, neuron and block. A block's
        noise is split evenly between its Zp and Zn (their difference carries all of it);
        every mirror's diode and output device add their shot noise (:meth:`UnitNoise.shot`),
        times ``mirror_noise``: 1 in weak inversion, less where the mirrors leave it (the
        layer check measures it on the layer's own mirrors, sactk.api.layernoise).

        Without noise, and with numba, one compiled pass computes it
        (system/layer_compiled.py; the same numbers to rounding)."""
        if noise_window_s is None and len(X) * self.h >= COMPILED_FROM:
            from sactk.circuits.mp import compiled_available

            if compiled_available():
                return self._compiled(X, bias_a, temp_c, gains, corner, chip)
        wr, h, nb = self.wr, self.h, self.b
        x = np.asarray(X, float)
        s = len(x)
        # the input signals, indexed by Signal: ONE, XP, XN
        sig = np.stack([np.ones_like(x), self.x_cm + x, self.x_cm - x], axis=0)
        noise = None
        if noise_window_s is not None:
            noise = UnitNoise(self.ip, self.act, bias_a, temp_c, corner, noise_window_s, noise_seed)
            noise.mirror_factor = float(mirror_noise)
            sig = noise.shot(sig)  # the fan-out diodes, shared by their copies

        def copy(out: np.ndarray, value: np.ndarray) -> np.ndarray:
            y = gains.a[out] * value + gains.b[out]
            return y if noise is None else noise.shot(y)

        # inner-product terms (S, H, B, 2, 2N)
        o = np.maximum(wr.ip_copy, 0)
        src = sig[np.minimum(wr.signal[o], Signal.XN), :, wr.index[o]]  # (H, B, 2, 2N, S)
        src = np.moveaxis(src, -1, 0)
        terms = wr.ip_const[None] + np.where(wr.ip_copy[None] >= 0, copy(o, src), 0.0)
        k2 = terms.shape[-1]
        ip_chip = act_chip = None
        if chip is not None:
            blocks = self.topology.chip_instances(Kind.INNER_PRODUCT, chip)
            neurons = self.topology.chip_instances(Kind.TANH, chip)
            ip_chip = np.broadcast_to(self.ip.chip_rows(blocks, "layer"), (s, h * nb)).ravel()
            act_chip = np.broadcast_to(self.act.chip_rows(neurons, "layer"), (s, h)).ravel()
        g_ip = np.broadcast_to(gains.a[wr.ip_gamma], (s, h, nb, 2))
        if noise is not None:
            g_ip = noise.shot(g_ip)
        zp, zn = self.ip.evaluate_units(
            [terms[..., u, :].reshape(-1, k2) for u in range(2)],
            bias_a,
            temp_c,
            corner=corner,
            chip=ip_chip,
            g_scale=[g_ip[..., u].ravel() for u in range(2)],
        )
        if noise is not None:
            zp, zn = noise.split(zp, zn)
        big_zp = zp.reshape(s, h, nb).sum(axis=-1)
        big_zn = zn.reshape(s, h, nb).sum(axis=-1)
        z = np.stack([big_zp, big_zn], axis=0)  # signals zp, zn: (2, S, H)
        if noise is not None:
            z = noise.shot(z)  # the inter-stage diodes that sink Zp and Zn
        # activation terms (S, H, 2 units, 2 terms)
        j = np.arange(h)[:, None, None]

        def zsig(out: np.ndarray) -> np.ndarray:
            kind = wr.signal[out] - Signal.ZP  # ZP -> 0, ZN -> 1 (z's first axis)
            return np.moveaxis(z[kind, :, j], -1, 0)  # (S, H, 2, 2)

        const = _bias_copies(wr, gains.a)
        t_act = const[None] + copy(wr.act_copy, zsig(wr.act_copy))
        g_act = np.broadcast_to(gains.a[wr.act_gamma], (s, h, 2))
        if noise is not None:
            t_act = t_act + noise.shot(np.broadcast_to(const, t_act.shape)) - const
            g_act = noise.shot(g_act)

        def act_units(t: np.ndarray) -> list[np.ndarray]:
            return self.act.evaluate_units(
                [t[..., u, :].reshape(-1, 2) for u in range(2)],
                bias_a,
                temp_c,
                corner=corner,
                chip=act_chip,
                g_scale=[g_act[..., u].ravel() for u in range(2)],
            )

        yp, yn = act_units(t_act)
        g_t = _feed_conductance(wr, gains)
        if g_t is not None:
            # an active term node sits a rectifier's V_SG above its unit's gate node, which
            # follows the unit's output: the feeds see their node move with z, and their
            # output conductance moves the term (one fixed-point step)
            z = np.stack([yp, yn], axis=-1).reshape(s, h, 2)
            dv = gains.dv_dz * (z - gains.z_rest)
            yp, yn = act_units(t_act + g_t[None] * dv[..., None])
        y = (yp - yn).reshape(s, h)
        return y if noise is None else noise.add(y)

    def _compiled(
        self,
        X: np.ndarray,
        bias_a: float,
        temp_c: float,
        gains: MirrorGains,
        corner: str | None,
        chip: int | None,
    ) -> np.ndarray:
        """:meth:`forward` without noise in one compiled pass."""
        from sactk.circuits.mp_compiled import _arg
        from sactk.system import layer_compiled

        x = _arg(X)
        key = (chip, float(bias_a), float(temp_c), corner)
        plans = self.__dict__.setdefault("_plans", {})
        if key not in plans:
            if len(plans) >= 64:  # a sweep over many operating points: keep it bounded
                plans.clear()
            plans[key] = self._plan(bias_a, temp_c, corner, chip)
        ip_u, act_u = plans[key]
        wired = self._wired(gains)
        out = np.empty((len(x), self.h))
        kernel: Any = layer_compiled.forward
        kernel(x, self.x_cm, *wired[:7], *ip_u, *wired[7:12], *act_u, *wired[12:], out)
        return out

    def _plan(
        self, bias_a: float, temp_c: float, corner: str | None, chip: int | None
    ) -> tuple[list[Any], list[Any]]:
        """Both models' arguments of the compiled pass at one operating point and chip."""
        from sactk.circuits.mp_compiled import _arg

        units: list[Any] = []
        for model, kind, n in (
            (self.ip, Kind.INNER_PRODUCT, self.h * self.b),
            (self.act, Kind.TANH, self.h),
        ):
            rows = None
            if chip is not None:
                rows = model.chip_rows(self.topology.chip_instances(kind, chip), "layer")
            theta, idx, rk = model.unit_plan(n, bias_a, temp_c, corner, rows)
            st = np.array([sl.a.start for sl in model.layout_.slices()], np.int64)
            units += [_arg(theta), _arg(idx, np.int64), st, np.asarray(model.layout_.sign, float),
                      _arg(model.r_knots_), _arg(rk), float(model.s_hi_)]  # fmt: skip
        units[1] = units[1].reshape(self.h, self.b)
        return units[:7], units[7:]

    def _wired(self, gains: MirrorGains) -> list[Any]:
        """The wiring with one chip's mirror gains as the compiled pass's arrays (kept for
        the last ``gains``)."""
        hit = self.__dict__.get("_wired_for")
        if hit is not None and hit[0] is gains:
            return hit[1]
        from sactk.circuits.mp_compiled import _arg

        wr = self.wr
        o = np.maximum(wr.ip_copy, 0)
        has = wr.ip_copy >= 0
        ac = wr.act_copy
        g_t = _feed_conductance(wr, gains)
        use_gv = g_t is not None
        arrays = [
            _arg(wr.ip_const), _arg(has, np.bool_), _arg(gains.a[o]), _arg(gains.b[o]),
            _arg(np.minimum(wr.signal[o], Signal.XN), np.int64), _arg(wr.index[o], np.int64),
            _arg(gains.a[wr.ip_gamma]),
            _arg(_bias_copies(wr, gains.a)),
            _arg(gains.a[ac]), _arg(gains.b[ac]), _arg(wr.signal[ac] - Signal.ZP, np.int64),
            _arg(gains.a[wr.act_gamma]),
            _arg(np.zeros(ac.shape) if g_t is None else g_t),
            float(gains.dv_dz), float(gains.z_rest), use_gv,
        ]  # fmt: skip
        self.__dict__["_wired_for"] = (gains, arrays)
        return arrays


def _bias_copies(wr: Wiring, per_output: np.ndarray) -> np.ndarray:
    """(H, 2, 2): each activation term's bias copy's value of ``per_output``, 0 where the
    term has none."""
    return np.where(wr.act_const >= 0, per_output[np.maximum(wr.act_const, 0)], 0.0)


def _feed_conductance(wr: Wiring, gains: MirrorGains) -> np.ndarray | None:
    """(H, 2, 2) gamma per volt: the output conductance of each activation term's feeds
    (its bias copy and its copy of Zp or Zn); None when the gains have none."""
    if gains.g_v is None or not gains.dv_dz:
        return None
    return _bias_copies(wr, gains.g_v) + gains.g_v[wr.act_copy]


class UnitNoise:
    """Seeded output noise of a layer's cells at one operating point, in gamma: a cell's
    variance is its model's noise terms at its output current for the readout window."""

    def __init__(
        self,
        ip: MPModel,
        act: MPModel,
        bias_a: float,
        temp_c: float,
        corner: str | None,
        window_s: float,
        seed: int | None,
    ):
        from sactk.errors import SpecError

        if seed is None:
            raise SpecError("noise: a readout window needs a seed (every random draw is seeded)")
        from sactk.seeds import stream_rng

        self.op = (bias_a, temp_c, window_s, corner)
        self.mirror_factor = 1.0
        """The mirrors' noise relative to full shot noise."""
        from sactk.system.sac import NOISE_TAG

        self.rng = stream_rng(seed, NOISE_TAG)
        self.ip_terms = self._terms(ip)
        self.act_terms = self._terms(act)

    @staticmethod
    def _terms(model: MPModel) -> Any:
        from sactk.analysis.noisemodel import NoiseTerms
        from sactk.errors import ModelError

        info = model.meta_.get("noise")
        if not info:
            raise ModelError(
                f"noise: the {model.cell_} model has no noise terms; fit it with "
                "`sactk fit ... --noise NOISE_RESULTS`"
            )
        return NoiseTerms.from_dict(info)

    def draw(self, terms: Any, out: np.ndarray) -> np.ndarray:
        """Noise (gamma) of cells whose outputs are ``out`` (gamma)."""
        bias, temp, window, corner = self.op
        var = terms.variance(np.abs(out) * bias, bias, temp, window, corner) / bias**2
        return np.asarray(self.rng.standard_normal(out.shape) * np.sqrt(var))

    def shot(self, out: np.ndarray) -> np.ndarray:
        """Currents ``out`` (gamma) of saturated MOSFETs plus their white noise. In weak
        inversion a drain current carries full shot noise, 2 q I (Tsividis, Operation and
        Modeling of the MOS Transistor, 3rd ed., sec. 9.3; Sarpeshkar, Delbruck and Mead,
        IEEE Circuits and Devices 1993). A mirror's diode noise is drawn once on the signal
        it copies (so every copy of one diode shares it, scaled by its ratio: k^2 2 q I_in
        = k 2 q I_out), each output device's on its own output."""
        from sactk.analysis.noisemodel import Q_C

        bias, _, window, _ = self.op
        var = self.mirror_factor * Q_C * np.abs(out) / (window * bias)
        return np.asarray(out + self.rng.standard_normal(np.shape(out)) * np.sqrt(var))

    def split(self, zp: np.ndarray, zn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each inner-product block's noise, half its variance on Zp and half on Zn."""
        n = self.draw(self.ip_terms, zp - zn) / np.sqrt(2.0)
        m = self.draw(self.ip_terms, zp - zn) / np.sqrt(2.0)
        return zp + n, zn + m

    def add(self, y: np.ndarray) -> np.ndarray:
        """The tanh cells' own output noise."""
        return y + self.draw(self.act_terms, y)

"""Stochastic computing with probabilistic-switching (CBRAM-like) devices.

**Device.** A pulse of amplitude V and width t switches the device with probability

    P(V, t) = 1 - exp(-t / tau(V)),     tau(V) = tau0 exp(-V / V0)

(a Poisson waiting time: filament formation is thermally activated, so the mean waiting
time falls exponentially with voltage). Defaults tau0 = 2.85e5 s and V0 = 0.156 V are the
values reported for Ag/a-Si filamentary (CBRAM-like) cells by Jo, Kim and Lu, Nano Letters 9,
496 (2009). Each pulse is an independent trial (cycle-to-cycle randomness); each device has its
own tau0 (lognormal, ``sigma_ln_tau0``) and V0 (normal, relative ``sigma_v0``) drawn once
(device-to-device variation; these spreads are assumptions, see docs/sc.md).

**Streams.** A value p in [0, 1] is encoded by choosing the amplitude that gives switching
probability p on the *nominal* device (:meth:`Device.amplitude_for`), pulsing a device L
times and reading switched / not switched. A real device with other tau0, V0 encodes
p' != p. Bits are packed little-endian into uint64 words (L rounded up to 64; the unused high
bits of the last word are zero and masked out of every count).

**Arithmetic** on packed streams: unipolar multiply = AND, bipolar multiply = XNOR, scaled
addition = MUX with a p = 0.5 select stream, decoding by counting (an up/down counter for
bipolar), and the stochastic computing correlation SCC of two streams (Alaghi and Hayes,
ICCD 2013). Multiplies need uncorrelated streams (SCC ~ 0); streams from different devices
are, a stream ANDed with itself is not (SCC = 1 gives min(pa, pb), not pa pb).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sactk.errors import SpecError

WORD = 64
EXAMPLE_DATA = Path(__file__).parent / "data" / "cbram_switching_synthetic.csv"
"""A synthetic switching-probability set drawn from the default Device (tau0 = 2.85e5 s,
V0 = 0.156 V): amplitudes 1.8 to 3.8 V in 0.1 V steps at widths 10 us to 100 ms (one per
decade), 1000 pulses each, seed 1 (regenerate with ``synthetic_switching_data``). Not
measured data."""


@dataclass(frozen=True)
class Device:
    """Switching model of one device family (nominal values and device-to-device spread)."""

    tau0_s: float = 2.85e5
    v0_v: float = 0.156
    width_s: float = 1e-3
    """Pulse width used for encoding."""
    sigma_ln_tau0: float = 0.1
    sigma_v0: float = 0.01
    """Relative (1 sigma) device-to-device spread of V0."""

    def __post_init__(self) -> None:
        for name in ("tau0_s", "v0_v", "width_s"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
                raise SpecError(f"device.{name}: {v!r} must be a positive number")
        for name in ("sigma_ln_tau0", "sigma_v0"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and 0 <= v < 1):
                raise SpecError(f"device.{name}: {v!r} must be in [0, 1)")

    def tau(self, v: Any, tau0: Any = None, v0: Any = None) -> np.ndarray:
        tau0 = self.tau0_s if tau0 is None else tau0
        v0 = self.v0_v if v0 is None else v0
        return np.asarray(tau0 * np.exp(-np.asarray(v, float) / v0))

    def p_switch(self, v: Any, t: Any, tau0: Any = None, v0: Any = None) -> np.ndarray:
        """Switching probability of a pulse (V, t) (-expm1 keeps tiny probabilities exact)."""
        return np.asarray(-np.expm1(-np.asarray(t, float) / self.tau(v, tau0, v0)))

    def amplitude_for(self, p: Any, t: float | None = None) -> np.ndarray:
        """The pulse amplitude that switches the nominal device with probability p."""
        t = self.width_s if t is None else t
        p = np.clip(np.asarray(p, float), 1e-12, 1 - 1e-12)
        return np.asarray(self.v0_v * np.log(self.tau0_s * -np.log1p(-p) / t))

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """tau0 and V0 of ``n`` devices."""
        tau0 = self.tau0_s * np.exp(self.sigma_ln_tau0 * rng.standard_normal(n))
        v0 = self.v0_v * (1.0 + self.sigma_v0 * rng.standard_normal(n))
        return tau0, v0

    def encoded(self, p: Any, tau0: Any, v0: Any) -> np.ndarray:
        """What devices (tau0, v0) actually encode when driven for p (nominal inverse)."""
        p = np.asarray(p, float)
        out = self.p_switch(self.amplitude_for(p), self.width_s, tau0, v0)
        return np.where(p <= 0, 0.0, np.where(p >= 1, 1.0, out))


# -- fitting ---------------------------------------------------------------------------


def fit_device(v: Any, t: Any, switched: Any, trials: Any) -> tuple[float, float]:
    """Maximum-likelihood (tau0_s, v0_v) from switching counts (binomial likelihood).

    Start: -ln(1 - p) = (t / tau0) exp(V / V0) is linear in V after a log, fitted by least
    squares on the points with 0 < p < 1; then scipy refines the binomial log-likelihood.
    """
    from scipy.optimize import minimize

    v, t, k, n = (np.asarray(a, float) for a in (v, t, switched, trials))
    if len(v) < 3:
        raise SpecError("fit: need at least 3 (amplitude, width) points")
    if np.any(n <= 0) or np.any(k < 0) or np.any(k > n):
        raise SpecError("fit: need 0 <= switched <= trials and trials > 0 on every row")
    p = k / n
    ok = (p > 0) & (p < 1)
    if ok.sum() < 2:
        raise SpecError("fit: need at least 2 points with 0 < switched < trials")
    y = np.log(-np.log1p(-p[ok])) - np.log(t[ok])  # = V / V0 - ln tau0
    slope, icpt = np.polyfit(v[ok], y, 1)
    if slope <= 0:
        raise SpecError("fit: switching probability does not rise with amplitude")
    x0 = np.array([-icpt, 1.0 / slope])  # ln tau0, V0

    def nll(x: np.ndarray) -> float:
        ln_tau0, v0 = x
        if v0 <= 0:
            return 1e300
        rate = t / np.exp(ln_tau0 - v / v0)
        lp = np.log(-np.expm1(-rate) + 1e-300)  # ln P
        lq = -rate  # ln (1 - P)
        return float(-np.sum(k * lp + (n - k) * lq))

    res = minimize(
        nll, x0, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-10, "maxiter": 4000}
    )
    return float(np.exp(res.x[0])), float(res.x[1])


def synthetic_switching_data(
    device: Device, amplitudes_v: Any, widths_s: Any, trials: int, seed: int
) -> Any:
    """A switching-probability table sampled from ``device`` (nominal): every amplitude at
    every width, ``trials`` pulses each (binomial counts). Labelled synthetic."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    vv, tt = np.meshgrid(np.asarray(amplitudes_v, float), np.asarray(widths_s, float))
    p = device.p_switch(vv.ravel(), tt.ravel())
    k = rng.binomial(trials, p)
    return pd.DataFrame(
        {"amplitude_v": vv.ravel(), "width_s": tt.ravel(), "switched": k, "trials": trials}
    )


# -- packed streams --------------------------------------------------------------------


def words(length: int) -> int:
    if length < 1:
        raise SpecError(f"--length {length}: must be at least 1 bit")
    return -(-length // WORD)


def _mask(length: int) -> np.ndarray:
    """Valid-bit mask of each word of an L-bit stream."""
    m = np.full(words(length), np.uint64(0xFFFFFFFFFFFFFFFF))
    rem = length % WORD
    if rem:
        m[-1] = np.uint64((1 << rem) - 1)
    return m


def pack(bits: np.ndarray) -> np.ndarray:
    """(..., L) booleans -> (..., ceil(L/64)) uint64, bit i of the stream in word i // 64."""
    bits = np.asarray(bits, dtype=bool)
    length = bits.shape[-1]
    pad = words(length) * WORD - length
    if pad:
        bits = np.concatenate([bits, np.zeros((*bits.shape[:-1], pad), bool)], axis=-1)
    by = np.packbits(bits, axis=-1, bitorder="little")
    return np.ascontiguousarray(by).view(np.uint64)


def streams(p: Any, length: int, rng: np.random.Generator) -> np.ndarray:
    """Packed Bernoulli streams: one per element of ``p`` (already the encoded probability,
    e.g. from :meth:`Device.encoded`), each bit an independent pulse."""
    p = np.asarray(p, float)
    return pack(rng.random((*p.shape, length)) < p[..., None])


def count(s: np.ndarray, length: int) -> np.ndarray:
    """Ones in each packed stream (popcount of the valid bits)."""
    return np.bitwise_count(s & _mask(length)).sum(axis=-1, dtype=np.int64)


def value(s: np.ndarray, length: int) -> np.ndarray:
    """Unipolar decode: the fraction of ones."""
    return count(s, length) / length


def bipolar_value(s: np.ndarray, length: int) -> np.ndarray:
    """Bipolar decode, as an up/down counter does: (ones - zeros) / L = 2 p - 1."""
    return (2 * count(s, length) - length) / length


def mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Unipolar multiply: AND (p_a p_b for uncorrelated streams)."""
    return a & b


def mul_bipolar(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bipolar multiply: XNOR (x_a x_b with x = 2 p - 1, uncorrelated streams)."""
    return ~(a ^ b)


def mux_add(a: np.ndarray, b: np.ndarray, select: np.ndarray) -> np.ndarray:
    """Scaled addition (p_a + p_b) / 2 with a p = 0.5 select stream."""
    return (a & select) | (b & ~select)


def scc(a: np.ndarray, b: np.ndarray, length: int) -> np.ndarray:
    """Stochastic computing correlation (Alaghi and Hayes 2013): 0 for independent
    streams, +1 for maximally overlapping, -1 for maximally disjoint."""
    pa, pb = value(a, length), value(b, length)
    pab = value(a & b, length)
    d = pab - pa * pb
    pos = np.minimum(pa, pb) - pa * pb
    neg = pa * pb - np.maximum(pa + pb - 1.0, 0.0)
    den = np.where(d > 0, pos, neg)
    return np.where(den > 0, d / np.where(den > 0, den, 1.0), 0.0)


# -- the SC multiply as the training uses it -------------------------------------------


def and_counts(
    pa: np.ndarray, pb: np.ndarray, length: int, rng: np.random.Generator, packed: bool = False
) -> np.ndarray:
    """Ones in AND(stream(pa), stream(pb)) for independent streams of encoded probabilities
    pa, pb (broadcast). ``packed``: generate and AND real packed streams (the reference);
    otherwise draw the count from its law, Binomial(L, pa pb), which is exact for
    independent streams (tests check the two agree in distribution)."""
    pa, pb = np.broadcast_arrays(np.asarray(pa, float), np.asarray(pb, float))
    if packed:
        return count(mul(streams(pa, length, rng), streams(pb, length, rng)), length)
    return rng.binomial(length, np.clip(pa * pb, 0.0, 1.0))


# -- MAC cost ----------------------------------------------------------------------------

TRANSISTORS = {"AND2": 6, "XOR2": 12, "HA": 18, "FA": 28, "DFF": 24}
"""Static CMOS transistor counts (Weste and Harris, CMOS VLSI Design, 4th ed.: AND2 = NAND2
+ inverter; XOR2 complementary; half adder = XOR2 + AND2; 28-transistor mirror full adder;
master-slave flip-flop with transmission gates). Gate equivalents: transistors / 4 (NAND2)."""


def mac_cost(length: int) -> dict[str, Any]:
    """Gate equivalents (NAND2 = 1) of a sign-magnitude SC multiply-accumulate with
    L-bit streams against a fixed-point MAC of the same effective precision,
    n = log2(L) bits (an SC product of length L resolves 1/L).

    * SC: one AND (the multiply), one XOR (sign), and an up/down counter of
      ceil(log2 L) + 1 bits (a full adder and a flip-flop per bit) that accumulates the
      product stream; the stream generators are the CBRAM devices and their sense
      amplifiers, counted separately (not logic).
    * Fixed point: an n x n array multiplier (n^2 AND2, n (n - 2) full adders, n half
      adders; Weste and Harris) and a 2n + 4 bit accumulator (adder and register).

    The SC MAC takes L clock cycles per product, the fixed-point one 1.
    """
    if length < 2:
        raise SpecError(f"--length {length}: must be at least 2")
    ge = {k: v / 4.0 for k, v in TRANSISTORS.items()}
    n = max(1, int(np.ceil(np.log2(length))))
    counter_bits = n + 1
    sc = {
        "AND2": 1,
        "XOR2": 1,
        "FA": counter_bits,
        "DFF": counter_bits,
    }
    acc = 2 * n + 4
    fx = {"AND2": n * n, "FA": max(n * (n - 2), 0) + acc, "HA": n, "DFF": acc}
    sc_ge = sum(ge[k] * v for k, v in sc.items())
    fx_ge = sum(ge[k] * v for k, v in fx.items())
    return {
        "length": length,
        "bits": n,
        "sc_gates": sc,
        "fixed_gates": fx,
        "sc_ge": sc_ge,
        "fixed_ge": fx_ge,
        "ratio": fx_ge / sc_ge,
        "sc_cycles": length,
        "fixed_cycles": 1,
    }


def encoding_spread(device: Device, p: Any, n_devices: int, seed: int) -> Any:
    """What ``n_devices`` devices with the device-to-device spread encode for each target p:
    mean, standard deviation and 5/95 percentiles of p'."""
    import pandas as pd

    tau0, v0 = device.sample(n_devices, np.random.default_rng(seed))
    p = np.asarray(p, float)
    enc = device.encoded(p[:, None], tau0[None, :], v0[None, :])
    return pd.DataFrame(
        {
            "p": p,
            "mean": enc.mean(axis=1),
            "std": enc.std(axis=1),
            "p05": np.percentile(enc, 5, axis=1),
            "p95": np.percentile(enc, 95, axis=1),
        }
    )

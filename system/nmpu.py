"""The near-memory processing unit (NMPU): per-column affine, batch-norm and ReLU after an
AIMC tile's ADC, bit-true in fixed point, with FP16 and FP32 reference paths.

Per output column c the NMPU maps the integer ADC sum y (codes) to the next layer's input
code:

    out = sat( relu( a_c y + b_c ) )

where (a_c, b_c) fold the tile's calibrated gain and offset, the layer bias, batch-norm
(gamma, beta, mean, var) and the change of code scale (:func:`fold`). In fixed point:

* a_c = m_c 2^-k: m_c in the *scale* format (default unsigned Q1.7: 1 integer, 7 fraction
  bits) and k one power-of-two shift per layer, chosen so the largest a_c fills the format;
  a negative a_c (a batch-norm gamma below 0) needs a signed scale format;
* the offset is applied before the scale, in ADC codes, as b_c / a_c in the *offset* format
  (default signed Q7.1: +-128 codes in half codes), so out = a_c (y + b_c / a_c); offsets
  beyond the format saturate (``offset_saturated`` counts them);
* acc = m_c (y 2^fo + o_c) on int64, then round half up by 2^(fo + 7 + k), ReLU and
  saturation to the output code range. Integer arithmetic throughout.

The FP16 and FP32 paths evaluate the same a_c y + b_c in numpy float16 / float32 and round
to codes the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sactk.errors import SpecError
from sactk.system.fixed import QFormat, shift_round

PATHS = ("fp32", "fp16", "fixed")


@dataclass(frozen=True)
class NMPUFormat:
    scale: QFormat = field(default_factory=lambda: QFormat(1, 7, False))
    offset: QFormat = field(default_factory=lambda: QFormat(7, 1, True))

    def __str__(self) -> str:
        return f"scale {self.scale}, offset {self.offset}"


def fold(
    gain: np.ndarray,
    offset: np.ndarray,
    code_gain: float,
    in_scale: float,
    bias: np.ndarray,
    bn: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None,
    out_scale: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(a_c, b_c) of a layer.

    The tile gives y = gain_c (code_gain * W.xq) + offset_c for input codes xq, where
    x = xq * in_scale; so W.x = (y - offset_c) in_scale / (gain_c code_gain). Then
    z = W.x + bias, batch-norm z' = gamma (z - mean) / sqrt(var + 1e-5) + beta, and the
    output code is z' / out_scale.
    """
    k = in_scale / (gain * code_gain)
    if bn is None:
        s = np.ones_like(k)
        t = np.zeros_like(k)
    else:
        gamma, beta, mean, var = bn
        s = gamma / np.sqrt(var + 1e-5)
        t = beta - s * mean
    a = s * k / out_scale
    b = (s * (bias - offset * k) + t) / out_scale
    return a, b


@dataclass
class NMPU:
    """One layer's post-processing (see the module docstring)."""

    a: np.ndarray
    b: np.ndarray
    out_bits: int
    relu: bool = True
    fmt: NMPUFormat = field(default_factory=NMPUFormat)

    def __post_init__(self) -> None:
        self.a = np.asarray(self.a, float)
        self.b = np.asarray(self.b, float)
        if not 2 <= self.out_bits <= 31:
            raise SpecError(f"NMPU output bits {self.out_bits}: use 2 to 31")
        scale = self.fmt.scale
        if (self.a < 0).any() and not scale.signed:
            scale = QFormat(scale.int_bits, scale.frac_bits, True)
        self.scale_fmt = scale
        top = scale.to_float(scale.raw_max)
        amax = float(np.max(np.abs(self.a))) if self.a.size else 1.0
        # one shift per layer: the largest |a| uses the format's top bit (k may be negative)
        self.k = int(np.floor(np.log2(top / amax))) if amax > 0 else 0
        self.m = scale.quantize(self.a * 2.0**self.k)
        # the offset is added before the scale, in ADC codes: b = a (y + b / a)
        self.b_in = np.where(self.a != 0, self.b / np.where(self.a != 0, self.a, 1.0), 0.0)
        self.o = self.fmt.offset.quantize(self.b_in)
        self.offset_saturated = float(
            np.mean(
                (self.b_in * 2**self.fmt.offset.frac_bits > self.fmt.offset.raw_max + 0.5)
                | (self.b_in * 2**self.fmt.offset.frac_bits < self.fmt.offset.raw_min - 0.5)
            )
        )
        if self.relu:
            self.lo, self.hi = 0, (1 << self.out_bits) - 1
        else:
            self.lo, self.hi = -(1 << (self.out_bits - 1)), (1 << (self.out_bits - 1)) - 1

    def fixed(self, y: Any) -> np.ndarray:
        """Bit-true integer path: y (..., C) integer ADC sums -> output codes."""
        y = np.asarray(y, np.int64)
        fo = self.fmt.offset.frac_bits
        acc = self.m * ((y << np.int64(fo)) + self.o)  # fraction bits: fo + scale's + k
        f = fo + self.scale_fmt.frac_bits + self.k
        out = shift_round(acc, f) if f >= 0 else acc << np.int64(-f)
        if self.relu:
            out = np.maximum(out, 0)
        return np.clip(out, self.lo, self.hi)

    def float_path(self, y: Any, dtype: Any) -> np.ndarray:
        """FP16 or FP32 path: the same affine in ``dtype`` arithmetic, then codes."""
        a = self.a.astype(dtype)
        b = self.b.astype(dtype)
        z = np.asarray(y).astype(dtype) * a + b
        if self.relu:
            z = np.maximum(z, dtype(0))
        out = np.floor(z.astype(np.float64) + 0.5)
        return np.clip(
            np.nan_to_num(out, nan=0.0, posinf=self.hi, neginf=self.lo), self.lo, self.hi
        ).astype(np.int64)

    def __call__(self, y: Any, path: str) -> np.ndarray:
        if path == "fixed":
            return self.fixed(y)
        if path == "fp16":
            return self.float_path(y, np.float16)
        if path == "fp32":
            return self.float_path(y, np.float32)
        raise SpecError(f"NMPU path {path!r}: choose one of {', '.join(PATHS)}")


def cost(fmt: NMPUFormat, adc_bits: int) -> dict[str, float]:
    """Area of one column's post-processing datapath, in NAND2 gate equivalents (static CMOS
    transistor counts / 4, as system/sc.py: full adder 7 GE, AND2 1.5 GE, MUX2 3 GE).

    Fixed point: an offset adder of w = max(y bits + offset fraction bits, offset bits) + 1
    bits (y = ADC bits + 4 guard bits for a few tiles' sums), a w x scale-bits array
    multiplier (an AND2 per partial product, a full adder per partial product beyond the
    first row) and a rounding adder on the result; ReLU and saturation are a few gates per
    output bit (counted as one more adder). FP16 (what the FP16 path needs per column: a
    half-precision multiply-add): an 11 x 11 mantissa multiplier, a 2 x 11 + 1 bit
    alignment shifter and the same for normalization (log2 stages of MUX2 each), a 23-bit
    adder, a leading-zero detector (about 2 GE per bit) and exponent logic (two 5-bit
    adders). Operations per output: fixed point 1 add + 1 multiply + 1 round; FP16 1 FMA.
    """
    fa, and2, mux = 7.0, 1.5, 3.0
    yb = adc_bits + 4
    sb = fmt.scale.bits
    w = max(yb + fmt.offset.frac_bits, fmt.offset.bits) + 1
    mult = w * sb * and2 + (sb - 1) * w * fa
    fixed = w * fa + mult + 2 * (w + sb) * fa
    man = 11
    width = 2 * man + 1
    stages = int(np.ceil(np.log2(width)))
    fp16 = (
        man * man * and2
        + (man - 1) * man * fa
        + 2 * width * stages * mux
        + width * fa
        + 2 * width
        + 2 * 5 * fa
    )
    return {"fixed_ge": fixed, "fp16_ge": fp16, "fixed_ops": 3.0, "fp16_ops": 1.0}

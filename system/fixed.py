"""Bit-true fixed-point arithmetic on integer NumPy arrays (the NMPU's number system).

A value in format Q(i.f) is stored as an integer ``raw`` and means raw / 2^f. Signed formats
have a sign bit on top of i integer bits: ``QFormat(7, 1, signed=True)`` is 9 bits, from
-128 to 127.5 in steps of 0.5. Rounding is round-half-up (add half an LSB, then floor: an
arithmetic right shift), saturation clamps to the format's range. Everything is int64; the
tests check every operation against exact integer/rational references (hypothesis).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sactk.errors import SpecError


@dataclass(frozen=True)
class QFormat:
    int_bits: int
    frac_bits: int
    signed: bool = False

    def __post_init__(self) -> None:
        if self.int_bits < 0 or self.frac_bits < 0 or self.bits < 1 or self.bits > 32:
            raise SpecError(
                f"fixed-point format Q{self.int_bits}.{self.frac_bits}: use 1 to 32 bits in total"
            )

    @property
    def bits(self) -> int:
        return self.int_bits + self.frac_bits + (1 if self.signed else 0)

    @property
    def raw_min(self) -> int:
        return -(1 << (self.int_bits + self.frac_bits)) if self.signed else 0

    @property
    def raw_max(self) -> int:
        return (1 << (self.int_bits + self.frac_bits)) - 1

    def __str__(self) -> str:
        return f"{'s' if self.signed else 'u'}Q{self.int_bits}.{self.frac_bits}"

    def quantize(self, x: Any) -> np.ndarray:
        """Float -> raw integers: round half up, then saturate."""
        raw = np.floor(np.asarray(x, float) * (1 << self.frac_bits) + 0.5)
        return np.clip(raw, self.raw_min, self.raw_max).astype(np.int64)

    def to_float(self, raw: Any) -> np.ndarray:
        return np.asarray(raw, np.int64) / float(1 << self.frac_bits)


def saturate(x: np.ndarray, lo: int, hi: int) -> np.ndarray:
    return np.clip(x, lo, hi)


def shift_round(x: Any, s: int) -> np.ndarray:
    """x / 2^s rounded half up, for integer x (s >= 0), as hardware does it:
    (x + 2^(s-1)) >> s with an arithmetic shift."""
    x = np.asarray(x, np.int64)
    if s == 0:
        return x
    return (x + (np.int64(1) << np.int64(s - 1))) >> np.int64(s)


def convert(raw: Any, src: QFormat, dst: QFormat) -> np.ndarray:
    """Re-express raw values of ``src`` in ``dst``: align the binary point (rounding half up
    when bits are dropped), then saturate."""
    raw = np.asarray(raw, np.int64)
    d = dst.frac_bits - src.frac_bits
    out = raw << np.int64(d) if d >= 0 else shift_round(raw, -d)
    return saturate(out, dst.raw_min, dst.raw_max)

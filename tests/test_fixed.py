"""Fixed-point arithmetic and the NMPU against exact integer and rational references
(hypothesis): rounding, saturation, format conversion, the bit-true affine."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sactk.errors import SpecError
from sactk.system.fixed import QFormat, convert, shift_round
from sactk.system.nmpu import NMPU, NMPUFormat, fold

formats = (
    st.tuples(st.integers(0, 12), st.integers(0, 12), st.booleans())
    .filter(lambda t: 1 <= t[0] + t[1] + t[2] <= 24)
    .map(lambda t: QFormat(*t))
)


def _round_half_up(q: Fraction) -> int:
    return math.floor(q + Fraction(1, 2))


def _clamp(v: int, f: QFormat) -> int:
    return max(f.raw_min, min(f.raw_max, v))


@settings(max_examples=300, deadline=None)
@given(st.integers(-(2**40), 2**40), st.integers(0, 30))
def test_shift_round_is_round_half_up_of_the_exact_quotient(x: int, s: int) -> None:
    assert int(shift_round(np.array([x]), s)[0]) == _round_half_up(Fraction(x, 2**s))


@settings(max_examples=300, deadline=None)
@given(formats, st.floats(-1e5, 1e5, allow_nan=False))
def test_quantize_rounds_then_saturates(f: QFormat, x: float) -> None:
    raw = int(f.quantize(np.array([x]))[0])
    assert raw == _clamp(_round_half_up(Fraction(x) * 2**f.frac_bits), f)
    assert f.raw_min <= raw <= f.raw_max


@settings(max_examples=300, deadline=None)
@given(formats, formats, st.data())
def test_convert_aligns_rounds_and_saturates(src: QFormat, dst: QFormat, data) -> None:
    raw = data.draw(st.integers(src.raw_min, src.raw_max))
    got = int(convert(np.array([raw]), src, dst)[0])
    exact = Fraction(raw, 2**src.frac_bits) * 2**dst.frac_bits
    assert got == _clamp(_round_half_up(exact), dst)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0.01, 3.0), min_size=1, max_size=6),
    st.lists(st.floats(-40.0, 40.0), min_size=6, max_size=6),
    st.lists(st.integers(-600, 600), min_size=6, max_size=6),
    st.booleans(),
)
def test_nmpu_fixed_path_is_bit_exact(
    a: list[float], b: list[float], y: list[int], relu: bool
) -> None:
    n = len(a)
    nm = NMPU(np.array(a), np.array(b[:n]), out_bits=8, relu=relu)
    out = nm.fixed(np.array([y[:n]]))[0]
    fo = nm.fmt.offset.frac_bits
    shift = fo + nm.scale_fmt.frac_bits + nm.k
    for c in range(n):
        acc = int(nm.m[c]) * (y[c] * 2**fo + int(nm.o[c]))
        v = _round_half_up(Fraction(acc, 2**shift)) if shift >= 0 else acc * 2**-shift
        if relu:
            v = max(v, 0)
        assert int(out[c]) == max(nm.lo, min(nm.hi, v))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0.05, 2.0), min_size=4, max_size=4),
    st.lists(st.floats(-30.0, 30.0), min_size=4, max_size=4),
    st.lists(st.integers(-200, 200), min_size=4, max_size=4),
)
def test_wide_fixed_formats_match_fp32_within_one_code(a, b, y) -> None:
    wide = NMPUFormat(QFormat(2, 16, False), QFormat(10, 8, True))
    nm = NMPU(np.array(a), np.array(b), out_bits=10, relu=True, fmt=wide)
    yy = np.array([y])
    assert np.max(np.abs(nm.fixed(yy) - nm(yy, "fp32"))) <= 1


def test_narrow_formats_saturate_and_signed_scales_appear_when_needed() -> None:
    nm = NMPU(np.array([1.0, 1.0]), np.array([1000.0, -5.0]), out_bits=8)
    assert nm.offset_saturated == 0.5  # +1000 codes does not fit Q7.1
    assert int(nm.fixed(np.array([[0, 0]]))[0, 0]) == 128  # the offset clamps at 127.5
    neg = NMPU(np.array([-0.5, 1.0]), np.array([0.0, 0.0]), out_bits=8, relu=False)
    assert neg.scale_fmt.signed
    np.testing.assert_array_equal(neg.fixed(np.array([[10, 10]])), [[-5, 10]])
    with pytest.raises(SpecError, match="1 to 32 bits"):
        QFormat(30, 10, True)


def test_fold_inverts_the_tile_and_applies_batch_norm() -> None:
    rng = np.random.default_rng(0)
    W = rng.standard_normal((5, 3))
    x = rng.uniform(0, 1, (50, 5))
    in_scale, code_gain, out_scale = 1 / 255, 7.0, 0.01
    xq = np.round(x / in_scale)
    gain, offset = np.array([0.9, 1.1, 1.0]), np.array([2.0, -3.0, 0.5])
    y = gain * (code_gain * (xq @ W)) + offset  # the tile's codes (unrounded)
    bias = np.array([0.1, -0.2, 0.0])
    bn = (
        np.array([1.5, 0.5, 1.0]),
        np.array([0.1, 0.0, -0.1]),
        np.array([0.2, 0.1, 0.0]),
        np.array([2.0, 1.0, 0.5]),
    )
    a, b = fold(gain, offset, code_gain, in_scale, bias, bn, out_scale)
    z = xq * in_scale @ W + bias
    want = (bn[0] * (z - bn[2]) / np.sqrt(bn[3] + 1e-5) + bn[1]) / out_scale
    np.testing.assert_allclose(a * y + b, want, rtol=1e-9, atol=1e-9)

"""mp.ideal against a brute-force root finder, and its algebraic properties."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sactk.circuits.mp import ideal
from scipy.optimize import brentq


def _brute(x: np.ndarray, gamma: float) -> float:
    f = lambda z: np.maximum(x - z, 0).sum() - gamma  # noqa: E731
    return brentq(f, x.min() - gamma - 1.0, x.max() + 1.0, xtol=1e-14)


vectors = arrays(np.float64, st.integers(2, 12), elements=st.floats(0, 10))


@settings(max_examples=300, deadline=None)
@given(vectors, st.floats(0.01, 10))
def test_ideal_solves_the_mp_equation(x: np.ndarray, gamma: float) -> None:
    z = ideal(x, gamma)
    assert np.isclose(np.maximum(x - z, 0).sum(), gamma, rtol=1e-9, atol=1e-9)
    assert np.isclose(z, _brute(x, gamma), rtol=1e-9, atol=1e-9)


@settings(max_examples=100, deadline=None)
@given(vectors, st.floats(0.01, 10), st.floats(1e-3, 1e3))
def test_ideal_scales_with_bias(x: np.ndarray, gamma: float, k: float) -> None:
    """MP is positively homogeneous: scaling every current scales z (why bias collapses)."""
    assert np.isclose(ideal(k * x, k * gamma), k * ideal(x, gamma), rtol=1e-9, atol=1e-9)


def test_ideal_is_vectorized_over_leading_axes() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 2, size=(3, 5, 4))
    g = rng.uniform(0.5, 1.5, size=(3, 5))
    z = ideal(x, g)
    assert z.shape == (3, 5)
    for i in range(3):
        for j in range(5):
            assert np.isclose(z[i, j], _brute(x[i, j], g[i, j]))


def test_known_values() -> None:
    # one input above the rest by more than gamma: z = x_max - gamma
    assert ideal(np.array([5.0, 1.0, 1.0]), 1.0) == 4.0
    # equal inputs: z = x - gamma / n
    assert np.isclose(ideal(np.array([2.0, 2.0, 2.0, 2.0]), 1.0), 1.75)
    # the module's docstring example used in docs/cells.md
    assert np.isclose(ideal(np.array([1.5, 0.7, 1.9, 0.3]), 1.0), 1.2)

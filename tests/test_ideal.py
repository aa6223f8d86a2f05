"""mp.ideal against a brute-force root finder, and its algebraic properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import brentq

from sactk.circuits.mp import ideal
from sactk.errors import SpecError


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


# ------------------------------------------------------------------ S-AC cell library


def test_shape_ideals_have_their_closed_forms() -> None:
    """f(u) = MP([u, 0]) + gamma; tanh = f(x + h) - f(x - h) - h; sigmoid = tanh + h."""
    from sactk.circuits import shape

    x = np.linspace(-4.0, 4.0, 161)
    f = lambda u: np.where(u <= -1, 0.0, np.where(u >= 1, u, (u + 1) / 2))  # noqa: E731
    relu = shape.ideal(x, 1.0, shape.Params(shape="relu"))
    tanh = shape.ideal(x, 1.0, shape.Params(shape="tanh"))
    sig = shape.ideal(x, 1.0, shape.Params(shape="sigmoid"))
    assert np.allclose(relu, f(x))
    assert np.allclose(tanh, f(x + 2) - f(x - 2) - 2)
    assert np.allclose(sig, tanh + 2)
    # Homogeneous: the same shape in units of gamma at any bias.
    assert np.allclose(shape.ideal(1e-7 * x, 1e-7, shape.Params()) / 1e-7, tanh)
    scale, err = shape.fit_smooth(shape.Params(shape="tanh"))
    assert 0 < err < 10.0 and scale > 0


def test_inner_product_ideal() -> None:
    from sactk.circuits import inner

    rng = np.random.default_rng(0)
    x = rng.uniform(-0.4, 0.4, (500, 8))
    w = rng.uniform(-0.4, 0.4, (500, 8))
    y = inner.ideal(x, w, 1.0)
    assert np.allclose(inner.ideal(x, np.zeros_like(w), 1.0), 0.0)  # w = 0: no output
    assert np.allclose(inner.ideal(x, -w, 1.0), -y)  # odd in w
    assert np.corrcoef(y, (x * w).sum(axis=1))[0, 1] > 0.98


def test_compressive_law() -> None:
    from sactk.circuits import cmem

    u = cmem.law_units(np.arange(64), 6, 2)
    assert u[0] == 0 and u[15] == 15 and u[16] == 16 and u[32] == 32 and u[63] == 124
    steps = np.diff(u)
    assert (steps > 0).all() and set(steps) == {1, 2, 4}
    assert np.array_equal(cmem.law_units(np.arange(16), 4, 0), np.arange(16))  # linear
    assert cmem.Params(bits=7, exp_bits=3).branches == 11  # 1984 units
    with pytest.raises(SpecError):
        cmem.law_units([64], 6, 2)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('[cell]\nname = "tanh"\nn_inputs = 4\n', "cell.n_inputs"),
        ('[cell]\nname = "mp"\nbits = 4\n', "cell.bits"),
        ('[cell]\nname = "tanh"\nc_ratio = 1.0\n', "cell.c_ratio"),
        ('[cell]\nname = "tanh"\n[inputs.sweep]\nmax_ratio = 9.0\nmin_ratio = -9.0\n', "inputs"),
        ('[cell]\nname = "inner_product"\n[inputs.random]\nmin_ratio = -1.0\n', "inputs"),
        ('[cell]\nname = "compressive_memory"\n[inputs.random]\ncount = 3\n', "inputs"),
        ('[cell]\nname = "compressive_memory"\nexp_bits = 6\nbits = 6\n', "cell.exp_bits"),
        ('[cell]\nname = "tahn"\n', "cell.name"),
    ],
)
def test_cell_parameters_are_checked(text: str, field: str) -> None:
    from sactk.sweeps.plan import plan
    from sactk.sweeps.spec import load_spec

    with pytest.raises(SpecError, match=field):
        plan(load_spec(text="[sweep]\nbias_a = [1e-7]\n" + text))

"""Reverse water-filling compiled with numba: :func:`sactk.circuits.mp.water_level` for
large batches, bit for bit the same numbers.

The NumPy solver runs every round over a whole chunk of problems, with the active sets as
(K, M) masks, until the slowest problem of the chunk settles. Here each problem iterates on
its own, in registers, and stops when its own active set stops changing (Michelot's
algorithm, at most K + 1 rounds). Every sum runs over k in the same order as NumPy's
reduction along the first axis and every formula is written as in ``mp._level``, so the
levels are identical, not just close (tests/test_mpmodel.py checks equality).

Why numba and not JAX (issue 31): measured on 400,000 four-term problems on one core, JAX's
jitted masked rounds took 0.21 s against NumPy's 0.087 s, because a vectorized program runs
every problem for as many rounds as the slowest; numba's per-problem loop is the fast form.
Gradient-based training through the models does not need automatic differentiation: with
the active set A returned here, ds/dt_k = 1/D, ds/da_k = -s/D and ds/dg = -1/D
(D = sum_A a_k + c_k q'(s)) in closed form, as analysis/mpfit.py's Jacobian already uses.

The kernels use numba's NumPy error model: a division by zero gives inf or nan as NumPy's
does, instead of a check and an exception on every division.

numba is imported (and the kernels compiled, cached on disk) on the first batch of at least
``mp.COMPILED_FROM`` problems.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

from sactk.circuits.mp import SQRT_FLOOR

# Module-level kernels, so that numba's on-disk cache serves every later process (kernels
# defined in a function and calling each other through closures were compiled anew in every
# process: 5 to 10 s of each fit, regression and layer check). numba freezes globals as
# constants when it compiles: s0 and r0 are constants of the model.
s0 = SQRT_FLOOR
r0 = math.sqrt(s0)


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")
def from_sums(total, big_a, big_c):  # type: ignore[no-untyped-def]
    # the level from the active terms' sums, g already taken off (mp._level): linear where
    # nothing is left above the floor, else the root of the square-law quadratic
    if not total > 0.0:
        return total / big_a
    disc = big_c * big_c + 4.0 * big_a * (total + big_a * s0 + big_c * r0)
    r = (-big_c + math.sqrt(max(disc, 0.0))) / (2.0 * big_a)
    return r * r - s0


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")
def level(x, g, a, c, act, mode, k):  # type: ignore[no-untyped-def]
    # mode 0: unit gains, 1: gains a, 2: gains a and square-law terms c (mp._level);
    # the first k entries of the arrays
    total = 0.0
    big_a = 0.0
    big_c = 0.0
    n = 0
    for i in range(k):
        if act[i]:
            total += x[i]
            n += 1
            if mode > 0:
                big_a += a[i]
            if mode > 1:
                big_c += c[i]
    total -= g
    if mode == 0:
        return total / n
    if mode == 1:
        return total / big_a
    return from_sums(total, big_a, big_c)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def kernel(t, g, a, c, mode, s_out, act_out):  # type: ignore[no-untyped-def]
    # t, a, c, act_out: (M, K), one problem a row (contiguous reads)
    m, k = t.shape
    x = np.empty(k)
    aa = np.ones(k)
    cc = np.zeros(k)
    act = np.ones(k, dtype=np.bool_)
    now = np.empty(k, dtype=np.bool_)
    for j in range(m):
        for i in range(k):
            x[i] = t[j, i]
            act[i] = True
            if mode > 0:
                aa[i] = a[j, i]
            if mode > 1:
                cc[i] = c[j, i]
        s = level(x, g[j], aa, cc, act, mode, k)
        for _ in range(k + 1):
            changed = False
            q = math.sqrt(max(s, 0.0) + s0) - r0
            for i in range(k):
                sink = s if mode == 0 else aa[i] * s
                if mode > 1:
                    sink = sink + cc[i] * q
                now[i] = x[i] > sink
                if now[i] != act[i]:
                    changed = True
            if not changed:
                break
            for i in range(k):
                act[i] = now[i]
            s = level(x, g[j], aa, cc, act, mode, k)
        s_out[j] = s
        for i in range(k):
            act_out[j, i] = act[i]


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")
def level_w(x, g, a, c, w, k):  # type: ignore[no-untyped-def]
    # level() with gains and square-law terms and the active set as 0/1 weights: no
    # branch a term (x * 1 is x, x * 0 adds nothing: the sums are NumPy's)
    total = 0.0
    big_a = 0.0
    big_c = 0.0
    for i in range(k):
        total += x[i] * w[i]
        big_a += a[i] * w[i]
        big_c += c[i] * w[i]
    return from_sums(total - g, big_a, big_c)


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")
def unit_one(t, theta, r, st, k, gsc, lo, hi, aa, cc, w):  # type: ignore[no-untyped-def]
    # One unit of one row (analysis/mpfit.unit_outputs): its terms ``t`` (k,) become
    # t_k + d_k in place; the water level with plane r's a_k, c_k and g (times gsc), z.
    # aa, cc, w: float scratch of length k. The active set is kept as 0/1 weights, not
    # branches: on random inputs the branches mispredict (the regression runner ran at 70x
    # a per-sample loop with them, 100x without; benchmarks/regress_speed.py). The layer
    # kernel (system/layer_compiled.py) calls this; :func:`unit` spells the same steps out
    # in its own loop, which measured 15 % faster there than calling this inlined.
    for i in range(k):
        t[i] = t[i] + theta[r, st + k + i]
        aa[i] = theta[r, st + i]
        cc[i] = theta[r, st + 2 * k + i]
        w[i] = 1.0
    g = theta[r, st + 3 * k] * gsc
    s = level_w(t, g, aa, cc, w, k)
    for _ in range(k + 1):
        changed = 0
        q = math.sqrt(max(s, 0.0) + s0) - r0
        for i in range(k):
            on = 1.0 if t[i] > aa[i] * s + cc[i] * q else 0.0
            changed += on != w[i]
            w[i] = on
        if changed == 0:
            break
        s = level_w(t, g, aa, cc, w, k)
    h = min(max(s, lo), hi)
    return max(0.0, s + theta[r, st + 3 * k + 1] * (h * h))


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")
def unit_two(t0, t1, theta, r, st, gsc, lo, hi):  # type: ignore[no-untyped-def]
    # unit_one at k = 2 in scalars: the same operations in the same order (the same numbers
    # bit for bit), without scratch arrays. A tanh cell's units have two terms; this form
    # took the layer runner's 32 two-term solves a sample from 3.8 us to about 2 us.
    t0 = t0 + theta[r, st + 2]
    t1 = t1 + theta[r, st + 3]
    a0 = theta[r, st]
    a1 = theta[r, st + 1]
    c0 = theta[r, st + 4]
    c1 = theta[r, st + 5]
    g = theta[r, st + 6] * gsc
    w0 = 1.0
    w1 = 1.0
    s = 0.0
    for rnd in range(4):  # the level, then up to k + 1 = 3 checks, as unit_one
        total = 0.0
        total += t0 * w0
        total += t1 * w1
        big_a = 0.0
        big_a += a0 * w0
        big_a += a1 * w1
        big_c = 0.0
        big_c += c0 * w0
        big_c += c1 * w1
        s = from_sums(total - g, big_a, big_c)
        if rnd == 3:
            break
        q = math.sqrt(max(s, 0.0) + s0) - r0
        on0 = 1.0 if t0 > a0 * s + c0 * q else 0.0
        on1 = 1.0 if t1 > a1 * s + c1 * q else 0.0
        if on0 == w0 and on1 == w1:
            break
        w0 = on0
        w1 = on1
    h = min(max(s, lo), hi)
    return max(0.0, s + theta[r, st + 7] * (h * h))


@numba.njit(cache=True, nogil=True, error_model="numpy")
def unit2(terms, theta, idx, st, gsc, scaled, lo, hi, out):  # type: ignore[no-untyped-def]
    # :func:`unit` for two-term units, through unit_two
    for j in range(terms.shape[0]):
        r = idx[j]
        g = gsc[j] if scaled else 1.0
        out[j] = unit_two(terms[j, 0], terms[j, 1], theta, r, st, g, lo, hi)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def unit(terms, theta, idx, st, gsc, scaled, lo, hi, out):  # type: ignore[no-untyped-def]
    # One unit given its terms (analysis/mpfit.unit_outputs): t_k + d_k, the water
    # level with the row's a_k, c_k and g (times the row's g_scale), z.
    m, k = terms.shape
    t = np.empty(k)
    aa = np.empty(k)
    cc = np.empty(k)
    w = np.ones(k)
    for j in range(m):
        r = idx[j]
        for i in range(k):
            t[i] = terms[j, i] + theta[r, st + k + i]
            aa[i] = theta[r, st + i]
            cc[i] = theta[r, st + 2 * k + i]
            w[i] = 1.0
        g = theta[r, st + 3 * k] * gsc[j] if scaled else theta[r, st + 3 * k]
        s = level_w(t, g, aa, cc, w, k)
        for _ in range(k + 1):
            changed = 0
            q = math.sqrt(max(s, 0.0) + s0) - r0
            for i in range(k):
                on = 1.0 if t[i] > aa[i] * s + cc[i] * q else 0.0
                changed += on != w[i]
                w[i] = on
            if changed == 0:
                break
            s = level_w(t, g, aa, cc, w, k)
        h = min(max(s, lo), hi)
        out[j] = max(0.0, s + theta[r, st + 3 * k + 1] * (h * h))


def _arg(a: Any, dtype: Any = float) -> np.ndarray:
    """An argument as the kernels were compiled for: C-contiguous and writable. numba
    compiles a kernel anew for a read-only array (a broadcast, a cached plane), which cost
    a runner seconds inside a timed call (sactk verify layer); such arrays are copied."""
    return np.require(a, dtype=dtype, requirements=["C", "W"])


def unit_rows(
    layout: Any,
    terms: list[np.ndarray],
    theta: np.ndarray,
    idx: np.ndarray,
    s_range: tuple[float, float],
    g_scale: list[np.ndarray] | None = None,
) -> list[np.ndarray]:
    """:func:`sactk.analysis.mpfit.unit_outputs` for row j's parameters ``theta[idx[j]]``
    without the (M, P) parameter rows: the same numbers bit for bit (same operations in the
    same order)."""
    th = _arg(theta)
    ix = _arg(idx, np.int64)
    out = []
    for u, (t, sl) in enumerate(zip(terms, layout.slices(), strict=True)):
        z = np.empty(len(t))
        gsc = np.empty(0) if g_scale is None else _arg(g_scale[u])
        kern = unit2 if t.shape[1] == 2 else unit
        kern(_arg(t), th, ix, sl.a.start, gsc,
             g_scale is not None, float(s_range[0]), float(s_range[1]), z)  # fmt: skip
        out.append(z)
    return out


def water_level(
    t: np.ndarray, g: np.ndarray, a: np.ndarray | None, c: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """As :func:`sactk.circuits.mp.water_level` (arguments already broadcast: t, a, c
    (K, M) or None, g (M,)). The kernel reads one problem a row: the (K, M) arrays are
    taken as their (M, K) transposes, which is free for analysis/mpfit.py's callers (they
    pass transposed (M, K) arrays) and one copy otherwise; the active set comes back as
    the transpose of an (M, K) array."""
    k, m = t.shape
    mode = 0 if a is None else (1 if c is None else 2)
    empty = np.zeros((1, 1))
    s = np.empty(m)
    act = np.empty((m, k), dtype=bool)
    kernel(
        _arg(t.T),
        _arg(g),
        empty if a is None else _arg(a.T),
        empty if c is None else _arg(c.T),
        mode,
        s,
        act,
    )
    return s, act.T

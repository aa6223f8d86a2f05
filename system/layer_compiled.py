"""A whole S-AC layer's forward pass compiled with numba: what
:meth:`sactk.system.network.LayerRunner.forward` computes without noise, in one loop over
samples and neurons.

The NumPy forward is about 100 array operations per batch, so at a batch of 100 samples its
time is mostly NumPy's per-call overhead, not arithmetic (benchmarks/layer_speed.py). Here
each sample and neuron goes through its inner-product blocks, its units and its tanh cell
in registers, with the same formulas (the unit solves are
:func:`sactk.circuits.mp_compiled.unit_one` and, for the tanh cell's two-term units,
``unit_two``: the steps of the runners' per-unit kernels). Sums over a neuron's blocks run
in order, where NumPy sums pairwise, and the kernel is compiled with fast-math reordering
(:data:`FAST`): results agree with the NumPy forward to rounding, about 1e-14 relative
(tests/test_layer.py, test_small_layer_runner_matches_ngspice, checks 1e-12), not bit for
bit.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from sactk.circuits.mp_compiled import unit_one, unit_two

FAST = {"nsz", "arcp", "contract", "afn", "reassoc"}
"""numba's fast-math flags for the layer kernel: reordered sums and fused multiply-adds
(7 to 10 % of its time), but not ``nnan``/``ninf``: ``_interp`` and the solves test for
nan."""


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy", fastmath=FAST)
def _interp(x, xp, fp):  # type: ignore[no-untyped-def]
    # np.interp of one value, as NumPy's C loop computes it (numpy/_core/src/multiarray/
    # compiled_base.c, arr_interp): numba's np.interp allocates an array per call
    n = len(xp)
    if not x >= xp[0]:  # below, or nan
        return fp[0] if x < xp[0] else x
    if x >= xp[n - 1]:
        return fp[n - 1]
    lo, hi = 0, n - 1
    while hi - lo > 1:  # xp[lo] <= x < xp[hi]
        mid = (lo + hi) // 2
        if xp[mid] <= x:
            lo = mid
        else:
            hi = mid
    if xp[lo] == x:
        return fp[lo]
    slope = (fp[lo + 1] - fp[lo]) / (xp[lo + 1] - xp[lo])
    r = slope * (x - xp[lo]) + fp[lo]
    if math.isnan(r):
        r = slope * (x - xp[lo + 1]) + fp[lo + 1]
        if math.isnan(r) and fp[lo] == fp[lo + 1]:
            r = fp[lo]
    return r


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy", fastmath=FAST)
def _residual(z0, z1, sign0, sign1, knots, rk):  # type: ignore[no-untyped-def]
    # MPModel.evaluate_units: the nominal residual at yhat shared out over the two units
    yhat = sign0 * z0 + sign1 * z1
    r = _interp(yhat, knots, rk) / 2.0
    return z0 + sign0 * r, z1 + sign1 * r


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath=FAST)
def forward(  # type: ignore[no-untyped-def]
    x, x_cm,
    ip_const, ip_has, ip_a, ip_b, ip_sig, ip_feat, ip_g,
    ip_theta, ip_row, ip_st, ip_sign, ip_knots, ip_rk, ip_hi,
    act_const, act_a, act_b, act_kind, act_g,
    act_theta, act_row, act_st, act_sign, act_knots, act_rk, act_hi,
    g_t, dv_dz, z_rest, use_gv,
    out,
):  # fmt: skip
    # Shapes: x (S, D); ip_* (H, B, 2, K) but ip_g (H, B, 2), ip_row (H, B); act_* (H, 2, 2)
    # but act_g (H, 2), act_row (H,); g_t (H, 2, 2); out (S, H). ip_sig: 0 one, 1 x_cm + x,
    # 2 x_cm - x; act_kind: 0 Zp, 1 Zn.
    n_s = x.shape[0]
    h_n, b_n, _, k = ip_a.shape
    t = np.empty(k)
    aa = np.empty(k)
    cc = np.empty(k)
    w = np.empty(k)
    t2 = np.empty(2)
    z = np.empty(2)
    y = np.empty(2)
    for s in range(n_s):
        for h in range(h_n):
            zp = 0.0
            zn = 0.0
            for b in range(b_n):
                for u in range(2):
                    for i in range(k):
                        v = ip_const[h, b, u, i]
                        if ip_has[h, b, u, i]:
                            sg = ip_sig[h, b, u, i]
                            xi = x[s, ip_feat[h, b, u, i]]
                            src = 1.0 if sg == 0 else (x_cm + xi if sg == 1 else x_cm - xi)
                            v = v + (ip_a[h, b, u, i] * src + ip_b[h, b, u, i])
                        t[i] = v
                    z[u] = unit_one(t, ip_theta, ip_row[h, b], ip_st[u], k, ip_g[h, b, u],
                                    0.0, ip_hi, aa, cc, w)  # fmt: skip
                z0, z1 = _residual(z[0], z[1], ip_sign[0], ip_sign[1], ip_knots, ip_rk)
                zp += z0
                zn += z1
            for rnd in range(2 if use_gv else 1):
                for u in range(2):
                    dv = dv_dz * (y[u] - z_rest) if rnd == 1 else 0.0
                    for i in range(2):
                        zv = zp if act_kind[h, u, i] == 0 else zn
                        v = act_const[h, u, i] + (act_a[h, u, i] * zv + act_b[h, u, i])
                        t2[i] = v + g_t[h, u, i] * dv if rnd == 1 else v
                    z[u] = unit_two(t2[0], t2[1], act_theta, act_row[h], act_st[u],
                                    act_g[h, u], 0.0, act_hi)  # fmt: skip
                y[0], y[1] = _residual(z[0], z[1], act_sign[0], act_sign[1], act_knots, act_rk)
            out[s, h] = y[0] - y[1]

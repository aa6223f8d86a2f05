"""The interpolation kernel of lookup models: linear in every axis of a table
T[plane, temp, log_bias, u], evaluated in cache-sized chunks without Python loops per point."""

from __future__ import annotations

from typing import Any

import numpy as np


def _row(flat: np.ndarray, fu: np.ndarray, nu: int, k: np.ndarray) -> np.ndarray:
    """Linear interpolation along u between table entries k and k + 1 (in place)."""
    a = flat.take(k)
    if nu == 1:
        return a
    c = flat.take(k + 1)
    c -= a
    c *= fu
    c += a
    return c


class _Axis:
    """A sorted grid prepared for fast cell lookup: arithmetic on uniform grids; on uneven
    ones a uniform auxiliary bin table (no bin wider than the narrowest cell) gives the
    candidate cell, corrected by one comparison, instead of a binary search."""

    def __init__(self, grid: np.ndarray) -> None:
        self.g = np.asarray(grid, dtype=float)
        n = self.n = len(self.g)
        d = np.diff(self.g) if n > 1 else np.array([1.0])
        self.uniform = n == 1 or bool(np.allclose(d, d[0], rtol=1e-9, atol=0.0))
        self.x0, self.inv = float(self.g[0]), 1.0 / float(d[0])
        if not self.uniform:
            span = float(self.g[-1] - self.g[0])
            self.m = int(min(1 << 20, 2 * np.ceil(span / float(d.min())) + 2))
            self.ainv = self.m / span
            edges = self.g[0] + np.arange(self.m) / self.ainv
            self.aux = np.clip(np.searchsorted(self.g, edges, side="right") - 1, 0, n - 2)
            self.gnext = self.g[1:]
            self.invd = 1.0 / d

    def locate(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cell index and fraction for points inside the grid (callers clamp first)."""
        n = self.n
        if n == 1:
            return np.zeros(x.shape, np.intp), np.zeros(x.shape)
        if self.uniform:
            f = (x - self.x0) * self.inv
            i = f.astype(np.intp)
            np.clip(i, 0, n - 2, out=i)
            f -= i
            return i, f
        k = ((x - self.x0) * self.ainv).astype(np.intp)
        np.clip(k, 0, self.m - 1, out=k)
        i = self.aux.take(k)
        i += (x >= self.gnext.take(i)) & (i < n - 2)
        return i, (x - self.g.take(i)) * self.invd.take(i)


def _interp(
    stack: np.ndarray,
    axes: tuple[_Axis, _Axis, _Axis],
    plane: np.ndarray | int,
    temp_c: np.ndarray,
    bias: np.ndarray,
    u: np.ndarray,
    *,
    bias_amps: bool = False,
    per_in: bool = False,
    per_out: bool = False,
    clamp: bool = False,
    check: Any = None,
    chunk: int = 1 << 14,
) -> np.ndarray:
    """Trilinear interpolation in ``stack[plane, temp, log_bias, u]``, chunk by chunk so
    every intermediate stays in cache. With ``bias_amps`` the bias is in A (log10 taken
    here); ``per_in`` divides u by it, ``per_out`` multiplies the result by it; ``clamp``
    clips the table coordinates, else ``check(name, values, axis)`` may raise."""
    at, ab, au = axes
    _, nt, nb, nu = stack.shape
    if len(bias) == 1 and len(temp_c) == 1 and (nt > 1 or nb > 1) and len(u) > 256:
        # one operating point: blend its (at most four) temperature x bias rows into one
        # curve per plane first, then interpolate in u alone (two gathers per point, not 8)
        lb1 = np.log10(bias) if bias_amps else bias
        tc1 = temp_c
        if clamp:
            lb1 = np.clip(lb1, ab.g[0], ab.g[-1])
            tc1 = np.clip(tc1, at.g[0], at.g[-1])
        elif check is not None:
            check("temp_c", tc1, at.g)
            check("bias_a", lb1, ab.g)
        it, ft = at.locate(tc1)
        ib, fb = ab.locate(lb1)
        curve = np.zeros((stack.shape[0], nu))
        for dt, wt in ((0, 1.0 - ft[0]), (1, ft[0])):
            for db, wb in ((0, 1.0 - fb[0]), (1, fb[0])):
                if wt * wb != 0.0:
                    curve += wt * wb * stack[:, it[0] + dt, ib[0] + db, :]
        one = (_Axis(tc1), _Axis(lb1), au)
        return _interp(
            curve[:, None, None, :],
            one,
            plane,
            temp_c,
            bias,
            u,
            bias_amps=bias_amps,
            per_in=per_in,
            per_out=per_out,
            clamp=clamp,
            check=check,
            chunk=chunk,
        )
    flat = np.ascontiguousarray(stack, dtype=np.float64).ravel()
    n = len(u)
    out = np.empty(n)
    per_point = np.ndim(plane) > 0
    plane_arr = np.asarray(plane, dtype=np.intp)
    for s in range(0, n, chunk):
        e = min(n, s + chunk)
        b = bias[s:e] if len(bias) > 1 else bias  # a single bias broadcasts
        lb = np.log10(b) if bias_amps else b
        un = u[s:e] / b if per_in else u[s:e]
        tc = temp_c[s:e] if len(temp_c) > 1 else temp_c
        coords = [("temp_c", tc, at), ("bias_a", lb, ab), ("u", un, au)]
        for k, (name, x, ax) in enumerate(coords):
            if clamp:
                coords[k] = (name, np.clip(x, ax.g[0], ax.g[-1]), ax)
            elif check is not None:
                check(name, x, ax.g)
        (_, tc, _), (_, lb, _), (_, un, _) = coords
        iu, fu = au.locate(un)
        ib, fb = ab.locate(lb)
        it, ft = at.locate(tc)
        base = (it * nb + ib) * nu + iu
        if per_point:
            base += plane_arr[s:e] * (nt * nb * nu)
        elif int(plane_arr):
            base += int(plane_arr) * (nt * nb * nu)

        v = _row(flat, fu, nu, base)
        if nb > 1:
            w = _row(flat, fu, nu, base + nu)
            w -= v
            w *= fb
            v += w
        if nt > 1:
            v2 = _row(flat, fu, nu, base + nb * nu)
            if nb > 1:
                w = _row(flat, fu, nu, base + nb * nu + nu)
                w -= v2
                w *= fb
                v2 += w
            v2 -= v
            v2 *= ft
            v += v2
        if per_out:
            v *= b
        out[s:e] = v
    return out


def interp_planes(
    stack: np.ndarray,
    temp_grid: np.ndarray,
    lb_grid: np.ndarray,
    u_grid: np.ndarray,
    plane: np.ndarray | int,
    temp_c: np.ndarray,
    log_bias: np.ndarray,
    u: np.ndarray,
    chunk: int = 1 << 14,
) -> np.ndarray:
    """Trilinear interpolation in ``stack[plane, temp, log_bias, u]`` at 1-D point arrays
    inside the grid (measured against scipy's RegularGridInterpolator in
    benchmarks/lut_speed.py)."""
    axes = (_Axis(temp_grid), _Axis(lb_grid), _Axis(u_grid))
    return _interp(stack, axes, plane, temp_c, log_bias, u, clamp=True, chunk=chunk)


def hat_index(grid: np.ndarray, x: float) -> tuple[int, int, float]:
    """Clamped linear interpolation on ``grid``: (i, j, weight of j)."""
    n = len(grid)
    if n == 1:
        return 0, 0, 0.0
    v = min(max(x, float(grid[0])), float(grid[-1]))
    i = min(int(np.searchsorted(grid, v, side="right")) - 1, n - 2)
    return i, i + 1, (v - float(grid[i])) / float(grid[i + 1] - grid[i])

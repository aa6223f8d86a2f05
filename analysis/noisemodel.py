"""A cell's output noise as a model carries it: white plus flicker per operating point.

From the noise rows of a results folder (a sweep with ``[noise]``, analysis/noise.py), every
(corner, temperature, bias) gets

    S(f) = 2 q (a |out| + b bias_a) + (k2 out^2 + k0 bias_a^2) / f^alpha   (A^2/Hz at the output)

Each chip's and vector's spectrum is fitted as S = W + K/f^alpha, with equal relative weight
per frequency and alpha from 0.5 to 1.5 in steps of 0.01 (BSIM4's flicker exponent EF is
not 1 on sky130, and 1/f missed its density there by up to 45 %). The fit stops a decade
below the top of the span, where the internal poles of the cell show. Then W / 2q = a |out|
+ b bias_a by least squares over the vectors, so the white noise follows the output current
as shot noise does (a is near 1 to 2 in weak inversion), and K = k2 out^2 + k0 bias_a^2 by
non-negative least squares in relative terms: a device's flicker density grows as the square
of its current (BSIM4's KF I^AF with AF near 2), and on sky130 the MP cell's K spans 8x over
vectors (16 vectors at 10 nA and 1 uA, measured 2026-12-05), 28 % from the out^2 law against
126 % from its mean (the rest follows which inputs are active). All of them interpolate
smoothly between the fitted temperatures and biases (in log, alpha linearly), with the
spline weights of analysis/conditions.py.

A readout window T (integrate and dump) sees the variance

    W / (2 T) + K T^(alpha - 1) * integral from f0 T to infinity of sinc(x)^2 / x^alpha dx,

where f0 is the lowest characterized frequency (flicker noise has no lower bound; below f0
it is drift, not noise, for this readout).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sactk.errors import ModelError

if TYPE_CHECKING:
    import pandas as pd

Q_C = 1.602176634e-19
"""Elementary charge, C (CODATA 2018, exact)."""


def flicker_integral(x0: float, alpha: float = 1.0) -> float:
    """Integral of sinc(x)^2 / x^alpha from ``x0`` to infinity (sinc(x) = sin(pi x) /
    (pi x))."""
    x = np.logspace(np.log10(x0), 4.0, 20000)
    return float(np.trapezoid(np.sinc(x) ** 2 / x**alpha, x))


ALPHAS = np.round(np.arange(0.5, 1.5001, 0.01), 2)


def fit_spectrum(f: np.ndarray, s: np.ndarray) -> tuple[float, float, float]:
    """(W, K, alpha) of S = W + K / f^alpha, relative least squares, W and K >= 0."""
    best: tuple[float, float, float, float] | None = None
    for alpha in ALPHAS:
        a = np.stack([np.ones_like(f), f**-alpha], axis=1) / s[:, None]
        (w, k), *_ = np.linalg.lstsq(a, np.ones_like(f), rcond=None)
        w, k = max(w, 1e-3 * float(s.min())), max(k, 0.0)
        err = float(np.sum((a @ np.array([w, k]) - 1.0) ** 2))
        if best is None or err < best[0]:
            best = (err, w, k, float(alpha))
    assert best is not None
    return best[1], best[2], best[3]


@dataclass(frozen=True)
class NoiseTerms:
    """White and flicker terms per (corner, temperature, bias); see the module docstring."""

    corners: tuple[str, ...]
    temp_c: np.ndarray
    log_bias: np.ndarray
    white: np.ndarray
    """(corners, T, B, 2): (a, b) of W / 2q = a |out| + b bias_a."""
    flicker: np.ndarray
    """(corners, T, B, 2): (k2, k0) of K = k2 out^2 + k0 bias_a^2."""
    fstart_hz: float
    exponent: np.ndarray
    """(corners, T, B): alpha of the flicker term."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "form": "S(f) = 2 q (white[0] |out| + white[1] bias_a) + (flicker[0] out^2 + "
            "flicker[1] bias_a^2) / f^exponent (A^2/Hz); per corner, temp_c, bias_a; "
            "log-spline between them",
            "corners": list(self.corners),
            "temp_c": self.temp_c.tolist(),
            "bias_a": (10.0**self.log_bias).tolist(),
            "white": self.white.tolist(),
            "flicker": self.flicker.tolist(),
            "fstart_hz": self.fstart_hz,
            "exponent": self.exponent.tolist(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NoiseTerms:
        try:
            flicker = np.asarray(d["flicker"], float)
            if flicker.ndim == 3:  # models fitted before the out^2 term: k0 alone
                flicker = np.stack([np.zeros_like(flicker), flicker], axis=-1)
            return cls(
                tuple(d["corners"]),
                np.asarray(d["temp_c"], float),
                np.log10(np.asarray(d["bias_a"], float)),
                np.asarray(d["white"], float),
                flicker,
                float(d["fstart_hz"]),
                np.asarray(d["exponent"], float),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"noise: the model's noise terms are damaged ({exc}); refit") from None

    def terms(
        self, out_a: np.ndarray, bias_a: float, temp_c: float, corner: str | None
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """(W in A^2/Hz and K in A^2 Hz^(alpha-1) at outputs ``out_a``, alpha) at one
        operating point (clamped to the fitted range)."""
        from sactk.analysis.conditions import Conditions

        k = self.corner_index(corner)
        cond = Conditions(self.temp_c, self.log_bias)
        table = np.concatenate([self.white[k], self.flicker[k]], axis=-1)
        a, b, k2, k0 = np.exp(cond.at(np.log(np.maximum(table, 1e-300)), temp_c, np.log10(bias_a)))
        alpha = float(cond.at(self.exponent[k][..., None], temp_c, np.log10(bias_a))[0])
        out = np.asarray(out_a, float)
        white = 2.0 * Q_C * (a * np.abs(out) + b * bias_a)
        return white, k2 * out**2 + k0 * bias_a**2, alpha

    def corner_index(self, corner: str | None) -> int:
        if corner is None:
            return 0
        if corner not in self.corners:
            raise ModelError(f"noise: corner {corner!r} was not characterized: {self.corners}")
        return self.corners.index(corner)

    def variance(
        self,
        out_a: np.ndarray,
        bias_a: float,
        temp_c: float,
        window_s: float,
        corner: str | None = None,
    ) -> np.ndarray:
        """Output noise variance (A^2) at outputs ``out_a`` seen by an integration window
        ``window_s``."""
        if not window_s > 0:
            raise ModelError(f"noise: window_s = {window_s!r}; give a positive time (s)")
        w, k, alpha = self.terms(out_a, bias_a, temp_c, corner)
        x0 = self.fstart_hz * window_s
        return w / (2.0 * window_s) + k * window_s ** (alpha - 1.0) * flicker_integral(x0, alpha)


def fit_noise(df: pd.DataFrame) -> NoiseTerms | None:
    """The noise terms of a results frame's noise rows; None when it has none."""
    from sactk.analysis.noise import density_column, noise_rows

    rows = noise_rows(df)
    if rows.empty or density_column(rows) != "onoise_a2_hz":
        return None
    corners = tuple(sorted(rows["corner"].unique()))
    temps = np.array(sorted(rows["temp_c"].unique()), float)
    biases = np.array(sorted(rows["bias_a"].unique()), float)
    white = np.full((len(corners), len(temps), len(biases), 2), np.nan)
    flick = np.full(white.shape, np.nan)
    expo = np.full(white.shape[:3], np.nan)
    out_col = next(c for c in rows.columns if c.startswith("out_") and c.endswith("_a"))
    keys = ["corner", "temp_c", "bias_a"]
    for key, g in rows.groupby(keys, sort=True):
        corner, temp, bias = str(key[0]), float(key[1]), float(key[2])  # type: ignore[arg-type]
        ws, ks, alphas, outs = [], [], [], []
        for _, p in g.groupby(["mc_index", "point"], sort=True):
            p = p.sort_values("freq_hz")
            f, s = p["freq_hz"].to_numpy(float), p["onoise_a2_hz"].to_numpy(float)
            use = f <= max(f[-1] / 10.0, f[min(2, len(f) - 1)])
            w, k, alpha = fit_spectrum(f[use], s[use])
            ws.append(w)
            ks.append(k)
            alphas.append(alpha)
            outs.append(abs(float(p[out_col].iloc[0])))
        at = (
            corners.index(corner),
            int(np.searchsorted(temps, temp)),
            int(np.searchsorted(biases, bias)),
        )
        basis = np.stack([np.asarray(outs), np.full(len(outs), bias)], axis=1)
        if len(outs) < 3 or np.ptp(outs) < 0.05 * bias:  # one output level: all of it per bias
            coef = np.array([0.0, np.mean(ws) / (2.0 * Q_C * bias)])
        else:
            coef = np.linalg.lstsq(basis, np.asarray(ws) / (2.0 * Q_C), rcond=None)[0]
        white[at] = np.maximum(coef, 1e-6)
        flick[at] = flicker_terms(np.asarray(outs), np.asarray(ks), bias)
        expo[at] = np.mean(alphas)
    if np.isnan(white).any():
        raise ModelError(
            "noise: the noise rows miss a combination of corner, temperature and bias; sweep "
            "[noise] at every one"
        )
    fmin = float(rows["freq_hz"].min())
    return NoiseTerms(corners, temps, np.log10(biases), white, flick, fmin, expo)


def flicker_terms(outs: np.ndarray, ks: np.ndarray, bias: float) -> np.ndarray:
    """(k2, k0) of K = k2 out^2 + k0 bias^2 over the vectors' outputs ``outs`` and flicker
    coefficients ``ks``: non-negative least squares with equal relative weight per vector;
    k0 alone when the outputs do not spread (one output level)."""
    from scipy.optimize import nnls

    scale = max(float(np.mean(ks)), 1e-300)
    if len(outs) < 3 or np.ptp(outs) < 0.05 * bias or not np.all(ks > 0):
        return np.array([0.0, scale / bias**2])
    basis = np.stack([(outs / bias) ** 2, np.ones_like(outs)], axis=1) / (ks / scale)[:, None]
    coef, _ = nnls(basis, np.ones_like(outs))
    return np.asarray(coef * scale / bias**2, float)


def add_noise(
    y: np.ndarray,
    bias_a: np.ndarray,
    temp_c: np.ndarray,
    info: dict[str, Any] | None,
    window_s: float,
    seed: int,
    corner: str | None = None,
) -> np.ndarray:
    """``y`` plus seeded Gaussian output noise of the model's noise terms (``info``: what
    MODEL.json records under ``noise``) at the outputs ``y`` for an integration window
    ``window_s``."""
    if not info:
        raise ModelError(
            "evaluate: this model has no noise terms; fit it on results of a sweep with a "
            "[noise] table (sactk sweep --preset mp-noise)"
        )
    from sactk.analysis.opgrid import op_groups

    terms = NoiseTerms.from_dict(info)
    yv = np.asarray(y, float).ravel()
    b, t = (np.broadcast_to(np.asarray(a, float), np.shape(y)).ravel() for a in (bias_a, temp_c))
    sd = np.empty(b.size)
    for bi, ti, sel in op_groups(b, t):
        sd[sel] = np.sqrt(terms.variance(yv[sel], bi, ti, window_s, corner))
    rng = np.random.default_rng(seed)
    return np.asarray(y, float) + (rng.standard_normal(b.size) * sd).reshape(np.shape(y))


def _export_terms(
    info: dict[str, Any] | None, corner: str, temp_c: np.ndarray, log_bias: np.ndarray
) -> tuple[NoiseTerms, int] | None:
    """The noise terms and corner index an export writes, or None when the model has none,
    or they were characterized on another grid of temperatures and biases or corners."""
    if not info:
        return None
    terms = NoiseTerms.from_dict(info)
    same = (
        terms.temp_c.shape == temp_c.shape
        and np.allclose(terms.temp_c, temp_c)
        and terms.log_bias.shape == log_bias.shape
        and np.allclose(terms.log_bias, log_bias)
    )
    if not same or corner not in terms.corners:
        return None
    return terms, terms.corner_index(corner)


def _log_terms(terms: NoiseTerms, k: int) -> np.ndarray:
    """(4, T, B) log of a, b, k2, k0 for corner ``k`` (a zero stays ~0 through exp)."""
    table = np.stack([*np.moveaxis(terms.white[k], -1, 0), *np.moveaxis(terms.flicker[k], -1, 0)])
    return np.log(np.maximum(table, 1e-300))


K_B = 1.380649e-23
"""Boltzmann constant, J/K (SI 2019, exact)."""


def ngspice_noise(
    info: dict[str, Any] | None,
    corner: str,
    temp_c: np.ndarray,
    log_bias: np.ndarray,
    wt: list[str],
    wb: list[str],
    iout: str,
) -> tuple[list[str], str]:
    """Subcircuit lines and a current expression that give an exported ngspice model its
    output noise in ``.noise`` analysis: a 1-ohm resistor on a floating node ``nw`` makes
    4 k T V^2/Hz and a 1-ohm resistor carrying 1 A with flicker parameters kf = 1, af = 2,
    ef = alpha makes 1/f^alpha V^2/Hz at ``nf`` (ngspice's resistor noise model); the output
    current adds v(nw) sqrt(W / 4 k T) + (v(nf) - 1) sqrt(K), which is 0 at DC and carries W
    and K at the operating point (``iout``: the output current's expression). alpha is the
    corner's mean over the grid (a .model parameter cannot follow the operating point).
    ngspice devices make no noise in ``.tran``, and neither does this. Nothing when the model
    has no noise terms or they are on another grid."""
    from sactk.analysis.exportfmt import blend, num

    found = _export_terms(info, corner, temp_c, log_bias)
    if found is None:
        return [], ""
    terms, k = found
    none = np.zeros(0)
    a, b, k2, k0 = (f"exp({blend(t, wt, wb, none, [])})" for t in _log_terms(terms, k))
    alpha = float(np.mean(terms.exponent[k]))
    lines = [
        "* output noise for .noise (sactk analysis/noisemodel.py): thermal noise of rnw,",
        f"* flicker noise of rnf (1/f^{alpha:.2f}); none in .tran",
        "rnw nw 0 1",
        "inf 0 nf dc 1",
        "rnf nf 0 1 sactk_flicker",
        f".model sactk_flicker r (kf=1 af=2 ef={num(alpha)})",
        f"bna na 0 v = {a}",
        f"bnb nb 0 v = {b}",
        f"bnk2 nk2 0 v = {k2}",
        f"bnk0 nk0 0 v = {k0}",
    ]
    # max(..., 0): Newton's iterations may pass through negative values of the nodes
    expr = (
        f"v(nw) * sqrt(max(2 * {num(Q_C)} * (v(na) * abs({iout}) + v(nb) * {{bias_a}}) / "
        f"(4 * {num(K_B)} * (temper + 273.15)), 0)) + (v(nf) - 1) * "
        f"sqrt(max(v(nk2) * {iout} * {iout} + v(nk0) * {{bias_a}} * {{bias_a}}, 0))"
    )
    return lines, expr


def va_noise(
    info: dict[str, Any] | None,
    corner: str,
    temp_c: np.ndarray,
    log_bias: np.ndarray,
    wt: list[str],
    wb: list[str],
    branch: str = "out",
) -> tuple[list[str], list[str]]:
    """Verilog-A statements that give an exported model its output noise (``white_noise``
    and ``flicker_noise`` on ``I(branch)``, at the module's ``iout`` and ``bias_a``), with
    the model's condition weights ``wt``/``wb``; nothing when the model has no noise terms
    or they were characterized on another grid of temperatures and biases."""
    from sactk.analysis.exportfmt import blend, num

    found = _export_terms(info, corner, temp_c, log_bias)
    if found is None:
        return [], []
    terms, k = found
    none = np.zeros(0)
    logs = _log_terms(terms, k)
    names = ("na", "nb", "nk2", "nk0")
    body = [
        f"    {n} = exp({blend(t, wt, wb, none, [])});" for n, t in zip(names, logs, strict=True)
    ]
    body += [
        f"    nalpha = {blend(terms.exponent[k], wt, wb, none, [])};",
        f"    I({branch}) <+ white_noise(2 * {num(Q_C)} * (na * abs(iout) + nb * bias_a), "
        '"white");',
        f"    I({branch}) <+ flicker_noise(nk2 * iout * iout + nk0 * bias_a * bias_a, nalpha, "
        '"flicker");',
    ]
    return body, [*names, "nalpha"]

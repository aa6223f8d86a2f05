"""MP-unit model files: MODEL.npz (parameter planes, chips, residual, physics terms) and
MODEL.json (the description a reader needs without sactk). :meth:`MPModel.save` and
:meth:`MPModel.load` call these."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sactk.analysis.modelio import FORMAT, META_KEYS, model_stem, read_files, write_files
from sactk.analysis.mpfit import C_PRIOR, Layout
from sactk.circuits.base import result_column
from sactk.circuits.mp import SQRT_FLOOR
from sactk.errors import ModelError

if TYPE_CHECKING:
    from sactk.analysis.mpmodel import MPModel


def save_mp(
    self: MPModel, path: str | os.PathLike[str], meta: dict[str, Any] | None = None
) -> Path:
    """Write ``MODEL.npz`` and ``MODEL.json``; returns the json."""
    self._check()
    lay = self.layout_
    arrays: dict[str, np.ndarray] = {
        "params": self.params_,
        "chips": self.chips_,
        "chip_ids": self.chip_ids_,
        "log_bias": self.log_bias_,
        "temp_c": self.temp_c_,
        "corners": self.corners_,
        "r_knots": self.r_knots_,
        "resid": self.resid_,
        "coef": self.coef_,
        "resid_coef": self.resid_coef_,
        "chip_coef": self.chip_coef_,
    }
    for u, m in enumerate(lay.mix):
        arrays[f"mix{u}"] = m
    if self.power_w_ is not None:
        arrays["power_w"] = self.power_w_
    if self.chip_mean_ is not None and self.chip_basis_ is not None:
        arrays["chip_mean"] = self.chip_mean_
        arrays["chip_basis"] = self.chip_basis_
    info = {
        "format": FORMAT,
        "kind": "MPModel",
        "cell": self.cell_,
        "output": self.output_,
        "ideal": self._ideal,
        "inputs": self.inputs_,
        "form": (
            "per MP unit u: sum_k max(0, t_k + d_k - a_k s - c_k q(s)) = g, q(s) = "
            f"sqrt(max(s, 0) + {SQRT_FLOOR:g}) - sqrt({SQRT_FLOOR:g}), z_u = max(0, s + b "
            "h(s)^2), h(s) = min(max(s, 0), s_hi), terms t = (inputs / bias_a) @ mix_u + "
            "offset_u; out / bias_a = sum_u sign_u z_u + residual(that sum); parameters "
            "and residual per corner: natural cubic spline in -1000/(temp_c + 273.15) and "
            "log10(bias_a) through the planes, plus coef (E - spline of E), E = "
            "leak_law(temp_c) / bias_a (analysis/conditions.py); clamped to the fitted range"
        ),
        "units": {"inputs": "A", "output": "A", "parameters": "1 (normalized to bias_a)"},
        "layout": {
            "offset": [np.asarray(o, float).tolist() for o in lay.offset],
            "sign": list(lay.sign),
            "terms": lay.sizes,
            "parameters": "per unit: a_0..a_{K-1}, d_0..d_{K-1}, c_0..c_{K-1}, g, b",
        },
        "s_hi": self.s_hi_,
        "axes": {
            "corner": self.corners_.tolist(),
            "temp_c": self.temp_c_.tolist(),
            "bias_a": (10**self.log_bias_).tolist(),
        },
        "chips": {
            "count": len(self.chip_ids_),
            "components": 0 if self.chip_basis_ is None else len(self.chip_basis_),
            "variance_kept": self.chip_variance,
        },
        "params": {
            "output": self.output,
            "residual_knots": self.residual_knots,
            "smoothing": self.smoothing,
            "chip_variance": self.chip_variance,
            "c_prior": self.c_prior,
        },
        **self.meta_,
        **(meta or {}),
    }
    return write_files(model_stem(path), arrays, info)


def load_mp(cls: type[MPModel], path: str | os.PathLike[str]) -> MPModel:
    """Read a model written by :meth:`save`; a damaged file raises ModelError."""
    info, arr = read_files(path, "MPModel")
    try:
        p = info["params"]
        m = cls(
            output=p.get("output"),
            residual_knots=int(p["residual_knots"]),
            smoothing=float(p["smoothing"]),
            chip_variance=float(p["chip_variance"]),
            c_prior=float(p.get("c_prior", C_PRIOR)),
        )
        lay = info["layout"]
        m.layout_ = Layout(
            tuple(arr[f"mix{u}"] for u in range(len(lay["sign"]))),
            tuple(float(v) if np.ndim(v) == 0 else np.asarray(v, float) for v in lay["offset"]),
            tuple(float(v) for v in lay["sign"]),
        )
        m.cell_, m.output_, m._ideal = (str(info[k]) for k in ("cell", "output", "ideal"))
        m._ideal = result_column(m._ideal)  # files written before units in names
        m.inputs_ = [str(c) for c in info["inputs"]]
        m.s_hi_ = float(info["s_hi"])
        up = m.layout_.upgrade  # files from before the offsets d_k
        m.params_, m.chips_, m.chip_ids_ = up(arr["params"]), up(arr["chips"]), arr["chip_ids"]
        m.log_bias_, m.temp_c_ = arr["log_bias"], arr["temp_c"]
        m.corners_ = arr["corners"].astype(str)
        m.r_knots_, m.resid_ = arr["r_knots"], arr["resid"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{model_stem(path)}.json/.npz: missing or bad {exc}; refit") from None
    m.chip_mean_, m.chip_basis_ = arr.get("chip_mean"), arr.get("chip_basis")
    if m.chip_mean_ is not None and m.chip_basis_ is not None:  # old: as params
        m.chip_basis_ = up(m.chip_basis_.reshape(-1, *m.chip_mean_.shape))
        m.chip_basis_, m.chip_mean_ = (
            m.chip_basis_.reshape(len(m.chip_basis_), -1),
            up(m.chip_mean_),
        )
    m.power_w_ = arr.get("power_w")
    want = (len(m.corners_), len(m.temp_c_), len(m.log_bias_), m.layout_.n_params)
    if m.params_.shape != want or m.chips_.shape[1:] != want:
        raise ModelError(f"{model_stem(path)}.npz: parameter shape does not match its axes")
    m.meta_ = {k: v for k, v in info.items() if k in META_KEYS}
    m.info_ = info
    m._conditions()  # the physics terms' coefficients follow from the planes
    return m

"""Lookup-model files: MODEL.npz (the tables, no pickle) and MODEL.json (what the model is,
its validation and provenance, and the npz's SHA-256, so a damaged table is refused)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from sactk.circuits.base import result_column
from sactk.errors import ModelError
from sactk.files import write_bytes

FORMAT = "sactk-model/1"
META_KEYS = (
    "validation",
    "fit_points",
    "fewest_vectors",
    "cross_validation",
    "conditions_left_out",
    "noise",
)
"""What a model file's JSON carries from its fit, read back by both kinds' ``load``."""
_ARRAYS = ("table", "u_knots", "log_bias", "temp_c", "corners", "chips", "chip_ids")


def save_model(
    model: Any, path: str | os.PathLike[str], meta: dict[str, Any] | None = None
) -> Path:
    """Write a fitted model's ``MODEL.npz`` (tables) and ``MODEL.json`` (description) atomically;
    returns the json path."""
    stem = model_stem(path)
    stem.parent.mkdir(parents=True, exist_ok=True)
    arrays = {
        "table": model.table_,
        "u_knots": model.u_knots_,
        "log_bias": model.log_bias_,
        "temp_c": model.temp_c_,
        "corners": model.corners_,
        "chips": model.chips_,
        "chip_ids": model.chip_ids_,
        "coef": model.coef_,
    }
    if model.power_w_ is not None:
        arrays["power_w"] = model.power_w_
    if model.chip_mean_ is not None:
        arrays["chip_mean"] = model.chip_mean_
        arrays["chip_basis"] = model.chip_basis_
    info = {
        "format": FORMAT,
        "kind": "LookupModel",
        "cell": model.cell_,
        "output": model.output_,
        "coordinate": model.coordinate_,
        "coordinate_per_bias": bool(model.coord_per_bias_),
        "output_per_bias": bool(model.out_per_bias_),
        "form": (
            "out/bias_a = T[corner, temp_c, log10(bias_a), u], u = coordinate"
            + ("/bias_a" if model.coord_per_bias_ else "")
            + "; linear in u; in temp_c and log10(bias_a) a natural cubic spline in "
            "-1000/(temp_c + 273.15) and log10(bias_a) through the planes plus leak * (E - "
            "spline of E), E = leak_law(temp_c) / bias_a (analysis/conditions.py); corners "
            "discrete"
        ),
        "units": {
            "output": "A" if model.output_.endswith("_a") else "",
            "coordinate": "A" if model.coord_per_bias_ else "code",
            "table": "output / bias_a" if model.out_per_bias_ else "output",
            "temp_c": "degC",
            "bias_a": "A",
        },
        "axes": {
            "corner": model.corners_.tolist(),
            "temp_c": model.temp_c_.tolist(),
            "bias_a": (10**model.log_bias_).tolist(),
            "u": {
                "min": float(model.u_knots_[0]),
                "max": float(model.u_knots_[-1]),
                "knots": len(model.u_knots_),
            },
        },
        "chips": {
            "count": len(model.chip_ids_),
            "components": 0 if model.chip_basis_ is None else len(model.chip_basis_),
            "variance_kept": model.chip_variance,
        },
        "params": {
            "output": model.output,
            "knots": model.knots,
            "smoothing": model.smoothing,
            "chip_variance": model.chip_variance,
        },
        **model.meta_,
        **(meta or {}),
    }
    return write_files(stem, arrays, info)


def write_files(stem: Path, arrays: dict[str, np.ndarray], info: dict[str, Any]) -> Path:
    """``STEM.npz`` (arrays, no pickle) and ``STEM.json`` (``info`` plus the npz's SHA-256),
    both atomically; returns the json path."""
    import io

    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    data = buf.getvalue()
    write_bytes(stem.with_suffix(".npz"), data)
    info = {**info, "npz_sha256": hashlib.sha256(data).hexdigest()}
    out = stem.with_suffix(".json")
    write_bytes(out, (json.dumps(info, indent=1, default=_jsonable) + "\n").encode())
    return out


def read_files(path: str | os.PathLike[str], kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(description, arrays) of the model files at ``path``, checked: both files exist, the
    format and ``kind`` match, and the npz matches its checksum."""
    stem = model_stem(path)
    jpath, npath = stem.with_suffix(".json"), stem.with_suffix(".npz")
    for p in (jpath, npath):
        if not p.is_file():
            raise ModelError(f"{p}: no such model file; write one with `sactk fit`")
    try:
        info = json.loads(jpath.read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"{jpath}: not a model description ({exc}); refit") from None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise ModelError(f"{jpath}: format is not {FORMAT}; refit with this sactk")
    if info.get("kind", "LookupModel") != kind:
        raise ModelError(
            f"{jpath}: a {info.get('kind')}, not a {kind}; load it with sactk.api.load_model"
        )
    data = npath.read_bytes()
    if hashlib.sha256(data).hexdigest() != info.get("npz_sha256"):
        raise ModelError(
            f"{npath}: checksum does not match {jpath.name} (truncated or changed); refit"
        )
    import io

    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        arr = {k: z[k] for k in z.files}
    return info, arr


def model_kind(path: str | os.PathLike[str]) -> str:
    """The ``kind`` a model's json names (``LookupModel`` or ``MPModel``)."""
    jpath = model_stem(path).with_suffix(".json")
    try:
        info = json.loads(jpath.read_text())
    except FileNotFoundError:
        raise ModelError(f"{jpath}: no such model file; write one with `sactk fit`") from None
    except (OSError, ValueError) as exc:
        raise ModelError(f"{jpath}: not a model description ({exc}); refit") from None
    kind = info.get("kind", "LookupModel") if isinstance(info, dict) else None
    if kind not in ("LookupModel", "MPModel", "InputModel"):
        raise ModelError(f"{jpath}: unknown model kind {kind!r}; refit with this sactk")
    return str(kind)


def load_model(cls: Any, path: str | os.PathLike[str]) -> Any:
    """A ``cls`` (LookupModel) read from the files :func:`save_model` wrote; a damaged file
    raises ModelError."""
    npath = model_stem(path).with_suffix(".npz")
    info, arr = read_files(path, "LookupModel")
    for k in _ARRAYS:
        if k not in arr:
            raise ModelError(f"{npath}: array {k!r} missing; refit")
    p = info.get("params", {})
    m = cls(
        output=p.get("output"),
        knots=int(p.get("knots", 32)),
        smoothing=float(p.get("smoothing", 1e-2)),
        chip_variance=float(p.get("chip_variance", 0.99)),
    )
    m.cell_ = str(info["cell"])
    m.output_ = str(info["output"])
    m.coordinate_ = str(info["coordinate"])
    if m.coordinate_.startswith("ideal_"):  # files written before units in names: ideal_z
        m.coordinate_ = result_column(m.coordinate_)
    m.coord_per_bias_ = bool(info["coordinate_per_bias"])
    m.out_per_bias_ = bool(info["output_per_bias"])
    m.table_ = arr["table"]
    m.u_knots_ = arr["u_knots"]
    m.log_bias_ = arr["log_bias"]
    m.temp_c_ = arr["temp_c"]
    m.corners_ = arr["corners"].astype(str)
    m.chips_ = arr["chips"]
    m.chip_ids_ = arr["chip_ids"]
    m.chip_mean_ = arr.get("chip_mean")
    m.chip_basis_ = arr.get("chip_basis")
    m.power_w_ = arr.get("power_w")
    want = (len(m.corners_), len(m.temp_c_), len(m.log_bias_), len(m.u_knots_))
    if m.table_.shape != want or m.chips_.shape[1:] != want:
        raise ModelError(f"{npath}: table shape {m.table_.shape} does not match its axes")
    m.meta_ = {k: v for k, v in info.items() if k in META_KEYS}
    m.info_ = info
    m._conditions()  # the physics terms' coefficients follow from the planes
    return m


def model_stem(path: str | os.PathLike[str]) -> Path:
    """``m``, ``m.json`` and ``m.npz`` all name the model ``m``."""
    p = Path(path)
    return p.with_suffix("") if p.suffix in (".json", ".npz") else p


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return str(v)

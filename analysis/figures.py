"""What every sactk plot shares: one style, SI labels, condition labels, colours and an
atomic save of each figure as PNG and PDF."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import numpy as np

STYLE: Any = {
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "font.size": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 7,
    "legend.frameon": False,
}


def headless() -> None:
    """Select matplotlib's file-only backend (no display needed); call before pyplot."""
    import matplotlib

    matplotlib.use("Agg")


def si(x: float, unit: str) -> str:
    for f, p in ((1e-12, "p"), (1e-9, "n"), (1e-6, "u"), (1e-3, "m"), (1.0, "")):
        if abs(x) < f * 999.5:
            return f"{x / f:.3g} {p}{unit}"
    return f"{x:.3g} {unit}"


_UNITS = {"_a": ("current", "A"), "_v": ("voltage", "V"), "_w": ("power", "W"),
          "_s": ("time", "s"), "_j": ("energy", "J"), "_c": ("temperature", "C")}  # fmt: skip
_NAMES = {
    "bias_a": "bias current gamma (A)",
    "power_w": "supply power (W)",
    "settle_s": "settling time (s)",
    "energy_j": "energy per operation (J)",
    "temp_c": "temperature (C)",
    "vdd_v": "supply (V)",
}


def axis_label(column: str, per_bias: bool = False) -> str:
    """A physical axis name with its unit from a result column: ``out_z_a`` -> ``output
    current z (A)``, ``in_i0_a`` -> ``input current i0 (A)``; ``per_bias``: ``... / gamma``."""
    if column in _NAMES and not per_bias:
        return _NAMES[column]
    for suffix, (what, unit) in _UNITS.items():
        if column.endswith(suffix):
            stem = column[: -len(suffix)]
            role = {"out": "output", "in": "input", "ideal": "ideal"}.get(stem.split("_")[0], "")
            name = stem.split("_", 1)[1] if role and "_" in stem else stem
            text = f"{role} {what} {name}".strip() if role else f"{stem} {what}"
            return f"{text} / gamma" if per_bias else f"{text} ({unit})"
    return column


def condition_label(column: str, value: Any) -> str:
    """A legend entry for one condition value: ``27 C``, ``ff``, ``1.8 V``, ``w 4 um``."""
    units = {"temp_c": " C", "vdd_v": " V"}
    if column in units:
        return f"{value:g}{units[column]}"
    if column in ("w_um", "l_um"):
        return f"{column[0].upper()} {value:g} um"
    return str(value)


FORMATS: ContextVar[tuple[str, ...]] = ContextVar("FORMATS", default=("png", "pdf"))
"""The file formats :func:`save` writes; :func:`formats` changes them for a block."""


@contextmanager
def formats(*exts: str) -> Iterator[None]:
    """Within the block, plots are written only in these formats (the HTML report embeds
    PNG only, so it does not render PDFs it would throw away)."""
    token = FORMATS.set(tuple(exts))
    try:
        yield
    finally:
        FORMATS.reset(token)


def save(fig: Any, outdir: Path, name: str) -> list[Path]:
    """Lay ``fig`` out tightly, write it as outdir/name.png and .pdf (atomically), close it.
    Inside :func:`sactk.analysis.render.in_parallel` a worker process draws it."""
    from sactk.analysis import render

    paths = [Path(outdir) / f"{name}.{ext}" for ext in FORMATS.get()]
    if not render.submit(fig, paths):
        render.draw(fig, paths)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return paths


def bias_colors(biases: np.ndarray) -> dict[float, Any]:
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    n = max(len(biases) - 1, 1)
    return {b: cmap(i / n) for i, b in enumerate(sorted(biases))}

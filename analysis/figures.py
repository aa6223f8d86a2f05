"""What every sactk plot shares: one style, SI labels, condition labels, colours and an
atomic save of each figure as PNG and PDF."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import numpy as np

from sactk.files import write_figure

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
    """Lay ``fig`` out tightly, write it as outdir/name.png and .pdf (atomically), close it."""
    fig.tight_layout()
    paths = []
    for ext in FORMATS.get():
        paths.append(write_figure(Path(outdir) / f"{name}.{ext}", fig, bbox_inches="tight"))
    import matplotlib.pyplot as plt

    plt.close(fig)
    return paths


def bias_colors(biases: np.ndarray) -> dict[float, Any]:
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    n = max(len(biases) - 1, 1)
    return {b: cmap(i / n) for i, b in enumerate(sorted(biases))}

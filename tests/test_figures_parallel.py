"""Figures drawn by worker processes (sactk.analysis.render) are the same files as drawn
here, every file exists when the block ends, and a worker's error reaches the caller."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sactk.analysis import render
from sactk.analysis.figures import STYLE, formats, save


def _figure(scale: float) -> object:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(2, 2, figsize=(6, 4))
        x = np.logspace(-9, -5, 40)
        for a in ax.flat:
            a.loglog(x, scale * x**0.9, "o-", label="out")
            a.set(xlabel="bias_a", ylabel="out_a", title="transfer")
            a.legend()
        fig.suptitle("render test")
        return save(fig, TMP[0], f"fig{scale:g}")


TMP: list[Path] = []


def test_workers_write_the_same_png_bytes_as_this_process(tmp_path: Path) -> None:
    here, there = tmp_path / "here", tmp_path / "there"
    with formats("png"):
        TMP[:] = [here]
        a = _figure(1.0) + _figure(2.0)
        with render.in_parallel(workers=2):
            TMP[:] = [there]
            b = _figure(1.0) + _figure(2.0)
            assert render._STATE["pool"] is not None  # drawn by workers, not here
            # handed out: the caller got the paths before the files exist, at the latest
            # when the block ends
        TMP.clear()
    assert [p.name for p in a] == [p.name for p in b] == ["fig1.png", "fig2.png"]
    for p, q in zip(a, b, strict=True):
        assert q.is_file() and p.read_bytes() == q.read_bytes(), q


def test_a_worker_error_reaches_the_caller(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    with pytest.raises(ValueError, match=r"[Ff]ormat"), render.in_parallel(workers=2):
        assert render.submit(fig, [tmp_path / "plot.nosuchformat"])
    plt.close(fig)
    assert render._STATE["pool"] is None and render._STATE["depth"] == 0


def test_outside_the_block_figures_are_drawn_here(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, _ = plt.subplots()
    assert not render.submit(fig, [tmp_path / "x.png"])
    with render.in_parallel(workers=1):
        assert not render.submit(fig, [tmp_path / "x.png"])
    plt.close(fig)
    assert not (tmp_path / "x.png").exists()

"""Figures drawn in worker processes while the caller goes on.

Laying out and drawing a figure costs far more than building it: a 3 x 3 panel transfer
plot on log axes takes about 0.3 s to build and 2 to 5 s to lay out and write as PNG and PDF
(matplotlib's tick and text layout). Inside :func:`in_parallel`, :func:`sactk.analysis.
figures.save` pickles each built figure (matplotlib figures pickle) with the rcParams it was
built under and hands it to spawned workers, one per core; the caller builds the next figure
or simulates meanwhile. The block ends when every file is written, and re-raises a worker's
error. A figure that does not pickle is drawn in the caller, as it is outside the block and
on one core. The files are the same bytes either way (tests/test_figures_parallel.py).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_STATE: dict[str, Any] = {"depth": 0, "pool": None, "pending": []}


@contextmanager
def in_parallel(workers: int | None = None) -> Iterator[None]:
    """Within the block, figures are drawn by ``workers`` processes (default: this process's
    cores; 1 draws here). At its end every file is written. Blocks nest: the outermost
    waits and stops the workers."""
    from sactk.procs import cores

    n = cores() if workers is None else int(workers)
    outer = _STATE["depth"] == 0
    if outer:
        _STATE["workers"] = n
    _STATE["depth"] += 1
    try:
        yield
        if outer:
            flush()
    finally:
        _STATE["depth"] -= 1
        if outer:
            pool, _STATE["pool"], _STATE["pending"] = _STATE["pool"], None, []
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)


def flush() -> None:
    """Wait until every figure handed out so far is written; re-raise the first error."""
    pending, _STATE["pending"] = _STATE["pending"], []
    first: BaseException | None = None
    for f in pending:
        err = f.exception()
        first = first or err
    if first is not None:
        raise first


def submit(fig: Any, paths: list[Path]) -> bool:
    """Hand ``fig`` to a worker to lay out and write as ``paths``; False (nothing done)
    outside :func:`in_parallel`, with one worker, or when the figure does not pickle."""
    if _STATE["depth"] == 0 or _STATE.get("workers", 1) < 2:
        return False
    import pickle

    import matplotlib

    try:
        blob = pickle.dumps(fig, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return False
    defaults = matplotlib.rcParamsDefault
    rc = {
        k: v
        for k, v in matplotlib.rcParams.items()
        if k != "backend" and k in defaults and v != defaults[k]
    }
    if _STATE["pool"] is None:
        from sactk.procs import spawn_pool

        _STATE["pool"] = spawn_pool(_STATE["workers"], initializer=_headless)
    _STATE["pending"].append(_STATE["pool"].submit(draw_pickled, blob, rc, [str(p) for p in paths]))
    return True


def _headless() -> None:
    import matplotlib

    matplotlib.use("Agg")


def draw(fig: Any, paths: list[Path]) -> None:
    """Lay ``fig`` out tightly and write it to each of ``paths`` (format from the suffix,
    atomically); what :func:`sactk.analysis.figures.save` does here or in a worker."""
    from sactk.files import write_bytes

    fig.tight_layout()
    for path in paths:
        buf = io.BytesIO()
        fig.savefig(buf, format=path.suffix.lstrip("."), bbox_inches="tight")
        write_bytes(path, buf.getvalue())


def draw_pickled(blob: bytes, rc: dict[str, Any], paths: list[str]) -> None:
    """In a worker: :func:`draw` a pickled figure under the rcParams it was built with."""
    import pickle

    import matplotlib
    import matplotlib.pyplot as plt

    with matplotlib.rc_context(rc):  # type: ignore[arg-type]
        fig = pickle.loads(blob)
        try:
            draw(fig, [Path(p) for p in paths])
        finally:
            plt.close(fig)

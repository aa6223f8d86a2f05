"""A job's result rows as they are simulated, collected as columns (every backend's
output format: one entry per point, instance-major)."""

from __future__ import annotations

from typing import Any

from sactk.sweeps.plan import Job


class Recorder:
    """Collects a job's rows as columns: coordinates, per-vector columns, outputs, status."""

    EXTRA = ("power_w", "settle_s", "energy_j")

    def __init__(self, job: Job) -> None:
        self.job = job
        self.mc_index: list[int] = []
        self.vec: list[int] = []
        extra: tuple[str, ...] = self.EXTRA
        if job.noise is not None:
            ns = job.noise
            extra = (*extra, "freq_hz", f"onoise_{ns.out_unit}", f"inoise_{ns.in_unit}")
        if job.ac is not None:
            extra = (*extra, "freq_hz", f"ac_gain{job.ac.unit}", "ac_phase_deg")
        self.outputs: dict[str, list[float]] = {c: [] for c in (*job.output_columns, *extra)}
        self.status: list[str] = []

    def add(self, mc_index: int, v: int, result: dict[str, float] | str) -> None:
        self.mc_index.append(mc_index)
        self.vec.append(v)
        ok = isinstance(result, dict)
        for c, col in self.outputs.items():
            col.append(result.get(c, float("nan")) if isinstance(result, dict) else float("nan"))
        self.status.append("ok" if ok else str(result))

    def add_block(self, mc_index: int, start: int, cols: dict[str, Any]) -> None:
        """Points ``start``, ``start + 1``, ... of one chip, all solved: ``cols`` maps each
        output to its values over the points (a dc analysis's vectors); outputs it lacks
        are NaN. The same rows as :meth:`add` one point at a time, without a dict a point."""
        n = len(next(iter(cols.values())))
        self.mc_index.extend([mc_index] * n)
        self.vec.extend(range(start, start + n))
        for c, col in self.outputs.items():
            col.extend(cols[c].tolist() if c in cols else [float("nan")] * n)
        self.status.extend(["ok"] * n)

    def columns(self) -> dict[str, Any]:
        import numpy as np

        n = len(self.status)
        idx = np.asarray(self.vec, dtype=int)
        cols: dict[str, Any] = {k: [v] * n for k, v in self.job.coords.items()}
        cols["mc_index"] = np.asarray(self.mc_index, dtype=np.int64)
        for k, pv in self.job.point_columns.items():
            cols[k] = np.asarray(pv)[idx] if n else np.asarray(pv)[:0]
        for k, ov in self.outputs.items():
            cols[k] = np.asarray(ov, dtype=float)
        cols["status"] = self.status
        return cols

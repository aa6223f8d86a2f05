"""The one reader of results folders for analysis and the workflows above it.

A results folder (``sactk sweep --out DIR``) holds ``results.parquet`` and ``manifest.json``
(sweeps/store.py writes both). :func:`load_results` checks and reads them once and hands
back the tidy table with its manifest; nothing in analysis opens those files itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Results:
    """A results folder in memory."""

    path: Path
    frame: pd.DataFrame
    """The tidy table: one row per simulated point (pandas DataFrame)."""
    manifest: dict[str, Any]
    """spec, technology, seeds, tool versions and per-job status."""

    @property
    def netlist_hashes(self) -> list[str]:
        return sorted({j.get("netlist_hash", "") for j in self.manifest.get("jobs", {}).values()})

    @property
    def failed_points(self) -> int:
        return int((self.frame["status"] != "ok").sum())

    def failure_note(self) -> str:
        """'' when every point simulated; else one line: how many failed, the first reason
        and the fix."""
        n = self.failed_points
        if not n:
            return ""
        first = str(self.frame.loc[self.frame["status"] != "ok", "status"].iloc[0])
        what = "all" if n == len(self.frame) else f"{n} of"
        left = "" if n == len(self.frame) else "; they are left out"
        return (
            f"{self.path}: {what} {len(self.frame)} points failed (first: {first}){left}. "
            f"Rerun the same `sactk sweep` into {self.path}: failed jobs run again"
        )


def load_results(path: str | os.PathLike[str]) -> Results:
    """Read a results folder; a missing, damaged or foreign folder, or one where no point
    simulated, raises SpecError (exit 2)."""
    from sactk.errors import SpecError
    from sactk.sweeps.store import read_manifest, read_results

    manifest = read_manifest(path)
    frame = upgrade_reference_columns(read_results(path, manifest))
    res = Results(Path(path), frame, manifest)
    if res.failed_points == len(res.frame):
        raise SpecError(f"no usable points: {res.failure_note()}")
    return res


def upgrade_reference_columns(df: pd.DataFrame) -> pd.DataFrame:
    """A results table with today's reference column names: a folder written before units
    were in these names (``ideal_z``, ``dot_xw``), or resumed across that change (both
    names, each filled on its own parts), reads as one column ``ideal_z_a``."""
    from sactk.circuits.base import legacy_reference_columns

    legacy = legacy_reference_columns(list(df.columns))
    if not legacy:
        return df
    df = df.copy()
    for old, new in legacy.items():
        df[new] = df[new].fillna(df[old]) if new in df.columns else df[old]
    return df.drop(columns=list(legacy))

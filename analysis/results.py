"""The one reader of results folders for analysis and the workflows above it.

A results folder (``sactk sweep --out DIR``) holds ``results.parquet`` and ``manifest.json``
(sweeps/store.py writes both). :func:`load_results` checks and reads them once and hands
back the tidy table with its manifest; nothing in analysis opens those files itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Results:
    """A results folder in memory."""

    path: Path
    frame: Any
    """The tidy table: one row per simulated point (pandas DataFrame)."""
    manifest: dict[str, Any]
    """spec, technology, seeds, tool versions and per-job status."""

    @property
    def spec(self) -> dict[str, Any]:
        return dict(self.manifest.get("spec", {}))

    @property
    def netlist_hashes(self) -> list[str]:
        return sorted({j.get("netlist_hash", "") for j in self.manifest.get("jobs", {}).values()})


def load_results(path: str | os.PathLike[str]) -> Results:
    """Read a results folder; a missing, damaged or foreign folder raises SpecError (exit 2)."""
    from sactk.sweeps.store import read_manifest, read_results

    manifest = read_manifest(path)
    return Results(Path(path), read_results(path, manifest), manifest)

"""Tool versions recorded with every result, model and experiment summary."""

from __future__ import annotations

import platform
from functools import cache


@cache
def _installed() -> tuple[tuple[str, str], ...]:
    """Looked up once a process: each lookup scans the installed distributions (about
    30 ms a sweep paid twice, docs/benchmarks.md "Peers")."""
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for pkg in ("sactk", "PySpice", "numpy", "pandas", "pyarrow"):
        try:
            out.append((pkg, version(pkg)))
        except PackageNotFoundError:
            out.append((pkg, "not installed"))
    return tuple(out)


def tool_versions(ngspice_version: str = "") -> dict[str, str]:
    """Python and the installed versions of sactk and the libraries results depend on."""
    out = {"python": platform.python_version(), **dict(_installed())}
    if ngspice_version.startswith("vacask "):  # the VACASK backend's version string
        out["vacask"] = ngspice_version.removeprefix("vacask ")
    elif ngspice_version:
        out["ngspice"] = ngspice_version
    return out

"""Tool versions recorded with every result, model and experiment summary."""

from __future__ import annotations

import platform


def tool_versions(ngspice_version: str = "") -> dict[str, str]:
    """Python and the installed versions of sactk and the libraries results depend on."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("sactk", "PySpice", "numpy", "pandas", "pyarrow"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    if ngspice_version:
        out["ngspice"] = ngspice_version
    return out

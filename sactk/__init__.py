"""sactk: SPICE-level characterization of analog and approximate ML compute circuits.

``import sactk`` stays light: NumPy-free, PySpice-free. Subpackages:
``sactk.circuits`` (cells), ``sactk.netlists`` (technologies, netlist text),
``sactk.sweeps`` (specs, jobs, backends, results), ``sactk.analysis`` (metrics, plots) and
``sactk.system`` (system-level models).
"""

from pathlib import Path as _Path

# Installed, the subpackages sit inside sactk/ (pyproject's package-dir maps circuits/ to
# sactk.circuits, and so on). Imported straight from a source checkout (the repository root on
# sys.path), they are sibling folders of sactk/: let the package find them there too.
_here = _Path(__file__).resolve().parent
if not (_here / "circuits").is_dir() and (_here.parent / "circuits" / "mp.py").is_file():
    __path__.append(str(_here.parent))

from sactk.errors import ModelError, SactkError, SimulationError, SpecError  # noqa: E402

__version__ = "0.1.0"
__all__ = ["ModelError", "SactkError", "SimulationError", "SpecError", "__version__"]

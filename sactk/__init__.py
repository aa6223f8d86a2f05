"""sactk: SPICE-level characterization of analog and approximate ML compute circuits.

``import sactk`` stays light: NumPy-free, PySpice-free. Subpackages:
``sactk.circuits`` (cells), ``sactk.netlists`` (technologies, netlist text),
``sactk.sweeps`` (specs, jobs, backends, results), ``sactk.analysis`` (metrics, plots) and
``sactk.system`` (system-level models).
"""

from sactk.errors import ModelError, SactkError, SimulationError, SpecError

__version__ = "0.1.0"
__all__ = ["ModelError", "SactkError", "SimulationError", "SpecError", "__version__"]

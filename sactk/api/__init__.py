"""sactk's Python API: every workflow the ``sactk`` command runs, as plain functions.

The CLI only parses arguments, calls these and prints what they return. Each function takes
typed arguments and returns results or paths; none prints (pass a ``reporter`` to hear
progress, see :mod:`sactk.api.reporter`). Heavy libraries load inside the functions.

>>> from sactk import api
>>> spec = api.load(preset="mp-dc", overrides=["sweep.bias_a=[1e-7]"])
>>> summary = api.sweep(spec, "r1")                       # doctest: +SKIP
>>> model, path = api.fit("r1", "r1-model")               # doctest: +SKIP

| workflow | function |
| --- | --- |
| sweeps | :func:`load`, :func:`presets`, :func:`sweep`, :func:`sweep_preset` |
| plots, tables, report | :func:`plot`, :func:`report` |
| cell models | :func:`fit`, :func:`load_model`, :func:`export`, :func:`roundtrip` (and its
  older names :func:`export_roundtrip`, :func:`mp_roundtrip`) |
| adaptive characterization | :func:`refine` |
| S-AC regression | :func:`dataset`, :func:`regress` |
| stochastic computing | ``sc.train``, ``sc.fit_device``, ``sc.mac_cost`` |
| AIMC and the NMPU | ``aimc.characterize``, ``aimc.evaluate``, ``aimc.bits`` |
| a layer in SPICE | ``layer.verify_layer``, ``verify_regression``, ``step_response`` |
| the demo | :func:`demo` |
"""

import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names as the type checker sees them; at run time they load lazily
    from sactk.api import aimc, layer, models, sc
    from sactk.api.characterize import Characterization, plot, report
    from sactk.api.demo import demo
    from sactk.api.models import (
        export,
        export_roundtrip,
        fit,
        load_model,
        mp_roundtrip,
        roundtrip,
    )
    from sactk.api.refine import Refinement, refine
    from sactk.api.regress import dataset, regress
    from sactk.api.reporter import Quiet, Reporter
    from sactk.api.sweeping import crosscheck, load, preset_text, presets, sweep, sweep_preset
    from sactk.netlists.render import spice_number

_WHERE = {
    "Characterization": "sactk.api.characterize",
    "plot": "sactk.api.characterize",
    "report": "sactk.api.characterize",
    "demo": "sactk.api.demo",
    "export": "sactk.api.models",
    "export_roundtrip": "sactk.api.models",
    "fit": "sactk.api.models",
    "load_model": "sactk.api.models",
    "mp_roundtrip": "sactk.api.models",
    "roundtrip": "sactk.api.models",
    "Refinement": "sactk.api.refine",
    "refine": "sactk.api.refine",
    "dataset": "sactk.api.regress",
    "regress": "sactk.api.regress",
    "Quiet": "sactk.api.reporter",
    "Reporter": "sactk.api.reporter",
    "crosscheck": "sactk.api.sweeping",
    "load": "sactk.api.sweeping",
    "preset_text": "sactk.api.sweeping",
    "presets": "sactk.api.sweeping",
    "sweep": "sactk.api.sweeping",
    "sweep_preset": "sactk.api.sweeping",
    "spice_number": "sactk.netlists.render",
}
_MODULES = ("aimc", "layer", "models", "sc")


class _Api(types.ModuleType):
    """The package as a module whose function names win over its submodules' names.

    ``sactk.api.demo``, ``regress`` and ``refine`` are both submodules and functions. Importing
    such a submodule (``from sactk.api.regress import verify_regression``) makes Python bind
    the module to the package's attribute of that name; this binds the function instead, as
    the package's eager imports used to."""

    def __setattr__(self, name: str, value: Any) -> None:
        if (
            isinstance(value, types.ModuleType)
            and _WHERE.get(name) == value.__name__
            and hasattr(value, name)
        ):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Api


def __getattr__(name: str) -> Any:
    """Names load on first use (PEP 562), so ``sactk --version`` and ``--help`` import
    neither NumPy nor the workflows."""
    import importlib

    if name in _MODULES:
        value: Any = importlib.import_module(f"sactk.api.{name}")
    elif name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
    else:
        raise AttributeError(f"module 'sactk.api' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "Characterization",
    "Quiet",
    "Refinement",
    "Reporter",
    "aimc",
    "crosscheck",
    "dataset",
    "demo",
    "export",
    "export_roundtrip",
    "fit",
    "layer",
    "load",
    "load_model",
    "models",
    "mp_roundtrip",
    "plot",
    "preset_text",
    "presets",
    "refine",
    "regress",
    "report",
    "roundtrip",
    "sc",
    "spice_number",
    "sweep",
    "sweep_preset",
]

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

from sactk.api import aimc, layer, sc
from sactk.api.characterize import Characterization, plot, report
from sactk.api.demo import demo
from sactk.api.models import export, export_roundtrip, fit, load_model, mp_roundtrip, roundtrip
from sactk.api.refine import Refinement, refine
from sactk.api.regress import dataset, regress
from sactk.api.reporter import Quiet, Reporter
from sactk.api.sweeping import crosscheck, load, preset_text, presets, sweep, sweep_preset
from sactk.netlists.render import spice_number

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

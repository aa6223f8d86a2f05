"""The docs generator: every figure in docs/img and every generated block of README.md and
docs/*.md comes from a function here (``python docs/make_figures.py [NAME ...]``).

A block between ``<!-- generated: NAME -->`` and ``<!-- /generated: NAME -->`` is rewritten
by the function that makes NAME; tests/test_docs.py recomputes the c180 numbers of the MP
blocks and checks that every block has a writer here. The generator is the application's
client, like the CLI: it composes ``sactk.api`` and the layers below, and nothing imports it.
"""

from __future__ import annotations

from collections.abc import Callable


def figures() -> dict[str, Callable[[], None]]:
    """Every generator by name, in the order a full run makes them (all but those of
    :data:`NEEDS_PDKS`, which need PDK_ROOT and are asked for by name)."""
    from sactk.docsgen import cells, conditions, noise, systems

    return {
        "mp_numbers": cells.mp_numbers,
        "model_curves": cells.model_curves,
        "mp_figures": cells.mp_figures,
        "engine_figures": cells.engine_figures,
        "cell_figures": cells.cell_figures,
        "lookup_figures": cells.lookup_figures,
        "model_nominal_numbers": systems.model_nominal_numbers,
        "model_chip_numbers": systems.model_chip_numbers,
        "model_conditions": conditions.model_conditions,
        "regression_figures": systems.regression_figures,
        "demo_time": systems.demo_time,
        "layer_figures": systems.layer_figures,
        "sc_figures": systems.sc_figures,
        "aimc_figures": systems.aimc_figures,
        "process_comparison": systems.process_comparison,
        "noise_figures": noise.noise_figures,
        "layer_noise_figures": noise.layer_noise_figures,
        "bandwidth_figures": noise.bandwidth_figures,
        "export_noise_figures": noise.export_noise_figures,
        "chip_noise_figures": noise.chip_noise_figures,
    }


NEEDS_PDKS = (
    "process_comparison",
    "noise_figures",
    "export_noise_figures",
    "chip_noise_figures",
)
"""Generators that need PDK_ROOT: run only when asked for by name."""


def main(names: list[str]) -> int:
    """Run the generators ``names`` (all of them when empty); an unknown name is refused
    with the known ones listed."""
    from sactk.docsgen.common import IMG

    known = figures()
    unknown = [n for n in names if n not in known]
    if unknown:
        print(f"make_figures: unknown {', '.join(unknown)}; known: {', '.join(known)}")
        return 2
    IMG.mkdir(exist_ok=True)
    for name in names or [n for n in known if n not in NEEDS_PDKS]:
        known[name]()
    print("figures written to", IMG)
    return 0

"""The S-AC neuron's speed and energy from the layer netlist's step response (``sactk verify
step``): settling time and the supply power split into a per-neuron and a shared part."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sactk.analysis.layercheck import ACT_W_UM, STEP_BIASES, STEP_WINDOW_AS
from sactk.api.reporter import Quiet, Reporter


def step_response(
    out: str | Path,
    biases: tuple[float, ...] = STEP_BIASES,
    *,
    features: int = 2,
    temp_c: float = 27.0,
    seed: int = 0,
    tolerance: float = 0.01,
    jobs: int | None = None,
    reporter: Reporter | None = None,
) -> Any:
    """The neuron's speed and energy from the layer netlist's step response: every input of
    a ``features`` x 2 layer (seeded weights, nominal devices, the built-in cell sizes)
    steps from -0.4 to +0.4 gamma; each neuron's output must settle within ``tolerance``
    (the slower one counts). The supply power of a 1- and a 2-neuron layer splits into a
    per-neuron and a shared part. Writes OUT/layer_step.csv; returns its rows: bias_a,
    temp_c, settle_layer_s, power_neuron_w, power_shared_w, features."""
    import pandas as pd

    from sactk.analysis.layercheck import split_power
    from sactk.circuits import inner, shape
    from sactk.circuits.layer import LayerParams, build_layer
    from sactk.files import write_csv
    from sactk.netlists.technology import get_technology
    from sactk.seeds import stream_rng
    from sactk.sweeps import layer as sim

    rep = reporter or Quiet()
    tech = get_technology("c180")
    W = stream_rng(seed, 0x57E).uniform(-0.4, 0.4, (2, features))
    x0, x1 = np.full(features, -0.4), np.full(features, 0.4)
    jobs_list = []
    for i, b in enumerate(biases):
        for h in (1, 2):
            lp = LayerParams(
                features, h, inner.Params(n_inputs=4), shape.Params(w_um=ACT_W_UM), 4.0, 0.5
            )
            lay = build_layer(lp, tech, W[:h], bias_a=b, temp_c=temp_c)
            window = STEP_WINDOW_AS / b
            # one transient a layer: every neuron's output must settle in it
            jobs_list.append(
                sim.step_job(lay, x0, x1, window, tolerance, f"{i}-{h}", tuple(range(h)))
            )
    rep.message(f"layer step response: {len(biases)} biases, {len(jobs_list)} transients")
    res = sim.run(jobs_list, jobs)
    rows = []
    for i, b in enumerate(biases):
        p1, p2 = (float(res[f"{i}-{h}"]["power_w"].iloc[0]) for h in (1, 2))
        settle = float(res[f"{i}-2"]["settle_s"].iloc[0])  # the slower of the two neurons
        neuron_w, shared_w = split_power(p1, p2)
        rows.append({"bias_a": b, "temp_c": temp_c, "settle_layer_s": settle,
                     "power_neuron_w": neuron_w, "power_shared_w": shared_w,
                     "features": features})  # fmt: skip
    frame = pd.DataFrame(rows)
    write_csv(Path(out) / "layer_step.csv", frame)
    return frame

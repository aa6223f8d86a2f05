"""An exported model's output noise against the transistor cell's, at vectors the model
never saw: the ngspice and Verilog-A exports in their simulators' own noise analyses
(``sactk.api.models.noise_roundtrip``), beside the density the sweep measured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

FREQS_HZ = (10.0, 1e3, 1e5)
"""The frequencies of the comparison: flicker, the corner region, white."""


def export_noise_check(
    model_path: str | Path,
    results: str | Path,
    out: str | Path,
    *,
    simulators: tuple[str, ...] = ("ngspice", "vacask"),
    vectors: int = 3,
) -> Any:
    """Per bias of ``results`` (a noise sweep of the model's cell at 27 C, other vectors
    than the fit's) and its first ``vectors`` vectors, at FREQS_HZ: the measured density,
    the model's and each export's in its simulator. Exports go to ``out``. Returns rows
    bias_a, point, freq_hz, cell_a2_hz, model_a2_hz, <simulator>_a2_hz and the ratios
    <simulator>_ratio = export / cell."""
    import numpy as np
    import pandas as pd

    from sactk.analysis.noise import at_frequency, noise_rows
    from sactk.analysis.noisemodel import NoiseTerms
    from sactk.analysis.results import load_results
    from sactk.api.models import export, load_model, noise_roundtrip

    m: Any = load_model(model_path)
    terms = NoiseTerms.from_dict(m.meta_.get("noise") or {})
    out = Path(out)
    paths = {"ngspice": out / "model.sub", "vacask": out / "verilog-a"}
    for sim in simulators:
        export(m, "ngspice" if sim == "ngspice" else "verilog-a", paths[sim])
    rows = noise_rows(load_results(results).frame)
    ins = list(m.inputs_)
    recs = []
    key: Any
    for key, g in rows.groupby(["bias_a", "point"], sort=True):
        bias, point = float(key[0]), int(key[1])
        if point >= vectors:
            continue
        g = g[g["mc_index"] == g["mc_index"].min()].sort_values("freq_hz")
        f, s = g["freq_hz"].to_numpy(float), g["onoise_a2_hz"].to_numpy(float)
        x = g[ins].iloc[0].to_numpy(float)
        temp = float(g["temp_c"].iloc[0])
        y = m.evaluate(x[None], bias, temp)
        w, k, alpha = terms.terms(np.atleast_1d(y), float(bias), temp, str(g["corner"].iloc[0]))
        span = (FREQS_HZ[0], FREQS_HZ[-1], 1)
        got = {
            sim: noise_roundtrip(m, paths[sim], x, bias, temp, simulator=sim, span=span)
            for sim in simulators
        }
        for hz in FREQS_HZ:
            cell = at_frequency(f, s, hz)
            rec = {"bias_a": float(bias), "point": int(point), "freq_hz": hz,
                   "cell_a2_hz": cell, "model_a2_hz": float(w[0] + k[0] / hz**alpha)}  # fmt: skip
            for sim, (fs, ss) in got.items():
                v = float(ss[int(np.argmin(np.abs(fs - hz)))])
                rec[f"{sim}_a2_hz"], rec[f"{sim}_ratio"] = v, v / cell
            recs.append(rec)
    return pd.DataFrame(recs)

"""The models between fitted conditions (docs/lookup.md): errors at temperatures and biases
the fit never saw, the k-fold figure's stability over seeds, three temperatures against the
left-out-condition figure and ``sactk refine``, and the exports at an unfitted 60 C."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from sactk import api
from sactk.docsgen.common import DOCS, pct, write_block

GRID = {"sweep.temp_c": [-40.0, 27.0, 85.0, 125.0], "sweep.bias_a": [1e-8, 1e-7, 1e-6, 1e-5]}
UNFITTED = {"sweep.temp_c": [0.0, 50.0, 100.0], "sweep.bias_a": [3e-8, 3e-7, 3e-6]}
MP_SET = {"mc.instances": 20, "mc.per_job": 20, "inputs.random.count": 120}
CELLS: tuple[tuple[str, str, dict[str, Any], dict[str, Any], str, str], ...] = (
    ("MP, 4 inputs", "mp-mc", MP_SET, {"inputs.random.seed": 2, "inputs.random.count": 60},
     "0.3 / 0.1", "auto"),
    ("inner product, N = 4", "inner-product-mc", {},
     {"inputs.random.seed": 2, "inputs.random.count": 60}, "0.5 / 0.15", "auto"),
    ("tanh: lookup table (`sactk fit`)", "shape-tanh-mc", {}, {"inputs.sweep.points": 64},
     "0.5 / -", "auto"),
    ("tanh: MP units (`--kind mp`)", "shape-tanh-mc", {}, {"inputs.sweep.points": 64},
     "0.5 / -", "mp"),
)  # fmt: skip


def _row(name: str, bound: str, m: Any) -> str:
    v = m.meta_["validation"]
    c = v["chips"]
    cv, lo = m.meta_["cross_validation"], m.meta_["conditions_left_out"]
    return (
        f"| {name} | {bound} | {pct(100 * v['max_err_fs'])} | {pct(100 * c['max_err_fs'])} | "
        f"{pct(100 * c['worst_chip_rms_err_fs'])} | {pct(100 * c['rms_err_fs'])} | "
        f"{pct(100 * cv['max_err_fs'])} | {pct(100 * lo['max_err_fs'])} |"
    )


def model_conditions() -> None:
    """docs/lookup.md blocks model_conditions, model_folds, model_three_temps and
    model_exports_60c (about 15 minutes on two cores)."""
    import numpy as np

    from sactk.analysis.lutfit import ok_rows, validation
    from sactk.analysis.results import load_results
    from sactk.analysis.validation import headline

    tmp = Path(tempfile.mkdtemp())
    try:
        rows: list[str] = []
        models: dict[str, Any] = {}
        for name, preset, sets, test_sets, bound, kind in CELLS:
            api.sweep_preset(preset, tmp / f"{preset}-fit", updates={**GRID, **sets})
            api.sweep_preset(
                preset, tmp / f"{preset}-test", updates={**UNFITTED, **sets, **test_sets}
            )
            m, _ = api.fit(
                tmp / f"{preset}-fit",
                tmp / "m" / f"{preset}-{kind}",
                validate=tmp / f"{preset}-test",
                kind=kind,
            )
            models.setdefault(preset, m)
            rows.append(_row(name, bound, m))
        head = (
            "| cell | bound: max / RMS | nominal max | chips: worst max | worst chip RMS | "
            "worst RMS at one condition | new vectors, worst fold | conditions left out |\n"
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"
        )
        write_block(DOCS / "lookup.md", "model_conditions", head + "\n".join(rows))

        folds = [
            "| fold seed | worst fold: max | worst fold: worst RMS |",
            "| ---: | ---: | ---: |",
        ]
        for seed in range(4):
            m, _ = api.fit(tmp / "mp-mc-fit", tmp / "m" / f"seed{seed}", seed=seed)
            cv = m.meta_["cross_validation"]
            folds.append(
                f"| {seed} | {pct(100 * cv['max_err_fs'])} | {pct(100 * cv['worst_rms_err_fs'])} |"
            )
        write_block(DOCS / "lookup.md", "model_folds", "\n".join(folds))

        three = {"sweep.temp_c": [-40.0, 27.0, 125.0], "sweep.bias_a": GRID["sweep.bias_a"]}
        api.sweep_preset("mp-mc", tmp / "three", updates={**three, **MP_SET})
        at70 = {"sweep.temp_c": [70.0], "sweep.bias_a": GRID["sweep.bias_a"]}
        api.sweep_preset("mp-mc", tmp / "at70", updates={**at70, **MP_SET, **CELLS[0][3]})
        m3, _ = api.fit(tmp / "three", tmp / "m" / "three", validate=tmp / "at70")
        lo = m3.meta_["conditions_left_out"]
        t27 = next(r for r in lo["per_condition"] if r["axis"] == "temp_c")
        h70 = headline(m3.meta_["validation"])
        ref = api.refine(
            preset="mp-mc",
            out=tmp / "refine",
            updates={**three, **MP_SET},
            target_fs=3e-3,
            max_points=300_000,
        )
        t70 = ok_rows(load_results(tmp / "at70").frame)
        r70 = headline(validation(ref.model, t70, "at 70 C"))
        added_t = sorted(set(ref.model.temp_c_.tolist()) - set(three["sweep.temp_c"]))
        added_b = sorted(
            set((10**ref.model.log_bias_).round(12).tolist()) - set(GRID["sweep.bias_a"])
        )
        lines = [
            "| model | points simulated | left out: worst max | left out: 27 C max "
            "(a quarter: estimate) | measured at 70 C: max | at 70 C: worst chip RMS |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
            f"| fitted at -40, 27, 125 C x 4 biases | {len(load_results(tmp / 'three').frame)} | "
            f"{pct(100 * lo['max_err_fs'])} | {pct(100 * t27['max_err_fs'])} "
            f"({pct(25 * t27['max_err_fs'])}) | {pct(100 * h70['max_err_fs'])} | "
            f"{pct(100 * h70['worst_rms_err_fs'])} |",
            f"| `sactk refine --target-pct 0.3` from there: {len(ref.rounds)} rounds, added "
            f"{', '.join(f'{t:g} C' for t in added_t) or 'no temperature'} and "
            f"{', '.join(f'{b:.3g} A' for b in added_b) or 'no bias'}, stopped at {ref.stopped} | "
            f"{ref.points} | "
            f"{pct(100 * ref.rounds[-1]['left_out_max_err_fs'])} | - | "
            f"{pct(100 * r70['max_err_fs'])} | {pct(100 * r70['worst_rms_err_fs'])} |",
        ]
        write_block(DOCS / "lookup.md", "model_three_temps", "\n".join(lines))

        m = models["mp-mc"]
        api.sweep_preset(
            "mp-mc",
            tmp / "at60",
            updates={
                "sweep.temp_c": [60.0],
                "sweep.bias_a": UNFITTED["sweep.bias_a"],
                **MP_SET,
                "inputs.random.seed": 3,
                "inputs.random.count": 24,
            },
        )
        d60 = ok_rows(load_results(tmp / "at60").frame)
        out = [
            "| model at 60 C | simulator | points | max \\|export - Python\\| | "
            "max \\|export - transistor cell\\| |",
            "| --- | --- | ---: | ---: | ---: |",
        ]
        for chip in (None, 7):
            rows60 = d60[d60["mc_index"] == (-1 if chip is None else chip)]
            x, b = rows60[m.input_columns].to_numpy(), rows60["bias_a"].to_numpy()
            fs, sim = rows60["fs_a"].to_numpy(), rows60[m.output_].to_numpy()
            pos = None if chip is None else np.full(len(x), int(m.chip_rows(chip)))
            py = m.evaluate(x, b, 60.0, chip=pos)
            api.export(m, "ngspice", tmp / "x" / "mp.sub", chip=chip)
            api.export(m, "verilog-a", tmp / "x" / "va", chip=chip)
            for simulator, path in (
                ("ngspice", tmp / "x" / "mp.sub"),
                ("vacask", tmp / "x" / "va"),
            ):
                got = api.roundtrip(m, path, x, b, 60.0, simulator=simulator, chip=chip)
                out.append(
                    f"| {'nominal' if chip is None else f'chip {chip}'} | {simulator} | {len(x)} | "
                    f"{100 * np.max(np.abs(got - py) / fs):.1e} % | "
                    f"{pct(100 * np.max(np.abs(got - sim) / fs))} |"
                )
        write_block(DOCS / "lookup.md", "model_exports_60c", "\n".join(out))
    finally:
        shutil.rmtree(tmp)

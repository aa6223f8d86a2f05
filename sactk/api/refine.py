"""Adaptive characterization: "this cell, this range, this accuracy", and sactk chooses which
temperatures and biases to simulate.

``refine`` sweeps the spec as given (round 0), fits the cell's model on everything swept so
far, and measures it where the grid holds nothing: each interior temperature and bias left
out in turn (analysis/validation.py). While the worst of those errors is above the target,
it adds the conditions around the worst one (the midpoints of its two intervals, in 1/T or
log10 bias) as a new round: a new temperature is swept at every bias so far, a new bias at
every temperature. It stops at the target, at the point budget (a round that would pass it
is not started), or when a round would add nothing new.

Every round is an ordinary sweep folder (``DIR/round-K``), so an interrupted run resumes
like a sweep: rerun the same command and finished rounds are read back, not simulated
again; the choices are a function of the results, so they come out the same. ``DIR/
refine.json`` records the rounds, their points and errors; ``DIR/model`` is the model of
the last round, fitted and validated as ``sactk fit`` does it.

The left-out error is measured with twice the spacing that the grid has, so it is the
conservative figure to aim at; ``fit`` also shows a quarter of it as an estimate of the
error between fitted conditions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sactk.api.reporter import Quiet, Reporter
from sactk.errors import SpecError


@dataclass
class Refinement:
    """What :func:`refine` did: its rounds, why it stopped, and the final model."""

    rounds: list[dict[str, Any]] = field(default_factory=list)
    stopped: str = ""
    """``target``, ``budget`` or ``no new conditions``."""
    points: int = 0
    model_path: Path | None = None
    model: Any = None


def refine(
    spec: str | Path | None = None,
    out: str | Path = "refine-out",
    *,
    preset: str | None = None,
    overrides: list[str] | None = None,
    updates: dict[str, Any] | None = None,
    target_fs: float = 3e-3,
    max_points: int = 200_000,
    max_rounds: int = 8,
    kind: str = "auto",
    jobs: int | None = None,
    reporter: Reporter | None = None,
) -> Refinement:
    """Characterize a cell until its model's worst left-out-condition error (a fraction of
    full scale) is at most ``target_fs`` or ``max_points`` points are simulated (module
    docstring). ``spec``/``preset``/``overrides``/``updates`` as :func:`sactk.api.load`; the spec's
    ``sweep.temp_c`` and ``sweep.bias_a`` are the start, and refine adds to them."""
    import numpy as np
    import pandas as pd

    from sactk.analysis.results import load_results
    from sactk.analysis.validation import conditions_left_out
    from sactk.api.models import fit_frame, model_maker
    from sactk.api.sweeping import load, sweep
    from sactk.files import write_json

    rep = reporter or Quiet()
    if not 0.0 < target_fs < 1.0:
        raise SpecError(
            f"refine: target {100 * target_fs:g} % of full scale; give a target between 0 "
            "and 100 % (--target-pct)"
        )
    if max_points < 1:
        raise SpecError(f"refine: --max-points {max_points}; give the point budget, 1 or more")
    if kind not in ("auto", "mp", "lookup"):
        raise SpecError(f"refine: --kind {kind!r} unknown; choose auto, mp or lookup")
    out = Path(out)
    base = load(spec, preset=preset, overrides=overrides, updates=updates)
    temps = sorted(float(t) for t in base.sweep.temp_c)
    biases = sorted(float(b) for b in base.sweep.bias_a)
    result = Refinement()
    new = {"temp_c": temps, "bias_a": biases}
    frames, hashes, dirs, manifest = [], [], [], None
    model: Any = None
    for k in range(max_rounds):
        folder = out / f"round-{k}"
        round_spec = load(
            spec,
            preset=preset,
            overrides=overrides,
            updates={
                **(updates or {}),
                "sweep.temp_c": new["temp_c"],
                "sweep.bias_a": new["bias_a"],
            },
        )
        rep.message(
            f"refine: round {k}: temp_c {', '.join(f'{t:g}' for t in new['temp_c'])} C x "
            f"bias_a {', '.join(f'{b:.3g}' for b in new['bias_a'])} A ..."
        )
        sweep(round_spec, folder, jobs=jobs, reporter=rep)
        res = load_results(folder)
        frames.append(res.frame)
        hashes += res.netlist_hashes
        dirs.append(str(folder))
        manifest = manifest or res.manifest
        result.points += len(res.frame)  # every point of the round, resumed or new
        df = pd.concat(frames, ignore_index=True)
        model = model_maker(df, manifest, kind=kind)(df)
        loco = conditions_left_out(model, df, 0.0)
        worst = loco.get("max_err_fs")
        result.rounds.append(
            {
                "folder": str(folder),
                "temp_c": new["temp_c"],
                "bias_a": new["bias_a"],
                "points": len(res.frame),
                "grid": {
                    "temp_c": model.temp_c_.tolist(),
                    "bias_a": (10**model.log_bias_).tolist(),
                },
                "left_out_max_err_fs": worst,
                "left_out": loco.get("per_condition", []),
            }
        )
        shown = "n/a (no interior condition)" if worst is None else f"{100 * worst:.3f} %"
        rep.message(f"refine: round {k}: worst left-out-condition error {shown} of full scale")
        if worst is not None and worst <= target_fs:
            result.stopped = "target"
            break
        add = loco.get("add") or _widen(model)
        axis, values = next(iter(add.items()))
        have = temps if axis == "temp_c" else biases
        fresh = [v for v in values if not np.any(np.isclose(have, v, rtol=1e-6, atol=1e-9))]
        if not fresh:
            result.stopped = "no new conditions"
            break
        if axis == "temp_c":
            temps = sorted(temps + fresh)
            new = {"temp_c": fresh, "bias_a": biases}
        else:
            biases = sorted(biases + fresh)
            new = {"temp_c": temps, "bias_a": fresh}
        last = result.rounds[-1]
        per_condition = last["points"] / max(1, len(last["temp_c"]) * len(last["bias_a"]))
        cost = int(per_condition * len(new["temp_c"]) * len(new["bias_a"]))
        if result.points + cost > max_points:
            result.stopped = "budget"
            rep.message(
                f"refine: the next round ({axis} {', '.join(f'{v:g}' for v in fresh)}) needs "
                f"about {cost} points; {result.points} of {max_points} spent: stopping"
            )
            break
    else:
        result.stopped = "rounds"
    assert manifest is not None
    df = pd.concat(frames, ignore_index=True)
    record = {
        "target_fs": target_fs,
        "max_points": max_points,
        "points": result.points,
        "stopped": result.stopped,
        "rounds": result.rounds,
    }
    model, path = fit_frame(
        df,
        manifest,
        sorted(set(hashes)),
        out / "model",
        results=dirs,
        kind=kind,
        reporter=rep,
        extra={"refine": {k: v for k, v in record.items() if k != "rounds"}},
    )
    write_json(out / "refine.json", record)
    result.model, result.model_path = model, path
    return result


def _widen(model: Any) -> dict[str, list[float]]:
    """With no interior condition to leave out (two temperatures and two biases), the
    midpoint of the wider axis, in its own coordinate, is the first one to add."""
    import numpy as np

    from sactk.analysis.conditions import temp_coord

    t = temp_coord(model.temp_c_)
    span_t = (
        float(t[-1] - t[0])
        / max(1, len(t) - 1)
        / float(np.ptp(temp_coord(np.array([-40.0, 125.0]))))
    )
    span_b = float(np.ptp(model.log_bias_)) / max(1, len(model.log_bias_) - 1) / 3.0
    if span_t >= span_b and len(model.temp_c_) >= 2:
        mid = -1000.0 / ((t[0] + t[-1]) / 2.0) - 273.15
        return {"temp_c": [round(float(mid), 1)]}
    return {"bias_a": [float(f"{10 ** float(np.mean(model.log_bias_[[0, -1]])):.3g}")]}

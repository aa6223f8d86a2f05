"""The S-AC regression experiment on characterized lookup models."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sactk.analysis.layercheck import ACT_W_UM
from sactk.api.reporter import Quiet, Reporter
from sactk.errors import SpecError
from sactk.files import write_csv, write_json


def dataset(
    name: str | None = None,
    data: str | Path | None = None,
    target: str | None = None,
    seed: int = 0,
) -> Any:
    """A built-in data set (``sinc``, ``surface``, ``diabetes``) or a user's CSV with its
    ``target`` column, checked."""
    from sactk.system.datasets import load_csv, load_dataset

    if data is not None and name is not None:
        raise SpecError("regress: give --dataset or --data, not both")
    if data is not None:
        if not target:
            raise SpecError("--target: name the CSV's target column (--target COLUMN)")
        return load_csv(Path(data), target)
    if target:
        raise SpecError("--target applies to --data FILE.csv only")
    return load_dataset(name or "sinc", seed=seed)


def regress(
    ds: Any,
    models: str | Path | Any,
    out: str | Path,
    *,
    hidden: int = 64,
    chips: int = 5,
    seed: int = 0,
    gain: float = 4.0,
    ridge: float = 1e-4,
    quantize_bits: int = 0,
    chip_source: str = "auto",
    windows: tuple[float, ...] | None = None,
    reporter: Reporter | None = None,
) -> Any:
    """Run the S-AC regression of ``ds`` (see :func:`dataset`) on the lookup models in the
    folder ``models`` (inner_product, tanh, timing.csv: what ``sactk demo`` fits) across
    bias, temperature and chips; write summary.json, summary.csv and the plots into ``out``.
    With noise terms in the models, R2 with noise sits beside R2 without, and
    noise_tradeoff.csv (plot noise_tradeoff.png) holds R2 and energy at readout windows of
    ``windows`` settling times (default 1, 4, 16). Returns the summary rows (a
    DataFrame)."""
    from sactk.system.plots import plot_noise_tradeoff, plot_regression, plot_regression_fit
    from sactk.system.regression import WINDOWS, load_models, run
    from sactk.versions import tool_versions

    rep = reporter or Quiet()
    out = Path(out)
    if isinstance(models, str | Path):
        models = load_models(models)
    rep.message(
        f"{ds.description}: {len(ds.y)} rows, {len(ds.features)} features; "
        f"{hidden} hidden S-AC neurons x {chips} chips"
    )
    rows, details = run(
        ds,
        models,
        hidden=hidden,
        chips=chips,
        seed=seed,
        gain=gain,
        lam=ridge,
        quantize_bits=quantize_bits,
        chip_source=chip_source,
        windows=WINDOWS if windows is None else tuple(windows),
    )
    tradeoff = details["tradeoff"]
    if len(tradeoff):
        write_csv(out / "noise_tradeoff.csv", tradeoff)
        plot_noise_tradeoff(tradeoff, out)
    else:
        rep.message(
            "regress: no noise figures (the models have no noise terms, or timing.csv no "
            "settling time); fit them with `sactk fit ... --noise NOISE_RESULTS`"
        )
    model_info = {}
    for k, v in models.source.items():
        p = Path(v + ".npz") if k != "timing" else Path(v)
        model_info[k] = {
            "path": v,
            "sha256": hashlib.sha256(p.read_bytes()).hexdigest() if v and p.is_file() else "",
        }
    doc = {
        "dataset": {
            "name": ds.name,
            "description": ds.description,
            "rows": len(ds.y),
            "features": list(ds.features),
            "target": ds.target,
            **ds.meta,
        },
        "hidden": hidden,
        "chips": chips,
        "seed": seed,
        "gain": gain,
        "ridge": ridge,
        "quantize_bits": quantize_bits,
        "chip_source": str(rows["chip_source"].iloc[0]),
        "noise_windows_settle": list(WINDOWS if windows is None else windows),
        "models": model_info,
        "versions": tool_versions(),
        "rows": rows.to_dict(orient="records"),
        "noise_tradeoff": tradeoff.to_dict(orient="records"),
    }
    write_json(out / "summary.json", doc)
    write_csv(out / "summary.csv", rows)
    title = f"S-AC regression on {ds.name}: {hidden} neurons, {chips} chips"
    plot_regression(rows, out, title)
    plot_regression_fit(details, rows, out, title)
    return rows


def verify_regression(
    out: str | Path,
    *,
    dataset: str = "sinc",
    hidden: int = 8,
    chip: int = 0,
    biases: tuple[float, ...] = (1e-8, 1e-6, 1e-5),
    temp_c: float = 27.0,
    seed: int = 0,
    ridge_lam: float = 1e-4,
    act_w_um: float | None = ACT_W_UM,
    mirror_w_um: float | None = None,
    mirror_l_um: float | None = None,
    jobs: int | None = None,
    reporter: Reporter | None = None,
) -> Any:
    """The regression experiment end to end on one chip: the readout is trained on the
    runner's activations of that chip (chip in the loop, as ``sactk regress`` does), then
    the same weights, chip and readout run on the test set in ngspice. Writes
    OUT/regression.csv (R2 of both per bias); returns its rows."""
    import numpy as np
    import pandas as pd

    from sactk.api.layer import Setup, cell_models, simulate
    from sactk.system.datasets import load_dataset
    from sactk.system.regression import readout_r2, split_and_weights
    from sactk.versions import tool_versions

    rep = reporter or Quiet()
    out = Path(out)
    ds = load_dataset(dataset)  # a built-in set, as `sactk verify regress --dataset` names it
    train, test, Xb, W = split_and_weights(ds, hidden, seed)  # as sactk regress draws them
    n = len(ds.y)
    st = Setup(
        features=Xb.shape[1], hidden=hidden, samples=n, biases=tuple(biases), temp_c=temp_c,
        chips=chip + 1, seed=seed, act_w_um=act_w_um, mirror_w_um=mirror_w_um,
        mirror_l_um=mirror_l_um,
    )  # fmt: skip
    st.check()
    ip, act, seeds = cell_models(out, st, rep, jobs)
    res = simulate(st, ip, act, seeds, W, Xb, rep, jobs, [chip], np.nonzero(test)[0])
    rows = []
    for r in res.runs:
        r2_run, r2_sp = readout_r2(
            ds.y, train, test, r.runner, [r.runner[test], r.spice], ridge_lam
        )
        rows.append({"bias_a": r.bias_a, "temp_c": temp_c, "chip": chip, "r2_runner": r2_run,
                     "r2_spice": r2_sp, "r2_gap": r2_sp - r2_run,
                     "test_samples": int(test.sum())})  # fmt: skip
    frame = pd.DataFrame(rows)
    write_csv(out / "regression.csv", frame)
    write_json(
        out / "regression.json",
        {
            "dataset": ds.name,
            "hidden": hidden,
            "rows": rows,
            "seeds": res.seeds | {"split_and_weights": seed},
            "versions": tool_versions(),
            "netlist_hashes": list(res.netlist_hashes),
        },
    )
    rep.message(
        "regression, chip in the loop: R2 runner vs ngspice "
        + ", ".join(f"{x['r2_runner']:.4f} / {x['r2_spice']:.4f}" for x in rows)
    )
    return frame

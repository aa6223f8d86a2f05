"""The S-AC regression experiment on characterized lookup models."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

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
    reporter: Reporter | None = None,
) -> Any:
    """Run the S-AC regression of ``ds`` (see :func:`dataset`) on the lookup models in the
    folder ``models`` (inner_product, tanh, timing.csv: what ``sactk demo`` fits) across
    bias, temperature and chips; write summary.json, summary.csv and the plots into ``out``.
    Returns the summary rows (a DataFrame)."""
    from sactk.system.plots import plot_regression, plot_regression_fit
    from sactk.system.regression import load_models, run
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
        "models": model_info,
        "versions": tool_versions(),
        "rows": rows.to_dict(orient="records"),
    }
    write_json(out / "summary.json", doc)
    write_csv(out / "summary.csv", rows)
    title = f"S-AC regression on {ds.name}: {hidden} neurons, {chips} chips"
    plot_regression(rows, out, title)
    plot_regression_fit(details, rows, out, title)
    return rows

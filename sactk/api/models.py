"""Workflows on lookup models: fit one on a results folder (validated), export it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sactk.api.characterize import warn_failed
from sactk.api.reporter import Reporter
from sactk.errors import SpecError


def fit(
    results: str | Path,
    out: str | Path,
    *,
    validate: str | Path | None = None,
    holdout: float = 0.2,
    seed: int = 0,
    output: str | None = None,
    knots: int = 32,
    smoothing: float = 1e-2,
    reporter: Reporter | None = None,
) -> tuple[Any, Path]:
    """Fit a ``LookupModel`` on ``results``; validate it on a seeded ``holdout`` fraction of
    the input vectors (or on a second results folder ``validate``); save OUT.npz, OUT.json
    (with the validation, the spec, technology, seeds, versions and netlist hashes) and the
    residual plot OUT.residuals.png. Returns the model and the JSON path."""
    from sactk.analysis.lut import LookupModel
    from sactk.analysis.lutfit import holdout_split
    from sactk.analysis.modelio import model_stem
    from sactk.analysis.plots import plot_residuals
    from sactk.analysis.results import load_results
    from sactk.versions import tool_versions

    res = load_results(results)
    warn_failed(res, reporter)
    df, man = res.frame, res.manifest
    meta: dict[str, Any] = {"results": str(results)}
    if validate is not None:
        train, test = df, load_results(validate).frame
        if set(test["cell"].unique()) != set(df["cell"].unique()):
            raise SpecError(f"fit: --validate {validate} holds another cell; give the same cell")
        how = f"separate results {validate}"
        meta["validated_on"] = str(validate)
    else:
        train, test = holdout_split(df, holdout, seed)
        how = f"{holdout:g} of the input vectors held out (seed {seed})"
        meta["validated_on"] = str(results)
        meta["holdout"] = {"fraction": holdout, "seed": seed}
    model = LookupModel(output=output, knots=knots, smoothing=smoothing).fit(train)
    model.validate(test, how)
    meta.update(
        technology=man.get("technology"),
        spec=man.get("spec"),
        seeds=man.get("seeds"),
        versions={**man.get("versions", {}), **{"fit_" + k: v for k, v in tool_versions().items()}},
        netlist_hashes=res.netlist_hashes,
    )
    path = model.save(out, meta)
    stem = model_stem(out)
    plot_residuals(model, test, stem.parent, f"{stem.name}.residuals")
    return model, path


def export(model: Any, fmt: str, out: str | Path) -> list[Path]:
    """Write a lookup model (a ``LookupModel`` or the path of one) for other tools:
    ``csv``, ``json``, ``verilog-a`` (a folder) or ``ngspice``. Returns the files."""
    from sactk.analysis.export import FORMATS
    from sactk.analysis.export import export as _export
    from sactk.analysis.lut import LookupModel

    if fmt not in FORMATS:
        raise SpecError(f"export: --format {fmt!r} unknown; choose one of {', '.join(FORMATS)}")
    if not isinstance(model, LookupModel):
        model = LookupModel.load(model)
    return list(_export(model, fmt, Path(out)))


def export_roundtrip(
    model: Any,
    sub_path: str | Path,
    u: Any,
    bias_a: Any,
    temp_c: Any,
    corner: str | None = None,
) -> Any:
    """Simulate an exported ngspice subcircuit (``export(model, "ngspice", sub_path)``) in a
    fresh netlist with ``ngspice -b``: one instance per point (coordinate ``u`` in its unit,
    ``bias_a``, ``temp_c``), one run per temperature. Returns each point's output current (A),
    to compare with ``model.predict``."""
    import numpy as np

    from sactk.analysis.export import roundtrip_netlist, roundtrip_outputs
    from sactk.sweeps.backends.batch import run_batch

    u, bias_a, temp_c = (np.asarray(a, float) for a in (u, bias_a, temp_c))
    out = np.full(len(u), np.nan)
    for temp in np.unique(temp_c):
        idx = np.nonzero(temp_c == temp)[0]
        text = roundtrip_netlist(model, Path(sub_path), u[idx], bias_a[idx], float(temp), corner)
        out[idx] = roundtrip_outputs(run_batch(text), len(idx))
    return out

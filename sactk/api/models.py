"""Workflows on cell models: fit one on a results folder (validated), load, export and
round-trip it in a simulator (one path for every kind of the Model protocol)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sactk.api.characterize import warn_failed
from sactk.api.reporter import Quiet, Reporter
from sactk.errors import SpecError

if TYPE_CHECKING:
    from sactk.analysis.model import Model


def fit(
    results: str | Path,
    out: str | Path,
    *,
    validate: str | Path | None = None,
    folds: int = 5,
    seed: int = 0,
    output: str | None = None,
    knots: int = 32,
    smoothing: float = 1e-2,
    kind: str = "auto",
    noise: str | Path | None = None,
    reporter: Reporter | None = None,
) -> tuple[Any, Path]:
    """Fit a cell model on every point of ``results``: ``kind`` ``mp`` is the MP-unit model
    with the cell's real inputs (analysis/mpmodel.py; cells with MP units: MP, inner
    product), ``lookup`` the bias-normalized table against one coordinate, ``auto`` the
    first that fits the cell. Validate it (analysis/validation.py) on new input vectors by
    a seeded ``folds``-fold split (the worst fold counts), on the conditions the grid does
    not hold by leaving each interior temperature and bias out, and on a second results
    folder ``validate`` when given (then its figures are the model's ``validation``). Save
    OUT.npz, OUT.json (all of it, the spec, technology, seeds, versions and netlist hashes),
    the residual plot OUT.residuals.png and, with Monte Carlo chips, their errors
    OUT.chips.png. The model's output noise terms come from the noise rows of ``results``,
    or of a separate noise sweep ``noise`` of the same cell and technology (``[noise]``).
    Returns the model and the JSON path."""
    from sactk.analysis.results import load_results

    res = load_results(results)
    warn_failed(res, reporter)
    test = None
    if validate is not None:
        test = load_results(validate).frame
        if set(test["cell"].unique()) != set(res.frame["cell"].unique()):
            raise SpecError(f"fit: --validate {validate} holds another cell; give the same cell")
    noise_frame = None
    if noise is not None:
        noise_frame = noise_results(load_results(noise), res.manifest, str(noise))
    return fit_frame(
        res.frame,
        res.manifest,
        res.netlist_hashes,
        out,
        results=str(results),
        test=test,
        test_name=None if validate is None else str(validate),
        folds=folds,
        seed=seed,
        output=output,
        knots=knots,
        smoothing=smoothing,
        kind=kind,
        reporter=reporter,
        noise_frame=noise_frame,
        extra=None if noise is None else {"noise_results": str(noise)},
    )


def noise_results(res: Any, manifest: dict[str, Any], where: str) -> Any:
    """The noise rows of a noise sweep ``res`` for a model of the results with ``manifest``:
    the same cell on the same technology."""
    from sactk.analysis.noise import noise_rows

    rows = noise_rows(res.frame)
    if rows.empty:
        raise SpecError(
            f"fit: --noise {where} has no noise rows; sweep it with a [noise] table "
            "(sactk sweep --preset inner-product-noise, mp-noise, shape-tanh-noise)"
        )
    cell, tech = (manifest.get("spec") or {}).get("cell", {}), manifest.get("technology") or {}
    ncell = (res.manifest.get("spec") or {}).get("cell", {})
    ntech = res.manifest.get("technology") or {}
    if cell.get("name") != ncell.get("name") or tech.get("name") != ntech.get("name"):
        raise SpecError(
            f"fit: --noise {where} holds {ncell.get('name')} on {ntech.get('name')}, the "
            f"results {cell.get('name')} on {tech.get('name')}; give a noise sweep of the "
            "same cell and technology"
        )
    differ = sorted(k for k in set(cell) | set(ncell) if cell.get(k) != ncell.get(k))
    if differ:
        raise SpecError(
            f"fit: --noise {where}: cell.{differ[0]} is {ncell.get(differ[0])!r} there and "
            f"{cell.get(differ[0])!r} in the results; sweep the noise of the same cell"
        )
    return rows


def noise_line(meta: dict[str, Any]) -> str:
    """What ``sactk fit`` prints of a model's noise terms (MODEL.json ``noise``); empty
    without them."""
    if not meta.get("noise"):
        return ""
    from sactk.analysis.noisemodel import NoiseTerms

    t = NoiseTerms.from_dict(meta["noise"])
    w, k, e = t.white, t.flicker, t.exponent
    return (
        f"output noise: S = 2 q (a |out| + b bias_a) + (k2 out^2 + k0 bias_a^2) / f^alpha "
        f"at {e.size} operating points: a {w[..., 0].min():.3g}..{w[..., 0].max():.3g}, b "
        f"{w[..., 1].min():.3g}..{w[..., 1].max():.3g}, k2 {k[..., 0].min():.3g}.."
        f"{k[..., 0].max():.3g}, k0 {k[..., 1].min():.3g}..{k[..., 1].max():.3g}, "
        f"alpha {e.min():.2f}..{e.max():.2f}"
    )


def model_kind(df: Any, *, output: str | None = None, kind: str = "auto") -> str:
    """``mp``, ``lookup`` or ``inputs``: the kind ``kind`` (``auto`` or one of them) gives
    the cell of ``df``. ``auto`` takes ``inputs`` for a user subcircuit: a table of its own
    inputs, which needs no ideal() and exports as a drop-in cell."""
    from sactk.analysis.metrics import cell_of

    if kind not in ("auto", "mp", "lookup", "inputs"):
        raise SpecError(f"fit: --kind {kind!r} unknown; choose auto, mp, lookup or inputs")
    if kind == "inputs" or (kind == "auto" and str(df["cell"].iloc[0]) == "subckt"):
        return "inputs"
    has_units = getattr(cell_of(df), "units", None) is not None
    # auto: MP units for cells of several inputs; a single-input cell's per-chip table is
    # already a model at its port (the tanh cell's units are for networks: --kind mp)
    several = len([c for c in df.columns if c.startswith("in_") and c.endswith("_a")]) > 1
    if kind == "mp" and not has_units:
        raise SpecError(f"fit: --kind mp needs a cell with MP units; {df['cell'].iloc[0]} has none")
    current_out = output is None or output.endswith("_a")
    if kind == "mp" or (kind == "auto" and has_units and several and current_out):
        return "mp"
    return "lookup"


def model_maker(
    df: Any,
    manifest: dict[str, Any],
    *,
    output: str | None = None,
    knots: int = 32,
    smoothing: float = 1e-2,
    kind: str = "auto",
    c_prior: float | None = None,
) -> Any:
    """``rows -> fitted model`` of the kind ``kind`` chooses for the cell of ``df``
    (``c_prior``: the MP units' square-law pull, analysis/mpfit.py)."""
    from sactk.analysis.lut import LookupModel
    from sactk.analysis.mpfit import C_PRIOR
    from sactk.analysis.mpmodel import MPModel

    chosen = model_kind(df, output=output, kind=kind)
    if chosen == "inputs":
        from sactk.analysis.inputmodel import InputModel

        def inputs(rows: Any) -> Any:
            return InputModel(output=output).fit(rows)

        return inputs
    if chosen == "mp":
        cell_table = (manifest.get("spec") or {}).get("cell")
        pull = C_PRIOR if c_prior is None else c_prior

        def make(rows: Any) -> Any:
            return MPModel(output=output, smoothing=smoothing, c_prior=pull).fit(rows, cell_table)

        return make

    def table(rows: Any) -> Any:
        return LookupModel(output=output, knots=knots, smoothing=smoothing).fit(rows)

    return table


def fit_frame(
    df: Any,
    man: dict[str, Any],
    netlist_hashes: Any,
    out: str | Path,
    *,
    results: str | list[str],
    test: Any = None,
    test_name: str | None = None,
    folds: int = 5,
    seed: int = 0,
    output: str | None = None,
    knots: int = 32,
    smoothing: float = 1e-2,
    kind: str = "auto",
    reporter: Reporter | None = None,
    extra: dict[str, Any] | None = None,
    noise_frame: Any = None,
) -> tuple[Any, Path]:
    """:func:`fit` on a results table ``df`` already loaded (with its manifest ``man`` and
    netlist hashes): what ``sactk refine`` calls on the union of its rounds."""
    from sactk.analysis.modelio import model_stem
    from sactk.analysis.modelplots import plot_chip_errors, plot_residuals
    from sactk.analysis.mpfit import C_PRIORS
    from sactk.analysis.validation import conditions_left_out, cross_validate, warning_text
    from sactk.versions import tool_versions

    rep = reporter or Quiet()
    if folds < 2:
        raise SpecError(f"fit: --folds {folds}; use 2 or more (5 is the default)")
    meta: dict[str, Any] = {"results": results, **(extra or {})}
    opts: dict[str, Any] = dict(output=output, knots=knots, smoothing=smoothing, kind=kind)
    # MP units: the square-law pull that generalizes best to new vectors (analysis/mpfit.py)
    pulls = C_PRIORS if model_kind(df, output=output, kind=kind) == "mp" else (None,)
    best: Any = None
    tried = {}
    for pull in pulls:
        rep.message(
            f"fit: {folds}-fold validation on new input vectors"
            + ("" if pull is None else f" (square-law pull {pull:g})")
            + " ..."
        )
        make = model_maker(df, man, c_prior=pull, **opts)
        got = cross_validate(make, df, folds, seed)
        tried[str(pull)] = got[0]["worst_rms_err_fs"]
        # the RMS of the worst chip: steadier than a maximum over a few held-out vectors
        if best is None or got[0]["worst_rms_err_fs"] < best[1][0]["worst_rms_err_fs"]:
            best = (make, got)
    make, (cv, fold_model, fold_rows) = best
    if len(tried) > 1:
        meta["c_prior_choice"] = tried
    rep.message(f"fit: {len(df)} points ...")
    model = make(df)
    n_params = getattr(getattr(model, "layout_", None), "n_params", None)
    fewest = int(model.meta_.get("fewest_vectors", 0))
    if n_params is not None and fewest < 3 * n_params:
        rep.error(
            f"fit: warning: {fewest} vectors fit the {n_params} parameters of some chip and "
            "operating point; with fewer than 3x as many the per-chip fit may not generalize "
            "(sweep more vectors: inputs.random.count)"
        )
    cross = {k: v for k, v in cv.items() if k != "validation"}
    loco = conditions_left_out(model, df, cv["max_err_fs"])
    note = warning_text(loco, cv["max_err_fs"])
    if note:
        rep.error(note)
    if test is not None:
        model.validate(test, f"separate results {test_name}")
        meta["validated_on"] = test_name
        shown_model, shown_rows = model, test
    else:
        v = dict(cv["validation"])
        v["how"] = f"worst of {folds} folds of the input vectors (seed {seed})"
        model.meta_["validation"] = v
        meta["validated_on"] = results
        shown_model, shown_rows = fold_model, fold_rows
    model.meta_.update(cross_validation=cross, conditions_left_out=loco)
    meta.update(
        technology=man.get("technology"),
        spec=man.get("spec"),
        seeds=man.get("seeds"),
        versions={**man.get("versions", {}), **{"fit_" + k: v for k, v in tool_versions().items()}},
        netlist_hashes=netlist_hashes,
    )
    from sactk.analysis.noisemodel import fit_noise

    # the noise rows of a sweep with [noise] (the results' own, or a separate noise sweep)
    terms = fit_noise(df if noise_frame is None else noise_frame)
    if terms is not None:
        meta["noise"] = model.meta_["noise"] = terms.to_dict()
    path = model.save(out, meta)
    stem = model_stem(out)
    plot_residuals(shown_model, shown_rows, stem.parent, f"{stem.name}.residuals")
    plot_chip_errors(shown_model, shown_rows, stem.parent, f"{stem.name}.chips")
    return model, path


def load_model(path: str | Path) -> Model:
    """A fitted model file (``MODEL``, ``MODEL.json`` or ``MODEL.npz``) of either kind: a
    :class:`~sactk.analysis.model.Model` (``kind`` ``lookup`` or ``mp``)."""
    from sactk.analysis.model import load_model as _load

    return _load(path)


def export(model: Any, fmt: str, out: str | Path, chip: int | None = None) -> list[Path]:
    """Write a fitted model (a model or the path of one) for other tools: ``csv``, ``json``,
    ``verilog-a`` (a folder) or ``ngspice``; an MP-unit model exports ``verilog-a`` and
    ``ngspice`` with the cell's input pins, for the nominal circuit or chip ``chip``, and
    ``csv``/``json`` with the parameters of every chip (docs/lookup.md). Returns the
    files."""
    from sactk.analysis.export import FORMATS

    if fmt not in FORMATS:
        raise SpecError(f"export: --format {fmt!r} unknown; choose one of {', '.join(FORMATS)}")
    m = load_model(model) if isinstance(model, (str, Path)) else model
    return list(m.export(fmt, Path(out), chip))


def roundtrip(
    model: Model,
    export_path: str | Path,
    x: Any,
    bias_a: Any,
    temp_c: Any,
    *,
    simulator: str = "ngspice",
    chip: int | None = None,
    corner: str | None = None,
) -> Any:
    """Simulate an exported model of any kind in a fresh netlist, one instance per point
    (``x``: the inputs :meth:`Model.evaluate` takes), one run per temperature:
    ``simulator="ngspice"`` includes the subcircuit file ``export_path``; ``"vacask"``
    compiles the Verilog-A module in the folder ``export_path`` with openvaf-r and runs it
    in VACASK. Returns each point's output current (A), to compare with ``evaluate``."""
    import numpy as np

    from sactk.analysis import roundtrip as decks
    from sactk.sweeps.backends.batch import run_batch

    if simulator not in ("ngspice", "vacask"):
        raise SpecError(f"roundtrip: simulator {simulator!r} unknown; use ngspice or vacask")
    values, kinds = model.roundtrip_drive(x)
    n = len(values)
    bias, temp = (np.broadcast_to(np.asarray(a, float), n) for a in (bias_a, temp_c))
    name = model.module_name(corner or str(model.corners_[0]), chip)
    out = np.full(n, np.nan)
    for t in np.unique(temp):
        idx = np.nonzero(temp == t)[0]
        if simulator == "ngspice":
            text = decks.ngspice_deck(name, Path(export_path), values[idx], kinds, bias[idx], t)
            out[idx] = decks.ngspice_outputs(run_batch(text), len(idx))
        else:
            out[idx] = _in_vacask(
                Path(export_path) / f"{name}.va",
                lambda osdi, i=idx, tt=float(t): decks.vacask_deck(
                    name, osdi, values[i], kinds, bias[i], tt
                ),
                len(idx),
            )
    return out


def noise_roundtrip(
    model: Model,
    export_path: str | Path,
    x: Any,
    bias_a: float,
    temp_c: float,
    *,
    simulator: str = "ngspice",
    span: tuple[float, float, int] = (10.0, 1e5, 1),
    corner: str | None = None,
) -> tuple[Any, Any]:
    """The output noise density (A^2/Hz) of an exported model with noise terms at one
    point (``x``: the inputs :meth:`Model.evaluate` takes, one row), in the simulator's own
    noise analysis over ``span`` (fstart, fstop, points per decade): ngspice's ``.noise`` of
    the subcircuit file ``export_path``, or VACASK's of the Verilog-A module in the folder
    ``export_path``. Returns (frequency, density)."""
    import tempfile

    import numpy as np

    from sactk.analysis import roundtrip as decks
    from sactk.sweeps.backends.batch import run_batch

    values, kinds = model.roundtrip_drive(np.atleast_2d(np.asarray(x, float)))
    name = model.module_name(corner or str(model.corners_[0]), None)
    if simulator == "ngspice":
        text = decks.ngspice_noise_deck(
            name, Path(export_path), values[0], kinds, bias_a, temp_c, span
        )
        return decks.ngspice_noise_outputs(run_batch(text))
    if simulator != "vacask":
        raise SpecError(f"roundtrip: simulator {simulator!r} unknown; use ngspice or vacask")
    from sactk.sweeps.backends import vacask

    with tempfile.TemporaryDirectory() as tmp:
        va = Path(export_path) / f"{name}.va"
        osdi = vacask.compile_va(va, Path(tmp) / va.with_suffix(".osdi").name)
        (Path(tmp) / "sactk_sense.va").write_text(decks.SENSE_VA)
        sense = vacask.compile_va(Path(tmp) / "sactk_sense.va", Path(tmp) / "sactk_sense.osdi")
        deck = decks.vacask_noise_deck(
            name, (osdi.name, sense.name), values[0], kinds, bias_a, temp_c, span
        )
        vec = vacask.run(deck, {osdi.name: osdi, sense.name: sense}, ["nz"])["nz"]
    return np.asarray(vec["frequency"], float).real, np.asarray(vec["onoise"], float)


def export_roundtrip(
    model: Any,
    sub_path: str | Path,
    u: Any,
    bias_a: Any,
    temp_c: Any,
    corner: str | None = None,
    simulator: str = "ngspice",
) -> Any:
    """:func:`roundtrip` of a lookup model at coordinates ``u`` (in its unit)."""
    return roundtrip(model, sub_path, u, bias_a, temp_c, simulator=simulator, corner=corner)


def _in_vacask(va: Path, deck: Any, points: int) -> Any:
    """Compile ``va`` with openvaf-r, run the round-trip netlist ``deck(osdi_name)`` in
    VACASK, and return what each instance sinks."""
    import tempfile

    from sactk.analysis.roundtrip import vacask_outputs
    from sactk.sweeps.backends import vacask

    with tempfile.TemporaryDirectory() as tmp:
        osdi = vacask.compile_va(va, Path(tmp) / va.with_suffix(".osdi").name)
        vec = vacask.run(deck(osdi.name), {osdi.name: osdi}, ["op0"])["op0"]
    return vacask_outputs(vec, points)


def mp_roundtrip(
    model: Any,
    export_path: str | Path,
    x: Any,
    bias_a: Any,
    temp_c: Any,
    *,
    simulator: str = "ngspice",
    chip: int | None = None,
    corner: str | None = None,
) -> Any:
    """:func:`roundtrip` of an MP-unit model: ``x`` (P, inputs) input currents in A."""
    return roundtrip(
        model, export_path, x, bias_a, temp_c, simulator=simulator, chip=chip, corner=corner
    )

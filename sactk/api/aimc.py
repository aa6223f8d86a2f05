"""Analog in-memory computing: the crossbar tile characterized in SPICE, float-trained
networks through tile models with a fixed-point near-memory unit (NMPU), and its bit widths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sactk.api.reporter import Quiet, Reporter
from sactk.api.sweeping import sweep_preset
from sactk.errors import SpecError
from sactk.files import write_csv, write_json

CASES = {
    "digits-cnn": ("digits", "cnn"),
    "digits-mlp": ("digits", "mlp"),
    "breast-cancer-mlp": ("breast-cancer", "mlp"),
}
"""Evaluation cases: (data set, network)."""


def characterize(
    out: str | Path,
    *,
    rows: list[int] | None = None,
    chips: int = 20,
    jobs: int | None = None,
    reporter: Reporter | None = None,
) -> dict[str, Any]:
    """The crossbar tile on ngspice: Monte Carlo gain and offset per column (``crossbar``
    preset with ``chips`` chips) and IR drop against tile size (``rows``, plus the 64-row
    tile the tile model's ``ir_drop`` is quoted for: it is simulated, never extrapolated);
    writes crossbar.json (what :func:`evaluate` takes as measured column errors), the
    column and size tables and a plot. Returns crossbar.json's content."""
    import pandas as pd

    from sactk.analysis.metrics import crossbar_columns
    from sactk.analysis.plots import plot_crossbar
    from sactk.analysis.results import load_results
    from sactk.system.aimc import TILE  # the rows of the tile the model's ir_drop refers to

    rep = reporter or Quiet()
    out = Path(out)
    sizes = [8, 16, 32, 64] if rows is None else rows
    if not sizes or any(not 1 <= r <= 64 for r in sizes):
        raise SpecError("--rows: give tile sizes from 1 to 64")
    if TILE not in sizes:
        rep.message(f"--rows: adding the {TILE}-row tile, whose IR drop the tile model uses")
        sizes = [*sizes, TILE]
    sweep_preset(
        "crossbar", out / "crossbar-mc", updates={"mc.instances": chips}, jobs=jobs, reporter=rep
    )
    cols = crossbar_columns(load_results(out / "crossbar-mc").frame)
    size_tables = []
    for r in sizes:
        folder = out / f"crossbar-rows{r}"
        sets = {"cell.n_inputs": r, "mc.instances": 0, "sweep.bias_a": [2e-5]}
        sweep_preset("crossbar", folder, updates=sets, jobs=jobs, reporter=rep)
        size_tables.append(crossbar_columns(load_results(folder).frame))
    sizes_df = pd.concat(size_tables, ignore_index=True)
    plot_crossbar(cols, sizes_df, out)
    mc = cols[(cols["mc_index"] >= 0)]
    mc27 = mc[mc["temp_c"] == min(mc["temp_c"].unique(), key=lambda t: abs(t - 27.0))]
    nom = sizes_df[(sizes_df["temp_c"] == 27.0)].groupby("rows")["gain"].mean()
    ir = float(1.0 - nom.loc[TILE])  # the simulated full tile
    doc: dict[str, Any] = {
        "gain_sigma": float(mc27["gain"].std()),
        "offset_sigma": float(mc27["offset_fs"].std()),
        "ir_drop": max(ir, 0.0),
        "nonlin_fs_max": float(mc27["nonlin_fs"].max()),
        "gain_loss_by_rows": {
            str(int(k)): float(1 - v)
            for k, v in zip(nom.index.to_numpy(), nom.to_numpy(), strict=True)
        },
        "chips": chips,
        "source": "sactk aimc characterize: crossbar preset, 16 rows x 4 differential columns",
    }
    write_json(out / "crossbar.json", doc)
    write_csv(out / "crossbar_columns.csv", cols)
    write_csv(out / "crossbar_sizes.csv", sizes_df)
    return doc


def tile(
    dac_bits: int = 8,
    adc_bits: int = 8,
    prog_sigma: float = 0.02,
    read_sigma: float = 0.01,
    gain_sigma: float = 0.02,
    offset_sigma: float = 0.005,
    ir_drop: float = 0.01,
    crossbar: str | Path | None = None,
) -> Any:
    """A tile model (``system.aimc.TileSpec``); ``crossbar``: a crossbar.json of
    :func:`characterize` whose measured gain, offset and IR drop replace the given ones."""
    import json

    from sactk.system.aimc import TileSpec

    if crossbar is not None:
        try:
            meas = json.loads(Path(crossbar).read_text())
            gain_sigma, offset_sigma = float(meas["gain_sigma"]), float(meas["offset_sigma"])
            ir_drop = float(meas["ir_drop"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SpecError(f"--crossbar {crossbar}: not a crossbar.json ({exc})") from None
    return TileSpec(dac_bits, adc_bits, prog_sigma, read_sigma, gain_sigma, offset_sigma, ir_drop)


def nmpu_format(scale: str = "u1.7", offset: str = "s7.1") -> Any:
    """An NMPU fixed-point format from text such as ``u1.7`` (scale) and ``s7.1`` (offset)."""
    from sactk.system.aimc import parse_format
    from sactk.system.nmpu import NMPUFormat

    return NMPUFormat(
        parse_format(scale, "--scale-format"), parse_format(offset, "--offset-format")
    )


def evaluate(
    out: str | Path,
    *,
    chips: int = 5,
    seed: int = 0,
    cases: list[str] | None = None,
    fmt: Any = None,
    spec: Any = None,
    reporter: Reporter | None = None,
) -> dict[str, Any]:
    """Float-trained networks through AIMC tiles (``spec``, see :func:`tile`) with FP32, FP16
    and fixed-point NMPU (``fmt``, see :func:`nmpu_format`) post-processing: accuracy over
    ``chips`` and the fixed-point drop against FP16. Writes summary.json and a plot."""
    from sactk.system.aimc import evaluate as run
    from sactk.system.plots import plot_aimc
    from sactk.versions import tool_versions

    rep = reporter or Quiet()
    names = list(CASES) if cases is None else cases
    bad = [c for c in names if c not in CASES]
    if bad or not names:
        raise SpecError(f"--cases {','.join(names)!r}: choose from {', '.join(CASES)}")
    fmt = fmt if fmt is not None else nmpu_format()
    spec = spec if spec is not None else tile()
    runs = []
    for name in names:
        ds, net = CASES[name]
        r = run(ds, net, chips, seed, spec, {"default": fmt})
        r.update(
            case=name,
            dataset=ds,
            net=net,
            drop_fixed_vs_fp16=r["fp16_acc_mean"] - r["fixed_acc_mean"],
        )
        runs.append(r)
        rep.message(
            f"{name:<18} float {r['float_acc']:6.2f} %  FP32 {r['fp32_acc_mean']:6.2f}  "
            f"FP16 {r['fp16_acc_mean']:6.2f}  fixed ({fmt}) {r['fixed_acc_mean']:6.2f} "
            f"+- {r['fixed_acc_std']:.2f}  drop vs FP16 {r['drop_fixed_vs_fp16']:+.2f} points"
        )
    head = runs[0]
    keys = ("fp32", "fp16", "fixed")
    doc = {
        "case": head["case"],
        **{f"{k}_acc_mean": head[f"{k}_acc_mean"] for k in keys},
        **{f"{k}_acc_std": head[f"{k}_acc_std"] for k in keys},
        "drop_fixed_vs_fp16": head["drop_fixed_vs_fp16"],
        "chips": chips,
        "seed": seed,
        "format": {"scale": str(fmt.scale), "offset": str(fmt.offset)},
        "tile": dict(spec.__dict__),
        "runs": runs,
        "versions": tool_versions(),
    }
    out = Path(out)
    write_json(out / "summary.json", doc)
    plot_aimc(runs, out)
    return doc


def bits(
    out: str | Path,
    *,
    chips: int = 3,
    seed: int = 0,
    case: str = "digits-mlp",
    scale_frac: list[int] | None = None,
    offset_formats: list[str] | None = None,
) -> dict[str, Any]:
    """Sweep the NMPU's scale fraction bits and offset formats: accuracy drop against FP16
    and the post-processing cost per format (docs/aimc.md). Writes bits.json and a Pareto
    plot; returns bits.json's content."""
    from sactk.system.aimc import TileSpec, parse_format
    from sactk.system.aimc import evaluate as run
    from sactk.system.fixed import QFormat
    from sactk.system.nmpu import NMPUFormat, cost
    from sactk.system.plots import plot_aimc_bits

    if case not in CASES:
        raise SpecError(f"--case {case!r}: choose from {', '.join(CASES)}")
    fracs = [1, 2, 3, 4, 5, 6, 7, 8, 10] if scale_frac is None else scale_frac
    if not fracs or any(not 0 <= f <= 20 for f in fracs):
        raise SpecError("--scale-frac: give fraction bits between 0 and 20")
    texts = ["s7.0", "s7.1", "s7.2", "s5.1", "s3.1"] if offset_formats is None else offset_formats
    offs = [parse_format(t, "--offset-formats") for t in texts]
    fmts = {f"u1.{f}|{o}": NMPUFormat(QFormat(1, f, False), o) for f in fracs for o in offs}
    ds, net = CASES[case]
    spec = TileSpec()
    r = run(ds, net, chips, seed, spec, {"default": NMPUFormat(), **fmts})
    rows = []
    for name, fmt in fmts.items():
        c = cost(fmt, spec.adc_bits)
        m = r[f"fixed:{name}_acc_mean"]
        rows.append(
            {
                "scale": str(fmt.scale),
                "offset": str(fmt.offset),
                "bits": fmt.scale.bits + fmt.offset.bits,
                "acc_mean": m,
                "acc_std": r[f"fixed:{name}_acc_std"],
                "drop_vs_fp16": r["fp16_acc_mean"] - m,
                "fixed_ge": c["fixed_ge"],
                "fp16_ge": c["fp16_ge"],
            }
        )
    doc = {"case": case, "chips": chips, "fp16_acc_mean": r["fp16_acc_mean"], "rows": rows}
    out = Path(out)
    write_json(out / "bits.json", doc)
    plot_aimc_bits(doc, out)
    return doc

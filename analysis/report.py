"""One self-contained HTML page of characterization results.

Everything is inline: plots as base64 PNG ``<img>`` data URIs, styles in one ``<style>``
block, no scripts, no links to fetch. It opens from disk in any browser, offline.
"""

from __future__ import annotations

import base64
import html
import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sactk.analysis import render
from sactk.analysis.figures import formats
from sactk.files import write_text

if TYPE_CHECKING:
    import pandas as pd


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1100px;color:#222;line-height:1.4;padding:0 1em}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
h3{margin-top:1.4em}table{border-collapse:collapse;font-size:.85em;margin:.5em 0 1em}
td,th{border:1px solid #ddd;padding:.2em .5em;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}pre{background:#f7f7f7;padding:.6em;
font-size:.8em;overflow-x:auto}figure{margin:1em 0}figcaption{font-size:.85em;color:#555}
img{max-width:100%;border:1px solid #eee}.meta{color:#555;font-size:.9em}
"""


class _Img:
    """A plot in the page, read when the page is put together (after its worker wrote it)."""

    def __init__(self, path: Path, prefix: str = ""):
        self.path, self.prefix = path, prefix

    def __str__(self) -> str:
        data = base64.b64encode(self.path.read_bytes()).decode("ascii")
        cap = html.escape(self.prefix + self.path.stem.replace("_", " "))
        return (
            f'<figure><img alt="{cap}" src="data:image/png;base64,{data}">'
            f"<figcaption>{cap}</figcaption></figure>"
        )


def _table(df: pd.DataFrame) -> str:
    return str(df.to_html(index=False, border=0, float_format=lambda v: f"{v:.4g}", escape=True))


def _kv(d: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
        for k, v in d.items()
    )
    return f"<table>{rows}</table>"


def _results_section(results: Path, plot_dir: Path) -> list[str | _Img]:
    from sactk.analysis.metrics import summary_tables
    from sactk.analysis.plots import plot_all
    from sactk.analysis.results import load_results

    res = load_results(results)
    man, df = res.manifest, res.frame
    spec = man.get("spec", {})
    tech = man.get("technology", {})
    cell = spec.get("cell", {}).get("name", "?")
    parts: list[str | _Img] = [
        f"<h2>{html.escape(results.name)}: cell {html.escape(str(cell))}</h2>"
    ]
    if spec.get("description"):
        parts.append(f"<p>{html.escape(str(spec['description']))}</p>")
    parts.append(
        '<p class="meta">'
        + html.escape(
            f"{len(df)} points, {int((df['status'] != 'ok').sum())} failed, "
            f"{len(man.get('jobs', {}))} jobs; results {results}"
        )
        + "</p>"
    )
    parts.append("<h3>Technology</h3>")
    parts.append(
        _kv({k: tech[k] for k in ("name", "description", "vdd_v", "corners") if k in tech})
    )
    parts.append("<h3>Metrics</h3>")
    tables = summary_tables(df)
    sub = plot_dir / results.name
    from sactk.analysis.smallsignal import small_signal

    extra, plots = small_signal(df, man, sub)  # [noise] and [ac] sweeps
    tables.update(extra)
    for name, table in tables.items():
        if not table.empty:
            parts.append(f"<h4>{html.escape(name)}</h4>{_table(table)}")
    parts.append("<h3>Plots</h3>")
    for p in plot_all(df, sub) + plots:
        if p.suffix == ".png":
            parts.append(_Img(p, f"{results.name}: "))
    parts.append("<h3>Spec</h3>")
    parts.append(f"<pre>{html.escape(json.dumps(spec, indent=1))}</pre>")
    parts.append("<h3>Tool versions</h3>")
    parts.append(_kv(man.get("versions", {})))
    return parts


def _model_section(model_path: Path, plot_dir: Path) -> list[str | _Img]:
    from sactk.analysis.lut import holdout_split, model_stem
    from sactk.analysis.model import load_model
    from sactk.analysis.modelplots import plot_chip_errors, plot_residuals
    from sactk.analysis.results import load_results

    model = load_model(model_path)
    info = model.info_
    stem = model_stem(model_path)
    title = "Lookup model" if model.kind == "lookup" else "MP-unit model"
    parts: list[str | _Img] = [f"<h2>{title} {html.escape(stem.name)}</h2>"]
    parts.append(
        "<p>"
        + html.escape(str(info.get("form", "")))
        + (". Coordinate " if model.kind == "lookup" else ". Inputs ")
        + html.escape(", ".join(model.input_columns))
        + f", output {html.escape(model.output_)}."
        + "</p>"
    )
    v = info.get("validation", {})
    shown = {
        "validation": v.get("how", ""),
        "held-out points": v.get("points", ""),
        "max |error| (fraction of full scale)": v.get("max_err_fs", ""),
        "RMS error (fraction of full scale)": v.get("rms_err_fs", ""),
        "axes": json.dumps(info.get("axes", {})),
        "chips": json.dumps(info.get("chips", {})),
    }
    if "chips" in v:
        shown["chips: max / worst RMS error (fraction of full scale)"] = (
            f"{v['chips']['max_err_fs']:.4g} / {v['chips']['rms_err_fs']:.4g}"
        )
    parts.append(_kv(shown))
    src = info.get("validated_on")
    if src and Path(src).is_dir():
        df = load_results(src).frame
        if "holdout" in info:  # plot the held-out vectors the validation used
            _, df = holdout_split(
                df, float(info["holdout"]["fraction"]), int(info["holdout"]["seed"])
            )
        for p in [
            *plot_residuals(model, df, plot_dir, f"{stem.name}_residuals"),
            *plot_chip_errors(model, df, plot_dir, f"{stem.name}_chips"),
        ]:
            if p.suffix == ".png":
                parts.append(_Img(p))
    return parts


def _extra_section(title: str, folder: Path) -> list[str | _Img]:
    """A folder of a system experiment: its summary.csv as a table and its PNG plots."""
    import pandas as pd

    parts: list[str | _Img] = [f"<h2>{html.escape(title)}</h2>"]
    if (folder / "summary.csv").is_file():
        parts.append(_table(pd.read_csv(folder / "summary.csv")))
    for p in sorted(folder.glob("*.png")):
        parts.append(_Img(p, f"{folder.name}: "))
    return parts


Parts = list[str | _Img]
"""A report section: HTML text and plots that are read when the page is put together."""


def results_parts(results: list[Path], plot_dir: Path) -> dict[Path, Parts]:
    """The sections of ``results`` directories, built now, for a :func:`write_report` that
    comes later (``ready``): inside :func:`sactk.analysis.render.in_parallel` their plots are
    drawn by the workers meanwhile (``sactk demo`` draws them while it fits models).
    ``plot_dir`` must live until the report is written."""
    with formats("png"):
        return {
            Path(r): _results_section(Path(r), plot_dir / str(i)) for i, r in enumerate(results)
        }


def write_report(
    results: list[Path],
    out: Path,
    models: list[Path] | None = None,
    title: str = "",
    extra: list[tuple[str, Path]] | None = None,
    ready: dict[Path, Parts] | None = None,
) -> Path:
    """Write the report of ``results`` directories (and lookup ``models``) to ``out``; a
    directory in ``ready`` (:func:`results_parts`) takes the section built there."""
    import sactk

    title = title or "sactk characterization report"
    body: list[str | _Img] = [f"<h1>{html.escape(title)}</h1>"]
    body.append(
        f'<p class="meta">sactk {html.escape(sactk.__version__)}; '
        + html.escape(", ".join(str(r) for r in results))
        + "</p>"
    )
    with tempfile.TemporaryDirectory() as tmp, formats("png"), render.in_parallel():
        render.flush()  # an enclosing block's plots that an extra folder holds
        for r in results:
            done = (ready or {}).get(Path(r))
            body += done if done is not None else _results_section(Path(r), Path(tmp))
        for m in models or []:
            body += _model_section(Path(m), Path(tmp) / "models")
        for name, folder in extra or []:
            body += _extra_section(name, Path(folder))
        render.flush()
        text = [str(b) for b in body]
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(text)
        + "\n</body></html>\n"
    )
    return write_text(out, page)

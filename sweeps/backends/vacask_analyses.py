"""VACASK's per-vector analyses of a job's chip: ``ac`` and ``noise`` (an operating point,
then the small-signal analysis, per vector) and the step response (the final operating
point, then ``tran``). The backend (sweeps/backends/vacask.py) records their rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sactk.errors import SpecError
from sactk.netlists.render import fmt
from sactk.sweeps.backends.vacask_run import _reason, run_partial
from sactk.sweeps.backends.vacask_tables import columns, instance_alters, vector
from sactk.sweeps.backends.vacask_tables import probe_values as _probe
from sactk.sweeps.backends.vacask_tables import row as _row


def _per_vector(
    job: Any, inst: Any, files: dict[str, Path], analysis: str
) -> list[tuple[dict[str, float], dict[str, Any]] | str]:
    """Per vector of ``job`` on chip ``inst``: its operating point (``o<v>``), then the
    small-signal ``analysis`` (its text after the name, run as ``s<v>``), in one VACASK
    process; per vector, (the DC outputs, the analysis's vectors) or a reason."""
    lines = [job.netlist.rstrip("\n"), *instance_alters(inst.alters, job.netlist)]
    names = []
    for v, values in enumerate(job.values):
        for src, x in zip(job.sources, values, strict=True):
            lines.append(f'  alter instance("{src}") dc={fmt(float(x))}')
        lines += [f"  analysis o{v} op", f"  analysis s{v} {analysis}"]
        names += [f"o{v}", f"s{v}"]
    lines.append("endc")
    vec, log = run_partial("\n".join(lines) + "\n", files, names)
    out: list[tuple[dict[str, float], dict[str, Any]] | str] = []
    for v in range(len(job.values)):
        op, sm = vec.get(f"o{v}"), vec.get(f"s{v}")
        if not op or not sm:
            out.append(_reason(log))
            continue
        cols = columns(job, op, 1)
        out.append((_row(cols, 0) if isinstance(cols, dict) else {}, sm))
    return out


def _sweep(fstart_hz: float, fstop_hz: float, points_per_decade: int) -> str:
    return f'from={fmt(fstart_hz)} to={fmt(fstop_hz)} mode="dec" points={int(points_per_decade)}'


def ac_rows(job: Any, inst: Any, files: dict[str, Path]) -> list[list[dict[str, float]] | str]:
    """Per vector: its operating point, then ``ac`` from the input source (``mag=1``) to
    the output; one row per frequency with the DC outputs, ``freq_hz``, the transfer's
    magnitude ``ac_gain*`` and ``ac_phase_deg`` (as the ngspice backend's)."""
    import numpy as np

    ac = job.ac
    got = _per_vector(
        job, inst, files, "ac " + _sweep(ac.fstart_hz, ac.fstop_hz, ac.points_per_decade)
    )
    col = f"ac_gain{ac.unit}"
    nodes = [n.removeprefix("v(").removesuffix(")") for n in ac.vectors]

    def one(dc: dict[str, float], sm: dict[str, Any]) -> list[dict[str, float]]:
        h = ac.scale * (
            np.asarray(sm[nodes[0]]) - (np.asarray(sm[nodes[1]]) if len(nodes) > 1 else 0.0)
        )
        f = np.real(np.asarray(sm["frequency"]))
        gain, phase = np.abs(h), np.degrees(np.unwrap(np.angle(h)))
        return [
            {**dc, "freq_hz": float(fk), col: float(g), "ac_phase_deg": float(ph)}
            for fk, g, ph in zip(f, gain, phase, strict=True)
        ]

    return _rows(got, "ac analysis", one)


def noise_rows(job: Any, inst: Any, files: dict[str, Path]) -> list[list[dict[str, float]] | str]:
    """Per vector: its operating point, then VACASK's ``noise`` of the output node (the
    1-ohm sense of a current output, or a voltage output) against the input source; one
    row per frequency with the DC outputs, ``freq_hz``, ``onoise_*`` (scaled as the
    probe) and ``inoise_*`` (as the ngspice backend's). VACASK's ``gain`` vector is the
    squared magnitude of the transfer (a 1k/1k divider reads 0.25), so the input-referred
    density is ``onoise / gain``."""
    import numpy as np

    ns = job.noise
    node = ns.output.removeprefix("v(").removesuffix(")")
    if "," in node:
        raise SpecError(
            "vacask: noise of a differential voltage output runs on ngspice only; use "
            'sim.name = "ngspice"'
        )
    sweep = _sweep(ns.fstart_hz, ns.fstop_hz, ns.points_per_decade)
    got = _per_vector(job, inst, files, f'noise out="{node}" in="{ns.source}" {sweep}')
    out_col, in_col = f"onoise_{ns.out_unit}", f"inoise_{ns.in_unit}"

    def one(dc: dict[str, float], sm: dict[str, Any]) -> list[dict[str, float]]:
        f = np.real(np.asarray(sm["frequency"]))
        on = np.real(np.asarray(sm["onoise"]))
        gain2 = np.real(np.asarray(sm["gain"]))
        inn = on / np.where(gain2 > 0, gain2, np.nan)
        return [
            {**dc, "freq_hz": float(fk), out_col: float(o * ns.scale2), in_col: float(i)}
            for fk, o, i in zip(f, on, inn, strict=True)
        ]

    return _rows(got, "noise analysis", one)


def _rows(
    got: list[tuple[dict[str, float], dict[str, Any]] | str],
    what: str,
    one: Any,
) -> list[list[dict[str, float]] | str]:
    """Per vector, ``one(dc, vectors)``'s rows, or the reason it failed after ``what``."""
    return [f"{what}: {res}" if isinstance(res, str) else one(*res) for res in got]


def tran_row(job: Any, inst: Any, files: dict[str, Path]) -> dict[str, float] | str:
    from sactk.sweeps.backends.ngspice_shared import settling_time

    tr = job.tran
    lines = [job.netlist.rstrip("\n"), *instance_alters(inst.alters, job.netlist)]
    for src, v in zip(tr.sources, tr.final, strict=True):
        lines.append(f'  alter instance("{src}") dc={fmt(v)} type="dc"')
    lines.append("  analysis fin op")
    for src, v in zip(tr.sources, tr.initial, strict=True):
        lines.append(f'  alter instance("{src}") dc={fmt(v)} type="pwl"')
    lines.append(
        f"  analysis tr tran step={fmt(tr.t_max_s)} stop={fmt(tr.t_stop_s)} "
        f"maxstep={fmt(tr.t_max_s)}"
    )
    lines.append("endc")
    vec, log = run_partial("\n".join(lines) + "\n", files, ["fin", "tr"])
    fin, wave = vec.get("fin"), vec.get("tr")
    if not fin or not wave:
        return "transient failed: " + _reason(log)
    settled = (tr.output, *tr.also)
    t = wave["time"]
    if len(t) < 3 or t[-1] < 0.999 * tr.t_stop_s:
        return "transient failed: no waveform"
    out: dict[str, float] = {}
    for p in job.probes:
        out[p.column] = float(_probe(wave, p)[-1])
    times = [
        settling_time(t, _probe(wave, p), tr.t_step_s, tr.tolerance, float(_probe(fin, p)[0]))
        for p in settled
    ]
    if job.supply:
        idd = wave.get(vector("current", job.supply))
        if idd is not None:
            out["power_w"] = -job.vdd_v * float(idd[-1])
    if any(x is None for x in times):
        return (
            "not settled: output still outside the band at the end of the window; "
            "raise tran.window_as"
        )
    out["settle_s"] = max(x for x in times if x is not None)
    if "power_w" in out:
        out["energy_j"] = out["power_w"] * out["settle_s"]
    return out

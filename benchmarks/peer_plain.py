"""The peers' side of benchmarks/peers.py: what a user writes without sactk.

Usage: python peer_plain.py JOB.json OUT.npy [WORKERS]

JOB.json (written by peers.py from sactk's own plan, so both run the same netlist, chips and
vectors): ``netlist``, ``chips`` (per chip, a list of [target, value] alters), ``vectors``
(per point, a list of [source, value] alters), ``probe`` and ``supply`` (vector names).

A transfer-curve job has ``dc`` (the analysis command) and ``held`` (the other inputs'
[source, value] alters) instead of ``vectors``: one ``dc`` per chip.

* WORKERS 1 (default): the plain script. PySpice's NgSpiceShared, the netlist loaded once;
  per chip its alters, per point the input alters, ``destroy all``, ``op``, the two vectors
  read straight from ngspice; the results saved as one NumPy file.
* WORKERS N > 1: the same loop in a pool of N spawned processes, one task per chip, each
  worker with its own ngspice (one thread) and the netlist loaded once per worker.

Imports neither sactk nor pandas: the whole-process time is the peer's own.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from typing import Any

import numpy as np

_NG: Any = None
_JOB: dict[str, Any] = {}


def _start(job_path: str) -> None:
    """Load ngspice (one thread, in an empty folder) and the job's netlist, once a process."""
    global _NG, _JOB
    os.environ["OMP_THREAD_LIMIT"] = "1"
    from PySpice.Spice.NgSpice.Shared import NgSpiceShared, ffi

    class Quiet(NgSpiceShared):  # type: ignore[misc]
        # PySpice raises on any stderr line that is not a warning (BSIM3's checks write
        # there): a plain script has to swallow the output too.
        @staticmethod
        def _send_char(message_c: Any, ngspice_id: int, user_data: Any) -> int:
            return 0

    with open(job_path) as fh:
        _JOB = json.load(fh)
    os.chdir(tempfile.mkdtemp(prefix="peer-"))
    _NG = Quiet.new_instance()
    _NG.exec_command("set num_threads=1")
    _NG.load_circuit(_JOB["netlist"])
    _NG.ffi = ffi


def _vector(name: str) -> float:
    info = _NG._ngspice_shared.ngGet_Vec_Info(name.encode())
    return float(np.frombuffer(_NG.ffi.buffer(info.v_realdata, 8), dtype=np.float64)[0])


def _curve(name: str) -> np.ndarray:
    info = _NG._ngspice_shared.ngGet_Vec_Info(name.encode())
    n = int(info.v_length)
    return np.frombuffer(_NG.ffi.buffer(info.v_realdata, 8 * n), dtype=np.float64).copy()


def run_chip(k: int) -> np.ndarray:
    """Every point of chip ``k``: (points, 2) output current and supply current. A job
    with ``dc`` (a transfer curve) alters the held inputs and runs that one analysis."""
    cmd = _NG.exec_command
    for target, value in _JOB["chips"][k]:
        cmd(f"alter {target} = {value}")
    if "dc" in _JOB:
        for source, value in _JOB["held"]:
            cmd(f"alter {source} = {value}")
        cmd("destroy all")
        cmd(_JOB["dc"])
        return np.stack([_curve(_JOB["probe"]), _curve(_JOB["supply"])], axis=1)
    out = np.empty((len(_JOB["vectors"]), 2))
    for i, vector in enumerate(_JOB["vectors"]):
        for source, value in vector:
            cmd(f"alter {source} = {value}")
        cmd("destroy all")
        cmd("op")
        out[i] = _vector(_JOB["probe"]), _vector(_JOB["supply"])
    return out


def main() -> None:
    job_path, out_path = sys.argv[1], sys.argv[2]
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    with open(job_path) as fh:
        n_chips = len(json.load(fh)["chips"])
    if workers == 1:
        _start(job_path)
        results = [run_chip(k) for k in range(n_chips)]
    else:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(workers, initializer=_start, initargs=(job_path,)) as pool:
            results = pool.map(run_chip, range(n_chips), chunksize=1)
    np.save(out_path, np.concatenate(results))


if __name__ == "__main__":
    main()

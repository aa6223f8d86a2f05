"""Everything PySpice 1.5 needs to work with Debian's ngspice 39 and NumPy 2, in one place.

PySpice 1.5 (2021) is the last release. Each workaround below has a test in
tests/test_compat.py; docs/ngspice.md has the measurements behind them.

1. Library lookup: PySpice loads ``libngspice.so``, which only Debian's ``libngspice0-dev``
   provides. :func:`ensure_library_path` points ``NGSPICE_LIBRARY_PATH`` at
   ``libngspice.so.0`` when the plain name is missing.
2. Version warning: PySpice logs "Unsupported Ngspice version 39" (it knows up to 34). Shared
   mode results match ``ngspice -b``; :func:`quiet_pyspice_logging` silences the logger.
3. stderr treated as failure: PySpice flags any stderr line not starting with ``Warning:`` as a
   command error and raises, but BSIM3 parameter checks, gmin stepping chatter and the
   answer to ``echo $unset_var`` all go to stderr. :class:`QuietNgSpice` records all output
   and never raises on it; the backend judges success by the vectors it reads back.
4. Vector access: PySpice's ``Plot`` wraps vectors with unit objects; :func:`read_vector` reads
   one real vector straight from ``ngGet_Vec_Info`` as a NumPy copy (``np.frombuffer``, the
   NumPy 2 way). PySpice's subprocess mode is not used at all: its raw reader calls the
   removed ``np.fromstring`` and chokes on ngspice 39's "Note: ... compatibility mode" line.
5. Threads and working directory: ngspice is built with OpenMP (2 threads by default, which
   makes parallel workers 2.5x slower) and reads ``.spiceinit`` from the working directory at
   start-up. :func:`prepare_environment` sets ``OMP_THREAD_LIMIT=1`` before the library loads,
   and the backend starts ngspice inside an empty run directory and then issues
   ``set num_threads=1``.
"""

from __future__ import annotations

import ctypes.util
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

LIB_CANDIDATES = (
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib",
    "/usr/local/lib",
)


def find_libngspice() -> str | None:
    """Path of the ngspice shared library, or None."""
    env = os.environ.get("NGSPICE_LIBRARY_PATH")
    if env and Path(env).exists():
        return env
    for folder in LIB_CANDIDATES:
        for name in ("libngspice.so", "libngspice.so.0"):
            p = Path(folder) / name
            if p.exists():
                return str(p)
    found = ctypes.util.find_library("ngspice")
    return found


def ensure_library_path() -> str | None:
    """Workaround 1: make PySpice find the library even without the -dev package's symlink.

    Must run before ``PySpice.Spice.NgSpice.Shared`` is imported (it reads the variable at
    import). Returns the path used, or None when no library exists.
    """
    lib = find_libngspice()
    if lib is None:
        return None
    if "NGSPICE_LIBRARY_PATH" not in os.environ and not lib.endswith("libngspice.so"):
        os.environ["NGSPICE_LIBRARY_PATH"] = lib
    return lib


def quiet_pyspice_logging() -> None:
    """Workaround 2: PySpice's version warning and its stderr "errors" go to a silent logger."""
    logging.getLogger("PySpice").setLevel(logging.CRITICAL)


def prepare_environment() -> None:
    """Workaround 5 (part one): one OpenMP thread, set before libngspice is loaded."""
    os.environ["OMP_THREAD_LIMIT"] = "1"


def shared_class() -> Any:
    """Workaround 3: an NgSpiceShared subclass that records output and never raises on it."""
    ensure_library_path()
    quiet_pyspice_logging()
    from PySpice.Spice.NgSpice.Shared import NgSpiceShared, ffi

    class QuietNgSpice(NgSpiceShared):
        @staticmethod
        def _send_char(message_c: Any, ngspice_id: int, user_data: Any) -> int:
            self = ffi.from_handle(user_data)
            message = ffi.string(message_c).decode("utf-8", errors="replace")
            prefix, _, content = message.partition(" ")
            if prefix == "stderr":
                self._stderr.append(content)
            else:
                self._stdout.append(content)
            return 0

    return QuietNgSpice


def read_vector(ngspice: Any, name: str) -> np.ndarray | None:
    """Workaround 4: a real vector of the current plot as a NumPy copy, or None if absent."""
    from PySpice.Spice.NgSpice.Shared import ffi

    info = ngspice._ngspice_shared.ngGet_Vec_Info(name.encode("ascii"))
    if info == ffi.NULL or info.v_realdata == ffi.NULL:
        return None
    n = int(info.v_length)
    return np.frombuffer(ffi.buffer(info.v_realdata, n * 8), dtype=np.float64).copy()


def read_complex(ngspice: Any, name: str) -> np.ndarray | None:
    """A vector of the current plot as complex NumPy values (an ``ac`` plot's vectors are
    complex, its frequency too), or None if absent."""
    from PySpice.Spice.NgSpice.Shared import ffi

    info = ngspice._ngspice_shared.ngGet_Vec_Info(name.encode("ascii"))
    if info == ffi.NULL:
        return None
    n = int(info.v_length)
    if info.v_compdata != ffi.NULL:  # ngcomplex_t: (real, imaginary) doubles
        buf = ffi.buffer(info.v_compdata, n * 16)
        return np.frombuffer(buf, dtype=np.complex128).copy()
    if info.v_realdata != ffi.NULL:
        return np.frombuffer(ffi.buffer(info.v_realdata, n * 8), dtype=np.float64).astype(complex)
    return None


def vector_name(role: str, target: str) -> str:
    """ngspice's vector for a probe role (circuits.base.ProbeRole) on ``target``: the
    current of voltage source ``vout`` is ``vout#branch``, the voltage of node ``g`` is
    ``v(g)``. A name already in ngspice's form is kept (older benches' supply)."""
    if role == "voltage":
        return target if target.startswith("v(") else f"v({target})"
    return target if target.endswith("#branch") else f"{target}#branch"

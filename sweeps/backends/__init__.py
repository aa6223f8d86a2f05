"""Simulator backends: a protocol and a registry. Only backends touch the simulator."""

from __future__ import annotations

from typing import Any, Protocol

from sactk.errors import SpecError


class Backend(Protocol):
    name: str

    def available(self) -> bool: ...

    def run_job(self, job: Any) -> dict[str, Any]: ...


BACKENDS = ("ngspice-shared", "vacask")


def get_backend(name: str = "ngspice-shared") -> Backend:
    """The process-wide instance of a backend; an unknown name lists the known ones."""
    if name == "ngspice-shared":
        from sactk.sweeps.backends.ngspice_shared import instance

        return instance()
    if name == "vacask":
        from sactk.sweeps.backends.vacask import instance as vacask_instance

        return vacask_instance()
    raise SpecError(f"backend: unknown backend {name!r}; use one of {', '.join(BACKENDS)}")

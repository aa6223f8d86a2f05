"""Which simulator a sweep's jobs are written for: its name, the OSDI files its netlists load,
and the renderer of its language (netlists/render.py for ngspice, netlists/vacask.py for
VACASK). A technology lists the simulators it runs on (``Technology.simulators``)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sactk.errors import SpecError
from sactk.netlists.render import Netlist, render
from sactk.netlists.technology import Technology
from sactk.sweeps.spec import SweepSpec


@dataclass(frozen=True)
class Simulator:
    """The simulator a sweep's jobs are written for, and the OSDI files its netlists load."""

    name: str = "ngspice"
    osdi: tuple[str, ...] = ()

    def render(self, netlist: Netlist, noise: bool = False) -> str:
        """``netlist`` in this simulator's language; ``noise``: for a noise analysis, with
        the technology's noise MOSFET module where it names one (``Technology.vacask_noise``:
        c180's SPICE BSIM3 in VACASK)."""
        if self.name == "vacask":
            from sactk.netlists.vacask import render_vacask

            tech = netlist.tech
            if noise and tech.vacask_noise:
                osdi, device = tech.vacask_noise
                tech = replace(tech, vacask_osdi=osdi, vacask_device=device)
                return render_vacask(replace(netlist, tech=tech), (osdi, *self.osdi[1:]))
            return render_vacask(netlist, self.osdi)
        return render(netlist)


def simulator_for(spec: SweepSpec, tech: Technology) -> Simulator:
    """``sim.name`` (default: the technology's first simulator), checked against what the
    technology runs on; for VACASK, its device module (compiled once and cached)."""
    name = spec.sim.name or tech.simulators[0]
    if name not in tech.simulators:
        runs = " and ".join(tech.simulators)
        raise SpecError(
            f"sim.name: technology {tech.name} runs on {runs} only, not {name}; set "
            f'sim.name = "{tech.simulators[0]}" (--simulator {tech.simulators[0]})'
        )
    if name != "vacask":
        return Simulator(name)
    from sactk.sweeps.backends import vacask

    return Simulator(name, vacask.module_files(tech))


NGSPICE = Simulator()
"""The default: ngspice, no OSDI files."""

"""Device curves of a technology's model card (Id-Vg, Id-Vd), simulated like any sweep.

Used by docs/models.md to show what the card does at -40, 27 and 125 C.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sactk.circuits.base import Probe
from sactk.netlists.render import Mosfet, Netlist, VoltageSource, identity_text, render, text_hash
from sactk.netlists.technology import Technology
from sactk.sweeps.plan import Job


def _job(
    tech: Technology,
    kind: str,
    w_um: float,
    l_um: float,
    temp_c: float,
    sweep: str,
    vg: np.ndarray,
    vd: np.ndarray,
) -> Job:
    sign = 1.0 if kind == "n" else -1.0
    nl = Netlist(
        f"sactk {kind}mos curves",
        tech,
        "tt",
        temp_c,
        (
            VoltageSource("d", "d", "0", sign * float(vd[0])),
            VoltageSource("g", "g", "0", sign * float(vg[0])),
            Mosfet("dut", "d", "g", "0", "0", kind, w_um, l_um),
        ),
    )
    text = render(nl)
    coords = {
        "tech": tech.name,
        "device": f"{kind}mos",
        "w_um": w_um,
        "l_um": l_um,
        "temp_c": temp_c,
        "curve": sweep,
    }
    return Job(
        job_id=f"{kind}-{sweep}-{temp_c}",
        netlist=text,
        netlist_hash=text_hash(identity_text(text)),
        ngbehavior=tech.ngbehavior,
        coords=coords,
        sources=("vd", "vg"),
        values=sign * np.column_stack([vd, vg]),
        point_columns={"vgs_v": vg, "vds_v": vd, "point": np.arange(len(vg))},
        probes=(Probe.current("id_a", "vd", -sign),),
        output_columns=("id_a",),
    )


def device_curves(
    tech: Technology,
    *,
    w_um: float = 2.0,
    l_um: float = 1.0,
    temps_c: tuple[float, ...] = (-40.0, 27.0, 125.0),
    points: int = 61,
) -> Any:
    """Id-Vg at |Vds| = VDD and Id-Vd at |Vgs| = 0.6, 0.9, 1.2 V for both device types.

    Returns a DataFrame: device, curve (idvg/idvd), temp_c, vgs_v, vds_v (magnitudes),
    id_a (drain current magnitude, positive into the drain for NMOS).
    """
    import pandas as pd

    from sactk.sweeps.backends import get_backend

    backend = get_backend()
    v = np.linspace(0.0, tech.vdd_v, points)
    parts: list[Any] = []
    for kind in ("n", "p"):
        for t in temps_c:
            parts.append(
                backend.run_job(
                    _job(tech, kind, w_um, l_um, t, "idvg", v, np.full_like(v, tech.vdd_v))
                )
            )
            for vgs in (0.6, 0.9, 1.2):
                parts.append(
                    backend.run_job(
                        _job(tech, kind, w_um, l_um, t, f"idvd_{vgs:g}", np.full_like(v, vgs), v)
                    )
                )
    return pd.concat([pd.DataFrame(p) for p in parts], ignore_index=True)

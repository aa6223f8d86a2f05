"""Pelgrom mismatch: per-transistor threshold and current-factor draws from an explicit seed.

For a transistor of drawn area W L (Pelgrom, Duinmaijer and Welbers, "Matching properties of
MOS transistors", IEEE JSSC 24(5), 1989)::

    sigma(dVT)        = A_VT   / sqrt(W L)
    sigma(dbeta/beta) = A_beta / sqrt(W L)

Here these are per-device sigmas (a pair of devices differs by sqrt(2) more).
Each shift becomes an instance-parameter change applied with ``alter`` on the loaded circuit:
``delvto`` (threshold) and ``mulu0`` (mobility, so beta). Both are instance parameters of
ngspice's BSIM3 and BSIM4 (docs/ngspice.md, semantics; checked in tests/test_mismatch.py), so
the same draws work on the built-in c180 and, through the wrapper's inner MOSFET, on a PDK's
subcircuits.

Reproducibility: instance ``k`` of seed ``s`` draws from ``SeedSequence(s, spawn_key=(k,))``,
two standard normals per transistor in netlist order. The draw depends only on (s, k) and the
cell's device list, so a chip is the same at every bias, temperature, corner and executor,
and a larger size of the same cell is the same chip with smaller shifts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sactk.netlists.render import Mosfet, fmt
from sactk.netlists.technology import Technology
from sactk.seeds import instance_rng, instance_seed

Alter = tuple[str, str]
"""(ngspice ``alter`` target, formatted value), e.g. ("@mmos[delvto]", "0.00213")."""


def device_target(m: Mosfet, tech: Technology, param: str) -> str:
    """The ``@device[param]`` reference of a transistor's instance parameter."""
    if tech.device_kind == "subckt":
        model = tech.nmos if m.kind == "n" else tech.pmos
        return f"@m.x{m.name}.{tech.subckt_device.format(model=model)}[{param}]"
    return f"@m{m.name}[{param}]"


def normal_draws(seed: int, index: int, n_devices: int) -> np.ndarray:
    """(n_devices, 2) standard normals of mismatch instance ``index``: [z_vt, z_beta]."""
    return np.asarray(instance_rng(seed, index).standard_normal((n_devices, 2)))


def pelgrom_alters(
    devices: Sequence[Mosfet],
    tech: Technology,
    seed: int,
    index: int,
    per_type: dict[str, tuple[float, float]] | None = None,
) -> tuple[Alter, ...]:
    """The alters that make the nominal circuit into mismatch instance ``index``.

    ``per_type``: (A_VT mV um, A_beta % um) per device kind ``n``/``p`` instead of the
    technology's one pair (a PDK's own statistics, where they are Pelgrom laws per type).

    dVT is a shift of |VT|: ``delvto = +dVT`` for NMOS and ``-dVT`` for PMOS (delvto adds to
    the signed vth0). ``mulu0 = 1 + dbeta/beta``, kept above 0.05 for absurd draws.
    """
    z = normal_draws(seed, index, len(devices)).tolist()  # floats: NumPy scalars are slow
    vt, beta = VT_BETA[tech.mismatch_style]
    coef = per_type or {"n": (tech.avt_mv_um, tech.abeta_pct_um)}
    out: list[Alter] = []
    for m, (z_vt, z_beta) in zip(devices, z, strict=True):
        root_area = math.sqrt(drawn_width_um(m, tech) * m.l_um)
        avt, abeta = coef.get(m.kind, coef["n"])
        dvt_v = 1e-3 * avt / root_area * z_vt
        dbeta = 1e-2 * abeta / root_area * z_beta
        vt_value, beta_value = draw_values(dvt_v, dbeta, m.kind, tech)
        out.append((device_target(m, tech, vt), vt_value))
        out.append((device_target(m, tech, beta), beta_value))
    return tuple(out)


def draw_values(dvt_v: float, dbeta: float, kind: str, tech: Technology) -> tuple[str, str]:
    """The formatted values of :data:`VT_BETA`'s two parameters for a |VT| shift ``dvt_v``
    and a relative beta change ``dbeta`` of a ``kind`` (``n``/``p``) device: delvto adds
    to the signed vth0 (negative for a PMOS's larger |VT|); BSIM-CMG's VTH = ... -
    DELVTRAND and PSP's delvto work in the device's own sign."""
    vt, beta = VT_BETA[tech.mismatch_style]
    signed = dvt_v if kind == "n" else -dvt_v
    shift = {"bsim": signed, "cmg": -dvt_v, "psp": dvt_v}[tech.mismatch_style]
    return fmt(shift, vt), fmt(max(0.05, 1.0 + dbeta), beta)


VT_BETA = {
    "bsim": ("delvto", "mulu0"),
    "cmg": ("delvtrand", "u0mult"),
    "psp": ("delvto", "factuo"),
}
"""Per :attr:`Technology.mismatch_style`, the instance parameters of a threshold shift and
a mobility factor (BSIM3/4 in ngspice and VACASK; BSIM-CMG 111 ``DELVTRAND``/``U0MULT``;
PSP 103 ``DELVTO``/``FACTUO``)."""


def drawn_width_um(m: Mosfet, tech: Technology) -> float:
    """The width the device really has: a FinFET's is its whole number of fins."""
    if tech.fin_w_um:
        return max(1, round(m.w_um / tech.fin_w_um)) * tech.fin_w_um
    return m.w_um


def nominal_alters(devices: Sequence[Mosfet], tech: Technology) -> tuple[Alter, ...]:
    """Alters that undo any instance: delvto 0 and mulu0 1 on every transistor."""
    vt, beta = VT_BETA[tech.mismatch_style]
    out: list[Alter] = []
    for m in devices:
        out.append((device_target(m, tech, vt), "0"))
        out.append((device_target(m, tech, beta), "1"))
    return tuple(out)


def pdk_seed(seed: int, index: int) -> int:
    """The ngspice ``setseed`` value of instance ``index`` for a PDK's own statistical models
    (``mc.method = "pdk"``): derived from (seed, index) only, below 2**31."""
    return instance_seed(seed, index)

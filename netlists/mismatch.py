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
    devices: Sequence[Mosfet], tech: Technology, seed: int, index: int
) -> tuple[Alter, ...]:
    """The alters that make the nominal circuit into mismatch instance ``index``.

    dVT is a shift of |VT|: ``delvto = +dVT`` for NMOS and ``-dVT`` for PMOS (delvto adds to
    the signed vth0). ``mulu0 = 1 + dbeta/beta``, kept above 0.05 for absurd draws.
    """
    z = normal_draws(seed, index, len(devices)).tolist()  # floats: NumPy scalars are slow
    out: list[Alter] = []
    for m, (z_vt, z_beta) in zip(devices, z, strict=True):
        root_area = math.sqrt(m.w_um * m.l_um)
        dvt_v = 1e-3 * tech.avt_mv_um / root_area * z_vt
        dbeta = 1e-2 * tech.abeta_pct_um / root_area * z_beta
        delvto = dvt_v if m.kind == "n" else -dvt_v
        out.append((device_target(m, tech, "delvto"), fmt(delvto, "delvto")))
        out.append((device_target(m, tech, "mulu0"), fmt(max(0.05, 1.0 + dbeta), "mulu0")))
    return tuple(out)


def nominal_alters(devices: Sequence[Mosfet], tech: Technology) -> tuple[Alter, ...]:
    """Alters that undo any instance: delvto 0 and mulu0 1 on every transistor."""
    out: list[Alter] = []
    for m in devices:
        out.append((device_target(m, tech, "delvto"), "0"))
        out.append((device_target(m, tech, "mulu0"), "1"))
    return tuple(out)


def pdk_seed(seed: int, index: int) -> int:
    """The ngspice ``setseed`` value of instance ``index`` for a PDK's own statistical models
    (``mc.method = "pdk"``): derived from (seed, index) only, below 2**31."""
    return instance_seed(seed, index)

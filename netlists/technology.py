"""Technologies: which model library a netlist includes and how its devices are named.

A :class:`Technology` is plain data. Builders read sizes and device names from it and never
assume a particular process, so every cell runs on the built-in ``c180`` card and on a user's
own PDK alike.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Literal

from sactk.errors import SpecError

DeviceKind = Literal["model", "subckt"]


@dataclass(frozen=True)
class Technology:
    """A CMOS technology as the netlist renderer needs it."""

    name: str
    """Short name used in specs and result columns (``tech``)."""
    vdd_v: float
    """Nominal supply voltage of the core devices, V."""
    lmin_um: float
    """Minimum drawn channel length, um."""
    wmin_um: float
    """Minimum drawn channel width, um."""
    nmos: str
    """NMOS model name (``device_kind="model"``) or subcircuit name (``"subckt"``)."""
    pmos: str
    """PMOS model or subcircuit name."""
    model_lib: Path
    """Model library file included with ``.lib '<model_lib>' <section>``."""
    corners: dict[str, str]
    """Corner name (tt, ff, ss, fs, sf) -> section of ``model_lib``."""
    device_kind: DeviceKind = "model"
    """``model``: MOSFETs are ``M`` elements; ``subckt``: PDK wrappers instantiated with ``X``."""
    includes: tuple[Path, ...] = ()
    """Files ``.include``d before the library (for example a PDK's global switches)."""
    params: tuple[tuple[str, float], ...] = ()
    """``.param`` overrides placed after the includes (for example mismatch switches off)."""
    ngbehavior: str | None = None
    """ngspice compatibility mode this library needs (``hs`` for HSPICE-style PDKs)."""
    avt_mv_um: float = 5.0
    """Pelgrom threshold-mismatch coefficient A_VT, mV um."""
    abeta_pct_um: float = 1.0
    """Pelgrom current-factor mismatch coefficient A_beta, % um."""
    diff_ext_um: float = 0.48
    """Source/drain diffusion extension used for AD/AS/PD/PS, um."""
    subckt_device: str = "m0"
    """For ``subckt`` devices: the MOSFET inside the PDK's wrapper, whose ``delvto`` and
    ``mulu0`` carry Pelgrom mismatch (``@m.x<name>.m0[delvto]``)."""
    mismatch_params: tuple[tuple[str, float], ...] = ()
    """``.param`` values that switch on the PDK's own mismatch models (``mc.method = "pdk"``);
    empty when the technology has none."""
    description: str = ""
    kind: Literal["builtin", "pdk"] = field(default="builtin")
    """``builtin`` for c180, ``pdk`` for a description made by :meth:`from_pdk`."""

    def corner_section(self, corner: str) -> str:
        try:
            return self.corners[corner]
        except KeyError:
            known = ", ".join(sorted(self.corners))
            raise SpecError(
                f"sweep.corner: unknown corner {corner!r} for {self.name}; use one of {known}"
            ) from None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready description (every field; paths as strings), stored in every manifest."""
        d = asdict(self)
        d["model_lib"] = str(self.model_lib)
        d["includes"] = [str(p) for p in self.includes]
        d["params"] = [list(p) for p in self.params]
        return d

    @classmethod
    def from_pdk(
        cls,
        name: str,
        model_lib: str | os.PathLike[str],
        *,
        nmos: str,
        pmos: str,
        corners: dict[str, str],
        vdd_v: float,
        lmin_um: float,
        wmin_um: float,
        device_kind: DeviceKind = "subckt",
        includes: tuple[str | os.PathLike[str], ...] = (),
        params: tuple[tuple[str, float], ...] = (),
        ngbehavior: str | None = "hs",
        avt_mv_um: float = 5.0,
        abeta_pct_um: float = 1.0,
        subckt_device: str = "m0",
        mismatch_params: tuple[tuple[str, float], ...] = (),
        description: str = "",
    ) -> Technology:
        """Describe a user's own PDK. Every path must exist; nothing else is read."""
        lib = Path(model_lib)
        inc = tuple(Path(p) for p in includes)
        for p in (lib, *inc):
            if not p.is_file():
                raise SpecError(
                    f"tech.models_dir: model file {p} not found; point tech.models_dir "
                    "(or PDK_ROOT) at the PDK's ngspice model folder"
                )
        return cls(
            name=name,
            vdd_v=vdd_v,
            lmin_um=lmin_um,
            wmin_um=wmin_um,
            nmos=nmos,
            pmos=pmos,
            model_lib=lib,
            corners=dict(corners),
            device_kind=device_kind,
            includes=inc,
            params=params,
            ngbehavior=ngbehavior,
            avt_mv_um=avt_mv_um,
            abeta_pct_um=abeta_pct_um,
            subckt_device=subckt_device,
            mismatch_params=mismatch_params,
            description=description,
            kind="pdk",
        )

    def with_(self, **changes: object) -> Technology:
        return replace(self, **changes)  # type: ignore[arg-type]


CORNERS = ("tt", "ff", "ss", "fs", "sf")


def c180() -> Technology:
    """The built-in open 180nm-style BSIM3v3.3 technology (``netlists/models/c180.lib``).

    Supply 1.8 V, Lmin 0.18 um. Pelgrom coefficients A_VT = 5 mV um and A_beta = 1 % um are
    typical of 0.18 um CMOS (Pelgrom et al., IEEE JSSC 1989; Kinget, JSSC 2005).
    """
    lib = Path(str(resources.files("sactk.netlists") / "models" / "c180.lib"))
    return Technology(
        name="c180",
        vdd_v=1.8,
        lmin_um=0.18,
        wmin_um=0.22,
        nmos="nch",
        pmos="pch",
        model_lib=lib,
        corners={c: c for c in CORNERS},
        device_kind="model",
        avt_mv_um=5.0,
        abeta_pct_um=1.0,
        description="open 180nm-style BSIM3v3.3 card shipped with sactk (not a foundry model)",
    )


GF180_SUBDIR = Path("gf180mcuD") / "libs.tech" / "ngspice"


def gf180mcu(models_dir: str | os.PathLike[str] | None = None) -> Technology:
    """GlobalFoundries GF180MCU 3.3 V devices from the open PDK's ngspice models.

    Found in ``models_dir`` when given, else ``$PDK_ROOT/gf180mcuD/libs.tech/ngspice/`` (the
    open-PDK convention). Mismatch (``sw_stat_mismatch``) and global variation
    (``sw_stat_global``) default to on in the PDK's design.ngspice; sactk turns both off for
    nominal runs, and ``mc.method = "pdk"`` turns mismatch back on (its agauss draws).

    Pelgrom coefficients per device from the PDK's own mismatch section (sm141064.ngspice,
    nmos_3p3: sigma = 0.7071 par_vth / sqrt(W L) with par_vth = 7.148 mV um, so A_VT = 5.05 mV
    um; par_k = 0.70 % um gives A_beta = 0.50 % um; pmos_3p3 has 4.7 mV um).
    """
    if models_dir is None:
        root = os.environ.get("PDK_ROOT")
        if not root:
            raise SpecError(
                "tech.models_dir: GF180MCU models not found; set PDK_ROOT (the folder holding "
                "gf180mcuD/) or tech.models_dir (the folder holding sm141064.ngspice)"
            )
        folder = Path(root) / GF180_SUBDIR
    else:
        folder = Path(models_dir)
    corners = {"tt": "typical", "ff": "ff", "ss": "ss", "fs": "fs", "sf": "sf"}
    return Technology.from_pdk(
        "gf180mcu",
        folder / "sm141064.ngspice",
        nmos="nmos_3p3",
        pmos="pmos_3p3",
        corners=corners,
        vdd_v=3.3,
        lmin_um=0.28,
        wmin_um=0.22,
        device_kind="subckt",
        includes=(folder / "design.ngspice",),
        params=(("sw_stat_global", 0.0), ("sw_stat_mismatch", 0.0)),
        ngbehavior="hs",
        avt_mv_um=5.05,
        abeta_pct_um=0.5,
        subckt_device="m0",
        mismatch_params=(("sw_stat_global", 0.0), ("sw_stat_mismatch", 1.0)),
        description="GlobalFoundries GF180MCU open PDK, 3.3 V devices (BSIM4 subcircuits)",
    )


TECHNOLOGIES = ("c180", "gf180mcu")


def get_technology(name: str, models_dir: str | None = None) -> Technology:
    """Look up a technology by name; an unknown name lists the known ones."""
    if name == "c180":
        return c180()
    if name == "gf180mcu":
        return gf180mcu(models_dir)
    raise SpecError(f"tech.name: unknown technology {name!r}; use one of {', '.join(TECHNOLOGIES)}")

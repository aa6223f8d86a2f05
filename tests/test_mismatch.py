"""Pelgrom draws: seeded, per-device sigma A/sqrt(WL), and applied to the real circuit."""

from __future__ import annotations

import numpy as np
import pytest

from sactk.netlists.mismatch import (
    device_target,
    nominal_alters,
    normal_draws,
    pdk_seed,
    pelgrom_alters,
)
from sactk.netlists.render import Mosfet
from sactk.netlists.technology import c180
from sactk.sweeps.plan import plan
from sactk.sweeps.spec import load_spec

DEVICES = [
    Mosfet("a", "d", "g", "0", "0", "n", 4.0, 1.0),
    Mosfet("b", "d", "g", "vdd", "vdd", "p", 16.0, 4.0),
]


def test_draws_depend_only_on_seed_and_index() -> None:
    assert np.array_equal(normal_draws(7, 3, 5), normal_draws(7, 3, 5))
    assert not np.array_equal(normal_draws(7, 3, 5), normal_draws(7, 4, 5))
    assert not np.array_equal(normal_draws(7, 3, 5), normal_draws(8, 3, 5))
    # Instance k does not depend on how many devices later instances have.
    assert np.array_equal(normal_draws(7, 3, 8)[:5], normal_draws(7, 3, 5))
    assert pdk_seed(1, 0) == pdk_seed(1, 0) != pdk_seed(1, 1)
    assert 0 < pdk_seed(2**62, 99) < 2**31


def test_pelgrom_sigma_scales_with_area() -> None:
    tech = c180()
    n = 4000
    dvt = np.array(
        [
            [float(v) for t, v in pelgrom_alters(DEVICES, tech, 1, k) if "delvto" in t]
            for k in range(n)
        ]
    )
    mu = np.array(
        [
            [float(v) for t, v in pelgrom_alters(DEVICES, tech, 1, k) if "mulu0" in t]
            for k in range(n)
        ]
    )
    # sigma = A / sqrt(W L): 5 mV um / 2 um = 2.5 mV for 4/1, 0.625 mV for 16/4 (+-6 %, n=4000)
    assert dvt[:, 0].std() == pytest.approx(2.5e-3, rel=0.06)
    assert dvt[:, 1].std() == pytest.approx(0.625e-3, rel=0.06)
    assert (mu[:, 0] - 1).std() == pytest.approx(0.005, rel=0.06)
    # The PMOS shift is |VT| up for a positive draw: delvto has the opposite sign.
    z = np.array([normal_draws(1, k, 2)[1, 0] for k in range(50)])
    assert np.all(np.sign(dvt[:50, 1]) == -np.sign(z))


def test_targets_for_models_and_subcircuits(tmp_path: object) -> None:
    assert device_target(DEVICES[0], c180(), "delvto") == "@ma[delvto]"
    # A PDK's wrapper: the inner MOSFET (m0 for GF180MCU) carries the instance parameter.
    pdk = c180().with_(device_kind="subckt")
    assert device_target(DEVICES[0], pdk, "mulu0") == "@m.xa.m0[mulu0]"
    assert nominal_alters(DEVICES, c180())[0] == ("@ma[delvto]", "0")


def test_plan_chunks_instances_and_keeps_chips_across_conditions() -> None:
    spec = load_spec(
        text="[sweep]\nbias_a = [1e-8, 1e-6]\ntemp_c = [-40, 125]\n[mc]\ninstances = 7\n"
        "per_job = 3\nnominal = true\n[inputs.random]\ncount = 2\n[inputs.sweep]\npoints = 0\n"
    )
    jobs = plan(spec)
    assert len(jobs) == 4 * 3  # 4 conditions x ceil(8 / 3) chunks
    first = [j for j in jobs if j.instances[0].mc_index == -1]
    assert len(first) == 4
    # Chip k has the same draws at every bias and temperature.
    alters = {(j.coords["temp_c"], j.coords["bias_a"]): j.instances[1].alters for j in first}
    assert len(set(alters.values())) == 1
    assert sum(j.n_points for j in jobs) == 4 * 8 * 2


@pytest.mark.ngspice
def test_delvto_and_mulu0_move_the_output_on_ngspice() -> None:
    """A +10 mV threshold shift on the output sink lowers z; +5 % mobility raises it."""
    from sactk.sweeps.backends import get_backend
    from sactk.sweeps.plan import Instance

    spec = load_spec(
        text="[sweep]\nbias_a = [1e-7]\n[cell]\nn_inputs = 2\n"
        "[inputs.random]\ncount = 0\n[inputs.sweep]\npoints = 1\nhold_ratio = 2.0\n"
    )
    job = plan(spec)[0]
    target = "@mmos"
    shifted = [
        Instance(-1),
        Instance(0, ((f"{target}[delvto]", "0.01"),)),
        Instance(1, ((f"{target}[delvto]", "0"), (f"{target}[mulu0]", "1.05"))),
    ]
    from dataclasses import replace

    cols = get_backend().run_job(replace(job, instances=tuple(shifted)))
    z = cols["out_z_a"]
    assert list(cols["status"]) == ["ok"] * 3
    # Weak/moderate inversion at 100 nA: 10 mV is exp(-10 mV / (n U_T)), about -20 %.
    assert 0.6 < z[1] / z[0] < 0.9
    assert 1.03 < z[2] / z[0] < 1.07


@pytest.mark.ngspice
@pytest.mark.pdk
def test_pelgrom_alters_reach_gf180_subcircuits(pdk_root: str) -> None:
    spec = load_spec(
        text="[tech]\nname = 'gf180mcu'\n[sweep]\nbias_a = [1e-7]\n[mc]\ninstances = 4\n"
        "nominal = true\n[inputs.random]\ncount = 0\n[inputs.sweep]\npoints = 1\n"
    )
    from sactk.sweeps.backends import get_backend

    (job,) = plan(spec)
    cols = get_backend().run_job(job)
    assert list(cols["status"]) == ["ok"] * 5
    z = np.asarray(cols["out_z_a"])
    # Every chip differs from nominal: the alters reached the wrapped BSIM4 devices.
    assert np.all(np.abs(z[1:] / z[0] - 1) > 1e-4)


@pytest.mark.ngspice
@pytest.mark.pdk
def test_pdk_statistical_models_are_seeded_and_agree_with_pelgrom(pdk_root: str) -> None:
    """mc.method = "pdk": GF180MCU's own agauss draws, re-seeded per chip, reproducible;
    their spread is that of sactk's Pelgrom draws from the same coefficients (within 2x)."""
    from sactk.sweeps.backends import get_backend

    sigma = {}
    for method in ("pdk", "pelgrom"):
        spec = load_spec(
            text="[tech]\nname = 'gf180mcu'\n[sweep]\nbias_a = [1e-7]\n[mc]\ninstances = 16\n"
            f"per_job = 16\nmethod = '{method}'\n[inputs.random]\ncount = 0\n"
            "[inputs.sweep]\npoints = 1\n"
        )
        (job,) = plan(spec)
        first = get_backend().run_job(job)
        assert list(first["status"]) == ["ok"] * 16
        z = np.asarray(first["out_z_a"])
        if method == "pdk":
            assert np.array_equal(z, get_backend().run_job(job)["out_z_a"])
            assert len(set(z.tolist())) == 16
        sigma[method] = float(np.std(z / np.mean(z)))
    assert 0.5 < sigma["pdk"] / sigma["pelgrom"] < 2.0

"""Spec loading and validation: every error is one line naming the field and the fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sactk.errors import SpecError
from sactk.sweeps.plan import plan
from sactk.sweeps.spec import load_spec, parse_override, preset_names

MINIMAL = "[sweep]\nbias_a = [1e-7]\n"


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_loads_and_plans(name: str) -> None:
    spec = load_spec(preset=name)
    jobs = plan(spec)
    conditions = (
        len(spec.sweep.bias_a)
        * len(spec.sweep.temp_c)
        * len(spec.sweep.corner)
        * len(spec.sweep.wl_um or [None])
        * len(spec.sweep.vdd_v or [None])
    )
    chips = spec.mc.instances + int(spec.mc.nominal) if spec.mc.instances else 1
    chunks = -(-chips // spec.mc.per_job)
    dc = int(bool(spec.inputs.random.count or spec.inputs.sweep.points))
    analyses = dc + int(spec.tran is not None)
    analyses += dc * int(spec.noise is not None)  # noise at the DC vectors
    analyses += dc * int(spec.ac is not None)  # ac at the DC vectors
    assert len(jobs) == conditions * chunks * analyses
    assert len({j.job_id for j in jobs}) == len(jobs)


def test_defaults_fill_in() -> None:
    spec = load_spec(text=MINIMAL)
    assert spec.cell.name == "mp" and "n_inputs" not in spec.cell.table  # the cell's default
    assert spec.tech.name == "c180" and spec.sweep.temp_c == [27.0]
    assert len(plan(spec)[0].sources) == 4


def test_overrides() -> None:
    spec = load_spec(
        preset="mp-dc", overrides=["cell.n_inputs=6", "sweep.temp_c=[85]", 'sweep.corner=["ff"]']
    )
    assert (
        spec.cell.table["n_inputs"] == 6
        and spec.sweep.temp_c == [85.0]
        and spec.sweep.corner == ["ff"]
    )
    jobs = plan(spec)
    assert jobs[0].coords["corner"] == "ff"
    assert {c for c in jobs[0].point_columns if c.startswith("in_")} == {
        f"in_i{k}_a" for k in range(6)
    }


def test_override_parsing() -> None:
    assert parse_override("a.b=[1, 2]") == (["a", "b"], [1, 2])
    assert parse_override('tech.name="gf180mcu"') == (["tech", "name"], "gf180mcu")
    assert parse_override("tech.name=gf180mcu") == (["tech", "name"], "gf180mcu")


def test_random_vectors_are_seeded_and_filtered() -> None:
    a = plan(load_spec(preset="mp-dc"))
    b = plan(load_spec(preset="mp-dc"))
    assert np.array_equal(a[0].values, b[0].values) and a[0].job_id == b[0].job_id
    c = plan(load_spec(preset="mp-dc", overrides=["inputs.random.seed=2"]))
    assert not np.array_equal(a[0].values, c[0].values) and a[0].job_id != c[0].job_id
    from sactk.circuits.mp import ideal

    for job in a:
        rand = job.values[job.point_columns["pattern"] == "random"]
        assert len(rand) == 24
        bias = job.coords["bias_a"]
        assert (ideal(rand, bias) >= 0.1 * bias * (1 - 1e-9)).all()


BAD = [
    ("[sweep]\nbias_a = [-1e-6]\n", [], "sweep.bias_a"),
    ('[sweep]\nbias_a = ["1e-6"]\n', [], "sweep.bias_a"),
    ("[sweep]\nbias_a = []\n", [], "sweep.bias_a"),
    ("[sweep\nbias_a = [1e-6]\n", [], "malformed TOML"),
    (MINIMAL + '[cell]\nname = "nope"\n', [], "cell.name"),
    (MINIMAL + "[cell]\nn_inputs = 4.5\n", [], "cell.n_inputs"),
    (MINIMAL + "[cell]\nn_inputs = 1\n", [], "cell.n_inputs"),
    (MINIMAL + "[cell]\nn_input = 4\n", [], "did you mean 'n_inputs'"),
    (MINIMAL + '[tech]\nname = "c90"\n', [], "tech.name"),
    (MINIMAL + 'corner = ["xx"]\n', [], "sweep.corner"),
    (MINIMAL, ["sweep.temp_c=[500]"], "sweep.temp_c"),
    (MINIMAL, ["sweep.bias=[1e-6]"], "did you mean 'sweep.bias_a'"),
    (MINIMAL, ["cell.n_inputs=four"], "cell.n_inputs"),
    (MINIMAL, ["nosuchsection.key=1"], "unknown key"),
    (MINIMAL, ["sweep.bias_a"], "expected section.key=value"),
    (MINIMAL, ["inputs.sweep.index=7"], "inputs.sweep.index"),
    ("[sweep]\ntemp_c = [27]\n", [], "sweep.bias_a: required"),
    (MINIMAL + '[tech]\nname = "bad name"\n', [], "tech.name"),
]


@pytest.mark.parametrize(("text", "overrides", "needle"), BAD)
def test_bad_specs_give_one_line(text: str, overrides: list[str], needle: str) -> None:
    with pytest.raises(SpecError) as exc:
        plan(load_spec(text=text, overrides=overrides))
    msg = str(exc.value)
    assert needle in msg
    assert "\n" not in msg


def test_unknown_preset_suggests() -> None:
    with pytest.raises(SpecError, match="did you mean 'mp-dc'"):
        load_spec(preset="mp-d")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="not found"):
        load_spec(tmp_path / "nope.toml")


def test_gf180_without_pdk_root_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PDK_ROOT", raising=False)
    with pytest.raises(SpecError, match="PDK_ROOT"):
        plan(load_spec(text=MINIMAL, overrides=["tech.name=gf180mcu"]))


def test_large_jobs_are_split_by_vectors_without_losing_points() -> None:
    from sactk.sweeps.plan import MAX_JOB_POINTS

    spec = load_spec(preset="mp-dc", overrides=["sweep.bias_a=[1e-7]", "inputs.random.count=9000"])
    jobs = plan(spec)
    assert len(jobs) == 3 and all(j.n_points <= MAX_JOB_POINTS for j in jobs)
    points = np.concatenate([j.point_columns["point"] for j in jobs])
    assert np.array_equal(points, np.arange(9000 + 41))
    assert len({j.job_id for j in jobs}) == 3

"""The command line as a user meets it: exit codes, one-line errors, nothing written on bad
input, resume, plots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _cli import run

SMALL = [
    "--set",
    "sweep.bias_a=[1e-8, 1e-6]",
    "--set",
    "inputs.random.count=3",
    "--set",
    "inputs.sweep.points=3",
]


def test_presets_lists_mp_dc() -> None:
    r = run("presets")
    assert r.returncode == 0
    assert "mp-dc" in r.stdout


BAD_INPUT = [
    (["sweep", "--preset", "nope"], "--preset"),
    (["sweep", "--preset", "mp-dc", "--set", "sweep.bias_a=[-1e-6]"], "sweep.bias_a"),
    (["sweep", "--preset", "mp-dc", "--set", 'sweep.bias_a=["abc"]'], "sweep.bias_a"),
    (["sweep", "--preset", "mp-dc", "--set", "sweep.bias_a=[abc]"], "--set sweep.bias_a"),
    (["sweep", "--preset", "mp-dc", "--set", "cell.nonsense=1"], "unknown key"),
    (["sweep", "--preset", "mp-dc", "--set", "cell.name=inverter"], "cell.name"),
    (["sweep", "--preset", "mp-dc", "--set", 'sweep.corner=["zz"]'], "sweep.corner"),
    (["sweep"], "spec"),
    (["regress", "--dataset", "sinc", "--windows", "1,abc"], "--windows"),
]


@pytest.mark.parametrize(("args", "field"), BAD_INPUT)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, args: list[str], field: str) -> None:
    out = tmp_path / "out"
    r = run(*args, "--out", str(out))
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error: ") and field in lines[0]
    assert "Traceback" not in r.stderr
    assert not out.exists()


def test_malformed_toml_file(tmp_path: Path) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text("[sweep\nbias_a = [1e-6]\n")
    r = run("sweep", str(spec), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "malformed TOML" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.ngspice
def test_sweep_resume_and_plot(tmp_path: Path) -> None:
    out = tmp_path / "res"
    r = run("sweep", "--preset", "mp-dc", *SMALL, "--out", str(out), "--jobs", "1")
    assert r.returncode == 0, r.stderr
    assert "0 points failed" in r.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["spec"]["sweep"]["bias_a"] == [1e-8, 1e-6]
    assert manifest["technology"]["name"] == "c180"
    assert manifest["versions"]["ngspice"] and manifest["versions"]["PySpice"]
    assert len(manifest["jobs"]) == 2
    assert all(len(j["netlist_hash"]) == 16 for j in manifest["jobs"].values())
    parts = sorted((out / "results.parquet").glob("part-*.parquet"))
    mtimes = [p.stat().st_mtime_ns for p in parts]

    # rerun: nothing redone
    r2 = run("sweep", "--preset", "mp-dc", *SMALL, "--out", str(out), "--jobs", "1")
    assert r2.returncode == 0 and "jobs: 0 ok, 0 with failures, 2 already done" in r2.stdout
    assert [p.stat().st_mtime_ns for p in parts] == mtimes

    # a lost part is recomputed, the other is kept
    parts[0].unlink()
    r3 = run("sweep", "--preset", "mp-dc", *SMALL, "--out", str(out), "--jobs", "1")
    assert "jobs: 1 ok, 0 with failures, 1 already done" in r3.stdout
    assert parts[1].stat().st_mtime_ns == mtimes[1]

    # a different spec into the same folder is refused
    r4 = run("sweep", "--preset", "mp-dc", "--out", str(out))
    assert r4.returncode == 2 and "different spec" in r4.stderr

    plots = tmp_path / "plots"
    r5 = run("plot", str(out), "--out", str(plots))
    assert r5.returncode == 0, r5.stderr
    for name in ("transfer", "error_vs_bias", "scatter"):
        assert (plots / f"{name}.png").stat().st_size > 10_000
        assert (plots / f"{name}.pdf").exists()


def test_plot_of_missing_dir_is_exit_2(tmp_path: Path) -> None:
    r = run("plot", str(tmp_path / "nothing"), "--out", str(tmp_path / "p"))
    assert r.returncode == 2 and "manifest.json" in r.stderr


def test_version_and_preset_text() -> None:
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("sactk 0.")
    r = run("presets", "--show", "mp-dc")
    assert r.returncode == 0
    import tomllib

    assert tomllib.loads(r.stdout)["cell"]["name"] == "mp"
    r = run("presets", "--show", "mp-d")
    assert r.returncode == 2 and "did you mean 'mp-dc'" in r.stderr


def test_overrides_take_spice_suffixes_and_errors_blame_them() -> None:
    from sactk.errors import SpecError
    from sactk.sweeps.spec import load_spec

    spec = load_spec(preset="mp-dc", overrides=["sweep.bias_a=[10n, 2.5u, 1m]"])
    assert spec.sweep.bias_a == pytest.approx([1e-8, 2.5e-6, 1e-3])
    from sactk.sweeps.spec import parse_override

    assert parse_override("a.b=[1k, 3meg, -2p]")[1] == pytest.approx([1e3, 3e6, -2e-12])
    # inside quotes a suffix stays text
    assert load_spec(preset="mp-dc", overrides=['tech.models_dir="10n"']).tech.models_dir == "10n"
    with pytest.raises(SpecError, match=r"^--set cell\.n_inputs: Input should be a valid integer"):
        load_spec(preset="mp-dc", overrides=["cell.n_inputs=[2, 4, 8]"])
    with pytest.raises(SpecError, match=r"^--set cell\.n_inputs: .*less than or equal to 64"):
        load_spec(preset="mp-dc", overrides=["cell.n_inputs=99"])
    with pytest.raises(SpecError, match=r"^spec: .*write 1e-08 for 10n"):
        load_spec(text="[sweep]\nbias_a = [10n]\n")


def _leaf_commands(cmd, path=()):
    if hasattr(cmd, "commands"):  # a group (typer ships its own click classes)
        for name, sub in cmd.commands.items():
            yield from _leaf_commands(sub, (*path, name))
    else:
        yield path, cmd


def test_every_option_and_argument_has_help() -> None:
    from typer.main import get_command

    from sactk.cli import app  # every command registered

    leaves = list(_leaf_commands(get_command(app)))
    assert len(leaves) >= 15  # the walk reaches sc, aimc and the cell commands
    missing = [
        (" ".join(path), p.name)
        for path, cmd in leaves
        for p in cmd.params
        if p.name != "help" and not getattr(p, "help", None)
    ]
    assert not missing, missing


def test_command_lists_read_as_sentences() -> None:
    """``--help`` lists each command with its docstring's first sentence, on lines the
    terminal wraps, not the docstring's hard-wrapped lines (issue 31)."""
    from sactk.cli.root import first_sentence

    assert first_sentence("Run it\n    fast. Then more.") == "Run it fast."
    assert first_sentence("One HTML page: spec and plots.") == "One HTML page."
    r = run("--help")
    assert r.returncode == 0 and "The main job end to end on c180." in r.stdout
    r = run("verify", "--help")
    assert "The neuron's settling time and power from the layer netlist's step" in r.stdout

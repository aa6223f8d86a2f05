"""Malformed input, one kind per case: every one is refused with exit 2, one line on stderr
naming the field and the fix, and no traceback. docs/reliability.md lists the same table."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))
from _cli import run

SPEC_OK = """
[cell]
name = "mp"
n_inputs = 2
[tech]
name = "c180"
[sweep]
bias_a = [1e-7]
temp_c = [27]
[inputs.random]
count = 2
"""

# (kind, files to write {name: text}, argv with {d} for the temp dir, expected substring)
CASES = [
    (
        "resume into an unreadable manifest",
        {"o/manifest.json": "{oops"},
        ["sweep", "--preset", "mp-dc", "--out", "{d}/o"],
        "unreadable",
    ),
    (
        "spec: TOML syntax",
        {"s.toml": "[cell\nname='mp'"},
        ["sweep", "{d}/s.toml", "--out", "{d}/o"],
        "malformed TOML",
    ),
    (
        "spec: unknown key (did you mean)",
        {"s.toml": SPEC_OK.replace("n_inputs", "n_input")},
        ["sweep", "{d}/s.toml", "--out", "{d}/o"],
        "n_inputs",
    ),
    (
        "spec: unknown section",
        {"s.toml": SPEC_OK + "\n[foo]\nx = 1\n"},
        ["sweep", "{d}/s.toml", "--out", "{d}/o"],
        "foo",
    ),
    (
        "spec: string for a number",
        {"s.toml": SPEC_OK.replace("bias_a = [1e-7]", 'bias_a = ["1e-7"]')},
        ["sweep", "{d}/s.toml", "--out", "{d}/o"],
        "bias_a",
    ),
    (
        "spec: bias out of range",
        {"s.toml": SPEC_OK.replace("bias_a = [1e-7]", "bias_a = [5.0]")},
        ["sweep", "{d}/s.toml", "--out", "{d}/o"],
        "bias_a",
    ),
    (
        "spec: temperature out of range",
        {"s.toml": SPEC_OK.replace("temp_c = [27]", "temp_c = [900]")},
        ["sweep", "{d}/s.toml", "--out", "{d}/o"],
        "temp_c",
    ),
    (
        "spec: unknown cell",
        {"s.toml": SPEC_OK.replace('name = "mp"', 'name = "mpx"')},
        ["sweep", "{d}/s.toml", "--out", "{d}/o"],
        "mp",
    ),
    (
        "spec: name with shell characters",
        {"s.toml": SPEC_OK.replace('name = "c180"', 'name = "c180; rm -rf"')},
        ["sweep", "{d}/s.toml", "--out", "{d}/o"],
        "tech.name",
    ),
    (
        "spec: key the cell does not have",
        {"s.toml": SPEC_OK.replace("n_inputs = 2", "n_inputs = 2\nbits = 4")},
        ["sweep", "{d}/s.toml", "--out", "{d}/o"],
        "bits",
    ),
    ("spec: file missing", {}, ["sweep", "{d}/none.toml", "--out", "{d}/o"], "not found"),
    (
        "--set: not key=value",
        {},
        ["sweep", "--preset", "mp-dc", "--set", "sweep.bias_a", "--out", "{d}/o"],
        "--set",
    ),
    (
        "--set: bad TOML value",
        {},
        ["sweep", "--preset", "mp-dc", "--set", "sweep.bias_a=[1e-7,", "--out", "{d}/o"],
        "--set",
    ),
    (
        "--set: unknown key",
        {},
        ["sweep", "--preset", "mp-dc", "--set", "sweep.bais_a=[1e-7]", "--out", "{d}/o"],
        "bias_a",
    ),
    ("preset unknown", {}, ["sweep", "--preset", "nope", "--out", "{d}/o"], "nope"),
    ("--out is a file", {"f": "x"}, ["sweep", "--preset", "mp-dc", "--out", "{d}/f"], "--out"),
    (
        "--executor unknown",
        {},
        ["sweep", "--preset", "mp-dc", "--executor", "slurm", "--out", "{d}/o"],
        "--executor",
    ),
    (
        "--timeout not positive",
        {},
        ["sweep", "--preset", "mp-dc", "--timeout", "-1", "--out", "{d}/o"],
        "--timeout",
    ),
    ("results: not a results directory", {}, ["plot", "{d}"], "manifest.json"),
    (
        "model: file missing",
        {},
        ["export", "{d}/m", "--format", "csv", "--out", "{d}/x.csv"],
        "no such model file",
    ),
    (
        "model: not JSON",
        {"m.json": "{oops", "m.npz": "x"},
        ["export", "{d}/m", "--format", "csv", "--out", "{d}/x.csv"],
        "not a model description",
    ),
    (
        "export: unknown format",
        {},
        ["export", "{d}/m", "--format", "spice3", "--out", "{d}/x"],
        "--format",
    ),
    (
        "CSV data: missing target",
        {"d.csv": "a,b\n" + "1,2\n" * 30},
        ["regress", "--out", "{d}/r", "--data", "{d}/d.csv", "--target", "y", "--model", "{d}"],
        "--target",
    ),
    (
        "CSV data: non-numeric cell",
        {"d.csv": "a,y\n" + "1,2\n" * 25 + "x,2\n"},
        ["regress", "--out", "{d}/r", "--data", "{d}/d.csv", "--target", "y", "--model", "{d}"],
        "not numeric",
    ),
    (
        "switching data: missing column",
        {"d.csv": "amplitude_v,width_s\n1,1\n"},
        ["sc", "device", "--data", "{d}/d.csv", "--out", "{d}/o"],
        "missing columns",
    ),
    (
        "NMPU format string",
        {},
        ["aimc", "eval", "--scale-format", "u1,7", "--out", "{d}/o"],
        "--scale-format",
    ),
    (
        "technology: PDK not found",
        {},
        [
            "sweep",
            "--preset",
            "mp-dc",
            "--set",
            'tech.name="gf180mcu"',
            "--set",
            'tech.models_dir="/nonexistent"',
            "--out",
            "{d}/o",
        ],
        "tech.models_dir",
    ),
]


@pytest.mark.parametrize("kind,files,argv,needle", CASES, ids=[c[0] for c in CASES])
def test_malformed_input_is_one_line_and_exit_2(tmp_path: Path, kind, files, argv, needle) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    r = run(*[a.replace("{d}", str(tmp_path)) for a in argv])
    assert r.returncode == 2, (kind, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), (kind, r.stderr)
    assert "Traceback" not in r.stderr
    assert needle.lower() in lines[0].lower(), (kind, lines[0])


def test_at_least_twenty_kinds() -> None:
    assert len(CASES) >= 20

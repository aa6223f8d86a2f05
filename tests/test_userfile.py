"""A user's SPICE file as sactk reads it (netlists/userfile.py): results follow its content,
nothing in it acts outside the simulation, Monte Carlo reaches the devices inside wrappers and
nested subcircuits, and voltage-input cells get their own full scale and a kT/q ideal.
Everything that claims circuit behaviour runs the real ngspice."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from _cli import run

from sactk.errors import SpecError
from sactk.netlists.technology import c180
from sactk.sweeps.plan import plan
from sactk.sweeps.spec import load_spec
from sactk.sweeps.store import read_results

DATA = Path(__file__).parent / "data"
WTA = """
[cell]
name = "subckt"
file = "wta.sp"
subckt = "wta2"
[cell.ports]
in = ["a", "b"]
out = ["oa", "ob"]
vdd = "vdd"
gnd = "gnd"
bias = "ib"
[sweep]
bias_a = [1e-7]
[inputs.random]
count = 4
max_ratio = 2.0
[inputs.sweep]
points = 0
"""


def _folder(tmp: Path, spec: str = WTA, sp: str | None = None) -> Path:
    shutil.copy(DATA / "wta.sp", tmp / "wta.sp")
    if sp is not None:
        (tmp / "wta.sp").write_text(sp)
    (tmp / "wta.toml").write_text(spec)
    return tmp / "wta.toml"


pytestmark = pytest.mark.ngspice


def test_an_edited_subcircuit_is_never_mixed_with_old_results(tmp_path: Path) -> None:
    spec = _folder(tmp_path)
    out = tmp_path / "r"
    assert run("sweep", str(spec), "--out", str(out)).returncode == 0
    before = read_results(out)
    sp = tmp_path / "wta.sp"
    original = sp.read_text()
    sp.write_text(original.replace("m1a a c gnd gnd nch w={w*1e-6}", "m1a a c gnd gnd nch w=9e-6"))
    r = run("sweep", str(spec), "--out", str(out))
    assert r.returncode == 2, r.stdout + r.stderr
    assert "changed since" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.stderr
    # the edited circuit in a fresh folder gives other numbers; the old folder is untouched
    fresh = tmp_path / "fresh"
    assert run("sweep", str(spec), "--out", str(fresh)).returncode == 0
    assert not np.array_equal(read_results(fresh)["out_oa_a"], before["out_oa_a"])
    assert read_results(out)["out_oa_a"].equals(before["out_oa_a"])
    # undone, the file's results are those of the folder again: all jobs already done
    sp.write_text(original)
    r = run("sweep", str(spec), "--out", str(out))
    assert r.returncode == 0 and "1 already done" in r.stdout, r.stdout + r.stderr


def test_model_files_are_identified_by_content_not_by_where_they_are(tmp_path: Path) -> None:
    spec = load_spec(_folder(tmp_path))
    ids = []
    for where in ("a", "b"):
        (tmp_path / where).mkdir()
        shutil.copy(c180().model_lib, tmp_path / where / "c180.lib")
        ids.append(plan(spec, c180().with_(model_lib=tmp_path / where / "c180.lib"))[0].job_id)
    assert ids[0] == ids[1]  # the same card in another place: the same job
    lib = tmp_path / "b" / "c180.lib"
    lib.write_text(lib.read_text().replace("tox", "tox", 1) + "\n* edited\n")
    assert plan(spec, c180().with_(model_lib=lib))[0].job_id != ids[0]


@pytest.mark.parametrize(
    ("tail", "line"),
    [
        (".control\nshell touch {flag}\n.endc\n", ".control"),
        ("shell touch {flag}\n", "shell"),
        (".include '../outside.sp'\n", "outside"),
        (".include 'nothere.sp'\n", "does not exist"),
        (".param ln = 2\n", "'ln'"),
    ],
)
def test_a_cell_file_never_acts_outside_the_simulation(
    tmp_path: Path, tail: str, line: str
) -> None:
    flag = tmp_path / "flag"
    (tmp_path / "outside.sp").write_text("* outside\n")
    work = tmp_path / "w"
    work.mkdir()
    sp = (DATA / "wta.sp").read_text() + tail.format(flag=flag)
    spec = _folder(work, sp=sp)
    r = run("sweep", str(spec), "--out", str(work / "r"))
    assert r.returncode == 2, r.stdout + r.stderr
    msg = r.stderr.strip()
    assert len(msg.splitlines()) == 1 and "wta.sp:" in msg and line in msg, msg
    assert not flag.exists() and not (work / "r").exists()


def test_only_the_named_block_and_what_it_uses_reach_the_netlist(tmp_path: Path) -> None:
    extra = (
        ".param unused_p = 3\n.param wmul = 1e-6\n.op\n.options reltol=1e-1\n"
        ".model nunused nmos level=1\n.subckt other a b\nr1 a b 1\n.ends\n"
    )
    sp = (DATA / "wta.sp").read_text().replace("{w*1e-6}", "{w*wmul}") + extra
    spec = load_spec(_folder(tmp_path, sp=sp))
    text = plan(spec)[0].netlist
    assert ".param wmul = 1e-6" in text and "m1a a c gnd gnd nch w={w*wmul}" in text
    for absent in ("unused_p", ".op\n", "reltol", "nunused", ".subckt other", ".include"):
        assert absent not in text, absent
    # a folder the spec trusts may be included from outside; its content joins the identity
    lib = tmp_path / "models"
    lib.mkdir()
    (lib / "p.sp").write_text(".param wmul = 1e-6\n")
    sp2 = sp.replace(".param wmul = 1e-6\n", "") + ".include '../models/p.sp'\n"
    work = tmp_path / "w"
    work.mkdir()
    toml = WTA.replace('subckt = "wta2"', 'subckt = "wta2"\ntrust = ["../models"]')
    job = plan(load_spec(_folder(work, toml, sp2)))[0]
    assert f".include '{lib / 'p.sp'}'" in job.netlist
    (lib / "p.sp").write_text(".param wmul = 2e-6\n")
    assert plan(load_spec(_folder(work, toml, sp2)))[0].job_id != job.job_id


NESTED = """
.subckt half a c gnd oa params: w=4 l=1
m1 a c gnd gnd nch w={w*1e-6} l={l*1e-6}
m2 oa a c gnd nch w={w*1e-6} l={l*1e-6}
.ends half
.subckt wta2 a b oa ob ib vdd gnd params: w=4 l=1
xha a c gnd oa half w={w} l={l}
xhb b c gnd ob half w={2*w} l={l}
rb ib c 1
.ends wta2
"""


def test_pelgrom_draws_reach_devices_in_nested_subcircuits(tmp_path: Path) -> None:
    spec = WTA.replace("count = 4", "count = 2") + "[mc]\ninstances = 6\nseed = 2\n"
    out = tmp_path / "r"
    r = run("sweep", str(_folder(tmp_path, spec, NESTED)), "--out", str(out))
    assert r.returncode == 0, r.stderr
    df = read_results(out)
    job = plan(load_spec(tmp_path / "wta.toml"))[0]
    targets = {a for a, _ in job.instances[0].alters}
    assert "@m.xcell.xha.m1[delvto]" in targets and "@m.xcell.xhb.m2[mulu0]" in targets
    # the alters took effect: each chip's output differs at the same vector
    spread = df[df.point == 0]["out_oa_a"].std() / df["bias_a"].iloc[0]
    assert spread > 1e-3
    # a subcircuit sactk cannot see into is refused under Pelgrom, pointing to the PDK's
    opaque = NESTED.replace("half w={2*w}", "halfx w={2*w}") + ".subckt halfx a c gnd oa\n.ends\n"
    (tmp_path / "wta.sp").write_text(opaque.replace(".ends\n", "r1 a c 1\n.ends\n"))
    assert plan(load_spec(tmp_path / "wta.toml"))  # halfx is in the file: reachable (no MOSFET)
    (tmp_path / "wta.sp").write_text(NESTED.replace("half w={2*w}", "blackbox w={2*w}"))
    with pytest.raises(SpecError, match=r'xhb \(blackbox\).*mc.method = "pdk"'):
        plan(load_spec(tmp_path / "wta.toml"))


def test_sizes_of_a_subcircuit_are_its_own(tmp_path: Path) -> None:
    for change, field in (
        ('subckt = "wta2"', 'subckt = "wta2"\nw_um = 40'),
        ("[sweep]", "[sweep]\nwl_um = [[4, 1], [8, 1]]"),
    ):
        r = run("sweep", str(_folder(tmp_path, WTA.replace(change, field))), "--out", "x")
        assert r.returncode == 2 and "cell.w_um" in r.stderr, r.stderr
        assert "Traceback" not in r.stderr


OTA = """
[cell]
name = "subckt"
file = "ota.sp"
subckt = "ota5"
ideal = "otacells:ota_ideal"
[cell.ports]
vin = ["inp", "inn"]
out = ["out"]
bias = "tail"
vdd = "vdd"
gnd = "gnd"
[sweep]
bias_a = [1e-8, 1e-7]
temp_c = [-40, 27, 85]
[inputs.random]
count = 12
min_ratio = 0.7
max_ratio = 0.8
[inputs.sweep]
points = 0
"""


def test_a_voltage_input_ota_has_its_own_full_scale_and_a_kt_over_q_ideal(
    tmp_path: Path,
) -> None:
    for f in ("ota.sp", "otacells.py"):
        shutil.copy(DATA / f, tmp_path / f)
    (tmp_path / "ota.toml").write_text(OTA)
    out = tmp_path / "r"
    r = run("sweep", str(tmp_path / "ota.toml"), "--out", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    df = read_results(out)
    # full scale is the tail bias: the voltage inputs (0.7-0.8 V) never multiply it
    assert np.allclose(df["fs_a"], df["bias_a"])
    err = (df["out_y_a"] - df["ideal_y_a"]).abs() / df["fs_a"]
    worst = err.groupby(df["temp_c"]).max()
    assert worst.max() < 2.0 * worst[27.0], worst.to_dict()
    # a 27 C thermal voltage at -40 C and 85 C would be far worse (what ideal() fixed)
    from otacells import SLOPE_N  # tests/data is on the path (the fixture below)

    ut27 = 1.380649e-23 * 300.15 / 1.602176634e-19
    d = df["in_inp_v"] - df["in_inn_v"]
    stale = (df["out_y_a"] / df["bias_a"] + np.tanh(d / (2 * SLOPE_N * ut27))).abs()
    assert stale[df.temp_c == -40].max() > worst[-40.0]
    r = run("plot", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr


@pytest.fixture(autouse=True)
def _data_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(DATA))


def test_a_sweep_whose_first_job_fails_everywhere_stops_and_says_why(tmp_path: Path) -> None:
    sp = (DATA / "wta.sp").read_text().replace("m1a a c gnd gnd nch", "m1a a c gnd gnd nchx")
    spec = WTA.replace("bias_a = [1e-7]", "bias_a = [1e-8, 1e-7, 1e-6, 1e-5]")
    r = run("sweep", str(_folder(tmp_path, spec, sp)), "--out", str(tmp_path / "r"), "--jobs", "1")
    assert r.returncode == 2, r.stdout + r.stderr
    msg = r.stderr.strip().splitlines()[-1]
    assert "every point of the first job failed" in msg and "other 3 jobs" in msg
    assert "nchx" in msg  # the cause after ngspice's "Error on line:" is kept


def test_crosscheck_reads_a_subcircuit_with_parameters(tmp_path: Path) -> None:
    """VACASK's ngspice reader took ``params:`` for a node; the netlist now declares the
    subcircuit's parameters without the keyword, which both simulators read."""
    out = tmp_path / "r"
    assert run("sweep", str(_folder(tmp_path)), "--out", str(out)).returncode == 0
    r = run("crosscheck", str(out), "--points", "3")
    assert r.returncode == 0, r.stderr
    assert "largest |VACASK - ngspice|" in r.stdout


def test_library_sections_and_includes_inside_the_folder_are_read(tmp_path: Path) -> None:
    """Parser only: ``.lib FILE SECTION`` takes that section of a file beside the cell's,
    ``.include`` another; what the block names comes along, the other section does not."""
    from sactk.netlists.userfile import read_library

    (tmp_path / "models.lib").write_text(
        "* sections\n.lib fast\n.param k = 2\n.model nfast nmos level=1\n.endl\n"
        ".lib slow\n.param k = 1\n.model nslow nmos level=1\n.endl\n"
    )
    (tmp_path / "parts.sp").write_text(".subckt leaf a b\nr1 a b {k}\n.ends\n")
    (tmp_path / "top.sp").write_text(
        ".lib 'models.lib' fast\n.include parts.sp\n"
        ".subckt top a b\nx1 a b leaf\nm1 a b 0 0 nfast w=1u l=1u\n.ends top\n"
    )
    lib = read_library(tmp_path / "top.sp")
    text = "\n".join(lib.closure("top"))
    assert ".param k = 2" in text and ".model nfast" in text and ".subckt leaf" in text
    assert "nslow" not in text and ".param k = 1" not in text
    assert [p.name for p in lib.files] == ["top.sp", "models.lib", "parts.sp"]

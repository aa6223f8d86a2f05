"""The VACASK netlist writer's pure parts on text: the expression evaluator, the SPICE card
reader and the conversion of a user's subcircuit (netlists/vacask.py). No simulator runs
here; tests/test_vacask_backend.py runs the results in VACASK."""

from __future__ import annotations

from pathlib import Path

import pytest

from sactk.errors import SpecError
from sactk.netlists.technology import c180
from sactk.netlists.vacask import evaluate, library_lines, model_block, read_cards, read_params


def test_the_evaluator_reads_numbers_and_arithmetic_and_nothing_else() -> None:
    assert evaluate("1.5u", {}, "x") == pytest.approx(1.5e-6)
    assert evaluate("2meg", {}, "x") == 2e6
    assert evaluate("0.37+dv", {"dv": 0.04}, "x") == pytest.approx(0.41)
    assert evaluate("-(a*2)/4 ** 2", {"a": 8.0}, "x") == pytest.approx(-1.0)
    for bad in ("__import__('os')", "a.b", "f(1)", "ng<3 ? 4e-08 : 0", "unknown_name"):
        with pytest.raises(SpecError, match="x: cannot read"):
            evaluate(bad, {}, "x")


def test_the_card_reader_follows_sections_includes_and_parameters(tmp_path: Path) -> None:
    (tmp_path / "dev.inc").write_text(
        "* the device\n.model nd nmos level=8 version=3.3\n+ vth0={0.4+dvt} u0 = 300\n"
        ".model pd pmos level=8 vth0='-0.4-dvt'\n"
    )
    (tmp_path / "lib.l").write_text(
        ".lib tt\n.param dvt=0\n.include 'dev.inc'\n.endl tt\n"
        ".lib ss\n.param dvt=0.05\n.include dev.inc\n.endl ss\n"
    )
    tt = {c.name: c for c in read_cards(tmp_path / "lib.l", "tt")}
    ss = {c.name: c for c in read_cards(tmp_path / "lib.l", "ss")}
    assert dict(tt["nd"].values())["vth0"] == pytest.approx(0.4)
    assert dict(ss["nd"].values())["vth0"] == pytest.approx(0.45)
    assert dict(ss["pd"].values())["vth0"] == pytest.approx(-0.45)
    assert dict(ss["nd"].values())["u0"] == 300.0
    block = model_block(ss["pd"], "bsim3", ("level", "version"), "mm_x")
    assert block.startswith("model mm_x bsim3 (type=-1 vth0=-0.45")
    assert "level" not in block
    assert read_params(tmp_path / "dev.inc") == {}
    with pytest.raises(SpecError, match=r"sweep\.corner: lib\.l has no section 'ff'"):
        read_cards(tmp_path / "lib.l", "ff")


def test_a_users_subcircuit_becomes_vacask_text() -> None:
    tech = c180()
    lines = (
        ".param wn=2",
        ".subckt cell a b gnd w=4 l=1",
        "m1 a a gnd gnd nch w={w*1u} l={l*1u}",
        "r1 a b 10k",
        "xinner a b gnd inner w=wn",
        ".ends cell",
    )
    out = library_lines(lines, tech)
    assert out == [
        "parameters wn=2",
        "subckt cell(a b gnd)",
        "  parameters w=4 l=1",
        "  m1 (a a gnd gnd) nch w=w*1e-06 l=l*1e-06",
        "  r1 (a b) resistor r=10000",
        "  xinner (a b gnd) inner w=wn",
        "ends",
    ]
    with pytest.raises(SpecError, match="uses model 'nfet'"):
        library_lines(("m1 a a 0 0 nfet w=1u l=1u",), tech)
    with pytest.raises(SpecError, match="has no VACASK form"):
        library_lines(("b1 a 0 v=1",), tech)
    with pytest.raises(SpecError, match="cannot carry"):
        library_lines(("r1 a b {$(rm)}",), tech)


def test_chip_draws_become_tables_on_model_copies_and_instance_lines() -> None:
    from types import SimpleNamespace

    from sactk.sweeps.backends.vacask_tables import snake, tabled

    text = (
        "model mm_m1 bsim3 (type=1 vth0=0.37)\n"
        "m1 (d g 0 0) mm_m1 w=1e-06 l=1e-06\n"
        "m2 (d g 0 0) nmos_rvt l=8.4e-08 nfin=5\n"
    )
    alters = [("@m1[delvto]", "0.001"), ("@m2[delvtrand]", "-0.002")]
    chips = [
        SimpleNamespace(alters=tuple(alters)),
        SimpleNamespace(alters=(("@m1[delvto]", "0"), ("@m2[delvtrand]", "0"))),
    ]
    out, tables = tabled(text, chips)  # type: ignore[misc]
    assert "model mm_m1 bsim3 (type=1 vth0=0.37 delvto=sactk_a0[sactk_k])\n" in out
    assert "m2 (d g 0 0) nmos_rvt l=8.4e-08 nfin=5 delvtrand=sactk_a1[sactk_k]\n" in out
    assert "m1 (d g 0 0) mm_m1 w=1e-06 l=1e-06\n" in out  # its draw is on its model copy
    assert tables == {"sactk_a0": ["0.001", "0"], "sactk_a1": ["-0.002", "0"]}
    # a subcircuit's device, a parameter the line sets already, chips that differ: refused
    sub = [SimpleNamespace(alters=(("@m.x1.m1[delvto]", "0"),))] * 2
    assert tabled(text, sub) is None  # type: ignore[arg-type]
    twice = [SimpleNamespace(alters=(("@m2[nfin]", "1"),))] * 2
    assert tabled(text, twice) is None  # type: ignore[arg-type]
    assert tabled(text, [chips[0], SimpleNamespace(alters=tuple(alters[:1]))]) is None  # type: ignore[list-item]
    assert snake(2, 3) == [(0, 0), (0, 1), (0, 2), (1, 2), (1, 1), (1, 0)]

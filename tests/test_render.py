"""Netlist text from data: names checked, numbers formatted, nothing injected (golden files:
tests/test_golden.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sactk.circuits import mp
from sactk.errors import SpecError
from sactk.netlists.render import (
    CurrentSource,
    Mosfet,
    Netlist,
    check_name,
    fmt,
    render,
    text_hash,
)
from sactk.netlists.technology import c180

FIXED_LIB = Path("/models/c180.lib")


def _tech():  # a fixed library path, so golden files do not depend on the install location
    return c180().with_(model_lib=FIXED_LIB)


def test_netlist_has_no_control_lines() -> None:
    text = render(mp.build(mp.Params(n_inputs=8), _tech()).netlist)
    lines = text.lower().splitlines()
    assert not any(ln.startswith((".control", ".endc", "shell", ".exec")) for ln in lines)
    assert sum(ln.startswith(".lib") for ln in lines) == 1
    assert lines[-1] == ".end"


def test_numbers_are_formatted_and_checked() -> None:
    assert fmt(1e-8) == "1e-08"
    assert fmt(0) == "0"
    assert fmt(0.1 + 0.2) == "0.3"
    for bad in (float("nan"), float("inf"), "1e-6", None, True):
        with pytest.raises(SpecError):
            fmt(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad", ["", "1abc", "a b", "a\nb", "x;y", ".control", "A", "a" * 65, "r1'", "a{b}"]
)
def test_bad_names_rejected(bad: str) -> None:
    with pytest.raises(SpecError):
        check_name(bad)


def test_device_below_minimum_size_rejected() -> None:
    nl = Netlist("t", _tech(), "tt", 27.0, (Mosfet("m1", "d", "g", "0", "0", "n", 0.1, 1.0),))
    with pytest.raises(SpecError, match=r"minimum"):
        render(nl)


def test_unknown_corner_rejected() -> None:
    with pytest.raises(SpecError, match=r"sweep\.corner"):
        render(mp.build(mp.Params(), _tech(), corner="xx").netlist)


@settings(max_examples=200, deadline=None)
@given(
    name=st.text(min_size=0, max_size=20),
    value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=10)),
)
def test_random_names_and_values_never_add_lines(name: str, value: object) -> None:
    """Whatever a user supplies, the text either is rejected or has exactly one line per
    element, no control block, and the value formatted by sactk."""
    base = Netlist("t", _tech(), "tt", 27.0, (CurrentSource("i0", "vdd", "a", 1e-6),))
    n_lines = len(render(base).splitlines())
    nl = Netlist("t", _tech(), "tt", 27.0, (CurrentSource(name, "vdd", "a", value),))  # type: ignore[arg-type]
    try:
        text = render(nl)
    except SpecError:
        return
    assert len(text.splitlines()) == n_lines
    assert ".control" not in text.lower()
    src = next(ln for ln in text.splitlines() if ln.startswith("i"))
    assert src.split()[-1] == fmt(value)  # type: ignore[arg-type]


def test_hash_changes_with_text() -> None:
    a = render(mp.build(mp.Params(), _tech(), bias_a=1e-7).netlist)
    b = render(mp.build(mp.Params(), _tech(), bias_a=2e-7).netlist)
    assert text_hash(a) != text_hash(b) and len(text_hash(a)) == 16

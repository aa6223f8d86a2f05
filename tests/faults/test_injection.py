"""Nothing from a spec reaches a netlist as raw text (hypothesis): random strings in every
string field and random numbers in numeric fields either are refused with a SpecError or
give netlists with exactly the lines a clean spec gives, no control commands, no shell, no
extra includes, and only finite, sactk-formatted numbers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sactk.errors import SactkError
from sactk.sweeps.plan import plan
from sactk.sweeps.spec import load_spec

BASE = ["inputs.random.count=2", "inputs.sweep.points=0", "sweep.bias_a=[1e-7]"]
FORBIDDEN = re.compile(r"^\s*(\.control|\.endc|shell|\.exec|\.system|!)", re.I | re.M)


def _netlists(overrides: list[str]) -> list[str]:
    spec = load_spec(preset="mp-dc", overrides=[*BASE, *overrides])
    return [render_job for render_job in {j.netlist for j in plan(spec)}]


CLEAN = _netlists([])[0]


def _check(texts: list[str]) -> None:
    for text in texts:
        assert not FORBIDDEN.search(text), text
        assert len(text.splitlines()) == len(CLEAN.splitlines())
        assert sum(ln.startswith((".include", ".lib")) for ln in text.splitlines()) == sum(
            ln.startswith((".include", ".lib")) for ln in CLEAN.splitlines()
        )
        assert not re.search(r"\b(nan|inf)\b", text, re.I)


def _toml_str(s: str) -> str:
    return json.dumps(s)  # a TOML basic string is JSON-compatible for these characters


hostile = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "mp\n.control\nshell rm -rf /\n.endc",
            "c180' \n.include '/etc/passwd",
            "x; .exec",
            "mp\r\n.end",
            "../../etc",
            "MP",
        ]
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(["cell.name", "tech.name", "tech.models_dir"]), value=hostile)
def test_strings_never_reach_the_netlist_raw(field: str, value: str) -> None:
    overrides = [f"{field}={_toml_str(value)}"]
    if field == "tech.models_dir":
        overrides.append('tech.name="gf180mcu"')
    try:
        texts = _netlists(overrides)
    except SactkError:
        return  # refused: fine
    _check(texts)
    if field != "tech.models_dir":
        assert value in ("mp", "c180") or value not in "".join(texts)


numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**30), 10**30),
    st.sampled_from(["nan", "inf", "-inf", "1e999", '"1e-7"', "true", "[]"]),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    field=st.sampled_from(["sweep.bias_a", "sweep.temp_c", "sweep.vdd_v", "cell.v_out_v"]),
    value=numbers,
)
def test_numbers_are_validated_and_formatted(field: str, value) -> None:
    text = value if isinstance(value, str) else repr(value)
    text = {"nan": "nan", "inf": "inf"}.get(text, text)
    as_list = field.startswith("sweep.")
    try:
        texts = _netlists([f"{field}={'[' + text + ']' if as_list else text}"])
    except SactkError:
        return
    except Exception as exc:  # pragma: no cover - would be a bug: report it
        pytest.fail(f"{field}={text}: {type(exc).__name__}: {exc}")
    _check(texts)


def test_a_pdk_is_included_only_from_the_given_path(tmp_path: Path) -> None:
    pdk = tmp_path / "pdk"
    pdk.mkdir()
    (pdk / "sm141064.ngspice").write_text("* empty\n")
    try:
        texts = _netlists(['tech.name="gf180mcu"', f"tech.models_dir={_toml_str(str(pdk))}"])
    except SactkError:
        return
    for t in texts:
        incl = [ln for ln in t.splitlines() if ln.startswith((".include", ".lib"))]
        assert incl and all(str(pdk) in ln for ln in incl)

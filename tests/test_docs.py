"""Numbers in the docs cannot drift: the generated blocks of README.md and docs/cells.md are
recomputed here from a fresh c180 sweep (the GF180MCU columns need the PDK and are checked
when docs/make_figures.py writes them)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _make_figures() -> Any:
    from sactk.docsgen import cells

    return cells


def _block(path: Path, name: str) -> str:
    text = path.read_text()
    m = re.search(rf"<!-- generated: {name} -->\n(.*?)\n<!-- /generated: {name} -->", text, re.S)
    assert m, f"{path.name} has no generated block {name}"
    return m.group(1)


def test_every_generated_block_has_a_writer() -> None:
    source = "\n".join(p.read_text() for p in sorted((ROOT / "sactk" / "docsgen").glob("*.py")))
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for name in re.findall(r"<!-- generated: (\w+) -->", path.read_text()):
            assert f'"{name}"' in source, f"{path.name}: nothing in make_figures writes {name}"


@pytest.mark.ngspice
def test_c180_figures_match_a_fresh_sweep() -> None:
    mf = _make_figures()
    acc, col = mf.mp_results("c180")
    # the table: the bias and the three c180 columns of every row
    want = mf.mp_accuracy_block(acc, None).splitlines()
    have = _block(ROOT / "docs" / "cells.md", "mp_accuracy").splitlines()
    assert len(want) == len(have)
    for w, h in zip(want[2:], have[2:], strict=True):
        assert w.rstrip(" |").split(" | ")[:4] == h.split(" | ")[:4], (w, h)
    # the sentences: their c180 part (the GF180MCU part follows a ';')
    for path, name, text in (
        (ROOT / "docs" / "cells.md", "mp_collapse", mf.mp_collapse_block(col, None)),
        (ROOT / "README.md", "mp_headline", mf.mp_readme_block(acc, None)),
    ):
        c180_part = re.split(r"; (?:on )?GF180MCU", _block(path, name))[0]
        assert c180_part.rstrip(".") == text.rstrip("."), name

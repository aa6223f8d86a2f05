"""What every docs generator module shares: where the docs are, the generated-block
writer and the number formats of the docs' tables."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository checkout the generator writes into (docs are not installed)."""
DOCS = ROOT / "docs"
IMG = DOCS / "img"
README = ROOT / "README.md"
TABLE_BIASES = (1e-8, 3e-8, 1e-7, 1e-6, 1e-5)


def pct(v: float) -> str:
    return f"{v:.2g}"


def bias_text(b: float) -> str:
    for scale, unit in ((1e-6, "uA"), (1e-9, "nA")):
        if b >= scale:
            return f"{b / scale:.3g} {unit}"
    return f"{b:.3g} A"


def write_block(path: Path, name: str, text: str) -> None:
    """Replace the generated block ``name`` in ``path`` with ``text``."""
    doc = path.read_text()
    start, end = f"<!-- generated: {name} -->\n", f"\n<!-- /generated: {name} -->"
    i, j = doc.index(start) + len(start), doc.index(end)
    path.write_text(doc[:i] + text + doc[j:])

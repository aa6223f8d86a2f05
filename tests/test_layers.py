"""The layering rules of docs/architecture.md, checked on every import statement (module level
and inside functions) of the package, and the packaging facts that go with them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "sactk": ROOT / "sactk",
    "sactk.circuits": ROOT / "circuits",
    "sactk.netlists": ROOT / "netlists",
    "sactk.sweeps": ROOT / "sweeps",
    "sactk.analysis": ROOT / "analysis",
    "sactk.system": ROOT / "system",
}
BOTTOM = {"sactk", "sactk.errors", "sactk.files", "sactk.versions", "sactk.seeds", "sactk.procs"}
"""The bottom layer: errors, atomic files, tool versions, seed derivation, process pools."""

ALLOWED = {
    "bottom": {"bottom"},
    "netlists": {"bottom", "netlists"},
    "circuits": {"bottom", "netlists", "circuits"},
    "sweeps": {"bottom", "netlists", "circuits", "sweeps"},
    "analysis": {"bottom", "netlists", "circuits", "analysis"},
    "system": {"bottom", "circuits", "analysis", "system"},
    "api": {"bottom", "netlists", "circuits", "sweeps", "analysis", "system", "api"},
    "cli": {"bottom", "api", "cli"},
    "docs": {"bottom", "netlists", "circuits", "sweeps", "analysis", "system", "api", "docs"},
}
"""Which layers each layer may import (the arrows of docs/architecture.md)."""

EXCEPTIONS = {
    ("sactk.analysis.results", "sweeps"): "the one reader of results folders",
    ("sactk.__main__", "cli"): "python -m sactk",
}


def _layer(module: str) -> str:
    if module in BOTTOM:
        return "bottom"
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in ("netlists", "circuits", "sweeps", "analysis", "system"):
        return parts[1]
    if len(parts) > 1 and parts[1] in ("api", "cli"):
        return parts[1]
    if len(parts) > 1 and parts[1] == "docsgen":
        return "docs"
    if module == "sactk.__main__":
        return "cli"
    raise AssertionError(f"{module} is in no layer; add it to tests/test_layers.py")


def _modules() -> list[tuple[str, Path]]:
    out = []
    for pkg, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            rel = path.relative_to(folder)
            if pkg == "sactk" and rel.parts[0] in (
                "circuits",
                "netlists",
                "sweeps",
                "analysis",
                "system",
            ):
                continue  # the links to the top-level folders
            name = ".".join([pkg, *rel.with_suffix("").parts]).removesuffix(".__init__")
            out.append((name, path))
    return out


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            # `from sactk import api` imports the module sactk.api
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return [(n, m) for n, m in found if m == "sactk" or m.startswith("sactk.")]


MODULES = _modules()


NAMES = {m for m, _ in MODULES}


def _module_of(target: str) -> str | None:
    """The sactk module an import names: ``sactk.errors.SpecError`` -> ``sactk.errors``."""
    if target in NAMES:
        return target
    head = target.rsplit(".", 1)[0]
    return head if head in NAMES else None


@pytest.mark.parametrize(("module", "path"), MODULES, ids=[m for m, _ in MODULES])
def test_imports_follow_the_layers(module: str, path: Path) -> None:
    here = _layer(module)
    bad = []
    for line, target in _imports(path):
        imported = _module_of(target)
        if imported is None or imported == "sactk":
            continue  # `from sactk import api` also lists the module sactk.api
        there = _layer(imported)
        if there in ALLOWED[here] or (module, there) in EXCEPTIONS:
            continue
        bad.append(f"{path.relative_to(ROOT)}:{line} ({here}) imports {target} ({there})")
    assert not bad, "layering broken:\n" + "\n".join(bad)


def test_nothing_outside_the_cli_imports_it() -> None:
    for module, path in MODULES:
        if _layer(module) == "cli":
            continue
        assert not [t for _, t in _imports(path) if t.startswith("sactk.cli")], module


def test_nothing_imports_the_docs_generator() -> None:
    """The docs generator (sactk.docsgen) is a client of the application, like the CLI."""
    for module, path in MODULES:
        if _layer(module) != "docs":
            assert not [t for _, t in _imports(path) if t.startswith("sactk.docsgen")], module


@pytest.mark.parametrize("path", sorted((ROOT / "docs").glob("*.py")), ids=lambda p: p.name)
def test_docs_scripts_are_thin(path: Path) -> None:
    """docs/ keeps prose, images and thin entry points: its scripts only call sactk.docsgen,
    and stay small (the generators live in the package, under the rules above)."""
    n = len(path.read_text().splitlines())
    assert n <= 50, f"{path.relative_to(ROOT)} has {n} lines; move the code to sactk/docsgen"
    bad = [t for _, t in _imports(path) if not t.startswith("sactk.docsgen")]
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}; only sactk.docsgen"


def test_only_sweeps_run_the_simulator() -> None:
    """analysis and system never start ngspice, in-process or as a subprocess."""
    for module, path in MODULES:
        if _layer(module) in ("analysis", "system"):
            names = {m.split(".")[0] for _, m in _imports_any(path)}
            assert not names & {"PySpice", "subprocess"}, module
            if module != "sactk.analysis.results":
                assert not [t for _, t in _imports(path) if t.startswith("sactk.sweeps")], module


def _imports_any(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize(("module", "path"), MODULES, ids=[m for m, _ in MODULES])
def test_module_size(module: str, path: Path) -> None:
    """No module over 500 lines; no CLI module over 300."""
    limit = 300 if _layer(module) == "cli" else 500
    n = len(path.read_text().splitlines())
    assert n <= limit, f"{path.relative_to(ROOT)} has {n} lines (limit {limit}); split it"


def test_one_package_from_a_checkout() -> None:
    """From the repository root the checkout is the installed package: subpackages resolve
    through sactk/, and folders beside it (tests, docs, sactk itself) are not subpackages."""
    code = (
        "import importlib, sactk.circuits.mp\n"
        "for bad in ('sactk.sactk', 'sactk.tests', 'sactk.docs'):\n"
        "    try:\n"
        "        importlib.import_module(bad)\n"
        "    except ModuleNotFoundError:\n"
        "        continue\n"
        "    raise SystemExit(bad + ' imported')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr + r.stdout


def test_every_package_is_installed() -> None:
    """pyproject.toml lists every folder with an __init__.py, so a wheel misses none."""
    import tomllib

    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(conf["packages"])
    found = {m for m, p in MODULES if p.name == "__init__.py"}
    assert found == listed, (found - listed, listed - found)
    for pkg in listed:
        where = conf["package-dir"].get(pkg)
        assert where is None or (ROOT / where / "__init__.py").is_file(), pkg

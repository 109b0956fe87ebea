"""The layers hold: no import cycle, and only ``forges/<name>.py`` imports a forge library.

Two checks, one static and one real. The static one reads every module of the package
with `ast`, imports inside functions included (a lower layer never imports a higher
one, even late), and looks for a cycle. The real one imports each module in a fresh
interpreter and lists the forge client libraries that ended up in ``sys.modules``.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "plugin" / "mkdocs_erratum"
FORGE_LIBRARIES = ("github", "gitlab", "pyforgejo", "httpx")  # httpx: the Forgejo client

LIST_LOADED = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def module_name(path: Path) -> str:
    parts = ["mkdocs_erratum", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The package's modules that ``path`` imports, anywhere in it."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    return {m for m in found if m in modules and m != name}


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``edges``, as a list of modules, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            # A package's __init__ is imported by its modules' import: not an edge back.
            if node.startswith(nxt + "."):
                continue
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_package_has_no_import_cycle():
    edges = graph()
    assert "mkdocs_erratum.forges.base" in edges["mkdocs_erratum.fixer"]
    assert find_cycle(edges) is None, " -> ".join(find_cycle(edges) or [])


def test_the_fixer_never_imports_a_forge_module():
    edges = graph()
    for name in ("mkdocs_erratum.fixer", "mkdocs_erratum.cli", "mkdocs_erratum.service.backends"):
        forges = {m for m in edges[name] if m.startswith("mkdocs_erratum.forges.")}
        assert forges <= {
            "mkdocs_erratum.forges.base",
            "mkdocs_erratum.forges.detect",
            "mkdocs_erratum.forges.factory",
            "mkdocs_erratum.forges.local_git",
            "mkdocs_erratum.forges.web",
        }, (name, forges)


def loaded_by(module: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", LIST_LOADED, module],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "module",
    [
        "mkdocs_erratum.fixer",
        "mkdocs_erratum.cli",
        "mkdocs_erratum.gate",
        "mkdocs_erratum.corrections",
        "mkdocs_erratum.widget",
        "mkdocs_erratum.plugin",
        "mkdocs_erratum.service.app",
        "mkdocs_erratum.service.backends",
        "mkdocs_erratum.forges.base",
        "mkdocs_erratum.forges.detect",
        "mkdocs_erratum.forges.factory",
        "mkdocs_erratum.forges.local_git",
        "mkdocs_erratum.forges.web",
    ],
)
def test_only_a_forge_module_imports_a_forge_library(module):
    assert sorted(loaded_by(module) & set(FORGE_LIBRARIES)) == []


@pytest.mark.parametrize(
    ("module", "library"),
    [("github", "github"), ("gitlab", "gitlab"), ("forgejo", "httpx")],
)
def test_each_forge_module_imports_its_library(module, library):
    # The same check sees the library where it belongs: it can fail.
    assert library in loaded_by(f"mkdocs_erratum.forges.{module}")

"""The house rules of rag/, checked from the source: small modules, no import cycles, no reaching into
another module's (or chromadb's) private names. A newcomer can trust the layout because a test holds it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ..support.helpers import ROOT

PACKAGE = ROOT / "rag"
MAX_LINES = 400


def _modules(package: Path = PACKAGE) -> dict[str, Path]:
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()
SHELLS = _modules(ROOT / "app")  # the app is held to the private-name rule too


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.Module, module: str, top_level_only: bool):
    """(imported module, names) for each import; top-level ones only (import time) when asked."""
    def walk(body):
        for node in body:
            if isinstance(node, ast.If) and _is_type_checking(node):
                continue
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and top_level_only:
                continue
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    package = module.split(".")
                    package = package if (MODULES | SHELLS)[module].name == "__init__.py" else package[:-1]
                    base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
                yield base, [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    yield alias.name, []
            for child in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(node, child, None)
                if isinstance(inner, list) and not isinstance(node, (ast.Module,)):
                    yield from walk(inner)
    yield from walk(tree.body)


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_longer_than_the_house_allows(module):
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{module} has {lines} lines; split it by job (at most {MAX_LINES})"


def test_no_private_name_of_another_module_is_imported():
    offenders = []
    for module, path in (MODULES | SHELLS).items():
        for base, names in _imports(_tree(path), module, top_level_only=False):
            if base == module:
                continue
            offenders += [f"{module} imports {base}.{n}" for n in names if n.startswith("_") and not n.startswith("__")]
            if any(part.startswith("_") and not part.startswith("__") for part in base.split(".")):
                offenders.append(f"{module} imports the private module {base}")
    assert offenders == []


def test_no_chromadb_private_state_is_touched():
    offenders = []
    for module, path in MODULES.items():
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                if isinstance(node.value, ast.Name) and node.value.id in {"chromadb", "SharedSystemClient"}:
                    offenders.append(f"{module}: {node.value.id}.{node.attr}")
        for base, names in _imports(_tree(path), module, top_level_only=False):
            if base.startswith("chromadb") and any(p.startswith("_") for p in base.split(".")):
                offenders.append(f"{module} imports {base}")
    assert offenders == []


def test_the_package_has_no_import_cycle_at_import_time():
    graph = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for base, names in _imports(_tree(path), module, top_level_only=True):
            targets = {base} | {f"{base}.{n}" for n in names}
            graph[module] |= {t for t in targets if t in MODULES and t != module}
    # A package's __init__ importing its own submodules is how packages work, not a cycle.
    for module in graph:
        graph[module] = {t for t in graph[module] if not module.startswith(t + ".")}
    cycles, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_rules_catch_what_they_name(tmp_path):
    """The checks above are not vacuous: each finds its fault in a made-up module."""
    bad = ast.parse("from rag.index.store import _guard\nimport chromadb\nchromadb._secret = 1\n")
    names = [n for base, ns in _imports(bad, "rag.fake", top_level_only=True) for n in ns]
    assert "_guard" in names
    assert any(isinstance(n, ast.Attribute) and n.attr == "_secret" for n in ast.walk(bad))

"""The package's layers point down only, and nodes are written the ros2/examples way (checked statically).

Bottom to top: core (+ config) -> sandbox -> llm, robot, sim -> engine -> ros, nodes, commands, bench (+ the CLI,
launcher and trace renderer). The engine drives LLM backends and the robot API, so it sits above them; the sandbox
executes untrusted code and must not depend on the engine that feeds it.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "coc_ros"
ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "config": {"config"},
    "sandbox": {"core", "sandbox"},
    "llm": {"core", "config", "llm"},
    "robot": {"core", "config", "robot"},
    "sim": {"core", "config", "robot", "sim"},
    "engine": {"core", "config", "sandbox", "llm", "robot", "engine"},
}
GENERATED = {"msg", "srv", "action"}  # rosidl's interfaces, a leaf


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> set[str]:
    """Top-level coc_ros subpackages a module imports (anywhere in it, deferred imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
        for name in names:
            parts = name.split(".")
            if parts[0] == "coc_ros" and len(parts) > 1:
                found.add(parts[1])
            elif parts[0] == "coc_ros" and isinstance(node, ast.ImportFrom):
                found.update(a.name for a in node.names)
    return found - GENERATED


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if _layer(p) in ALLOWED)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_only_point_down(path: Path):
    layer = _layer(path)
    upward = _imports(path) - ALLOWED[layer]
    assert not upward, f"{path.relative_to(PACKAGE)} ({layer}) imports {sorted(upward)} from above its layer"


def test_the_layer_map_covers_the_lower_layers():
    assert {_layer(p) for p in MODULES} == set(ALLOWED)


@pytest.mark.parametrize("path", sorted((PACKAGE / "nodes").glob("*.py")), ids=lambda p: p.name)
def test_node_classes_are_module_level(path: Path):
    tree = ast.parse(path.read_text())
    for func in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        nested = [n.name for n in ast.walk(func) if isinstance(n, ast.ClassDef)]
        assert not nested, f"{path.name}: class(es) {nested} defined inside {func.name}()"

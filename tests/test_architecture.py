"""The packages are the architecture: no import circle, no import up the layers, no module that
imports its own package, and file names that say what a file is without their package's prefix.

Every import counts, those under `if TYPE_CHECKING:` and inside functions included: a circle that
only type checkers follow is still a circle a reader has to untangle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Lower layers first; a package may import its own modules and those of any lower layer.
LAYERS = {
    "components": [
        {"shared", "config"},
        {"foundation", "training"},
        {"endpoint", "api", "dashboard"},
    ],
    "tools": [
        {"processes", "repository", "offline", "mutation"},
        {"preview", "promote", "docs"},
        {"rehearsal"},
        {"dashboard_demo"},
    ],
}


def modules(top: str) -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / top).rglob("*.py")):
        if "node_modules" in path.parts:
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules `name` imports (a `from package import module` counts as the module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                if f"{base}.{alias.name}" in known:
                    found.add(f"{base}.{alias.name}")
                elif base in known:
                    found.add(base)
    return found - {name}


def graph(top: str) -> dict[str, set[str]]:
    known = {**modules("components"), **modules("tools")}
    return {name: imports(name, path, known) for name, path in modules(top).items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                found.append(path[path.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    return found


def layer(top: str, module: str) -> int:
    package = module.split(".")[1] if "." in module else ""
    for index, members in enumerate(LAYERS[top]):
        if package in members:
            return index
    raise AssertionError(f"{module}: package {package!r} is in no layer of tests/test_architecture.py's LAYERS")


@pytest.mark.parametrize("top", sorted(LAYERS))
def test_no_import_circle(top):
    assert cycles(graph(top)) == []


@pytest.mark.parametrize("top", sorted(LAYERS))
def test_no_import_from_a_lower_layer_to_a_higher_one(top):
    upward = [
        f"{module} (layer {layer(top, module)}) imports {target} (layer {layer(top, target)})"
        for module, targets in graph(top).items()
        if module != top
        for target in targets
        if target.startswith(f"{top}.") and layer(top, target) > layer(top, module)
    ]
    assert upward == []


def test_components_never_import_tools():
    assert {m: t for m, targets in graph("components").items() if (t := {x for x in targets if x.startswith("tools")})} == {}


@pytest.mark.parametrize("top", sorted(LAYERS))
def test_no_module_imports_its_own_package(top):
    """A package's __init__ imports its modules; a module importing the package back is a circle."""
    parents = [
        f"{module} imports {target}"
        for module, targets in graph(top).items()
        for target in targets
        if module.startswith(f"{target}.") and modules(top)[module].name != "__init__.py"
    ]
    assert parents == []


@pytest.mark.parametrize("top", sorted(LAYERS))
def test_file_names_carry_no_package_prefix(top):
    prefixed = [
        str(path.relative_to(ROOT))
        for path in (ROOT / top).rglob("*.py")
        if "node_modules" not in path.parts and path.stem.startswith(f"{path.parent.name}_")
    ]
    assert prefixed == []


def test_every_component_takes_its_args_from_its_package_args_py():
    """`__main__.py` builds each ComponentResource from its Args: they live in the package's args.py,
    so the helpers a component calls can take them without importing the component."""
    for package in sorted(p for p in (ROOT / "components").iterdir() if (p / "__init__.py").exists()):
        trees = {path: ast.parse(path.read_text()) for path in package.glob("*.py")}
        components = {
            node.name
            for tree in trees.values()
            for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef) and any(ast.unparse(base) == "pulumi.ComponentResource" for base in node.bases)
        }
        defined = {node.name: path.name for path, tree in trees.items() for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
        misplaced = {f"{name}Args": defined.get(f"{name}Args") for name in components if defined.get(f"{name}Args") != "args.py"}
        if package.name != "shared":  # one module per building block: its Args stand beside it
            assert misplaced == {}, f"components/{package.name}: Args not in args.py: {misplaced}"

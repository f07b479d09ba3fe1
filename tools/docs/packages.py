"""docs/components.md's package map: every package of components/ and tools/, its modules and what
each is, read from the packages' and modules' own docstrings (their first sentence)."""

from __future__ import annotations

import ast
from pathlib import Path

from tools.docs.parts import ROOT, cell, code

MAPPED = ("components", "tools")


def first_sentence(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text(), filename=str(path))) or ""
    text = " ".join(doc.split())
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


def packages(top: str) -> list[Path]:
    """The packages under `top` (itself excluded), outermost first."""
    return sorted(p.parent for p in (ROOT / top).rglob("__init__.py") if p.parent != ROOT / top and "node_modules" not in p.parts)


def package_map() -> str:
    lines = [
        "From the packages' and modules' docstrings (`python -m tools.docs`): where each part of the program and",
        "of its tools lives. A package's `__init__.py` exports what `__main__.py` uses; its `args.py` holds its",
        "Args, so no module imports its own package.",
        "",
        "| package | module | what it is |",
        "|---|---|---|",
    ]
    for top in MAPPED:
        for package in packages(top):
            name = ".".join(package.relative_to(ROOT).parts)
            lines.append(f"| {code(name)} | | {cell(first_sentence(package / '__init__.py'))} |")
            for module in sorted(package.glob("*.py")):
                if module.name != "__init__.py":
                    lines.append(f"| | {code(module.name)} | {cell(first_sentence(module))} |")
    return "\n".join(lines)

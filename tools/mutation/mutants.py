"""The mutants of one file: mutmut 2.5.1's operators, used as a library.

Only mutmut's parso-based mutation engine is used (`list_mutations`, `mutate`): its runner keeps
its state in a pony database that crashes on some mutants (`Attribute Mutant.line is required`) and
edits the working tree, so the driver does the running itself (tools/mutation/run.py).
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from mutmut import Context, list_mutations, mutate


@dataclass(frozen=True)
class Mutant:
    path: str  # relative to the repository root
    line: int  # 1-based
    index: int  # mutmut's index among the mutations of that line
    original: str  # the changed line(s) before
    mutated: str  # and after
    source: str  # the whole mutated file
    scope: str = ""  # the innermost function or class holding the line ("" at module level)

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def change(self) -> str:
        return f"{self.original.strip()}  ->  {self.mutated.strip() or '(removed)'}"


def _lines_of(source: str, functions: Iterable[str]) -> set[int]:
    """1-based lines of the named definitions (`name` or `Class.method`)."""
    wanted = set(functions)
    found: set[int] = set()

    def walk(nodes: list[ast.stmt], prefix: str) -> None:
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                qualified = f"{prefix}{node.name}"
                if qualified in wanted:
                    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                    found.update(range(first, (node.end_lineno or node.lineno) + 1))
                if isinstance(node, ast.ClassDef):
                    walk(node.body, f"{qualified}.")

    walk(ast.parse(source).body, "")
    missing = wanted - {name for name in wanted if defines(source, name)}
    if missing:
        raise ValueError(f"functions {sorted(missing)} are not defined in the file")
    return found


def _scopes(source: str) -> dict[int, str]:
    """1-based line -> qualified name of the innermost definition holding it."""
    found: dict[int, str] = {}

    def walk(nodes: list[ast.stmt], prefix: str) -> None:
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                qualified = f"{prefix}{node.name}"
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                found.update(dict.fromkeys(range(first, (node.end_lineno or node.lineno) + 1), qualified))
                walk(node.body, f"{qualified}.")

    walk(ast.parse(source).body, "")
    return found


def defines(source: str, qualified: str) -> bool:
    scope: list[ast.stmt] = ast.parse(source).body
    for part in qualified.split("."):
        match = [n for n in scope if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name == part]
        if not match:
            return False
        scope = match[0].body
    return True


def _changed(before: str, after: str) -> tuple[int, str, str]:
    old, new = before.splitlines(), after.splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag != "equal":
            # A removed decorator takes the comments and blank lines above it along: show the code.
            while tag == "delete" and i2 - i1 > 1 and (not old[i1].strip() or old[i1].lstrip().startswith("#")):
                i1 += 1
            return i1 + 1, "\n".join(old[i1:i2]), "\n".join(new[j1:j2])
    raise ValueError("mutmut reported a mutation that changes nothing")


def mutants_of(root: Path, relative: str, functions: Iterable[str] = ()) -> list[Mutant]:
    """Every mutant mutmut makes of the file (within `functions` when named), in line order."""
    source = (root / relative).read_text()
    lines = _lines_of(source, functions) if functions else None
    scopes = _scopes(source)
    found = []
    for mutation_id in list_mutations(Context(source=source, filename=relative)):
        if lines is not None and mutation_id.line_number + 1 not in lines:
            continue
        mutated, _ = mutate(Context(source=source, mutation_id=mutation_id, filename=relative))
        line, original, changed = _changed(source, mutated)
        found.append(Mutant(relative, line, mutation_id.index, original, changed, mutated, scopes.get(line, "")))
    return found

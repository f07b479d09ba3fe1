"""Surviving mutants that change nothing a caller can observe, each with the reason.

A survivor is matched by its file, the line before and the line after (whitespace-trimmed), so
an entry stays attached to its code when lines above it move, and stops matching (the survivor is
reported again) when the line itself changes. docs/testing.md's table is generated from this list
(`python -m tools.mutation --equivalents`) and a test keeps the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from tools.mutation.mutants import Mutant


@dataclass(frozen=True)
class Equivalent:
    path: str
    original: str
    mutated: str
    reason: str


EQUIVALENTS: tuple[Equivalent, ...] = ()


def reason_for(mutant: Mutant) -> Optional[str]:
    for entry in EQUIVALENTS:
        if (entry.path, entry.original, entry.mutated) == (mutant.path, mutant.original.strip(), mutant.mutated.strip()):
            return entry.reason
    return None


def markdown_table() -> str:
    rows = ["| file | mutation | why it changes nothing observable |", "|---|---|---|"]
    for e in EQUIVALENTS:
        change = f"`{e.original}` → `{e.mutated}`".replace("|", "\\|")
        rows.append(f"| `{e.path}` | {change} | {e.reason} |")
    return "\n".join(rows) + "\n"

"""The shipped stacks as the offline preview sees them: their counts (docs/measurements.md), cost
estimates (docs/policies.md) and where each AWS resource is declared (docs/components.md), read from
`python -m tools.preview --stack dev --stack prod --json ...`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from components.config import stack as cfg
from tools.docs.guardrails import TYPE_TOKEN, python_type_name
from tools.docs.parts import ROOT, STACKS, DocsError, cell, code

PREVIEW_COMMAND = "python -m tools.preview --stack dev --stack prod"


def preview_summaries() -> dict[str, dict[str, Any]]:
    """Each shipped stack's --json document from the offline preview (`summary`, `resources`, ...)."""
    with tempfile.TemporaryDirectory(prefix="docs-preview-") as tmp:
        command = [
            sys.executable,
            "-m",
            "tools.preview",
            *(a for s in STACKS for a in ("--stack", s)),
            "--json",
            f"{tmp}/preview.{{stack}}.json",
        ]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        summaries = {}
        for stack in STACKS:
            path = Path(tmp) / f"preview.{stack}.json"
            if not path.exists():
                raise DocsError(f"`{PREVIEW_COMMAND}` wrote no result for {stack} (exit {done.returncode}):\n{done.stderr[-3000:]}")
            summaries[stack] = json.loads(path.read_text())
    return summaries


def _usd(value: float) -> str:
    return f"${value:,.2f}"


def shipped_stacks_table(summaries: Mapping[str, Mapping[str, Any]]) -> str:
    lines = [
        f"From `{PREVIEW_COMMAND}` (the real program under mocks, the policy pack over the Analyzer protocol):",
        "",
        "| stack | resources | policies | mandatory violations | advisory violations | cost estimate | budget |",
        "|---|---|---|---|---|---|---|",
    ]
    for stack, document in summaries.items():
        s = document["summary"]
        if "error" in s:
            lines.append(f"| {stack} | error: {cell(s['error'])} | | | | | |")
            continue
        cost = s.get("costEstimate") or {}
        estimate = f"{_usd(cost['monthlyUsd'])}/month" if cost else "none"
        budget = _usd(cost["budgetUsd"]) if cost else ""
        lines.append(
            f"| {stack} | {s['resources']} | {s['policies']} | {s['mandatoryViolations']} | {s['advisoryViolations']} | {estimate} | {budget} |"
        )
    return "\n".join(lines)


def cost_table(summaries: Mapping[str, Mapping[str, Any]], top: int = 5) -> str:
    bases = sorted({d["summary"]["costEstimate"]["basis"] for d in summaries.values() if d["summary"].get("costEstimate")})
    lines = [
        f"Estimates of the shipped stacks (`{PREVIEW_COMMAND}`; {', '.join(bases) or 'no estimate'}):",
        "",
        "| stack | estimate | budget | main items | notes |",
        "|---|---|---|---|---|",
    ]
    for stack, document in summaries.items():
        cost = document["summary"].get("costEstimate")
        if not cost:
            lines.append(f"| {stack} | none | | | |")
            continue
        items = sorted(cost["items"], key=lambda i: -i["monthlyUsd"])[:top]
        main = "; ".join(f"{i['item']}: {_usd(i['monthlyUsd'])}" for i in items)
        notes = "; ".join(cost.get("notes", []))
        lines.append(f"| {stack} | {_usd(cost['monthlyUsd'])}/month | {_usd(cost['budgetUsd'])} | {cell(main)} | {cell(notes)} |")
    return "\n".join(lines)


def component_files() -> dict[str, str]:
    """Component type token -> the file whose class registers it (searched in the source)."""
    found: dict[str, str] = {}
    for path in sorted([*(ROOT / "components").rglob("*.py"), ROOT / "__main__.py"]):
        for token in re.findall(r'super\(\).__init__\(\s*"(sagemaker-mlops:[\w-]+:\w+)"', path.read_text()):
            found.setdefault(token, str(path.relative_to(ROOT)))
    return found


def resource_index(documents: Mapping[str, Mapping[str, Any]]) -> str:
    """Where each AWS resource of the shipped stacks is declared: the component chain from
    `__main__.py` down to its nearest component, and that component's file."""
    files = component_files()
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for stack, document in documents.items():
        by_urn = {r["urn"]: r for r in document.get("resources", [])}
        for resource in by_urn.values():
            if resource["type"].startswith(("pulumi:", f"{cfg.PROJECT}:")):
                continue  # the stack, providers and our own components
            chain = []
            parent = by_urn.get(resource["parent"])
            while parent is not None and not parent["type"].startswith("pulumi:"):
                chain.append(parent["type"])
                parent = by_urn.get(parent["parent"])
            per_stack = counts.setdefault((resource["type"], " › ".join(reversed(chain))), {})
            per_stack[stack] = per_stack.get(stack, 0) + 1
    stacks = list(documents)
    lines = [
        f"From `{PREVIEW_COMMAND}`: every resource type the shipped stacks declare, the component that declares it",
        "(the chain of components from `__main__.py`) and that component's file.",
        "",
        "| resource type | " + " | ".join(stacks) + " | declared by | file |",
        "|---|" + "---|" * len(stacks) + "---|---|",
    ]

    def declared_by(chain: str) -> str:
        return " › ".join(t.rsplit(":", 1)[-1] for t in chain.split(" › ")) if chain else "`__main__.py`"

    for (type_token, chain), per_stack in sorted(counts.items(), key=lambda kv: (declared_by(kv[0][1]), kv[0][0])):
        leaf = chain.rsplit(" › ", 1)[-1] if chain else ""
        where = files.get(leaf, "") if chain else "__main__.py"
        name = python_type_name(type_token) if TYPE_TOKEN.match(type_token) else type_token
        cells = [code(name), *(str(per_stack.get(s, "")) for s in stacks), declared_by(chain), code(where) if where else ""]
        lines.append("| " + " | ".join(cell(c) for c in cells) + " |")
    return "\n".join(lines)

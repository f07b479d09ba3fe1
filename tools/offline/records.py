"""Runs the real program under the offline preview's mocks and returns what it declared (for tests and tools).

Each (stack, overrides) combination runs once per test session, in its own process, exactly as
`python -m tools.preview` runs it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class Records:
    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.resources: list[dict[str, Any]] = data["resources"]
        self.outputs: dict[str, Any] = data["outputs"]

    def of_type(self, type_: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == type_]

    def one(self, type_: str, name: str | None = None) -> dict[str, Any]:
        found = [r for r in self.of_type(type_) if name is None or r["name"] == name]
        assert len(found) == 1, f"expected one {type_} {name or ''}, found {[r['name'] for r in found]}"
        return found[0]

    def by_urn(self, urn: str) -> dict[str, Any]:
        return next(r for r in self.resources if r["urn"] == urn)

    def children_of(self, urn: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["parent"] == urn]


@lru_cache(maxsize=None)
def stack_records(stack: str, *overrides: str, program_dir: Path = ROOT) -> Records:
    """`program_dir` selects another Pulumi project of this repository (e.g. bootstrap/).

    A stack that reads another through a StackReference (registry.stack) gets the outputs of that
    stack's shipped config, run first (and cached like any other run).
    """
    from tools.offline.stack_files import apply_overrides, project_name, referenced_stacks, stack_config

    project = project_name(program_dir)
    references = [
        ref
        for ref in referenced_stacks(apply_overrides(stack_config(program_dir, stack), overrides, namespace=project), project)
        if ref != stack and (program_dir / f"Pulumi.{ref}.yaml").exists()
    ]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "records.json"
        command = [sys.executable, "-m", "tools.offline.program", "--stack", stack, "--program-dir", str(program_dir), "--out", str(out)]
        for override in overrides:
            command += ["--set", override]
        for ref in references:
            outputs = Path(tmp) / f"outputs-{ref}.json"
            outputs.write_text(json.dumps(stack_records(ref, program_dir=program_dir).outputs))
            command += ["--stack-outputs", f"{ref}={outputs}"]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, f"program failed for {stack} {overrides}:\n{done.stderr}"
        return Records(json.loads(out.read_text()))


def parse_json_input(value: Any) -> Any:
    """Policy documents and similar inputs are JSON text."""
    return json.loads(value) if isinstance(value, str) else value

"""Run the real program changed the way a careless change would, and collect what the pack says.

A `Violation` row says: in `stack`, after `mutations`, policy `policy` reports `level` on the
resource whose URN ends in `resource` ("" = the stack itself). Rows with the same (stack, run) are
applied to ONE copy of the program and previewed ONCE (`python -m tools.preview --program-dir
<copy> --set ... --json ...`, the same command a user runs), and the runs go in parallel, so a
hundred rows cost a handful of program runs. Put a mutation in its own `run` when it would hide
another row's violation (e.g. two overrides of the same key).

Mutations:
- `Set("endpoint.instanceCount=1")`: a `--set` config override;
- `Edit(old, new, count=1)`: replace text in the copy. The text is looked for in every Python file
  of the program, with any run of whitespace matching any other (so a module split or a
  re-indentation does not break the row), and must occur exactly `count` times in exactly one file
  (`path=` names the file when it occurs in several), so a refactor that changes it fails loudly
  instead of silently testing nothing;
- `Append(code)`: code appended to the copy's `__main__.py` (resources a change would add; it sees
  the program's globals: `aws`, `pulumi`, `with_provider`, `foundation`, `training`, ...).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Union

from program_testkit import copy_program as copy_tree

from tools.offline.records import ROOT

PROJECT = "sagemaker-mlops"
PARALLEL_RUNS = 4


@dataclass(frozen=True)
class Set:
    override: str


@dataclass(frozen=True)
class Edit:
    old: str
    new: str
    count: int = 1
    path: Optional[str] = None


@dataclass(frozen=True)
class Append:
    code: str


Mutation = Union[Set, Edit, Append]


@dataclass(frozen=True)
class Violation:
    policy: str
    resource: str
    """The URN after `urn:pulumi:<stack>::sagemaker-mlops::` (`<parent type>$<type>::<name>`); "" = the stack."""
    mutations: tuple[Mutation, ...]
    stack: str = "prod"
    level: str = "mandatory"
    run: str = "careless"

    @property
    def urn(self) -> str:
        return f"urn:pulumi:{self.stack}::{PROJECT}::{self.resource}" if self.resource else ""

    @property
    def key(self) -> tuple[str, str]:
        return self.stack, self.run

    def __str__(self) -> str:
        return f"{self.policy}@{self.stack}/{self.run}:{self.resource.rsplit('::', 1)[-1] or 'stack'}"


class MutationError(AssertionError):
    """A mutation that no longer applies to the program: fix the table row, not the program."""


def copy_program(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    return copy_tree(target)


def _unique(mutations: Iterable[Mutation]) -> list[Mutation]:
    seen: list[Mutation] = []
    for mutation in mutations:
        if mutation not in seen:
            seen.append(mutation)
    return seen


def _pattern(old: str) -> re.Pattern[str]:
    """`old` however a formatter lays it out: a run of whitespace matches any other, a line may
    break after an opening bracket or a comma and before a closing bracket, and a trailing comma
    may stand before a closing bracket."""
    parts: list[str] = []
    for token in re.findall(r"\s+|\S", old.strip()):
        if token.isspace():
            if parts and parts[-1].endswith(r"\s*"):
                continue  # already optional after a bracket or comma
            parts.append(r"\s+")
        elif token in ")]}":
            if parts and parts[-1] == r"\s+":
                parts.pop()
            parts.append(r",?\s*" + re.escape(token))
        elif token in "([{,":
            parts.append(re.escape(token) + r"\s*")
        else:
            parts.append(re.escape(token))
    return re.compile("".join(parts))


def _file_with(program: Path, edit: Edit) -> Path:
    if edit.path:
        return program / edit.path
    pattern = _pattern(edit.old)
    files = [f for f in sorted(program.rglob("*.py")) if pattern.search(f.read_text())]
    if len(files) != 1:
        where = ", ".join(str(f.relative_to(program)) for f in files) or "no file"
        raise MutationError(f"expected 1 occurrence(s) of {edit.old!r} in one file of the program, found it in {where}")
    return files[0]


def apply(program: Path, mutations: Iterable[Mutation]) -> list[str]:
    """Applies edits and appends to the copy; returns the --set overrides."""
    overrides: list[str] = []
    for mutation in _unique(mutations):
        if isinstance(mutation, Set):
            overrides.append(mutation.override)
        elif isinstance(mutation, Edit):
            path = _file_with(program, mutation)
            text, found = _pattern(mutation.old).subn(lambda _, new=mutation.new: new, path.read_text())
            if found != mutation.count:
                raise MutationError(
                    f"{path.relative_to(program)}: expected {mutation.count} occurrence(s) of {mutation.old!r}, found {found}"
                )
            path.write_text(text)
        else:
            with (program / "__main__.py").open("a") as main:
                main.write("\n" + textwrap.dedent(mutation.code))
    return overrides


@dataclass
class RunResult:
    stack: str
    run: str
    returncode: int
    stdout: str
    stderr: str
    result: dict[str, Any]

    def found(self, policy: str, urn: str) -> list[dict[str, Any]]:
        return [v for v in self.result.get("violations", []) if v["policy"] == policy and v["urn"] == urn]


def run_group(stack: str, run: str, rows: list[Violation], workdir: Path, stack_outputs: Mapping[str, Path]) -> RunResult:
    program = copy_program(workdir / f"{stack}-{run}")
    overrides = apply(program, [m for row in rows for m in row.mutations])
    out = workdir / f"{stack}-{run}.json"
    command = [sys.executable, "-m", "tools.preview", "--stack", stack, "--program-dir", str(program), "--json", str(out)]
    for override in overrides:
        command += ["--set", override]
    # A stack that reads another (prod reads dev's registry) gets the shipped stack's outputs: the
    # change under test is this stack's, and the referenced stack's program need not run again.
    for other, path in stack_outputs.items():
        if other != stack:
            command += ["--stack-outputs", f"{other}={path}"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    result = json.loads(out.read_text()) if out.exists() else {}
    return RunResult(stack, run, done.returncode, done.stdout, done.stderr, result)


def run_all(rows: Iterable[Violation], workdir: Path, shipped_outputs: Mapping[str, Mapping[str, Any]]) -> dict[tuple[str, str], RunResult]:
    """Runs every (stack, run) group; `shipped_outputs` are the shipped stacks' outputs by stack."""
    groups: dict[tuple[str, str], list[Violation]] = {}
    for row in rows:
        groups.setdefault(row.key, []).append(row)
    stack_outputs = {}
    for name, outputs in shipped_outputs.items():
        stack_outputs[name] = workdir / f"shipped-{name}-outputs.json"
        stack_outputs[name].write_text(json.dumps(outputs))
    with ThreadPoolExecutor(max_workers=PARALLEL_RUNS) as pool:
        futures = {key: pool.submit(run_group, key[0], key[1], group, workdir, stack_outputs) for key, group in groups.items()}
        return {key: future.result() for key, future in futures.items()}

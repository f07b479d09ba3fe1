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

Each row is proven ALONE, by attribution: within a (stack, run) group, the mutations every row shares
are the context, and each row's remaining mutations are its own *unit*. Units get distinct codes of
equal weight (w of m bits, the fewest m with C(m, m//2) >= units) and probe run b applies the context
plus every unit whose code has bit b. A finding caused by exactly its row's unit appears in exactly
the probe runs of that unit's code; one that another unit also causes (either suffices) appears in
more, one that needs another unit too appears in fewer, since no code of equal weight contains
another. So a row passes only when its own edit produces its finding, for about log2(units) extra
previews per group instead of one per row.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import combinations
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


# ---- attribution ---------------------------------------------------------------------------------


def context_and_units(rows: list[Violation]) -> tuple[tuple[Mutation, ...], list[tuple[Mutation, ...]]]:
    """The mutations every row of a group shares, and the distinct units (a row's other mutations)."""
    common = tuple(m for m in rows[0].mutations if all(m in r.mutations for r in rows))
    units: list[tuple[Mutation, ...]] = []
    for row in rows:
        unit = unit_of(row, common)
        if unit not in units:
            units.append(unit)
    return common, units


def unit_of(row: Violation, common: tuple[Mutation, ...]) -> tuple[Mutation, ...]:
    return tuple(m for m in row.mutations if m not in common)


def unit_codes(count: int) -> list[frozenset[int]]:
    """`count` distinct codes of equal weight: none contains another. No codes for one unit (the
    shipped baseline, which has none of the group's mutations, proves it)."""
    if count <= 1:
        return [frozenset()] * count
    bits = 2
    while len(list(combinations(range(bits), bits // 2))) < count:
        bits += 1
    return [frozenset(c) for c in list(combinations(range(bits), bits // 2))[:count]]


def probe_mutations(rows: list[Violation]) -> list[list[Mutation]]:
    """The mutations of each probe run of a group (none when the group has one unit)."""
    common, units = context_and_units(rows)
    codes = unit_codes(len(units))
    width = max((max(c) + 1 for c in codes if c), default=0)
    return [[*common, *(m for unit, code in zip(units, codes) for m in unit if b in code)] for b in range(width)]


def attribution_problem(row: Violation, group: list[Violation], present: list[bool]) -> Optional[str]:
    """Why the row's finding is not its own edit's, given whether it appeared in each probe run."""
    common, units = context_and_units(group)
    code = unit_codes(len(units))[units.index(unit_of(row, common))]
    expected = [b in code for b in range(len(present))]
    if present == expected:
        return None
    extra = [b for b, (p, e) in enumerate(zip(present, expected)) if p and not e]
    if extra:
        return f"the finding also appears in probe run(s) {extra} without this row's edit: another edit of the run produces it"
    return "the finding needs another edit of the run besides this row's: the row's edit alone does not produce it"


# ---- running ---------------------------------------------------------------------------------------


def run_group(
    stack: str,
    run: str,
    rows: list[Violation],
    workdir: Path,
    stack_outputs: Mapping[str, Path],
    mutations: Optional[list[Mutation]] = None,
) -> RunResult:
    program = copy_program(workdir / f"{stack}-{run}")
    overrides = apply(program, [m for row in rows for m in row.mutations] if mutations is None else mutations)
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


def groups_of(rows: Iterable[Violation]) -> dict[tuple[str, str], list[Violation]]:
    groups: dict[tuple[str, str], list[Violation]] = {}
    for row in rows:
        groups.setdefault(row.key, []).append(row)
    return groups


@dataclass
class Runs:
    """Each group's run with every mutation applied, and its probe runs in order."""

    full: dict[tuple[str, str], RunResult]
    probes: dict[tuple[str, str], list[RunResult]]


def run_all(rows: Iterable[Violation], workdir: Path, shipped_outputs: Mapping[str, Mapping[str, Any]]) -> Runs:
    """Runs every (stack, run) group and its probe runs; `shipped_outputs` are the shipped stacks'
    outputs by stack."""
    groups = groups_of(rows)
    stack_outputs = {}
    for name, outputs in shipped_outputs.items():
        stack_outputs[name] = workdir / f"shipped-{name}-outputs.json"
        stack_outputs[name].write_text(json.dumps(outputs))
    with ThreadPoolExecutor(max_workers=PARALLEL_RUNS) as pool:
        futures = {key: pool.submit(run_group, key[0], key[1], group, workdir, stack_outputs) for key, group in groups.items()}
        probes = {
            key: [
                pool.submit(run_group, key[0], f"{key[1]}-probe{b}", group, workdir, stack_outputs, mutations)
                for b, mutations in enumerate(probe_mutations(group))
            ]
            for key, group in groups.items()
        }
        return Runs(
            full={key: future.result() for key, future in futures.items()},
            probes={key: [f.result() for f in found] for key, found in probes.items()},
        )

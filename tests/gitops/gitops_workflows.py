"""Reading the workflows and the guarded-pulumi action the way GitHub runs them, for tests/gitops/."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, Callable

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_DIR = ROOT / ".github" / "workflows"
ACTION = ROOT / ".github" / "actions" / "guarded-pulumi" / "action.yml"
ACTION_USE = "./base/.github/actions/guarded-pulumi"


def load(path: Path) -> dict[str, Any]:
    return YAML(typ="safe").load(path.read_text())


def workflow(name: str) -> dict[str, Any]:
    return load(WORKFLOW_DIR / name)


def all_jobs() -> dict[str, dict[str, Any]]:
    """Every job of every workflow, as '<file>:<job>'."""
    return {f"{path.name}:{name}": job for path in sorted(WORKFLOW_DIR.glob("*.yml")) for name, job in load(path)["jobs"].items()}


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps", [])


def step(job: dict[str, Any], predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    found = [s for s in steps(job) if predicate(s)]
    assert len(found) == 1, [s.get("name") for s in found]
    return found[0]


def index(job: dict[str, Any], predicate: Callable[[dict[str, Any]], bool]) -> int:
    found = [i for i, s in enumerate(steps(job)) if predicate(s)]
    assert len(found) == 1, [steps(job)[i].get("name") for i in found]
    return found[0]


def named(name: str) -> Callable[[dict[str, Any]], bool]:
    return lambda s: s.get("name") == name


def with_id(identifier: str) -> Callable[[dict[str, Any]], bool]:
    return lambda s: s.get("id") == identifier


def using(action: str) -> Callable[[dict[str, Any]], bool]:
    return lambda s: str(s.get("uses", "")).split("@")[0] == action


def runs(fragment: str) -> Callable[[dict[str, Any]], bool]:
    return lambda s: fragment in s.get("run", "")


def action_step(name: str) -> dict[str, Any]:
    return step(load(ACTION)["runs"], named(name))


def run_bash(script: str, env: dict[str, str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """A `run:` script as GitHub runs it with `shell: bash` (bash --noprofile --norc -eo pipefail)."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def outputs(path: Path) -> dict[str, str]:
    """A $GITHUB_OUTPUT file's `name=value` lines."""
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line) if path.exists() else {}

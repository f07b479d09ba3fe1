"""A stack's pins in Git: the model package versions Pulumi.<stack>.yaml pinned on this branch, newest
first, and when each was committed.

The emergency rollback goes only to a version the stack pinned before (`pin_history`); the restore
counts only releases built after the current pin was committed (`pin_changes()[0].since`): a
rollback of the same version pinned earlier, reverted and promoted again, is no evidence about the
new promotion.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from tools.promote.stack_file import ENDPOINT_KEY, VERSION_KEY, PromoteError


@dataclass(frozen=True)
class Pin:
    version: int
    since: datetime
    """The committer date of the commit that pinned the version (the oldest of its run of commits)."""
    commit: str


def _git(stack_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=stack_dir, capture_output=True, text=True, timeout=60)


def pin_changes(stack_dir: Path, stack: str) -> tuple[Pin, ...]:
    """Each change of the pinned version, newest first (commits whose file does not parse, or pins
    nothing, are passed over)."""
    name = f"Pulumi.{stack}.yaml"
    try:
        log = _git(stack_dir, "log", "--format=%H%x1f%cI", "--", name)
        log.check_returncode()
    except (OSError, subprocess.SubprocessError) as exc:
        raise PromoteError(f"cannot read the Git history of {name} in {stack_dir}: {exc}") from None
    pins: list[Pin] = []
    for record in log.stdout.splitlines():
        sha, date = record.split("\x1f")
        shown = _git(stack_dir, "show", f"{sha}:{name}")
        if shown.returncode != 0:
            continue
        try:
            endpoint = (YAML(typ="safe").load(shown.stdout) or {}).get("config", {}).get(ENDPOINT_KEY) or {}
        except YAMLError:
            continue
        version = endpoint.get(VERSION_KEY) if isinstance(endpoint, dict) else None
        if not isinstance(version, int):
            continue
        pin = Pin(version, datetime.fromisoformat(date), sha)
        if pins and pins[-1].version == version:
            pins[-1] = pin  # an older commit of the same pin: the pin dates from it
        else:
            pins.append(pin)
    return tuple(pins)


def pin_history(stack_dir: Path, stack: str) -> tuple[int, ...]:
    """The versions Pulumi.<stack>.yaml pinned, newest first, one entry per change (Git, this branch)."""
    return tuple(pin.version for pin in pin_changes(stack_dir, stack))

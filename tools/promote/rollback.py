"""Putting a stack's pin back: an emergency rollback of prod (one command, one pull request, no dev
soak) and restoring a pin to what AWS actually serves after an alarm rolled a release back.

    python -m tools.promote --rollback prod [--version N] [--reason TEXT] [--evidence-out F] [--pr-body F]
    python -m tools.promote --restore STACK [--pr-body F]     (credentials: what the endpoint serves)

A rollback may only go to a version prod pinned before (Git history of Pulumi.prod.yaml on this
branch), still Approved when credentials exist; its evidence (kind `rollback`) is what the deploy's
`--check-evidence prod` accepts instead of a soak, and the deploy still waits for `production`.
"""

from __future__ import annotations

import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from tools.promote.evidence import ROLLBACK, Evidence, iso, served_since
from tools.promote.pull_request import PullRequest, restore_pull_request, rollback_pull_request
from tools.promote.stack_file import ENDPOINT_KEY, VERSION_KEY, CheckFailed, PromoteError, read_stack, validate_change, with_version


def pin_history(stack_dir: Path, stack: str) -> tuple[int, ...]:
    """The versions Pulumi.<stack>.yaml pinned, newest first, one entry per change (Git, this branch)."""
    name = f"Pulumi.{stack}.yaml"
    try:
        shas = subprocess.run(
            ["git", "log", "--format=%H", "--", name], cwd=stack_dir, capture_output=True, text=True, check=True, timeout=60
        ).stdout.split()
    except (OSError, subprocess.SubprocessError) as exc:
        raise PromoteError(f"cannot read the Git history of {name} in {stack_dir}: {exc}") from None
    versions: list[int] = []
    for sha in shas:
        shown = subprocess.run(["git", "show", f"{sha}:{name}"], cwd=stack_dir, capture_output=True, text=True, timeout=60)
        if shown.returncode != 0:
            continue
        try:
            endpoint = (YAML(typ="safe").load(shown.stdout) or {}).get("config", {}).get(ENDPOINT_KEY) or {}
        except YAMLError:
            continue
        version = endpoint.get(VERSION_KEY) if isinstance(endpoint, dict) else None
        if isinstance(version, int) and (not versions or versions[-1] != version):
            versions.append(version)
    return tuple(versions)


def _arn_of(base_arn: str, version: int) -> str:
    return f"{base_arn.rsplit('/', 1)[0]}/{version}"


def rollback(
    stack_dir: Path,
    base_arn: str,
    version: Optional[int],
    reason: str,
    check: Any = None,
    now: Optional[datetime] = None,
) -> tuple[Evidence, PullRequest, str]:
    """Pin in prod the version it pinned before (or `version`, which it must have pinned before).

    `base_arn`: any package ARN of the shared group (the version is replaced); `check(arn)` raises
    CheckFailed unless the registry holds it Approved (skipped when None: no credentials).
    """
    prod = read_stack(stack_dir, "prod")
    current = prod.pinned_version()
    if current is None:
        raise CheckFailed("prod pins no model package version: there is nothing to roll back")
    history = pin_history(stack_dir, "prod")
    earlier = [v for v in history if v != current]
    if version is None:
        if not earlier:
            raise CheckFailed(f"prod has pinned only version {current} in Git history: there is no earlier version to roll back to")
        version = earlier[0]
    elif version not in earlier:
        raise CheckFailed(
            f"prod never pinned version {version} before (its earlier pins: {', '.join(map(str, earlier)) or 'none'}): "
            "an emergency rollback goes back to a version prod served; anything else is a promotion with a soak"
        )
    arn = _arn_of(base_arn, version)
    checked = "not checked: no AWS credentials (the deploy checks that the package is Approved)"
    if check is not None:
        checked = f"checked: {check(arn)} is Approved"
    new_text = with_version(prod, version)
    validate_change(prod, new_text, version)
    prod.path.write_text(new_text, encoding="utf-8")
    moment = iso(now or datetime.now(timezone.utc))
    evidence = Evidence(ROLLBACK, arn, moment, moment, moment, 0, note=f"emergency rollback from version {current}: {reason}")
    return (
        evidence,
        rollback_pull_request(evidence, version, current, reason),
        f"{checked}\nprod: {VERSION_KEY} {current} -> {version} (emergency rollback)",
    )


def fired_alarm(cloudwatch: Any, alarm_names: list[str]) -> tuple[str, str]:
    """The release alarm that rolled the release back: one in ALARM, else the one that changed last."""
    alarms = cloudwatch.describe_alarms(AlarmNames=alarm_names).get("MetricAlarms", []) if alarm_names else []
    if not alarms:
        return "unknown (no release alarm found)", "the endpoint serves another package than the pin"
    firing = [a for a in alarms if a.get("StateValue") == "ALARM"] or sorted(alarms, key=lambda a: a.get("StateUpdatedTimestamp") or 0)[-1:]
    alarm = firing[0]
    return alarm["AlarmName"], f"{alarm.get('StateValue')}: {alarm.get('StateReason', '')}"


def restore(stack_dir: Path, stack: str, sagemaker: Any, cloudwatch: Any, endpoint: str, alarm_names: list[str]) -> Optional[PullRequest]:
    """When the endpoint serves another version than the pin (AWS rolled the release back), pin what
    serves and name the alarm; None when Git already says what serves."""
    target = read_stack(stack_dir, stack)
    pinned = target.pinned_version()
    serving, _ = served_since(sagemaker, endpoint)
    version = int(serving.rsplit("/", 1)[-1])
    if pinned is None or pinned == version:
        return None
    alarm, detail = fired_alarm(cloudwatch, alarm_names)
    new_text = with_version(target, version)
    validate_change(target, new_text, version)
    target.path.write_text(new_text, encoding="utf-8")
    return restore_pull_request(stack, serving, pinned, version, alarm, detail)

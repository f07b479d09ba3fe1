"""Putting a stack's pin back: an emergency rollback of prod (one command, one pull request, no dev
soak) and restoring a pin to what AWS actually serves after an alarm rolled a release back.

    python -m tools.promote --rollback prod [--version N] [--reason TEXT] [--evidence-out F] [--pr-body F]
    python -m tools.promote --restore STACK [--pr-body F]     (credentials: what the endpoint and the API serve)

A rollback may only go to a version prod pinned before (Git history of Pulumi.prod.yaml on this
branch), still Approved when credentials exist; its evidence (kind `rollback`) is what the deploy's
`--check-evidence prod` accepts instead of a soak, and the deploy still waits for `production`.

A restore compares both halves of what serves with Git: the package the endpoint serves with the
pin (tools/promote/endpoint_rollback.py), and the code the API's `live` alias serves with
`containers/api` (tools/promote/api_code.py). Each half restores only when AWS rolled back the
release of what Git says, never because a deploy has not run yet; whatever was rolled back goes
into one pull request (branch `restore/<stack>`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from tools.promote.api_code import ApiNames, find_rollback, restore_folder
from tools.promote.endpoint_rollback import EndpointNames
from tools.promote.endpoint_rollback import find_rollback as find_endpoint_rollback
from tools.promote.evidence import ROLLBACK, Evidence, iso
from tools.promote.pin_log import pin_history
from tools.promote.pull_request import Alarm, ApiRestore, EndpointRestore, PullRequest, restore_pull_request, rollback_pull_request
from tools.promote.stack_file import VERSION_KEY, CheckFailed, read_stack, validate_change, with_version


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
        return "unknown (no release alarm found)", "none of the release's alarms was found in CloudWatch"
    firing = [a for a in alarms if a.get("StateValue") == "ALARM"] or sorted(alarms, key=lambda a: a.get("StateUpdatedTimestamp") or 0)[-1:]
    alarm = firing[0]
    return alarm["AlarmName"], f"{alarm.get('StateValue')}: {alarm.get('StateReason', '')}"


@dataclass(frozen=True)
class ApiClients:
    """What `restore` needs to compare the API: its Lambda and CodeDeploy clients and names."""

    lambda_: Any
    codedeploy: Any
    names: ApiNames


def restore(
    stack_dir: Path,
    stack: str,
    sagemaker: Any,
    cloudwatch: Any,
    endpoint: EndpointNames,
    api: Optional[ApiClients] = None,
) -> tuple[Optional[PullRequest], list[str]]:
    """When AWS rolled back the release of what Git says (the pin, containers/api at HEAD), write what
    serves and name the alarms; the pull request is None when there is nothing to restore (Git
    already says what serves, or its release has not run yet). The lines say what was compared."""
    target = read_stack(stack_dir, stack)
    pinned = target.pinned_version()
    if pinned is None:
        return None, [f"{stack} pins no model package version: it serves no endpoint and no API; nothing to restore"]
    endpoint_rollback, note = find_endpoint_rollback(stack_dir, stack, pinned, sagemaker, endpoint)
    notes, endpoint_restore, new_text = [note], None, ""
    if endpoint_rollback is not None:
        new_text = with_version(target, endpoint_rollback.version)
        validate_change(target, new_text, endpoint_rollback.version)
        endpoint_restore = EndpointRestore(endpoint_rollback, Alarm(*fired_alarm(cloudwatch, list(endpoint_rollback.alarm_names))))
    api_rollback, api_alarm = None, None
    if api is not None:
        api_rollback, note = find_rollback(stack_dir, api.lambda_, api.codedeploy, api.names)
        notes.append(note)
        if api_rollback is not None:
            api_alarm = Alarm(*fired_alarm(cloudwatch, list(api_rollback.alarm_names)))
    if endpoint_restore is None and api_rollback is None:
        return None, notes
    # Everything is known before anything is written: a refusal above leaves the tree as it was.
    api_restore = None
    if api_rollback is not None and api_alarm is not None:
        api_restore = ApiRestore(api_rollback, api_alarm, tuple(restore_folder(stack_dir, api_rollback.commit.sha)))
    if endpoint_restore is not None:
        target.path.write_text(new_text, encoding="utf-8")
    return restore_pull_request(stack, endpoint_restore, api_restore), notes

"""What model package the endpoint serves, and whether SageMaker rolled back the release of the pin:
the endpoint half of `--restore`.

The endpoint serves the package of its configuration's models (DescribeEndpoint, then
DescribeEndpointConfig and DescribeModel). A package other than the pin is not by itself a
rollback: prod's deploy waits for the `production` approval (or a freeze) after a promotion is
merged, and until it runs the endpoint serves the previous version while Git pins the new one.

The evidence is the one EndpointRelease leaves (components/endpoint/release.py): when SageMaker kept
the endpoint on its old configuration, the release tags the configuration it built for the pin with
ROLLED_BACK_TAG and ROLLBACK_REASON_TAG (the alarms in ALARM, DescribeEndpoint's FailureReason).
DescribeEndpoint names only the configuration that serves, and Pulumi names configurations
`<resource>-<random>`, so the one built for the pin is looked for among the region's configurations
created since the pin was committed (ListEndpointConfigs, newest first): those tagged with the
stack's `Environment` (ListTags; the restore's role reads no other stack's) whose models serve the
pinned package. The newest of them is the release of the pin; only its rollback tag restores. None
built since the pin was committed (the deploy has not run) or the newest without the tag (a release
under way or interrupted) restores nothing, and one line says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Optional

from components.endpoint.release import BUSY_STATUSES, ROLLBACK_REASON_TAG, ROLLED_BACK_TAG, deployed_rollback_alarms
from components.shared.release_provider import error_code
from tools.promote.evidence import config_packages, iso
from tools.promote.pin_log import Pin, pin_changes
from tools.promote.stack_file import CheckFailed

ENVIRONMENT_TAG = "Environment"
# What a role scoped to its own stack's tagged resources is answered for another stack's configuration.
DENIED = ("AccessDeniedException", "AccessDenied")
# A configuration listed and deleted before it was read (a release deletes the one it superseded).
GONE = "ValidationException"


@dataclass(frozen=True)
class EndpointNames:
    """The stack's endpoint as `--restore` reads it (stack outputs, else the program's names)."""

    endpoint: str
    environment: str
    """The `Environment` tag the program puts on the stack's resources."""
    alarm_names: tuple[str, ...] = ()
    """The endpoint's alarms from the stack's outputs: named when the deployment names none."""


@dataclass(frozen=True)
class Release:
    """The endpoint configuration built for the pinned package since the pin was committed."""

    config_name: str
    created: datetime
    rollback_reason: Optional[str]
    """The release's record of the rollback (ROLLBACK_REASON_TAG), None when it recorded none."""


@dataclass(frozen=True)
class EndpointRollback:
    """A rolled-back release of the pin: what serves, the release, the alarms that may have fired."""

    serving_arn: str
    version: int
    pinned: int
    pin: Pin
    release: Release
    alarm_names: tuple[str, ...]
    """The deployment's rollback alarms the recorded reason names, else all of them."""

    @property
    def reason(self) -> str:
        return self.release.rollback_reason or ""


def _tags(sagemaker: Any, arn: str) -> Optional[dict[str, str]]:
    """The configuration's tags; None when the role may not read them (another stack's)."""
    try:
        listed = sagemaker.list_tags(ResourceArn=arn).get("Tags", [])
    except Exception as exc:
        if error_code(exc) in DENIED:
            return None
        raise
    return {str(t["Key"]): str(t["Value"]) for t in listed}


def _packages(sagemaker: Any, config_name: str) -> set[str]:
    try:
        return config_packages(sagemaker, config_name)
    except Exception as exc:
        if error_code(exc) == GONE:
            return set()
        raise


def release_of(sagemaker: Any, package_arn: str, environment: str, since: datetime) -> tuple[Optional[Release], int]:
    """(the newest configuration of the stack created after `since` whose models serve `package_arn`,
    or None; how many configurations were passed over because the role may not read their tags)."""
    pages = sagemaker.get_paginator("list_endpoint_configs").paginate(
        SortBy="CreationTime", SortOrder="Descending", CreationTimeAfter=since
    )
    denied = 0
    for summary in (s for page in pages for s in page.get("EndpointConfigs", [])):
        tags = _tags(sagemaker, summary["EndpointConfigArn"])
        if tags is None:
            denied += 1
            continue
        if tags.get(ENVIRONMENT_TAG) != environment or package_arn not in _packages(sagemaker, summary["EndpointConfigName"]):
            continue
        reason = tags.get(ROLLBACK_REASON_TAG, "rolled back") if ROLLED_BACK_TAG in tags else None
        return Release(summary["EndpointConfigName"], summary["CreationTime"], reason), denied
    return None, denied


def serving_package(sagemaker: Any, stack: str, endpoint: dict[str, Any]) -> str:
    """The one package ARN an InService endpoint's configuration serves."""
    packages = config_packages(sagemaker, endpoint["EndpointConfigName"])
    if len(packages) != 1:
        raise CheckFailed(
            f"{stack}'s endpoint {endpoint['EndpointName']} serves {len(packages)} model packages "
            f"({', '.join(sorted(packages)) or 'none'}) on {endpoint['EndpointConfigName']}: which version serves cannot be told"
        )
    return packages.pop()


def find_rollback(stack_dir: Path, stack: str, pinned: int, sagemaker: Any, names: EndpointNames) -> tuple[Optional[EndpointRollback], str]:
    """(the rolled-back release of the pin to restore, or None; one line saying what was found).

    CheckFailed when the endpoint is in no state to compare (Failed, OutOfService, ...) or the pin
    in the working tree is not the one committed last (its commit dates the release looked for)."""
    endpoint = sagemaker.describe_endpoint(EndpointName=names.endpoint)
    status = endpoint.get("EndpointStatus")
    if status in BUSY_STATUSES:
        pending = (endpoint.get("PendingDeploymentSummary") or {}).get("EndpointConfigName")
        return (
            None,
            f"{stack}: endpoint {names.endpoint} is {status}{f' (deploying {pending})' if pending else ''}; the endpoint is not compared now",
        )
    if status != "InService":
        raise CheckFailed(
            f"{stack}'s endpoint {names.endpoint} is {status}: {endpoint.get('FailureReason') or 'no reason given'}. "
            "A restore pins what an InService endpoint serves; this one needs a person"
        )
    serving = serving_package(sagemaker, stack, endpoint)
    version = int(serving.rsplit("/", 1)[-1])
    if version == pinned:
        return None, f"{stack}: the endpoint serves the pinned version {version}; nothing to restore"
    pins = pin_changes(stack_dir, stack)
    if not pins or pins[0].version != pinned:
        raise CheckFailed(
            f"Pulumi.{stack}.yaml pins version {pinned}, but its last commit on this branch pins "
            f"{pins[0].version if pins else 'none'}: the restore compares what serves with the committed pin; commit it first"
        )
    pinned_arn = f"{serving.rsplit('/', 1)[0]}/{pinned}"
    release, denied = release_of(sagemaker, pinned_arn, names.environment, pins[0].since)
    if release is None or release.rollback_reason is None:
        found = (
            f"its configuration {release.config_name} (created {iso(release.created)}) records no rollback: its release is under way or was interrupted"
            if release
            else f"no configuration for it was created since it was pinned ({iso(pins[0].since)}, {pins[0].commit[:12]}): its deploy waits for approval, is frozen or has not run"
        )
        passed = f"; passed over {denied} configuration(s) whose tags the role may not read: another stack's" if denied else ""
        return None, (
            f"{stack}: version {pinned} is pinned but not deployed yet (the endpoint serves version {version}; {found}{passed}); nothing to restore"
        )
    alarms = tuple(deployed_rollback_alarms(endpoint)) or names.alarm_names
    named = tuple(a for a in alarms if a in release.rollback_reason) or alarms
    rollback = EndpointRollback(serving, version, pinned, pins[0], release, named)
    return (
        rollback,
        f"{stack}: the release of version {pinned} ({release.config_name}) was rolled back ({rollback.reason}); the endpoint serves version {version}",
    )

"""What one Lambda canary release is: its inputs (`ReleaseSpec`), its outcome, the AppSpec it gives
CodeDeploy (and reads back from a running deployment) and CodeDeploy's account of a failure.

Plain data and JSON, no AWS client: the provider in components/api/lambda_release.py drives the
release with them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Optional

DEFAULT_TIMEOUT_SECONDS = 3600
DEFAULT_POLL_INTERVAL_SECONDS = 15


class ReleaseError(Exception):
    """The release did not reach the alias; the message says why and what to do."""


@dataclass(frozen=True)
class ReleaseSpec:
    application_name: str
    deployment_group_name: str
    function_name: str
    alias_name: str
    target_version: str
    region: str
    before_allow_traffic_hook: Optional[str] = None
    after_allow_traffic_hook: Optional[str] = None
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS
    poll_interval_seconds: int = DEFAULT_POLL_INTERVAL_SECONDS

    @classmethod
    def from_props(cls, props: dict[str, Any]) -> ReleaseSpec:
        return cls(
            application_name=str(props["application_name"]),
            deployment_group_name=str(props["deployment_group_name"]),
            function_name=str(props["function_name"]),
            alias_name=str(props["alias_name"]),
            target_version=str(props["target_version"]),
            region=str(props["region"]),
            before_allow_traffic_hook=props.get("before_allow_traffic_hook") or None,
            after_allow_traffic_hook=props.get("after_allow_traffic_hook") or None,
            timeout_seconds=int(props.get("timeout_seconds") or DEFAULT_TIMEOUT_SECONDS),
            poll_interval_seconds=int(props.get("poll_interval_seconds") or DEFAULT_POLL_INTERVAL_SECONDS),
        )

    @property
    def label(self) -> str:
        return f"{self.function_name}:{self.alias_name}"


@dataclass(frozen=True)
class ReleaseOutcome:
    deployment_id: str  # "" when no deployment was needed
    previous_version: str
    released_version: str
    # unchanged | direct | codedeploy | adopted (waited for a deployment already running)
    release_method: str


def appspec_content(spec: ReleaseSpec, current_version: str) -> str:
    """The AppSpec (JSON) that shifts `spec.alias_name` from `current_version` to the target."""
    hooks = []
    if spec.before_allow_traffic_hook:
        hooks.append({"BeforeAllowTraffic": spec.before_allow_traffic_hook})
    if spec.after_allow_traffic_hook:
        hooks.append({"AfterAllowTraffic": spec.after_allow_traffic_hook})
    document: dict[str, Any] = {
        "version": 0.0,
        "Resources": [
            {
                "LambdaFunction": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "Name": spec.function_name,
                        "Alias": spec.alias_name,
                        "CurrentVersion": current_version,
                        "TargetVersion": spec.target_version,
                    },
                }
            }
        ],
    }
    if hooks:
        document["Hooks"] = hooks
    return json.dumps(document, separators=(",", ":"))


def appspec_properties(info: dict[str, Any]) -> Optional[dict[str, Any]]:
    revision = info.get("revision") or {}
    content = (revision.get("appSpecContent") or revision.get("string") or {}).get("content")
    try:
        for entry in json.loads(content or "")["Resources"]:
            for body in entry.values():
                if body.get("Type") == "AWS::Lambda::Function":
                    return dict(body["Properties"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # not one of ours (YAML, S3 revision, ...): described by id only
    return None


def failure_message(info: dict[str, Any], spec: ReleaseSpec, current_version: str) -> str:
    """CodeDeploy's own account of why a deployment failed, stopped or rolled back."""
    error = info.get("errorInformation") or {}
    rollback = info.get("rollbackInfo") or {}
    parts = [
        f"CodeDeploy deployment {info.get('deploymentId')} of {spec.label} "
        f"(version {current_version} -> {spec.target_version}) {str(info.get('status', '')).lower()}"
    ]
    if error:
        parts.append(f"{error.get('code', 'UNKNOWN')}: {error.get('message', '').strip()}")
    if rollback.get("rollbackMessage"):
        parts.append(f"rollback: {rollback['rollbackMessage'].strip()}")
    if rollback.get("rollbackDeploymentId"):
        parts.append(f"rollback deployment {rollback['rollbackDeploymentId']}")
    return "; ".join(parts)

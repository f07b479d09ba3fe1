"""IAM policy documents as Pulumi outputs.

Documents are built as plain dicts and serialised with `Output.json_dumps`, so they may hold
outputs (ARNs of resources not created yet) and read exactly like the JSON IAM receives.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

import pulumi


def statement(
    actions: Sequence[str],
    resources: Sequence[Any],
    *,
    sid: Optional[str] = None,
    effect: str = "Allow",
    conditions: Optional[Mapping[str, Any]] = None,
    principals: Optional[Mapping[str, Any]] = None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {"Effect": effect, "Action": list(actions), "Resource": list(resources)}
    if sid:
        doc["Sid"] = sid
    if principals:
        doc["Principal"] = dict(principals)
    if conditions:
        doc["Condition"] = dict(conditions)
    return doc


def policy_document(*statements: Mapping[str, Any]) -> pulumi.Output[str]:
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def assume_role_policy(service: str, conditions: Optional[Mapping[str, Any]] = None) -> pulumi.Output[str]:
    """Trust policy that lets one AWS service assume the role."""
    trust: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if conditions:
        trust["Condition"] = dict(conditions)
    return policy_document(trust)


def ecr_pull_statements(repository_arn: Any, sid: str) -> list[dict[str, Any]]:
    """Pull one repository's images: the layer reads scoped to it, plus the registry login."""
    return [
        statement(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"], [repository_arn], sid=sid),
        # GetAuthorizationToken has no resource-level permissions: AWS only accepts "*".
        statement(["ecr:GetAuthorizationToken"], ["*"], sid="EcrLogin"),
    ]

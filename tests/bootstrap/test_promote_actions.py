"""The promote role allows every AWS call tools/promote makes (approval poll, lineage, soak, rollback,
verify): each boto3 call of tools/promote/*.py is found in the source, mapped to its IAM action
through botocore's service models (as test_deploy_actions.py maps the release providers), checked
against AWS's IAM reference, and evaluated on the resource the tool reads in dev's account. A new
call without a row here, or a grant dropped from bootstrap/policies.py, fails. drift.yml's
`--restore` runs on the preview roles: they allow the calls it makes on their own stack."""

from __future__ import annotations

import ast
from functools import cache

import botocore.session
import pytest
from bootstrap_records import ROOT
from botocore import xform_name
from iam_eval import allowed
from layout import REGISTRY_STACK, program_prefix
from policy_sentry.querying.actions import get_action_data

SOURCES = sorted((ROOT / "tools" / "promote").glob("*.py"))
SERVICES = ("sagemaker", "s3", "cloudwatch", "sts")
# Operations whose IAM action has another name (Service Authorization Reference), or none.
IAM_NAMES = {"s3:ListObjectsV2": "s3:ListBucket", "s3:HeadObject": "s3:GetObject", "sts:GetCallerIdentity": None}
# What the tool reads, in dev's account (the registry stack): resource and request context.
DEV = program_prefix(REGISTRY_STACK)
TAGGED = {"aws:ResourceTag/Environment": REGISTRY_STACK}


def _reads(account: str) -> dict[str, list[tuple[str, dict[str, object]]]]:
    sm = f"arn:aws:sagemaker:us-east-1:{account}"
    located = {"s3:ResourceAccount": account}
    return {
        "sagemaker:DescribeEndpoint": [(f"{sm}:endpoint/{DEV}churn", TAGGED)],
        "sagemaker:DescribeEndpointConfig": [(f"{sm}:endpoint-config/endpoint-config-1a2b", TAGGED)],
        "sagemaker:DescribeModel": [(f"{sm}:model/endpoint-model-1a2b", TAGGED)],
        "sagemaker:DescribeModelPackage": [(f"{sm}:model-package/{DEV}churn/7", TAGGED)],
        "sagemaker:ListModelPackages": [("*", {})],
        "sagemaker:ListPipelineExecutionSteps": [(f"{sm}:pipeline/{DEV}training/execution/x1y2", {})],
        "sagemaker:DescribeTrainingJob": [(f"{sm}:training-job/pipelines-x1y2-train-3c4d", {})],
        "cloudwatch:GetMetricData": [("*", {})],
        "cloudwatch:DescribeAlarms": [(f"arn:aws:cloudwatch:us-east-1:{account}:alarm:{DEV}endpoint-drift", {})],
        "s3:ListBucket": [(f"arn:aws:s3:::{DEV}endpoint-data-9f8e", {**located, "s3:prefix": f"monitoring/{DEV}churn/reports"})],
        "s3:GetObject": [
            (f"arn:aws:s3:::{DEV}endpoint-data-9f8e/monitoring/{DEV}churn/reports/2026/12/01/constraint_violations.json", located),
            (f"arn:aws:s3:::{DEV}training-artifacts-9f8e/pipelines/{DEV}training/x1y2/evaluation/evaluation.json", located),
            (f"arn:aws:s3:::{DEV}training-artifacts-9f8e/pipelines/{DEV}training/registered/x1y2/model.tar.gz", located),
            (f"arn:aws:s3:::{DEV}training-artifacts-9f8e/pipelines/{DEV}training/training/job-1/output/model.tar.gz", located),
        ],
    }


@cache
def _operations(service: str) -> dict[str, str]:
    model = botocore.session.get_session().get_service_model(service)
    return {xform_name(name): name for name in model.operation_names}


def _service_of(receiver: ast.expr) -> str | None:
    """`sagemaker.x(...)`, `s3.x(...)` (the modules name clients by service) or `session.client("sts").x(...)`."""
    if isinstance(receiver, ast.Name) and receiver.id in SERVICES:
        return receiver.id
    if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Attribute) and receiver.func.attr == "client":
        first = receiver.args[0] if receiver.args else None
        return first.value if isinstance(first, ast.Constant) and first.value in SERVICES else None
    return None


def _calls(tree: ast.Module):
    """(top-level function or '', call node) of every call in the module."""
    for top in tree.body:
        name = top.name if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)) else ""
        for node in ast.walk(top):
            if isinstance(node, ast.Call):
                yield name, node


@cache
def boto3_calls() -> frozenset[tuple[str, str, str, str]]:
    """(file, function, service, operation) of every client call and paginator in tools/promote."""
    found: set[tuple[str, str, str, str]] = set()
    unknown: list[str] = []
    for path in SOURCES:
        for function, node in _calls(ast.parse(path.read_text(), str(path))):
            if not isinstance(node.func, ast.Attribute):
                continue
            method = node.func.attr
            if method == "get_paginator" and node.args and isinstance(node.args[0], ast.Constant):
                method = node.args[0].value
            elif not any(method in _operations(s) for s in SERVICES):
                continue
            service = _service_of(node.func.value)
            if service is None or method not in _operations(service):
                unknown.append(f"{path.name}:{node.lineno} {ast.unparse(node.func)}")
                continue
            found.add((path.name, function, service, _operations(service)[method]))
    assert unknown == [], f"calls whose service this test cannot tell (name the client after its service): {unknown}"
    return frozenset(found)


def iam_actions(functions: frozenset[tuple[str, str]] | None = None) -> dict[str, set[str]]:
    """IAM action -> the files that need it (only the given (file, function)s, when named)."""
    out: dict[str, set[str]] = {}
    for file, function, service, operation in boto3_calls():
        if functions is not None and (file, function) not in functions:
            continue
        action = IAM_NAMES.get(f"{service}:{operation}", f"{service}:{operation}")
        if action is not None:
            out.setdefault(action, set()).add(file)
    return out


def test_the_calls_are_found_and_every_action_is_in_the_iam_reference():
    actions = iam_actions()
    # The soak, lineage and approval poll the issue names: the reader must see at least these.
    assert {
        "cloudwatch:GetMetricData",
        "cloudwatch:DescribeAlarms",
        "s3:ListBucket",
        "s3:GetObject",
        "sagemaker:DescribeEndpoint",
        "sagemaker:DescribeEndpointConfig",
        "sagemaker:DescribeModel",
        "sagemaker:ListModelPackages",
        "sagemaker:DescribeModelPackage",
        "sagemaker:ListPipelineExecutionSteps",
        "sagemaker:DescribeTrainingJob",
    } <= set(actions)
    for action in actions:
        service, name = action.split(":")
        assert (get_action_data(service, name) or {}).get(service), action


def test_the_promote_role_allows_every_call_tools_promote_makes(layouts):
    promote = layouts.policies("promote")
    reads = _reads(layouts.layout.account(REGISTRY_STACK))
    missing = [a for a in iam_actions() if a not in reads]
    assert missing == [], "a call tools/promote makes has no resource here: add what it reads"
    denied = [
        f"{action} {resource} ({', '.join(sorted(files))})"
        for action, files in sorted(iam_actions().items())
        for resource, context in reads[action]
        if not allowed(promote, action, resource, context, region=layouts.layout.region)
    ]
    assert denied == []


def test_the_promote_role_reads_no_other_objects_or_the_other_stacks_endpoint(layouts):
    promote = layouts.policies("promote")
    account = layouts.layout.account(REGISTRY_STACK)
    located = {"s3:ResourceAccount": account}
    assert not allowed(promote, "s3:GetObject", f"arn:aws:s3:::{DEV}endpoint-data-9f8e/capture/mlops-dev-churn/a.jsonl", located)
    assert not allowed(promote, "s3:GetObject", f"arn:aws:s3:::{DEV}training-data-9f8e/incoming/customers.csv", located)
    assert not allowed(promote, "s3:ListBucket", f"arn:aws:s3:::{DEV}endpoint-data-9f8e", {**located, "s3:prefix": "capture/"})
    prod = layouts.layout.account("prod")
    assert not allowed(
        promote,
        "sagemaker:DescribeEndpoint",
        f"arn:aws:sagemaker:us-east-1:{prod}:endpoint/mlops-prod-churn",
        {"aws:ResourceTag/Environment": "prod"},
    )


# `tools.promote --restore` (drift.yml, on the stack's preview role): rollback.restore and what it calls.
RESTORE = frozenset({("rollback.py", "restore"), ("rollback.py", "fired_alarm"), ("evidence.py", "served_since")})


def test_restore_calls_only_the_functions_named_here():
    from tools.promote import rollback

    assert {"served_since", "fired_alarm"} <= set(rollback.restore.__code__.co_names)
    assert set(iam_actions(RESTORE)) == {
        "sagemaker:DescribeEndpoint",
        "sagemaker:DescribeEndpointConfig",
        "sagemaker:DescribeModel",
        "cloudwatch:DescribeAlarms",
    }


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_preview_roles_allow_what_drifts_restore_reads(layouts, stack):
    preview = layouts.policies(f"preview-{stack}")
    account = layouts.layout.account(stack)
    sm = f"arn:aws:sagemaker:us-east-1:{account}"
    tagged = {"aws:ResourceTag/Environment": stack}
    reads = {
        "sagemaker:DescribeEndpoint": f"{sm}:endpoint/{program_prefix(stack)}churn",
        "sagemaker:DescribeEndpointConfig": f"{sm}:endpoint-config/endpoint-config-1a2b",
        "sagemaker:DescribeModel": f"{sm}:model/endpoint-model-1a2b",
        "cloudwatch:DescribeAlarms": f"arn:aws:cloudwatch:us-east-1:{account}:alarm:{program_prefix(stack)}endpoint-5xx",
    }
    assert [a for a in sorted(iam_actions(RESTORE)) if not allowed(preview, a, reads[a], tagged, region=layouts.layout.region)] == []

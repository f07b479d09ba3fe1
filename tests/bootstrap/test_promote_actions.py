"""The promote role allows every AWS call tools/promote makes (approval poll, lineage, soak, rollback,
verify): each boto3 call of tools/promote/*.py is found in the source, mapped to its IAM action
through botocore's service models (as test_deploy_actions.py maps the release providers), checked
against AWS's IAM reference, and evaluated on the resource the tool reads in dev's account. A new
call without a row here, or a grant dropped from bootstrap/policies.py, fails. drift.yml's
`--restore` runs on the preview roles: they allow the calls it makes on their own stack (the
endpoint's parts and its configurations' tags, the API's alias, versions, CodeDeploy deployments and
alarms), and not on the other stack's; only the listing of configuration names, which AWS
authorizes on no resource, is not per stack."""

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
SERVICES = ("sagemaker", "s3", "cloudwatch", "sts", "lambda", "codedeploy")
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
    """`sagemaker.x(...)`, `s3.x(...)`, `lambda_.x(...)` (the modules name clients by service) or
    `session.client("sts").x(...)`."""
    if isinstance(receiver, ast.Name) and receiver.id.rstrip("_") in SERVICES:
        return receiver.id.rstrip("_")
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


def iam_actions(functions: frozenset[tuple[str, str]] | None = None, excluding: frozenset[str] = frozenset()) -> dict[str, set[str]]:
    """IAM action -> the files that need it (only the given (file, function)s, when named; never
    those of the files `excluding` names)."""
    out: dict[str, set[str]] = {}
    for file, function, service, operation in boto3_calls():
        if (functions is not None and (file, function) not in functions) or file in excluding:
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
    actions = iam_actions(excluding=RESTORE_ONLY)
    missing = [a for a in actions if a not in reads]
    assert missing == [], "a call tools/promote makes has no resource here: add what it reads"
    denied = [
        f"{action} {resource} ({', '.join(sorted(files))})"
        for action, files in sorted(actions.items())
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
RESTORE = frozenset(
    {
        ("rollback.py", "restore"),
        ("rollback.py", "fired_alarm"),
        ("endpoint_rollback.py", "find_rollback"),
        ("endpoint_rollback.py", "release_of"),
        ("endpoint_rollback.py", "_tags"),
        ("evidence.py", "config_packages"),
        ("api_code.py", "find_rollback"),
        ("api_code.py", "version_digest"),
        ("api_code.py", "rolled_back_release"),
        ("api_code.py", "group_alarms"),
    }
)
# Files only the restore runs (the promote role never needs their calls).
RESTORE_ONLY = frozenset({"api_code.py", "endpoint_rollback.py"})
RESTORE_ACTIONS = {
    "sagemaker:DescribeEndpoint",
    "sagemaker:DescribeEndpointConfig",
    "sagemaker:DescribeModel",
    "sagemaker:ListEndpointConfigs",
    "sagemaker:ListTags",
    "cloudwatch:DescribeAlarms",
    "lambda:GetAlias",
    "lambda:GetFunctionConfiguration",
    "codedeploy:ListDeployments",
    "codedeploy:GetDeployment",
    "codedeploy:GetDeploymentGroup",
}


def test_restore_calls_only_the_functions_named_here():
    from tools.promote import api_code, endpoint_rollback, evidence, rollback

    assert {"find_endpoint_rollback", "fired_alarm", "find_rollback"} <= set(rollback.restore.__code__.co_names)
    assert {"release_of", "serving_package"} <= set(endpoint_rollback.find_rollback.__code__.co_names)
    assert {"_tags", "_packages"} <= set(endpoint_rollback.release_of.__code__.co_names)
    assert "config_packages" in endpoint_rollback.serving_package.__code__.co_names
    assert "config_packages" in endpoint_rollback._packages.__code__.co_names and evidence.config_packages
    assert {"version_digest", "rolled_back_release", "group_alarms"} <= set(api_code.find_rollback.__code__.co_names)
    assert set(iam_actions(RESTORE)) == RESTORE_ACTIONS
    # Every call of api_code.py is one of the restore's.
    assert {(f, fn) for f, fn, _, _ in boto3_calls() if f in RESTORE_ONLY} <= RESTORE


def _restore_reads(layouts, stack: str) -> dict[str, tuple[str, dict[str, object]]]:
    """What `--restore <stack>` reads in the stack's account (names as the program gives them)."""
    account = layouts.layout.account(stack)
    own = program_prefix(stack)
    sm = f"arn:aws:sagemaker:us-east-1:{account}"
    tagged = {"aws:ResourceTag/Environment": stack}
    group = f"arn:aws:codedeploy:us-east-1:{account}:deploymentgroup:{own}predict-api/{own}predict-live"
    return {
        "sagemaker:DescribeEndpoint": (f"{sm}:endpoint/{own}churn", tagged),
        "sagemaker:DescribeEndpointConfig": (f"{sm}:endpoint-config/endpoint-config-1a2b", tagged),
        "sagemaker:DescribeModel": (f"{sm}:model/endpoint-model-1a2b", tagged),
        "sagemaker:ListTags": (f"{sm}:endpoint-config/endpoint-config-1a2b", tagged),
        "sagemaker:ListEndpointConfigs": ("*", {}),
        "cloudwatch:DescribeAlarms": (f"arn:aws:cloudwatch:us-east-1:{account}:alarm:{own}predict-api-5xx", {}),
        "lambda:GetAlias": (f"arn:aws:lambda:us-east-1:{account}:function:{own}predict:live", {}),
        "lambda:GetFunctionConfiguration": (f"arn:aws:lambda:us-east-1:{account}:function:{own}predict:7", {}),
        "codedeploy:ListDeployments": (group, {}),
        "codedeploy:GetDeployment": (group, {}),
        "codedeploy:GetDeploymentGroup": (group, {}),
    }


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_preview_roles_allow_what_drifts_restore_reads(layouts, stack):
    preview = layouts.policies(f"preview-{stack}")
    reads = _restore_reads(layouts, stack)
    region = layouts.layout.region
    assert [a for a in sorted(iam_actions(RESTORE)) if not allowed(preview, a, *reads[a], region=region)] == []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_preview_roles_read_no_other_stacks_api(layouts, stack):
    preview = layouts.policies(f"preview-{stack}")
    theirs = _restore_reads(layouts, "prod" if stack == "dev" else "dev")
    api = [a for a in RESTORE_ACTIONS if a.startswith(("lambda:", "codedeploy:", "cloudwatch:"))]
    assert [a for a in sorted(api) if allowed(preview, a, *theirs[a], region=layouts.layout.region)] == []


def test_the_restore_grant_alone_allows_the_reads_on_its_stack_only(layouts):
    """Not borrowed from the read policy, nor kept to the stack by the guards alone: the restore's own
    statements (bootstrap/policies.py) allow exactly its stack's resources."""
    import policies

    own = {"Version": "2012-10-17", "Statement": policies.restore_statements(layouts.layout, "dev")}
    region = layouts.layout.region
    reads, theirs = _restore_reads(layouts, "dev"), _restore_reads(layouts, "prod")
    assert [a for a in sorted(RESTORE_ACTIONS) if not allowed([own], a, *reads[a], region=region)] == []
    scoped = RESTORE_ACTIONS - UNSCOPED
    assert [a for a in sorted(scoped) if allowed([own], a, *theirs[a], region=region)] == []


# Listings AWS authorizes on no resource (Service Authorization Reference: resource `*`): the
# restore lists the region's configuration names and reads further only its stack's tagged ones.
UNSCOPED = {"sagemaker:ListEndpointConfigs"}


def test_only_actions_without_a_resource_type_are_granted_on_every_resource(layouts):
    import policies

    for action in UNSCOPED:
        service, name = action.split(":")
        assert {row["resource_arn_format"] for row in get_action_data(service, name)[service]} == {"*"}, action
    granted = [s for s in policies.restore_statements(layouts.layout, "dev") if "*" in s["Resource"]]
    assert {a for s in granted for a in s["Action"]} == UNSCOPED
    # Only in the stack's region.
    assert all(s["Condition"]["StringEquals"]["aws:RequestedRegion"] == layouts.layout.region for s in granted)

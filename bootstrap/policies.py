"""The IAM documents bootstrap attaches: each stack's permissions boundary, the CI roles' policies and
trust, the approver's. Plain dicts of plain text (every ARN is known from the layout), so tests and
the docs read exactly what is deployed.

One rule shapes all of it: an identity of one stack never reaches the other stack's resources, by
tag (`aws:ResourceTag`/`aws:RequestTag` Environment) where the service supports it AND by name
(`mlops-<other>-*` anywhere in the ARN), because S3 honours tag conditions only with ABAC.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from access import (
    APPROVER_ROLE,
    DEPLOY,
    DNS,
    GITHUB_ROLE_PREFIX,
    LINEAGE_READ,
    MODEL_BYTES,
    REFRESH,
    REGISTRY_READ,
    RESTORE_READ,
    SECRETS_DECRYPT,
    SECRETS_ENCRYPT,
    SOAK_READ,
    STATE_READ,
    STATE_WRITE,
    Identity,
    evaluation_report_pattern,
    model_bytes_patterns,
    monitoring_reports_pattern,
    monitoring_reports_prefix,
    registry_key_alias,
)
from deploy_actions import (
    ATTACHABLE_AWS_MANAGED_POLICIES,
    PASSED_TO_SERVICES,
    PROGRAM_INVOKES,
    SERVICE_LINKED_ROLES,
    read_actions,
    write_actions,
)
from layout import PROJECT, REGISTRY_STACK, STACKS, STATE_KEY_ALIAS, Layout, other, program_prefix, secrets_alias

VERSION = "2012-10-17"
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
STS_AUDIENCE = "sts.amazonaws.com"
# Global services: their requests carry us-east-1 as aws:RequestedRegion whatever the stack's region.
GLOBAL_ACTIONS = ("iam:*", "sts:*", "route53:*")
# What a program role may ever do (the boundary): the services its roles call.
PROGRAM_ROLE_SERVICES = (
    "cloudwatch",
    "codedeploy",
    "ecr",
    "ecs",
    "ec2",
    "events",
    "execute-api",
    "kms",
    "lambda",
    "logs",
    "s3",
    "sagemaker",
    "sns",
    "sqs",
    "xray",
)
# What a prod identity may still do to the registry stack's resources: prod serves dev's model
# packages (describe), image (pull), artifacts (read, decrypt) and hands drift to dev's retraining.
READS_OF_THE_REGISTRY = (
    # Retraining on prod's drift starts the registry stack's pipeline (one account) or sends the
    # event to its bus (two accounts).
    "sagemaker:StartPipelineExecution",
    "sagemaker:DescribeModelPackage",
    "sagemaker:DescribeModelPackageGroup",
    "sagemaker:ListModelPackages",
    "sagemaker:ListTags",
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:ListBucket",
    "s3:GetBucketLocation",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchCheckLayerAvailability",
    "ecr:DescribeImages",
    "kms:Decrypt",
    "kms:DescribeKey",
    "events:PutEvents",
)
# Data a read-only identity never needs: object bodies, secret values, log events, queue messages.
DATA_READS = (
    "secretsmanager:GetSecretValue",
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
    "logs:StartQuery",
    "logs:GetLogRecord",
    "sqs:ReceiveMessage",
    "lambda:InvokeFunction",
)
# Changes to a policy or role bootstrap owns (boundaries, CI and approver roles, their policies).
IAM_CHANGES = (
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:TagPolicy",
    "iam:UntagPolicy",
    "iam:DeleteRole",
    "iam:UpdateRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:TagRole",
    "iam:UntagRole",
)
KEY_ADMIN = (
    "kms:ScheduleKeyDeletion",
    "kms:PutKeyPolicy",
    "kms:DisableKey",
    "kms:CreateGrant",
    "kms:UpdateAlias",
    "kms:DeleteAlias",
    "kms:DisableKeyRotation",
)
BUCKET_ADMIN = (
    "s3:DeleteBucket",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketVersioning",
    "s3:PutLifecycleConfiguration",
    "s3:PutEncryptionConfiguration",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketOwnershipControls",
    "s3:PutReplicationConfiguration",
    "s3:DeleteObjectVersion",
)


def statement(
    actions: Sequence[str],
    resources: Sequence[str],
    sid: str,
    *,
    effect: str = "Allow",
    conditions: Mapping[str, Any] | None = None,
    not_action: bool = False,
    not_resource: bool = False,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "Sid": sid,
        "Effect": effect,
        ("NotAction" if not_action else "Action"): sorted(set(actions)) if not_action else list(actions),
        ("NotResource" if not_resource else "Resource"): list(resources),
    }
    if conditions:
        doc["Condition"] = {op: dict(keys) for op, keys in conditions.items()}
    return doc


def document(statements: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": VERSION, "Statement": list(statements)}


def _region(layout: Layout) -> dict[str, Any]:
    return {"StringEquals": {"aws:RequestedRegion": layout.region}}


def _named(layout: Layout, stack: str) -> list[str]:
    """Every ARN that carries the stack's name prefix (roles, policies, buckets, functions …)."""
    return [f"arn:{layout.partition}:*:*:*:*{program_prefix(stack)}*"]


def state_objects(layout: Layout, stack: str) -> list[str]:
    return [
        f"{layout.state_bucket_arn}/{key}"
        for key in (
            f".pulumi/stacks/{PROJECT}/{stack}.json*",
            f".pulumi/history/{PROJECT}/{stack}/*",
            f".pulumi/backups/{PROJECT}/{stack}/*",
            f".pulumi/locks/organization/{PROJECT}/{stack}/*",
        )
    ]


def _aliases(*aliases: str) -> dict[str, Any]:
    return {"ForAnyValue:StringEquals": {"kms:ResourceAliases": list(aliases)}}


# ---- guards every identity of a stack carries (CI roles and the boundary alike) ----------------------


def stack_guards(layout: Layout, stack: str, *, prefix: str) -> list[dict[str, Any]]:
    """Denies: the other stack's resources (tags, names, request tags), other regions, approval,
    registering anything but pending, the state backend's settings and keys."""
    theirs = other(stack)
    tagged = {"StringEquals": {"aws:ResourceTag/Environment": theirs}}
    reads_only = stack != REGISTRY_STACK  # prod serves what the registry stack holds
    out = [
        statement(
            READS_OF_THE_REGISTRY if reads_only else ["*"],
            ["*"],
            f"{prefix}NotTheOtherStacksTaggedResources",
            effect="Deny",
            conditions=tagged,
            not_action=reads_only,
        ),
        statement(
            READS_OF_THE_REGISTRY if reads_only else ["*"],
            _named(layout, theirs),
            f"{prefix}NotTheOtherStacksNamedResources",
            effect="Deny",
            not_action=reads_only,
        ),
        statement(
            ["*"],
            ["*"],
            f"{prefix}NeverCreateForTheOtherStack",
            effect="Deny",
            conditions={"StringEquals": {"aws:RequestTag/Environment": theirs}},
        ),
        statement(
            GLOBAL_ACTIONS,
            ["*"],
            f"{prefix}OnlyTheStacksRegion",
            effect="Deny",
            not_action=True,
            conditions={"StringNotEquals": {"aws:RequestedRegion": layout.region}},
        ),
        # Approval belongs to a person (the approver role); sagemaker:ModelApprovalStatus is the
        # request's status (Service Authorization Reference, UpdateModelPackage/CreateModelPackage).
        statement(
            ["sagemaker:UpdateModelPackage"],
            ["*"],
            f"{prefix}NeverChangeApproval",
            effect="Deny",
            conditions={"Null": {"sagemaker:ModelApprovalStatus": "false"}},
        ),
        statement(
            ["sagemaker:CreateModelPackage"],
            ["*"],
            f"{prefix}RegisterOnlyPending",
            effect="Deny",
            conditions={
                "Null": {"sagemaker:ModelApprovalStatus": "false"},
                "StringNotEquals": {"sagemaker:ModelApprovalStatus": "PendingManualApproval"},
            },
        ),
        statement(
            BUCKET_ADMIN, [layout.state_bucket_arn, f"{layout.state_bucket_arn}/*"], f"{prefix}NeverTheStateBucketsSettings", effect="Deny"
        ),
        statement(
            KEY_ADMIN,
            ["*"],
            f"{prefix}NeverTheStateOrSecretsKeys",
            effect="Deny",
            conditions={"ForAnyValue:StringLike": {"kms:ResourceAliases": [f"alias/{PROJECT}-*"]}},
        ),
    ]
    return out


# ---- the permissions boundary of each stack -----------------------------------------------------------


def boundary_document(layout: Layout, stack: str) -> dict[str, Any]:
    """Every role the stack's program creates carries it: whatever policy such a role is given
    (AdministratorAccess included), it does no more than this."""
    own = program_prefix(stack)
    account = layout.account(stack)
    return document(
        [
            statement([f"{s}:*" for s in PROGRAM_ROLE_SERVICES], ["*"], "ProgramServicesInTheStacksRegion", conditions=_region(layout)),
            statement(["iam:GetRole"], [layout.role_arn(account, f"{own}*")], "ReadItsStacksRoles"),
            statement(
                ["iam:PassRole"],
                [layout.role_arn(account, f"{own}*")],
                "PassOnlyItsStacksRolesToTheProgramsServices",
                conditions={"StringEquals": {"iam:PassedToService": list(PASSED_TO_SERVICES)}},
            ),
            statement(["s3:*", "kms:*"], [layout.state_bucket_arn, f"{layout.state_bucket_arn}/*"], "NeverTheStateBackend", effect="Deny"),
            statement(
                ["kms:*"],
                ["*"],
                "NeverTheStateOrSecretsKeys",
                effect="Deny",
                conditions={"ForAnyValue:StringLike": {"kms:ResourceAliases": [f"alias/{PROJECT}-*"]}},
            ),
            *stack_guards(layout, stack, prefix="Boundary"),
        ]
    )


# ---- CI identities ------------------------------------------------------------------------------------


def managed_documents(layout: Layout, stack: str) -> dict[str, dict[str, Any]]:
    """Customer managed policies of one stack (an inline policy holds at most 10,240 characters):
    `read` (what a refresh reads; previews and deploys) and `write-N` (the deploy role's changes)."""
    out = {
        # Every CI role of the stack carries it (an inline policy has no room for it as well).
        "guards": document(
            [
                *stack_guards(layout, stack, prefix=""),
                statement(DATA_READS, ["*"], "NoDataReads", effect="Deny"),
                statement(
                    IAM_CHANGES,
                    [layout.iam("*", f"policy/{PROJECT}-*"), layout.iam("*", f"role/{PROJECT}-*")],
                    "NeverBootstrapsRolesAndPolicies",
                    effect="Deny",
                ),
                statement(["iam:DeleteRolePermissionsBoundary"], ["*"], "NeverRemoveABoundary", effect="Deny"),
                statement(["sts:AssumeRole"], [layout.iam("*", f"role/{APPROVER_ROLE}")], "NeverThePersonsRole", effect="Deny"),
            ]
        ),
        "read": document([statement(read_actions(), ["*"], "ReadTheDeclaredTypes", conditions=_region(layout))]),
    }
    writes = [a for a in write_actions() if not a.startswith(("s3:", "kms:"))]
    # S3 and KMS changes stop short of the state backend (its own grants below).
    buckets = [a for a in write_actions() if a.startswith("s3:")]
    keys = [a for a in write_actions() if a.startswith("kms:")]
    chunks = [writes[: len(writes) // 2], writes[len(writes) // 2 :]]
    for number, chunk in enumerate(chunks, 1):
        out[f"write-{number}"] = document([statement(chunk, ["*"], "ChangeTheDeclaredTypes", conditions=_region(layout))])
    out[f"write-{len(chunks) + 1}"] = document(
        [
            statement(
                buckets,
                [layout.state_bucket_arn, f"{layout.state_bucket_arn}/*"],
                "BucketsButNotTheStateBackend",
                conditions=_region(layout),
                not_resource=True,
            ),
            statement(keys, ["*"], "ProgramKeys", conditions=_region(layout)),
        ]
    )
    return out


def managed_policy_name(stack: str, part: str) -> str:
    return f"{PROJECT}-{stack}-{part}"


def identity_statements(layout: Layout, identity: Identity) -> list[dict[str, Any]]:
    """The inline policy of one CI role (the stack's managed `guards`, `read` and `write-N` policies
    are attached separately: managed_documents)."""
    grants = identity.grants
    readable = [s for c, s in grants if c == STATE_READ]
    writable = [s for c, s in grants if c == STATE_WRITE]
    decrypt = [s for c, s in grants if c == SECRETS_DECRYPT]
    encrypt = [s for c, s in grants if c == SECRETS_ENCRYPT]
    out: list[dict[str, Any]] = []
    if layout.state_backend and readable:
        out.append(statement(["s3:ListBucket", "s3:GetBucketLocation"], [layout.state_bucket_arn], "ListStateBucket"))
        objects = [f"{layout.state_bucket_arn}/.pulumi/meta.yaml"] + [o for s in readable for o in state_objects(layout, s)]
        out.append(statement(["s3:GetObject"], objects, "ReadState"))
    if layout.state_backend and writable:
        out.append(
            statement(
                ["s3:PutObject", "s3:DeleteObject"], [o for s in writable for o in state_objects(layout, s)], "WriteStateHistoryAndLock"
            )
        )
    if layout.state_backend and (readable or writable):
        actions = ["kms:Decrypt", "kms:DescribeKey"] + (["kms:Encrypt", "kms:GenerateDataKey"] if writable else [])
        out.append(statement(actions, [layout.state_keys], "StateObjectEncryption", conditions=_aliases(STATE_KEY_ALIAS)))
    if layout.state_backend and decrypt:
        out.append(
            statement(
                ["kms:Decrypt", "kms:DescribeKey"],
                [layout.state_keys],
                "DecryptStackSecrets",
                conditions=_aliases(*map(secrets_alias, decrypt)),
            )
        )
    if layout.state_backend and encrypt:
        out.append(
            statement(
                ["kms:Encrypt", "kms:GenerateDataKey"],
                [layout.state_keys],
                "EncryptStackSecrets",
                conditions=_aliases(*map(secrets_alias, encrypt)),
            )
        )
    # No object body outside its state: ReadAccess-style grants never reach training data,
    # artifacts or another stack's state.
    model_bytes = any(c == MODEL_BYTES for c, _ in grants)
    if model_bytes:
        out.append(statement(["s3:GetObject", "s3:GetObjectVersion"], list(model_bytes_patterns(layout)), "ReadRegisteredModelBytes"))
        out.append(
            statement(
                ["kms:Decrypt"],
                [layout.arn("kms", layout.account(REGISTRY_STACK), "key/*")],
                "DecryptThemThroughS3",
                conditions={**_aliases(registry_key_alias()), "StringEquals": {"kms:ViaService": f"s3.{layout.region}.amazonaws.com"}},
            )
        )
    soaked = [s for c, s in grants if c == SOAK_READ]
    lineage = any(c == LINEAGE_READ for c, _ in grants)
    for stack in soaked:
        account = layout.account(stack)
        # Only what tools/promote/evidence.py reads of the stack: tagged endpoint parts, its alarms,
        # metrics (GetMetricData has no resource type) and Model Monitor's reports.
        out.append(serving_endpoint_statement(layout, stack, f"Describe{stack.title()}sServingEndpoint"))
        out.append(
            statement(
                ["cloudwatch:DescribeAlarms"],
                [layout.arn("cloudwatch", account, f"alarm:{program_prefix(stack)}*")],
                f"Read{stack.title()}sAlarms",
            )
        )
        out.append(statement(["cloudwatch:GetMetricData"], ["*"], f"Read{stack.title()}sMetrics", conditions=_region(layout)))
        in_account = {"StringEquals": {"s3:ResourceAccount": account}}
        out.append(
            statement(
                ["s3:ListBucket"],
                [f"arn:{layout.partition}:s3:::*"],
                f"List{stack.title()}sMonitoringReports",
                conditions={**in_account, "StringLike": {"s3:prefix": [f"{monitoring_reports_prefix(stack)}*"]}},
            )
        )
        out.append(
            statement(
                ["s3:GetObject"],
                [monitoring_reports_pattern(layout, stack)],
                f"Read{stack.title()}sMonitoringReports",
                conditions=in_account,
            )
        )
    for stack in (s for c, s in grants if c == RESTORE_READ):
        out += restore_statements(layout, stack)
    if lineage:
        registry = layout.account(REGISTRY_STACK)
        out.append(
            statement(
                ["sagemaker:ListPipelineExecutionSteps"],
                [layout.arn("sagemaker", registry, f"pipeline/{program_prefix(REGISTRY_STACK)}*/execution/*")],
                "ListTheRegistryPipelinesSteps",
            )
        )
        # Pipelines name their training jobs pipelines-<execution>-…: no stack prefix to narrow to.
        out.append(
            statement(["sagemaker:DescribeTrainingJob"], [layout.arn("sagemaker", registry, "training-job/*")], "DescribeItsTrainingJobs")
        )
        out.append(
            statement(
                ["s3:GetObject"],
                [evaluation_report_pattern(layout)],
                "ReadEvaluationReports",
                conditions={"StringEquals": {"s3:ResourceAccount": registry}},
            )
        )
    own_objects = [f"{layout.state_bucket_arn}/.pulumi/meta.yaml"] + [o for s in readable for o in state_objects(layout, s)]
    own_objects += list(model_bytes_patterns(layout)) if model_bytes else []
    own_objects += [monitoring_reports_pattern(layout, s) for s in soaked]
    own_objects += [evaluation_report_pattern(layout)] if lineage else []
    out.append(
        statement(["s3:GetObject", "s3:GetObjectVersion"], own_objects, "NoObjectReadsOutsideItsState", effect="Deny", not_resource=True)
    )
    if any(c == REGISTRY_READ for c, _ in grants):
        registry = layout.account(REGISTRY_STACK)
        group = f"{program_prefix(REGISTRY_STACK)}*"
        out.append(
            statement(
                ["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup", "sagemaker:ListTags"],
                [
                    layout.arn("sagemaker", registry, f"model-package/{group}/*"),
                    layout.arn("sagemaker", registry, f"model-package-group/{group}"),
                ],
                "ReadTheModelRegistry",
            )
        )
        out.append(statement(["sagemaker:ListModelPackages", "sagemaker:ListModelPackageGroups"], ["*"], "ListTheModelRegistry"))
    if any(c == REFRESH for c, _ in grants):
        account = layout.account(identity.stack)
        own = program_prefix(identity.stack)
        out.append(
            statement(
                [
                    "iam:GetRole",
                    "iam:GetRolePolicy",
                    "iam:ListRolePolicies",
                    "iam:ListAttachedRolePolicies",
                    "iam:GetPolicy",
                    "iam:GetPolicyVersion",
                ],
                [
                    layout.role_arn(account, f"{own}*"),
                    layout.iam(account, f"policy/{own}*"),
                    layout.boundary_arn(identity.stack),
                    f"arn:{layout.partition}:iam::aws:policy/*",
                ],
                "ReadItsStacksRolesAndPolicies",
            )
        )
        out.append(statement(list(PROGRAM_INVOKES), ["*"], "ProgramLookups"))
        out.append(
            statement(
                ["ssm:GetParameter", "ssm:GetParameters"], [layout.arn("ssm", "", "parameter/aws/service/*")], "ReadAwsPublicParameters"
            )
        )
    for capability, stack in grants:
        if capability == DNS and stack in layout.hosted_zones:
            out.append(
                statement(
                    ["route53:ChangeResourceRecordSets", "route53:GetHostedZone", "route53:ListResourceRecordSets"],
                    [f"arn:{layout.partition}:route53:::hostedzone/{layout.hosted_zones[stack]}"],
                    "RecordsOfItsHostedZone",
                )
            )
            out.append(statement(["route53:GetChange"], [f"arn:{layout.partition}:route53:::change/*"], "WaitForItsRecordChanges"))
        if capability == DEPLOY:
            out += deploy_iam_statements(layout, stack)
    return out


def serving_endpoint_statement(layout: Layout, stack: str, sid: str) -> dict[str, Any]:
    """Which package the stack's endpoint serves (tools/promote/evidence.served_since): its tagged
    endpoint, configurations and models."""
    return statement(
        ["sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig", "sagemaker:DescribeModel"],
        [layout.arn("sagemaker", layout.account(stack), kind) for kind in ("endpoint/*", "endpoint-config/*", "model/*")],
        sid,
        conditions={"StringEquals": {"aws:ResourceTag/Environment": stack}},
    )


def restore_statements(layout: Layout, stack: str) -> list[dict[str, Any]]:
    """What `tools.promote --restore <stack>` reads (tools/promote/rollback.py, endpoint_rollback.py,
    api_code.py), on the stack's own resources only: the endpoint's parts and the tags of its
    configurations (where a rolled-back release is recorded; tagged), the API function's alias and
    versions, its CodeDeploy deployment group (deployments are authorized on their group) and alarms
    (named). ListEndpointConfigs has no resource type: it lists the region's configuration names,
    and only the stack's tagged ones are read further."""
    account, own = layout.account(stack), program_prefix(stack)
    return [
        serving_endpoint_statement(layout, stack, f"Describe{stack.title()}sServingEndpointToRestore"),
        statement(
            ["sagemaker:ListTags"],
            [layout.arn("sagemaker", account, "endpoint-config/*")],
            f"Read{stack.title()}sReleaseRecords",
            conditions={"StringEquals": {"aws:ResourceTag/Environment": stack}},
        ),
        statement(["sagemaker:ListEndpointConfigs"], ["*"], f"List{stack.title()}sEndpointConfigNames", conditions=_region(layout)),
        statement(
            ["lambda:GetAlias", "lambda:GetFunctionConfiguration"],
            [layout.arn("lambda", account, f"function:{own}predict"), layout.arn("lambda", account, f"function:{own}predict:*")],
            f"Read{stack.title()}sApiAliasAndVersions",
        ),
        statement(
            ["codedeploy:ListDeployments", "codedeploy:GetDeployment", "codedeploy:GetDeploymentGroup"],
            [layout.arn("codedeploy", account, f"deploymentgroup:{own}*/{own}*")],
            f"Read{stack.title()}sApiReleases",
        ),
        statement(
            ["cloudwatch:DescribeAlarms"], [layout.arn("cloudwatch", account, f"alarm:{own}*")], f"Read{stack.title()}sReleaseAlarms"
        ),
    ]


def deploy_iam_statements(layout: Layout, stack: str) -> list[dict[str, Any]]:
    account = layout.account(stack)
    own = program_prefix(stack)
    roles = [layout.role_arn(account, f"{own}*")]
    own_boundary = {"StringEquals": {"iam:PermissionsBoundary": layout.boundary_arn(stack)}}
    attachable = [layout.iam(account, f"policy/{own}*")] + [
        f"arn:{layout.partition}:iam::aws:policy/{p}" for p in ATTACHABLE_AWS_MANAGED_POLICIES
    ]
    return [
        statement(
            ["iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary"],
            roles,
            "ItsStacksRolesOnlyUnderItsBoundary",
            conditions=own_boundary,
        ),
        statement(
            ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
            roles,
            "AttachOnlyItsStacksPolicies",
            conditions={**own_boundary, "ArnLike": {"iam:PolicyARN": attachable}},
        ),
        statement(
            [
                "iam:DeleteRole",
                "iam:UpdateRole",
                "iam:UpdateRoleDescription",
                "iam:UpdateAssumeRolePolicy",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:ListRoleTags",
                "iam:ListInstanceProfilesForRole",
            ],
            roles,
            "ItsStacksRoles",
        ),
        statement(
            ["iam:PassRole"],
            roles,
            "PassItsStacksRolesToTheProgramsServices",
            conditions={"StringEquals": {"iam:PassedToService": list(PASSED_TO_SERVICES)}},
        ),
        statement(
            [
                "iam:CreatePolicy",
                "iam:DeletePolicy",
                "iam:CreatePolicyVersion",
                "iam:DeletePolicyVersion",
                "iam:ListPolicyVersions",
                "iam:TagPolicy",
                "iam:UntagPolicy",
            ],
            [layout.iam(account, f"policy/{own}*")],
            "ItsStacksPolicies",
        ),
        statement(
            ["iam:CreateServiceLinkedRole"],
            [layout.iam(account, "role/aws-service-role/*")],
            "ServiceLinkedRolesOfTheProgramsServices",
            conditions={"StringEquals": {"iam:AWSServiceName": sorted(SERVICE_LINKED_ROLES)}},
        ),
        statement(
            ["iam:PutRolePermissionsBoundary", "iam:CreateRole"],
            ["*"],
            "NoOtherBoundary",
            effect="Deny",
            conditions={"StringNotEquals": {"iam:PermissionsBoundary": layout.boundary_arn(stack)}},
        ),
    ]


def github_trust(provider_arn: Any, repository: str, identity: Identity) -> dict[str, Any]:
    subs = sorted(s.sub(repository) for s in identity.subjects)
    # A pull request's subject carries its number (refs/pull/<n>/merge): the one wildcard, in that
    # place only, in a statement of its own; every other subject is compared exactly.
    statements = []
    for operator, chosen in (("StringEquals", [s for s in subs if "*" not in s]), ("StringLike", [s for s in subs if "*" in s])):
        if chosen:
            conditions = {"StringEquals": {f"{GITHUB_OIDC_HOST}:aud": STS_AUDIENCE}}
            conditions.setdefault(operator, {})[f"{GITHUB_OIDC_HOST}:sub"] = chosen
            sid = "TheseRunsOfThisRepository" if operator == "StringEquals" else "PullRequestRunsOfThisRepository"
            statements += _trust(sid, {"Federated": provider_arn}, "sts:AssumeRoleWithWebIdentity", conditions)["Statement"]
    return document(statements)


def _trust(sid: str, principal: Mapping[str, Any], action: str, conditions: Mapping[str, Any]) -> dict[str, Any]:
    return document([{"Sid": sid, "Effect": "Allow", "Principal": dict(principal), "Action": action, "Condition": dict(conditions)}])


# ---- the person who approves --------------------------------------------------------------------------


def approver_trust(layout: Layout) -> dict[str, Any]:
    registry = layout.account(REGISTRY_STACK)
    principals = list(layout.approver_principals) or [layout.iam(registry, "root")]
    conditions: dict[str, Any] = {
        # Never a workflow or a program role, whatever a principal policy says.
        "ArnNotLike": {
            "aws:PrincipalArn": [
                layout.iam("*", f"role/{GITHUB_ROLE_PREFIX}*"),
                *(layout.iam("*", f"role/{program_prefix(s)}*") for s in STACKS),
            ]
        },
    }
    if not layout.approver_principals:
        # IAM Identity Center's roles of the registry account (a person signed in through SSO).
        conditions["ArnLike"] = {"aws:PrincipalArn": [layout.iam(registry, "role/aws-reserved/sso.amazonaws.com/*")]}
    return _trust("APersonOfTheRegistryAccount", {"AWS": principals}, "sts:AssumeRole", conditions)


def approver_statements(layout: Layout) -> list[dict[str, Any]]:
    registry = layout.account(REGISTRY_STACK)
    group = f"{program_prefix(REGISTRY_STACK)}*"
    packages = [layout.arn("sagemaker", registry, f"model-package/{group}/*")]
    return [
        statement(
            ["sagemaker:UpdateModelPackage", "sagemaker:DescribeModelPackage"],
            packages,
            "ApproveOrRejectTheRegistrysPackages",
            conditions=_region(layout),
        ),
        statement(
            ["sagemaker:DescribeModelPackageGroup"],
            [layout.arn("sagemaker", registry, f"model-package-group/{group}")],
            "ReadTheGroups",
            conditions=_region(layout),
        ),
        statement(
            ["sagemaker:ListModelPackages", "sagemaker:ListModelPackageGroups"], ["*"], "ListTheRegistry", conditions=_region(layout)
        ),
    ]

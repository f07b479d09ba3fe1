"""Who may act, and what each identity can and cannot do: the one table the bootstrap roles, the tests'
IAM evaluator and docs/gitops.md are built from.

    venv/bin/python bootstrap/access.py     # prints the table docs/gitops.md carries

Each row of the table is a capability with its probes (action, resource, request context): the
tests evaluate every probe of every "can" (all allowed) and every "cannot" (all denied) against the
policies `GitHubCiRoles` attaches. The policies themselves are written in policies.py, not derived
from this table, so the two can disagree and the tests say where.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from layout import GITHUB_ROLE_PREFIX, PROJECT, REGISTRY_STACK, STACKS, Layout, boundary_name, other, program_prefix, secrets_alias

# The deploy roles' sessions outlast deploy.yml's apply jobs (layout.py puts the repository root on sys.path).
from components.shared.apply_job import APPLY_SESSION_HOURS

APPROVER_ROLE = f"{PROJECT}-approver"


@dataclass(frozen=True)
class Subject:
    """One run a role trusts: the custom OIDC subject's context, workflow file and event. A pull
    request's ref carries its number (`refs/pull/<n>/merge`): the only wildcard any trust has."""

    context: str
    workflow: str
    event: str
    ref: str = "refs/heads/main"

    def sub(self, repository: str) -> str:
        return f"repo:{repository}:{self.context}:job_workflow_ref:{repository}/.github/workflows/{self.workflow}@{self.ref}:event_name:{self.event}"


PULL_REQUEST_REF = "refs/pull/*/merge"


@dataclass(frozen=True)
class Identity:
    key: str
    """Role name `sagemaker-mlops-github-<key>` (CI) or the approver's."""
    variable: str
    """The repository variable holding the role's ARN ('' for the person's role)."""
    stack: str
    """The stack whose account holds the role."""
    subjects: tuple[Subject, ...]
    """Empty: a person's role (no OIDC)."""
    used_by: str
    grants: tuple[tuple[str, str], ...]
    """(capability, stack or '') pairs: the table's "can" rows."""
    session_hours: int = 1
    """The role's maximum session (MaxSessionDuration): at least as long as the jobs that assume it."""

    def role_name(self) -> str:
        return APPROVER_ROLE if not self.subjects else f"{GITHUB_ROLE_PREFIX}{self.key}"

    @property
    def ci(self) -> bool:
        return bool(self.subjects)


DEFAULT_ENVIRONMENTS = {
    "dev": "dev",
    "devPreview": "dev-preview",
    "production": "production",
    "productionPreview": "production-preview",
    "productionPlan": "production-plan",
    "promotion": "promotion",
    "driftDev": "drift-dev",
    "driftProd": "drift-prod",
}

# Capabilities ---------------------------------------------------------------------------------------
STATE_READ = "state-read"
STATE_WRITE = "state-write"
SECRETS_DECRYPT = "secrets-decrypt"
SECRETS_ENCRYPT = "secrets-encrypt"
REFRESH = "refresh"
DEPLOY = "deploy"
REGISTRY_READ = "registry-read"
APPROVE = "approve"
MODEL_BYTES = "model-bytes"
DNS = "dns"
SERVICE_LINKED = "service-linked-roles"
SOAK_READ = "soak-read"
LINEAGE_READ = "lineage-read"
RESTORE_READ = "restore-read"


def _deploy_runs(environment: str) -> tuple[Subject, ...]:
    """A deploy role's runs: main's deploy.yml on a push and recover.yml dispatched on main."""
    return (
        Subject(f"environment:{environment}", "deploy.yml", "push"),
        Subject(f"environment:{environment}", "recover.yml", "workflow_dispatch"),
    )


def _drift_runs(environment: str) -> tuple[Subject, ...]:
    """drift.yml's daily `pulumi preview --refresh --expect-no-changes` of one stack, and its dispatch."""
    return tuple(Subject(f"environment:{environment}", "drift.yml", event) for event in ("schedule", "workflow_dispatch"))


def _promote_runs(environment: str) -> tuple[Subject, ...]:
    """The closed loop's runs on main, all in the promotion environment: promote.yml by hand, the
    approval poll (schedule; repository_dispatch runs on the default branch), the soak and the rollback."""
    runs = {
        "promote.yml": ("workflow_dispatch",),
        "approval-to-dev.yml": ("schedule", "workflow_dispatch", "repository_dispatch"),
        "soak-to-prod.yml": ("schedule", "workflow_dispatch"),
        "rollback.yml": ("workflow_dispatch",),
    }
    return tuple(Subject(f"environment:{environment}", workflow, event) for workflow, events in runs.items() for event in events)


def identities(environments: Mapping[str, str] = DEFAULT_ENVIRONMENTS) -> tuple[Identity, ...]:
    env = environments
    return (
        Identity(
            "preview-dev",
            "AWS_PREVIEW_DEV_ROLE_ARN",
            "dev",
            (
                Subject(f"environment:{env['devPreview']}", "pull-request.yml", "pull_request", PULL_REQUEST_REF),
                *_drift_runs(env["driftDev"]),
            ),
            f"pull-request.yml `pulumi preview --refresh` of dev (environment `{env['devPreview']}`), pull requests from this repository's branches; "
            f"drift.yml's daily preview of dev on main (`{env['driftDev']}`)",
            ((REFRESH, "dev"), (RESTORE_READ, "dev"), (STATE_READ, "dev"), (SECRETS_DECRYPT, "dev")),
        ),
        Identity(
            "preview-prod",
            "AWS_PREVIEW_PROD_ROLE_ARN",
            "prod",
            (
                Subject(f"environment:{env['productionPreview']}", "pull-request.yml", "pull_request", PULL_REQUEST_REF),
                # deploy.yml's prod plan on main, shown before the production approval.
                Subject(f"environment:{env['productionPlan']}", "deploy.yml", "push"),
                *_drift_runs(env["driftProd"]),
            ),
            f"pull-request.yml `pulumi preview --refresh` of prod (runs approved in `{env['productionPreview']}`); "
            f"deploy.yml's prod plan on main (`{env['productionPlan']}`), before the production approval; "
            f"drift.yml's daily preview of prod on main (`{env['driftProd']}`)",
            # Prod's StackReference to the registry stack loads dev's outputs: its state and, for
            # secret outputs, its secrets key (the DIY backend decrypts them client-side).
            (
                (REFRESH, "prod"),
                (RESTORE_READ, "prod"),
                (STATE_READ, "prod"),
                (SECRETS_DECRYPT, "prod"),
                (STATE_READ, "dev"),
                (SECRETS_DECRYPT, "dev"),
            ),
        ),
        Identity(
            "deploy-dev",
            "AWS_DEPLOY_DEV_ROLE_ARN",
            "dev",
            _deploy_runs(env["dev"]),
            f"deploy.yml on main (push) and recover.yml (dispatch), environment `{env['dev']}`",
            (
                (DEPLOY, "dev"),
                (SERVICE_LINKED, "dev"),
                (REFRESH, "dev"),
                (STATE_READ, "dev"),
                (STATE_WRITE, "dev"),
                (SECRETS_DECRYPT, "dev"),
                (SECRETS_ENCRYPT, "dev"),
            ),
            session_hours=APPLY_SESSION_HOURS,
        ),
        Identity(
            "deploy-prod",
            "AWS_DEPLOY_PROD_ROLE_ARN",
            "prod",
            _deploy_runs(env["production"]),
            f"deploy.yml on main (push) and recover.yml (dispatch), environment `{env['production']}` (required reviewers)",
            (
                (DEPLOY, "prod"),
                (SERVICE_LINKED, "prod"),
                (REFRESH, "prod"),
                (DNS, "prod"),
                (STATE_READ, "prod"),
                (STATE_WRITE, "prod"),
                (SECRETS_DECRYPT, "prod"),
                (SECRETS_ENCRYPT, "prod"),
                (REGISTRY_READ, ""),
                # `tools.promote --verify prod` re-hashes the package's model.tar.gz before the update.
                (MODEL_BYTES, ""),
                (STATE_READ, "dev"),
                (SECRETS_DECRYPT, "dev"),
            ),
            session_hours=APPLY_SESSION_HOURS,
        ),
        Identity(
            "promote",
            "AWS_PROMOTE_ROLE_ARN",
            REGISTRY_STACK,
            _promote_runs(env["promotion"]),
            f"promote.yml (dispatch), approval-to-dev.yml (schedule, dispatch), soak-to-prod.yml (schedule, dispatch) and "
            f"rollback.yml (dispatch) on main, environment `{env['promotion']}`",
            # `tools.promote` reads dev's stack outputs (`pulumi stack output`), measures dev's soak
            # (tools/promote/evidence.py) and shows a package's lineage and checksum (lineage.py).
            (
                (REGISTRY_READ, ""),
                (LINEAGE_READ, ""),
                (MODEL_BYTES, ""),
                (SOAK_READ, REGISTRY_STACK),
                (STATE_READ, "dev"),
                (SECRETS_DECRYPT, "dev"),
            ),
        ),
        Identity(
            "approver",
            "",
            REGISTRY_STACK,
            (),
            "a person (IAM Identity Center or IAM user with MFA), never a workflow",
            ((REGISTRY_READ, ""), (APPROVE, "")),
        ),
    )


# Probes: what each capability means as requests ----------------------------------------------------


@dataclass(frozen=True)
class Probe:
    action: str
    resource: str
    context: Mapping[str, object]


def _state(layout: Layout, stack: str, kind: str = "stacks") -> str:
    keys = {
        "stacks": f".pulumi/stacks/{PROJECT}/{stack}.json",
        "lock": f".pulumi/locks/organization/{PROJECT}/{stack}/5f1c.json",
        "history": f".pulumi/history/{PROJECT}/{stack}/{stack}-1.checkpoint.json",
    }
    return f"{layout.state_bucket_arn}/{keys[kind]}"


def _secrets(layout: Layout, stack: str, action: str) -> Probe:
    return Probe(action, layout.arn("kms", layout.accounts["state"], "key/0a1b"), {"kms:ResourceAliases": [secrets_alias(stack)]})


def _own(layout: Layout, stack: str, service: str, resource: str) -> str:
    return layout.arn(service, layout.account(stack), resource)


def _serving_endpoint_probes(layout: Layout, stack: str) -> list[Probe]:
    """The reads that tell which package the stack's endpoint serves (tagged endpoint, configuration, model)."""
    return [
        Probe("sagemaker:DescribeEndpoint", _own(layout, stack, "sagemaker", f"endpoint/{program_prefix(stack)}churn"), _tags(stack)),
        Probe("sagemaker:DescribeEndpointConfig", _own(layout, stack, "sagemaker", "endpoint-config/endpoint-config-1a2b"), _tags(stack)),
        Probe("sagemaker:DescribeModel", _own(layout, stack, "sagemaker", "model/endpoint-model-1a2b"), _tags(stack)),
    ]


def _api_deployment_group(layout: Layout, stack: str) -> str:
    """The prediction API's CodeDeploy deployment group (components/api: `<prefix>predict-api/<prefix>predict-live`)."""
    own = program_prefix(stack)
    return _own(layout, stack, "codedeploy", f"deploymentgroup:{own}predict-api/{own}predict-live")


def _tags(stack: str) -> dict[str, object]:
    return {"aws:ResourceTag/Environment": stack}


# Where a registered model's bytes are, the one object path a CI role may read outside its state:
# the sealed copy the registry stack's pipeline registers (components/training/definition/steps.py,
# SealModel: pipelines/<pipeline>/registered/<execution>/model.tar.gz), and the training job's output
# that packages registered before the seal step name (training_step.py: SageMaker appends <training
# job>/output/model.tar.gz), which `--verify` and a rollback still read. Only in the registry stack's
# buckets: the program names them `mlops-<stack>-…` (components/shared/secure_bucket.py).
def model_bytes_patterns(layout: Layout) -> tuple[str, ...]:
    prefix = program_prefix(REGISTRY_STACK)
    pipelines = f"arn:{layout.partition}:s3:::{prefix}*/pipelines/{prefix}*"
    return (f"{pipelines}/registered/*/model.tar.gz", f"{pipelines}/training/*/output/model.tar.gz")


# The key the registry stack encrypts its artifacts with (the program's Foundation key alias).
def registry_key_alias() -> str:
    return f"alias/{program_prefix(REGISTRY_STACK).rstrip('-')}"


# Model Monitor's reports of a stack's endpoint (components/endpoint: monitoring/<endpoint>/reports in
# the endpoint's data bucket, named by Pulumi) and the evaluation report a package names as its model
# quality statistics (components/training/definition: pipelines/<pipeline>/<execution>/evaluation/).
def monitoring_reports_prefix(stack: str) -> str:
    return f"monitoring/{program_prefix(stack)}"


def monitoring_reports_pattern(layout: Layout, stack: str) -> str:
    return f"arn:{layout.partition}:s3:::*/{monitoring_reports_prefix(stack)}*/reports/*"


def evaluation_report_pattern(layout: Layout) -> str:
    return f"arn:{layout.partition}:s3:::*/pipelines/{program_prefix(REGISTRY_STACK)}*/*/evaluation/evaluation.json"


def _model_object(layout: Layout) -> str:
    return f"arn:{layout.partition}:s3:::{program_prefix(REGISTRY_STACK)}training-artifacts-1a2b/pipelines/{program_prefix(REGISTRY_STACK)}training/training/job-1/output/model.tar.gz"


def _sealed_model_object(layout: Layout) -> str:
    return f"arn:{layout.partition}:s3:::{program_prefix(REGISTRY_STACK)}training-artifacts-1a2b/pipelines/{program_prefix(REGISTRY_STACK)}training/registered/x1y2/model.tar.gz"


def _package(layout: Layout) -> str:
    return _own(layout, REGISTRY_STACK, "sagemaker", f"model-package/{program_prefix(REGISTRY_STACK)}churn/3")


def _role(layout: Layout, stack: str, name: str = "x") -> str:
    return layout.role_arn(layout.account(stack), f"{program_prefix(stack)}{name}")


CAN: Mapping[str, tuple[str, Callable[[Layout, str], Sequence[Probe]]]] = {
    STATE_READ: (
        "read {stack}'s state and history",
        lambda lay, s: [Probe("s3:GetObject", _state(lay, s), {}), Probe("s3:GetObject", _state(lay, s, "history"), {})],
    ),
    STATE_WRITE: (
        "write {stack}'s state, history and lock",
        lambda lay, s: [
            Probe("s3:PutObject", _state(lay, s), {}),
            Probe("s3:PutObject", _state(lay, s, "lock"), {}),
            Probe("s3:DeleteObject", _state(lay, s, "lock"), {}),
        ],
    ),
    SECRETS_DECRYPT: ("decrypt {stack}'s secrets", lambda lay, s: [_secrets(lay, s, "kms:Decrypt")]),
    SECRETS_ENCRYPT: (
        "encrypt {stack}'s secrets",
        lambda lay, s: [_secrets(lay, s, "kms:Encrypt"), _secrets(lay, s, "kms:GenerateDataKey")],
    ),
    REFRESH: (
        "read the configuration of {stack}'s resources (what `preview --refresh` reads)",
        lambda lay, s: [
            Probe("sagemaker:DescribeEndpoint", _own(lay, s, "sagemaker", f"endpoint/{program_prefix(s)}churn"), _tags(s)),
            Probe("lambda:GetFunction", _own(lay, s, "lambda", f"function:{program_prefix(s)}predict"), _tags(s)),
            Probe("cognito-idp:DescribeUserPoolClient", _own(lay, s, "cognito-idp", "userpool/us-east-1_AbC"), _tags(s)),
            Probe("iam:GetRole", _role(lay, s), {}),
        ],
    ),
    DEPLOY: (
        "create, change and delete {stack}'s resources in the stack's region; create `mlops-{stack}-*` roles only under `sagemaker-mlops-{stack}-boundary`, attach only `mlops-{stack}-*` policies, pass them only to the program's services",
        lambda lay, s: [
            Probe("sagemaker:UpdateEndpoint", _own(lay, s, "sagemaker", f"endpoint/{program_prefix(s)}churn"), _tags(s)),
            Probe(
                "sagemaker:CreateEndpoint",
                _own(lay, s, "sagemaker", f"endpoint/{program_prefix(s)}churn"),
                {"aws:RequestTag/Environment": s},
            ),
            Probe("s3:PutBucketPolicy", f"arn:{lay.partition}:s3:::{program_prefix(s)}data-1", {}),
            Probe("iam:CreateRole", _role(lay, s), {"iam:PermissionsBoundary": lay.boundary_arn(s)}),
            Probe(
                "iam:AttachRolePolicy",
                _role(lay, s),
                {"iam:PermissionsBoundary": lay.boundary_arn(s), "iam:PolicyARN": lay.iam(lay.account(s), f"policy/{program_prefix(s)}x")},
            ),
            Probe("iam:UpdateAssumeRolePolicy", _role(lay, s), {}),
            Probe("iam:PassRole", _role(lay, s), {"iam:PassedToService": "sagemaker.amazonaws.com"}),
        ],
    ),
    SERVICE_LINKED: (
        "create the service-linked roles its services create on first use (Application Auto Scaling for ECS and SageMaker, ECS, Elastic Load Balancing)",
        lambda lay, s: [
            Probe(
                "iam:CreateServiceLinkedRole",
                lay.iam(lay.account(s), f"role/aws-service-role/{service}/AWSServiceRole"),
                {"iam:AWSServiceName": service},
            )
            for service in (
                "ecs.application-autoscaling.amazonaws.com",
                "sagemaker.application-autoscaling.amazonaws.com",
                "ecs.amazonaws.com",
                "elasticloadbalancing.amazonaws.com",
            )
        ],
    ),
    DNS: (
        "change records of {stack}'s configured hosted zone",
        lambda lay, s: (
            [Probe("route53:ChangeResourceRecordSets", f"arn:{lay.partition}:route53:::hostedzone/{lay.hosted_zones[s]}", {})]
            if s in lay.hosted_zones
            else []
        ),
    ),
    REGISTRY_READ: (
        "read the model registry (packages, groups, approval status)",
        lambda lay, s: [
            Probe("sagemaker:DescribeModelPackage", _package(lay), _tags(REGISTRY_STACK)),
            Probe("sagemaker:ListModelPackages", "*", {}),
        ],
    ),
    MODEL_BYTES: (
        "read a registered model's bytes (`model.tar.gz` under the registry pipeline's prefix) to re-check their checksum",
        lambda lay, s: [
            Probe("s3:GetObject", _sealed_model_object(lay), {}),
            Probe("s3:GetObjectVersion", _sealed_model_object(lay), {}),
            Probe("s3:GetObject", _model_object(lay), {}),
            Probe("s3:GetObjectVersion", _model_object(lay), {}),
            Probe(
                "kms:Decrypt",
                lay.arn("kms", lay.account(REGISTRY_STACK), "key/0c0d"),
                {"kms:ResourceAliases": [registry_key_alias()], "kms:ViaService": f"s3.{lay.region}.amazonaws.com"},
            ),
        ],
    ),
    SOAK_READ: (
        "measure {stack}'s soak: its endpoint, endpoint configuration and models (tagged `Environment={stack}`), CloudWatch metrics and alarms, and Model Monitor's reports under `monitoring/`",
        lambda lay, s: [
            *_serving_endpoint_probes(lay, s),
            Probe("cloudwatch:GetMetricData", "*", {}),
            Probe("cloudwatch:DescribeAlarms", _own(lay, s, "cloudwatch", f"alarm:{program_prefix(s)}endpoint-drift"), {}),
            Probe(
                "s3:ListBucket",
                "arn:{0}:s3:::endpoint-data-1a2b".format(lay.partition),
                {"s3:prefix": f"{monitoring_reports_prefix(s)}churn/reports", "s3:ResourceAccount": lay.account(s)},
            ),
            Probe(
                "s3:GetObject",
                f"arn:{lay.partition}:s3:::endpoint-data-1a2b/{monitoring_reports_prefix(s)}churn/reports/2026/constraint_violations.json",
                {"s3:ResourceAccount": lay.account(s)},
            ),
        ],
    ),
    RESTORE_READ: (
        "compare what {stack} serves with Git (`tools.promote --restore {stack}`): its endpoint's package, the tags of its endpoint configurations (the record of a rolled-back release; the region's configuration names are listed), the API alias's version and its description, the API's CodeDeploy deployments and alarms",
        lambda lay, s: [
            *_serving_endpoint_probes(lay, s),
            Probe("sagemaker:ListTags", _own(lay, s, "sagemaker", "endpoint-config/endpoint-config-1a2b"), _tags(s)),
            Probe("sagemaker:ListEndpointConfigs", "*", {}),
            Probe("lambda:GetAlias", _own(lay, s, "lambda", f"function:{program_prefix(s)}predict:live"), {}),
            Probe("lambda:GetFunctionConfiguration", _own(lay, s, "lambda", f"function:{program_prefix(s)}predict:7"), {}),
            *[
                Probe(f"codedeploy:{action}", _api_deployment_group(lay, s), {})
                for action in ("ListDeployments", "GetDeployment", "GetDeploymentGroup")
            ],
            Probe("cloudwatch:DescribeAlarms", _own(lay, s, "cloudwatch", f"alarm:{program_prefix(s)}predict-api-5xx"), {}),
        ],
    ),
    LINEAGE_READ: (
        "read a package's lineage: the registry pipeline's execution steps, training jobs and evaluation reports",
        lambda lay, s: [
            Probe(
                "sagemaker:ListPipelineExecutionSteps",
                _own(lay, REGISTRY_STACK, "sagemaker", f"pipeline/{program_prefix(REGISTRY_STACK)}training/execution/0a1b"),
                {},
            ),
            Probe("sagemaker:DescribeTrainingJob", _own(lay, REGISTRY_STACK, "sagemaker", "training-job/pipelines-0a1b-train-1a2b"), {}),
            Probe(
                "s3:GetObject",
                f"arn:{lay.partition}:s3:::training-artifacts-1a2b/pipelines/{program_prefix(REGISTRY_STACK)}training/0a1b/evaluation/evaluation.json",
                {"s3:ResourceAccount": lay.account(REGISTRY_STACK)},
            ),
        ],
    ),
    APPROVE: (
        "set a model package `Approved` or `Rejected`",
        lambda lay, s: [
            Probe("sagemaker:UpdateModelPackage", _package(lay), {"sagemaker:ModelApprovalStatus": "Approved", **_tags(REGISTRY_STACK)})
        ],
    ),
}


def _cannot(layout: Layout, identity: Identity) -> list[tuple[str, list[Probe]]]:
    """Every "cannot" of one identity: what its grants exclude, plus what no identity may do."""
    lay = layout
    own = identity.stack
    theirs = other(own)
    rows: list[tuple[str, list[Probe]]] = []
    granted = set(identity.grants)
    for capability in (STATE_WRITE, SECRETS_DECRYPT, STATE_READ, DEPLOY):
        for stack in STACKS:
            if (capability, stack) not in granted and not (capability == STATE_READ and (SECRETS_DECRYPT, stack) in granted):
                text, probes = CAN[capability]
                rows.append((text.format(stack=stack).split(";")[0], list(probes(lay, stack))))
    if (APPROVE, "") not in granted:
        rows.append(
            (
                "approve a model package",
                [
                    Probe(
                        "sagemaker:UpdateModelPackage",
                        _package(lay),
                        {"sagemaker:ModelApprovalStatus": "Approved", **_tags(REGISTRY_STACK)},
                    )
                ],
            )
        )
    rows.append(
        (
            "register a model package in any status but `PendingManualApproval`",
            [
                Probe(
                    "sagemaker:CreateModelPackage",
                    _package(lay),
                    {"sagemaker:ModelApprovalStatus": "Approved", "aws:RequestTag/Environment": REGISTRY_STACK},
                )
            ],
        )
    )
    rows.append(
        (
            f"act outside the stack's region ({lay.region})",
            [
                Probe(
                    "sagemaker:CreateEndpoint",
                    _own(lay, own, "sagemaker", f"endpoint/{program_prefix(own)}x"),
                    {"aws:RequestedRegion": "eu-west-3"},
                )
            ],
        )
    )
    rows.append(
        (
            f"change or read the data of resources tagged `Environment={theirs}` or named `mlops-{theirs}-*`",
            [
                Probe("sagemaker:DeleteEndpoint", _own(lay, theirs, "sagemaker", f"endpoint/{program_prefix(theirs)}churn"), _tags(theirs)),
                Probe("sagemaker:DeleteEndpoint", _own(lay, theirs, "sagemaker", "endpoint/renamed"), _tags(theirs)),
                Probe("s3:PutBucketPolicy", f"arn:{lay.partition}:s3:::{program_prefix(theirs)}data-1", {}),
                Probe("s3:DeleteObject", f"arn:{lay.partition}:s3:::{program_prefix(theirs)}data-1/incoming/a.csv", {}),
                Probe("lambda:GetFunction", _own(lay, theirs, "lambda", f"function:{program_prefix(theirs)}predict"), _tags(theirs)),
                Probe("lambda:GetFunctionConfiguration", _own(lay, theirs, "lambda", f"function:{program_prefix(theirs)}predict:7"), {}),
                Probe("codedeploy:GetDeployment", _api_deployment_group(lay, theirs), {}),
                Probe("cognito-idp:DescribeUserPoolClient", _own(lay, theirs, "cognito-idp", "userpool/us-east-1_XyZ"), _tags(theirs)),
                Probe("sagemaker:CreateEndpoint", _own(lay, own, "sagemaker", "endpoint/x"), {"aws:RequestTag/Environment": theirs}),
            ],
        )
    )
    rows.append(
        (
            "create a role without its stack's boundary, or attach a policy outside its stack",
            [
                Probe("iam:CreateRole", _role(lay, own), {}),
                Probe("iam:CreateRole", _role(lay, own), {"iam:PermissionsBoundary": lay.boundary_arn(theirs)}),
                Probe("iam:CreateRole", lay.role_arn(lay.account(own), "admin"), {"iam:PermissionsBoundary": lay.boundary_arn(own)}),
                Probe(
                    "iam:AttachRolePolicy",
                    _role(lay, own),
                    {
                        "iam:PermissionsBoundary": lay.boundary_arn(own),
                        "iam:PolicyARN": f"arn:{lay.partition}:iam::aws:policy/AdministratorAccess",
                    },
                ),
                Probe("iam:PutRolePolicy", _role(lay, own), {}),
                Probe(
                    "iam:AttachRolePolicy", _role(lay, own), {"iam:PolicyARN": lay.iam(lay.account(own), f"policy/{program_prefix(own)}x")}
                ),
                Probe(
                    "iam:AttachRolePolicy",
                    _role(lay, own),
                    {
                        "iam:PermissionsBoundary": lay.boundary_arn(theirs),
                        "iam:PolicyARN": lay.iam(lay.account(own), f"policy/{program_prefix(own)}x"),
                    },
                ),
                Probe("iam:CreateUser", lay.iam(lay.account(own), "user/x"), {}),
            ],
        )
    )
    rows.append(
        (
            "change or remove a permissions boundary",
            [
                Probe("iam:DeleteRolePermissionsBoundary", _role(lay, own), {"iam:PermissionsBoundary": lay.boundary_arn(own)}),
                Probe("iam:PutRolePermissionsBoundary", _role(lay, own), {"iam:PermissionsBoundary": lay.boundary_arn(theirs)}),
                *[
                    Probe(a, lay.boundary_arn(s), {})
                    for s in STACKS
                    for a in ("iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:SetDefaultPolicyVersion")
                ],
            ],
        )
    )
    rows.append(
        (
            "pass or re-trust a role outside its stack, or pass one to another service",
            [
                Probe("iam:PassRole", _role(lay, theirs), {"iam:PassedToService": "sagemaker.amazonaws.com"}),
                Probe("iam:PassRole", _role(lay, own), {"iam:PassedToService": "ec2.amazonaws.com"}),
                Probe(
                    "iam:PassRole",
                    lay.role_arn(lay.account(own), "OrganizationAccountAccessRole"),
                    {"iam:PassedToService": "sagemaker.amazonaws.com"},
                ),
                Probe(
                    "iam:PassRole",
                    lay.role_arn(lay.account(own), f"{GITHUB_ROLE_PREFIX}deploy-{own}"),
                    {"iam:PassedToService": "lambda.amazonaws.com"},
                ),
                Probe("iam:UpdateAssumeRolePolicy", _role(lay, theirs), {}),
                Probe("iam:UpdateAssumeRolePolicy", lay.role_arn(lay.account(own), f"{GITHUB_ROLE_PREFIX}deploy-prod"), {}),
                Probe("sts:AssumeRole", lay.role_arn(lay.account(REGISTRY_STACK), APPROVER_ROLE), {}),
            ],
        )
    )
    rows.append(
        (
            "read data: objects outside its state, secret values, log events",
            [
                Probe("s3:GetObject", f"arn:{lay.partition}:s3:::{program_prefix(own)}data-1/incoming/customers.csv", {}),
                Probe("secretsmanager:GetSecretValue", _own(lay, own, "secretsmanager", f"secret:{program_prefix(own)}x"), {}),
                Probe("logs:GetLogEvents", _own(lay, own, "logs", f"log-group:/aws/lambda/{program_prefix(own)}predict:log-stream:a"), {}),
                Probe("sqs:ReceiveMessage", _own(lay, own, "sqs", f"{program_prefix(own)}dlq"), {}),
                *(
                    []
                    if (MODEL_BYTES, "") in granted
                    else [Probe("s3:GetObject", o, {}) for o in (_sealed_model_object(lay), _model_object(lay))]
                ),
                Probe("s3:GetObject", _model_object(lay).replace("/output/model.tar.gz", "/output/other.bin"), {}),
                Probe("s3:GetObject", _sealed_model_object(lay).replace("/model.tar.gz", "/seal/seal.json"), {}),
            ],
        )
    )
    rows.append(
        (
            "change the state bucket or a state or secrets key",
            [
                Probe("s3:PutBucketPolicy", lay.state_bucket_arn, {}),
                Probe("s3:DeleteBucket", lay.state_bucket_arn, {}),
                *[
                    Probe(a, layout.arn("kms", lay.accounts["state"], "key/0a1b"), {"kms:ResourceAliases": [alias]})
                    for a in ("kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:DisableKey")
                    for alias in (secrets_alias("dev"), secrets_alias("prod"), f"alias/{PROJECT}-state")
                ],
            ],
        )
    )
    return rows


def rows(layout: Layout, identity: Identity) -> list[tuple[bool, str, list[Probe]]]:
    """(can, text, probes) for every row of one identity."""
    out: list[tuple[bool, str, list[Probe]]] = []
    for capability, stack in identity.grants:
        if capability == DNS and stack not in layout.hosted_zones:
            continue  # no hosted zone configured: no record to change
        text, probes = CAN[capability]
        out.append((True, text.format(stack=stack), list(probes(layout, stack))))
    out += [(False, text, probes) for text, probes in _cannot(layout, identity)]
    return out


def example_layout() -> Layout:
    """The table's layout: accounts do not change what a role may do, only where."""
    return Layout(
        region="us-east-1",
        accounts={"dev": "111111111111", "prod": "222222222222", "state": "111111111111"},
        repository="OWNER/REPO",
        hosted_zones={"prod": "ZONE"},
    )


def markdown_table(environments: Mapping[str, str] = DEFAULT_ENVIRONMENTS) -> str:
    layout = example_layout()
    lines = [
        "| identity | account | trusted (custom OIDC subject, compared exactly) | used by | can | cannot |",
        "|---|---|---|---|---|---|",
    ]
    for identity in identities(environments):
        trusted = (
            "<br>".join(f"`{s.context}` · `{s.workflow}@{s.ref}` · `{s.event}`" for s in identity.subjects)
            if identity.ci
            else "a person's IAM principal (no OIDC)"
        )
        can = "<br>".join(f"✔ {text}" for ok, text, _ in rows(layout, identity) if ok)
        cannot = "<br>".join(f"✘ {text}" for ok, text, _ in rows(layout, identity) if not ok)
        name = f"`{identity.role_name()}`" + (f" (`{identity.variable}`)" if identity.variable else "")
        lines.append(f"| {name} | {identity.stack}'s | {trusted} | {identity.used_by} | {can} | {cannot} |")
    lines.append(
        f"| a role the `<stack>` program creates (any policy attached, even AdministratorAccess) | the stack's | its AWS service | the program | what `{boundary_name('<stack>')}` allows: the program's services in the stack's region, passing its own stack's roles | ✘ IAM changes<br>✘ the other stack's resources (tags, names)<br>✘ approval, or registering other than pending<br>✘ the state backend and secrets keys<br>✘ other regions |"
    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")

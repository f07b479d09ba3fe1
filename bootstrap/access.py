"""Who CI may be, and what each identity may read and change: the one table the bootstrap roles,
their tests and docs/gitops.md are built from.

    venv/bin/python bootstrap/access.py     # prints the table docs/gitops.md carries

Pure data and plain-dict IAM statements (values may be Pulumi outputs): no resource is declared
here, so tests and the docs read exactly what `GitHubCiRoles` attaches.

State layout: one S3 backend URL for both stacks (a `StackReference` only resolves inside one
backend), with each stack's objects under its own keys of the DIY backend's layout
(pulumi/pkg/backend/diy): `.pulumi/stacks/<project>/<stack>.json*`, `.pulumi/history/<project>/<stack>/`,
`.pulumi/backups/<project>/<stack>/` and the locks `.pulumi/locks/organization/<project>/<stack>/`.
Each stack encrypts its secrets with its own KMS key (`awskms://alias/sagemaker-mlops-<stack>-secrets`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

if str(Path(__file__).resolve().parent.parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root: components/

from components.shared.permissions_boundary import BOUNDARY_POLICY_NAME as PROGRAM_BOUNDARY_POLICY_NAME

PROJECT = "sagemaker-mlops"
STACKS = ("dev", "prod")
# The stack that owns the training pipeline and the model registry; prod reads it by StackReference.
REGISTRY_STACK = "dev"
# The program's roles name the same policy (components/shared/permissions_boundary.py).
BOUNDARY_POLICY_NAME = PROGRAM_BOUNDARY_POLICY_NAME
READ_ONLY_POLICY = "ReadOnlyAccess"

# What an identity is granted, in the table's words. Each capability maps to IAM statements below.
AWS_READ_ONLY = "aws-read-only"  # AWS managed ReadOnlyAccess, minus object reads outside its state
REGISTRY_READ = "registry-read"  # the model registry: describe/list model packages and groups
PROGRAM_DEPLOY = "program-deploy"  # create/update/delete the program's resources of one stack
STATE_READ = "state-read"
STATE_WRITE = "state-write"  # state, history, backups and the update lock
SECRETS_DECRYPT = "secrets-decrypt"
SECRETS_ENCRYPT = "secrets-encrypt"


@dataclass(frozen=True)
class Identity:
    """One role in the account, assumed by the GitHub jobs whose OIDC subject it trusts."""

    key: str
    """Role name suffix: `sagemaker-mlops-github-<key>`; also the bootstrap output key."""
    variable: str
    """The repository variable holding the role's ARN, read by the workflows."""
    subject: str
    """`pull_request` or `environment:<name>`: the subject claim after `repo:OWNER/REPO:`."""
    used_by: str
    grants: tuple[tuple[str, str], ...]
    """(capability, stack or '') pairs."""
    session_hours: int = 1

    def role_name(self) -> str:
        return f"{PROJECT}-github-{self.key}"


def identities(environments: Mapping[str, str]) -> tuple[Identity, ...]:
    """`environments`: GitHub environment names for keys dev, production, productionPreview, promotion."""
    return (
        Identity(
            "preview-dev",
            "AWS_PREVIEW_DEV_ROLE_ARN",
            "pull_request",
            "pull-request.yml `pulumi preview` of dev, every pull request from a branch of this repository "
            "(fork pull requests get no OIDC token and stop at the offline check)",
            ((AWS_READ_ONLY, ""), (STATE_READ, "dev"), (SECRETS_DECRYPT, "dev")),
        ),
        Identity(
            "preview-prod",
            "AWS_PREVIEW_PROD_ROLE_ARN",
            f"environment:{environments['productionPreview']}",
            f"pull-request.yml `pulumi preview` of prod, after a reviewer of the `{environments['productionPreview']}` "
            "environment approved the run (prod's state holds its secrets)",
            ((AWS_READ_ONLY, ""), (STATE_READ, "prod"), (SECRETS_DECRYPT, "prod"), (STATE_READ, "dev"), (SECRETS_DECRYPT, "dev")),
        ),
        Identity(
            "deploy-dev",
            "AWS_DEPLOY_DEV_ROLE_ARN",
            f"environment:{environments['dev']}",
            f"deploy.yml `pulumi up --stack dev` (job in environment `{environments['dev']}`, deployments from main only); "
            "recover.yml for dev",
            ((PROGRAM_DEPLOY, "dev"), (STATE_READ, "dev"), (STATE_WRITE, "dev"), (SECRETS_DECRYPT, "dev"), (SECRETS_ENCRYPT, "dev")),
            session_hours=2,
        ),
        Identity(
            "deploy-prod",
            "AWS_DEPLOY_PROD_ROLE_ARN",
            f"environment:{environments['production']}",
            f"deploy.yml `tools.promote --verify prod` + `pulumi up --stack prod` (environment `{environments['production']}`, "
            "required reviewers); recover.yml for prod",
            (
                (PROGRAM_DEPLOY, "prod"),
                (STATE_READ, "prod"),
                (STATE_WRITE, "prod"),
                (SECRETS_DECRYPT, "prod"),
                (SECRETS_ENCRYPT, "prod"),
                (REGISTRY_READ, ""),
                (STATE_READ, "dev"),
                (SECRETS_DECRYPT, "dev"),
            ),
            session_hours=2,
        ),
        Identity(
            "promote",
            "AWS_PROMOTE_ROLE_ARN",
            f"environment:{environments['promotion']}",
            f"promote.yml `tools.promote` (environment `{environments['promotion']}`): the version dev serves and its approval",
            ((REGISTRY_READ, ""), (STATE_READ, "dev"), (SECRETS_DECRYPT, "dev")),
        ),
    )


DEFAULT_ENVIRONMENTS = {"dev": "dev", "production": "production", "productionPreview": "production-preview", "promotion": "promotion"}


# ---- the state backend's keys -----------------------------------------------------------------------


def state_object_patterns(stack: str) -> tuple[str, ...]:
    """Object keys (relative to the bucket) that belong to one stack in the DIY backend."""
    return (
        f".pulumi/stacks/{PROJECT}/{stack}.json*",
        f".pulumi/history/{PROJECT}/{stack}/*",
        f".pulumi/backups/{PROJECT}/{stack}/*",
        f".pulumi/locks/organization/{PROJECT}/{stack}/*",
    )


SHARED_READ_OBJECTS = (".pulumi/meta.yaml",)  # the backend's version marker, read at login


def secrets_alias(stack: str) -> str:
    return f"alias/{PROJECT}-{stack}-secrets"


def secrets_provider(stack: str, region: str) -> str:
    return f"awskms://{secrets_alias(stack)}?region={region}"


# ---- the table -------------------------------------------------------------------------------------------

_READ_WORDS = {
    AWS_READ_ONLY: "AWS resource configuration (ReadOnlyAccess; no S3 object outside its state)",
    REGISTRY_READ: "the model registry (model packages and their approval)",
}


def describe(identity: Identity) -> tuple[str, str]:
    """The table's 'can read' and 'can change' cells."""
    reads: list[str] = []
    changes: list[str] = []
    for capability, stack in identity.grants:
        if capability in _READ_WORDS:
            reads.append(_READ_WORDS[capability])
        elif capability == STATE_READ:
            reads.append(f"{stack} state")
        elif capability == SECRETS_DECRYPT:
            reads.append(f"{stack} secrets (`{secrets_alias(stack)}`)")
        elif capability == PROGRAM_DEPLOY:
            changes.append(
                f"{stack}'s resources: the program's services in the stack's region, IAM roles and policies named "
                f"`mlops-{stack}-*` only with the permissions boundary `{BOUNDARY_POLICY_NAME}`"
                + (
                    f"; never a resource tagged `Environment={other(stack)}`"
                    if stack == REGISTRY_STACK
                    else f"; resources tagged `Environment={other(stack)}` only read (Describe/Get/List)"
                )
            )
        elif capability == STATE_WRITE:
            changes.append(f"{stack} state, history and lock")
        elif capability == SECRETS_ENCRYPT:
            changes.append(f"{stack} secrets (encrypt)")
    return "; ".join(reads) or "nothing", "; ".join(changes) or "nothing"


def other(stack: str) -> str:
    return next(s for s in STACKS if s != stack)


def markdown_table(environments: Mapping[str, str] = DEFAULT_ENVIRONMENTS) -> str:
    rows = [
        "| identity (role `sagemaker-mlops-github-…`) | trusted OIDC subject `repo:OWNER/REPO:…` | used by | can read | can change |",
        "|---|---|---|---|---|",
    ]
    for identity in identities(environments):
        reads, changes = describe(identity)
        rows.append(f"| `{identity.key}` (`{identity.variable}`) | `{identity.subject}` | {identity.used_by} | {reads} | {changes} |")
    return "\n".join(rows) + "\n"


# ---- IAM statements --------------------------------------------------------------------------------------


def statement(
    actions: Sequence[str],
    resources: Sequence[Any],
    sid: str,
    *,
    effect: str = "Allow",
    conditions: Mapping[str, Any] | None = None,
    not_resource: bool = False,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "Sid": sid,
        "Effect": effect,
        "Action": list(actions),
        ("NotResource" if not_resource else "Resource"): list(resources),
    }
    if conditions:
        doc["Condition"] = dict(conditions)
    return doc


def join(prefix: Any, suffix: str) -> Any:
    """prefix + suffix, whether prefix is text or a Pulumi output."""
    if isinstance(prefix, str):
        return prefix + suffix
    import pulumi

    return pulumi.Output.concat(prefix, suffix)


@dataclass(frozen=True)
class Arns:
    """The ARNs the statements name (text or Pulumi outputs)."""

    partition: Any
    account: Any
    region: str
    boundary: Any
    state_bucket: Any = None
    state_key: Any = None
    secrets_keys: Mapping[str, Any] | None = None

    def iam(self, resource: str) -> Any:
        if isinstance(self.partition, str) and isinstance(self.account, str):
            return f"arn:{self.partition}:iam::{self.account}:{resource}"
        import pulumi

        return pulumi.Output.format("arn:{0}:iam::{1}:{2}", self.partition, self.account, resource)

    def state_objects(self, stack: str) -> list[Any]:
        return [join(self.state_bucket, "/" + key) for key in state_object_patterns(stack)]

    def state_resources(self) -> list[Any]:
        """Everything of the backend a deploy's broad S3/KMS grant must not reach."""
        resources = []
        if self.state_bucket is not None:
            resources += [self.state_bucket, join(self.state_bucket, "/*")]
        if self.state_key is not None:
            resources.append(self.state_key)
        resources += list((self.secrets_keys or {}).values())
        return resources


# Every service the sagemaker-mlops program creates, updates, refreshes or deletes resources in.
DEPLOY_SERVICES = (
    "acm",
    "apigateway",
    "application-autoscaling",
    "cloudwatch",
    "codedeploy",
    "cognito-idp",
    "ec2",
    "ecr",
    "ecs",
    "elasticloadbalancing",
    "events",
    "lambda",
    "logs",
    "sagemaker",
    "sns",
    "sqs",
)
# Broad grants that must stop short of the state backend and the secrets keys.
STATE_SENSITIVE_SERVICES = ("s3", "kms")
# Services that create their own service-linked role the first time the stack uses them.
SERVICE_LINKED_ROLES = (
    "sagemaker.application-autoscaling.amazonaws.com",
    "ecs.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
)
# IAM actions a deploy role may take on its stack's roles and policies without a boundary check:
# reads, deletes, tags and PassRole. Creating a role and changing what it may do is BOUNDED_ROLE_ACTIONS.
STACK_IAM_ACTIONS = (
    "iam:DeleteRole",
    "iam:GetRole",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
    "iam:UpdateAssumeRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:ListRoleTags",
    "iam:GetRolePolicy",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
    "iam:PassRole",
    "iam:CreatePolicy",
    "iam:DeletePolicy",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:CreatePolicyVersion",
    "iam:DeletePolicyVersion",
    "iam:ListPolicyVersions",
    "iam:TagPolicy",
    "iam:UntagPolicy",
)
# The actions AWS lets a policy condition on `iam:PermissionsBoundary` for roles: each is allowed
# only while the role carries (or is created with) the project's boundary.
BOUNDED_ROLE_ACTIONS = (
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
)
BOUNDARY_POLICY_CHANGES = (
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:TagPolicy",
    "iam:UntagPolicy",
)
# What the program's own roles may ever do (the permissions boundary): the services its roles call.
PROGRAM_ROLE_SERVICES = (
    "cloudwatch",
    "codedeploy",
    "ecr",
    "ecs",
    "ec2",
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
REGISTRY_DESCRIBE_ACTIONS = (
    "sagemaker:DescribeModelPackage",
    "sagemaker:DescribeModelPackageGroup",
    "sagemaker:GetModelPackageGroupPolicy",
)
# Listing has no resource-level permissions: AWS only accepts "*".
REGISTRY_LIST_ACTIONS = ("sagemaker:ListModelPackages", "sagemaker:ListModelPackageGroups")
# The read actions of the program's services (IAM service authorization reference): what prod's
# deploy role may still do to resources tagged with the other stack.
READ_ACTIONS = (
    "acm:Describe*",
    "acm:Get*",
    "acm:List*",
    "apigateway:GET",
    "application-autoscaling:Describe*",
    "cloudwatch:Describe*",
    "cloudwatch:Get*",
    "cloudwatch:List*",
    "codedeploy:Get*",
    "codedeploy:List*",
    "cognito-idp:Describe*",
    "cognito-idp:Get*",
    "cognito-idp:List*",
    "ec2:Describe*",
    "ec2:Get*",
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:Describe*",
    "ecr:Get*",
    "ecr:List*",
    "ecs:Describe*",
    "ecs:List*",
    "elasticloadbalancing:Describe*",
    "events:Describe*",
    "events:List*",
    "kms:Describe*",
    "kms:Get*",
    "kms:List*",
    "lambda:Get*",
    "lambda:List*",
    "logs:Describe*",
    "logs:Get*",
    "logs:List*",
    "s3:Get*",
    "s3:List*",
    "sagemaker:Describe*",
    "sagemaker:Get*",
    "sagemaker:List*",
    "sns:Get*",
    "sns:List*",
    "sqs:Get*",
    "sqs:List*",
)


def boundary_document(arns: Arns) -> dict[str, Any]:
    """The permissions boundary every role the program creates must carry: the program's services
    and passing its own roles, never IAM changes, never the state backend or the secrets keys."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            statement([f"{service}:*" for service in PROGRAM_ROLE_SERVICES], ["*"], "ProgramServices"),
            statement(["iam:PassRole", "iam:GetRole"], [arns.iam("role/mlops-*")], "PassTheProgramsOwnRoles"),
            *(
                [statement(["s3:*", "kms:*"], arns.state_resources(), "NeverTheStateBackendOrSecrets", effect="Deny")]
                if arns.state_resources()
                else []
            ),
        ],
    }


def identity_statements(identity: Identity, arns: Arns) -> list[dict[str, Any]]:
    """The inline policy of one identity's role (ReadOnlyAccess is attached separately)."""
    out: list[dict[str, Any]] = []
    grants = identity.grants
    readable = [s for c, s in grants if c == STATE_READ]
    writable = [s for c, s in grants if c == STATE_WRITE]
    decrypt = [s for c, s in grants if c == SECRETS_DECRYPT]
    encrypt = [s for c, s in grants if c == SECRETS_ENCRYPT]
    backend = arns.state_bucket is not None

    if backend and readable:
        out.append(statement(["s3:ListBucket", "s3:GetBucketLocation"], [arns.state_bucket], "ListStateBucket"))
        objects = [join(arns.state_bucket, "/" + key) for key in SHARED_READ_OBJECTS]
        objects += [o for s in readable for o in arns.state_objects(s)]
        out.append(statement(["s3:GetObject"], objects, "ReadState"))
    if backend and writable:
        out.append(
            statement(["s3:PutObject", "s3:DeleteObject"], [o for s in writable for o in arns.state_objects(s)], "WriteStateHistoryAndLock")
        )
    if backend and (readable or writable):
        # S3 encrypts every state object with the bucket's key (SSE-KMS); which objects a role
        # may read is decided by the object grants above.
        actions = ["kms:Decrypt", "kms:DescribeKey"] + (["kms:Encrypt", "kms:GenerateDataKey"] if writable else [])
        out.append(statement(actions, [arns.state_key], "StateObjectEncryption"))
    if arns.secrets_keys:
        if decrypt:
            out.append(statement(["kms:Decrypt", "kms:DescribeKey"], [arns.secrets_keys[s] for s in decrypt], "DecryptStackSecrets"))
        if encrypt:
            out.append(statement(["kms:Encrypt", "kms:GenerateDataKey"], [arns.secrets_keys[s] for s in encrypt], "EncryptStackSecrets"))

    if any(c == AWS_READ_ONLY for c, _ in grants):
        # ReadOnlyAccess includes s3:GetObject on every bucket: training data, model artifacts and
        # other stacks' state are not a preview's business.
        own = (
            [join(arns.state_bucket, "/" + key) for key in SHARED_READ_OBJECTS] + [o for s in readable for o in arns.state_objects(s)]
            if backend
            else []
        )
        deny = statement(
            ["s3:GetObject", "s3:GetObjectVersion"], own or ["*"], "NoObjectReadsOutsideItsState", effect="Deny", not_resource=bool(own)
        )
        out.append(deny)
    if any(c == REGISTRY_READ for c, _ in grants):
        # The registry may live in another account (the registry stack's): any account's packages.
        packages = [_arn(arns, "sagemaker", "*", "*", kind) for kind in ("model-package/*", "model-package-group/*")]
        out.append(statement(list(REGISTRY_DESCRIBE_ACTIONS), packages, "ReadTheModelRegistry"))
        out.append(statement(list(REGISTRY_LIST_ACTIONS), ["*"], "ListTheModelRegistry"))

    for capability, stack in grants:
        if capability == PROGRAM_DEPLOY:
            out += deploy_statements(stack, arns)
    return out


def deploy_statements(stack: str, arns: Arns) -> list[dict[str, Any]]:
    region = {"StringEquals": {"aws:RequestedRegion": arns.region}}
    roles = [arns.iam(f"role/mlops-{stack}-*"), arns.iam(f"policy/mlops-{stack}-*")]
    sensitive = arns.state_resources()
    out = [
        statement([f"{service}:*" for service in DEPLOY_SERVICES], ["*"], "ProgramServicesInTheStackRegion", conditions=region),
        statement(
            [f"{service}:*" for service in STATE_SENSITIVE_SERVICES],
            sensitive or ["*"],
            "ProgramBucketsAndKeysNotTheStateBackend",
            conditions=region,
            not_resource=bool(sensitive),
        ),
        statement(list(STACK_IAM_ACTIONS), roles, "StackRolesAndPolicies"),
        statement(
            list(BOUNDED_ROLE_ACTIONS),
            [roles[0]],
            "StackRolesOnlyWithTheBoundary",
            conditions={"StringEquals": {"iam:PermissionsBoundary": arns.boundary}},
        ),
        statement(
            ["iam:GetPolicy", "iam:GetPolicyVersion"],
            [join(f"arn:{arns.partition}:iam::aws:policy/", "*") if isinstance(arns.partition, str) else _aws_managed(arns)],
            "ReadAwsManagedPolicies",
        ),
        # The program looks up AWS's public parameters (the Powertools layer ARN for the API).
        statement(["ssm:GetParameter", "ssm:GetParameters"], [_public_parameters(arns)], "ReadAwsPublicParameters"),
        statement(
            ["iam:CreateServiceLinkedRole"],
            [arns.iam("role/aws-service-role/*")],
            "ServiceLinkedRolesOfProgramServices",
            conditions={"StringEquals": {"iam:AWSServiceName": list(SERVICE_LINKED_ROLES)}},
        ),
        statement(list(BOUNDARY_POLICY_CHANGES), [arns.boundary], "NeverChangeTheBoundary", effect="Deny"),
        statement(["iam:DeleteRolePermissionsBoundary"], ["*"], "NeverRemoveABoundary", effect="Deny"),
    ]
    # One account may hold both stacks: the other stack's resources are off limits wherever the
    # service supports tag conditions. Dev's role may not touch prod's at all; prod's may read
    # dev's (it serves the registry stack's model packages, image and artifacts, tagged
    # Environment=dev) but change none.
    tagged = {"StringEquals": {"aws:ResourceTag/Environment": other(stack)}}
    if stack == REGISTRY_STACK:
        out.append(statement(["*"], ["*"], "NeverTheOtherStacksResources", effect="Deny", conditions=tagged))
    else:
        out.append(
            {
                "Sid": "OnlyReadTheOtherStacksResources",
                "Effect": "Deny",
                "NotAction": list(READ_ACTIONS),
                "Resource": ["*"],
                "Condition": tagged,
            }
        )
    out.append(
        statement(
            ["*"],
            ["*"],
            "NeverCreateForTheOtherStack",
            effect="Deny",
            conditions={"StringEquals": {"aws:RequestTag/Environment": other(stack)}},
        )
    )
    return out


def _arn(arns: Arns, service: str, region: str, account: str, resource: str) -> Any:
    if isinstance(arns.partition, str):
        return f"arn:{arns.partition}:{service}:{region}:{account}:{resource}"
    import pulumi

    return pulumi.Output.format("arn:{0}:{1}:{2}:{3}:{4}", arns.partition, service, region, account, resource)


def _aws_managed(arns: Arns) -> Any:
    import pulumi

    return pulumi.Output.format("arn:{0}:iam::aws:policy/*", arns.partition)


def _public_parameters(arns: Arns) -> Any:
    if isinstance(arns.partition, str):
        return f"arn:{arns.partition}:ssm:{arns.region}::parameter/aws/service/*"
    import pulumi

    return pulumi.Output.format("arn:{0}:ssm:{1}::parameter/aws/service/*", arns.partition, arns.region)


def trust_document(provider_arn: Any, repository: str, identity: Identity) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "GitHubActionsOfThisRepository",
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                        "token.actions.githubusercontent.com:sub": f"repo:{repository}:{identity.subject}",
                    }
                },
            }
        ],
    }


if __name__ == "__main__":
    print(markdown_table(), end="")

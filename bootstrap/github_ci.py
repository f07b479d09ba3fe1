"""GitHubCiRoles: GitHub Actions' OIDC identity provider and the two roles the workflows assume.

- preview role, read-only: `pulumi preview --refresh` of pull requests and the promote workflow's
  registry check. Trusted for `repo:OWNER/REPO:pull_request` and the promotion environment.
- deploy role: `pulumi up` from deploy.yml. Trusted for the deploy branch (dev's job has no
  environment, so its subject is the ref) and the production environment (prod's job).

A job bound to an environment presents `repo:OWNER/REPO:environment:NAME` as its subject instead of
its ref, so each role lists exactly the subjects of the jobs that use it, compared with
StringEquals: no wildcard, no other repository, no fork.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import pulumi
import pulumi_aws as aws

from components.iam import policy_document, statement

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
STS_AUDIENCE = "sts.amazonaws.com"
READ_ONLY_POLICY = "ReadOnlyAccess"

# Every service the sagemaker-mlops program creates, updates, refreshes or deletes resources in.
DEFAULT_DEPLOY_SERVICES = (
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
    "kms",
    "lambda",
    "logs",
    "s3",
    "sagemaker",
    "sns",
    "sqs",
)
# Services that create their own service-linked role the first time the stack uses them.
SERVICE_LINKED_ROLES = (
    "sagemaker.application-autoscaling.amazonaws.com",
    "ecs.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
)
# What the deploy role may do to IAM roles and policies: only those named with the program's prefix.
PROJECT_IAM_ACTIONS = (
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:GetRole",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
    "iam:UpdateAssumeRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:ListRoleTags",
    "iam:PutRolePolicy",
    "iam:GetRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:ListRolePolicies",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
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


def github_subjects(repository: str, *, refs: Sequence[str] = (), environments: Sequence[str] = (), pull_requests: bool = False) -> list[str]:
    """OIDC `sub` values GitHub issues for jobs of `repository` (default claim format)."""
    subjects = [f"repo:{repository}:ref:refs/heads/{ref}" for ref in refs]
    subjects += [f"repo:{repository}:environment:{name}" for name in environments]
    if pull_requests:
        subjects.append(f"repo:{repository}:pull_request")
    return subjects


def github_trust_policy(provider_arn: pulumi.Input[str], subjects: Sequence[str]) -> pulumi.Output[str]:
    return policy_document(
        {
            "Sid": "GitHubActionsOfThisRepository",
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{GITHUB_OIDC_HOST}:aud": STS_AUDIENCE,
                    f"{GITHUB_OIDC_HOST}:sub": list(subjects),
                }
            },
        }
    )


@dataclass(frozen=True)
class StateAccess:
    """IAM statements on the S3 state backend: what a preview reads, what a deploy writes."""

    read: tuple[dict[str, Any], ...] = ()
    write: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class GitHubCiRolesArgs:
    repository: str
    """OWNER/REPO, as GitHub spells it."""
    region: str
    name_prefix: str
    program_name_prefix: str
    """Physical-name prefix of the deployed program's IAM roles and policies (`mlops-`)."""
    deploy_branch: str = "main"
    production_environment: str = "production"
    promotion_environment: str = "promotion"
    existing_oidc_provider_arn: Optional[str] = None
    state_bucket_arn: Optional[pulumi.Input[str]] = None
    state_key_arn: Optional[pulumi.Input[str]] = None
    deploy_services: Sequence[str] = field(default_factory=lambda: DEFAULT_DEPLOY_SERVICES)
    # A prod deploy waits for the blue/green canary and the CodeDeploy canary: longer than an hour.
    deploy_session_hours: int = 2


class GitHubCiRoles(pulumi.ComponentResource):
    provider_arn: pulumi.Output[str]
    preview_role: aws.iam.Role
    deploy_role: aws.iam.Role

    def __init__(self, name: str, args: GitHubCiRolesArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("sagemaker-mlops:bootstrap:GitHubCiRoles", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        partition = aws.get_partition_output(opts=invoke).partition

        if args.existing_oidc_provider_arn:
            self.provider_arn = pulumi.Output.from_input(args.existing_oidc_provider_arn)
        else:
            provider = aws.iam.OpenIdConnectProvider(
                f"{name}-oidc",
                url=f"https://{GITHUB_OIDC_HOST}",
                client_id_lists=[STS_AUDIENCE],
                # No thumbprint: IAM trusts GitHub's issuer through its own root CAs.
                opts=child,
            )
            self.provider_arn = provider.arn

        state = self._state_statements(args)

        def role(kind: str, description: str, subjects: list[str], hours: int) -> aws.iam.Role:
            return aws.iam.Role(
                f"{name}-{kind}-role",
                name=f"{args.name_prefix}-github-{kind}",
                description=description,
                assume_role_policy=github_trust_policy(self.provider_arn, subjects),
                max_session_duration=hours * 3600,
                opts=child,
            )

        self.preview_role = role(
            "preview",
            f"Read-only: pulumi preview of pull requests and registry checks of {args.repository}",
            github_subjects(args.repository, environments=[args.promotion_environment], pull_requests=True),
            1,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-preview-read-only",
            role=self.preview_role.name,
            policy_arn=pulumi.Output.format("arn:{0}:iam::aws:policy/{1}", partition, READ_ONLY_POLICY),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-preview-policy",
            role=self.preview_role.id,
            policy=policy_document(*state.read, self._deny_object_reads(args)),
            opts=child,
        )

        self.deploy_role = role(
            "deploy",
            f"pulumi up of the sagemaker-mlops stacks from {args.repository}",
            github_subjects(args.repository, refs=[args.deploy_branch], environments=[args.production_environment]),
            args.deploy_session_hours,
        )

        def iam_arn(resource: str) -> pulumi.Output[str]:
            return pulumi.Output.format("arn:{0}:iam::{1}:{2}", partition, account, resource)

        aws.iam.RolePolicy(
            f"{name}-deploy-policy",
            role=self.deploy_role.id,
            policy=policy_document(
                statement(
                    [f"{service}:*" for service in args.deploy_services],
                    ["*"],
                    sid="ProgramServicesInTheStackRegion",
                    conditions={"StringEquals": {"aws:RequestedRegion": args.region}},
                ),
                statement(
                    list(PROJECT_IAM_ACTIONS),
                    [iam_arn(f"role/{args.program_name_prefix}*"), iam_arn(f"policy/{args.program_name_prefix}*")],
                    sid="ProgramRolesAndPoliciesOnly",
                ),
                statement(
                    ["iam:GetPolicy", "iam:GetPolicyVersion"],
                    [pulumi.Output.format("arn:{0}:iam::aws:policy/*", partition)],
                    sid="ReadAwsManagedPolicies",
                ),
                # The program looks up AWS's public parameters (the Powertools layer ARN for the API).
                statement(
                    ["ssm:GetParameter", "ssm:GetParameters"],
                    [pulumi.Output.format("arn:{0}:ssm:{1}::parameter/aws/service/*", partition, args.region)],
                    sid="ReadAwsPublicParameters",
                ),
                statement(
                    ["iam:CreateServiceLinkedRole"],
                    [iam_arn("role/aws-service-role/*")],
                    sid="ServiceLinkedRolesOfProgramServices",
                    conditions={"StringEquals": {"iam:AWSServiceName": list(SERVICE_LINKED_ROLES)}},
                ),
                *state.write,
            ),
            opts=child,
        )
        self.register_outputs(
            {"provider_arn": self.provider_arn, "preview_role_arn": self.preview_role.arn, "deploy_role_arn": self.deploy_role.arn}
        )

    @staticmethod
    def _state_statements(args: GitHubCiRolesArgs) -> StateAccess:
        """Access to the S3 state backend. `pulumi preview` on a DIY backend takes no lock and
        writes no history (only up, refresh, import and destroy do), so the preview role reads only."""
        if args.state_bucket_arn is None or args.state_key_arn is None:
            return StateAccess()
        objects = pulumi.Output.concat(args.state_bucket_arn, "/*")
        listing = statement(["s3:ListBucket", "s3:GetBucketLocation"], [args.state_bucket_arn], sid="ListStateBucket")
        return StateAccess(
            read=(
                listing,
                statement(["s3:GetObject"], [objects], sid="ReadState"),
                statement(["kms:Decrypt", "kms:DescribeKey"], [args.state_key_arn], sid="DecryptStateAndSecrets"),
            ),
            write=(
                listing,
                statement(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], [objects], sid="ReadWriteStateAndLocks"),
                statement(
                    ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                    [args.state_key_arn],
                    sid="EncryptStateAndSecrets",
                ),
            ),
        )

    @staticmethod
    def _deny_object_reads(args: GitHubCiRolesArgs) -> dict[str, Any]:
        """ReadOnlyAccess includes s3:GetObject on every bucket: training data and model artifacts
        are not the preview's business. Refreshing buckets and their settings needs no object read."""
        deny: dict[str, Any] = {"Sid": "NoObjectReadsOutsideTheState", "Effect": "Deny", "Action": ["s3:GetObject", "s3:GetObjectVersion"]}
        if args.state_bucket_arn is None:
            deny["Resource"] = ["*"]
        else:
            # NotResource: statement() only writes Resource; this exception is the point of the deny.
            deny["NotResource"] = [pulumi.Output.concat(args.state_bucket_arn, "/*")]
        return deny

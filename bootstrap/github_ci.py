"""GitHubCiRoles: GitHub Actions' OIDC identity provider, the permissions boundary of the program's
roles, and one role per CI identity of `access.identities` (preview dev, preview prod, deploy dev,
deploy prod, promote).

Each role trusts exactly one OIDC subject (`repo:OWNER/REPO:pull_request` or
`repo:OWNER/REPO:environment:NAME`), compared with StringEquals: no wildcard, no other repository,
no fork. A job bound to an environment presents the environment as its subject instead of its ref,
so the environment's protection rules (required reviewers, deployment branches) decide who gets the
role.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_aws as aws
from access import (
    AWS_READ_ONLY,
    BOUNDARY_POLICY_NAME,
    DEFAULT_ENVIRONMENTS,
    READ_ONLY_POLICY,
    Arns,
    boundary_document,
    identities,
    identity_statements,
    trust_document,
)

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
STS_AUDIENCE = "sts.amazonaws.com"


@dataclass(frozen=True)
class GitHubCiRolesArgs:
    repository: str
    """OWNER/REPO, as GitHub spells it."""
    region: str
    name_prefix: str
    environments: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_ENVIRONMENTS))
    existing_oidc_provider_arn: Optional[str] = None
    state_bucket_arn: Optional[pulumi.Input[str]] = None
    state_key_arn: Optional[pulumi.Input[str]] = None
    secrets_key_arns: Optional[Mapping[str, pulumi.Input[str]]] = None


class GitHubCiRoles(pulumi.ComponentResource):
    provider_arn: pulumi.Output[str]
    boundary: aws.iam.Policy
    roles: dict[str, aws.iam.Role]

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

        boundary_arn = pulumi.Output.format("arn:{0}:iam::{1}:policy/{2}", partition, account, BOUNDARY_POLICY_NAME)
        arns = Arns(
            partition=partition,
            account=account,
            region=args.region,
            boundary=boundary_arn,
            state_bucket=args.state_bucket_arn,
            state_key=args.state_key_arn,
            secrets_keys=args.secrets_key_arns,
        )
        # Its name is outside the deploy roles' `mlops-<stack>-*` reach, and they are denied every
        # change to it: no deploy role can widen what the roles it creates may do.
        self.boundary = aws.iam.Policy(
            f"{name}-program-boundary",
            name=BOUNDARY_POLICY_NAME,
            description="Permissions boundary of every IAM role the sagemaker-mlops stacks create",
            policy=pulumi.Output.json_dumps(boundary_document(arns)),
            opts=child,
        )

        self.roles = {}
        for identity in identities(args.environments):
            role = aws.iam.Role(
                f"{name}-{identity.key}-role",
                name=identity.role_name(),
                description=f"GitHub Actions of {args.repository}: {identity.used_by}"[:1000],
                assume_role_policy=pulumi.Output.json_dumps(trust_document(self.provider_arn, args.repository, identity)),
                max_session_duration=identity.session_hours * 3600,
                opts=child,
            )
            if any(capability == AWS_READ_ONLY for capability, _ in identity.grants):
                aws.iam.RolePolicyAttachment(
                    f"{name}-{identity.key}-read-only",
                    role=role.name,
                    policy_arn=pulumi.Output.format("arn:{0}:iam::aws:policy/{1}", partition, READ_ONLY_POLICY),
                    opts=child,
                )
            aws.iam.RolePolicy(
                f"{name}-{identity.key}-policy",
                role=role.id,
                policy=pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": identity_statements(identity, arns)}),
                opts=child,
            )
            self.roles[identity.key] = role
        self.register_outputs(
            {
                "provider_arn": self.provider_arn,
                "boundary_arn": self.boundary.arn,
                **{f"{key}_role_arn": role.arn for key, role in self.roles.items()},
            }
        )

"""GitHubCiRoles: in one account, what that account's stacks need: GitHub Actions' OIDC identity
provider, each stack's permissions boundary and managed read/write policies, the CI roles whose
stack lives here (access.identities), and, in the registry stack's account, the approver's role.

Each CI role trusts the custom OIDC subjects of its runs (repository, context, workflow file and
ref, event; layout.OIDC_CLAIM_KEYS), compared exactly; only a pull request's number is a wildcard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_aws as aws
from access import DEFAULT_ENVIRONMENTS, DEPLOY, REFRESH, Identity, identities
from layout import Layout, boundary_name

from policies import (
    GITHUB_OIDC_HOST,
    STS_AUDIENCE,
    approver_statements,
    approver_trust,
    boundary_document,
    document,
    github_trust,
    identity_statements,
    managed_documents,
    managed_policy_name,
)


@dataclass(frozen=True)
class GitHubCiRolesArgs:
    layout: Layout
    account: str
    """The account this stack of bootstrap runs in: it creates only that account's part."""
    environments: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_ENVIRONMENTS))
    existing_oidc_provider_arn: Optional[str] = None


_PURPOSE = {"guards": "what no CI role of the stack may do", "read": "what a refresh reads"}


class GitHubCiRoles(pulumi.ComponentResource):
    provider_arn: Optional[pulumi.Output[str]]
    boundaries: dict[str, aws.iam.Policy]
    roles: dict[str, aws.iam.Role]

    def __init__(self, name: str, args: GitHubCiRolesArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("sagemaker-mlops:bootstrap:GitHubCiRoles", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        layout = args.layout
        stacks = layout.accounts_needing(args.account)
        here = [i for i in identities(args.environments) if i.stack in stacks]

        self.provider_arn = None
        if any(i.ci for i in here):
            if args.existing_oidc_provider_arn:
                self.provider_arn = pulumi.Output.from_input(args.existing_oidc_provider_arn)
            else:
                # No thumbprint: IAM trusts GitHub's issuer through its own root CAs.
                oidc = aws.iam.OpenIdConnectProvider(
                    f"{name}-oidc", url=f"https://{GITHUB_OIDC_HOST}", client_id_lists=[STS_AUDIENCE], opts=child
                )
                self.provider_arn = oidc.arn

        self.boundaries = {}
        managed: dict[str, dict[str, aws.iam.Policy]] = {}
        for stack in stacks:
            # Outside every deploy role's `mlops-<stack>-*` reach, and every change to it denied.
            self.boundaries[stack] = aws.iam.Policy(
                f"{name}-{stack}-boundary",
                name=boundary_name(stack),
                description=f"Permissions boundary of every IAM role the sagemaker-mlops {stack} stack creates",
                policy=pulumi.Output.json_dumps(boundary_document(layout, stack)),
                opts=child,
            )
            managed[stack] = {
                part: aws.iam.Policy(
                    f"{name}-{stack}-{part}",
                    name=managed_policy_name(stack, part),
                    description=f"sagemaker-mlops {stack}: {_PURPOSE.get(part, 'changes to the declared resource types')}",
                    policy=pulumi.Output.json_dumps(doc),
                    opts=child,
                )
                for part, doc in managed_documents(layout, stack).items()
            }

        self.roles = {}
        for identity in here:
            self.roles[identity.key] = self._role(name, identity, layout, managed[identity.stack], child)
        self.register_outputs({f"{key}_role_arn": role.arn for key, role in self.roles.items()})

    def _role(
        self, name: str, identity: Identity, layout: Layout, managed: Mapping[str, aws.iam.Policy], child: pulumi.ResourceOptions
    ) -> aws.iam.Role:
        if identity.ci:
            trust = pulumi.Output.json_dumps(github_trust(self.provider_arn, layout.repository, identity))
            statements = identity_statements(layout, identity)
        else:
            trust = pulumi.Output.json_dumps(approver_trust(layout))
            statements = approver_statements(layout)
        role = aws.iam.Role(
            f"{name}-{identity.key}-role",
            name=identity.role_name(),
            description=f"{layout.repository}: {identity.used_by}"[:1000],
            assume_role_policy=trust,
            max_session_duration=identity.session_hours * 3600,
            opts=child,
        )
        aws.iam.RolePolicy(f"{name}-{identity.key}-policy", role=role.id, policy=pulumi.Output.json_dumps(document(statements)), opts=child)
        kinds = {c for c, _ in identity.grants}
        parts = [
            p
            for p in managed
            if (p == "guards" and identity.ci) or (p == "read" and REFRESH in kinds) or (p.startswith("write-") and DEPLOY in kinds)
        ]
        for part in parts:
            aws.iam.RolePolicyAttachment(f"{name}-{identity.key}-managed-{part}", role=role.name, policy_arn=managed[part].arn, opts=child)
        return role

"""sagemaker-mlops-bootstrap: what an administrator creates once in each AWS account so that CI can
run the sagemaker-mlops stacks with GitHub OIDC instead of long-lived keys (docs/bootstrap.md).

One stack of this project per account (`account` names which); every stack prints the same merged
`repositoryVariables`, since every name and ARN follows from the configured layout.
"""

import sys
from pathlib import Path

# This project reuses the program's components (SecureBucket) from the repository root; its own
# modules sit next to this file.
for _folder in (Path(__file__).resolve().parent, Path(__file__).resolve().parent.parent):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

import pulumi  # noqa: E402
import pulumi_aws as aws  # noqa: E402
from access import identities  # noqa: E402
from github_ci import GitHubCiRoles, GitHubCiRolesArgs  # noqa: E402
from layout import PROJECT, STACKS, oidc_subject_command, oidc_subject_template  # noqa: E402
from settings import load  # noqa: E402
from state_backend import StateBackend, StateBackendArgs  # noqa: E402

settings = load()
layout = settings.layout
provider = aws.Provider(
    "aws",
    region=layout.region,
    # Only the configured account: credentials of another account fail before any change.
    allowed_account_ids=[settings.account],
    default_tags=aws.ProviderDefaultTagsArgs(
        tags={"Project": PROJECT, "Component": "bootstrap", "Repository": layout.repository, "ManagedBy": "pulumi"}
    ),
)
everyone = identities(settings.environments)

if layout.state_backend and layout.accounts["state"] == settings.account:
    StateBackend(
        "state",
        StateBackendArgs(layout=layout, identities=everyone),
        # Losing the bucket or a key loses every stack's state and secrets: deleting them takes
        # an explicit `pulumi state unprotect`.
        opts=pulumi.ResourceOptions(providers=[provider], protect=True),
    )

ci = GitHubCiRoles(
    "github",
    GitHubCiRolesArgs(
        layout=layout,
        account=settings.account,
        environments=settings.environments,
        existing_oidc_provider_arn=settings.existing_oidc_provider_arn,
    ),
    opts=pulumi.ResourceOptions(providers=[provider]),
)

# The same in every account's stack: set them once (docs/bootstrap.md).
variables: dict[str, str] = {"AWS_REGION": layout.region}
for identity in everyone:
    if identity.ci:
        variables[identity.variable] = layout.role_arn(layout.account(identity.stack), identity.role_name())
if layout.state_backend:
    variables["PULUMI_BACKEND_URL"] = layout.backend_url
pulumi.export("repositoryVariables", variables)
pulumi.export(
    "createdHere",
    {
        "stacks": layout.accounts_needing(settings.account),
        "roles": sorted(ci.roles),
        "stateBackend": layout.state_backend and layout.accounts["state"] == settings.account,
    },
)
pulumi.export("permissionsBoundaryArns", {s: layout.boundary_arn(s) for s in STACKS})
pulumi.export("approverRoleArn", layout.role_arn(layout.account("dev"), next(i for i in everyone if not i.ci).role_name()))
if ci.provider_arn is not None:
    pulumi.export("oidcProviderArn", ci.provider_arn)
pulumi.export("oidcSubjectTemplate", oidc_subject_template())
pulumi.export("oidcSubjectCommand", oidc_subject_command(layout.repository))
if layout.state_backend:
    # `pulumi stack init <stack> --secrets-provider <this>` (docs/bootstrap.md).
    pulumi.export("secretsProviders", {s: layout.secrets_provider(s) for s in STACKS})

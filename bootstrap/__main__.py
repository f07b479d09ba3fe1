"""sagemaker-mlops-bootstrap: what an administrator creates once per AWS account so that CI can run
the sagemaker-mlops stacks with GitHub OIDC instead of long-lived keys.

    cd bootstrap && pulumi stack init github && pulumi config set githubRepository OWNER/REPO && pulumi up

Outputs the values to store as the repository's Actions variables (`repositoryVariables`).
"""

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

# This project reuses the program's components (SecureBucket, IAM helpers) from the repository root;
# its own modules sit next to this file.
for _folder in (Path(__file__).resolve().parent, Path(__file__).resolve().parent.parent):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

import pulumi  # noqa: E402
import pulumi_aws as aws  # noqa: E402
from access import identities  # noqa: E402
from github_ci import GitHubCiRoles, GitHubCiRolesArgs  # noqa: E402
from state_backend import StateBackend, StateBackendArgs  # noqa: E402

NAME_PREFIX = "sagemaker-mlops"
_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_GIT_NAME = re.compile(r"^[A-Za-z0-9._/-]{1,255}$")
_OIDC_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com$")


@dataclass(frozen=True)
class BootstrapConfig:
    region: str
    repository: str
    environments: dict[str, str]
    existing_oidc_provider_arn: Optional[str]
    state_backend: bool


def load_config() -> BootstrapConfig:
    config = pulumi.Config()
    key = f"{pulumi.get_project()}:"
    problems: list[str] = []

    def text(name: str, default: Optional[str], pattern: re.Pattern[str], expected: str) -> str:
        value = config.get(name)
        if value is None:
            if default is None:
                problems.append(f"{key}{name}: required key is missing; expected {expected}")
                return ""
            return default
        if not pattern.match(value):
            problems.append(f"{key}{name} = {value!r}: expected {expected}")
        return value

    repository = text("githubRepository", None, _REPOSITORY, "OWNER/REPO, the GitHub repository whose workflows deploy")
    environments = {
        "dev": text("devEnvironment", "dev", _GIT_NAME, "a GitHub environment name"),
        "production": text("productionEnvironment", "production", _GIT_NAME, "a GitHub environment name"),
        "productionPreview": text("productionPreviewEnvironment", "production-preview", _GIT_NAME, "a GitHub environment name"),
        "promotion": text("promotionEnvironment", "promotion", _GIT_NAME, "a GitHub environment name"),
    }
    # Each role trusts one environment: sharing one would hand a job every role that trusts it.
    seen: dict[str, str] = {}
    for name, value in environments.items():
        if value in seen:
            problems.append(
                f"{key}{name}Environment = {value!r}: must differ from {seen[value]}Environment (each identity has its own environment)"
            )
        seen.setdefault(value, name)
    existing = config.get("existingOidcProviderArn")
    if existing is not None and not _OIDC_ARN.match(existing):
        problems.append(
            f"{key}existingOidcProviderArn = {existing!r}: expected arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com"
        )
    try:
        state_backend = config.get_bool("stateBackend")
    except pulumi.ConfigTypeError:
        problems.append(f"{key}stateBackend = {config.get('stateBackend')!r}: expected true or false")
        state_backend = None
    region = pulumi.Config("aws").get("region")
    if region is None:
        problems.append("aws:region: required key is missing; expected an AWS region such as us-east-1")

    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise pulumi.RunError(
            f"invalid configuration for stack '{pulumi.get_stack()}' ({len(problems)} problem{'s' if len(problems) != 1 else ''}):\n{lines}"
        )
    return BootstrapConfig(
        region=str(region),
        repository=repository,
        environments=environments,
        existing_oidc_provider_arn=existing,
        state_backend=True if state_backend is None else state_backend,
    )


settings = load_config()
provider = aws.Provider(
    "aws",
    region=settings.region,
    default_tags=aws.ProviderDefaultTagsArgs(
        tags={"Project": NAME_PREFIX, "Component": "bootstrap", "Repository": settings.repository, "ManagedBy": "pulumi"}
    ),
)

state = None
if settings.state_backend:
    state = StateBackend(
        "state",
        StateBackendArgs(name_prefix=NAME_PREFIX, region=settings.region),
        # Losing the bucket or the key loses every stack's state and secrets: deleting them takes
        # an explicit `pulumi state unprotect`.
        opts=pulumi.ResourceOptions(providers=[provider], protect=True),
    )

ci = GitHubCiRoles(
    "github",
    GitHubCiRolesArgs(
        repository=settings.repository,
        region=settings.region,
        name_prefix=NAME_PREFIX,
        environments=settings.environments,
        existing_oidc_provider_arn=settings.existing_oidc_provider_arn,
        state_bucket_arn=state.bucket.arn if state else None,
        state_key_arn=state.key.arn if state else None,
        secrets_key_arns={stack: key.arn for stack, key in state.secrets_keys.items()} if state else None,
    ),
    opts=pulumi.ResourceOptions(providers=[provider]),
)

pulumi.export("oidcProviderArn", ci.provider_arn)
pulumi.export("permissionsBoundaryArn", ci.boundary.arn)
variables: dict[str, object] = {"AWS_REGION": settings.region}
for identity in identities(settings.environments):
    variables[identity.variable] = ci.roles[identity.key].arn
if state:
    pulumi.export("stateBucket", state.bucket.name)
    # `pulumi stack init <stack> --secrets-provider <this>` (see docs/gitops.md).
    pulumi.export("secretsProviders", state.secrets_providers)
    variables["PULUMI_BACKEND_URL"] = state.backend_url
pulumi.export("repositoryVariables", variables)

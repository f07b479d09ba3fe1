"""Where each part lives: the accounts of the dev (registry) stack, the prod stack and the state
backend, and the names and ARNs every policy uses. All plain text, known from config alone, so
one account's bootstrap can name what another account's creates (the merged repository variables,
cross-account grants) without reading it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

PROJECT = "sagemaker-mlops"
STACKS = ("dev", "prod")
# The stack that owns the training pipeline and the model registry; prod reads it.
REGISTRY_STACK = "dev"
# The custom OIDC subject: which claims GitHub puts into `sub`, in this order (set on the
# repository, see `oidc_subject_command`).
OIDC_CLAIM_KEYS = ("repo", "context", "job_workflow_ref", "event_name")


def other(stack: str) -> str:
    return next(s for s in STACKS if s != stack)


def boundary_name(stack: str) -> str:
    """The permissions boundary of every role the stack's program creates (components/shared/permissions_boundary.py)."""
    return f"{PROJECT}-{stack}-boundary"


def program_prefix(stack: str) -> str:
    """Every named resource of the program's stack starts with it (roles, policies, functions …)."""
    return f"mlops-{stack}-"


def secrets_alias(stack: str) -> str:
    return f"alias/{PROJECT}-{stack}-secrets"


STATE_KEY_ALIAS = f"alias/{PROJECT}-state"


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


@dataclass(frozen=True)
class Layout:
    """`accounts`: the account of each stack (`dev`, `prod`) and of the state backend (`state`)."""

    region: str
    accounts: Mapping[str, str]
    repository: str
    state_backend: bool = True
    hosted_zones: Mapping[str, str] = field(default_factory=dict)
    """stack -> Route 53 hosted zone id the stack's records go into."""
    approver_principals: tuple[str, ...] = ()
    """Who may assume the approver role; empty: the registry account's IAM Identity Center roles."""

    @property
    def partition(self) -> str:
        return partition_of(self.region)

    def account(self, stack: str) -> str:
        return self.accounts[stack]

    def iam(self, account: str, resource: str) -> str:
        return f"arn:{self.partition}:iam::{account}:{resource}"

    def arn(self, service: str, account: str, resource: str, region: Optional[str] = None) -> str:
        return f"arn:{self.partition}:{service}:{self.region if region is None else region}:{account}:{resource}"

    def boundary_arn(self, stack: str) -> str:
        return self.iam(self.account(stack), f"policy/{boundary_name(stack)}")

    def role_arn(self, account: str, name: str) -> str:
        return self.iam(account, f"role/{name}")

    # ---- the state backend (S3 + KMS), in the state account -----------------------------------

    @property
    def state_bucket(self) -> str:
        """Named, not generated: the other account's grants and the backend URL name it."""
        return f"{PROJECT}-state-{self.accounts['state']}-{self.region}"

    @property
    def state_bucket_arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.state_bucket}"

    @property
    def state_keys(self) -> str:
        """Every key of the state account; grants name which by `kms:ResourceAliases`."""
        return self.arn("kms", self.accounts["state"], "key/*")

    def secrets_provider(self, stack: str) -> str:
        # The alias ARN, not `alias/…`: a bare alias resolves only in the caller's account.
        alias_arn = self.arn("kms", self.accounts["state"], secrets_alias(stack))
        return f"awskms:///{alias_arn}?region={self.region}"

    @property
    def backend_url(self) -> str:
        return f"s3://{self.state_bucket}?region={self.region}"

    def accounts_needing(self, account: str) -> list[str]:
        return [s for s in STACKS if self.accounts[s] == account]

    @property
    def cross_account(self) -> bool:
        return len(set(self.accounts.values())) > 1


def oidc_subject_template() -> dict[str, object]:
    return {"use_default": False, "include_claim_keys": list(OIDC_CLAIM_KEYS)}


def oidc_subject_command(repository: str) -> str:
    """The one call that makes GitHub issue the subjects the roles trust (repository admin)."""
    import json

    body = json.dumps(oidc_subject_template(), separators=(",", ":"))
    return f"gh api --method PUT repos/{repository}/actions/oidc/customization/sub --input - <<<'{body}'"

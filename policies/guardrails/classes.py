"""The guardrails written by class: what each class is, why it exists and which pulumi-aws types it
judges, read from the installed provider (docs/policies.md is generated from this)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Callable

from guardrails import data_at_rest, deletion_protection, identities, public_exposure, resource_policies, transport


@dataclass(frozen=True)
class GuardrailClass:
    title: str
    policies: tuple[str, ...]
    reason: str
    selected_by: str
    types_covered: Callable[[Iterable[str]], list[str]]
    not_judged_here: Mapping[str, str]


CLASSES = [
    GuardrailClass(
        "Resource-based policies",
        ("resource-policy-trusted-principals",),
        "One careless line in a resource policy opens data to the world or to another company: `Principal: *` without a "
        "narrowing condition (aws:SourceArn, aws:SourceAccount, aws:PrincipalOrgID, aws:SourceVpce with a positive "
        "operator), an Allow with NotPrincipal, a foreign account, a web identity without a claim condition.",
        "an input holding a policy document (" + ", ".join(resource_policies.DOCUMENT_PROPERTIES) + ") or a principal property",
        resource_policies.types_covered,
        resource_policies.NOT_RESOURCE_POLICIES,
    ),
    GuardrailClass(
        "Data at rest",
        ("data-at-rest-project-key",),
        "A store left to its default is unencrypted or encrypted with an AWS-managed key outside the project's key "
        "policy, rotation and audit.",
        "an input naming a KMS key or an encryption block",
        data_at_rest.types_covered,
        data_at_rest.NOT_JUDGED_HERE,
    ),
    GuardrailClass(
        "Data in transit",
        ("encryption-in-transit",),
        "A cache, search domain or custom API domain left to its default accepts plain-text or TLS 1.0 connections.",
        "a transport switch (" + ", ".join(transport.RULES) + ")",
        transport.TRANSPORT.types_covered,
        transport.TRANSPORT.not_judged_here,
    ),
    GuardrailClass(
        "Public exposure",
        ("no-public-exposure",),
        "A public address puts a database, broker or instance on the internet with only its security group in front.",
        "a public-address switch (" + ", ".join(public_exposure.EXPOSING) + ")",
        public_exposure.EXPOSURE.types_covered,
        public_exposure.EXPOSURE.not_judged_here,
    ),
    GuardrailClass(
        "Deletion protection",
        ("deletion-protection",),
        "A rename replaces and a destroy deletes: where AWS can refuse the delete, prod makes it refuse.",
        "a deletion-protection switch (" + ", ".join(deletion_protection.PROTECTING) + ")",
        deletion_protection.PROTECTION.types_covered,
        deletion_protection.PROTECTION.not_judged_here,
    ),
    GuardrailClass(
        "IAM users and credentials",
        ("iam-no-users",),
        "An IAM user's password or access key never expires and leaks with a laptop; people use SSO, pipelines OIDC roles.",
        "an `aws:iam/...` type that is a user or takes " + ", ".join(sorted(identities.USER_INPUTS)),
        identities.types_covered,
        {},
    ),
]

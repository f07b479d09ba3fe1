"""Resource-based policies: no one outside the trusted accounts is let in.

A resource policy (bucket, key, topic, queue, repository, model package group, secret, event bus,
API, file system, search domain, vault, a role's trust policy, a Lambda or layer permission, ...)
is the one place where a careless line opens data to the world: `"Principal": "*"` without a
condition, or another company's account. This class judges every pulumi-aws type that carries one,
read from the provider's schema (provider_schema), so a type the program adds later is judged the
day it appears.

Who is trusted: the stack's own account, the accounts the stack's config lets consume the registry
(`<project>:registry.consumerAccounts`, which the engine passes to the pack as PULUMI_CONFIG) and
the accounts listed in the policy's `trustedAccounts` config. The pack cannot call STS: the own
account is the one the document's own ARNs name (its Resource, its service conditions), or the
stack config's `aws:allowedAccountIds` when set. AWS-owned service principals are not accounts and
are not judged here (a service acting for any account is lambda-permission-restricted's concern).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Any, Callable, Iterable, Optional

from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy

from guardrails.aws_accounts import ELB_LOG_DELIVERY_ACCOUNTS
from guardrails.common import as_list, bullet_list, parse_json, string_list_config
from guardrails.provider_schema import input_properties

# Input properties that hold a policy document whose statements may name principals.
DOCUMENT_PROPERTIES = ("policy", "accessPolicies", "accessPolicy", "policyDocument", "resourcePolicy", "assumeRolePolicy", "policyText")
# Types whose document property is not a resource policy, and why they are left to other checks.
NOT_RESOURCE_POLICIES = {
    "aws:ec2/vpcEndpoint:VpcEndpoint": "an endpoint policy filters what callers inside the VPC may reach; Principal '*' is its norm",
    "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy": "an endpoint policy filters what callers inside the VPC may reach; Principal '*' is its norm",
    "aws:iam/policy:Policy": "an identity policy (no Principal): judged by the iam-* guardrails",
    "aws:iam/rolePolicy:RolePolicy": "an identity policy (no Principal): judged by the iam-* guardrails",
    "aws:iam/userPolicy:UserPolicy": "an identity policy (no Principal): judged by the iam-* guardrails",
    "aws:iam/groupPolicy:GroupPolicy": "an identity policy (no Principal): judged by the iam-* guardrails",
}
# Types that grant one principal through properties instead of a document.
PRINCIPAL_PROPERTY_TYPES = {
    "aws:lambda/permission:Permission": ("principal", ("sourceArn", "sourceAccount", "principalOrgId")),
    "aws:lambda/layerVersionPermission:LayerVersionPermission": ("principal", ("organizationId",)),
    "aws:cloudwatch/eventPermission:EventPermission": ("principal", ("condition",)),
}

BUCKET_POLICY_TYPES = frozenset({"aws:s3/bucketPolicy:BucketPolicy", "aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"})

# Condition keys that tie a wildcard principal to a known caller, with the operators that test them
# positively (a negated operator, Null or an ...IfExists variant lets a request without the key in).
NARROWING_KEYS = {
    "aws:sourcearn": "arn",
    "aws:sourceaccount": "account",
    "aws:sourceowner": "account",
    "aws:principalaccount": "account",
    "aws:principalarn": "arn",
    "aws:principalorgid": "id",
    "aws:principalorgpaths": "id",
    "aws:sourceorgid": "id",
    "aws:sourceorgpaths": "id",
    "aws:sourcevpce": "id",
    "aws:sourcevpc": "id",
    "kms:calleraccount": "account",
}
NARROWING_OPERATORS = frozenset(
    {"stringequals", "stringlike", "stringequalsignorecase", "arnequals", "arnlike", "forallvalues:stringequals", "forallvalues:stringlike"}
    | {"foranyvalue:stringequals", "foranyvalue:stringlike"}
)
_ACCOUNT = re.compile(r"^\d{12}$")
_ARN_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:(\d{12}):")
_PRINCIPAL_ARN = re.compile(r"^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):")
PROJECT = os.environ.get("PULUMI_PROJECT", "sagemaker-mlops")


def document_property(resource_type: str) -> Optional[str]:
    """The property holding the type's resource policy, read from the provider's schema."""
    if resource_type in NOT_RESOURCE_POLICIES:
        return None
    properties = input_properties(resource_type) or frozenset()
    return next((p for p in DOCUMENT_PROPERTIES if p in properties), None)


def judged(resource_type: str) -> bool:
    return resource_type in PRINCIPAL_PROPERTY_TYPES or document_property(resource_type) is not None


# ---- who is trusted -----------------------------------------------------------------------------


def _stack_config() -> Mapping[str, Any]:
    """The stack's config as the engine hands it to analyzers (PULUMI_CONFIG, values as text)."""
    try:
        config = json.loads(os.environ.get("PULUMI_CONFIG") or "{}")
    except ValueError:
        return {}
    return config if isinstance(config, Mapping) else {}


def configured_accounts(policy_config: Mapping[str, Any]) -> set[str]:
    """Accounts trusted by configuration: trustedAccounts, registry.consumerAccounts, aws:allowedAccountIds."""
    config = _stack_config()
    registry = parse_json(config.get(f"{PROJECT}:registry"))
    consumers = registry.get("consumerAccounts") if isinstance(registry, Mapping) else None
    allowed = parse_json(config.get("aws:allowedAccountIds"))
    found = [*as_list(policy_config.get("trustedAccounts")), *as_list(consumers), *as_list(allowed)]
    return {str(a) for a in found if _ACCOUNT.match(str(a))}


def _accounts_in(value: Any) -> set[str]:
    accounts = set()
    for item in as_list(value):
        text = str(item)
        if _ACCOUNT.match(text):
            accounts.add(text)
        found = _ARN_ACCOUNT.match(text)
        if found:
            accounts.add(found[1])
    return accounts


def own_accounts(statements: list[Mapping[str, Any]]) -> set[str]:
    """The account the document protects: named by its Resource ARNs, or by the conditions with
    which it narrows AWS services (which act for the account that owns the resource)."""
    accounts: set[str] = set()
    for statement in statements:
        accounts |= _accounts_in(statement.get("Resource"))
        principal = statement.get("Principal")
        if isinstance(principal, Mapping) and set(principal) == {"Service"}:
            for operator, tests in _conditions(statement):
                if operator in NARROWING_OPERATORS:
                    for key, values in tests.items():
                        if NARROWING_KEYS.get(key.lower()) in ("account", "arn"):
                            accounts |= _accounts_in(values)
    return accounts


# ---- statements ---------------------------------------------------------------------------------


def _conditions(statement: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping):
        return []
    return [(str(op).lower(), tests) for op, tests in condition.items() if isinstance(tests, Mapping)]


def narrowing(statement: Mapping[str, Any], trusted: set[str]) -> list[str]:
    """The condition keys that tie the statement to a known caller (trusted accounts for account keys)."""
    found = []
    for operator, tests in _conditions(statement):
        if operator not in NARROWING_OPERATORS:
            continue
        for key, values in tests.items():
            kind = NARROWING_KEYS.get(str(key).lower())
            texts = [str(v) for v in as_list(values)]
            if kind is None or not texts or any(t.strip("*?") == "" for t in texts):
                continue
            if kind == "account" and not all(t in trusted for t in texts):
                continue
            if kind == "arn" and not all(_arn_account_trusted(t, trusted) for t in texts):
                continue
            found.append(f"{operator} {key}")
    return found


def _arn_account_trusted(arn: str, trusted: set[str]) -> bool:
    parts = arn.split(":")
    if len(parts) < 6:
        return False
    account = parts[4]
    return account == "" or account in trusted  # S3 ARNs carry no account: the bucket name is the narrowing


def principal_entries(statement: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(kind, value) for every principal: kind AWS, Service, Federated, CanonicalUser or * ."""
    principal = statement.get("Principal", statement.get("NotPrincipal"))
    if principal is None:
        return []
    if isinstance(principal, str):
        return [("*" if principal == "*" else "AWS", principal)]
    if not isinstance(principal, Mapping):
        return [("?", str(principal))]
    return [(str(kind), str(value)) for kind, values in principal.items() for value in as_list(values)]


def _statement_label(statement: Mapping[str, Any], index: int) -> str:
    sid = statement.get("Sid")
    return f"statement {sid!r}" if sid else f"statement {index + 1}"


def statement_problems(statement: Mapping[str, Any], index: int, trusted: set[str]) -> list[str]:
    """Why one Allow statement lets in a principal outside the trusted accounts."""
    if str(statement.get("Effect", "Allow")) != "Allow":
        return []  # a Deny with Principal "*" only takes access away
    label = _statement_label(statement, index)
    narrowed = narrowing(statement, trusted)
    if "NotPrincipal" in statement:
        if narrowed:
            return []
        return [f"{label} allows everyone except {statement['NotPrincipal']!r} (Allow with NotPrincipal) and no condition narrows it"]
    problems = []
    for kind, value in principal_entries(statement):
        if kind == "Service":
            continue
        if kind == "Federated":
            problems += _federated_problem(statement, label, value, trusted)
            continue
        if kind == "*" or value == "*":
            if not narrowed:
                problems.append(
                    f"{label} allows any principal ('*') and no condition narrows it to a known caller "
                    "(aws:SourceArn, aws:SourceAccount, aws:PrincipalOrgID, aws:SourceVpce ... with StringEquals/ArnLike)"
                )
            continue
        account = _principal_account(value)
        if account is None:
            if not narrowed:
                problems.append(f"{label} names {kind} principal {value!r}, which cannot be attributed to a trusted account")
        elif account not in trusted:
            problems.append(f"{label} lets account {account} in ({value}), which is not the stack's account or a configured one")
    return problems


def _principal_account(value: str) -> Optional[str]:
    if _ACCOUNT.match(value):
        return value
    found = _PRINCIPAL_ARN.match(value)
    return found[1] if found else None


def _federated_problem(statement: Mapping[str, Any], label: str, value: str, trusted: set[str]) -> list[str]:
    """A web identity or SAML principal must be narrowed on its own claims (aud/sub), or anyone
    holding a token of that provider (any GitHub repository, any Cognito pool user) may assume."""
    account = _principal_account(value)
    if account is not None and account not in trusted:
        return [f"{label} trusts identity provider {value} of account {account}, which is not a trusted account"]
    provider = value.split(":oidc-provider/", 1)[1] if ":oidc-provider/" in value else value
    if ":saml-provider/" in value:
        provider = "SAML"
    keys = {str(k).lower() for op, tests in _conditions(statement) if op in NARROWING_OPERATORS for k in tests}
    claims = {f"{provider.lower()}:{claim}" for claim in ("sub", "aud", "amr")}
    if keys & claims:
        return []
    return [
        f"{label} trusts {value} with no condition on its token's claims ({provider}:sub or :aud): any of its users may assume the role"
    ]


# ---- the policy ---------------------------------------------------------------------------------


def trusted_accounts(args: ResourceValidationArgs, statements: list[Mapping[str, Any]]) -> set[str]:
    trusted = configured_accounts(args.get_config()) | own_accounts(statements)
    if args.resource_type in BUCKET_POLICY_TYPES:
        trusted |= set(ELB_LOG_DELIVERY_ACCOUNTS.values())  # AWS's load balancer log writers (aws_accounts)
    return trusted


def _document_statements(value: Any) -> tuple[Optional[list[Mapping[str, Any]]], Optional[str]]:
    """The statements of a document, or why it cannot be read."""
    document = parse_json(value)
    if document is None or document == "":
        return [], None
    if not isinstance(document, Mapping):
        return None, "the document is not a JSON object"
    # A single statement may stand without a list around it.
    return [s for s in as_list(document.get("Statement")) if isinstance(s, Mapping)], None


def _check(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    label = f"{args.resource_type} '{args.name}'"
    if args.resource_type in PRINCIPAL_PROPERTY_TYPES:
        problems = _principal_property_problems(args)
    else:
        prop = document_property(args.resource_type)
        if prop is None:
            return
        statements, unreadable = _document_statements(args.props.get(prop))
        if statements is None:
            report(f"{label}'s {prop} cannot be judged: {unreadable}. Write it as an IAM policy document (JSON).")
            return
        trusted = trusted_accounts(args, statements)
        problems = [p for i, s in enumerate(statements) for p in statement_problems(s, i, trusted)]
    if problems:
        report(
            f"{label} lets in principals outside the trusted accounts:{bullet_list(problems)}\n"
            "Name the caller: a service principal with an aws:SourceArn/aws:SourceAccount condition, or an account that is "
            "the stack's own, listed in registry.consumerAccounts (Pulumi.<stack>.yaml) or in this policy's trustedAccounts "
            "(policies/config/<stack>.json); narrow a '*' principal with StringEquals aws:PrincipalOrgID or aws:SourceVpce."
        )


def _principal_property_problems(args: ResourceValidationArgs) -> list[str]:
    principal_key, narrowing_keys = PRINCIPAL_PROPERTY_TYPES[args.resource_type]
    principal = str(args.props.get(principal_key) or "")
    if not principal or principal.endswith(".amazonaws.com"):
        return []  # services: lambda-permission-restricted requires their source ARN
    narrowed = [k for k in narrowing_keys if args.props.get(k)]
    trusted = configured_accounts(args.get_config()) | _accounts_in(args.props.get("sourceArn"))
    if principal == "*":
        return [] if narrowed else [f"{principal_key} is '*' and none of {', '.join(narrowing_keys)} narrows it"]
    account = _principal_account(principal)
    if account is None:
        return [] if narrowed else [f"{principal_key} {principal!r} cannot be attributed to a trusted account"]
    if account not in trusted:
        return [f"{principal_key} lets account {account} in, which is not a configured account"]
    return []


def types_covered(all_types: Iterable[str]) -> list[str]:
    """The resource types of the provider this class judges (for the generated docs)."""
    return sorted(t for t in all_types if judged(t))


resource_policy_trusted_principals = ResourceValidationPolicy(
    name="resource-policy-trusted-principals",
    description="Resource-based policies (every pulumi-aws type carrying one) let in no '*' or foreign-account principal without "
    "a narrowing condition; accounts only when the stack's own or configured.",
    validate=lambda args, report: _check(args, lambda message: report(message, None)) if judged(args.resource_type) else None,
    config_schema=string_list_config(
        "trustedAccounts",
        [],
        "12-digit AWS accounts (besides the stack's own and registry.consumerAccounts) that resource policies may name.",
    ),
)

POLICIES = [resource_policy_trusted_principals]

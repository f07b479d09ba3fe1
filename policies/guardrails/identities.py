"""IAM identities: no long-lived users or credentials, and no grant that lets a role raise itself.

People reach the accounts through SSO and pipelines through GitHub OIDC roles (bootstrap/, docs/gitops.md):
an IAM user, its access key, console password, SSH key or service credential is a secret that
never expires and leaks with a laptop (AWS Config iam-user-no-policies-check, access-keys-rotated;
Security Hub IAM.6/IAM.8; Checkov CKV_AWS_273). The class is every `aws:iam/...` type that creates
a user or hangs something on one (its schema takes `user`, `users` or `user_name`).

An identity policy that allows the IAM write actions that edit policies, trust or credentials on
every resource lets whoever holds it grant themselves anything (Checkov CKV_AWS_286 "privilege
escalation", CKV_AWS_287 "credentials exposure"): that is administrator access spelled longer.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any, Callable

from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy

from guardrails.common import as_list, bullet_list, is_allow, peek, resource_policy, statements
from guardrails.iam import DOCUMENT_PROPERTIES, ROLE, documents
from guardrails.provider_schema import input_properties

USER = "aws:iam/user:User"
# Inputs that hang a resource on a user (access keys, login profiles, SSH keys, service credentials, ...).
USER_INPUTS = frozenset({"user", "users", "username", "userName"})
# Actions that edit who may do what: holding one on every resource is holding them all.
ESCALATION_ACTIONS = (
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:PutRolePolicy",
    "iam:PutUserPolicy",
    "iam:PutGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:AttachUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:AddUserToGroup",
    "iam:CreateRole",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
)


def is_user_type(resource_type: str) -> bool:
    if not resource_type.startswith("aws:iam/"):
        return False
    return resource_type == USER or bool((input_properties(resource_type) or frozenset()) & USER_INPUTS)


def types_covered(all_types: Any) -> list[str]:
    return sorted(t for t in all_types if is_user_type(t))


def _no_users(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    if not is_user_type(args.resource_type):
        return
    if args.resource_type != USER and not any(as_list(peek(args.props, p)) for p in USER_INPUTS):
        return  # e.g. a PolicyAttachment that names roles and groups only
    report(
        f"{args.resource_type} '{args.name}' creates or equips an IAM user: a long-lived identity whose password or access keys "
        "never expire. People sign in through IAM Identity Center (SSO); pipelines assume a role through GitHub OIDC "
        "(bootstrap/); a service gets a role of its own."
    )


def _escalation(statement: Mapping[str, Any]) -> list[str]:
    if not is_allow(statement):
        return []
    resources = [str(r) for r in as_list(statement.get("Resource"))]
    if statement.get("NotResource") is None and not any(
        r == "*" or r.endswith((":role/*", ":user/*", ":policy/*", ":*")) for r in resources
    ):
        return []
    if statement.get("NotAction") is not None:
        excluded = [str(a) for a in as_list(statement["NotAction"])]
        return [a for a in ESCALATION_ACTIONS if not any(fnmatch.fnmatchcase(a.lower(), p.lower()) for p in excluded)]
    actions = [str(a) for a in as_list(statement.get("Action"))]
    return [a for a in ESCALATION_ACTIONS if any(fnmatch.fnmatchcase(a.lower(), p.lower()) for p in actions)]


def _no_escalation(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    for where, document in documents(args):
        found = []
        for statement in statements(document):
            actions = _escalation(statement)
            if actions:
                sid = statement.get("Sid")
                found.append(f"{'statement ' + repr(sid) if sid else 'a statement'} allows {', '.join(actions)} on every role/user/policy")
        if found:
            report(
                f"{args.resource_type} '{args.name}'{where} lets its holder raise its own permissions:{bullet_list(found)}\n"
                "Grant IAM write actions only on the ARNs of the roles and policies this identity manages (and a permissions "
                "boundary condition), or not at all: the program's roles are created by Pulumi, not by its workloads."
            )


# Selected by schema as each type arrives (is_user_type), not by a fixed list.
iam_no_users = ResourceValidationPolicy(
    name="iam-no-users",
    description="No IAM users or anything hung on one (access keys, login profiles, SSH keys, service credentials, user policies).",
    validate=lambda args, report: _no_users(args, lambda message: report(message, None)),
)
iam_no_privilege_escalation = resource_policy(
    "iam-no-privilege-escalation",
    "No identity policy allows the IAM actions that edit policies, trust or credentials on every role, user or policy.",
    [*DOCUMENT_PROPERTIES, ROLE],
    _no_escalation,
)

POLICIES = [iam_no_users, iam_no_privilege_escalation]

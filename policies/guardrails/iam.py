"""IAM: no administrator-equivalent grants, no broad AWS-managed policies, PassRole scoped.

Only identity policies are judged: inline role/user/group policies, customer-managed policies and
a role's `inlinePolicies`. Resource policies (KMS key policies, bucket/topic/queue policies) are not:
a key policy must name the key as "*", and their principals are the point of them.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any, Callable, Iterator

from pulumi_policy import PolicyConfigSchema, ResourceValidationArgs

from guardrails.common import as_list, bullet_list, is_allow, resource_policy, statements, string_list_config

DOCUMENT_PROPERTIES = {
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/policy:Policy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}
ROLE = "aws:iam/role:Role"
ATTACHMENTS = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policyArn",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": "policyArn",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "policyArn",
    "aws:iam/policyAttachment:PolicyAttachment": "policyArn",
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": "policyArns",
    ROLE: "managedPolicyArns",
}
DEFAULT_FORBIDDEN_MANAGED = ["AdministratorAccess*", "PowerUserAccess", "*FullAccess*"]
PASS_ROLE = "iam:PassRole"


def documents(args: ResourceValidationArgs) -> Iterator[tuple[str, Any]]:
    """(where, document) for every identity policy document the resource carries."""
    prop = DOCUMENT_PROPERTIES.get(args.resource_type)
    if prop:
        yield "", args.props.get(prop)
    elif args.resource_type == ROLE:
        for i, inline in enumerate(as_list(args.props.get("inlinePolicies"))):
            if isinstance(inline, Mapping) and inline.get("policy"):
                yield f" (inline policy {inline.get('name') or i})", inline.get("policy")


def _matches(pattern: str, action: str) -> bool:
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def _is_everything(action: str) -> bool:
    """`*` or `service:*`: every action of every service, or of one service."""
    return action == "*" or action.endswith(":*")


def _describe(statement: Mapping[str, Any]) -> str:
    sid = statement.get("Sid")
    return f"statement {sid!r}" if sid else "a statement"


def _admin_grants(statement: Mapping[str, Any]) -> list[str]:
    """Why an Allow statement grants administrator-like access, if it does."""
    if not is_allow(statement):
        return []
    actions = [str(a) for a in as_list(statement.get("Action"))]
    resources = [str(r) for r in as_list(statement.get("Resource"))]
    any_resource = "*" in resources or statement.get("NotResource") is not None
    problems = []
    if statement.get("NotAction") is not None and any_resource:
        problems.append(
            f"{_describe(statement)} allows every action except {', '.join(map(str, as_list(statement['NotAction'])))} on every resource (Allow + NotAction)"
        )
    wild = [a for a in actions if _is_everything(a)]
    if wild and any_resource:
        where = "every resource" if "*" in resources else "every resource but " + ", ".join(map(str, as_list(statement.get("NotResource"))))
        problems.append(f"{_describe(statement)} allows {', '.join(wild)} on {where}")
    return problems


def _no_wildcard_admin(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    for where, document in documents(args):
        problems = [p for s in statements(document) for p in _admin_grants(s)]
        if problems:
            report(
                f"{args.resource_type} '{args.name}'{where} grants administrator-like access:{bullet_list(problems)}\n"
                'List the actions the role needs (e.g. s3:GetObject) on the ARNs it needs them on; keep "*" resources '
                "only for actions that support no resource-level permissions, with specific actions."
            )


def _forbidden_managed(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    patterns = list(args.get_config().get("forbiddenPolicies", DEFAULT_FORBIDDEN_MANAGED))
    arns = [str(a) for a in as_list(args.props.get(ATTACHMENTS[args.resource_type]))]
    bad = []
    for arn in arns:
        # AWS-managed policies live in the `aws` account: arn:<partition>:iam::aws:policy/<path/>name.
        if ":iam::aws:policy/" not in arn:
            continue
        name = arn.rsplit("/", 1)[-1]
        if any(fnmatch.fnmatchcase(name, p) for p in patterns):
            bad.append(arn)
    if bad:
        report(
            f"{args.resource_type} '{args.name}' attaches AWS-managed policies that grant far more than any role here needs: "
            f"{', '.join(bad)}. Replace them with an inline least-privilege policy (components.shared.iam.policy_document) "
            "listing the actions and resources the role uses."
        )


def _pass_role(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    require_condition = bool(args.get_config().get("requirePassedToService", True))
    for where, document in documents(args):
        problems = []
        for statement in statements(document):
            if not is_allow(statement):
                continue
            actions = [str(a) for a in as_list(statement.get("Action"))]
            grants = any(_matches(a, PASS_ROLE) for a in actions) or (
                statement.get("NotAction") is not None and not any(_matches(str(a), PASS_ROLE) for a in as_list(statement["NotAction"]))
            )
            if not grants:
                continue
            resources = [str(r) for r in as_list(statement.get("Resource"))]
            broad = [r for r in resources if r == "*" or r.endswith((":role/*", ":*"))]
            if broad or statement.get("NotResource") is not None:
                problems.append(f"{_describe(statement)} lets it pass any role ({', '.join(broad) or 'NotResource'})")
            elif require_condition:
                condition = statement.get("Condition")
                keys = {
                    k.lower()
                    for op in (condition.values() if isinstance(condition, Mapping) else [])
                    if isinstance(op, Mapping)
                    for k in op
                }
                if "iam:passedtoservice" not in keys:
                    problems.append(
                        f"{_describe(statement)} passes {', '.join(resources)} to any service (no iam:PassedToService condition)"
                    )
        if problems:
            report(
                f"{args.resource_type} '{args.name}'{where} grants iam:PassRole too broadly:{bullet_list(problems)}\n"
                "Name the role ARNs it may pass in Resource and add Condition "
                '{"StringEquals": {"iam:PassedToService": "<service>.amazonaws.com"}}.'
            )


iam_no_wildcard_admin = resource_policy(
    "iam-no-wildcard-admin",
    "No identity policy allows * or service:* actions on every resource (NotAction/NotResource included).",
    [*DOCUMENT_PROPERTIES, ROLE],
    _no_wildcard_admin,
)
iam_no_admin_managed_policies = resource_policy(
    "iam-no-admin-managed-policies",
    "No AdministratorAccess, PowerUserAccess or *FullAccess AWS-managed policy is attached.",
    ATTACHMENTS,
    _forbidden_managed,
    config_schema=string_list_config(
        "forbiddenPolicies", DEFAULT_FORBIDDEN_MANAGED, "Name patterns (fnmatch) of AWS-managed policies no role, user or group may attach."
    ),
)
iam_pass_role_scoped = resource_policy(
    "iam-passrole-scoped",
    "iam:PassRole names the roles it passes (not *) and the service it passes them to.",
    [*DOCUMENT_PROPERTIES, ROLE],
    _pass_role,
    config_schema=PolicyConfigSchema(
        properties={
            "requirePassedToService": {
                "type": "boolean",
                "default": True,
                "description": "Also require an iam:PassedToService condition on every iam:PassRole grant.",
            }
        }
    ),
)

POLICIES = [iam_no_wildcard_admin, iam_no_admin_managed_policies, iam_pass_role_scoped]

"""IAM guardrails over role policies, managed policies, inline role policies and attachments, both ways."""

from __future__ import annotations

import json
import re
from typing import Any, Optional

import pytest
from policy_testkit import (
    Case,
    Stack,
    analyze,
    analyze_cases,
    assert_case,
    assert_fails,
    assert_passes,
    declared_defaults,
    findings,
    policy_document,
    statement,
)

from tools.offline.analyzer import PolicyPackError

ROLE_ARN = "arn:aws:iam::123456789012:role/mlops-prod-sagemaker-execution"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)
LEAST_PRIVILEGE = policy_document(
    statement(["s3:GetObject", "s3:PutObject"], ["arn:aws:s3:::data/*"]),
    # No resource-level permissions exist for these: "*" with specific actions is fine.
    statement(["ecr:GetAuthorizationToken"], "*"),
    statement("cloudwatch:PutMetricData", "*", Condition={"StringLike": {"cloudwatch:namespace": "aws/sagemaker/*"}}),
    statement(["iam:PassRole"], [ROLE_ARN], Condition={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}),
    statement("*", "*", effect="Deny", Condition={"Bool": {"aws:SecureTransport": "false"}}),
)


def test_least_privilege_documents_pass(pack):
    stack = Stack()
    role = stack.add(
        "aws:iam/role:Role", "role", {"assumeRolePolicy": TRUST, "inlinePolicies": [{"name": "inline", "policy": LEAST_PRIVILEGE}]}
    )
    stack.add("aws:iam/rolePolicy:RolePolicy", "role-policy", {"role": "role", "policy": LEAST_PRIVILEGE}, deps={"role": [role]})
    stack.add("aws:iam/policy:Policy", "managed", {"policy": LEAST_PRIVILEGE})
    stack.add(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "codedeploy",
        {"role": "role", "policyArn": "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited"},
    )
    # A key policy names the key as "*" and grants kms:* to the account: it is not an identity policy.
    stack.add(
        "aws:kms/key:Key",
        "key",
        {
            "enableKeyRotation": True,
            "policy": policy_document(statement("kms:*", "*", Principal={"AWS": "arn:aws:iam::123456789012:root"})),
        },
    )
    result = analyze(pack, stack)
    for policy in ("iam-no-wildcard-admin", "iam-no-admin-managed-policies", "iam-passrole-scoped"):
        assert_passes(result, policy)


def test_wildcard_grants_fail_wherever_the_document_lives(pack):
    stack = Stack()
    admin = stack.add("aws:iam/policy:Policy", "admin", {"policy": policy_document(statement("*", "*", Sid="Everything"))})
    service_star = stack.add(
        "aws:iam/rolePolicy:RolePolicy", "s3-star", {"role": "r", "policy": policy_document(statement(["s3:GetObject", "s3:*"], ["*"]))}
    )
    not_action = stack.add(
        "aws:iam/userPolicy:UserPolicy",
        "not-action",
        {"user": "u", "policy": policy_document({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})},
    )
    not_resource = stack.add(
        "aws:iam/groupPolicy:GroupPolicy",
        "not-resource",
        {"group": "g", "policy": policy_document({"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::x"})},
    )
    inline = stack.add(
        "aws:iam/role:Role",
        "inline",
        {"assumeRolePolicy": TRUST, "inlinePolicies": [{"name": "too-much", "policy": policy_document(statement("sagemaker:*", "*"))}]},
    )
    result = analyze(pack, stack)
    assert_fails(
        result,
        "iam-no-wildcard-admin",
        admin,
        "aws:iam/policy:Policy 'admin' grants administrator-like access",
        "statement 'Everything' allows * on every resource",
    )
    assert_fails(result, "iam-no-wildcard-admin", service_star, "allows s3:* on every resource")
    assert_fails(result, "iam-no-wildcard-admin", not_action, "allows every action except iam:*")
    assert_fails(result, "iam-no-wildcard-admin", not_resource, "allows * on every resource but arn:aws:s3:::x")
    assert_fails(result, "iam-no-wildcard-admin", inline, "(inline policy too-much)", "allows sagemaker:*")


def test_admin_and_full_access_managed_policies_fail(pack):
    stack = Stack()
    attachment = stack.add(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "admin",
        {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
    )
    role = stack.add(
        "aws:iam/role:Role",
        "full",
        {
            "assumeRolePolicy": TRUST,
            "managedPolicyArns": ["arn:aws:iam::aws:policy/AmazonSageMakerFullAccess", "arn:aws:iam::123456789012:policy/OurFullAccessNot"],
        },
    )
    result = analyze(pack, stack)
    assert_fails(result, "iam-no-admin-managed-policies", attachment, "arn:aws:iam::aws:policy/AdministratorAccess", "least-privilege")
    message = assert_fails(result, "iam-no-admin-managed-policies", role, "AmazonSageMakerFullAccess")
    assert "OurFullAccessNot" not in message  # customer-managed policies are judged by their documents


def test_pass_role_must_name_roles_and_the_service(pack):
    stack = Stack()
    any_role = stack.add(
        "aws:iam/rolePolicy:RolePolicy",
        "any-role",
        {"role": "r", "policy": policy_document(statement("iam:PassRole", "*", Sid="PassAnything"))},
    )
    all_roles = stack.add(
        "aws:iam/rolePolicy:RolePolicy",
        "all-roles",
        {"role": "r", "policy": policy_document(statement("iam:Pass*", "arn:aws:iam::123456789012:role/*"))},
    )
    any_service = stack.add(
        "aws:iam/rolePolicy:RolePolicy", "any-service", {"role": "r", "policy": policy_document(statement("iam:PassRole", ROLE_ARN))}
    )
    # NotAction grants every action it does not list, iam:PassRole included.
    not_action = stack.add(
        "aws:iam/rolePolicy:RolePolicy",
        "not-action",
        {"role": "r", "policy": policy_document({"Effect": "Allow", "NotAction": ["s3:*", "kms:*"], "Resource": ROLE_ARN})},
    )
    not_action_excluding = stack.add(
        "aws:iam/rolePolicy:RolePolicy",
        "not-action-excluding",
        {"role": "r", "policy": policy_document({"Effect": "Allow", "NotAction": ["iam:Pass*", "s3:*"], "Resource": ROLE_ARN})},
    )
    result = analyze(pack, stack)
    assert_fails(result, "iam-passrole-scoped", not_action, f"passes {ROLE_ARN} to any service")
    assert not [v for v in result.violations if v.urn == not_action_excluding and v.policy == "iam-passrole-scoped"]
    assert_fails(result, "iam-passrole-scoped", any_role, "statement 'PassAnything' lets it pass any role (*)", "iam:PassedToService")
    assert_fails(result, "iam-passrole-scoped", all_roles, "lets it pass any role (arn:aws:iam::123456789012:role/*)")
    assert_fails(result, "iam-passrole-scoped", any_service, "to any service (no iam:PassedToService condition)")
    relaxed = analyze(pack, stack, {"iam-passrole-scoped": {"requirePassedToService": False}})
    assert_fails(relaxed, "iam-passrole-scoped", any_role, "pass any role")
    assert not [v for v in relaxed.violations if v.urn == any_service and v.policy == "iam-passrole-scoped"]


def test_iam_guardrails_are_mandatory_in_dev(pack):
    stack = Stack("dev")
    urn = stack.add("aws:iam/policy:Policy", "admin", {"policy": policy_document(statement("*", "*"))})
    assert_fails(analyze(pack, stack), "iam-no-wildcard-admin", urn, level="mandatory")


# ---- each policy at its edges: one engine session over a table of resources ---------------------

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
PASSED_TO_SAGEMAKER = {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}


def _document(*statements: dict[str, Any]) -> dict[str, str]:
    return {"role": "r", "policy": policy_document(*statements)}


def _admin(id_: str, denied: Optional[str], *statements: dict[str, Any]) -> Case:
    return Case("iam-no-wildcard-admin", id_, ROLE_POLICY, _document(*statements), denied)


def _pass(id_: str, denied: Optional[str], *statements: dict[str, Any]) -> Case:
    return Case("iam-passrole-scoped", id_, ROLE_POLICY, _document(*statements), denied)


def _managed(id_: str, type_: str, inputs: dict[str, Any], denied: Optional[str]) -> Case:
    return Case("iam-no-admin-managed-policies", id_, type_, inputs, denied)


AWS_MANAGED = "arn:aws:iam::aws:policy/"
CASES = [
    # Action forms on every resource, and on named ones
    _admin("star-on-star", "allows * on every resource", statement("*", "*")),
    _admin("effect-left-out", "allows * on every resource", {"Action": "*", "Resource": "*"}),
    _admin("statement-as-a-dict", "allows s3:* on every resource", {"Effect": "Allow", "Action": "s3:*", "Resource": ["*"]}),
    _admin("star-on-named-resource", None, statement("*", ["arn:aws:s3:::data", "arn:aws:s3:::data/*"])),
    _admin("service-star-on-named-resource", None, statement("s3:*", "arn:aws:s3:::data/*")),
    _admin("prefix-wildcard-is-specific", None, statement("s3:Get*", "*")),
    _admin("deny-star", None, statement("*", "*", effect="Deny")),
    _admin("not-action-on-named-resource", None, {"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::data/*"}),
    _admin(
        "not-action-on-star",
        "allows every action except iam:*, kms:*",
        {"Effect": "Allow", "NotAction": ["iam:*", "kms:*"], "Resource": "*"},
    ),
    _admin("not-action-deny", None, {"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"}),
    _admin("not-resource-specific-action", None, {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::x"}),
    # iam:PassRole: the action forms that grant it, the resources, the condition
    _pass("lowercase-action-on-star", "lets it pass any role (*)", statement("iam:passrole", "*")),
    _pass("iam-star-on-named-role", "no iam:PassedToService condition", statement("iam:*", ROLE_ARN)),
    _pass("star-on-named-role-with-condition", None, statement("*", ROLE_ARN, Condition=PASSED_TO_SAGEMAKER)),
    _pass(
        "account-wide-resource",
        "lets it pass any role (arn:aws:iam::123456789012:*)",
        statement("iam:PassRole", "arn:aws:iam::123456789012:*", Condition=PASSED_TO_SAGEMAKER),
    ),
    _pass(
        "not-resource",
        "lets it pass any role (NotResource)",
        {"Effect": "Allow", "Action": "iam:PassRole", "NotResource": ROLE_ARN, "Condition": PASSED_TO_SAGEMAKER},
    ),
    _pass(
        "condition-key-any-case",
        None,
        statement("iam:PassRole", ROLE_ARN, Condition={"StringEquals": {"IAM:passedToService": "sagemaker.amazonaws.com"}}),
    ),
    _pass(
        "condition-under-another-operator",
        None,
        statement("iam:PassRole", ROLE_ARN, Condition={"StringLike": {"iam:PassedToService": "sagemaker.*"}}),
    ),
    _pass(
        "condition-on-another-key",
        "no iam:PassedToService condition",
        statement("iam:PassRole", ROLE_ARN, Condition={"StringEquals": {"aws:RequestedRegion": "us-east-1"}}),
    ),
    _pass(
        "condition-not-a-mapping", "no iam:PassedToService condition", statement("iam:PassRole", ROLE_ARN, Condition="iam:PassedToService")
    ),
    _pass("deny-pass-any-role", None, statement("iam:PassRole", "*", effect="Deny")),
    _pass("other-actions-only", None, statement(["iam:GetRole", "s3:GetObject"], "*")),
    # AWS-managed policies, on every attachment resource; customer-managed ones are judged by their documents
    _managed(
        "user-admin-variant",
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        {"user": "u", "policyArn": f"{AWS_MANAGED}AdministratorAccess-Amplify"},
        "AdministratorAccess-Amplify",
    ),
    _managed(
        "group-power-user",
        "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
        {"group": "g", "policyArn": f"{AWS_MANAGED}PowerUserAccess"},
        "PowerUserAccess",
    ),
    _managed(
        "attachment-read-only",
        "aws:iam/policyAttachment:PolicyAttachment",
        {"name": "ro", "roles": ["r"], "policyArn": f"{AWS_MANAGED}ReadOnlyAccess"},
        None,
    ),
    _managed(
        "attachment-full-access",
        "aws:iam/policyAttachment:PolicyAttachment",
        {"name": "s3", "roles": ["r"], "policyArn": f"{AWS_MANAGED}AmazonS3FullAccess"},
        "AmazonS3FullAccess",
    ),
    _managed(
        "exclusive-list",
        "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
        {"roleName": "r", "policyArns": [f"{AWS_MANAGED}ReadOnlyAccess", f"{AWS_MANAGED}AmazonS3FullAccess"]},
        "AmazonS3FullAccess",
    ),
    _managed(
        "other-partition",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        {"role": "r", "policyArn": "arn:aws-us-gov:iam::aws:policy/AdministratorAccess"},
        "arn:aws-us-gov:iam::aws:policy/AdministratorAccess",
    ),
    _managed(
        "service-role-path",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        {"role": "r", "policyArn": f"{AWS_MANAGED}service-role/AmazonSageMakerFullAccess"},
        "AmazonSageMakerFullAccess",
    ),
    _managed(
        "customer-managed-admin-name",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        {"role": "r", "policyArn": "arn:aws:iam::123456789012:policy/AdministratorAccess"},
        None,
    ),
    _managed(
        "power-user-prefix-only",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        {"role": "r", "policyArn": f"{AWS_MANAGED}PowerUserAccessLimited"},
        None,
    ),
]


@pytest.fixture(scope="module")
def table_result(pack):
    return analyze_cases(pack, CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_grant_is_judged_by_what_it_lets_the_role_do(table_result, case):
    assert_case(*table_result, case)


def test_each_finding_names_the_resource_every_problem_and_the_fix(pack):
    """Each policy's whole message, every problem of the resource in it, as the preview prints it
    (the engine puts the policy's description first)."""
    stack = Stack()
    admin = stack.add(
        ROLE_POLICY,
        "admin",
        _document(
            {"Sid": "AllButIam", "Effect": "Allow", "NotAction": ["iam:*", "kms:*"], "Resource": "*"},
            statement(["s3:GetObject", "s3:*", "kms:*"], "*"),
            {"Effect": "Allow", "Action": "*", "NotResource": ["arn:aws:s3:::a", "arn:aws:s3:::b"]},
        ),
    )
    inline = stack.add(
        "aws:iam/role:Role",
        "inline",
        {"assumeRolePolicy": TRUST, "inlinePolicies": [{"policy": policy_document(statement("iam:PassRole", ["*", ROLE_ARN]))}]},
    )
    managed = stack.add(
        "aws:iam/role:Role",
        "managed",
        {
            "assumeRolePolicy": TRUST,
            "managedPolicyArns": [f"{AWS_MANAGED}AdministratorAccess", f"{AWS_MANAGED}ReadOnlyAccess", f"{AWS_MANAGED}PowerUserAccess"],
        },
    )
    result = analyze(pack, stack)
    assert assert_fails(result, "iam-no-wildcard-admin", admin) == (
        "No identity policy allows * or service:* actions on every resource (NotAction/NotResource included).\n"
        f"{ROLE_POLICY} 'admin' grants administrator-like access:\n"
        "  - statement 'AllButIam' allows every action except iam:*, kms:* on every resource (Allow + NotAction)\n"
        "  - a statement allows s3:*, kms:* on every resource\n"
        "  - a statement allows * on every resource but arn:aws:s3:::a, arn:aws:s3:::b\n"
        'List the actions the role needs (e.g. s3:GetObject) on the ARNs it needs them on; keep "*" resources '
        "only for actions that support no resource-level permissions, with specific actions."
    )
    assert assert_fails(result, "iam-passrole-scoped", inline) == (
        "iam:PassRole names the roles it passes (not *) and the service it passes them to.\n"
        "aws:iam/role:Role 'inline' (inline policy 0) grants iam:PassRole too broadly:\n"
        "  - a statement lets it pass any role (*)\n"
        "Name the role ARNs it may pass in Resource and add Condition "
        '{"StringEquals": {"iam:PassedToService": "<service>.amazonaws.com"}}.'
    )
    assert assert_fails(result, "iam-no-admin-managed-policies", managed) == (
        "No AdministratorAccess, PowerUserAccess or *FullAccess AWS-managed policy is attached.\n"
        "aws:iam/role:Role 'managed' attaches AWS-managed policies that grant far more than any role here needs: "
        f"{AWS_MANAGED}AdministratorAccess, {AWS_MANAGED}PowerUserAccess. Replace them with an inline least-privilege policy "
        "(components.shared.iam.policy_document) listing the actions and resources the role uses."
    )


def test_a_passrole_finding_lists_every_resource_it_passes_to_any_service(pack):
    stack = Stack()
    other = "arn:aws:iam::123456789012:role/mlops-prod-lambda"
    urn = stack.add(ROLE_POLICY, "two-roles", _document(statement("iam:PassRole", [ROLE_ARN, other], Sid="Pass")))
    message = assert_fails(analyze(pack, stack), "iam-passrole-scoped", urn)
    assert f"statement 'Pass' passes {ROLE_ARN}, {other} to any service (no iam:PassedToService condition)" in message


def test_the_forbidden_managed_policies_are_configurable(pack):
    stack = Stack()
    read_only = stack.add(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "ro", {"role": "r", "policyArn": f"{AWS_MANAGED}ReadOnlyAccess"}
    )
    admin = stack.add(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "admin", {"role": "r", "policyArn": f"{AWS_MANAGED}AdministratorAccess"}
    )
    result = analyze(pack, stack, {"iam-no-admin-managed-policies": {"forbiddenPolicies": ["ReadOnly*"]}})
    assert_fails(result, "iam-no-admin-managed-policies", read_only, "ReadOnlyAccess")
    assert not [v for v in findings(result, "iam-no-admin-managed-policies") if v.urn == admin]


@pytest.mark.parametrize(
    ("config", "refused"),
    [
        ({"iam-passrole-scoped": {"requirePassedToService": "no"}}, "requirePassedToService: 'no' is not of type 'boolean'"),
        (
            {"iam-no-admin-managed-policies": {"forbiddenPolicies": "AdministratorAccess"}},
            "forbiddenPolicies: 'AdministratorAccess' is not of type 'array'",
        ),
    ],
)
def test_a_config_value_of_the_wrong_type_is_refused(pack, config, refused):
    with pytest.raises(PolicyPackError, match=re.escape(refused)):
        analyze(pack, Stack(), config)


def test_the_pack_declares_its_iam_defaults(pack):
    assert declared_defaults(pack, "iam-passrole-scoped", "iam-no-admin-managed-policies") == {
        "iam-passrole-scoped": {"requirePassedToService": True},
        "iam-no-admin-managed-policies": {"forbiddenPolicies": ["AdministratorAccess*", "PowerUserAccess", "*FullAccess*"]},
    }


def test_a_statement_or_policy_judged_first_hides_none_after_it(pack):
    """A Deny, an Allow of other actions, a customer-managed policy: each skipped, none ends the search."""
    stack = Stack()
    deny_first = stack.add(
        ROLE_POLICY, "deny-first", _document(statement("s3:DeleteBucket", "*", effect="Deny"), statement("iam:PassRole", "*"))
    )
    other_first = stack.add(ROLE_POLICY, "other-first", _document(statement("s3:GetObject", "*"), statement("iam:PassRole", "*")))
    customer_first = stack.add(
        "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
        "customer-first",
        {"roleName": "r", "policyArns": ["arn:aws:iam::123456789012:policy/ours", f"{AWS_MANAGED}AdministratorAccess"]},
    )
    result = analyze(pack, stack)
    for urn in (deny_first, other_first):
        assert_fails(result, "iam-passrole-scoped", urn, "lets it pass any role (*)")
    assert_fails(result, "iam-no-admin-managed-policies", customer_first, f"{AWS_MANAGED}AdministratorAccess")

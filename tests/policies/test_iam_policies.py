"""IAM guardrails over role policies, managed policies, inline role policies and attachments, both ways."""

from __future__ import annotations

import json

from policy_testkit import Stack, analyze, assert_fails, assert_passes, policy_document, statement

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

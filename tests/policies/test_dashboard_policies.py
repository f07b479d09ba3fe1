"""Load balancer, ECS and Cognito guardrails (the dashboard's resources), both ways."""

from __future__ import annotations

from typing import Any

import pytest
from policy_testkit import Stack, analyze, assert_fails, assert_passes, declared_defaults, findings, not_applicable

TARGET_GROUP = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/dashboard/0123456789abcdef"
AUTHENTICATE = {
    "type": "authenticate-cognito",
    "order": 1,
    "authenticateCognito": {
        "userPoolArn": "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc",
        "userPoolClientId": "c",
        "userPoolDomain": "d",
    },
}
FORWARD = {"type": "forward", "order": 2, "targetGroupArn": TARGET_GROUP}
REDIRECT = {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}


def listener(stack: Stack, name: str, protocol: str = "HTTPS", actions: list | None = None, **extra: Any) -> str:
    inputs = {
        "loadBalancerArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/dashboard/1",
        "protocol": protocol,
        "port": 443 if protocol == "HTTPS" else 80,
    }
    if protocol == "HTTPS":
        inputs.update(certificateArn="arn:aws:acm:us-east-1:123456789012:certificate/x", sslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06")
    inputs.update(extra)
    inputs["defaultActions"] = [AUTHENTICATE, FORWARD] if actions is None else actions
    return stack.add("aws:lb/listener:Listener", name, {k: v for k, v in inputs.items() if v is not None})


def user_pool(stack: Stack, name: str = "users", **overrides: Any) -> str:
    inputs = {
        "name": "mlops-prod-dashboard",
        "mfaConfiguration": "ON",
        "softwareTokenMfaConfiguration": {"enabled": True},
        "passwordPolicy": {
            "minimumLength": 14,
            "requireLowercase": True,
            "requireUppercase": True,
            "requireNumbers": True,
            "requireSymbols": True,
            "temporaryPasswordValidityDays": 3,
        },
        "adminCreateUserConfig": {"allowAdminCreateUserOnly": True},
        **overrides,
    }
    return stack.add("aws:cognito/userPool:UserPool", name, {k: v for k, v in inputs.items() if v is not None})


def test_https_listeners_that_authenticate_and_http_redirects_pass(pack):
    stack = Stack()
    listener(stack, "https")
    listener(stack, "http", protocol="HTTP", actions=[REDIRECT])
    # Actions in order: authentication comes first even when listed second.
    listener(stack, "reordered", actions=[FORWARD, AUTHENTICATE])
    stack.add(
        "aws:lb/listenerRule:ListenerRule",
        "rule",
        {"listenerArn": "l", "priority": 10, "actions": [AUTHENTICATE, FORWARD], "conditions": []},
    )
    listener(stack, "tcp", protocol="TCP", actions=[{"type": "forward", "targetGroupArn": TARGET_GROUP}])
    result = analyze(pack, stack)
    assert_passes(result, "alb-listener-https")
    assert_passes(result, "alb-listener-authenticates")
    assert not_applicable(result, "alb-listener-https") == ["TCP listeners carry no HTTP; TLS policies apply to HTTPS and TLS listeners"]
    assert not_applicable(result, "alb-listener-authenticates") == [
        "TCP listeners (Network Load Balancer) cannot authenticate users; only HTTP(S) listeners can"
    ]


def test_plain_http_and_old_tls_policies_fail(pack):
    stack = Stack()
    http = listener(stack, "http", protocol="HTTP", actions=[FORWARD])
    old = listener(stack, "old-tls", sslPolicy="ELBSecurityPolicy-2016-08")
    default = listener(stack, "default-tls", sslPolicy=None)
    tls10 = listener(stack, "tls10", sslPolicy="ELBSecurityPolicy-TLS13-1-0-2021-06")
    result = analyze(pack, stack)
    assert_fails(result, "alb-listener-https", http, "serves plain HTTP (its default action is forward)", "HTTP_301")
    assert_fails(result, "alb-listener-https", old, "with policy ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-TLS13-1-2-2021-06")
    assert_fails(result, "alb-listener-https", default, "unset (ELBSecurityPolicy-2016-08, which allows TLS 1.0)")
    assert_fails(result, "alb-listener-https", tls10, "ELBSecurityPolicy-TLS13-1-0-2021-06")


def test_forwarding_without_authentication_fails(pack):
    stack = Stack()
    direct = listener(stack, "https", actions=[FORWARD])
    late = listener(stack, "late", actions=[{**FORWARD, "order": 1}, {**AUTHENTICATE, "order": 2}])
    rule = stack.add(
        "aws:lb/listenerRule:ListenerRule", "bypass", {"listenerArn": "l", "priority": 5, "actions": [FORWARD], "conditions": []}
    )
    result = analyze(pack, stack)
    for urn in (direct, late, rule):
        assert_fails(
            result,
            "alb-listener-authenticates",
            urn,
            "forwards requests to its targets without authenticating the user first",
            "authenticate-cognito",
        )


@pytest.mark.parametrize("setting", ["allow", "ALLOW"])
def test_authentication_that_lets_unauthenticated_users_through_fails(pack, setting):
    stack = Stack()
    cognito = {**AUTHENTICATE, "authenticateCognito": {**AUTHENTICATE["authenticateCognito"], "onUnauthenticatedRequest": setting}}
    oidc = {
        "type": "authenticate-oidc",
        "order": 1,
        "authenticateOidc": {"issuer": "https://idp", "clientId": "c", "onUnauthenticatedRequest": setting},
    }
    lets_in = listener(stack, "lets-in", actions=[cognito, FORWARD])
    lets_in_oidc = listener(stack, "lets-in-oidc", actions=[oidc, FORWARD])
    denies = listener(
        stack,
        "denies",
        actions=[
            {**AUTHENTICATE, "authenticateCognito": {**AUTHENTICATE["authenticateCognito"], "onUnauthenticatedRequest": "deny"}},
            FORWARD,
        ],
    )
    result = analyze(pack, stack)
    for urn in (lets_in, lets_in_oidc):
        assert_fails(result, "alb-listener-authenticates", urn, "on_unauthenticated_request='allow'", "'deny'")
    assert not [v for v in result.violations if v.urn == denies and v.policy == "alb-listener-authenticates"]


def service(stack: Stack, name: str, assign_public_ip: bool) -> str:
    return stack.add(
        "aws:ecs/service:Service",
        name,
        {
            "launchType": "FARGATE",
            "desiredCount": 2,
            "networkConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-1"], "assignPublicIp": assign_public_ip},
        },
    )


def test_tasks_without_public_ips_pass_and_with_fail(pack):
    stack = Stack()
    service(stack, "private", False)
    assert_passes(analyze(pack, stack), "ecs-no-public-ip")
    public = service(stack, "public", True)
    assert_fails(analyze(pack, stack), "ecs-no-public-ip", public, "gives its tasks public IP addresses", "assign_public_ip=False")


def test_user_pools_with_totp_mfa_and_strong_passwords_pass(pack):
    stack = Stack()
    user_pool(stack)
    result = analyze(pack, stack)
    assert_passes(result, "cognito-mfa")
    assert_passes(result, "cognito-password-policy")


def test_user_pools_without_mfa_fail_in_prod_and_advise_in_dev(pack):
    stack = Stack()
    optional = user_pool(stack, "optional", mfaConfiguration="OPTIONAL")
    no_factor = user_pool(stack, "no-factor", softwareTokenMfaConfiguration=None)
    result = analyze(pack, stack)
    assert_fails(result, "cognito-mfa", optional, "has MFA OPTIONAL, below the required ON", "mfa_configuration='ON'")
    assert_fails(result, "cognito-mfa", no_factor, "has MFA ON but no second factor configured")
    dev = Stack("dev")
    urn = user_pool(dev, mfaConfiguration="OFF")
    assert_fails(analyze(pack, dev), "cognito-mfa", urn, "has MFA OFF", level="advisory")


def test_weak_password_policies_fail(pack):
    stack = Stack()
    default = user_pool(stack, "default", passwordPolicy=None)
    weak = user_pool(
        stack,
        "weak",
        passwordPolicy={
            "minimumLength": 8,
            "requireLowercase": True,
            "requireUppercase": True,
            "requireNumbers": True,
            "requireSymbols": False,
            "temporaryPasswordValidityDays": 30,
        },
    )
    result = analyze(pack, stack)
    assert_fails(result, "cognito-password-policy", default, "minimum length unset (8) < 12", "requireSymbols is not true")
    assert_fails(
        result,
        "cognito-password-policy",
        weak,
        "minimum length 8 < 12",
        "requireSymbols is not true",
        "temporary passwords stay valid 30 days (> 7)",
    )


STRONG = {
    "minimumLength": 14,
    "requireLowercase": True,
    "requireUppercase": True,
    "requireNumbers": True,
    "requireSymbols": True,
}


def test_temporary_passwords_are_bounded_by_the_pack_default_or_the_configured_days(pack):
    stack = Stack()
    week = user_pool(stack, "week", passwordPolicy={**STRONG, "temporaryPasswordValidityDays": 7})
    longer = user_pool(stack, "eight-days", passwordPolicy={**STRONG, "temporaryPasswordValidityDays": 8})
    unset = user_pool(stack, "unset", passwordPolicy=STRONG)
    defaults = analyze(pack, stack, config=None)  # a stack without a policy config: the pack's default, 7 days
    assert [v.urn for v in findings(defaults, "cognito-password-policy")] == [longer]
    assert_fails(defaults, "cognito-password-policy", longer, "temporary passwords stay valid 8 days (> 7)")
    configured = analyze(pack, stack, {"cognito-password-policy": {"maxTemporaryPasswordDays": 5}})
    assert sorted(v.urn for v in findings(configured, "cognito-password-policy")) == sorted([week, longer])
    assert_fails(configured, "cognito-password-policy", week, "temporary passwords stay valid 7 days (> 5)")
    assert unset not in {v.urn for v in findings(configured, "cognito-password-policy")}  # Cognito's own default is 7 days


@pytest.mark.parametrize(
    ("factor", "value"),
    [
        ("smsConfiguration", {"snsCallerArn": "arn:aws:iam::123456789012:role/sms", "externalId": "x"}),
        ("emailMfaConfiguration", {"message": "{####}"}),
    ],
)
def test_sms_or_email_is_a_second_factor_too(pack, factor, value):
    stack = Stack()
    user_pool(stack, softwareTokenMfaConfiguration=None, **{factor: value})
    assert_passes(analyze(pack, stack), "cognito-mfa")


def test_an_off_pool_is_below_an_optional_requirement(pack):
    stack = Stack()
    off = user_pool(stack, "off", mfaConfiguration="OFF")
    user_pool(stack, "optional", mfaConfiguration="OPTIONAL")
    result = analyze(pack, stack, {"cognito-mfa": {"requiredMfa": "OPTIONAL"}})
    assert [v.urn for v in findings(result, "cognito-mfa")] == [off]
    assert_fails(result, "cognito-mfa", off, "has MFA OFF, below the required OPTIONAL")


def test_each_finding_names_the_resource_every_problem_and_the_fix(pack):
    """The whole messages, as the preview prints them (the engine puts the policy's description first)."""
    stack = Stack()
    pool = user_pool(
        stack,
        "weak",
        mfaConfiguration=None,
        passwordPolicy={"minimumLength": 8.0, "requireLowercase": "true", "requireUppercase": True, "temporaryPasswordValidityDays": 30},
    )
    http = listener(stack, "http", protocol="HTTP", actions=[{**FORWARD, "order": 2}, {**REDIRECT, "order": 1}])
    tls = listener(stack, "old-tls", sslPolicy="ELBSecurityPolicy-2016-08", actions=[FORWARD])
    lets_in = listener(
        stack,
        "lets-in",
        actions=[
            {**AUTHENTICATE, "authenticateCognito": {**AUTHENTICATE["authenticateCognito"], "onUnauthenticatedRequest": "allow"}},
            FORWARD,
        ],
    )
    result = analyze(pack, stack)
    assert assert_fails(result, "cognito-password-policy", pool) == (
        "Cognito user pools enforce long passwords with all character classes and short-lived temporary passwords.\n"
        "aws:cognito/userPool:UserPool 'weak' allows weak passwords: minimum length 8 < 12; requireNumbers is not true; "
        "requireSymbols is not true; temporary passwords stay valid 30 days (> 7). Set password_policy with minimum_length >= 12, "
        "require_lowercase/uppercase/numbers/symbols=True and temporary_password_validity_days <= 7."
    )
    assert assert_fails(result, "cognito-mfa", pool) == (
        "Cognito user pools require MFA at the configured level (OPTIONAL or ON) with a second factor configured.\n"
        "aws:cognito/userPool:UserPool 'weak' has MFA OFF, below the required ON: a leaked password is enough to sign in. "
        "Set mfa_configuration='ON' and software_token_mfa_configuration="
        "aws.cognito.UserPoolSoftwareTokenMfaConfigurationArgs(enabled=True) (authenticator apps)."
    )
    listener_https = "Load balancer listeners use HTTPS/TLS with a TLS 1.2+ policy; HTTP listeners only redirect to HTTPS.\n"
    assert assert_fails(result, "alb-listener-https", http) == (
        f"{listener_https}aws:lb/listener:Listener 'http' serves plain HTTP (its default action is redirect, forward): credentials "
        "and data cross the network unencrypted. Make HTTP listeners only redirect to HTTPS (default action type 'redirect', "
        "protocol 'HTTPS', status 'HTTP_301') and serve on an HTTPS listener."
    )
    assert assert_fails(result, "alb-listener-https", tls) == (
        f"{listener_https}aws:lb/listener:Listener 'old-tls' negotiates TLS with policy ELBSecurityPolicy-2016-08. Set ssl_policy "
        "to a TLS 1.2+ policy matching ELBSecurityPolicy-TLS13-1-2-*, ELBSecurityPolicy-TLS13-1-3-*, e.g. ELBSecurityPolicy-TLS13-1-2-2021-06."
    )
    authenticates = "Load balancer listeners and rules authenticate users (Cognito/OIDC) before forwarding to targets.\n"
    assert assert_fails(result, "alb-listener-authenticates", tls) == (
        f"{authenticates}aws:lb/listener:Listener 'old-tls' forwards requests to its targets without authenticating the user first: "
        "anyone who can reach the load balancer reaches the app. Put an 'authenticate-cognito' action (user pool, client and "
        "domain) with a lower order before the 'forward' action."
    )
    assert assert_fails(result, "alb-listener-authenticates", lets_in) == (
        f"{authenticates}aws:lb/listener:Listener 'lets-in' has an 'authenticate-cognito' action with "
        "on_unauthenticated_request='allow': users who are not signed in are forwarded to the targets anyway. Remove "
        "on_unauthenticated_request (the default, 'authenticate', sends them to sign in) or set it to 'deny'."
    )


def test_the_pack_declares_the_defaults_a_stack_without_a_policy_config_gets(pack):
    """What Pulumi shows and the engine applies when a stack's policy config sets nothing."""
    assert declared_defaults(pack, "cognito-password-policy", "cognito-mfa", "alb-listener-https") == {
        "cognito-password-policy": {"minimumLength": 12, "maxTemporaryPasswordDays": 7},
        "cognito-mfa": {"requiredMfa": "ON"},
        "alb-listener-https": {"allowedSslPolicies": ["ELBSecurityPolicy-TLS13-1-2-*", "ELBSecurityPolicy-TLS13-1-3-*"]},
    }


def test_the_default_tls_policies_are_the_tls_1_2_and_1_3_families(pack):
    stack = Stack()
    for policy in ("ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-3-2021-06"):
        listener(stack, policy.lower(), sslPolicy=policy)
    old = listener(stack, "tls-1-1", sslPolicy="ELBSecurityPolicy-TLS13-1-1-2021-06")
    result = analyze(pack, stack, config=None)  # the pack's defaults
    assert [v.urn for v in findings(result, "alb-listener-https")] == [old]


def test_an_http_listener_without_actions_is_plain_http_too(pack):
    stack = Stack()
    bare = listener(stack, "bare", protocol="HTTP", actions=[])
    no_protocol = listener(
        stack, "no-protocol", protocol="HTTP", actions=[{"type": "redirect", "redirect": {"port": "443", "statusCode": "HTTP_301"}}]
    )
    result = analyze(pack, stack)
    assert_fails(result, "alb-listener-https", bare, "serves plain HTTP (its default action is missing)")
    assert_fails(
        result, "alb-listener-https", no_protocol, "serves plain HTTP (its default action is redirect)"
    )  # to HTTP: the listener's own

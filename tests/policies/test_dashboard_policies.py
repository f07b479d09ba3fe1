"""Load balancer, ECS and Cognito guardrails (the dashboard's resources), both ways."""

from __future__ import annotations

from typing import Any

import pytest
from policy_testkit import Stack, analyze, assert_fails, assert_passes, not_applicable

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

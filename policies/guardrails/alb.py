"""Load balancers: listeners speak TLS 1.2+ (plain HTTP only to redirect), and authenticate users
(Cognito or OIDC) before they forward anything to a target."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any, Callable

from pulumi_policy import ResourceValidationArgs

from guardrails.common import as_list, get_path, resource_policy, string_list_config

LISTENER = "aws:lb/listener:Listener"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
# Policies whose minimum is TLS 1.2 and that offer TLS 1.3 (the ELB guide's recommended family).
DEFAULT_SSL_POLICIES = ["ELBSecurityPolicy-TLS13-1-2-*", "ELBSecurityPolicy-TLS13-1-3-*"]
AUTHENTICATE = ("authenticate-cognito", "authenticate-oidc")


def ordered_actions(actions: Any) -> list[Mapping[str, Any]]:
    """Actions in the order the load balancer performs them (by `order`, else as listed)."""
    listed = [a for a in as_list(actions) if isinstance(a, Mapping)]
    return [
        a
        for _, a in sorted(
            enumerate(listed), key=lambda p: p[1].get("order") if isinstance(p[1].get("order"), (int, float)) else 50000 + p[0]
        )
    ]


def _redirects_to_https(action: Mapping[str, Any]) -> bool:
    return action.get("type") == "redirect" and str(get_path(action, "redirect", "protocol") or "").upper() == "HTTPS"


def _https(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    protocol = str(args.props.get("protocol") or "HTTP").upper()
    label = f"{args.resource_type} '{args.name}'"
    if protocol == "HTTP":
        actions = ordered_actions(args.props.get("defaultActions"))
        if not actions or not all(_redirects_to_https(a) for a in actions):
            report(
                f"{label} serves plain HTTP (its default action is {', '.join(str(a.get('type')) for a in actions) or 'missing'}): "
                "credentials and data cross the network unencrypted. Make HTTP listeners only redirect to HTTPS "
                "(default action type 'redirect', protocol 'HTTPS', status 'HTTP_301') and serve on an HTTPS listener."
            )
        return
    if protocol not in ("HTTPS", "TLS"):
        args.not_applicable(f"{protocol} listeners carry no HTTP; TLS policies apply to HTTPS and TLS listeners")
    allowed = list(args.get_config().get("allowedSslPolicies", DEFAULT_SSL_POLICIES))
    policy = args.props.get("sslPolicy")
    if not isinstance(policy, str) or not any(fnmatch.fnmatchcase(policy, p) for p in allowed):
        report(
            f"{label} negotiates TLS with policy {policy or 'unset (ELBSecurityPolicy-2016-08, which allows TLS 1.0)'}. "
            f"Set ssl_policy to a TLS 1.2+ policy matching {', '.join(allowed)}, e.g. ELBSecurityPolicy-TLS13-1-2-2021-06."
        )


def _authenticates(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    key = "defaultActions" if args.resource_type == LISTENER else "actions"
    protocol = str(args.props.get("protocol") or "HTTP").upper()
    if args.resource_type == LISTENER and protocol not in ("HTTP", "HTTPS"):
        args.not_applicable(f"{protocol} listeners (Network Load Balancer) cannot authenticate users; only HTTP(S) listeners can")
    authenticated = False
    for action in ordered_actions(args.props.get(key)):
        kind = action.get("type")
        if kind in AUTHENTICATE:
            # "allow" lets an unauthenticated user through to the next action: it authenticates no one.
            config = action.get("authenticateCognito" if kind == "authenticate-cognito" else "authenticateOidc")
            on_unauthenticated = str(get_path(config, "onUnauthenticatedRequest") or "authenticate").lower()
            if on_unauthenticated == "allow":
                report(
                    f"{args.resource_type} '{args.name}' has an '{kind}' action with on_unauthenticated_request='allow': users who "
                    "are not signed in are forwarded to the targets anyway. Remove on_unauthenticated_request (the default, "
                    "'authenticate', sends them to sign in) or set it to 'deny'."
                )
                return
            authenticated = True
        elif kind == "forward" and not authenticated:
            report(
                f"{args.resource_type} '{args.name}' forwards requests to its targets without authenticating the user first: "
                "anyone who can reach the load balancer reaches the app. Put an 'authenticate-cognito' action (user pool, "
                "client and domain) with a lower order before the 'forward' action."
            )
            return


alb_listener_https = resource_policy(
    "alb-listener-https",
    "Load balancer listeners use HTTPS/TLS with a TLS 1.2+ policy; HTTP listeners only redirect to HTTPS.",
    [LISTENER],
    _https,
    config_schema=string_list_config(
        "allowedSslPolicies", DEFAULT_SSL_POLICIES, "ELB security policy names (fnmatch patterns) HTTPS and TLS listeners may use."
    ),
)
alb_listener_authenticates = resource_policy(
    "alb-listener-authenticates",
    "Load balancer listeners and rules authenticate users (Cognito/OIDC) before forwarding to targets.",
    [LISTENER, LISTENER_RULE],
    _authenticates,
)

POLICIES = [alb_listener_https, alb_listener_authenticates]

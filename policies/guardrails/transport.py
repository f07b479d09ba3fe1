"""Data in transit: every connection to a store or domain a change adds is encrypted (TLS).

Caches, search domains and custom API domains accept plain-text or TLS 1.0 connections unless told
otherwise: credentials and customer data then cross the VPC (or the internet) readable (AWS Config
elasticache-repl-grp-encrypted-in-transit, opensearch-https-required,
opensearch-node-to-node-encryption-check; Checkov CKV_AWS_30/191/6/83/206). The class is every
pulumi-aws type whose schema has one of the switches below; the load balancer's listeners are
judged by alb-listener-https.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from pulumi_policy import ResourceValidationArgs

from guardrails.common import bullet_list, get_path, peek, truthy
from guardrails.schema_class import SchemaClass


def _transit(value: Any) -> Optional[str]:
    return None if truthy(value) else f"transit_encryption_enabled is {value if value is not None else 'unset (off)'}"


def _tls(value: Any) -> Optional[str]:
    return "tls_enabled is False" if value is False or str(value).lower() == "false" else None


def _https(value: Any) -> Optional[str]:
    enforced = get_path(value, "enforceHttps")
    return None if truthy(enforced) else "domain_endpoint_options.enforce_https is not True (plain HTTP accepted)"


def _node_to_node(value: Any) -> Optional[str]:
    return None if truthy(get_path(value, "enabled")) else "node_to_node_encryption.enabled is not True (nodes talk in plain text)"


def _security_policy(value: Any) -> Optional[str]:
    return "security_policy is TLS_1_0" if str(value).upper() == "TLS_1_0" else None


# Input property -> why its value leaves connections unencrypted, or None.
RULES: dict[str, Callable[[Any], Optional[str]]] = {
    "transitEncryptionEnabled": _transit,
    "tlsEnabled": _tls,
    "domainEndpointOptions": _https,
    "nodeToNodeEncryption": _node_to_node,
    "securityPolicy": _security_policy,
}

TRANSPORT = SchemaClass(RULES, {})


def _check(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    problems = [p for prop in sorted(TRANSPORT.member_properties(args.resource_type)) if (p := RULES[prop](peek(args.props, prop)))]
    if problems:
        report(
            f"{args.resource_type} '{args.name}' accepts unencrypted connections:{bullet_list(problems)}\n"
            "Turn TLS on (transit_encryption_enabled=True, domain_endpoint_options.enforce_https=True with a TLS 1.2 policy, "
            "node_to_node_encryption.enabled=True, security_policy='TLS_1_2'): clients then cannot fall back to plain text."
        )


encryption_in_transit = TRANSPORT.policy(
    "encryption-in-transit",
    "Every pulumi-aws type with a transport-encryption switch (caches, search domains, custom API domains, ...) requires TLS.",
    _check,
)

POLICIES = [encryption_in_transit]

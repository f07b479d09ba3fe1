"""Values the shipped stack files hold only as examples: a real deploy with them creates a record
in nobody's zone, a certificate nobody can validate, alarm mail to nowhere or a grant to a stranger's
account. A preview flags them (advisory); `up` refuses them."""

from __future__ import annotations

import json
import re

from components.config.base import PROJECT, ConfigError
from components.config.stack import StackConfig

# RFC 2606 / RFC 6761: names reserved for documentation and testing, never delegated to anyone.
_RESERVED_DOMAIN = re.compile(r"(^|\.)(example\.(com|net|org)|example|test|invalid|localhost)$")
# Account ids AWS's documentation (and ours) use in examples, and the ids no account has.
EXAMPLE_ACCOUNTS = frozenset({"123456789012", "111122223333", "444455556666", "777788889999", "210987654321"})
_REPEATED_DIGIT = re.compile(r"^(\d)\1{11}$")


def _example_account(account: str) -> bool:
    return account in EXAMPLE_ACCOUNTS or bool(_REPEATED_DIGIT.match(account))


def placeholder_problems(cfg: StackConfig) -> list[str]:
    """One line per shipped example value still in `cfg`, naming the key and what to put there."""
    problems = []
    dashboard = cfg.dashboard
    if dashboard.domain_name and _RESERVED_DOMAIN.search(dashboard.domain_name):
        problems.append(
            f"{PROJECT}:dashboard.domainName = {json.dumps(dashboard.domain_name)}: a reserved example domain nobody can serve; "
            "expected your team's DNS name (docs/dashboard.md, Domain)"
        )
    if dashboard.hosted_zone_id and set(dashboard.hosted_zone_id[1:]) == {"0"}:
        problems.append(
            f"{PROJECT}:dashboard.hostedZoneId = {json.dumps(dashboard.hosted_zone_id)}: an all-zero placeholder; "
            "expected the id of the Route 53 public hosted zone that serves dashboard.domainName"
        )
    if dashboard.certificate_arn and _example_account(dashboard.certificate_arn.split(":")[4]):
        problems.append(
            f"{PROJECT}:dashboard.certificateArn = {json.dumps(dashboard.certificate_arn)}: a certificate of an example account; "
            "expected the ARN of your ACM certificate for dashboard.domainName"
        )
    if cfg.notification_email and _RESERVED_DOMAIN.search(cfg.notification_email.rsplit("@", 1)[-1]):
        problems.append(
            f"{PROJECT}:notificationEmail = {json.dumps(cfg.notification_email)}: an address of a reserved example domain, so alarms "
            "reach nobody; expected your team's alerting address"
        )
    for i, account in enumerate(cfg.registry.consumer_accounts):
        if _example_account(account):
            problems.append(
                f"{PROJECT}:registry.consumerAccounts[{i}] = {json.dumps(account)}: an example account id; expected the id of the account that serves this registry's models"
            )
    return problems


def is_deploying() -> bool:
    """`pulumi up` (or destroy/refresh) against real AWS: not a preview, and not under test mocks,
    which run with the preview flag off only to make outputs known and deploy nothing."""
    import pulumi
    from pulumi.runtime.mocks import MockMonitor
    from pulumi.runtime.settings import get_monitor

    return not pulumi.runtime.is_dry_run() and not isinstance(get_monitor(), MockMonitor)


def check_placeholders(cfg: StackConfig, deploying: bool) -> None:
    """Refuses a deploy that still holds placeholders (ConfigError); in a preview, warns about each."""
    import pulumi

    problems = placeholder_problems(cfg)
    if problems and deploying:
        raise ConfigError(cfg.stack, [f"{p} (refused at `up`: replace the shipped placeholder)" for p in problems])
    for problem in problems:
        pulumi.log.warn(f"placeholder: {problem} (`up` refuses it)")

"""Shipped placeholders: flagged (advisory) in a preview, refused by `pulumi up`."""

from __future__ import annotations

import pulumi
import pytest
from config_testkit import NS, parse, shipped

from components.config.placeholders import check_placeholders, is_deploying, placeholder_problems
from components.config.stack import ConfigError
from tools.offline.stack_files import apply_overrides

REAL = {
    "notificationEmail": "alerts@corp.io",
    "dashboard.domainName": "dashboard.corp.io",
    "dashboard.hostedZoneId": "Z0123456789ABCDEFGHIJ",
}


def config(stack: str, *overrides: str):
    return parse(apply_overrides(shipped(stack), overrides, namespace=NS), stack)


def real(stack: str, *overrides: str):
    """The stack with every placeholder replaced by a team's own value, plus `overrides`."""
    has_domain = "domainName" in shipped(stack)[f"{NS}:dashboard"]
    own = [f"{k}={v}" for k, v in REAL.items() if has_domain or not k.startswith("dashboard.")]
    return config(stack, *own, *overrides)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_stack_with_real_values_has_no_placeholder(stack):
    assert placeholder_problems(real(stack)) == []


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            "dashboard.domainName=dashboard.example.com",
            f'{NS}:dashboard.domainName = "dashboard.example.com": a reserved example domain nobody can serve; expected your team\'s DNS name (docs/dashboard.md, Domain)',
        ),
        (
            "dashboard.domainName=ml.example",
            f'{NS}:dashboard.domainName = "ml.example": a reserved example domain nobody can serve; expected your team\'s DNS name (docs/dashboard.md, Domain)',
        ),
        (
            "dashboard.hostedZoneId=Z00000000000000000000",
            f'{NS}:dashboard.hostedZoneId = "Z00000000000000000000": an all-zero placeholder; expected the id of the Route 53 public hosted zone that serves dashboard.domainName',
        ),
        (
            "notificationEmail=ops@example.org",
            f'{NS}:notificationEmail = "ops@example.org": an address of a reserved example domain, so alarms reach nobody; expected your team\'s alerting address',
        ),
    ],
)
def test_each_placeholder_is_named_with_what_to_put_there(override, expected):
    assert placeholder_problems(real("prod", override)) == [expected]


def test_an_example_consumer_account_is_a_placeholder():
    cfg = real("dev", 'registry.consumerAccounts=["210987654321", "345678901234", "000000000000"]')
    assert placeholder_problems(cfg) == [
        f'{NS}:registry.consumerAccounts[0] = "210987654321": an example account id; expected the id of the account that serves this registry\'s models',
        f'{NS}:registry.consumerAccounts[2] = "000000000000": an example account id; expected the id of the account that serves this registry\'s models',
    ]


def test_a_certificate_of_an_example_account_is_a_placeholder():
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000000"
    assert placeholder_problems(real("prod", f"dashboard.certificateArn={arn}")) == [
        f'{NS}:dashboard.certificateArn = "{arn}": a certificate of an example account; expected the ARN of your ACM certificate for dashboard.domainName'
    ]


def test_up_refuses_the_placeholders_of_the_shipped_stacks_and_a_preview_only_warns(monkeypatch):
    warned: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *a, **k: warned.append(message))
    for stack in ("dev", "prod"):
        cfg = parse(shipped(stack), stack)
        found = placeholder_problems(cfg)
        if not found:
            continue
        with pytest.raises(ConfigError) as refused:
            check_placeholders(cfg, deploying=True)
        assert refused.value.problems == [f"{p} (refused at `up`: replace the shipped placeholder)" for p in found]
        assert str(refused.value).startswith(f"invalid configuration for stack '{stack}'")
        check_placeholders(cfg, deploying=False)
        assert warned[-len(found) :] == [f"placeholder: {p} (`up` refuses it)" for p in found]
    assert warned, "the shipped stacks hold placeholders (prod's dashboard domain): this test must see one"


def test_deploying_means_not_a_preview_and_not_under_mocks(monkeypatch):
    from pulumi.runtime import mocks, settings

    class Engine:  # the real engine's monitor is a gRPC stub, not a MockMonitor
        pass

    for dry_run, monitor, deploying in (
        (False, Engine(), True),
        (True, Engine(), False),
        (False, object.__new__(mocks.MockMonitor), False),
    ):
        monkeypatch.setattr(pulumi.runtime, "is_dry_run", lambda d=dry_run: d)
        monkeypatch.setattr(settings, "get_monitor", lambda m=monitor: m)
        assert is_deploying() is deploying

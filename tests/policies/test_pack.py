"""The pack as a whole: every policy tested both ways, declared config, per-stack enforcement,
and the copies of AWS-published data it carries."""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from policy_testkit import (
    ASSERTED,
    ASSERTED_OUT,
    PACK_DIR,
    RAN_HERE,
    Stack,
    analyze,
    policy_config,
)
from suite_order import NOT_POLICY_UNIT_MODULES

sys.path.insert(0, str(PACK_DIR))
from guardrails import ALL_POLICIES, prices
from guardrails.aws_accounts import SAGEMAKER_IMAGE_REGISTRIES
from guardrails.lambda_ import DEFAULT_RUNTIMES

NAMES = [p.name for p in ALL_POLICIES]
# dev: what protects data and access is mandatory; release safety, availability and cost advise.
DEV_ADVISORY = {
    "lambda-tracing",
    "apigateway-stage-throttling",
    "codedeploy-lambda-gradual",
    "codedeploy-auto-rollback",
    "sagemaker-data-capture",
    "sagemaker-endpoint-ha",
    "sagemaker-endpoint-canary",
    "sagemaker-instance-types",
    "cognito-mfa",
    "cost-budget",
    "cost-estimate",
}
# Informational in every stack: it reports the cost estimate on every preview (guardrails/cost.py).
ALWAYS_ADVISORY = {"cost-estimate"}
# dev: throw-away stacks may be destroyed with their contents.
DEV_DISABLED = {"s3-bucket-no-force-destroy", "ecr-repository-no-force-delete", "deletion-protection"}


# Modules that record nothing in ASSERTED (they judge the real program, or the pack as a whole).
NOT_UNIT_MODULES = {"test_pack.py", *NOT_POLICY_UNIT_MODULES}


def test_every_policy_is_tested_passing_and_failing(request, tmp_path):
    """Runs after every other policy test of the session (conftest.py), over what they asserted.

    Unit modules that are not in this session (the check was run alone, or with a subset) are run
    in a child pytest session that reports what they asserted, so the check never skips.
    """
    here = Path(__file__).parent
    # Modules whose tests ran here (with parallel workers, others ran elsewhere and are run again below).
    missing = sorted({p.name for p in here.glob("test_*.py")} - NOT_UNIT_MODULES - RAN_HERE)
    passes, fails = set(ASSERTED["passes"]), set(ASSERTED["fails"])
    if missing:
        out = tmp_path / "asserted.json"
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", *(str(here / m) for m in missing)],
            cwd=here.parent.parent,
            env={**os.environ, ASSERTED_OUT: str(out)},
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, f"the policy unit tests failed:\n{done.stdout[-4000:]}"
        child = json.loads(out.read_text())
        passes |= set(child["passes"])
        fails |= set(child["fails"])
    assert set(NAMES) - passes == set(), "policies without a passing case"
    assert set(NAMES) - fails == set(), "policies without a failing case"


def test_policies_are_named_described_and_unique():
    assert len(NAMES) == len(set(NAMES))
    for policy in ALL_POLICIES:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", policy.name), policy.name
        assert policy.description and policy.description.endswith("."), policy.name


def test_configurable_values_have_schemas_with_defaults():
    """A value without a sensible default (the shared model package group) must be set by every stack's config."""
    for policy in ALL_POLICIES:
        if policy.config_schema is None:
            continue
        for key, spec in policy.config_schema.properties.items():
            assert spec.get("description", "").endswith("."), f"{policy.name}.{key}: a description, one or more sentences"
            if "default" not in spec:
                for stack in ("dev", "prod"):
                    assert key in (policy_config(stack).get(policy.name) or {}), (
                        f"{policy.name}.{key} has no default and {stack}.json does not set it"
                    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_configs_set_the_intended_enforcement_and_validate(pack, stack):
    result = analyze(pack, Stack(stack))  # resolving the file against the schemas is part of Configure
    levels = {p.name: p.level for p in result.policies}
    advisory = (DEV_ADVISORY if stack == "dev" else set()) | ALWAYS_ADVISORY
    disabled = DEV_DISABLED if stack == "dev" else set()
    assert {n for n, level in levels.items() if level == "advisory"} == advisory
    assert {n for n, level in levels.items() if level == "disabled"} == disabled
    assert {n for n, level in levels.items() if level == "mandatory"} == set(NAMES) - advisory - disabled


def test_prod_is_stricter_than_dev_where_values_differ():
    dev, prod = policy_config("dev"), policy_config("prod")
    assert prod["sagemaker-endpoint-ha"]["minInstanceCount"] == 2 > dev["sagemaker-endpoint-ha"]["minInstanceCount"]
    assert prod["cost-budget"]["monthlyBudgetUsd"] > dev["cost-budget"]["monthlyBudgetUsd"]
    assert set(prod["lambda-supported-runtime"]["allowedRuntimes"]) <= set(DEFAULT_RUNTIMES)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_allowed_instance_type_has_a_price(stack):
    patterns = policy_config(stack)["sagemaker-instance-types"]["allowedInstanceTypes"]
    priced = set(prices.SAGEMAKER_HOSTING_HOUR) | set(prices.SAGEMAKER_JOB_HOUR)
    for pattern in patterns:
        assert any(fnmatch.fnmatchcase(t, pattern) for t in priced), pattern


def test_prices_carry_the_date_they_were_read():
    assert date.fromisoformat(prices.PRICES_READ) <= date.today()
    assert prices.PRICE_REGION == "us-east-1"


def test_the_aws_owned_registries_match_the_sagemaker_sdk_tables():
    spec = importlib.util.find_spec("sagemaker")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the sagemaker SDK is not installed")
    tables = Path(next(iter(spec.submodule_search_locations))) / "core" / "image_uri_config"
    found: dict[str, set[str]] = {}

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("registries"), dict):
                for region, account in node["registries"].items():
                    found.setdefault(region, set()).add(account)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for table in tables.glob("*.json"):
        walk(json.loads(table.read_text()))
    assert {r: set(a) for r, a in SAGEMAKER_IMAGE_REGISTRIES.items()} == found

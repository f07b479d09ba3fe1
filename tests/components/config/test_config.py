"""Stack config rules: one test per rule, each asserting the message names the key, value and what is allowed."""

from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
import sys

import pytest
from config_testkit import NS, only_problem, parse, problems_for, shipped

from components.config.stack import ConfigError, StackConfig, parse_stack_config
from tools.offline.records import ROOT
from tools.offline.stack_files import apply_overrides, engine_config


def test_shipped_dev_config_parses_with_spec_values():
    cfg = parse(shipped("dev"), "dev")
    assert cfg.environment == "dev" and cfg.region == "us-east-1"
    assert (cfg.network.az_count, cfg.network.nat_gateways) == (2, 1)
    assert (cfg.training.instance_type, cfg.training.use_spot, cfg.training.min_auc) == ("ml.m5.large", True, 0.75)
    assert cfg.training.schedule == "cron(0 3 1 * ? *)"
    # The pin is whatever the last promotion set: a promotion pull request must not fail this test.
    assert (
        cfg.endpoint.mode == "serverless" and cfg.endpoint.model_package_version == shipped("dev")[f"{NS}:endpoint"]["modelPackageVersion"]
    )
    assert (cfg.endpoint.serverless.memory_mb, cfg.endpoint.serverless.max_concurrency) == (2048, 5)
    assert cfg.endpoint.data_capture_percent == 100 and cfg.endpoint.canary is None
    assert cfg.monitoring.schedule == "daily" and cfg.monitoring.drift_threshold == 0.2
    assert cfg.api.codedeploy_config_name == "CodeDeployDefault.LambdaAllAtOnce"
    assert (cfg.api.throttle.rate, cfg.api.throttle.burst, cfg.api.reserved_concurrency) == (20, 40, None)
    assert (cfg.dashboard.desired_count, cfg.dashboard.cpu, cfg.dashboard.memory) == (1, 512, 1024)
    assert cfg.dashboard.certificate_arn is None and cfg.dashboard.allowed_cidrs == ("0.0.0.0/0",)
    # Owner and cost centre are the team's own: read from the file, not this repository's example.
    owner, cost_center = shipped("dev")[f"{NS}:owner"], shipped("dev")[f"{NS}:costCenter"]
    assert cfg.tags == {"Project": NS, "Environment": "dev", "Owner": owner, "CostCenter": cost_center, "ManagedBy": "pulumi"}


def test_shipped_prod_config_parses_with_spec_values():
    cfg = parse(shipped("prod"), "prod")
    assert cfg.is_prod and (cfg.network.az_count, cfg.network.nat_gateways) == (2, 2)
    # prod trains nothing: it serves dev's registry by reference (tests/components/training/test_registry.py).
    assert cfg.training is None and not cfg.owns_registry and cfg.registry.stack == "organization/sagemaker-mlops/dev"
    assert (cfg.endpoint.mode, cfg.endpoint.instance_type, cfg.endpoint.instance_count) == ("provisioned", "ml.m5.large", 2)
    a = cfg.endpoint.autoscaling
    assert (a.min, a.max, a.target_invocations_per_instance) == (2, 4, 700)
    assert (cfg.endpoint.canary.percent, cfg.endpoint.canary.wait_minutes) == (10, 5)
    assert cfg.endpoint.data_capture_percent == 20 and cfg.monitoring.schedule == "hourly"
    assert cfg.api.codedeploy_config_name == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
    assert (cfg.api.throttle.rate, cfg.api.throttle.burst, cfg.api.reserved_concurrency) == (200, 400, 50)
    assert (cfg.dashboard.desired_count, cfg.dashboard.cpu, cfg.dashboard.memory) == (2, 1024, 2048)
    assert cfg.dashboard.certificate_arn is None and cfg.api.account_concurrency_limit == 1000
    assert (cfg.dashboard.domain_name, cfg.dashboard.hosted_zone_id) == ("dashboard.example.com", "Z00000000000000000000")


def test_config_is_frozen():
    cfg = parse(shipped("dev"), "dev")
    with pytest.raises(Exception):
        cfg.network.az_count = 3  # type: ignore[misc]


def test_structured_values_arrive_as_json_text_like_the_engine_sends_them():
    raw = engine_config(shipped("dev"))
    assert json.loads(raw[f"{NS}:network"]) == {"azCount": 2, "natGateways": 1}
    assert parse_stack_config(raw, NS, "dev").network.az_count == 2


def test_unknown_top_level_key_is_rejected_with_the_allowed_keys():
    problem = only_problem("dev", "colour=blue")
    assert problem.startswith(f"{NS}:colour: unknown key") and "allowed keys: environment, owner" in problem


def test_unknown_nested_key_is_rejected_with_the_allowed_keys():
    problem = only_problem("dev", "network.subnets=4")
    assert problem == f"{NS}:network.subnets: unknown key; allowed keys: azCount, natGateways"


def test_missing_required_key_is_named():
    assert only_problem("dev", drop=(f"{NS}:owner",)) == f"{NS}:owner: required key is missing"


def test_missing_nested_required_key_is_named():
    assert only_problem("dev", "training.minAuc=null") == f"{NS}:training.minAuc: required key is missing"


def test_missing_region_is_named():
    assert "aws:region: required key is missing" in only_problem("dev", drop=("aws:region",))


def test_invalid_region_is_rejected():
    problem = only_problem("dev", "aws:region=mars-north-1a")
    assert problem.startswith('aws:region = "mars-north-1a"') and "us-east-1" in problem


def test_wrong_type_names_key_value_and_expectation():
    problem = only_problem("dev", "network.azCount=two")
    assert problem.startswith(f'{NS}:network.azCount = "two"') and "expected an integer from 2 to 3" in problem


def test_numbers_given_as_text_are_accepted_as_the_cli_may_store_them():
    config = apply_overrides(shipped("dev"), ['network.azCount="3"'], namespace=NS)
    assert parse(config, "dev").network.az_count == 3


def test_wrong_type_for_a_whole_section():
    problem = only_problem("dev", "network=3")
    assert problem.startswith(f"{NS}:network = ") and "azCount, natGateways" in problem


@pytest.mark.parametrize(
    "override, key, allowed",
    [
        ("network.azCount=4", "network.azCount = 4", "an integer from 2 to 3"),
        ("network.natGateways=0", "network.natGateways = 0", "an integer >= 1"),
        ("training.minAuc=1.5", "training.minAuc = 1.5", "a number from 0 to 1"),
        ("endpoint.dataCapturePercent=120", "endpoint.dataCapturePercent = 120", "an integer from 0 to 100"),
        ("endpoint.modelPackageVersion=0", "endpoint.modelPackageVersion = 0", "a model package version >= 1"),
        ("monitoring.driftThreshold=0", "monitoring.driftThreshold = 0", "a number > 0"),
        ("api.throttle.rate=0", "api.throttle.rate = 0", "an integer >= 1"),
        ("dashboard.desiredCount=0", "dashboard.desiredCount = 0", "an integer from 1 to 20"),
    ],
)
def test_out_of_range_values_are_rejected(override, key, allowed):
    problem = only_problem("dev", override)
    assert problem.startswith(f"{NS}:{key}:") and f"expected {allowed}" in problem


def test_enum_values_list_what_is_allowed():
    problem = only_problem("dev", "endpoint.mode=fast")
    assert problem.startswith(f'{NS}:endpoint.mode = "fast"') and "'serverless' or 'provisioned'" in problem


def test_deployment_config_must_be_a_codedeploy_lambda_config():
    problem = only_problem("prod", "api.deploymentConfig=AllAtOnce")
    assert problem.startswith(f'{NS}:api.deploymentConfig = "AllAtOnce"') and "LambdaCanary10Percent5Minutes" in problem


def test_schedule_must_be_an_eventbridge_expression():
    problem = only_problem("dev", "training.schedule=every day")
    assert problem.startswith(f'{NS}:training.schedule = "every day"') and "cron(" in problem


def test_instance_type_must_be_a_sagemaker_type():
    problem = only_problem("prod", "endpoint.instanceType=m5.large")
    assert problem.startswith(f'{NS}:endpoint.instanceType = "m5.large"') and "ml.m5.large" in problem


def test_cidrs_must_be_network_addresses():
    problem = only_problem("dev", "dashboard.allowedCidrs=[10.0.0.1/8]")
    assert problem.startswith(f'{NS}:dashboard.allowedCidrs[0] = "10.0.0.1/8"') and "host bits set" in problem


def test_certificate_must_be_an_acm_arn():
    problem = only_problem("prod", "dashboard.certificateArn=my-cert")
    assert problem.startswith(f'{NS}:dashboard.certificateArn = "my-cert"') and "ACM certificate ARN" in problem


CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000000"


def test_canary_may_be_at_most_half_the_new_fleet():
    # AWS: "the canary size should be less than or equal to 50% of the new fleet's capacity".
    problem = only_problem("prod", "endpoint.canary={percent: 51, waitMinutes: 5}")
    assert problem.startswith(f"{NS}:endpoint.canary.percent = 51:") and "expected an integer from 1 to 50" in problem
    assert parse(apply_overrides(shipped("prod"), ["endpoint.canary.percent=50"], namespace=NS)).endpoint.canary.percent == 50


@pytest.mark.parametrize("limit, most", [(120, "at most 20"), (100, "at most 0; remove reservedConcurrency")])
def test_reserved_concurrency_leaves_aws_its_100_unreserved_executions(limit, most):
    problem = only_problem("prod", f"api.accountConcurrencyLimit={limit}")
    assert (
        problem.startswith(f"{NS}:api.reservedConcurrency = 50: AWS keeps 100 executions unreserved")
        and f"accountConcurrencyLimit {limit} expected {most}" in problem
    )
    assert parse(apply_overrides(shipped("prod"), ["api.accountConcurrencyLimit=150"], namespace=NS)).api.reserved_concurrency == 50
    assert (
        parse(
            apply_overrides(shipped("prod"), ["api.accountConcurrencyLimit=10", "api.reservedConcurrency=null"], namespace=NS)
        ).api.reserved_concurrency
        is None
    )


@pytest.mark.parametrize(
    "overrides, key, says",
    [
        (
            (f"dashboard.certificateArn={CERTIFICATE}", "dashboard.domainName=null", "dashboard.hostedZoneId=null"),
            "certificateArn",
            "only valid with dashboard.domainName",
        ),
        (("dashboard.domainName=null",), "hostedZoneId", "only valid with dashboard.domainName"),
        (("dashboard.hostedZoneId=null",), "domainName", "set dashboard.hostedZoneId (the program creates the DNS record"),
        (("dashboard.domainName=Dashboard.Example.com",), "domainName", "expected a lower-case DNS name"),
        (("dashboard.hostedZoneId=zone-1",), "hostedZoneId", "expected a Route 53 hosted zone id"),
        (
            (f"dashboard.certificateArn={CERTIFICATE.replace('us-east-1', 'eu-west-1')}",),
            "certificateArn",
            "a certificate of eu-west-1; expected one of the stack's Region us-east-1",
        ),
    ],
    ids=["certificate-without-domain", "zone-without-domain", "domain-without-certificate", "domain-case", "zone-id", "certificate-region"],
)
def test_dashboard_domain_combinations(overrides, key, says):
    problem = only_problem("prod", *overrides)
    assert problem.startswith(f"{NS}:dashboard.{key} = ") and says in problem


def test_a_domain_with_an_own_certificate_needs_no_zone():
    cfg = parse(apply_overrides(shipped("prod"), [f"dashboard.certificateArn={CERTIFICATE}", "dashboard.hostedZoneId=null"], namespace=NS))
    assert (cfg.dashboard.domain_name, cfg.dashboard.certificate_arn, cfg.dashboard.hosted_zone_id) == (
        "dashboard.example.com",
        CERTIFICATE,
        None,
    )


def test_a_config_error_makes_the_preview_exit_2_naming_the_key():
    done = subprocess.run(
        [sys.executable, "-m", "tools.preview", "--stack", "prod", "--set", "endpoint.canary.percent=60"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{NS}:endpoint.canary.percent = 60" in done.stdout and "Traceback" not in done.stdout + done.stderr


def test_notification_email_must_be_an_address():
    problem = only_problem("dev", "notificationEmail=ops")
    assert problem.startswith(f'{NS}:notificationEmail = "ops"') and "e-mail address" in problem


def test_more_nat_gateways_than_azs_is_inconsistent():
    problem = only_problem("dev", "network.natGateways=3")
    assert problem.startswith(f"{NS}:network.natGateways = 3") and "at most azCount (2)" in problem


def test_autoscaling_and_canary_require_provisioned_mode():
    problems = problems_for(
        "dev", "endpoint.autoscaling={min: 1, max: 2, targetInvocationsPerInstance: 100}", "endpoint.canary={percent: 10, waitMinutes: 5}"
    )
    assert f"{NS}:endpoint.autoscaling: only valid when mode is provisioned (mode is serverless)" in problems
    assert f"{NS}:endpoint.canary: only valid when mode is provisioned (mode is serverless)" in problems


def test_serverless_mode_needs_its_settings():
    assert (
        only_problem("dev", "endpoint.serverless=null")
        == f"{NS}:endpoint.serverless: required when mode is serverless (memoryMb, maxConcurrency)"
    )


def test_serverless_settings_are_rejected_in_provisioned_mode():
    problem = only_problem("prod", "endpoint.serverless={memoryMb: 2048, maxConcurrency: 5}")
    assert problem == f"{NS}:endpoint.serverless: only valid when mode is serverless (mode is provisioned)"


def test_provisioned_mode_needs_an_instance_type():
    assert only_problem("prod", "endpoint.instanceType=null") == f"{NS}:endpoint.instanceType: required when mode is provisioned"


def test_autoscaling_min_above_max_is_inconsistent():
    assert only_problem("prod", "endpoint.autoscaling.max=1") == f"{NS}:endpoint.autoscaling.min = 2: above autoscaling.max (1)"


def test_initial_instance_count_must_sit_within_autoscaling_bounds():
    problem = only_problem("prod", "endpoint.instanceCount=6")
    assert problem.startswith(f"{NS}:endpoint.instanceCount = 6") and "(2..4)" in problem


def test_fargate_memory_must_match_the_cpu_size():
    problem = only_problem("dev", "dashboard.memory=8192")
    assert problem.startswith(f"{NS}:dashboard.memory = 8192") and "cpu 512" in problem and "1024..4096" in problem


def test_tuning_config_is_parsed_and_checked():
    tuning = "{maxJobs: 4, maxParallel: 2, ranges: {max_depth: {type: integer, min: 3, max: 8}, learning_rate: {type: continuous, min: 0.01, max: 0.3, scaling: Logarithmic}}}"
    cfg = parse(apply_overrides(shipped("dev"), [f"training.tuning={tuning}"], namespace=NS), "dev")
    assert cfg.training.tuning_enabled and cfg.training.tuning.ranges["max_depth"].max == 8
    problems = problems_for(
        "dev", "training.tuning={maxJobs: 2, maxParallel: 3, ranges: {x: {type: categorical}, y: {type: continuous, min: 2, max: 1}}}"
    )
    assert f"{NS}:training.tuning.maxParallel = 3: more parallel jobs than jobs; expected at most maxJobs (2)" in problems
    assert f"{NS}:training.tuning.ranges.x.values: required for a categorical range" in problems
    assert f"{NS}:training.tuning.ranges.y.min = 2.0: must be below max (1.0)" in problems


def test_every_problem_is_reported_at_once():
    problems = problems_for("prod", "network.azCount=9", "endpoint.mode=fast", "dashboard.memory=3", "bogus=1", drop=(f"{NS}:owner",))
    assert len(problems) == 5
    text = str(ConfigError("prod", problems))
    assert text.startswith("invalid configuration for stack 'prod' (5 problems):")


def test_safety_rules_are_not_config_checks():
    # One instance and all-at-once in prod is unsafe, but it is the policy pack's call, not the parser's
    # (a canary on one instance is impossible, so that one the parser refuses: test_aws_rules.py).
    cfg = parse(
        apply_overrides(
            shipped("prod"),
            ["endpoint.autoscaling=null", "endpoint.instanceCount=1", "endpoint.canary=null", "api.deploymentConfig=LambdaAllAtOnce"],
            namespace=NS,
        )
    )
    assert cfg.endpoint.instance_count == 1


def test_overrides_do_not_touch_the_shipped_config():
    original = shipped("dev")
    snapshot = copy.deepcopy(original)
    apply_overrides(original, ["network.azCount=3", "endpoint=null"], namespace=NS)
    assert original == snapshot


def test_the_registry_owner_must_train_and_a_consumer_must_not():
    assert only_problem("dev", drop=(f"{NS}:training",)) == (
        f"{NS}:training: required key is missing (this stack owns the registry: registry.stack is not set)"
    )
    assert problems_for("prod", "registry=null") == [
        f"{NS}:training: required key is missing (this stack owns the registry: registry.stack is not set)"
    ]
    cfg = parse(apply_overrides(shipped("dev"), ['registry.consumerAccounts=["210987654321"]'], namespace=NS), "dev")
    assert cfg.owns_registry and cfg.registry.consumer_accounts == ("210987654321",)
    problem = only_problem("dev", 'registry.consumerAccounts=["210987654321", "210987654321"]')
    assert problem == f"{NS}:registry.consumerAccounts: 210987654321 listed more than once; expected each account once"


# Boundaries and whole enumerations, written from AWS's documentation rather than from the config
# module, so a typo or an off-by-one in the module fails here (they survived a mutation run).
AWS_LAMBDA_DEPLOYMENT_CONFIGS = (
    "LambdaAllAtOnce",
    "LambdaCanary10Percent5Minutes",
    "LambdaCanary10Percent10Minutes",
    "LambdaCanary10Percent15Minutes",
    "LambdaCanary10Percent30Minutes",
    "LambdaLinear10PercentEvery1Minute",
    "LambdaLinear10PercentEvery2Minutes",
    "LambdaLinear10PercentEvery3Minutes",
    "LambdaLinear10PercentEvery10Minutes",
)
AWS_SERVERLESS_MEMORY_MB = (1024, 2048, 3072, 4096, 5120, 6144)


def parsed(stack: str, *overrides: str) -> StackConfig:
    return parse(apply_overrides(shipped(stack), overrides, namespace=NS), stack)


@pytest.mark.parametrize("name", AWS_LAMBDA_DEPLOYMENT_CONFIGS)
def test_every_predefined_codedeploy_lambda_config_is_accepted(name):
    assert parsed("prod", f"api.deploymentConfig={name}").api.codedeploy_config_name == f"CodeDeployDefault.{name}"


@pytest.mark.parametrize("memory", AWS_SERVERLESS_MEMORY_MB)
def test_every_serverless_memory_size_is_accepted(memory):
    assert parsed("dev", f"endpoint.serverless.memoryMb={memory}").endpoint.serverless.memory_mb == memory


def test_a_serverless_memory_size_between_the_steps_is_rejected():
    assert only_problem("dev", "endpoint.serverless.memoryMb=1025").startswith(f"{NS}:endpoint.serverless.memoryMb = 1025")


@pytest.mark.parametrize(
    "overrides",
    [
        ("endpoint.autoscaling={min: 3, max: 3, targetInvocationsPerInstance: 100}", "endpoint.instanceCount=3"),
        ("endpoint.instanceCount=4",),  # at autoscaling.max
        ("endpoint.instanceCount=2",),  # at autoscaling.min
        ("api.reservedConcurrency=1",),
    ],
)
def test_values_at_the_edge_of_their_range_are_accepted(overrides):
    parsed("prod", *overrides)


@pytest.mark.parametrize("stack", ["dev", "prod"])  # dev has the serverless section, prod the autoscaling one
def test_every_section_of_the_config_is_frozen(stack):
    cfg = parsed(stack, "dashboard.schedule={days: MON-FRI, start: 7, stop: 20, timezone: UTC}")
    sections = [cfg]
    while sections:
        section = sections.pop()
        for field in dataclasses.fields(section):
            value = getattr(section, field.name)
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(section, field.name, value)
            if dataclasses.is_dataclass(value):
                sections.append(value)


def test_defaults_apply_when_a_key_is_absent():
    cfg = parsed("prod", "monitoring={schedule: hourly}")
    assert cfg.monitoring.drift_threshold == 0.2
    scaling = cfg.endpoint.autoscaling
    assert (scaling.scale_in_cooldown_seconds, scaling.scale_out_cooldown_seconds) == (300, 60)
    assert (
        parsed(
            "dev", "endpoint={mode: serverless, serverless: {memoryMb: 2048, maxConcurrency: 5}, dataCapturePercent: 0}"
        ).endpoint.instance_count
        == 1
    )


@pytest.mark.parametrize("seconds", [0, 3600])
def test_autoscaling_cooldowns_are_read_from_their_keys_within_0_to_3600(seconds):
    cfg = parsed(
        "prod",
        f"endpoint.autoscaling={{min: 2, max: 4, targetInvocationsPerInstance: 700, scaleInCooldownSeconds: {seconds}, scaleOutCooldownSeconds: {seconds}}}",
    )
    assert (cfg.endpoint.autoscaling.scale_in_cooldown_seconds, cfg.endpoint.autoscaling.scale_out_cooldown_seconds) == (seconds, seconds)


def test_an_autoscaling_cooldown_over_an_hour_is_rejected():
    problem = only_problem("prod", "endpoint.autoscaling.scaleOutCooldownSeconds=3601")
    assert problem.startswith(f"{NS}:endpoint.autoscaling.scaleOutCooldownSeconds = 3601") and "0 to 3600" in problem


def test_the_endpoint_exists_only_with_a_pinned_version():
    assert parsed("prod").endpoint.enabled
    assert not parsed("prod", "endpoint.modelPackageVersion=null").endpoint.enabled

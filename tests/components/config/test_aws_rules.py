"""Config refuses what AWS refuses: instance types per use (botocore's enums), EventBridge schedule
expressions, keys outside the project's and the providers' namespaces, a canary without a second
instance. Each rule: the exact message, naming the key and what is allowed."""

from __future__ import annotations

import difflib
import sys

import pytest
from config_testkit import NS, only_problem, parse, shipped

from components.config.instance_types import REQUEST_MEMBER, instance_types, member_name
from components.config.schedule import check_schedule
from tools.offline.records import ROOT

sys.path.insert(0, str(ROOT / "policies"))  # the pack's own modules, as the engine runs them
from guardrails.cost_schedules import runs_per_month

# key (as --set names it) -> the use whose request member the value ends up in, and the stack that has the key.
INSTANCE_KEYS = {
    "training.instanceType": ("training", "dev"),
    "training.processingInstanceType": ("processing", "dev"),
    "endpoint.instanceType": ("endpoint", "prod"),
    "monitoring.instanceType": ("monitor", "prod"),
}


def _enum_from_botocore(use: str) -> list[str]:
    """Read independently of the code under test: the request member's enum in the service model."""
    import botocore.session

    operation, path = REQUEST_MEMBER[use]
    shape = botocore.session.get_session().get_service_model("sagemaker").operation_model(operation).input_shape
    for part in path:
        shape = shape.member if part == "[]" else shape.members[part]
    return list(shape.enum)


def test_each_use_reads_the_enum_of_its_own_request_member():
    assert {use: member_name(use) for use in REQUEST_MEMBER} == {
        "training": "CreateTrainingJob ResourceConfig.InstanceType",
        "processing": "CreateProcessingJob ProcessingResources.ClusterConfig.InstanceType",
        "endpoint": "CreateEndpointConfig ProductionVariants.InstanceType",
        "monitor": "CreateDataQualityJobDefinition JobResources.ClusterConfig.InstanceType",
    }
    for use in REQUEST_MEMBER:
        assert list(instance_types(use)) == _enum_from_botocore(use)
    # The uses differ: a type valid for one is refused for another (ml.t2.medium serves, never trains).
    assert "ml.t2.medium" in instance_types("endpoint") and "ml.t2.medium" not in instance_types("training")


@pytest.mark.parametrize("key", INSTANCE_KEYS)
def test_every_instance_type_of_every_shipped_stack_is_one_aws_accepts_for_its_use(key):
    use, _ = INSTANCE_KEYS[key]
    for stack in ("dev", "prod"):
        cfg = parse(shipped(stack), stack)
        section, field = key.split(".")
        value = getattr(
            getattr(cfg, section), {"instanceType": "instance_type", "processingInstanceType": "processing_instance_type"}[field], None
        )
        if section == "endpoint" and cfg.endpoint.mode == "serverless":
            continue  # a serverless endpoint has no instance type
        if value is not None:
            assert value in _enum_from_botocore(use), (stack, key, value)


@pytest.mark.parametrize("key", INSTANCE_KEYS)
def test_a_misspelled_instance_type_is_refused_naming_the_request_member(key):
    use, stack = INSTANCE_KEYS[key]
    allowed = _enum_from_botocore(use)
    close = difflib.get_close_matches("ml.m5.lrage", allowed, n=3, cutoff=0.8)
    assert close[0] == "ml.m5.large"
    assert only_problem(stack, f"{key}=ml.m5.lrage") == (
        f'{NS}:{key} = "ml.m5.lrage": not a SageMaker instance type for {use} (did you mean {", ".join(close)}?); '
        f"expected one of the {len(allowed)} values botocore lists for {member_name(use)}, e.g. {allowed[0]}"
    )


def test_an_instance_type_of_another_use_is_refused():
    allowed = _enum_from_botocore("processing")
    assert only_problem("dev", "training.processingInstanceType=ml.t2.medium") == (
        f'{NS}:training.processingInstanceType = "ml.t2.medium": not a SageMaker instance type for processing (did you mean ml.t3.medium?); '
        f"expected one of the {len(allowed)} values botocore lists for {member_name('processing')}, e.g. {allowed[0]}"
    )


SCHEDULE_DESCRIPTION = "expected an EventBridge expression: cron(min hour dom month dow year) or rate(N unit)"
REFUSED_SCHEDULES = {
    # the issue's: day-of-month and day-of-week both set (read as "every day" by a naive counter: 30x the cost)
    "cron(0 3 1 * * *)": "cron needs ? in exactly one of day-of-month and day-of-week (got '1' and '*'); "
    "expected e.g. cron(0 3 1 * ? *) for the 1st of each month, cron(0 3 ? * MON *) for Mondays",
    "cron(0 3 ? * ? *)": "cron needs ? in exactly one of day-of-month and day-of-week (got '?' and '?'); "
    "expected e.g. cron(0 3 1 * ? *) for the 1st of each month, cron(0 3 ? * MON *) for Mondays",
    "cron(0 3 1 * ?)": "cron has 5 fields; expected six separated by single spaces: minutes hours day-of-month month day-of-week year",
    "cron(60 3 1 * ? *)": f"minutes value 60 is outside 0-59; {SCHEDULE_DESCRIPTION}",
    "cron(0 24 1 * ? *)": f"hours value 24 is outside 0-23; {SCHEDULE_DESCRIPTION}",
    "cron(0 3 32 * ? *)": f"day-of-month value 32 is outside 1-31; {SCHEDULE_DESCRIPTION}",
    "cron(0 3 ? 13 MON *)": f"month value 13 is outside 1-12; {SCHEDULE_DESCRIPTION}",
    "cron(0 3 ? * 8 *)": f"day-of-week value 8 is outside 1-7; {SCHEDULE_DESCRIPTION}",
    "cron(0 3 1 * ? 2200)": f"year value 2200 is outside 1970-2199; {SCHEDULE_DESCRIPTION}",
    "cron(0 3 ? * MOM *)": f"day-of-week value 'MOM' is not a number or a name; {SCHEDULE_DESCRIPTION}",
    "cron(0 3 ? * */2 *)": "day-of-week '*/2' uses /; allowed wildcards: , - * ? L #; " + SCHEDULE_DESCRIPTION,
    "cron(0 ? 1 * ? *)": f"hours does not take ? (only day-of-month and day-of-week do); {SCHEDULE_DESCRIPTION}",
    "cron(0 3 ? * 3#1,6#3 *)": f"day-of-week '3#1,6#3': with # the field holds one expression only; {SCHEDULE_DESCRIPTION}",
    "rate(1 days)": "rate(1 days): the unit is singular for 1; expected rate(1 day)",
    "rate(12 hour)": "rate(12 hour): the unit is plural for 12; expected rate(12 hours)",
    "rate(0 hours)": "rate value '0' is not a positive whole number; expected e.g. rate(1 day) or rate(12 hours)",
    "rate(2 weeks)": f"rate unit 'weeks' is not one of minute(s), hour(s), day(s); {SCHEDULE_DESCRIPTION}",
    "every day": "not a schedule expression; expected cron(minutes hours day-of-month month day-of-week year) or rate(N unit)",
}
ACCEPTED_SCHEDULES = [
    "cron(0 3 1 * ? *)",
    "cron(0 10 * * ? *)",
    "cron(15 12 * * ? *)",
    "cron(0 18 ? * MON-FRI *)",
    "cron(0 8 1 * ? *)",
    "cron(0/15 * * * ? *)",
    "cron(0/10 * ? * MON-FRI *)",
    "cron(0/5 8-17 ? * MON-FRI *)",
    "cron(0 9 ? * 2#1 *)",
    "cron(0 3 L * ? *)",
    "cron(0 3 ? JAN,JUL 6L 2030)",
    "cron(0 3 15W * ? *)",
    "rate(1 minute)",
    "rate(5 minutes)",
    "rate(1 hour)",
    "rate(1 day)",
    "rate(7 days)",
]


@pytest.mark.parametrize("expression", REFUSED_SCHEDULES)
def test_a_schedule_eventbridge_refuses_is_refused_with_the_rule_it_breaks(expression):
    assert only_problem("dev", f"training.schedule={expression}") == (
        f'{NS}:training.schedule = "{expression}": {REFUSED_SCHEDULES[expression]}'
    )


@pytest.mark.parametrize("expression", ACCEPTED_SCHEDULES)
def test_a_schedule_eventbridge_accepts_is_accepted_and_the_cost_estimate_reads_it(expression):
    assert parse(apply(shipped("dev"), {"schedule": expression}), "dev").training.schedule == expression
    # The policy pack's cost estimate counts runs from the same expression: whatever config accepts, it reads.
    assert runs_per_month(expression) is not None


def test_the_shipped_schedules_are_read_by_config_and_cost_estimate_alike():
    for stack in ("dev", "prod"):
        cfg = parse(shipped(stack), stack)
        if cfg.training is not None:
            assert check_schedule(cfg.training.schedule) == cfg.training.schedule
            assert runs_per_month(cfg.training.schedule) == pytest.approx(1.0)  # once a month


def apply(config: dict, training: dict) -> dict:
    return {**config, f"{NS}:training": {**config[f"{NS}:training"], **training}}


def test_a_key_outside_the_known_namespaces_is_refused_with_the_likely_key():
    assert only_problem("dev", "sagemaker-mlop:notificationEmail=team@corp.io") == (
        "sagemaker-mlop:notificationEmail: unknown namespace 'sagemaker-mlop' (did you mean sagemaker-mlops:notificationEmail?); "
        f"expected {NS}:<key>, or a key of aws:, docker:, tls:, pulumi:"
    )
    assert only_problem("dev", "gcp:project=x") == (
        f"gcp:project: unknown namespace 'gcp'; expected {NS}:<key>, or a key of aws:, docker:, tls:, pulumi:"
    )


def test_provider_and_engine_namespaces_are_accepted():
    config = {**shipped("dev"), "aws:profile": "team", "docker:host": "unix:///var/run/docker.sock", "pulumi:tags": {"a": "b"}}
    assert parse(config, "dev").environment == "dev"


CANARY = (
    f"{NS}:endpoint.canary: a canary needs at least 2 instances (one for the canary, one for the rest) but {{key}} = 1; "
    "expected instanceCount (and autoscaling.min) of 2 or more, or no canary"
)


def test_a_one_instance_fleet_cannot_canary():
    problem = only_problem("prod", "endpoint.instanceCount=1", "endpoint.autoscaling=null", "endpoint.canary={percent: 50, waitMinutes: 5}")
    assert problem == CANARY.format(key=f"{NS}:endpoint.instanceCount")


def test_a_fleet_autoscaling_may_shrink_to_one_cannot_canary():
    assert only_problem("prod", "endpoint.autoscaling.min=1") == CANARY.format(key=f"{NS}:endpoint.autoscaling.min")


def test_two_instances_leave_one_on_each_side():
    cfg = parse(apply_endpoint(shipped("prod"), instanceCount=2, autoscaling={"min": 2, "max": 4, "targetInvocationsPerInstance": 700}))
    assert cfg.endpoint.canary is not None and cfg.endpoint.instance_count == 2


def apply_endpoint(config: dict, **endpoint) -> dict:
    return {**config, f"{NS}:endpoint": {**config[f"{NS}:endpoint"], **endpoint}}

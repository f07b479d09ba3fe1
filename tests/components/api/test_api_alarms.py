"""CanaryApi's rollback alarms (CanaryApi._alarms) alone under Pulumi's mocks: each means what its
row of tests/support/alarm_table.py says, watches the version being released through the live
alias, is named under the stack's prefix and says what it watches, in seconds
(test_alarm_semantics.py checks the same table on the whole program, in minutes)."""

from __future__ import annotations

from types import SimpleNamespace

import pulumi
import pytest
from alarm_table import TABLE, Watched, mismatches
from pulumi_testkit import recording_mocks, resolve

from components.api.canary_api import CanaryApi, CanaryApiArgs

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "arn:aws:sns:us-east-1:111111111111:mlops-test-alarms"
FUNCTION = "mlops-test-predict"
# A threshold apart from the default: the alarm must take the one it is given.
ARGS = CanaryApiArgs(
    name_prefix="mlops-test",
    region="us-east-1",
    kms_key_arn="arn:aws:kms:us-east-1:111111111111:key/k",
    alarm_topic_arn=TOPIC,
    endpoint_name="mlops-test-churn",
    endpoint_arn="arn:aws:sagemaker:us-east-1:111111111111:endpoint/mlops-test-churn",
    feature_names=("tenure", "charges"),
    deployment_config_name="CodeDeployDefault.LambdaCanary10Percent5Minutes",
    throttle_rate=10,
    throttle_burst=20,
    log_retention_days=30,
    duration_p99_threshold_ms=2500,
)
WATCHED = Watched(
    TOPIC, function_name=FUNCTION, executed_version="7", api_id="a1b2c3d4e5", stage="$default", duration_p99_threshold_ms=2500
)
# resource name -> (CloudWatch name, description).
EXPECTED = {
    "api-errors-alarm": (
        "mlops-test-predict-new-version-errors",
        f"{FUNCTION}:live: the newest version raised unhandled errors (rolls back a CodeDeploy release)",
    ),
    "api-duration-alarm": (
        "mlops-test-predict-duration-p99",
        f"{FUNCTION}:live: p99 duration above 2500 ms (rolls back a CodeDeploy release)",
    ),
    "api-5xx-alarm": ("mlops-test-predict-api-5xx", "POST /predict answered 5XX (rolls back a CodeDeploy release)"),
}


@pytest.fixture
def mocks():
    yield from recording_mocks()


def declare() -> dict[str, pulumi.Resource]:
    """The alarms as CanaryApi declares them, for a function at version 7 behind stage $default."""
    parent = pulumi.ComponentResource("test:index:CanaryApi", "api")
    owner = SimpleNamespace(
        function_name=FUNCTION,
        function=SimpleNamespace(version=pulumi.Output.from_input("7")),
        api=SimpleNamespace(id=pulumi.Output.from_input("a1b2c3d4e5")),
    )
    stage = SimpleNamespace(name=pulumi.Output.from_input("$default"))
    alarms = CanaryApi._alarms(owner, "api", ARGS, stage, pulumi.ResourceOptions(parent=parent))
    return {resolve(a.urn).rsplit("::", 1)[-1]: a for a in alarms.values()}


def test_each_alarm_means_what_its_row_says(mocks):
    declared = declare()
    # CodeDeploy rolls back on these three (codedeploy_group): errors, slowness and 5XX answers.
    assert set(declared) == set(EXPECTED)
    for resource in declared:
        assert mismatches(resource, mocks.one(ALARM, resource), WATCHED) == [], TABLE[resource][0]


def test_each_alarm_is_named_under_the_stack_s_prefix_and_says_what_it_watches(mocks):
    for resource, alarm in declare().items():
        inputs = mocks.one(ALARM, resource)
        # The stack's roles may read and describe alarm:<prefix>* only; docs/api.md names them.
        assert (inputs["name"], inputs["alarmDescription"]) == EXPECTED[resource]
        # A child of the CanaryApi component: previews and the console group it with the API.
        assert resolve(alarm.urn).endswith(f"test:index:CanaryApi$aws:cloudwatch/metricAlarm:MetricAlarm::{resource}")

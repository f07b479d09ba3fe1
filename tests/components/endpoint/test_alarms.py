"""components/endpoint/alarms.py alone under Pulumi's mocks: each health alarm of the endpoint means
what its row of tests/support/alarm_table.py says (metric, statistic, periods, threshold, missing
data), is named where the stack's grants and the docs expect it and says what it watches, in
seconds (test_alarm_semantics.py checks the same table on the whole program, in minutes)."""

from __future__ import annotations

import pulumi
import pytest
from alarm_table import TABLE, Watched, mismatches
from pulumi_testkit import recording_mocks, resolve

from components.endpoint.alarms import health_alarms
from components.endpoint.args import ModelEndpointArgs

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "arn:aws:sns:us-east-1:111111111111:mlops-test-alarms"
ENDPOINT = "mlops-test-churn"
# Thresholds apart from the defaults: the alarms must take the ones they are given.
ARGS = ModelEndpointArgs(
    name_prefix="mlops-test",
    region="us-east-1",
    kms_key_arn="arn:aws:kms:us-east-1:111111111111:key/k",
    alarm_topic_arn=TOPIC,
    model_package_group_name="mlops-test-churn",
    model_package_version=3,
    artifact_bucket_name="artifacts",
    artifact_bucket_arn="arn:aws:s3:::artifacts",
    model_repository_arn="arn:aws:ecr:us-east-1:111111111111:repository/model",
    feature_names=("tenure", "charges"),
    mode="provisioned",
    data_capture_percent=10,
    monitoring_schedule="hourly",
    drift_threshold=0.3,
    latency_p99_threshold_ms=250,
    cpu_threshold_percent=70,
)
WATCHED = Watched(TOPIC, endpoint_name=ENDPOINT, latency_p99_threshold_ms=250, cpu_threshold_percent=70)
# alarms key (ModelEndpoint rolls back on "errors" and "latency"; the keys are the stack output
# endpointAlarmArns' keys) -> (resource name, CloudWatch name, description).
EXPECTED = {
    "errors": (
        "endpoint-5xx-alarm",
        "mlops-test-endpoint-5xx",
        f"{ENDPOINT}: the model answered with 5XX errors (rolls back a blue/green update)",
    ),
    "latency": (
        "endpoint-latency-alarm",
        "mlops-test-endpoint-latency-p99",
        f"{ENDPOINT}: p99 model latency above 250 ms (rolls back a blue/green update)",
    ),
    # Two periods of 300 s: the 10 minutes the description names.
    "cpu": ("endpoint-cpu-alarm", "mlops-test-endpoint-cpu", f"{ENDPOINT}: CPU above 70% of one core per instance for 10 minutes"),
}


@pytest.fixture
def mocks():
    yield from recording_mocks()


@pytest.mark.parametrize("provisioned", [True, False], ids=["instances", "serverless"])
def test_each_alarm_means_what_its_row_says(mocks, provisioned):
    parent = pulumi.ComponentResource("test:index:Endpoint", "endpoint")
    alarms = health_alarms("endpoint", ARGS, ENDPOINT, "AllTraffic", provisioned, parent)
    # A serverless endpoint has no instances, so no CPU metric to watch.
    assert set(alarms) == ({"errors", "latency", "cpu"} if provisioned else {"errors", "latency"})
    for key in alarms:
        resource, _, _ = EXPECTED[key]
        assert mismatches(resource, mocks.one(ALARM, resource), WATCHED) == [], TABLE[resource][0]


def test_each_alarm_is_named_under_the_stack_s_prefix_and_says_what_it_watches(mocks):
    parent = pulumi.ComponentResource("test:index:Endpoint", "endpoint")
    alarms = health_alarms("endpoint", ARGS, ENDPOINT, "AllTraffic", True, parent)
    for key, alarm in alarms.items():
        resource, name, description = EXPECTED[key]
        inputs = mocks.one(ALARM, resource)
        # The stack's roles may read and describe alarm:<prefix>* only; docs/endpoint.md names them.
        assert (inputs["name"], inputs["alarmDescription"]) == (name, description)
        # A child of the endpoint's component: previews and the console group it with the endpoint.
        assert resolve(alarm.urn).endswith(f"test:index:Endpoint$aws:cloudwatch/metricAlarm:MetricAlarm::{resource}")

"""What every alarm of the stacks means, pinned field by field, with the reason for each choice.

The rollback alarms (endpoint 5XX and p99 latency: SageMaker blue/green; API errors, p99 duration
and 5XX: CodeDeploy) must stay quiet on a quiet endpoint, or every release of an idle service rolls
back; the drift alarm must read each feature's drift once per monitoring run, or a daily total of
hourly values retrains every hour. A change to any field below fails this test
(test_every_field_of_every_row_is_checked proves each field is compared).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import fields
from typing import Any

import pytest
from config_testkit import parse, shipped

from components.api.args import CanaryApiArgs
from components.endpoint.args import ModelEndpointArgs
from components.training.model_schema import FEATURE_NAMES
from tools.offline.records import Records, stack_records

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
# The single-metric fields an alarm's meaning is made of; absent ones must stay absent.
FIELDS = (
    "namespace",
    "metricName",
    "dimensions",
    "statistic",
    "extendedStatistic",
    "period",
    "evaluationPeriods",
    "datapointsToAlarm",
    "comparisonOperator",
    "threshold",
    "treatMissingData",
    "evaluateLowSampleCountPercentiles",
)


def _default(args_type: type, name: str) -> Any:
    return next(f.default for f in fields(args_type) if f.name == name)


def _endpoint(records: Records) -> dict[str, str]:
    return {"EndpointName": records.one("aws:sagemaker/endpoint:Endpoint")["inputs"]["name"], "VariantName": "AllTraffic"}


def _function(records: Records) -> str:
    return records.one("aws:lambda/function:Function", "api-function")["inputs"]["name"]


def _lambda_alias(records: Records) -> dict[str, str]:
    return {"FunctionName": _function(records), "Resource": f"{_function(records)}:live"}


def _api_stage(records: Records) -> dict[str, str]:
    api_id = records.one("aws:apigatewayv2/api:Api")["state"]["executionArn"].rsplit(":", 1)[-1]
    return {"ApiId": api_id, "Stage": records.one("aws:apigatewayv2/stage:Stage")["inputs"]["name"]}


Expected = dict[str, Any]
# alarm resource name -> (reason, fields as a function of the stack's records and config).
TABLE: dict[str, tuple[str, Callable[[Records, Any], Expected]]] = {
    "endpoint-5xx-alarm": (
        "rollback alarm of the blue/green update: any 5XX within 2 minutes (1 of 2 one-minute sums); an idle endpoint "
        "publishes no datapoint, which must not count as an error (notBreaching), and counts are summed, not averaged",
        lambda r, c: dict(
            namespace="AWS/SageMaker",
            metricName="Invocation5XXErrors",
            dimensions=_endpoint(r),
            statistic="Sum",
            period=60,
            evaluationPeriods=2,
            datapointsToAlarm=1,
            comparisonOperator="GreaterThanThreshold",
            threshold=0,
            treatMissingData="notBreaching",
        ),
    ),
    "endpoint-latency-alarm": (
        "rollback alarm: p99 ModelLatency (microseconds) above the threshold in 2 of 3 minutes; a percentile of a few "
        "requests is noise (ignore low samples) and no traffic is not slowness (notBreaching)",
        lambda r, c: dict(
            namespace="AWS/SageMaker",
            metricName="ModelLatency",
            dimensions=_endpoint(r),
            extendedStatistic="p99",
            period=60,
            evaluationPeriods=3,
            datapointsToAlarm=2,
            comparisonOperator="GreaterThanThreshold",
            threshold=_default(ModelEndpointArgs, "latency_p99_threshold_ms") * 1000,
            treatMissingData="notBreaching",
            evaluateLowSampleCountPercentiles="ignore",
        ),
    ),
    "endpoint-cpu-alarm": (
        "capacity warning, not a rollback alarm: average instance CPU over two 5-minute periods; instance metrics stop "
        "only when instances do, so missing data keeps the last state (missing)",
        lambda r, c: dict(
            namespace="/aws/sagemaker/Endpoints",
            metricName="CPUUtilization",
            dimensions=_endpoint(r),
            statistic="Average",
            period=300,
            evaluationPeriods=2,
            comparisonOperator="GreaterThanThreshold",
            threshold=_default(ModelEndpointArgs, "cpu_threshold_percent"),
            treatMissingData="missing",
        ),
    ),
    "api-errors-alarm": (
        "CodeDeploy rollback alarm: any unhandled error of the version being released (ExecutedVersion through the live "
        "alias) in one minute; an idle API has no errors (notBreaching)",
        lambda r, c: dict(
            namespace="AWS/Lambda",
            metricName="Errors",
            dimensions={
                **_lambda_alias(r),
                "ExecutedVersion": r.one("aws:lambda/function:Function", "api-function")["state"]["version"],
            },
            statistic="Sum",
            period=60,
            evaluationPeriods=1,
            comparisonOperator="GreaterThanThreshold",
            threshold=0,
            treatMissingData="notBreaching",
        ),
    ),
    "api-duration-alarm": (
        "CodeDeploy rollback alarm: p99 duration through the alias above the threshold (ms) in 2 of 3 minutes, full "
        "samples only; no traffic is not slowness (notBreaching)",
        lambda r, c: dict(
            namespace="AWS/Lambda",
            metricName="Duration",
            dimensions=_lambda_alias(r),
            extendedStatistic="p99",
            period=60,
            evaluationPeriods=3,
            datapointsToAlarm=2,
            comparisonOperator="GreaterThanThreshold",
            threshold=_default(CanaryApiArgs, "duration_p99_threshold_ms"),
            treatMissingData="notBreaching",
            evaluateLowSampleCountPercentiles="ignore",
        ),
    ),
    "api-5xx-alarm": (
        "CodeDeploy rollback alarm: any 5XX answer of the stage in one minute (summed); no requests, no errors (notBreaching)",
        lambda r, c: dict(
            namespace="AWS/ApiGateway",
            metricName="5xx",
            dimensions=_api_stage(r),
            statistic="Sum",
            period=60,
            evaluationPeriods=1,
            comparisonOperator="GreaterThanThreshold",
            threshold=0,
            treatMissingData="notBreaching",
        ),
    ),
    "endpoint-drift-alarm": (
        "starts retraining: the sum over features of each feature's drift, each read as the Maximum over one monitoring "
        "interval (one report per run; a Sum over a longer period would add runs up and retrain every hour), one period "
        "above driftThreshold; no report yet is not drift (notBreaching)",
        lambda r, c: dict(
            comparisonOperator="GreaterThanThreshold",
            threshold=c.monitoring.drift_threshold,
            evaluationPeriods=1,
            treatMissingData="notBreaching",
        ),
    ),
}


def drift_queries(records: Records, cfg: Any) -> list[dict[str, Any]]:
    period = {"hourly": 3600, "daily": 86400}[cfg.monitoring.schedule]
    dimensions = {"Endpoint": _endpoint(records)["EndpointName"], "MonitoringSchedule": f"{cfg.name_prefix}-data-quality"}
    features = [
        {
            "id": f"f{i}",
            "returnData": False,
            "metric": {
                # Where the Model Monitor container publishes per-feature drift for a real-time endpoint.
                "namespace": "aws/sagemaker/Endpoints/data-metrics",
                "metricName": f"feature_baseline_drift_{name}",
                "dimensions": dimensions,
                "stat": "Maximum",
                "period": period,
            },
        }
        for i, name in enumerate(FEATURE_NAMES)
    ]
    total = " + ".join(f"FILL(f{i}, 0)" for i in range(len(FEATURE_NAMES)))
    return [*features, {"id": "total_drift", "expression": total, "label": "Total feature baseline drift", "returnData": True}]


def mismatches(name: str, inputs: dict[str, Any], records: Records, cfg: Any) -> list[str]:
    """Every field of the alarm `name` that differs from the table (absent expected = must be absent)."""
    expected = TABLE[name][1](records, cfg)
    found = [f"{f}: {inputs.get(f)!r} != {expected.get(f)!r}" for f in FIELDS if inputs.get(f) != expected.get(f)]
    queries = drift_queries(records, cfg) if name == "endpoint-drift-alarm" else None
    if inputs.get("metricQueries") != queries:
        found.append(f"metricQueries: {inputs.get('metricQueries')!r} != {queries!r}")
    topic = records.one("aws:sns/topic:Topic", "foundation-alarms")["state"]["arn"]
    if inputs.get("alarmActions") != [topic] or inputs.get("okActions") != [topic]:
        found.append("alarmActions/okActions: expected the alarm topic, on ALARM and on OK")
    return found


@pytest.fixture(scope="module", params=["dev", "prod"])
def stack(request):
    return request.param, stack_records(request.param), parse(shipped(request.param), request.param)


def test_every_alarm_of_the_stack_is_in_the_table(stack):
    name, records, cfg = stack
    declared = {a["name"] for a in records.of_type(ALARM)}
    assert declared <= set(TABLE), f"{name}: alarms without a row here: {sorted(declared - set(TABLE))}"
    # Every stack serving a model has its rollback alarms; instances add CPU; monitoring adds drift.
    expected = {"endpoint-5xx-alarm", "endpoint-latency-alarm", "api-errors-alarm", "api-duration-alarm", "api-5xx-alarm"}
    if cfg.endpoint.mode == "provisioned":
        expected.add("endpoint-cpu-alarm")
        if cfg.monitoring.schedule != "off":
            expected.add("endpoint-drift-alarm")
    assert declared == expected


@pytest.mark.parametrize("name", TABLE)
def test_alarm_means_what_its_row_says(stack, name):
    stack_name, records, cfg = stack
    alarms = [a for a in records.of_type(ALARM) if a["name"] == name]
    if not alarms:
        pytest.skip(f"{stack_name} declares no {name} (test_every_alarm_of_the_stack_is_in_the_table says which it must)")
    assert mismatches(name, alarms[0]["inputs"], records, cfg) == [], TABLE[name][0]


def test_rollback_alarms_treat_missing_data_as_not_breaching(stack):
    """Stated apart from the table: the one choice that decides whether a quiet service can release at all."""
    _, records, _ = stack
    endpoint = records.one("aws:sagemaker/endpoint:Endpoint")["inputs"]
    rollback = [a["alarmName"] for a in endpoint.get("deploymentConfig", {}).get("autoRollbackConfiguration", {}).get("alarms", [])]
    names = {a["inputs"]["name"]: a for a in records.of_type(ALARM)}
    for alarm in rollback:
        assert names[alarm]["inputs"]["treatMissingData"] == "notBreaching", alarm
    group = records.one("aws:codedeploy/deploymentGroup:DeploymentGroup")["inputs"]
    for alarm in group["alarmConfiguration"]["alarms"]:
        assert names[alarm]["inputs"]["treatMissingData"] == "notBreaching", alarm


def _mutations(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [{**value, "Extra": "x"}, dict(list(value.items())[1:])]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [value + 1]
    if isinstance(value, list):
        return [value[:-1]]
    if value is None:
        return ["set"]
    return [f"{value}x"]


def test_every_field_of_every_row_is_checked():
    """Each field of each recorded alarm, changed once, is reported: the table cannot pass by accident."""
    records, cfg = stack_records("prod"), parse(shipped("prod"), "prod")
    for alarm in records.of_type(ALARM):
        inputs = alarm["inputs"]
        assert mismatches(alarm["name"], inputs, records, cfg) == []
        for field in (*FIELDS, "metricQueries"):
            for mutated in _mutations(inputs.get(field)):
                changed = {**copy.deepcopy(inputs), field: mutated}
                assert mismatches(alarm["name"], changed, records, cfg), (alarm["name"], field, mutated)
        if alarm["name"] == "endpoint-drift-alarm":
            for i, query in enumerate(inputs["metricQueries"][:-1]):
                for key in ("namespace", "metricName", "dimensions", "stat", "period"):
                    for mutated in _mutations(query["metric"][key]):
                        changed = copy.deepcopy(inputs)
                        changed["metricQueries"][i]["metric"][key] = mutated
                        assert mismatches(alarm["name"], changed, records, cfg), (i, key)

"""What every alarm of the stacks means, pinned field by field with the reason for each choice
(tests/support/alarm_table.py), read from each stack's records: the program gives each alarm the
resources it watches. A change to any field fails this test (test_every_field_of_every_row_is_checked
proves each field is compared); tests/components/endpoint/test_alarms.py and
tests/components/api/test_api_alarms.py check the same table in seconds, without the program.
"""

from __future__ import annotations

import copy
from dataclasses import fields
from typing import Any

import pytest
from alarm_table import FIELDS, TABLE, Watched, mismatches
from config_testkit import parse, shipped

from components.api.args import CanaryApiArgs
from components.endpoint.args import ModelEndpointArgs
from components.training.model_schema import FEATURE_NAMES
from tools.offline.records import Records, stack_records

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def _default(args_type: type, name: str) -> Any:
    return next(f.default for f in fields(args_type) if f.name == name)


def watched(records: Records, cfg: Any) -> Watched:
    """What the stack's alarms watch: the resources the program declared, the thresholds it left at
    their defaults, the stack's drift settings."""
    function = records.one("aws:lambda/function:Function", "api-function")
    monitored = cfg.monitoring.schedule != "off"
    return Watched(
        endpoint_name=records.one("aws:sagemaker/endpoint:Endpoint")["inputs"]["name"],
        function_name=function["inputs"]["name"],
        executed_version=function["state"]["version"],
        api_id=records.one("aws:apigatewayv2/api:Api")["state"]["executionArn"].rsplit(":", 1)[-1],
        stage=records.one("aws:apigatewayv2/stage:Stage")["inputs"]["name"],
        topic_arn=records.one("aws:sns/topic:Topic", "foundation-alarms")["state"]["arn"],
        latency_p99_threshold_ms=_default(ModelEndpointArgs, "latency_p99_threshold_ms"),
        cpu_threshold_percent=_default(ModelEndpointArgs, "cpu_threshold_percent"),
        duration_p99_threshold_ms=_default(CanaryApiArgs, "duration_p99_threshold_ms"),
        drift_threshold=cfg.monitoring.drift_threshold if monitored else None,
        monitoring_schedule=cfg.monitoring.schedule,
        schedule_name=f"{cfg.name_prefix}-data-quality",
        feature_names=tuple(FEATURE_NAMES),
    )


@pytest.fixture(scope="module", params=["dev", "prod"])
def stack(request):
    records = stack_records(request.param)
    cfg = parse(shipped(request.param), request.param)
    return request.param, records, cfg, watched(records, cfg)


def test_every_alarm_of_the_stack_is_in_the_table(stack):
    name, records, cfg, _ = stack
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
    stack_name, records, _, seen = stack
    alarms = [a for a in records.of_type(ALARM) if a["name"] == name]
    if not alarms:
        pytest.skip(f"{stack_name} declares no {name} (test_every_alarm_of_the_stack_is_in_the_table says which it must)")
    assert mismatches(name, alarms[0]["inputs"], seen) == [], TABLE[name][0]


def test_rollback_alarms_treat_missing_data_as_not_breaching(stack):
    """Stated apart from the table: the one choice that decides whether a quiet service can release at all."""
    _, records, _, _ = stack
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
    records = stack_records("prod")
    seen = watched(records, parse(shipped("prod"), "prod"))
    for alarm in records.of_type(ALARM):
        inputs = alarm["inputs"]
        assert mismatches(alarm["name"], inputs, seen) == []
        for field in (*FIELDS, "metricQueries"):
            for mutated in _mutations(inputs.get(field)):
                changed = {**copy.deepcopy(inputs), field: mutated}
                assert mismatches(alarm["name"], changed, seen), (alarm["name"], field, mutated)
        if alarm["name"] == "endpoint-drift-alarm":
            for i, query in enumerate(inputs["metricQueries"][:-1]):
                for key in ("namespace", "metricName", "dimensions", "stat", "period"):
                    for mutated in _mutations(query["metric"][key]):
                        changed = copy.deepcopy(inputs)
                        changed["metricQueries"][i]["metric"][key] = mutated
                        assert mismatches(alarm["name"], changed, seen), (i, key)

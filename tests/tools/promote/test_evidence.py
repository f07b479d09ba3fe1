"""Soak evidence: each SLO measured against its threshold (boundaries included), the served package
read from a moto endpoint, and the deploy's re-check refusing evidence that is about another ARN,
failed, too short, stale or a rollback to a version prod never pinned."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from components.config.promotion import PromotionConfig, SloConfig
from tools.promote.evidence import (
    ROLLBACK,
    SLO_5XX,
    SLO_DRIFT,
    SLO_P99,
    SLO_QUALITY,
    SLO_ROLLBACK,
    SLO_TRAFFIC,
    Evidence,
    Measurement,
    SoakTarget,
    iso,
    measure_drift,
    measure_quality,
    measure_soak,
    measure_traffic,
    refusal,
    served_since,
    table,
    verify_evidence,
)
from tools.promote.stack_file import CheckFailed, PromoteError

ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-dev-churn/2"
NOW = datetime(2026, 12, 6, 4, 0, tzinfo=timezone.utc)
PROMOTION = PromotionConfig(soakHours=24, slo=SloConfig(max5xxRate=0.01, p99LatencyMs=500, minInvocations=100))
TARGET = SoakTarget(ARN, "mlops-dev-churn", "AllTraffic", "mlops-dev-endpoint-drift", "reports", "monitoring/mlops-dev-churn/reports")


class FakeCloudWatch:
    """GetMetricData answered per query id; DescribeAlarms from a list (what CloudWatch would say)."""

    def __init__(self, values: dict[str, list[float]], alarms: list[dict[str, Any]] = ()) -> None:
        self.values, self.alarms, self.queries = values, list(alarms), []

    def get_metric_data(self, MetricDataQueries, StartTime, EndTime, **_):
        self.queries.append((MetricDataQueries, StartTime, EndTime))
        results = []
        for q in MetricDataQueries:
            values = self.values.get(q["Id"], [])
            results.append({"Id": q["Id"], "Values": values, "Timestamps": [StartTime + timedelta(hours=i) for i in range(len(values))]})
        return {"MetricDataResults": results}

    def describe_alarms(self, AlarmNames):
        return {"MetricAlarms": [a for a in self.alarms if a["AlarmName"] in AlarmNames]}


def drift_alarm(state: str = "OK") -> dict[str, Any]:
    stat = {
        "Metric": {"Namespace": "aws/sagemaker/Endpoints/data-metrics", "MetricName": "feature_baseline_drift_x"},
        "Period": 3600,
        "Stat": "Maximum",
    }
    return {
        "AlarmName": TARGET.drift_alarm_name,
        "Threshold": 0.2,
        "StateValue": state,
        "Metrics": [
            {"Id": "f0", "MetricStat": stat},
            {"Id": "f1", "MetricStat": stat},
            {"Id": "total", "Expression": "FILL(f0,0)+FILL(f1,0)"},
        ],
    }


class FakeSageMaker:
    def __init__(self, packages: list[str], since: datetime, status: str = "InService") -> None:
        self.packages, self.since, self.status = packages, since, status

    def describe_endpoint(self, EndpointName):
        return {"EndpointStatus": self.status, "EndpointConfigName": "c", "LastModifiedTime": self.since}

    def describe_endpoint_config(self, EndpointConfigName):
        return {"ProductionVariants": [{"ModelName": f"m{i}"} for i in range(len(self.packages))]}

    def describe_model(self, ModelName):
        return {"PrimaryContainer": {"ModelPackageName": self.packages[int(ModelName[1:])]}}


class FakeS3:
    def __init__(self, reports: list[tuple[datetime, int]]) -> None:
        self.reports = reports

    def get_paginator(self, name):
        contents = [
            {"Key": f"{TARGET.reports_prefix}/x/{i}/constraint_violations.json", "LastModified": at}
            for i, (at, _) in enumerate(self.reports)
        ]
        return SimpleNamespace(paginate=lambda **_: [{"Contents": contents}])

    def get_object(self, Bucket, Key):
        count = self.reports[int(Key.split("/")[-2])][1]
        body = '{"violations": [%s]}' % ",".join('{"feature_name": "tenure"}' for _ in range(count))
        return {"Body": SimpleNamespace(read=lambda: body.encode())}


def soak(
    invocations: float = 7200,
    errors: float = 0,
    p99_us: list[float] = (120_000.0,),
    drift: tuple[list[float], list[float]] = ([0.05], [0.05]),
    alarm_state: str = "OK",
    reports: list[tuple[datetime, int]] = (),
    packages: list[str] = (ARN,),
    served_hours: float = 24.1,
) -> Evidence:
    values = {"invocations": [invocations], "errors5xx": [errors], "p99": list(p99_us), "f0": drift[0], "f1": drift[1]}
    clients = SimpleNamespace(
        sagemaker=FakeSageMaker(list(packages), NOW - timedelta(hours=served_hours)),
        cloudwatch=FakeCloudWatch(values, [drift_alarm(alarm_state)]),
        s3=FakeS3(list(reports)),
    )
    return measure_soak(clients, TARGET, PROMOTION, NOW)


def verdicts(evidence: Evidence) -> dict[str, bool]:
    return {m.slo: m.passed for m in evidence.measurements}


def test_a_clean_soak_meets_every_slo_and_names_each_query():
    evidence = soak(reports=[(NOW - timedelta(hours=2), 0)])
    assert evidence.passed and evidence.arn == ARN and evidence.soak_hours == 24
    assert list(verdicts(evidence)) == [SLO_ROLLBACK, SLO_TRAFFIC, SLO_5XX, SLO_P99, SLO_DRIFT, SLO_QUALITY]
    rendered = table(evidence)
    assert rendered.splitlines()[:2] == ["| SLO | measured | threshold | window | query | verdict |", "|---|---|---|---|---|---|"]
    assert '"MetricName":"Invocation5XXErrors"' in rendered and '"Stat":"p99"' in rendered and "errors5xx / invocations" in rendered
    assert "2026-12-05T04:00:00Z .. 2026-12-06T04:00:00Z (24 h)" in rendered
    # evidence/prod.json, committed with the prod pull request: what was soaked, when, and no note
    # (a note is a rollback's reason).
    document = json.loads(evidence.to_json())
    del document["measurements"]
    assert document == {
        "kind": "soak",
        "arn": ARN,
        "measured_at": "2026-12-06T04:00:00Z",
        "window_start": "2026-12-05T04:00:00Z",
        "window_end": "2026-12-06T04:00:00Z",
        "soak_hours": 24,
        "served_since": "2026-12-05T03:54:00Z",
        "endpoint_name": TARGET.endpoint_name,
        "note": "",
        "passed": True,
    }


@pytest.mark.parametrize(
    "kwargs, failed",
    [
        ({"errors": 72}, None),  # exactly 1%: met
        ({"errors": 73}, SLO_5XX),
        ({"p99_us": [100_000.0, 500_000.0]}, None),  # exactly 500 ms: met
        ({"p99_us": [100_000.0, 500_001.0]}, SLO_P99),
        ({"p99_us": []}, SLO_P99),  # no latency data is no evidence
        ({"invocations": 99, "errors": 0}, SLO_TRAFFIC),
        ({"drift": ([0.1, 0.15], [0.1, 0.06])}, SLO_DRIFT),  # one hour's total 0.21 > 0.2
        ({"drift": ([0.1], [0.1])}, None),  # total 0.2: not above
        ({"alarm_state": "ALARM"}, SLO_DRIFT),
        ({"reports": [(NOW - timedelta(hours=1), 2)]}, SLO_QUALITY),
        ({"reports": [(NOW - timedelta(hours=30), 2)]}, None),  # before the window
        ({"served_hours": 23.9}, SLO_ROLLBACK),
        ({"packages": ["arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-dev-churn/1"]}, SLO_ROLLBACK),
    ],
)
def test_each_slo_fails_on_its_own_side_of_the_threshold(kwargs, failed):
    evidence = soak(**kwargs)
    assert [m.slo for m in evidence.failed] == ([failed] if failed else [])
    if failed:
        assert f"SLO '{failed}' failed" in refusal(evidence)


def stubbed_cloudwatch() -> tuple[Any, Stubber]:
    """A real CloudWatch client whose answers are scripted: every request is validated against
    CloudWatch's service model (an unknown key, a None token are refused) and compared with the one
    expected, in order."""
    client = boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


START = NOW - timedelta(hours=24)
# The variant's own series: without both dimensions CloudWatch answers another (or no) series.
VARIANT = [{"Name": "EndpointName", "Value": "mlops-dev-churn"}, {"Name": "VariantName", "Value": "AllTraffic"}]


def variant_query(qid: str, metric: str, period: int, stat: str) -> dict[str, Any]:
    metric_stat = {"Metric": {"Namespace": "AWS/SageMaker", "MetricName": metric, "Dimensions": VARIANT}, "Period": period, "Stat": stat}
    return {"Id": qid, "MetricStat": metric_stat, "ReturnData": True}


def test_traffic_is_asked_of_the_variant_s_series_and_read_to_the_last_page():
    cloudwatch, stub = stubbed_cloudwatch()
    counts = [variant_query("invocations", "Invocations", 86400, "Sum"), variant_query("errors5xx", "Invocation5XXErrors", 86400, "Sum")]
    asked = {"MetricDataQueries": counts, "StartTime": START, "EndTime": NOW}
    first = [{"Id": "invocations", "Values": [3000.0]}, {"Id": "errors5xx", "Values": []}]
    stub.add_response("get_metric_data", {"MetricDataResults": first, "NextToken": "page-2"}, asked)
    second = [{"Id": "invocations", "Values": [4200.0]}, {"Id": "errors5xx", "Values": [72.0]}]
    stub.add_response("get_metric_data", {"MetricDataResults": second}, {**asked, "NextToken": "page-2"})
    latency = {"MetricDataQueries": [variant_query("p99", "ModelLatency", 3600, "p99")], "StartTime": START, "EndTime": NOW}
    stub.add_response("get_metric_data", {"MetricDataResults": [{"Id": "p99", "Values": [120_000.0, 480_000.0]}]}, latency)
    with stub:
        measured = {m.slo: m.measured for m in measure_traffic(cloudwatch, TARGET, PROMOTION, START, NOW)}
        stub.assert_no_pending_responses()
    # The second page holds most of the traffic and every error: a reader stopping at the first
    # would report 3000 invocations and no errors.
    assert measured == {SLO_TRAFFIC: "7200", SLO_5XX: "1.0000% (72/7200)", SLO_P99: "480.0 ms (worst hour)"}


def test_drift_replays_the_alarm_s_own_queries_and_adds_each_hour_across_pages():
    cloudwatch, stub = stubbed_cloudwatch()
    feature = {
        "Metric": {
            "Namespace": "aws/sagemaker/Endpoints/data-metrics",
            "MetricName": "feature_baseline_drift_tenure",
            "Dimensions": [{"Name": "Endpoint", "Value": "mlops-dev-churn"}, {"Name": "MonitoringSchedule", "Value": "drift"}],
        },
        "Period": 3600,
        "Stat": "Maximum",
    }
    alarm = {
        "AlarmName": TARGET.drift_alarm_name,
        "Threshold": 0.2,
        "StateValue": "OK",
        "Metrics": [
            {"Id": "f0", "MetricStat": feature, "ReturnData": False},
            {"Id": "f1", "MetricStat": feature, "ReturnData": False},
            {"Id": "total", "Expression": "FILL(f0,0)+FILL(f1,0)", "ReturnData": True},
        ],
    }
    stub.add_response("describe_alarms", {"MetricAlarms": [alarm]}, {"AlarmNames": [TARGET.drift_alarm_name]})
    replayed = [{"Id": q, "MetricStat": feature, "ReturnData": True} for q in ("f0", "f1")]
    asked = {"MetricDataQueries": replayed, "StartTime": START, "EndTime": NOW}
    hour = NOW - timedelta(hours=3)
    page = [{"Id": "f0", "Timestamps": [hour], "Values": [0.12]}, {"Id": "f1", "Timestamps": [], "Values": []}]
    stub.add_response("get_metric_data", {"MetricDataResults": page, "NextToken": "page-2"}, asked)
    page = [{"Id": "f1", "Timestamps": [hour], "Values": [0.1]}]
    stub.add_response("get_metric_data", {"MetricDataResults": page}, {**asked, "NextToken": "page-2"})
    with stub:
        drift = measure_drift(cloudwatch, TARGET, START, NOW)
        stub.assert_no_pending_responses()
    # 0.12 + 0.1 in the same hour is above 0.2, though neither page alone is.
    assert (drift.measured, drift.passed) == ("state OK; worst total drift 0.220", False)


def test_two_packages_behind_the_endpoint_are_no_soak():
    with pytest.raises(CheckFailed, match="serves 2 model packages"):
        soak(packages=[ARN, ARN.replace("/2", "/3")])


def test_an_endpoint_that_is_not_in_service_is_no_soak():
    clients = SimpleNamespace(sagemaker=FakeSageMaker([ARN], NOW, status="Updating"))
    with pytest.raises(CheckFailed) as refused:
        measure_soak(clients, TARGET, PROMOTION, NOW)
    assert str(refused.value) == "dev's endpoint mlops-dev-churn is Updating, not InService: nothing is soaking"


def test_without_a_drift_alarm_drift_is_reported_as_not_measured():
    drift = measure_drift(FakeCloudWatch({}), TARGET, NOW - timedelta(hours=24), NOW)
    assert drift == Measurement(
        SLO_DRIFT,
        "not measured: no drift alarm (dev runs no Model Monitor)",
        "never in ALARM",
        "2026-12-05T04:00:00Z .. 2026-12-06T04:00:00Z (24 h)",
        f"DescribeAlarms AlarmNames=[{TARGET.drift_alarm_name}]",
        True,
    )


def test_quality_names_every_feature_that_violated_its_constraints():
    class Reports(FakeS3):
        def get_object(self, Bucket, Key):
            names = [["tenure", "charges"], ["tenure"]][int(Key.split("/")[-2])]
            body = json.dumps({"violations": [{"feature_name": n} for n in names]})
            return {"Body": SimpleNamespace(read=body.encode)}

    measured = measure_quality(Reports([(NOW - timedelta(hours=3), 2), (NOW - timedelta(hours=1), 1)]), TARGET, PROMOTION, START, NOW)
    assert (measured.measured, measured.passed) == ("3 in 2 report(s) (charges, tenure)", False)


def test_served_since_reads_the_package_through_a_real_moto_endpoint():
    with mock.patch.dict(os.environ, {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}), mock_aws():
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        sagemaker.create_model(
            ModelName="m", PrimaryContainer={"ModelPackageName": ARN}, ExecutionRoleArn="arn:aws:iam::123456789012:role/r"
        )
        sagemaker.create_endpoint_config(
            EndpointConfigName="c",
            ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "m", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
        )
        sagemaker.create_endpoint(EndpointName="e", EndpointConfigName="c")
        arn, since = served_since(sagemaker, "e")
    assert arn == ARN and since.tzinfo is not None


def passed_evidence(**changes: Any) -> Evidence:
    evidence = Evidence("soak", ARN, iso(NOW), iso(NOW - timedelta(hours=24)), iso(NOW), 24, iso(NOW - timedelta(hours=24.1)))
    evidence.measurements = [Measurement(SLO_5XX, "0%", "<= 1%", "w", "q", True)]
    for key, value in changes.items():
        setattr(evidence, key, value)
    return evidence


def test_the_deploy_accepts_fresh_passed_evidence_about_its_arn_and_round_trips_json():
    evidence = Evidence.from_json(passed_evidence().to_json(), "evidence/prod.json")
    assert "soaked 24 h" in verify_evidence(evidence, ARN, 24, NOW + timedelta(hours=3))


@pytest.mark.parametrize(
    "evidence, arn, later, message",
    [
        (passed_evidence(), ARN.replace("/2", "/3"), 0, "prod would deploy"),
        (passed_evidence(), ARN, 24.5, "h old"),
        (passed_evidence(), ARN, -2, "in the future"),
        (passed_evidence(served_since=iso(NOW - timedelta(hours=20))), ARN, 0, "covers 20.0 h"),
        (passed_evidence(measurements=[Measurement(SLO_P99, "900 ms", "<= 500 ms", "w", "q", False)]), ARN, 0, "SLO 'p99 latency' failed"),
        (passed_evidence(kind=ROLLBACK), ARN, 0, "never pinned it"),
        (passed_evidence(kind="manual"), ARN, 0, "kind 'manual'"),
    ],
)
def test_the_deploy_refuses_evidence_that_does_not_hold(evidence, arn, later, message):
    with pytest.raises(CheckFailed, match=message):
        verify_evidence(evidence, arn, 24, NOW + timedelta(hours=later), history=(1,))


def test_a_rollback_to_a_version_prod_pinned_before_needs_no_soak():
    assert "emergency rollback" in verify_evidence(passed_evidence(kind=ROLLBACK, measurements=[]), ARN, 24, NOW, history=(3, 2, 1))


@pytest.mark.parametrize("field", ["measured_at", "window_end", "served_since"])
def test_a_time_that_is_not_utc_iso_is_named(field):
    with pytest.raises(PromoteError) as refused:
        verify_evidence(passed_evidence(**{field: "yesterday"}), ARN, 24, NOW)
    assert str(refused.value) == f"{field} = 'yesterday': expected a UTC time such as 2026-12-06T04:00:00Z"


def test_unreadable_evidence_is_named():
    with pytest.raises(PromoteError, match="evidence/prod.json: not soak evidence"):
        Evidence.from_json('{"kind": "soak"}', "evidence/prod.json")

"""What every alarm of the stacks means, field by field, with the reason for each choice: one table,
read by the program-wide check (tests/components/endpoint/test_alarm_semantics.py, from a stack's
records) and by the fast ones that build the alarms alone under Pulumi's mocks
(tests/components/endpoint/test_alarms.py, tests/components/api/test_api_alarms.py).

The rollback alarms (endpoint 5XX and p99 latency: SageMaker blue/green; API errors, p99 duration
and 5XX: CodeDeploy) must stay quiet on a quiet endpoint, or every release of an idle service rolls
back; the drift alarm must read each feature's drift once per monitoring run, or a daily total of
hourly values retrains every hour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True)
class Watched:
    """What the alarms watch and the thresholds they were given, however a test learnt them (a test of
    one component's alarms gives only what they read)."""

    topic_arn: str
    endpoint_name: str = ""
    function_name: str = ""
    executed_version: str = ""  # the function's newest published version
    api_id: str = ""
    stage: str = ""
    latency_p99_threshold_ms: int = 0
    cpu_threshold_percent: int = 0
    duration_p99_threshold_ms: int = 0
    # The drift alarm's (None: the stack runs no Model Monitor).
    drift_threshold: float | None = None
    monitoring_schedule: str = "off"
    schedule_name: str = ""
    feature_names: tuple[str, ...] = ()

    @property
    def endpoint(self) -> dict[str, str]:
        return {"EndpointName": self.endpoint_name, "VariantName": "AllTraffic"}

    @property
    def alias(self) -> dict[str, str]:
        return {"FunctionName": self.function_name, "Resource": f"{self.function_name}:live"}


Expected = dict[str, Any]
# alarm resource name -> (reason, its fields from what it watches).
TABLE: dict[str, tuple[str, Callable[[Watched], Expected]]] = {
    "endpoint-5xx-alarm": (
        "rollback alarm of the blue/green update: any 5XX within 2 minutes (1 of 2 one-minute sums); an idle endpoint "
        "publishes no datapoint, which must not count as an error (notBreaching), and counts are summed, not averaged",
        lambda w: dict(
            namespace="AWS/SageMaker",
            metricName="Invocation5XXErrors",
            dimensions=w.endpoint,
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
        lambda w: dict(
            namespace="AWS/SageMaker",
            metricName="ModelLatency",
            dimensions=w.endpoint,
            extendedStatistic="p99",
            period=60,
            evaluationPeriods=3,
            datapointsToAlarm=2,
            comparisonOperator="GreaterThanThreshold",
            threshold=w.latency_p99_threshold_ms * 1000,
            treatMissingData="notBreaching",
            evaluateLowSampleCountPercentiles="ignore",
        ),
    ),
    "endpoint-cpu-alarm": (
        "capacity warning, not a rollback alarm: average instance CPU over two 5-minute periods; instance metrics stop "
        "only when instances do, so missing data keeps the last state (missing)",
        lambda w: dict(
            namespace="/aws/sagemaker/Endpoints",
            metricName="CPUUtilization",
            dimensions=w.endpoint,
            statistic="Average",
            period=300,
            evaluationPeriods=2,
            comparisonOperator="GreaterThanThreshold",
            threshold=w.cpu_threshold_percent,
            treatMissingData="missing",
        ),
    ),
    "api-errors-alarm": (
        "CodeDeploy rollback alarm: any unhandled error of the version being released (ExecutedVersion through the live "
        "alias) in one minute; an idle API has no errors (notBreaching)",
        lambda w: dict(
            namespace="AWS/Lambda",
            metricName="Errors",
            dimensions={**w.alias, "ExecutedVersion": w.executed_version},
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
        lambda w: dict(
            namespace="AWS/Lambda",
            metricName="Duration",
            dimensions=w.alias,
            extendedStatistic="p99",
            period=60,
            evaluationPeriods=3,
            datapointsToAlarm=2,
            comparisonOperator="GreaterThanThreshold",
            threshold=w.duration_p99_threshold_ms,
            treatMissingData="notBreaching",
            evaluateLowSampleCountPercentiles="ignore",
        ),
    ),
    "api-5xx-alarm": (
        "CodeDeploy rollback alarm: any 5XX answer of the stage in one minute (summed); no requests, no errors (notBreaching)",
        lambda w: dict(
            namespace="AWS/ApiGateway",
            metricName="5xx",
            dimensions={"ApiId": w.api_id, "Stage": w.stage},
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
        lambda w: dict(
            comparisonOperator="GreaterThanThreshold",
            threshold=w.drift_threshold,
            evaluationPeriods=1,
            treatMissingData="notBreaching",
        ),
    ),
}


def drift_queries(w: Watched) -> list[dict[str, Any]]:
    period = {"hourly": 3600, "daily": 86400}[w.monitoring_schedule]
    dimensions = {"Endpoint": w.endpoint_name, "MonitoringSchedule": w.schedule_name}
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
        for i, name in enumerate(w.feature_names)
    ]
    total = " + ".join(f"FILL(f{i}, 0)" for i in range(len(w.feature_names)))
    return [*features, {"id": "total_drift", "expression": total, "label": "Total feature baseline drift", "returnData": True}]


def mismatches(name: str, inputs: dict[str, Any], w: Watched) -> list[str]:
    """Every field of the alarm `name` (its inputs as the provider receives them) that differs from the
    table (absent expected = must be absent), its metric queries and its actions."""
    expected = TABLE[name][1](w)
    found = [f"{f}: {inputs.get(f)!r} != {expected.get(f)!r}" for f in FIELDS if inputs.get(f) != expected.get(f)]
    queries = drift_queries(w) if name == "endpoint-drift-alarm" else None
    if inputs.get("metricQueries") != queries:
        found.append(f"metricQueries: {inputs.get('metricQueries')!r} != {queries!r}")
    if inputs.get("alarmActions") != [w.topic_arn] or inputs.get("okActions") != [w.topic_arn]:
        found.append("alarmActions/okActions: expected the alarm topic, on ALARM and on OK")
    return found

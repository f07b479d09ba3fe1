"""Live health of the endpoint: its status, its CloudWatch metrics and the drift alarm's state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from mlops_dashboard.aws import client, translate_errors

# Endpoint metrics arrive once a minute: a 30 s cache keeps the page close to live while a
# burst of reruns (widget changes, several users) costs one set of API calls.
HEALTH_TTL_SECONDS = 30
WINDOW_HOURS = (1, 3, 6, 12, 24)
DEFAULT_VARIANT = "AllTraffic"
NAMESPACE = "AWS/SageMaker"
# Periods the charts use: the finest that keeps a window to at most MAX_POINTS points.
# SageMaker publishes endpoint metrics every minute, so 60 s is the finest that means anything.
PERIODS = (60, 300, 900, 3600)
MAX_POINTS = 120


@dataclass(frozen=True)
class MetricQuery:
    id: str
    metric: str
    stat: str
    column: str
    # ModelLatency is reported in microseconds; the page shows milliseconds.
    scale: float = 1.0


QUERIES: tuple[MetricQuery, ...] = (
    MetricQuery("invocations", "Invocations", "Sum", "Invocations"),
    MetricQuery("errors4xx", "Invocation4XXErrors", "Sum", "4XX errors"),
    MetricQuery("errors5xx", "Invocation5XXErrors", "Sum", "5XX errors"),
    MetricQuery("latencyp50", "ModelLatency", "p50", "Latency p50 (ms)", scale=1e-3),
    MetricQuery("latencyp99", "ModelLatency", "p99", "Latency p99 (ms)", scale=1e-3),
)
COUNT_COLUMNS = ("Invocations", "4XX errors", "5XX errors")
LATENCY_COLUMNS = ("Latency p50 (ms)", "Latency p99 (ms)")


@dataclass(frozen=True)
class Variant:
    name: str
    current_instances: int | None
    desired_instances: int | None
    current_weight: float | None
    serverless: bool


@dataclass(frozen=True)
class EndpointStatus:
    name: str
    status: str
    failure_reason: str | None
    config_name: str | None
    last_modified: datetime | None
    variants: tuple[Variant, ...]

    @property
    def variant_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variants) or (DEFAULT_VARIANT,)


@dataclass(frozen=True)
class AlarmState:
    name: str
    state: str
    reason: str | None
    updated: datetime | None
    description: str | None


def traffic_shares(variants: tuple[Variant, ...]) -> dict[str, str]:
    """Each variant's share of the endpoint's requests, as a percentage of the summed weights.

    DescribeEndpoint reports CurrentWeight only once a variant serves (not while the endpoint is
    still being created, nor from a stand-in that never set one): then the share is "not reported".
    """
    weights = {v.name: v.current_weight for v in variants}
    total = sum(w for w in weights.values() if w is not None)
    return {name: "not reported" if weight is None or total <= 0 else f"{weight / total:.0%}" for name, weight in weights.items()}


@st.cache_data(ttl=HEALTH_TTL_SECONDS, show_spinner="Reading the endpoint…")
def endpoint_status(region: str, endpoint_name: str) -> EndpointStatus:
    with translate_errors(f"describe endpoint '{endpoint_name}'"):
        answer = client("sagemaker", region).describe_endpoint(EndpointName=endpoint_name)
    variants = tuple(
        Variant(
            name=v["VariantName"],
            current_instances=v.get("CurrentInstanceCount"),
            desired_instances=v.get("DesiredInstanceCount"),
            current_weight=v.get("CurrentWeight"),
            serverless="CurrentServerlessConfig" in v or "DesiredServerlessConfig" in v,
        )
        for v in answer.get("ProductionVariants", [])
    )
    return EndpointStatus(
        name=answer.get("EndpointName", endpoint_name),
        status=answer.get("EndpointStatus", "Unknown"),
        failure_reason=answer.get("FailureReason"),
        config_name=answer.get("EndpointConfigName"),
        last_modified=answer.get("LastModifiedTime"),
        variants=variants,
    )


def period_for(hours: int) -> int:
    """The CloudWatch period (seconds) for a window of `hours`."""
    for period in PERIODS:
        if hours * 3600 / period <= MAX_POINTS:
            return period
    return PERIODS[-1]


def metric_queries(endpoint_name: str, variant: str, period: int) -> list[dict]:
    dimensions = [
        {"Name": "EndpointName", "Value": endpoint_name},
        {"Name": "VariantName", "Value": variant},
    ]
    return [
        {
            "Id": q.id,
            "MetricStat": {
                "Metric": {
                    "Namespace": NAMESPACE,
                    "MetricName": q.metric,
                    "Dimensions": dimensions,
                },
                "Period": period,
                "Stat": q.stat,
            },
            "ReturnData": True,
        }
        for q in QUERIES
    ]


@st.cache_data(ttl=HEALTH_TTL_SECONDS, show_spinner="Reading CloudWatch metrics…")
def endpoint_metrics(region: str, endpoint_name: str, variant: str, hours: int, now: datetime | None = None) -> pd.DataFrame:
    """One row per period (UTC timestamps, oldest first), one column per QUERIES entry.

    Periods without data are absent rather than zero: CloudWatch sends no datapoint when the
    endpoint had no traffic, and a missing latency is not a latency of zero.
    """
    end = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    start = end - timedelta(hours=hours)
    period = period_for(hours)
    series: dict[str, pd.Series] = {}
    queries = metric_queries(endpoint_name, variant, period)
    with translate_errors(f"read the CloudWatch metrics of endpoint '{endpoint_name}'"):
        paginator = client("cloudwatch", region).get_paginator("get_metric_data")
        collected: dict[str, dict[datetime, float]] = {q.id: {} for q in QUERIES}
        for page in paginator.paginate(MetricDataQueries=queries, StartTime=start, EndTime=end, ScanBy="TimestampAscending"):
            for result in page.get("MetricDataResults", []):
                points = collected.setdefault(result["Id"], {})
                points.update(zip(result.get("Timestamps", []), result.get("Values", []), strict=True))
    for q in QUERIES:
        points = collected.get(q.id, {})
        series[q.column] = pd.Series(
            [value * q.scale for value in points.values()],
            index=pd.DatetimeIndex(list(points.keys())),
            dtype="float64",
        )
    frame = pd.DataFrame(series, columns=[q.column for q in QUERIES])
    frame.index = _as_utc(frame.index)
    frame.index.name = "Time (UTC)"
    return frame.sort_index()


def _as_utc(index: pd.Index) -> pd.DatetimeIndex:
    """Naive UTC, as in the registry table: labelled UTC, and no tz-aware pyarrow conversion."""
    stamps = pd.DatetimeIndex(index)
    return stamps.tz_convert("UTC").tz_localize(None) if stamps.tz is not None else stamps


def summarize(frame: pd.DataFrame) -> dict[str, float | None]:
    """The cards above the charts: count totals and the worst p99 (None: no datapoint at all)."""
    summary: dict[str, float | None] = {}
    for column in COUNT_COLUMNS:
        values = frame[column].dropna()
        summary[f"{column} (total)"] = float(values.sum()) if not values.empty else None
    p99 = frame["Latency p99 (ms)"].dropna()
    summary["Worst p99 (ms)"] = float(p99.max()) if not p99.empty else None
    return summary


@st.cache_data(ttl=HEALTH_TTL_SECONDS, show_spinner="Reading the drift alarm…")
def alarm_state(region: str, alarm_name: str) -> AlarmState | None:
    """The alarm's current state, or None when no alarm has that name."""
    with translate_errors(f"read the state of alarm '{alarm_name}'"):
        answer = client("cloudwatch", region).describe_alarms(AlarmNames=[alarm_name], AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    alarms = answer.get("MetricAlarms", []) + answer.get("CompositeAlarms", [])
    if not alarms:
        return None
    alarm = alarms[0]
    updated = alarm.get("StateUpdatedTimestamp")
    if updated is not None and updated.tzinfo is not None:
        updated = updated.astimezone(UTC)  # the page labels times UTC
    return AlarmState(
        name=alarm["AlarmName"],
        state=alarm.get("StateValue", "INSUFFICIENT_DATA"),
        reason=alarm.get("StateReason"),
        updated=updated,
        description=alarm.get("AlarmDescription"),
    )

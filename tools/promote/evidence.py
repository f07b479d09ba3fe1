"""Soak evidence: what dev's serving of one exact model package ARN measured, SLO by SLO.

Each measurement keeps the value, the threshold, the window and the query that produced it (a
CloudWatch GetMetricData query, a DescribeAlarms call or the S3 prefix of Model Monitor's reports), so
a reviewer can re-run it. The evidence is a JSON document (the artifact, committed with the prod pull
request as evidence/prod.json) and a Markdown table (the pull request body); the prod deploy re-checks
it (`verify_evidence`): fresh, passed, and about the ARN it deploys.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator, Optional

from components.config.promotion import PromotionConfig
from tools.promote.stack_file import CheckFailed, PromoteError

SOAK, ROLLBACK = "soak", "rollback"
SLO_5XX, SLO_P99, SLO_TRAFFIC, SLO_DRIFT, SLO_QUALITY, SLO_ROLLBACK = (
    "5xx rate",
    "p99 latency",
    "invocations",
    "drift alarm",
    "data-quality violations",
    "rollback",
)
NAMESPACE = "AWS/SageMaker"
HOUR = 3600


@dataclass(frozen=True)
class SoakTarget:
    """Where dev serves the package and where its health is recorded (dev's stack outputs and names)."""

    arn: str
    endpoint_name: str
    variant_name: str
    drift_alarm_name: str
    reports_bucket: Optional[str]
    reports_prefix: str


@dataclass(frozen=True)
class Measurement:
    slo: str
    measured: str
    threshold: str
    window: str
    query: str
    passed: bool


@dataclass
class Evidence:
    kind: str
    arn: str
    measured_at: str
    window_start: str
    window_end: str
    soak_hours: float
    served_since: Optional[str] = None
    endpoint_name: Optional[str] = None
    measurements: list[Measurement] = field(default_factory=list)
    note: str = ""

    @property
    def passed(self) -> bool:
        return all(m.passed for m in self.measurements)

    @property
    def failed(self) -> list[Measurement]:
        return [m for m in self.measurements if not m.passed]

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "passed": self.passed}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, where: str) -> Evidence:
        try:
            raw = json.loads(text)
            raw.pop("passed", None)
            raw["measurements"] = [Measurement(**m) for m in raw.get("measurements", [])]
            return cls(**raw)
        except (ValueError, TypeError, AttributeError) as exc:
            raise PromoteError(f"{where}: not soak evidence as tools.promote writes it ({exc})") from None


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str, where: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        raise PromoteError(f"{where} = {value!r}: expected a UTC time such as 2026-12-06T04:00:00Z") from None


# ---- what dev serves, and since when --------------------------------------------------------------


def config_packages(sagemaker: Any, config_name: str) -> set[str]:
    """The model package ARNs the models of an endpoint configuration serve (every variant, every container)."""
    config = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
    packages = set()
    for variant in config.get("ProductionVariants", []):
        model = sagemaker.describe_model(ModelName=variant["ModelName"])
        containers = [model.get("PrimaryContainer") or {}, *model.get("Containers", [])]
        packages |= {c["ModelPackageName"] for c in containers if c.get("ModelPackageName")}
    return packages


def served_since(sagemaker: Any, endpoint_name: str) -> tuple[str, datetime]:
    """The one package ARN the endpoint serves and the time its configuration last changed.

    Any update of the endpoint (a new package, a rollback, a capacity change) restarts the soak: the
    evidence is about one unchanged configuration serving one package.
    """
    endpoint = sagemaker.describe_endpoint(EndpointName=endpoint_name)
    status = endpoint.get("EndpointStatus")
    if status != "InService":
        raise CheckFailed(f"dev's endpoint {endpoint_name} is {status}, not InService: nothing is soaking")
    packages = config_packages(sagemaker, endpoint["EndpointConfigName"])
    if len(packages) != 1:
        raise CheckFailed(
            f"dev's endpoint {endpoint_name} serves {len(packages)} model packages ({', '.join(sorted(packages)) or 'none'}); "
            "expected exactly one: a release in progress is not a soak"
        )
    return packages.pop(), endpoint["LastModifiedTime"].astimezone(timezone.utc)


# ---- the measurements ------------------------------------------------------------------------------


def _metric_query(qid: str, metric: str, dimensions: dict[str, str], period: int, stat: str) -> dict[str, Any]:
    return {
        "Id": qid,
        "MetricStat": {
            "Metric": {
                "Namespace": NAMESPACE,
                "MetricName": metric,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
            },
            "Period": period,
            "Stat": stat,
        },
        "ReturnData": True,
    }


def _results(cloudwatch: Any, queries: list[dict[str, Any]], start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
    """Every MetricDataResult of the queries over the window, page after page: CloudWatch splits a
    long window's datapoints over pages (NextToken), one query's values on several of them."""
    kwargs: dict[str, Any] = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end}
    while queries:  # GetMetricData refuses an empty list: nothing to ask is no datapoint
        page = cloudwatch.get_metric_data(**kwargs)
        yield from page["MetricDataResults"]
        if not page.get("NextToken"):
            return
        kwargs["NextToken"] = page["NextToken"]


def _values(cloudwatch: Any, queries: list[dict[str, Any]], start: datetime, end: datetime) -> dict[str, list[float]]:
    values: dict[str, list[float]] = {q["Id"]: [] for q in queries}
    for result in _results(cloudwatch, queries, start, end):
        values[result["Id"]].extend(v for v in result.get("Values", []) if v is not None and not math.isnan(v))
    return values


def _window(start: datetime, end: datetime) -> str:
    return f"{iso(start)} .. {iso(end)} ({(end - start).total_seconds() / HOUR:g} h)"


def _query_text(queries: list[dict[str, Any]], expression: str = "") -> str:
    text = json.dumps(queries, separators=(",", ":"), sort_keys=True)
    return f"GetMetricData {text}" + (f"; {expression}" if expression else "")


def measure_traffic(cloudwatch: Any, target: SoakTarget, promotion: PromotionConfig, start: datetime, end: datetime) -> list[Measurement]:
    """Invocations, 5XX rate and p99 ModelLatency of the endpoint's variant over the window."""
    dims = {"EndpointName": target.endpoint_name, "VariantName": target.variant_name}
    span = max(60, int((end - start).total_seconds()) // 60 * 60)
    counts = [
        _metric_query("invocations", "Invocations", dims, span, "Sum"),
        _metric_query("errors5xx", "Invocation5XXErrors", dims, span, "Sum"),
    ]
    latency = [_metric_query("p99", "ModelLatency", dims, HOUR, "p99")]
    got = _values(cloudwatch, counts, start, end)
    got.update(_values(cloudwatch, latency, start, end))
    window = _window(start, end)
    slo = promotion.slo
    invocations, errors = sum(got["invocations"]), sum(got["errors5xx"])
    rate = errors / invocations if invocations else None
    worst = max(got["p99"]) / 1000 if got["p99"] else None  # ModelLatency is in microseconds
    return [
        Measurement(
            SLO_TRAFFIC,
            f"{invocations:.0f}",
            f">= {slo.min_invocations}",
            window,
            _query_text(counts[:1]),
            invocations >= slo.min_invocations,
        ),
        Measurement(
            SLO_5XX,
            "no invocations" if rate is None else f"{rate:.4%} ({errors:.0f}/{invocations:.0f})",
            f"<= {slo.max_5xx_rate:.2%}",
            window,
            _query_text(counts, "errors5xx / invocations"),
            rate is not None and rate <= slo.max_5xx_rate,
        ),
        Measurement(
            SLO_P99,
            "no datapoints" if worst is None else f"{worst:.1f} ms (worst hour)",
            f"<= {slo.p99_latency_ms:g} ms",
            window,
            _query_text(latency, "max over the hours / 1000"),
            worst is not None and worst <= slo.p99_latency_ms,
        ),
    ]


def measure_drift(cloudwatch: Any, target: SoakTarget, start: datetime, end: datetime) -> Measurement:
    """The drift alarm is not in ALARM and the total drift it watches stayed at or under its threshold
    in every period of the window (its metric queries replayed; the FILL(.., 0) sum computed here)."""
    window = _window(start, end)
    alarms = cloudwatch.describe_alarms(AlarmNames=[target.drift_alarm_name]).get("MetricAlarms", [])
    if not alarms:
        return Measurement(
            SLO_DRIFT,
            "not measured: no drift alarm (dev runs no Model Monitor)",
            "never in ALARM",
            window,
            f"DescribeAlarms AlarmNames=[{target.drift_alarm_name}]",
            True,
        )
    alarm = alarms[0]
    stats = [q for q in alarm.get("Metrics", []) if "MetricStat" in q]
    queries = [{"Id": q["Id"], "MetricStat": q["MetricStat"], "ReturnData": True} for q in stats]
    totals: dict[datetime, float] = {}
    for result in _results(cloudwatch, queries, start, end):
        for moment, value in zip(result.get("Timestamps", []), result.get("Values", [])):
            totals[moment] = totals.get(moment, 0.0) + value
    worst = max(totals.values(), default=0.0)
    threshold = float(alarm["Threshold"])
    state = alarm.get("StateValue", "INSUFFICIENT_DATA")
    passed = state != "ALARM" and worst <= threshold
    return Measurement(
        SLO_DRIFT,
        f"state {state}; worst total drift {worst:.3f}",
        f"never above {threshold:g} ({target.drift_alarm_name})",
        window,
        _query_text(queries, " + ".join(f"FILL({q['Id']}, 0)" for q in queries)),
        passed,
    )


def measure_quality(s3: Any, target: SoakTarget, promotion: PromotionConfig, start: datetime, end: datetime) -> Measurement:
    """Constraint violations in Model Monitor's reports written during the window."""
    window = _window(start, end)
    limit = promotion.slo.max_data_quality_violations
    if not target.reports_bucket:
        return Measurement(SLO_QUALITY, "not measured: dev names no reports bucket", f"<= {limit}", window, "-", True)
    where = f"s3://{target.reports_bucket}/{target.reports_prefix}"
    violations, reports, features = 0, 0, set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=target.reports_bucket, Prefix=target.reports_prefix):
        for item in page.get("Contents", []):
            if not item["Key"].endswith("constraint_violations.json") or not start <= item["LastModified"] <= end:
                continue
            body = json.loads(s3.get_object(Bucket=target.reports_bucket, Key=item["Key"])["Body"].read())
            found = body.get("violations", [])
            reports, violations = reports + 1, violations + len(found)
            features |= {v.get("feature_name", "?") for v in found}
    detail = f" ({', '.join(sorted(features))})" if features else ""
    return Measurement(
        SLO_QUALITY,
        f"{violations} in {reports} report(s){detail}",
        f"<= {limit}",
        window,
        f"ListObjectsV2 {where}**/constraint_violations.json, LastModified in the window",
        violations <= limit,
    )


def measure_soak(clients: Any, target: SoakTarget, promotion: PromotionConfig, now: Optional[datetime] = None) -> Evidence:
    """Evidence that dev served `target.arn`, unchanged, for promotion.soakHours up to `now`, with every SLO."""
    now = now or datetime.now(timezone.utc)
    serving, since = served_since(clients.sagemaker, target.endpoint_name)
    start = now - timedelta(hours=promotion.soak_hours)
    evidence = Evidence(SOAK, target.arn, iso(now), iso(start), iso(now), promotion.soak_hours, iso(since), target.endpoint_name)
    held = since <= start
    evidence.measurements.append(
        Measurement(
            SLO_ROLLBACK,
            f"serves {serving} unchanged since {iso(since)} ({(now - since).total_seconds() / HOUR:.1f} h)",
            f"the promoted ARN, unchanged for >= {promotion.soak_hours:g} h",
            _window(start, now),
            f"DescribeEndpoint {target.endpoint_name} -> DescribeEndpointConfig -> DescribeModel",
            serving == target.arn and held,
        )
    )
    evidence.measurements += measure_traffic(clients.cloudwatch, target, promotion, start, now)
    evidence.measurements.append(measure_drift(clients.cloudwatch, target, start, now))
    evidence.measurements.append(measure_quality(clients.s3, target, promotion, start, now))
    return evidence


# ---- how it is shown and re-checked ----------------------------------------------------------------


def table(evidence: Evidence) -> str:
    rows = ["| SLO | measured | threshold | window | query | verdict |", "|---|---|---|---|---|---|"]
    for m in evidence.measurements:
        cells = [m.slo, m.measured, m.threshold, m.window, f"`{m.query}`", "met" if m.passed else "**FAILED**"]
        rows.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(rows)


def refusal(evidence: Evidence) -> str:
    """One line naming every SLO that failed, with its value and threshold."""
    return "; ".join(f"SLO '{m.slo}' failed: {m.measured} (threshold {m.threshold})" for m in evidence.failed)


def verify_evidence(
    evidence: Evidence, arn: str, max_age_hours: float, now: Optional[datetime] = None, history: tuple[int, ...] = ()
) -> str:
    """The deploy's re-check: the evidence is about `arn`, passed and fresh (a soak), or an emergency
    rollback to a version prod served before (`history`: the versions prod pinned, from Git)."""
    now = now or datetime.now(timezone.utc)
    if evidence.arn != arn:
        raise CheckFailed(
            f"the evidence is about {evidence.arn}, but prod would deploy {arn}: promote again (python -m tools.promote --to prod --soak)"
        )
    if evidence.kind == ROLLBACK:
        if int(arn.rsplit("/", 1)[-1]) not in history:
            raise CheckFailed(
                f"rollback evidence for {arn}, but prod never pinned it (its pins in Git: {', '.join(map(str, history)) or 'none'})"
            )
        return f"evidence: emergency rollback to {arn}, which prod served before (no soak needed)"
    if evidence.kind != SOAK:
        raise CheckFailed(f"the evidence is of kind {evidence.kind!r}; expected {SOAK!r} or {ROLLBACK!r}")
    if not evidence.passed:
        raise CheckFailed(f"the soak evidence for {arn} failed: {refusal(evidence)}")
    end, since = parse_iso(evidence.window_end, "window_end"), parse_iso(evidence.served_since or "", "served_since")
    if (end - since).total_seconds() < evidence.soak_hours * HOUR:
        raise CheckFailed(
            f"the soak evidence covers {(end - since).total_seconds() / HOUR:.1f} h of serving; {evidence.soak_hours:g} h are required"
        )
    age = (now - parse_iso(evidence.measured_at, "measured_at")).total_seconds() / HOUR
    if age > max_age_hours:
        raise CheckFailed(
            f"the soak evidence for {arn} is {age:.1f} h old (promotion.evidenceMaxAgeHours {max_age_hours:g}): measure again "
            "(python -m tools.promote --to prod --soak)"
        )
    if age < -0.1:
        raise CheckFailed(f"the soak evidence for {arn} was measured {-age:.1f} h in the future")
    return f"evidence: {arn} soaked {evidence.soak_hours:g} h in dev with every SLO met, measured {age:.1f} h ago"

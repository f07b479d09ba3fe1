"""The model package group's versions, their approval status and their evaluation metrics.

Each version's metrics come from the evaluation report the pipeline attached to it
(`ModelMetrics.ModelQuality.Statistics.S3Uri`, the evaluate step's JSON). A version whose report
cannot be read still appears, with the reason, so one broken report does not hide the registry.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

import pandas as pd
import streamlit as st

from mlops_dashboard.aws import AwsError, client, translate_errors

# Short enough that an approval made in Studio or by the promote command shows up within a minute,
# long enough that reruns caused by widgets don't hit the SageMaker API again.
REGISTRY_TTL_SECONDS = 60

# Metrics shown first, in this order, when the report has them; any others follow alphabetically.
PREFERRED_METRICS = ("auc", "accuracy", "precision", "recall", "f1")
METRIC_LABELS = {"auc": "AUC", "f1": "F1"}

# describe_model_package and the S3 read are one request each per version: a few in parallel keep
# the first load of a long history quick without bursting into SageMaker's throttling.
_PARALLEL_REQUESTS = 4


@dataclass(frozen=True)
class ModelVersion:
    version: int
    arn: str
    approval_status: str
    package_status: str
    created: datetime
    description: str | None
    metrics_uri: str | None
    metrics: dict[str, float]
    # Why the metrics are missing (no report attached, or the report could not be read).
    metrics_problem: str | None


def metric_label(name: str) -> str:
    return METRIC_LABELS.get(name, name.replace("_", " ").capitalize())


def parse_evaluation(document: Any) -> dict[str, float]:
    """Metric name → value from an evaluation report.

    The report groups metrics by problem type, the model-metrics format SageMaker's registry
    uses: `{"binary_classification_metrics": {"auc": {"value": 0.91, ...}, ...}}`.
    """
    if not isinstance(document, dict):
        raise ValueError("the report is not a JSON object")
    metrics: dict[str, float] = {}
    for group in document.values():
        if not isinstance(group, dict):
            continue
        for name, entry in group.items():
            value = entry.get("value") if isinstance(entry, dict) else None
            # bool is an int subclass; a flag is not a metric.
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                metrics[name] = float(value)
    if not metrics:
        raise ValueError("the report has no metric with a numeric 'value'")
    return metrics


def _split_s3_uri(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc or not parsed.path.strip("/"):
        raise ValueError(f"{uri!r} is not an s3://bucket/key URI")
    return parsed.netloc, parsed.path.lstrip("/")


def _read_metrics(region: str, uri: str) -> tuple[dict[str, float], str | None]:
    try:
        bucket, key = _split_s3_uri(uri)
        with translate_errors(f"read the evaluation report {uri}"):
            body = client("s3", region).get_object(Bucket=bucket, Key=key)["Body"].read()
        return parse_evaluation(json.loads(body)), None
    except AwsError as exc:
        return {}, exc.message
    except (ValueError, UnicodeDecodeError) as exc:  # json.JSONDecodeError is a ValueError
        return {}, f"The evaluation report {uri} could not be used: {exc}"


def _describe(region: str, arn: str) -> ModelVersion:
    with translate_errors(f"describe model package {arn}"):
        package = client("sagemaker", region).describe_model_package(ModelPackageName=arn)
    statistics = package.get("ModelMetrics", {}).get("ModelQuality", {}).get("Statistics", {})
    uri = statistics.get("S3Uri")
    if uri:
        metrics, problem = _read_metrics(region, uri)
    else:
        metrics, problem = {}, "No evaluation report is attached to this version."
    return ModelVersion(
        version=int(package["ModelPackageVersion"]),
        arn=arn,
        approval_status=package.get("ModelApprovalStatus", "Unknown"),
        package_status=package.get("ModelPackageStatus", "Unknown"),
        created=package["CreationTime"],
        description=package.get("ModelPackageDescription"),
        metrics_uri=uri,
        metrics=metrics,
        metrics_problem=problem,
    )


@st.cache_data(ttl=REGISTRY_TTL_SECONDS, show_spinner="Reading the model registry…")
def load_versions(region: str, group: str) -> list[ModelVersion]:
    """Every version of `group`, newest first; raises AwsError when the registry can't be read."""
    arns: list[str] = []
    with translate_errors(f"list the versions of model package group '{group}'"):
        pages = (
            client("sagemaker", region)
            .get_paginator("list_model_packages")
            .paginate(ModelPackageGroupName=group, SortBy="CreationTime", SortOrder="Descending")
        )
        for page in pages:
            arns.extend(s["ModelPackageArn"] for s in page.get("ModelPackageSummaryList", []))
    if not arns:
        return []
    with ThreadPoolExecutor(max_workers=_PARALLEL_REQUESTS) as pool:
        versions = list(pool.map(lambda arn: _describe(region, arn), arns))
    return sorted(versions, key=lambda v: v.version, reverse=True)


def metric_names(versions: list[ModelVersion]) -> list[str]:
    present = {name for v in versions for name in v.metrics}
    first = [m for m in PREFERRED_METRICS if m in present]
    return first + sorted(present - set(first))


def _utc(moment: datetime) -> pd.Timestamp:
    """Naive UTC: the column says UTC, and pyarrow (which Streamlit serialises with) warns about
    pandas' tz-aware columns. botocore returns aware datetimes; a naive one is UTC already."""
    stamp = pd.Timestamp(moment)
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp


def versions_table(versions: list[ModelVersion]) -> pd.DataFrame:
    """One row per version: the columns the registry page shows, metrics as floats (NaN: unknown)."""
    names = metric_names(versions)
    rows = []
    for v in versions:
        row: dict[str, Any] = {
            "Version": v.version,
            "Approval": v.approval_status,
            "Status": v.package_status,
            "Created (UTC)": _utc(v.created),
        }
        for name in names:
            row[metric_label(name)] = v.metrics.get(name, float("nan"))
        rows.append(row)
    columns = ["Version", "Approval", "Status", "Created (UTC)"] + [metric_label(n) for n in names]
    return pd.DataFrame(rows, columns=columns)


def latest_approved(versions: list[ModelVersion]) -> ModelVersion | None:
    approved = [v for v in versions if v.approval_status == "Approved"]
    return max(approved, key=lambda v: v.version) if approved else None

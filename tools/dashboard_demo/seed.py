"""The dashboard demo's stand-in for AWS: a moto backend seeded with a model registry, an endpoint,
its metrics and a drift alarm (names and the story in tools/dashboard_demo/demo_data.py).

moto 5.2.5 does not compute CloudWatch percentiles (p50/p99 make get_metric_data fail), so
`enable_moto_percentiles` teaches its in-process backend to: the dashboard asks for ModelLatency
p50/p99 exactly as it would from CloudWatch.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from tools.dashboard_demo.demo_data import DEFAULT_NAMES, DEMO_VERSIONS, MOTO_ACCOUNT, REGION, DemoNames

# --- moto ------------------------------------------------------------------------------------------


def enable_moto_percentiles() -> None:
    """Make moto's CloudWatch answer pNN statistics from the raw samples it stores.

    Idempotent. Affects only this process's moto (mock_aws or a ThreadedMotoServer started here).
    """
    from moto.cloudwatch import models

    original = models.Statistics.get_statistics_for_type
    if getattr(original, "_percentiles", False):
        return

    def get_statistics_for_type(self: Any, stat: str) -> Any:
        match = re.fullmatch(r"p(\d{1,2}(?:\.\d+)?|100)", stat)
        if match is None:
            return original(self, stat)
        values = sorted(self.metric_single_values_list)
        if not values:
            return None
        rank = float(match.group(1)) / 100 * (len(values) - 1)
        low, high = math.floor(rank), math.ceil(rank)
        return values[low] + (values[high] - values[low]) * (rank - low)

    get_statistics_for_type._percentiles = True  # type: ignore[attr-defined]
    models.Statistics.get_statistics_for_type = get_statistics_for_type  # type: ignore[method-assign]


def _clients(endpoint_url: str | None, region: str) -> dict[str, Any]:
    session = boto3.session.Session(aws_access_key_id="demo", aws_secret_access_key="demo", region_name=region)
    return {name: session.client(name, endpoint_url=endpoint_url) for name in ("s3", "sagemaker", "cloudwatch")}


def _backdate_versions(names: DemoNames, region: str, ages: Sequence[int]) -> None:
    # SageMaker stamps CreationTime itself; moto runs in this process, so set a history directly.
    from moto.sagemaker.models import sagemaker_backends

    packages = sagemaker_backends[MOTO_ACCOUNT][region].model_packages
    for version, age in enumerate(ages, start=1):
        for package in packages.values():
            if package.model_package_group_name == names.group and package.model_package_version == version:
                package.creation_time = package.creation_time - timedelta(days=age, hours=version)


def seed_registry(endpoint_url: str | None, names: DemoNames = DEFAULT_NAMES, region: str = REGION) -> None:
    """A model package group with DEMO_VERSIONS, each with its evaluation report in S3."""
    aws = _clients(endpoint_url, region)
    aws["s3"].create_bucket(Bucket=names.bucket)
    aws["sagemaker"].create_model_package_group(ModelPackageGroupName=names.group, ModelPackageGroupDescription="Demo churn models")
    for number, version in enumerate(DEMO_VERSIONS, start=1):
        key = f"evaluation/v{number}/evaluation.json"
        report = {
            "binary_classification_metrics": {
                name: {"value": value, "standard_deviation": "NaN"} for name, value in version.metrics.items()
            }
        }
        aws["s3"].put_object(Bucket=names.bucket, Key=key, Body=json.dumps(report).encode())
        aws["sagemaker"].create_model_package(
            ModelPackageGroupName=names.group,
            ModelPackageDescription=version.description,
            ModelApprovalStatus=version.approval,
            InferenceSpecification={
                "Containers": [
                    {
                        "Image": f"{MOTO_ACCOUNT}.dkr.ecr.{region}.amazonaws.com/churn-model:demo",
                        "ModelDataUrl": f"s3://{names.bucket}/models/v{number}/model.tar.gz",
                    }
                ],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            ModelMetrics={
                "ModelQuality": {
                    "Statistics": {
                        "ContentType": "application/json",
                        "S3Uri": f"s3://{names.bucket}/{key}",
                    }
                }
            },
        )
    _backdate_versions(names, region, [v.age_days for v in DEMO_VERSIONS])


def seed_endpoint(endpoint_url: str | None, names: DemoNames = DEFAULT_NAMES, region: str = REGION) -> None:
    sagemaker = _clients(endpoint_url, region)["sagemaker"]
    sagemaker.create_model(
        ModelName=f"{names.endpoint}-v1",
        PrimaryContainer={
            "Image": f"{MOTO_ACCOUNT}.dkr.ecr.{region}.amazonaws.com/churn-model:demo",
            "ModelDataUrl": f"s3://{names.bucket}/models/v1/model.tar.gz",
        },
        ExecutionRoleArn=f"arn:aws:iam::{MOTO_ACCOUNT}:role/churn-demo-sagemaker",
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"{names.endpoint}-config-v1",
        ProductionVariants=[
            {
                "VariantName": names.variant,
                "ModelName": f"{names.endpoint}-v1",
                "InitialInstanceCount": 2,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": 1.0,  # as the program's endpoint config sets it
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=names.endpoint, EndpointConfigName=f"{names.endpoint}-config-v1")


def seed_metrics(
    endpoint_url: str | None,
    names: DemoNames = DEFAULT_NAMES,
    region: str = REGION,
    now: datetime | None = None,
    hours: int = 12,
) -> None:
    """Five-minute endpoint metrics for the last `hours`: steady traffic, a 5XX burst, latencies."""
    cloudwatch = _clients(endpoint_url, region)["cloudwatch"]
    rng = random.Random(7)  # the same picture on every run
    end = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    dimensions = [
        {"Name": "EndpointName", "Value": names.endpoint},
        {"Name": "VariantName", "Value": names.variant},
    ]
    steps = hours * 12
    data: list[dict[str, Any]] = []
    for step in range(steps):
        stamp = end - timedelta(minutes=5 * (steps - step)) + timedelta(seconds=30)
        load = 300 + 120 * math.sin(step / steps * 2 * math.pi) + rng.gauss(0, 20)
        burst = steps - 30 <= step < steps - 26  # twenty minutes of server errors, ~2 h ago
        counts = {
            "Invocations": max(0, round(load)),
            "Invocation4XXErrors": rng.choice((0, 0, 1, 1, 2, 3)),
            "Invocation5XXErrors": rng.randint(8, 20) if burst else rng.choice((0, 0, 0, 0, 1)),
        }
        for metric, value in counts.items():
            data.append(
                {
                    "MetricName": metric,
                    "Dimensions": dimensions,
                    "Timestamp": stamp,
                    "Value": float(value),
                    "Unit": "None",
                }
            )
        # ModelLatency in microseconds, as SageMaker reports it; slower during the burst.
        median = 42_000 * (2.5 if burst else 1.0)
        data.append(
            {
                "MetricName": "ModelLatency",
                "Dimensions": dimensions,
                "Timestamp": stamp,
                "Values": [round(rng.lognormvariate(math.log(median), 0.45)) for _ in range(12)],
                "Unit": "Microseconds",
            }
        )
    for start in range(0, len(data), 500):  # well under PutMetricData's 1000-datum limit
        cloudwatch.put_metric_data(Namespace="AWS/SageMaker", MetricData=data[start : start + 500])


def seed_alarm(endpoint_url: str | None, names: DemoNames = DEFAULT_NAMES, region: str = REGION) -> None:
    cloudwatch = _clients(endpoint_url, region)["cloudwatch"]
    cloudwatch.put_metric_alarm(
        AlarmName=names.alarm,
        AlarmDescription="Model Monitor data-quality drift on the demo endpoint",
        Namespace="aws/sagemaker/Endpoints/data-metrics",
        MetricName="feature_baseline_drift_monthly_charges",
        Dimensions=[
            {"Name": "Endpoint", "Value": names.endpoint},
            {"Name": "MonitoringSchedule", "Value": f"{names.endpoint}-data-quality"},
        ],
        Statistic="Maximum",
        Period=3600,
        EvaluationPeriods=1,
        Threshold=0.2,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )
    # moto never evaluates alarms: set the state a real evaluation would have produced.
    cloudwatch.set_alarm_state(
        AlarmName=names.alarm,
        StateValue="ALARM",
        StateReason=("Threshold Crossed (demo): feature_baseline_drift_monthly_charges was 0.31, above the threshold 0.2."),
    )


def seed_all(endpoint_url: str | None, names: DemoNames = DEFAULT_NAMES, region: str = REGION) -> None:
    enable_moto_percentiles()
    seed_registry(endpoint_url, names, region)
    seed_endpoint(endpoint_url, names, region)
    seed_metrics(endpoint_url, names, region)
    seed_alarm(endpoint_url, names, region)

"""ModelEndpointArgs: what the served model's endpoint is built from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi

from components.config.endpoint import AutoscalingConfig, CanaryConfig


@dataclass(frozen=True)
class ModelEndpointArgs:
    name_prefix: str
    region: str
    kms_key_arn: pulumi.Input[str]
    alarm_topic_arn: pulumi.Input[str]
    model_package_group_name: pulumi.Input[str]
    model_package_version: int
    artifact_bucket_name: pulumi.Input[str]
    artifact_bucket_arn: pulumi.Input[str]
    model_repository_arn: pulumi.Input[str]
    feature_names: Sequence[str]
    mode: str
    data_capture_percent: int
    monitoring_schedule: str
    drift_threshold: float
    instance_type: Optional[str] = None
    instance_count: int = 1
    serverless_memory_mb: Optional[int] = None
    serverless_max_concurrency: Optional[int] = None
    autoscaling: Optional[AutoscalingConfig] = None
    canary: Optional[CanaryConfig] = None
    latency_p99_threshold_ms: int = 300
    cpu_threshold_percent: int = 80
    monitoring_instance_type: str = "ml.m5.large"
    # A registry owned by another stack (registry.stack): its account, and the key that encrypts its
    # artifacts and baselines. Capture and reports then go to this stack's own bucket.
    registry_account_id: Optional[pulumi.Input[str]] = None
    registry_kms_key_arn: Optional[pulumi.Input[str]] = None
    capture_bucket_name: Optional[pulumi.Input[str]] = None
    capture_bucket_arn: Optional[pulumi.Input[str]] = None

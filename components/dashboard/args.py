"""The dashboards' Args: the Streamlit service (DashboardArgs) and the CloudWatch dashboard, and
the served model and API they show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws

from components.dashboard.schedule import WorkingHours


@dataclass(frozen=True)
class DashboardEndpoint:
    """The served model, when there is one."""

    name: pulumi.Input[str]
    arn: pulumi.Input[str]
    variant_name: str
    provisioned: bool
    drift_alarm: Optional[aws.cloudwatch.MetricAlarm] = None


@dataclass(frozen=True)
class DashboardApi:
    """The canary prediction API, when there is one."""

    url: pulumi.Input[str]
    """Base URL; the app POSTs `{url}/predict`."""
    api_id: pulumi.Input[str]
    stage_name: pulumi.Input[str]
    invoke_arn: pulumi.Input[str]
    """execute-api ARN of the `POST /predict` route: what the task role may invoke."""
    function_name: pulumi.Input[str]
    hook_function_names: Sequence[pulumi.Input[str]] = ()
    """Pre- and post-traffic hooks, in that order."""


@dataclass(frozen=True)
class DashboardArgs:
    name_prefix: str
    region: str
    kms_key_arn: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    public_subnet_ids: Sequence[pulumi.Input[str]]
    private_subnet_ids: Sequence[pulumi.Input[str]]
    model_package_group_name: pulumi.Input[str]
    model_package_group_arn: pulumi.Input[str]
    """What the app lists versions by: a name resolves in the caller's account, the ARN in the
    registry's (prod in another account serves the registry of dev's)."""
    pipeline_name: pulumi.Input[str]
    artifact_bucket_arn: pulumi.Input[str]
    desired_count: int
    cpu: int
    memory: int
    allowed_cidrs: Sequence[str]
    domain_name: Optional[str] = None
    """The name users open; None means the ALB's DNS name (with a self-signed certificate)."""
    certificate_arn: Optional[str] = None
    """Your ACM certificate for `domain_name` (same Region); None: see `hosted_zone_id`."""
    hosted_zone_id: Optional[str] = None
    """Route 53 zone of `domain_name`: the program adds the alias record and, without
    `certificate_arn`, issues and DNS-validates an ACM certificate for the name."""
    endpoint: Optional[DashboardEndpoint] = None
    api: Optional[DashboardApi] = None
    feature_names: Sequence[str] = ()
    mfa_required: bool = False
    threat_protection: bool = False
    """Cognito threat protection (ENFORCED) needs the Plus feature plan; without it, Essentials."""
    deletion_protection: bool = False
    force_destroy: bool = False
    log_retention_days: int = 90
    session_timeout_seconds: int = 8 * 3600
    # A registry owned by another stack (registry.stack): its account and the key of its artifacts.
    registry_account_id: Optional[pulumi.Input[str]] = None
    registry_kms_key_arn: Optional[pulumi.Input[str]] = None
    working_hours: Optional[WorkingHours] = None
    """When the dashboard runs (scaled to zero tasks outside); None: always."""


@dataclass(frozen=True)
class CloudWatchDashboardArgs:
    name_prefix: str
    region: str
    model_package_group_name: pulumi.Input[str]
    pipeline_name: pulumi.Input[str]
    business_dashboard_url: pulumi.Input[str]
    """The Streamlit app's URL, linked from the dashboard's header."""
    endpoint: Optional[DashboardEndpoint] = None
    api: Optional[DashboardApi] = None
    alarm_arns: Sequence[pulumi.Input[str]] = ()
    registry_account_id: Optional[pulumi.Input[str]] = None
    """The account of the registry this stack serves, when another stack owns it: the pipeline's
    metrics are that account's (CloudWatch cross-account observability must share them)."""
    """Every alarm the stack creates, for the alarm status widget."""

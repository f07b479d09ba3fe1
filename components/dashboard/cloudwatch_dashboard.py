"""CloudWatchDashboard: the one CloudWatch dashboard engineers watch: the prediction API and its
Lambda versions, the endpoint, drift, training pipeline runs and every alarm of the stack.

The business users' Streamlit app is the Dashboard component (components/dashboard/streamlit_service.py); this one
links to it.
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_aws as aws

from components.dashboard.args import CloudWatchDashboardArgs as CloudWatchDashboardArgs
from components.dashboard.args import DashboardApi, DashboardEndpoint
from components.dashboard.widgets import (
    AlarmQueries,
    AlarmStatusWidget,
    Expression,
    HorizontalAnnotation,
    Metric,
    MetricWidget,
    TextWidget,
    Widget,
    dashboard_body,
    search,
)

PERCENTILES = ("p50", "p90", "p99")
ALARMS_PER_WIDGET = 100

APIGW = "AWS/ApiGateway"
LAMBDA = "AWS/Lambda"
SAGEMAKER = "AWS/SageMaker"
SAGEMAKER_INSTANCES = "/aws/sagemaker/Endpoints"
PIPELINES = "AWS/Sagemaker/ModelBuildingPipeline"
# The dashboard was first declared as a child of the Dashboard component: the alias keeps it (and
# its fixed name) in place instead of creating a new one and then deleting the old, same-named one.
FORMER_PARENT_TYPE = "sagemaker-mlops:dashboard:Dashboard"


class CloudWatchDashboard(pulumi.ComponentResource):
    cloudwatch_dashboard: aws.cloudwatch.Dashboard
    cloudwatch_dashboard_name: str
    cloudwatch_dashboard_url: str

    def __init__(self, name: str, args: CloudWatchDashboardArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("sagemaker-mlops:cloudwatch:CloudWatchDashboard", name, None, opts)
        self.cloudwatch_dashboard_name = f"{args.name_prefix}-mlops"
        self.cloudwatch_dashboard_url = f"https://{args.region}.console.aws.amazon.com/cloudwatch/home?region={args.region}#dashboards/dashboard/{self.cloudwatch_dashboard_name}"
        self.cloudwatch_dashboard = aws.cloudwatch.Dashboard(
            f"{name}-cloudwatch",
            dashboard_name=self.cloudwatch_dashboard_name,
            dashboard_body=dashboard_body(self._widgets(args), args.region, start="-P1D"),
            opts=pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(parent=pulumi.create_urn(name, FORMER_PARENT_TYPE))]),
        )
        self.register_outputs(
            {"cloudwatch_dashboard_name": self.cloudwatch_dashboard_name, "cloudwatch_dashboard_url": self.cloudwatch_dashboard_url}
        )

    def _widgets(self, args: CloudWatchDashboardArgs) -> list[Widget]:
        widgets: list[Widget] = [
            TextWidget(
                markdown=pulumi.Output.concat(
                    f"## {args.name_prefix} — churn model operations\n",
                    "Business dashboard: [",
                    args.business_dashboard_url,
                    "](",
                    args.business_dashboard_url,
                    ") · model package group `",
                    args.model_package_group_name,
                    "` · training pipeline `",
                    args.pipeline_name,
                    "`",
                )
            )
        ]
        if args.api is not None:
            widgets += self._api_widgets(args.api)
        if args.endpoint is not None:
            widgets += self._endpoint_widgets(args.endpoint)
        widgets.append(
            MetricWidget(
                title="Training pipeline runs (in the selected time range)",
                metrics=[
                    Metric(PIPELINES, metric, [("PipelineName", args.pipeline_name)], label=label, account_id=args.registry_account_id)
                    for metric, label in (
                        ("ExecutionStarted", "started"),
                        ("ExecutionSucceeded", "succeeded"),
                        ("ExecutionFailed", "failed"),
                    )
                ],
                stat="Sum",
                period=3600,
                view="singleValue",
                set_period_to_time_range=True,
                width=12,
                height=4,
            )
        )
        alarms = list(args.alarm_arns)
        for start in range(0, len(alarms), ALARMS_PER_WIDGET):
            widgets.append(AlarmStatusWidget(title="Alarms", alarm_arns=alarms[start : start + ALARMS_PER_WIDGET], width=24, height=4))
        return widgets

    @staticmethod
    def _api_widgets(api: DashboardApi) -> list[Widget]:
        dims = [("ApiId", api.api_id), ("Stage", api.stage_name)]
        widgets: list[Widget] = [
            MetricWidget(
                title="API requests and errors",
                # HTTP APIs publish 4xx/5xx (REST APIs name them 4XXError/5XXError). Counts are summed.
                metrics=[
                    Metric(APIGW, "Count", dims, label="requests"),
                    Metric(APIGW, "4xx", dims, label="4XX"),
                    Metric(APIGW, "5xx", dims, label="5XX"),
                ],
                stat="Sum",
            ),
            MetricWidget(
                title="API latency (ms)",
                metrics=[Metric(APIGW, "Latency", dims, stat=p, label=f"latency {p}") for p in PERCENTILES]
                + [Metric(APIGW, "IntegrationLatency", dims, stat="p99", label="integration p99")],
                stat="p99",
            ),
        ]
        roles = [("prediction", api.function_name)] + list(zip(("pre-traffic hook", "post-traffic hook"), api.hook_function_names))
        for role, function_name in roles:
            widgets += _lambda_widgets(role, function_name)
        return widgets

    @staticmethod
    def _endpoint_widgets(endpoint: DashboardEndpoint) -> list[Widget]:
        dims = [("EndpointName", endpoint.name), ("VariantName", endpoint.variant_name)]
        invocations = [Metric(SAGEMAKER, "Invocations", dims, label="invocations")]
        if endpoint.provisioned:
            invocations.append(Metric(SAGEMAKER, "InvocationsPerInstance", dims, label="per instance"))
        widgets: list[Widget] = [
            MetricWidget(title="Endpoint invocations", metrics=invocations, stat="Sum", width=8),
            MetricWidget(
                title="Endpoint latency (µs)",
                metrics=[
                    Metric(SAGEMAKER, kind, dims, stat=p, label=f"{label} {p}")
                    for kind, label in (("ModelLatency", "model"), ("OverheadLatency", "overhead"))
                    for p in PERCENTILES
                ],
                stat="p99",
                width=8,
            ),
            MetricWidget(
                title="Endpoint errors (count)",
                # Summed: an average of error counts hides a burst.
                metrics=[
                    Metric(SAGEMAKER, "Invocation4XXErrors", dims, stat="Sum", label="4XX"),
                    Metric(SAGEMAKER, "Invocation5XXErrors", dims, stat="Sum", label="5XX"),
                ],
                stat="Sum",
                width=8,
            ),
        ]
        if endpoint.provisioned:
            widgets.append(
                MetricWidget(
                    title="Endpoint CPU and memory per variant (%)",
                    metrics=[
                        Metric(SAGEMAKER_INSTANCES, "CPUUtilization", dims, label="CPU (100 = one core)"),
                        Metric(SAGEMAKER_INSTANCES, "MemoryUtilization", dims, label="memory"),
                    ],
                    stat="Average",
                    period=300,
                )
            )
        if endpoint.drift_alarm is not None:
            alarm = endpoint.drift_alarm
            widgets.append(
                MetricWidget(
                    title="Feature drift against the baseline (total)",
                    metrics=[AlarmQueries(alarm)],
                    stat="Maximum",
                    period=3600,
                    annotations=[HorizontalAnnotation(value=alarm.threshold, label="drift alarm threshold", color="#d62728", fill="above")],
                )
            )
        return widgets


def _lambda_widgets(role: str, function_name: pulumi.Input[str]) -> list[Widget]:
    """Per executed version (a CodeDeploy canary shows as two lines) and for the whole function."""
    by_version = ["FunctionName", "Resource", "ExecutedVersion"]
    only = [("FunctionName", function_name)]
    return [
        MetricWidget(
            title=f"Lambda {role}: invocations and errors by version",
            metrics=[
                Expression(search(LAMBDA, by_version, "Invocations", only, "Sum", 60), label="invocations", id="invocations"),
                Expression(search(LAMBDA, by_version, "Errors", only, "Sum", 60), label="errors", id="errors"),
                Metric(LAMBDA, "Invocations", only, label="all invocations"),
                Metric(LAMBDA, "Errors", only, label="all errors"),
            ],
            stat="Sum",
        ),
        MetricWidget(
            title=f"Lambda {role}: duration p99 by version (ms)",
            metrics=[
                Expression(search(LAMBDA, by_version, "Duration", only, "p99", 60), label="p99", id="duration"),
                Metric(LAMBDA, "Duration", only, stat="p99", label="all versions p99"),
            ],
            stat="p99",
        ),
    ]

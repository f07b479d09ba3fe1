"""The endpoint's Model Monitor: the data quality job definition, its schedule and the drift alarm
that starts retraining (declared by ModelEndpoint, as its children)."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import pulumi
import pulumi_aws as aws

from components.training.definition.definition import baseline_uris, model_monitor_image_uri

if TYPE_CHECKING:
    from components.endpoint.args import ModelEndpointArgs

MONITOR_CRON = {"hourly": "cron(0 * ? * * *)", "daily": "cron(0 0 ? * * *)"}
# Where the prebuilt Model Monitor container publishes per-feature metrics for a real-time endpoint,
# with dimensions Endpoint and MonitoringSchedule (AWS's drift-detection sample and the SDK's
# notebooks; the AWS guide's pages disagree with each other, see docs/endpoint.md). It publishes
# them only when the job's environment says so (MONITOR_ENVIRONMENT).
DRIFT_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
# What the sagemaker SDK's DefaultModelMonitor sets for a schedule (enable_cloudwatch_metrics=True);
# without it the container writes no metrics and the drift alarm can never fire
# (terraform-provider-aws#36047).
MONITOR_ENVIRONMENT = {"publish_cloudwatch_metrics": "Enabled"}
# A CloudWatch alarm may read at most 10 metrics (MetricStat queries).
MAX_ALARM_METRICS = 10


def drift_alarm_name(name_prefix: str) -> str:
    """Known before the alarm exists, so the training pipeline can trigger on it."""
    return f"{name_prefix}-endpoint-drift"


class Monitoring(NamedTuple):
    schedule_name: str
    drift_alarm: aws.cloudwatch.MetricAlarm


def monitoring(
    name: str,
    args: ModelEndpointArgs,
    endpoint: aws.sagemaker.Endpoint,
    endpoint_name: str,
    role: aws.iam.Role,
    reports_bucket_name: pulumi.Input[str],
    monitoring_prefix: str,
    parent: pulumi.Resource,
) -> Monitoring:
    child = pulumi.ResourceOptions(parent=parent)
    if len(args.feature_names) > MAX_ALARM_METRICS:
        raise ValueError(
            f"the drift alarm sums one metric per feature and CloudWatch alarms read at most {MAX_ALARM_METRICS}; "
            f"the model has {len(args.feature_names)} features"
        )
    uris = pulumi.Output.all(args.artifact_bucket_name, args.model_package_group_name).apply(
        lambda v: baseline_uris(v[0], v[1], args.model_package_version)
    )
    statistics_uri, constraints_uri = uris[0], uris[1]
    job = aws.sagemaker.DataQualityJobDefinition(
        f"{name}-data-quality",
        role_arn=role.arn,
        data_quality_app_specification=aws.sagemaker.DataQualityJobDefinitionDataQualityAppSpecificationArgs(
            image_uri=model_monitor_image_uri(args.region), environment=MONITOR_ENVIRONMENT
        ),
        data_quality_baseline_config=aws.sagemaker.DataQualityJobDefinitionDataQualityBaselineConfigArgs(
            statistics_resource=aws.sagemaker.DataQualityJobDefinitionDataQualityBaselineConfigStatisticsResourceArgs(
                s3_uri=statistics_uri
            ),
            constraints_resource=aws.sagemaker.DataQualityJobDefinitionDataQualityBaselineConfigConstraintsResourceArgs(
                s3_uri=constraints_uri
            ),
        ),
        data_quality_job_input=aws.sagemaker.DataQualityJobDefinitionDataQualityJobInputArgs(
            endpoint_input=aws.sagemaker.DataQualityJobDefinitionDataQualityJobInputEndpointInputArgs(
                endpoint_name=endpoint.name, local_path="/opt/ml/processing/input/endpoint"
            )
        ),
        data_quality_job_output_config=aws.sagemaker.DataQualityJobDefinitionDataQualityJobOutputConfigArgs(
            kms_key_id=args.kms_key_arn,
            monitoring_outputs=aws.sagemaker.DataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputsArgs(
                s3_output=aws.sagemaker.DataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputsS3OutputArgs(
                    s3_uri=pulumi.Output.format("s3://{0}/{1}/reports", reports_bucket_name, monitoring_prefix),
                    local_path="/opt/ml/processing/output",
                    s3_upload_mode="EndOfJob",
                )
            ),
        ),
        job_resources=aws.sagemaker.DataQualityJobDefinitionJobResourcesArgs(
            cluster_config=aws.sagemaker.DataQualityJobDefinitionJobResourcesClusterConfigArgs(
                instance_count=1, instance_type=args.monitoring_instance_type, volume_size_in_gb=20, volume_kms_key_id=args.kms_key_arn
            )
        ),
        network_config=aws.sagemaker.DataQualityJobDefinitionNetworkConfigArgs(enable_network_isolation=True),
        stopping_condition=aws.sagemaker.DataQualityJobDefinitionStoppingConditionArgs(max_runtime_in_seconds=1800),
        opts=child,
    )
    schedule_name = f"{args.name_prefix}-data-quality"
    aws.sagemaker.MonitoringSchedule(
        f"{name}-monitoring-schedule",
        name=schedule_name,
        monitoring_schedule_config=aws.sagemaker.MonitoringScheduleMonitoringScheduleConfigArgs(
            monitoring_job_definition_name=job.name,
            monitoring_type="DataQuality",
            schedule_config=aws.sagemaker.MonitoringScheduleMonitoringScheduleConfigScheduleConfigArgs(
                schedule_expression=MONITOR_CRON[args.monitoring_schedule]
            ),
        ),
        opts=child,
    )

    # Model Monitor publishes one drift metric per feature; the alarm watches their total.
    period = 3600 if args.monitoring_schedule == "hourly" else 86400
    queries = [
        aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id=f"f{i}",
            return_data=False,
            metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                namespace=DRIFT_NAMESPACE,
                metric_name=f"feature_baseline_drift_{feature}",
                dimensions={"Endpoint": endpoint_name, "MonitoringSchedule": schedule_name},
                stat="Maximum",
                period=period,
            ),
        )
        for i, feature in enumerate(args.feature_names)
    ]
    total = " + ".join(f"FILL(f{i}, 0)" for i in range(len(queries)))
    drift_alarm = aws.cloudwatch.MetricAlarm(
        f"{name}-drift-alarm",
        name=drift_alarm_name(args.name_prefix),
        alarm_description=(
            f"{endpoint_name}: total feature drift against the v{args.model_package_version} baseline above "
            f"{args.drift_threshold} (starts retraining)"
        ),
        metric_queries=[
            *queries,
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id="total_drift", expression=total, label="Total feature baseline drift", return_data=True
            ),
        ],
        evaluation_periods=1,
        comparison_operator="GreaterThanThreshold",
        threshold=args.drift_threshold,
        # No report yet (a new endpoint, no traffic captured) is not drift.
        treat_missing_data="notBreaching",
        alarm_actions=[args.alarm_topic_arn],
        ok_actions=[args.alarm_topic_arn],
        opts=child,
    )
    return Monitoring(schedule_name, drift_alarm)

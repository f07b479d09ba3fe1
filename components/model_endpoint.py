"""ModelEndpoint: serves the pinned model package version, with data capture, blue/green canary
releases that roll back on alarms, autoscaling, Model Monitor and a drift alarm.

The endpoint is created once by `aws.sagemaker.Endpoint`; every later change of its configuration
is released by `EndpointRelease` (components/endpoint_release.py), which keeps the autoscaled
instance count, and fails the update when SageMaker rolls it back. Models and endpoint
configurations are never deleted by Pulumi (`retain_on_delete`): the release deletes a superseded
pair once the endpoint has confirmably left it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws

from components.config import AutoscalingConfig, CanaryConfig
from components.endpoint_release import ENDPOINT_IGNORE_CHANGES, EndpointRelease, EndpointReleaseArgs
from components.iam import assume_role_policy, ecr_pull_statements, policy_document, statement
from components.pipeline_definition import baseline_uris, model_monitor_image_uri
from components.registry import model_package_arn

VARIANT_NAME = "AllTraffic"  # blue/green updates require the same variant name in both configs
CAPTURE_CONTENT_TYPES = (["text/csv"], ["application/json"])
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
# Keep the blue fleet this long after the shift, so a late alarm can still roll back.
TERMINATION_WAIT_SECONDS = 300
# The release waits this much longer than SageMaker's own deployment timeout before giving up.
RELEASE_TIMEOUT_MARGIN_SECONDS = 900
SERVERLESS_RELEASE_TIMEOUT_SECONDS = 3600
# A CloudWatch alarm may read at most 10 metrics (MetricStat queries).
MAX_ALARM_METRICS = 10


def endpoint_name(name_prefix: str) -> str:
    return f"{name_prefix}-churn"


def drift_alarm_name(name_prefix: str) -> str:
    """Known before the alarm exists, so the training pipeline can trigger on it."""
    return f"{name_prefix}-endpoint-drift"


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


class ModelEndpoint(pulumi.ComponentResource):
    endpoint: aws.sagemaker.Endpoint
    endpoint_name: str
    variant_name: str
    rollback_alarms: list[aws.cloudwatch.MetricAlarm]
    alarms: dict[str, aws.cloudwatch.MetricAlarm]
    monitoring_schedule_name: Optional[str]
    model_package_arn: pulumi.Output[str]

    def __init__(self, name: str, args: ModelEndpointArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("sagemaker-mlops:endpoint:ModelEndpoint", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        provisioned = args.mode == "provisioned"
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        self.endpoint_name = endpoint_name(args.name_prefix)
        self.variant_name = VARIANT_NAME
        capture_prefix = f"data-capture/{self.endpoint_name}"
        monitoring_prefix = f"monitoring/{self.endpoint_name}"
        self.registry_account = args.registry_account_id or account
        self.model_package_arn = model_package_arn(args.region, self.registry_account, args.model_package_group_name, args.model_package_version)
        self.capture_bucket_name = args.capture_bucket_name or args.artifact_bucket_name

        self.alarms = self._alarms(name, args, provisioned, child)
        self.rollback_alarms = [self.alarms["errors"], self.alarms["latency"]]
        role = self._role(name, args, capture_prefix, monitoring_prefix, child)
        # Pulumi never deletes a model or a configuration: after a rolled-back release the endpoint
        # still runs on the old pair (terraform-provider-aws#48997). The release deletes the pair
        # it has confirmably replaced.
        kept = pulumi.ResourceOptions(parent=self, delete_before_replace=False, retain_on_delete=True)
        model = aws.sagemaker.Model(
            f"{name}-model",
            execution_role_arn=role.arn,
            primary_container=aws.sagemaker.ModelPrimaryContainerArgs(model_package_name=self.model_package_arn),
            # Serverless endpoints do not support network isolation (an AWS restriction); the
            # container needs no network either way.
            enable_network_isolation=provisioned,
            opts=kept,
        )

        config = aws.sagemaker.EndpointConfiguration(
            f"{name}-config",
            production_variants=[self._variant(args, model, provisioned)],
            # Serverless endpoints support neither a volume KMS key nor data capture.
            kms_key_arn=args.kms_key_arn if provisioned else None,
            data_capture_config=self._data_capture(args, capture_prefix) if provisioned else None,
            # Configurations are immutable: a change makes a new one, which the release deploys.
            opts=kept,
        )
        deployment = self._deployment_config(args) if provisioned else None
        # Created once on its first configuration; afterwards the release moves it (see the module
        # docstring). The deployment config stays declared here for the guardrails that judge it.
        self.endpoint = aws.sagemaker.Endpoint(
            f"{name}-endpoint",
            name=self.endpoint_name,
            endpoint_config_name=config.name,
            deployment_config=self._deployment_config_args(deployment) if deployment else None,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=ENDPOINT_IGNORE_CHANGES),
        )
        blue_green = (deployment or {}).get("BlueGreenUpdatePolicy", {})
        self.release = EndpointRelease(
            f"{name}-release",
            EndpointReleaseArgs(
                endpoint_name=self.endpoint.name,
                endpoint_config_name=config.name,
                region=args.region,
                deployment_config=deployment,
                # Where autoscaling owns the instance count, a release keeps the count it chose.
                retain_variant_properties=provisioned and args.autoscaling is not None,
                timeout_seconds=(
                    blue_green["MaximumExecutionTimeoutInSeconds"] + RELEASE_TIMEOUT_MARGIN_SECONDS if blue_green else SERVERLESS_RELEASE_TIMEOUT_SECONDS
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.endpoint]),
        )
        # The name of the endpoint once it serves this configuration: consumers (the API) wait for it.
        self.released_endpoint_name: pulumi.Output[str] = self.release.endpoint_name
        if provisioned and args.autoscaling is not None:
            self._autoscaling(name, args.autoscaling, child)

        self.monitoring_schedule_name = None
        self.drift_alarm: Optional[aws.cloudwatch.MetricAlarm] = None
        if provisioned and args.monitoring_schedule != "off":
            self._monitoring(name, args, role, monitoring_prefix, child)

        self.register_outputs(
            {
                "endpoint_name": self.endpoint_name,
                "endpoint_arn": self.endpoint.arn,
                "variant_name": self.variant_name,
                "alarm_arns": {key: alarm.arn for key, alarm in self.alarms.items()},
                "monitoring_schedule_name": self.monitoring_schedule_name,
            }
        )

    # ---- model and configuration -----------------------------------------------------------------
    @staticmethod
    def _variant(args: ModelEndpointArgs, model: aws.sagemaker.Model, provisioned: bool):
        if provisioned:
            return aws.sagemaker.EndpointConfigurationProductionVariantArgs(
                variant_name=VARIANT_NAME,
                model_name=model.name,
                instance_type=args.instance_type,
                initial_instance_count=args.instance_count,
                initial_variant_weight=1,
            )
        return aws.sagemaker.EndpointConfigurationProductionVariantArgs(
            variant_name=VARIANT_NAME,
            model_name=model.name,
            serverless_config=aws.sagemaker.EndpointConfigurationProductionVariantServerlessConfigArgs(
                memory_size_in_mb=args.serverless_memory_mb, max_concurrency=args.serverless_max_concurrency
            ),
        )

    @staticmethod
    def _data_capture(args: ModelEndpointArgs, capture_prefix: str):
        return aws.sagemaker.EndpointConfigurationDataCaptureConfigArgs(
            enable_capture=args.data_capture_percent > 0,
            initial_sampling_percentage=args.data_capture_percent,
            destination_s3_uri=pulumi.Output.format("s3://{0}/{1}", args.capture_bucket_name or args.artifact_bucket_name, capture_prefix),
            kms_key_id=args.kms_key_arn,
            capture_options=[
                aws.sagemaker.EndpointConfigurationDataCaptureConfigCaptureOptionArgs(capture_mode="Input"),
                aws.sagemaker.EndpointConfigurationDataCaptureConfigCaptureOptionArgs(capture_mode="Output"),
            ],
            # Declared types are stored as text, so Model Monitor can read them without base64.
            capture_content_type_header=aws.sagemaker.EndpointConfigurationDataCaptureConfigCaptureContentTypeHeaderArgs(
                csv_content_types=CAPTURE_CONTENT_TYPES[0], json_content_types=CAPTURE_CONTENT_TYPES[1]
            ),
        )

    def _deployment_config(self, args: ModelEndpointArgs) -> dict:
        """SageMaker's DeploymentConfig (API shape): what the release passes to UpdateEndpoint."""
        if args.canary is not None:
            bake_seconds = args.canary.wait_minutes * 60
            routing: dict = {
                "Type": "CANARY",
                "WaitIntervalInSeconds": bake_seconds,
                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": args.canary.percent},
            }
        else:
            bake_seconds = 0
            routing = {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}
        return {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": routing,
                "TerminationWaitInSeconds": TERMINATION_WAIT_SECONDS,
                "MaximumExecutionTimeoutInSeconds": min(14400, max(1800, 2 * bake_seconds + 1800)),
            },
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": a.name} for a in self.rollback_alarms]},
        }

    @staticmethod
    def _deployment_config_args(deployment: dict) -> aws.sagemaker.EndpointDeploymentConfigArgs:
        """The same DeploymentConfig as the Endpoint resource declares it (what the guardrails judge)."""
        policy = deployment["BlueGreenUpdatePolicy"]
        routing = policy["TrafficRoutingConfiguration"]
        canary = routing.get("CanarySize")
        return aws.sagemaker.EndpointDeploymentConfigArgs(
            blue_green_update_policy=aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyArgs(
                traffic_routing_configuration=aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationArgs(
                    type=routing["Type"],
                    wait_interval_in_seconds=routing["WaitIntervalInSeconds"],
                    canary_size=aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationCanarySizeArgs(
                        type=canary["Type"], value=canary["Value"]
                    )
                    if canary
                    else None,
                ),
                termination_wait_in_seconds=policy["TerminationWaitInSeconds"],
                maximum_execution_timeout_in_seconds=policy["MaximumExecutionTimeoutInSeconds"],
            ),
            auto_rollback_configuration=aws.sagemaker.EndpointDeploymentConfigAutoRollbackConfigurationArgs(
                alarms=[
                    aws.sagemaker.EndpointDeploymentConfigAutoRollbackConfigurationAlarmArgs(alarm_name=a["AlarmName"])
                    for a in deployment["AutoRollbackConfiguration"]["Alarms"]
                ]
            ),
        )

    # ---- alarms ----------------------------------------------------------------------------------
    def _alarms(self, name: str, args: ModelEndpointArgs, provisioned: bool, child: pulumi.ResourceOptions) -> dict[str, aws.cloudwatch.MetricAlarm]:
        dimensions = {"EndpointName": self.endpoint_name, "VariantName": VARIANT_NAME}
        actions = [args.alarm_topic_arn]
        alarms = {
            # Counts are summed: an average of error counts hides a burst (the seeds' mistake).
            "errors": aws.cloudwatch.MetricAlarm(
                f"{name}-5xx-alarm",
                name=f"{args.name_prefix}-endpoint-5xx",
                alarm_description=f"{self.endpoint_name}: the model answered with 5XX errors (rolls back a blue/green update)",
                namespace="AWS/SageMaker",
                metric_name="Invocation5XXErrors",
                dimensions=dimensions,
                statistic="Sum",
                period=60,
                evaluation_periods=2,
                datapoints_to_alarm=1,
                comparison_operator="GreaterThanThreshold",
                threshold=0,
                # No invocations means no errors: an idle endpoint must not look broken.
                treat_missing_data="notBreaching",
                alarm_actions=actions,
                ok_actions=actions,
                opts=child,
            ),
            "latency": aws.cloudwatch.MetricAlarm(
                f"{name}-latency-alarm",
                name=f"{args.name_prefix}-endpoint-latency-p99",
                alarm_description=f"{self.endpoint_name}: p99 model latency above {args.latency_p99_threshold_ms} ms (rolls back a blue/green update)",
                namespace="AWS/SageMaker",
                metric_name="ModelLatency",
                dimensions=dimensions,
                extended_statistic="p99",
                period=60,
                evaluation_periods=3,
                datapoints_to_alarm=2,
                comparison_operator="GreaterThanThreshold",
                threshold=args.latency_p99_threshold_ms * 1000,  # ModelLatency is in microseconds
                # Percentiles over a handful of requests are noise: judge only full samples.
                evaluate_low_sample_count_percentiles="ignore",
                treat_missing_data="notBreaching",
                alarm_actions=actions,
                ok_actions=actions,
                opts=child,
            ),
        }
        if provisioned:
            alarms["cpu"] = aws.cloudwatch.MetricAlarm(
                f"{name}-cpu-alarm",
                name=f"{args.name_prefix}-endpoint-cpu",
                alarm_description=f"{self.endpoint_name}: CPU above {args.cpu_threshold_percent}% of one core per instance for 10 minutes",
                namespace="/aws/sagemaker/Endpoints",
                metric_name="CPUUtilization",
                dimensions=dimensions,
                statistic="Average",
                period=300,
                evaluation_periods=2,
                comparison_operator="GreaterThanThreshold",
                threshold=args.cpu_threshold_percent,
                # Instance metrics stop only when instances do: keep the last state, do not guess.
                treat_missing_data="missing",
                alarm_actions=actions,
                ok_actions=actions,
                opts=child,
            )
        return alarms

    # ---- autoscaling -----------------------------------------------------------------------------
    def _autoscaling(self, name: str, scaling: AutoscalingConfig, child: pulumi.ResourceOptions) -> None:
        # No role_arn: Application Auto Scaling uses its service-linked role for SageMaker.
        target = aws.appautoscaling.Target(
            f"{name}-scaling-target",
            service_namespace="sagemaker",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            resource_id=self.endpoint.name.apply(lambda n: f"endpoint/{n}/variant/{VARIANT_NAME}"),
            min_capacity=scaling.min,
            max_capacity=scaling.max,
            # Registered once the endpoint serves its configuration, and changed only after a
            # release: the release may deregister and re-register it around an instance type change.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release]),
        )
        aws.appautoscaling.Policy(
            f"{name}-scaling-policy",
            policy_type="TargetTrackingScaling",
            service_namespace=target.service_namespace,
            scalable_dimension=target.scalable_dimension,
            resource_id=target.resource_id,
            target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                target_value=scaling.target_invocations_per_instance,
                predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type="SageMakerVariantInvocationsPerInstance"
                ),
                scale_in_cooldown=scaling.scale_in_cooldown_seconds,
                scale_out_cooldown=scaling.scale_out_cooldown_seconds,
            ),
            opts=child,
        )

    # ---- Model Monitor and drift -----------------------------------------------------------------
    def _monitoring(self, name: str, args: ModelEndpointArgs, role: aws.iam.Role, monitoring_prefix: str, child: pulumi.ResourceOptions) -> None:
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
                statistics_resource=aws.sagemaker.DataQualityJobDefinitionDataQualityBaselineConfigStatisticsResourceArgs(s3_uri=statistics_uri),
                constraints_resource=aws.sagemaker.DataQualityJobDefinitionDataQualityBaselineConfigConstraintsResourceArgs(s3_uri=constraints_uri),
            ),
            data_quality_job_input=aws.sagemaker.DataQualityJobDefinitionDataQualityJobInputArgs(
                endpoint_input=aws.sagemaker.DataQualityJobDefinitionDataQualityJobInputEndpointInputArgs(
                    endpoint_name=self.endpoint.name, local_path="/opt/ml/processing/input/endpoint"
                )
            ),
            data_quality_job_output_config=aws.sagemaker.DataQualityJobDefinitionDataQualityJobOutputConfigArgs(
                kms_key_id=args.kms_key_arn,
                monitoring_outputs=aws.sagemaker.DataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputsArgs(
                    s3_output=aws.sagemaker.DataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputsS3OutputArgs(
                        s3_uri=pulumi.Output.format("s3://{0}/{1}/reports", self.capture_bucket_name, monitoring_prefix),
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
        self.monitoring_schedule_name = f"{args.name_prefix}-data-quality"
        aws.sagemaker.MonitoringSchedule(
            f"{name}-monitoring-schedule",
            name=self.monitoring_schedule_name,
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
                    dimensions={"Endpoint": self.endpoint_name, "MonitoringSchedule": self.monitoring_schedule_name},
                    stat="Maximum",
                    period=period,
                ),
            )
            for i, feature in enumerate(args.feature_names)
        ]
        total = " + ".join(f"FILL(f{i}, 0)" for i in range(len(queries)))
        self.drift_alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-drift-alarm",
            name=drift_alarm_name(args.name_prefix),
            alarm_description=(
                f"{self.endpoint_name}: total feature drift against the v{args.model_package_version} baseline above "
                f"{args.drift_threshold} (starts retraining)"
            ),
            metric_queries=[
                *queries,
                aws.cloudwatch.MetricAlarmMetricQueryArgs(id="total_drift", expression=total, label="Total feature baseline drift", return_data=True),
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
        self.alarms["drift"] = self.drift_alarm

    # ---- IAM -------------------------------------------------------------------------------------
    def _role(self, name: str, args: ModelEndpointArgs, capture_prefix: str, monitoring_prefix: str, child: pulumi.ResourceOptions) -> aws.iam.Role:
        """Hosting and monitoring jobs: read the model and baselines, write capture and reports."""
        role = aws.iam.Role(
            f"{name}-role",
            name=f"{args.name_prefix}-sagemaker-hosting",
            description="SageMaker endpoint and Model Monitor jobs of sagemaker-mlops",
            assume_role_policy=assume_role_policy("sagemaker.amazonaws.com"),
            opts=child,
        )
        bucket = pulumi.Output.from_input(args.artifact_bucket_arn)
        capture = pulumi.Output.from_input(args.capture_bucket_arn or args.artifact_bucket_arn)
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        group = pulumi.Output.from_input(args.model_package_group_name).apply(str.lower)
        shared = []
        if args.capture_bucket_arn is not None:
            # The registry's bucket and key belong to its owner (maybe another account, which grants
            # the reads): models and baselines come from there, capture and reports stay here.
            shared = [
                statement(["s3:ListBucket", "s3:GetBucketLocation"], [capture], sid="ListCaptureBucket"),
                statement(["s3:GetObject"], [pulumi.Output.concat(capture, "/*")], sid="ReadCapture"),
            ]
        if args.registry_kms_key_arn is not None:
            shared.append(statement(["kms:Decrypt", "kms:DescribeKey"], [args.registry_kms_key_arn], sid="DecryptRegistryArtifacts"))
        document = policy_document(
            statement(["s3:ListBucket", "s3:GetBucketLocation"], [bucket], sid="ListArtifactBucket"),
            statement(["s3:GetObject"], [pulumi.Output.concat(bucket, "/*")], sid="ReadModelsBaselinesAndCapture"),
            *shared,
            statement(
                ["s3:PutObject", "s3:AbortMultipartUpload"],
                [pulumi.Output.concat(capture, f"/{capture_prefix}/*"), pulumi.Output.concat(capture, f"/{monitoring_prefix}/*")],
                sid="WriteCaptureAndReports",
            ),
            statement(["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"], [args.kms_key_arn], sid="UseProjectKey"),
            statement(["kms:CreateGrant"], [args.kms_key_arn], sid="GrantKeyToVolumes", conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}}),
            *ecr_pull_statements(args.model_repository_arn, sid="PullModelImage"),
            statement(
                ["sagemaker:DescribeModelPackage"],
                [pulumi.Output.format("arn:aws:sagemaker:{0}:{1}:model-package/{2}/*", args.region, self.registry_account, group)],
                sid="ReadPinnedModelPackage",
            ),
            statement(
                ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                [pulumi.Output.format("arn:aws:logs:{0}:{1}:log-group:/aws/sagemaker/*", args.region, account)],
                sid="WriteSageMakerLogs",
            ),
            # Deployment guardrails read the auto-rollback alarms with the endpoint's execution role
            # (AWS: "Auto-Rollback Configuration and Monitoring").
            statement(["cloudwatch:DescribeAlarms"], [alarm.arn for alarm in self.rollback_alarms], sid="ReadRollbackAlarms"),
            statement(
                ["cloudwatch:PutMetricData"],
                ["*"],
                sid="PublishMonitorMetrics",
                conditions={"StringLike": {"cloudwatch:namespace": ["aws/sagemaker/*", "/aws/sagemaker/*"]}},
            ),
        )
        aws.iam.RolePolicy(f"{name}-role-policy", role=role.id, policy=document, opts=child)
        return role

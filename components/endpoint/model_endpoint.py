"""ModelEndpoint: serves the pinned model package version, with data capture, blue/green canary
releases that roll back on alarms, autoscaling, Model Monitor and a drift alarm.

The endpoint is created once by `aws.sagemaker.Endpoint`; every later change of its configuration
is released by `EndpointRelease` (components/endpoint/release.py), which keeps the autoscaled
instance count, and fails the update when SageMaker rolls it back. Models and endpoint
configurations are never deleted by Pulumi (`retain_on_delete`): the release deletes a superseded
pair once the endpoint has confirmably left it.

This module declares the role, model, configuration, endpoint and release; its other children are
declared by components/endpoint/alarms.py (health alarms), components/endpoint/autoscaling.py and
components/endpoint/monitoring.py (Model Monitor and the drift alarm).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

import pulumi
import pulumi_aws as aws
from pydantic import TypeAdapter

from components.config.endpoint import CANARY_MAX_PERCENT, CANARY_MAX_WAIT_MINUTES, CanaryConfig
from components.endpoint.alarms import health_alarms
from components.endpoint.args import ModelEndpointArgs as ModelEndpointArgs
from components.endpoint.autoscaling import autoscaling

# Re-exported: __main__.py and the docs' tests read them here, with the component.
from components.endpoint.monitoring import DRIFT_NAMESPACE as DRIFT_NAMESPACE
from components.endpoint.monitoring import MONITOR_ENVIRONMENT as MONITOR_ENVIRONMENT
from components.endpoint.monitoring import drift_alarm_name as drift_alarm_name
from components.endpoint.monitoring import monitoring
from components.endpoint.release import (
    ENDPOINT_IGNORE_CHANGES,
    MAX_EXECUTION_TIMEOUT_SECONDS,
    EndpointRelease,
    EndpointReleaseArgs,
    release_timeout_seconds,
)
from components.endpoint.release import RELEASE_TIMEOUT_MARGIN_SECONDS as RELEASE_TIMEOUT_MARGIN_SECONDS
from components.shared.iam import assume_role_policy, ecr_pull_statements, policy_document, statement
from components.training.registry import model_package_arn

VARIANT_NAME = "AllTraffic"  # blue/green updates require the same variant name in both configs
CAPTURE_CONTENT_TYPES = (["text/csv"], ["application/json"])
# Keep the blue fleet this long after the shift, so a late alarm can still roll back.
TERMINATION_WAIT_SECONDS = 300
SERVERLESS_RELEASE_TIMEOUT_SECONDS = release_timeout_seconds(None)
# Canaries as the stack file spells them (`waitMinutes`), validated by the schema itself.
_CANARY = TypeAdapter(CanaryConfig)
# The model server (containers/model/churn/app.py) names this version in every answer's custom
# attributes, so the API reports the model that actually answered: during a blue/green canary both
# models answer, and after a rollback the old one does, whatever any Lambda was deployed with.
MODEL_VERSION_VARIABLE = "MODEL_PACKAGE_VERSION"


def endpoint_name(name_prefix: str) -> str:
    return f"{name_prefix}-churn"


def deployment_config(canary: Optional[CanaryConfig], rollback_alarm_names: Sequence[pulumi.Input[str]] = ()) -> dict:
    """SageMaker's DeploymentConfig (API shape) of a provisioned endpoint: what the release passes to
    UpdateEndpoint. Blue/green, canary or all at once; SageMaker stops the deployment after twice the
    bake time and half an hour (at least 30 minutes, at most its own 4-hour limit)."""
    if canary is not None:
        bake_seconds = canary.wait_minutes * 60
        routing: dict = {
            "Type": "CANARY",
            "WaitIntervalInSeconds": bake_seconds,
            "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": canary.percent},
        }
    else:
        bake_seconds = 0
        routing = {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": TERMINATION_WAIT_SECONDS,
            "MaximumExecutionTimeoutInSeconds": min(MAX_EXECUTION_TIMEOUT_SECONDS, max(1800, 2 * bake_seconds + 1800)),
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": name} for name in rollback_alarm_names]},
    }


def longest_release_seconds() -> int:
    """The longest an endpoint release may wait, over every endpoint the stack schema accepts:
    serverless (SageMaker's own update, no DeploymentConfig), provisioned all at once, or with a
    canary of any bake time up to `endpoint.canary.waitMinutes`' bound. The CI job that applies a
    stack must outlive it (components/shared/apply_job.py)."""
    canaries = (
        _CANARY.validate_python({"percent": CANARY_MAX_PERCENT, "waitMinutes": wait}) for wait in range(CANARY_MAX_WAIT_MINUTES + 1)
    )
    provisioned = (deployment_config(canary) for canary in (None, *canaries))
    return max(release_timeout_seconds(deployment) for deployment in (None, *provisioned))


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
        self.model_package_arn = model_package_arn(
            args.region, self.registry_account, args.model_package_group_name, args.model_package_version
        )
        self.capture_bucket_name = args.capture_bucket_name or args.artifact_bucket_name

        self.alarms = health_alarms(name, args, self.endpoint_name, VARIANT_NAME, provisioned, self)
        self.rollback_alarms = [self.alarms["errors"], self.alarms["latency"]]
        role, role_policy = self._role(name, args, capture_prefix, monitoring_prefix, child)
        # Pulumi never deletes a model or a configuration: after a rolled-back release the endpoint
        # still runs on the old pair (terraform-provider-aws#48997). The release deletes the pair
        # it has confirmably replaced.
        kept = pulumi.ResourceOptions(parent=self, delete_before_replace=False, retain_on_delete=True)
        # IAM is eventually consistent: SageMaker checks the role's permissions (ECR pull, the model
        # package, KMS) when it creates the model and the endpoint, so both wait for the policy.
        after_policy = pulumi.ResourceOptions(depends_on=[role_policy])
        model = aws.sagemaker.Model(
            f"{name}-model",
            execution_role_arn=role.arn,
            # CreateModel accepts Environment next to ModelPackageName (ContainerDefinition): it is
            # added to the environment of the package's inference container.
            primary_container=aws.sagemaker.ModelPrimaryContainerArgs(
                model_package_name=self.model_package_arn,
                environment={MODEL_VERSION_VARIABLE: str(args.model_package_version)},
            ),
            # Serverless endpoints do not support network isolation (an AWS restriction); the
            # container needs no network either way.
            enable_network_isolation=provisioned,
            opts=pulumi.ResourceOptions.merge(kept, after_policy),
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
        deployment = deployment_config(args.canary, [a.name for a in self.rollback_alarms]) if provisioned else None
        # Created once on its first configuration; afterwards the release moves it (see the module
        # docstring). The deployment config stays declared here for the guardrails that judge it.
        self.endpoint = aws.sagemaker.Endpoint(
            f"{name}-endpoint",
            name=self.endpoint_name,
            endpoint_config_name=config.name,
            deployment_config=self._deployment_config_args(deployment) if deployment else None,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=ENDPOINT_IGNORE_CHANGES, depends_on=[role_policy]),
        )
        self.release = EndpointRelease(
            f"{name}-release",
            EndpointReleaseArgs(
                endpoint_name=self.endpoint.name,
                endpoint_config_name=config.name,
                region=args.region,
                deployment_config=deployment,
                # Where autoscaling owns the instance count, a release keeps the count it chose.
                retain_variant_properties=provisioned and args.autoscaling is not None,
                timeout_seconds=release_timeout_seconds(deployment),
                model_package_arn=self.model_package_arn,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.endpoint]),
        )
        # The name of the endpoint once it serves this configuration: consumers (the API) wait for it.
        self.released_endpoint_name: pulumi.Output[str] = self.release.endpoint_name
        if provisioned and args.autoscaling is not None:
            autoscaling(name, args.autoscaling, self.endpoint, VARIANT_NAME, self.release, self)

        self.monitoring_schedule_name = None
        self.drift_alarm: Optional[aws.cloudwatch.MetricAlarm] = None
        if provisioned and args.monitoring_schedule != "off":
            monitors = monitoring(name, args, self.endpoint, self.endpoint_name, role, self.capture_bucket_name, monitoring_prefix, self)
            self.monitoring_schedule_name, self.drift_alarm = monitors.schedule_name, monitors.drift_alarm
            self.alarms["drift"] = self.drift_alarm

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

    # ---- IAM -------------------------------------------------------------------------------------
    def _role(
        self, name: str, args: ModelEndpointArgs, capture_prefix: str, monitoring_prefix: str, child: pulumi.ResourceOptions
    ) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
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
            statement(
                ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                [args.kms_key_arn],
                sid="UseProjectKey",
            ),
            statement(
                ["kms:CreateGrant"], [args.kms_key_arn], sid="GrantKeyToVolumes", conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}}
            ),
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
        return role, aws.iam.RolePolicy(f"{name}-role-policy", role=role.id, policy=document, opts=child)

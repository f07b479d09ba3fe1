"""EndpointRelease's AWS, scripted: the answers SageMaker, CloudWatch and Application Auto Scaling
give a release, on Stubber clients that validate every request (tests/support/provider_wire.py)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from provider_wire import ValidatingAws

from components.endpoint.release import ROLLBACK_REASON_TAG, ROLLED_BACK_TAG, ReleaseSpec

ENDPOINT = "mlops-prod-churn"
OLD, NEW = "endpoint-config-old", "endpoint-config-new"
OLD_MODEL, NEW_MODEL = "endpoint-model-old", "endpoint-model-new"
ALARMS = ["mlops-prod-endpoint-5xx", "mlops-prod-endpoint-latency-p99"]
DEPLOYMENT = {
    "BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {
            "Type": "CANARY",
            "WaitIntervalInSeconds": 300,
            "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
        },
        "TerminationWaitInSeconds": 300,
        "MaximumExecutionTimeoutInSeconds": 2400,
    },
    "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": name} for name in ALARMS]},
}
PROPS: dict[str, Any] = {
    "endpoint_name": ENDPOINT,
    "endpoint_config_name": NEW,
    "region": "us-east-1",
    "deployment_config": DEPLOYMENT,
    "retain_variant_properties": True,
    "delete_superseded": True,
    "timeout_seconds": 3300,
    "poll_interval_seconds": 30,
    "__provider": "serialized-provider",  # Pulumi passes it along; the provider must ignore it
}
WHEN = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


def config_arn(name: str) -> str:
    return f"arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/{name}"


RESOURCE_ID = f"endpoint/{ENDPOINT}/variant/AllTraffic"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
TARGET_ARN = "arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/056f1c4c0e5e4b6f9d2a7b8c9d0e1f2a3b4c"
# The program's tags on the scalable target (aws.appautoscaling.Target tags): a re-registration keeps them.
TARGET_TAGS = {"Project": "sagemaker-mlops", "Environment": "prod", "ManagedBy": "pulumi"}
TRACKING = {
    "TargetValue": 700.0,
    "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
    "ScaleInCooldown": 300,
    "ScaleOutCooldown": 60,
}


class Aws(ValidatingAws):
    """Stubbed clients handed to the provider through its client factory."""

    def __init__(self) -> None:
        super().__init__("sagemaker", "cloudwatch", "application-autoscaling")
        self.sagemaker = self.stubs["sagemaker"]
        self.cloudwatch = self.stubs["cloudwatch"]
        self.scaling = self.stubs["application-autoscaling"]

    def endpoint(
        self,
        status: str,
        config: str,
        count: int = 3,
        pending: Optional[str] = None,
        reason: Optional[str] = None,
        last: Optional[dict[str, Any]] = None,
    ) -> None:
        response: dict[str, Any] = {
            "EndpointName": ENDPOINT,
            "EndpointArn": f"arn:aws:sagemaker:us-east-1:123456789012:endpoint/{ENDPOINT}",
            "EndpointConfigName": config,
            "EndpointStatus": status,
            "CreationTime": WHEN,
            "LastModifiedTime": WHEN,
            "ProductionVariants": [{"VariantName": "AllTraffic", "CurrentInstanceCount": count, "DesiredInstanceCount": count}],
        }
        if pending:
            response["PendingDeploymentSummary"] = {"EndpointConfigName": pending}
        if reason:
            response["FailureReason"] = reason
        if last:
            response["LastDeploymentConfig"] = last
        self.sagemaker.add_response("describe_endpoint", response, {"EndpointName": ENDPOINT})

    def config(self, name: str, model: str, instance_type: str = "ml.m5.large", count: int = 2) -> None:
        self.sagemaker.add_response(
            "describe_endpoint_config",
            {
                "EndpointConfigName": name,
                "EndpointConfigArn": config_arn(name),
                "ProductionVariants": [
                    {"VariantName": "AllTraffic", "ModelName": model, "InstanceType": instance_type, "InitialInstanceCount": count}
                ],
                "CreationTime": WHEN,
            },
            {"EndpointConfigName": name},
        )

    def configs(self, old_type: str = "ml.m5.large", new_type: str = "ml.m5.large", tags: Optional[dict[str, str]] = None) -> None:
        """What a release reads before it moves anything: both configurations, the new one's tags."""
        self.config(OLD, OLD_MODEL, old_type)
        self.config(NEW, NEW_MODEL, new_type)
        listed = [{"Key": key, "Value": value} for key, value in (tags or {}).items()]
        self.sagemaker.add_response("list_tags", {"Tags": listed}, {"ResourceArn": config_arn(NEW)})

    def expect_rollback_recorded(self, reason: str, props: Optional[dict[str, Any]] = None) -> None:
        fingerprint = ReleaseSpec.from_props(props or PROPS).fingerprint
        tags = [{"Key": ROLLED_BACK_TAG, "Value": fingerprint}, {"Key": ROLLBACK_REASON_TAG, "Value": reason}]
        self.sagemaker.add_response("add_tags", {"Tags": tags}, {"ResourceArn": config_arn(NEW), "Tags": tags})

    def expect_update(self, retain: bool = True, deployment: Optional[dict[str, Any]] = DEPLOYMENT) -> None:
        request: dict[str, Any] = {"EndpointName": ENDPOINT, "EndpointConfigName": NEW, "RetainAllVariantProperties": retain}
        if deployment:
            request["DeploymentConfig"] = deployment
        self.sagemaker.add_response(
            "update_endpoint", {"EndpointArn": f"arn:aws:sagemaker:us-east-1:123456789012:endpoint/{ENDPOINT}"}, request
        )

    def expect_superseded_deleted(self) -> None:
        self.config(OLD, OLD_MODEL)
        self.config(NEW, NEW_MODEL)
        self.sagemaker.add_response("delete_endpoint_config", {}, {"EndpointConfigName": OLD})
        self.sagemaker.add_response("delete_model", {}, {"ModelName": OLD_MODEL})

    def alarm_states(self, names: list[str] = ALARMS, **states: str) -> None:
        self.cloudwatch.add_response(
            "describe_alarms",
            {"MetricAlarms": [{"AlarmName": name, "StateValue": states.get(name.rsplit("-", 1)[-1], "OK")} for name in names]},
            {"AlarmNames": names, "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]},
        )

    def scaling_registered(self) -> None:
        self.scaling.add_response(
            "describe_scalable_targets",
            {
                "ScalableTargets": [
                    {
                        "ServiceNamespace": "sagemaker",
                        "ResourceId": RESOURCE_ID,
                        "ScalableDimension": DIMENSION,
                        "MinCapacity": 2,
                        "MaxCapacity": 4,
                        "ScalableTargetARN": TARGET_ARN,
                        "RoleARN": "arn:aws:iam::123456789012:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
                        "CreationTime": WHEN,
                    }
                ]
            },
            {"ServiceNamespace": "sagemaker", "ResourceIds": [RESOURCE_ID], "ScalableDimension": DIMENSION},
        )
        self.scaling.add_response(
            "describe_scaling_policies",
            {
                "ScalingPolicies": [
                    {
                        "PolicyARN": "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:uuid:resource/sagemaker/x:policyName/endpoint-scaling-policy",
                        "PolicyName": "endpoint-scaling-policy",
                        "ServiceNamespace": "sagemaker",
                        "ResourceId": RESOURCE_ID,
                        "ScalableDimension": DIMENSION,
                        "PolicyType": "TargetTrackingScaling",
                        "TargetTrackingScalingPolicyConfiguration": TRACKING,
                        "CreationTime": WHEN,
                    }
                ]
            },
            {"ServiceNamespace": "sagemaker", "ResourceId": RESOURCE_ID, "ScalableDimension": DIMENSION},
        )
        self.scaling.add_response("list_tags_for_resource", {"Tags": TARGET_TAGS}, {"ResourceARN": TARGET_ARN})
        where = {"ServiceNamespace": "sagemaker", "ResourceId": RESOURCE_ID, "ScalableDimension": DIMENSION}
        self.scaling.add_response("delete_scaling_policy", {}, {"PolicyName": "endpoint-scaling-policy", **where})
        self.scaling.add_response("deregister_scalable_target", {}, where)

    def scaling_restored(self) -> None:
        where = {"ServiceNamespace": "sagemaker", "ResourceId": RESOURCE_ID, "ScalableDimension": DIMENSION}
        self.scaling.add_response(
            "register_scalable_target",
            {"ScalableTargetARN": TARGET_ARN},
            {**where, "MinCapacity": 2, "MaxCapacity": 4, "Tags": TARGET_TAGS},
        )
        self.scaling.add_response(
            "put_scaling_policy",
            {"PolicyARN": "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:new"},
            {
                "PolicyName": "endpoint-scaling-policy",
                **where,
                "PolicyType": "TargetTrackingScaling",
                "TargetTrackingScalingPolicyConfiguration": TRACKING,
            },
        )

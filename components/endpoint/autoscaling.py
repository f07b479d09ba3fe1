"""The endpoint variant's autoscaling: an Application Auto Scaling target and a target tracking
policy on invocations per instance (declared by ModelEndpoint, as its children)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.config.stack import AutoscalingConfig


def autoscaling(
    name: str,
    scaling: AutoscalingConfig,
    endpoint: aws.sagemaker.Endpoint,
    variant_name: str,
    release: pulumi.Resource,
    parent: pulumi.Resource,
) -> None:
    # No role_arn: Application Auto Scaling uses its service-linked role for SageMaker.
    target = aws.appautoscaling.Target(
        f"{name}-scaling-target",
        service_namespace="sagemaker",
        scalable_dimension="sagemaker:variant:DesiredInstanceCount",
        resource_id=endpoint.name.apply(lambda n: f"endpoint/{n}/variant/{variant_name}"),
        min_capacity=scaling.min,
        max_capacity=scaling.max,
        # Registered once the endpoint serves its configuration, and changed only after a
        # release: the release may deregister and re-register it around an instance type change.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[release]),
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
        opts=pulumi.ResourceOptions(parent=parent),
    )

"""Application Auto Scaling around an instance type change, for EndpointRelease's provider.

SageMaker refuses UpdateEndpoint while the variant is a scalable target (AWS: "Update endpoints
that use auto scaling"), so the release reads a variant's target and policies, removes them, and
registers them again exactly as they were once the update is over, tags included: a deregistered
target loses its tags, and RegisterScalableTarget takes them only when it creates the target, so
they are read (ListTagsForResource on the target's ARN) before and passed back with `Tags`. Called
with boto3 clients the provider makes; this module holds none (the provider is pickled by reference
into the state).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"


@dataclass(frozen=True)
class SuspendedScaling:
    """A variant's scalable target and its policies, as Application Auto Scaling described them."""

    target: dict[str, Any]
    policies: list[dict[str, Any]]
    tags: dict[str, str] = field(default_factory=dict)


def suspend_scaling(scaling_client: Any, endpoint_name: str, variant_names: list[str]) -> list[SuspendedScaling]:
    """Removes the scaling policies and scalable targets of these variants; returns what it removed."""
    resource_ids = [f"endpoint/{endpoint_name}/variant/{name}" for name in variant_names]
    targets = scaling_client.describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=resource_ids, ScalableDimension=SCALABLE_DIMENSION
    ).get("ScalableTargets", [])
    suspended = []
    for target in targets:
        policies = scaling_client.describe_scaling_policies(
            ServiceNamespace="sagemaker", ResourceId=target["ResourceId"], ScalableDimension=SCALABLE_DIMENSION
        ).get("ScalingPolicies", [])
        arn = target.get("ScalableTargetARN")
        tags = scaling_client.list_tags_for_resource(ResourceARN=arn).get("Tags", {}) if arn else {}
        suspended.append(SuspendedScaling(target, policies, dict(tags)))
        for policy in policies:
            scaling_client.delete_scaling_policy(
                PolicyName=policy["PolicyName"],
                ServiceNamespace="sagemaker",
                ResourceId=target["ResourceId"],
                ScalableDimension=SCALABLE_DIMENSION,
            )
        scaling_client.deregister_scalable_target(
            ServiceNamespace="sagemaker", ResourceId=target["ResourceId"], ScalableDimension=SCALABLE_DIMENSION
        )
    return suspended


def register_again(scaling_client: Any, item: SuspendedScaling) -> None:
    """Registers a removed scalable target and puts its policies back, as they were described."""
    target = item.target
    scaling_client.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=target["ResourceId"],
        ScalableDimension=SCALABLE_DIMENSION,
        MinCapacity=target["MinCapacity"],
        MaxCapacity=target["MaxCapacity"],
        **({"SuspendedState": target["SuspendedState"]} if target.get("SuspendedState") else {}),
        **({"Tags": item.tags} if item.tags else {}),
    )
    for policy in item.policies:
        request = {
            "PolicyName": policy["PolicyName"],
            "ServiceNamespace": "sagemaker",
            "ResourceId": target["ResourceId"],
            "ScalableDimension": SCALABLE_DIMENSION,
            "PolicyType": policy["PolicyType"],
        }
        for key in ("TargetTrackingScalingPolicyConfiguration", "StepScalingPolicyConfiguration", "PredictiveScalingPolicyConfiguration"):
            if policy.get(key):
                request[key] = policy[key]
        scaling_client.put_scaling_policy(**request)

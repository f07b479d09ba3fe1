"""The one model registry: where it lives, what its owner exports, how another stack reads it.

The stack that owns the training pipeline and the model package group (dev by default) exports
their coordinates under the names in OUTPUTS; a consumer stack (prod) reads the same names through a
`pulumi.StackReference` and deploys `arn:aws:sagemaker:<region>:<owner account>:model-package/<group>/<N>`,
the very string the owner serves.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Mapping

import pulumi

# Stack output names, by coordinate: the contract between the owning stack and its consumers.
OUTPUTS = {
    "region": "region",
    "account_id": "accountId",
    "model_package_group_name": "modelPackageGroupName",
    "model_package_group_arn": "modelPackageGroupArn",
    "pipeline_name": "pipelineName",
    "pipeline_arn": "pipelineArn",
    "artifact_bucket_name": "artifactBucket",
    "artifact_bucket_arn": "artifactBucketArn",
    "model_image_uri": "modelImageUri",
    "model_repository_arn": "modelRepositoryArn",
    "kms_key_arn": "kmsKeyArn",
}
# What a stack serves: the package ARN and its version (exported by every stack with an endpoint).
SERVED_PACKAGE_OUTPUT = "modelPackageArn"
SERVED_VERSION_OUTPUT = "modelPackageVersion"


@dataclass(frozen=True)
class RegistryCoordinates:
    region: pulumi.Input[str]
    account_id: pulumi.Input[str]
    model_package_group_name: pulumi.Input[str]
    model_package_group_arn: pulumi.Input[str]
    pipeline_name: pulumi.Input[str]
    pipeline_arn: pulumi.Input[str]
    artifact_bucket_name: pulumi.Input[str]
    artifact_bucket_arn: pulumi.Input[str]
    model_image_uri: pulumi.Input[str]
    model_repository_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]

    def exports(self) -> Mapping[str, Any]:
        return {OUTPUTS[f.name]: getattr(self, f.name) for f in fields(self)}


def from_stack_reference(reference: pulumi.StackReference) -> RegistryCoordinates:
    """The owner's coordinates; a missing output fails the program naming it (require_output)."""
    return RegistryCoordinates(**{name: reference.require_output(output) for name, output in OUTPUTS.items()})


def model_package_arn(
    region: pulumi.Input[str], account_id: pulumi.Input[str], group: pulumi.Input[str], version: int
) -> pulumi.Output[str]:
    """SageMaker lower-cases group names in model package ARNs; both stacks build the ARN here."""
    return pulumi.Output.format(
        "arn:aws:sagemaker:{0}:{1}:model-package/{2}/{3}", region, account_id, pulumi.Output.from_input(group).apply(str.lower), version
    )


def same_region(coordinates: RegistryCoordinates, region: str, reference_name: str) -> pulumi.Output[str]:
    """The registry's region, failing the program if it is not this stack's: SageMaker deploys a
    model package only in the region of its registry."""

    def check(owner_region: str) -> str:
        if owner_region != region:
            raise pulumi.RunError(
                f"invalid configuration: sagemaker-mlops:registry.stack = {reference_name}: that registry is in {owner_region} "
                f"but this stack deploys to {region} (aws:region); SageMaker serves a model package only in its registry's region"
            )
        return owner_region

    return pulumi.Output.from_input(coordinates.region).apply(check)

"""TrainingPipeline: data and artifact buckets, the model image, the registry, the SageMaker
Pipeline (definition generated offline by the sagemaker SDK) and what starts it.

What starts it and whom it tells: components/training/triggers.py; its execution role and what
consumer accounts may read: components/training/access.py (both declare their resources as
children of this component)."""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_aws as aws

from components.shared.container_image import ContainerImage, ContainerImageArgs
from components.shared.secure_bucket import SecureBucket, SecureBucketArgs
from components.training.access import consumer_bucket_statements, execution_role, model_bytes_statements, share_with_consumers
from components.training.args import TrainingPipelineArgs as TrainingPipelineArgs
from components.training.definition import definition as pipeline_definition
from components.training.definition.cache import cached
from components.training.definition.definition import PipelineDefinitionArgs, build_pipeline_definition
from components.training.triggers import notice_rules, trigger_rules

MODEL_IMAGE_CONTEXT = "containers/model"
# Hyper-parameters of containers/model's trainer (strings: SageMaker's contract).


def model_package_group_name(name_prefix: str) -> str:
    """The registry group a stack's pipeline registers into and its endpoint deploys from."""
    return f"{name_prefix}-churn"


REGISTRY_TYPES = frozenset({"aws:sagemaker/modelPackageGroup:ModelPackageGroup", "aws:s3/bucket:Bucket", "aws:ecr/repository:Repository"})


def protect_types(types: frozenset[str]) -> pulumi.ResourceTransformation:
    """`protect` on the resources of `types` among a resource and its children."""

    def transform(args: pulumi.ResourceTransformationArgs) -> Optional[pulumi.ResourceTransformationResult]:
        if args.type_ not in types:
            return None
        return pulumi.ResourceTransformationResult(
            args.props, pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(protect=True))
        )

    return transform


class TrainingPipeline(pulumi.ComponentResource):
    data_bucket: SecureBucket
    artifact_bucket: SecureBucket
    image: ContainerImage
    execution_role: aws.iam.Role
    model_package_group: aws.sagemaker.ModelPackageGroup
    pipeline: aws.sagemaker.Pipeline
    pipeline_name: str
    model_package_group_name: str

    def __init__(self, name: str, args: TrainingPipelineArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("sagemaker-mlops:training:TrainingPipeline", name, None, opts)
        if args.protect_registry and args.force_destroy:
            raise pulumi.RunError("TrainingPipeline: a registry another stack serves (protect_registry) cannot be force-destroyed")
        child = pulumi.ResourceOptions(parent=self)
        # What consumers serve is protected: the group, the bucket and the repository themselves, not
        # their replaceable parts (the image build, a bucket's policy), so a new image still deploys.
        registry = pulumi.ResourceOptions(parent=self, transformations=[protect_types(REGISTRY_TYPES)] if args.protect_registry else None)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=invoke)
        account = identity.account_id
        self.pipeline_name = f"{args.name_prefix}-training"
        self.model_package_group_name = model_package_group_name(args.name_prefix)

        self.data_bucket = SecureBucket(
            f"{name}-data",
            SecureBucketArgs(
                kms_key_arn=args.kms_key_arn, force_destroy=args.force_destroy, eventbridge_notifications=True, name_prefix=args.name_prefix
            ),
            opts=child,
        )
        self.artifact_bucket = SecureBucket(
            f"{name}-artifacts",
            SecureBucketArgs(
                kms_key_arn=args.kms_key_arn,
                force_destroy=args.force_destroy,
                extra_policy_statements=lambda bucket_arn: [
                    *consumer_bucket_statements(args, self, bucket_arn),
                    *model_bytes_statements(args, self, bucket_arn),
                ],
                name_prefix=args.name_prefix,
                reader_stacks=tuple(args.consumer_stacks),
            ),
            opts=registry,
        )
        self.image = ContainerImage(
            f"{name}-model-image",
            ContainerImageArgs(
                repository_name=f"{args.name_prefix}-model",
                context=MODEL_IMAGE_CONTEXT,
                kms_key_arn=args.kms_key_arn,
                force_delete=args.force_destroy,
            ),
            opts=registry,
        )
        self.model_package_group = aws.sagemaker.ModelPackageGroup(
            f"{name}-model-group",
            model_package_group_name=self.model_package_group_name,
            model_package_group_description=f"Churn models trained by {self.pipeline_name}",
            opts=registry,
        )

        def arn(service: str, resource: str) -> pulumi.Output[str]:
            return pulumi.Output.format("arn:aws:{0}:{1}:{2}:{3}", service, args.region, account, resource)

        self.execution_role = execution_role(name, args, self, arn, child)

        definition = pulumi.Output.all(
            role_arn=self.execution_role.arn,
            image_uri=self.image.image_uri,
            data_bucket=self.data_bucket.name,
            artifact_bucket=self.artifact_bucket.name,
            kms_key_arn=args.kms_key_arn,
        ).apply(
            lambda v: cached(
                build_pipeline_definition,
                PipelineDefinitionArgs(
                    pipeline_name=self.pipeline_name,
                    region=args.region,
                    role_arn=v["role_arn"],
                    image_uri=v["image_uri"],
                    data_bucket=v["data_bucket"],
                    artifact_bucket=v["artifact_bucket"],
                    kms_key_arn=v["kms_key_arn"],
                    model_package_group_name=self.model_package_group_name,
                    training_instance_type=args.training_instance_type,
                    processing_instance_type=args.processing_instance_type,
                    use_spot=args.use_spot,
                    max_run_seconds=args.max_run_seconds,
                    max_wait_seconds=args.max_wait_seconds,
                    min_auc=args.min_auc,
                    hyperparameters=dict(args.hyperparameters),
                    tuning=args.tuning,
                ),
                generator_source=pipeline_definition.GENERATOR_SOURCES,
            )
        )
        self.pipeline = aws.sagemaker.Pipeline(
            f"{name}-pipeline",
            pipeline_name=self.pipeline_name,
            pipeline_display_name=self.pipeline_name,
            pipeline_description="preprocess -> data-quality baseline -> train -> evaluate -> AUC gate -> seal -> register",
            role_arn=self.execution_role.arn,
            pipeline_definition=definition,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.model_package_group]),
        )
        self.trigger_rules = trigger_rules(name, args, self, child)
        notice_rules(name, args, self, child)
        if args.consumer_accounts:
            share_with_consumers(name, args, self, arn, child)

        self.register_outputs(
            {
                "pipeline_name": self.pipeline_name,
                "pipeline_arn": self.pipeline.arn,
                "model_package_group_name": self.model_package_group_name,
                "model_package_group_arn": self.model_package_group.arn,
                "data_bucket": self.data_bucket.name,
                "artifact_bucket": self.artifact_bucket.name,
                "image_uri": self.image.image_uri,
            }
        )

"""Who may use the training pipeline's resources (used by TrainingPipeline): the execution role the
pipeline and its jobs run as, and what consumer accounts may read (the registry's packages, their
artifacts and baselines, the model image) and send (drift alarms to this account's event bus)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import pulumi
import pulumi_aws as aws

from components.shared.iam import assume_role_policy, ecr_pull_statements, policy_document, statement
from components.training.definition import definition as pipeline_definition

if TYPE_CHECKING:
    from components.training.args import TrainingPipelineArgs, TrainingResources

# Read-only access a consumer account needs to deploy a model package of the shared group.
CONSUMER_REGISTRY_ACTIONS = (
    "sagemaker:DescribeModelPackageGroup",
    "sagemaker:DescribeModelPackage",
    "sagemaker:ListModelPackages",
    "sagemaker:CreateModel",
)


def execution_role(
    name: str,
    args: TrainingPipelineArgs,
    training: TrainingResources,
    arn: Callable[[str, str], pulumi.Output[str]],
    child: pulumi.ResourceOptions,
) -> aws.iam.Role:
    """The role the pipeline and its jobs run as: this project's buckets, key, image, logs and registry only."""
    role = aws.iam.Role(
        f"{name}-execution-role",
        name=f"{args.name_prefix}-sagemaker-execution",
        description="SageMaker pipeline, processing and training jobs of sagemaker-mlops",
        assume_role_policy=assume_role_policy("sagemaker.amazonaws.com"),
        max_session_duration=3600 * 12,
        opts=child,
    )
    buckets = [training.data_bucket.arn, training.artifact_bucket.arn]
    objects = [pulumi.Output.concat(b, "/*") for b in buckets]
    group = training.model_package_group_name
    document = policy_document(
        statement(["s3:ListBucket", "s3:GetBucketLocation"], buckets, sid="ListProjectBuckets"),
        statement(["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"], objects, sid="ReadWriteProjectObjects"),
        statement(
            ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            [args.kms_key_arn],
            sid="UseProjectKey",
        ),
        statement(
            ["kms:CreateGrant"],
            [args.kms_key_arn],
            sid="GrantKeyToSageMakerVolumes",
            conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
        *ecr_pull_statements(training.image.repository.arn, sid="PullModelImage"),
        statement(
            ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            [arn("logs", "log-group:/aws/sagemaker/*")],
            sid="WriteSageMakerLogs",
        ),
        statement(
            ["cloudwatch:PutMetricData"],
            ["*"],
            sid="PublishSageMakerMetrics",
            conditions={"StringLike": {"cloudwatch:namespace": ["aws/sagemaker/*", "/aws/sagemaker/*"]}},
        ),
        statement(
            [
                "sagemaker:CreateProcessingJob",
                "sagemaker:DescribeProcessingJob",
                "sagemaker:StopProcessingJob",
                "sagemaker:CreateTrainingJob",
                "sagemaker:DescribeTrainingJob",
                "sagemaker:StopTrainingJob",
                "sagemaker:CreateHyperParameterTuningJob",
                "sagemaker:DescribeHyperParameterTuningJob",
                "sagemaker:StopHyperParameterTuningJob",
                "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
                "sagemaker:AddTags",
            ],
            [
                arn("sagemaker", "processing-job/*"),
                arn("sagemaker", "training-job/*"),
                arn("sagemaker", "hyper-parameter-tuning-job/*"),
            ],
            sid="RunPipelineJobs",
        ),
        statement(
            ["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup", "sagemaker:AddTags"],
            [arn("sagemaker", f"model-package-group/{group}"), arn("sagemaker", f"model-package/{group}/*")],
            sid="RegisterModelVersions",
        ),
        statement(
            ["iam:PassRole"],
            [role.arn],
            sid="PassOwnRoleToSageMakerJobs",
            conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        ),
    )
    aws.iam.RolePolicy(f"{name}-execution-policy", role=role.id, policy=document, opts=child)
    return role


# ---- consumer accounts -------------------------------------------------------------------------


def consumer_roots(args: TrainingPipelineArgs) -> list[str]:
    return [f"arn:aws:iam::{account}:root" for account in args.consumer_accounts]


def consumer_bucket_statements(
    args: TrainingPipelineArgs, training: TrainingResources, bucket_arn: pulumi.Output[str]
) -> list[dict[str, Any]]:
    """Consumer accounts read model artifacts (written under pipelines/<pipeline>/, the sealed
    registered/ copies among them) and the data-quality baselines (baselines/<group>/) that their
    endpoints and monitors load."""
    if not args.consumer_accounts:
        return []
    return [
        statement(
            ["s3:GetObject"],
            [
                pulumi.Output.concat(bucket_arn, f"/pipelines/{training.pipeline_name}/*"),
                pulumi.Output.concat(bucket_arn, f"/{pipeline_definition.BASELINES_PREFIX}/{training.model_package_group_name}/*"),
            ],
            sid="ConsumerAccountsReadModelsAndBaselines",
            principals={"AWS": consumer_roots(args)},
        )
    ]


# Model bytes. SageMaker writes each job's model under pipelines/<pipeline>/training/<job>/output/
# without If-None-Match, so that prefix cannot require conditional writes without stopping training.
# The model a package registers is the copy the pipeline's SealModel step wrote under
# pipelines/<pipeline>/registered/<execution id>/ with If-None-Match: * (S3 refuses it, 412, when the
# key holds a current object). There, no write without that header is accepted, from anyone: PutObject,
# CompleteMultipartUpload, and CopyObject, UploadPart and CreateMultipartUpload (authorised as
# s3:PutObject; the last three never carry it) all need `s3:if-none-match` in the request ("Enforce
# conditional writes on Amazon S3 buckets", S3 User Guide). Replication into the prefix is another
# action and is refused outright. If-None-Match only looks at the current version, so a delete (which
# makes a delete marker current) would reopen the key: deletes are refused there and under training/
# (unless the stack is force-destroyable), and the bucket's lifecycle never expires current versions
# (components/shared/secure_bucket.py). docs/promotion.md, "Model bytes".
MODEL_BYTES_DENIED_ACTIONS = ("s3:DeleteObject", "s3:DeleteObjectVersion")
SEALED_REPLICATION_ACTIONS = ("s3:ReplicateObject", "s3:ReplicateDelete")


def model_bytes_statements(args: TrainingPipelineArgs, training: TrainingResources, bucket_arn: pulumi.Output[str]) -> list[dict[str, Any]]:
    """A sealed model is written once and never replaced; no one deletes a trained or sealed model,
    except a force-destroyable stack's teardown."""
    sealed = pulumi.Output.concat(bucket_arn, f"/{pipeline_definition.sealed_model_prefix(training.pipeline_name)}/*")
    everyone = {"AWS": "*"}
    statements = [
        statement(
            ["s3:PutObject"],
            [sealed],
            sid="DenyUnconditionalWritesOfSealedModels",
            effect="Deny",
            principals=everyone,
            conditions={"Null": {"s3:if-none-match": "true"}},
        ),
        statement(list(SEALED_REPLICATION_ACTIONS), [sealed], sid="DenyReplicatingOverSealedModels", effect="Deny", principals=everyone),
    ]
    if not args.force_destroy:
        statements.append(
            statement(
                list(MODEL_BYTES_DENIED_ACTIONS),
                [pulumi.Output.concat(bucket_arn, f"/pipelines/{training.pipeline_name}/training/*"), sealed],
                sid="DenyDeletingModelBytes",
                effect="Deny",
                principals=everyone,
            )
        )
    return statements


def share_with_consumers(
    name: str,
    args: TrainingPipelineArgs,
    training: TrainingResources,
    arn: Callable[[str, str], pulumi.Output[str]],
    child: pulumi.ResourceOptions,
) -> None:
    """What serving in another account needs, and nothing more: describe and deploy the group's
    packages (never approve them), pull the model image, send drift alarms to this account's bus."""
    roots = {"AWS": consumer_roots(args)}
    group = training.model_package_group_name
    aws.sagemaker.ModelPackageGroupPolicy(
        f"{name}-model-group-policy",
        model_package_group_name=training.model_package_group.model_package_group_name,
        resource_policy=policy_document(
            statement(
                ["sagemaker:DescribeModelPackageGroup"],
                [training.model_package_group.arn],
                sid="ConsumerAccountsReadGroup",
                principals=roots,
            ),
            statement(
                [a for a in CONSUMER_REGISTRY_ACTIONS if a != "sagemaker:DescribeModelPackageGroup"],
                [arn("sagemaker", f"model-package/{group.lower()}/*")],
                sid="ConsumerAccountsDeployPackages",
                principals=roots,
            ),
        ),
        opts=child,
    )
    # A repository policy names no resource (it is the repository's own).
    aws.ecr.RepositoryPolicy(
        f"{name}-model-image-policy",
        repository=training.image.repository.name,
        policy=pulumi.Output.json_dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "ConsumerAccountsPullModelImage",
                        "Effect": "Allow",
                        "Principal": roots,
                        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
                    }
                ],
            }
        ),
        opts=child,
    )
    # Cross-account EventBridge: the consumer's rule targets this account's default bus, whose
    # resource policy must let that account put events; a rule here matches them. One statement per
    # account (PutPermission): an EventBusPolicy would replace the whole default bus policy, and
    # with it every grant another team or stack has made on this account's bus.
    for account in args.consumer_accounts:
        aws.cloudwatch.EventPermission(
            f"{name}-consumer-events-{account}",
            event_bus_name="default",
            principal=account,
            action="events:PutEvents",
            statement_id=f"{args.name_prefix}-drift-alarms-from-{account}",
            opts=child,
        )

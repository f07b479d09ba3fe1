"""TrainingPipeline: data and artifact buckets, the model image, the registry, the SageMaker
Pipeline (definition generated offline by the sagemaker SDK) and what starts it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws

from components import pipeline_definition
from components.container_image import ContainerImage, ContainerImageArgs
from components.definition_cache import cached
from components.event_delivery import dead_letter_queue, retrying_target
from components.iam import assume_role_policy, ecr_pull_statements, policy_document, statement
from components.pipeline_definition import PipelineDefinitionArgs, TuningSpec, build_pipeline_definition
from components.secure_bucket import SecureBucket, SecureBucketArgs

MODEL_IMAGE_CONTEXT = "containers/model"
INCOMING_PREFIX = "incoming/"
# Hyper-parameters of containers/model's trainer (strings: SageMaker's contract).
DEFAULT_HYPERPARAMETERS = {
    "max_depth": "6",
    "learning_rate": "0.1",
    "num_round": "300",
    "early_stopping_rounds": "20",
    "seed": "42",
}
# Every stack's drift alarm is named <prefix>-endpoint-drift (components.model_endpoint.drift_alarm_name):
# the owner retrains on a consumer account's drift alarm whatever that stack's prefix is.
DRIFT_ALARM_SUFFIX = "-endpoint-drift"
# Read-only access a consumer account needs to deploy a model package of the shared group.
CONSUMER_REGISTRY_ACTIONS = ("sagemaker:DescribeModelPackageGroup", "sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages", "sagemaker:CreateModel")


def model_package_group_name(name_prefix: str) -> str:
    """The registry group a stack's pipeline registers into and its endpoint deploys from."""
    return f"{name_prefix}-churn"


@dataclass(frozen=True)
class TrainingPipelineArgs:
    name_prefix: str
    region: str
    kms_key_arn: pulumi.Input[str]
    alarm_topic_arn: pulumi.Input[str]
    training_instance_type: str
    processing_instance_type: str
    use_spot: bool
    schedule: str
    min_auc: float
    tuning: Optional[TuningSpec] = None
    hyperparameters: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_HYPERPARAMETERS))
    drift_alarm_name: Optional[str] = None
    """Name of the endpoint's drift alarm: when set, the alarm entering ALARM starts a run."""
    force_destroy: bool = False
    consumer_accounts: Sequence[str] = ()
    """AWS accounts whose stacks serve this registry's packages: granted read access to the packages,
    their artifacts and baselines, the model image, and PutEvents to this account's default bus for
    their drift alarms. The KMS key's grant is the Foundation's (FoundationArgs.consumer_accounts)."""
    max_run_seconds: int = 3600
    max_wait_seconds: int = 7200


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
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=invoke)
        account = identity.account_id
        self.pipeline_name = f"{args.name_prefix}-training"
        self.model_package_group_name = model_package_group_name(args.name_prefix)

        self.data_bucket = SecureBucket(
            f"{name}-data",
            SecureBucketArgs(kms_key_arn=args.kms_key_arn, force_destroy=args.force_destroy, eventbridge_notifications=True),
            opts=child,
        )
        self.artifact_bucket = SecureBucket(
            f"{name}-artifacts",
            SecureBucketArgs(
                kms_key_arn=args.kms_key_arn,
                force_destroy=args.force_destroy,
                extra_policy_statements=lambda bucket_arn: self._consumer_bucket_statements(args, bucket_arn),
            ),
            opts=child,
        )
        self.image = ContainerImage(
            f"{name}-model-image",
            ContainerImageArgs(
                repository_name=f"{args.name_prefix}-model",
                context=MODEL_IMAGE_CONTEXT,
                kms_key_arn=args.kms_key_arn,
                force_delete=args.force_destroy,
            ),
            opts=child,
        )
        self.model_package_group = aws.sagemaker.ModelPackageGroup(
            f"{name}-model-group",
            model_package_group_name=self.model_package_group_name,
            model_package_group_description=f"Churn models trained by {self.pipeline_name}",
            opts=child,
        )

        def arn(service: str, resource: str) -> pulumi.Output[str]:
            return pulumi.Output.format("arn:aws:{0}:{1}:{2}:{3}", service, args.region, account, resource)

        self.execution_role = self._execution_role(name, args, arn, child)

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
            pipeline_description="preprocess -> data-quality baseline -> train -> evaluate -> AUC gate -> register",
            role_arn=self.execution_role.arn,
            pipeline_definition=definition,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.model_package_group]),
        )
        self._triggers(name, args, child)
        if args.consumer_accounts:
            self._share_with_consumers(name, args, arn, child)

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

    # ---- consumer accounts -------------------------------------------------------------------------
    @staticmethod
    def _consumer_roots(args: TrainingPipelineArgs) -> list[str]:
        return [f"arn:aws:iam::{account}:root" for account in args.consumer_accounts]

    def _consumer_bucket_statements(self, args: TrainingPipelineArgs, bucket_arn: pulumi.Output[str]) -> list[dict[str, Any]]:
        """Consumer accounts read model artifacts (written under pipelines/<pipeline>/) and the
        data-quality baselines (baselines/<group>/) that their endpoints and monitors load."""
        if not args.consumer_accounts:
            return []
        return [
            statement(
                ["s3:GetObject"],
                [
                    pulumi.Output.concat(bucket_arn, f"/pipelines/{self.pipeline_name}/*"),
                    pulumi.Output.concat(bucket_arn, f"/{pipeline_definition.BASELINES_PREFIX}/{self.model_package_group_name}/*"),
                ],
                sid="ConsumerAccountsReadModelsAndBaselines",
                principals={"AWS": self._consumer_roots(args)},
            )
        ]

    def _share_with_consumers(self, name: str, args: TrainingPipelineArgs, arn: Callable[[str, str], pulumi.Output[str]], child: pulumi.ResourceOptions) -> None:
        """What serving in another account needs, and nothing more: describe and deploy the group's
        packages (never approve them), pull the model image, send drift alarms to this account's bus."""
        roots = {"AWS": self._consumer_roots(args)}
        group = self.model_package_group_name
        aws.sagemaker.ModelPackageGroupPolicy(
            f"{name}-model-group-policy",
            model_package_group_name=self.model_package_group.model_package_group_name,
            resource_policy=policy_document(
                statement(["sagemaker:DescribeModelPackageGroup"], [self.model_package_group.arn], sid="ConsumerAccountsReadGroup", principals=roots),
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
            repository=self.image.repository.name,
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
        # resource policy must let that account put events; a rule here matches them.
        aws.cloudwatch.EventBusPolicy(
            f"{name}-consumer-events-policy",
            event_bus_name="default",
            policy=policy_document(
                statement(["events:PutEvents"], [arn("events", "event-bus/default")], sid="ConsumerAccountsSendDriftAlarms", principals=roots)
            ),
            opts=child,
        )

    def _execution_role(self, name: str, args: TrainingPipelineArgs, arn: Callable[[str, str], pulumi.Output[str]], child: pulumi.ResourceOptions) -> aws.iam.Role:
        """The role the pipeline and its jobs run as: this project's buckets, key, image, logs and registry only."""
        role = aws.iam.Role(
            f"{name}-execution-role",
            name=f"{args.name_prefix}-sagemaker-execution",
            description="SageMaker pipeline, processing and training jobs of sagemaker-mlops",
            assume_role_policy=assume_role_policy("sagemaker.amazonaws.com"),
            max_session_duration=3600 * 12,
            opts=child,
        )
        buckets = [self.data_bucket.arn, self.artifact_bucket.arn]
        objects = [pulumi.Output.concat(b, "/*") for b in buckets]
        group = self.model_package_group_name
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
            *ecr_pull_statements(self.image.repository.arn, sid="PullModelImage"),
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

    def _triggers(self, name: str, args: TrainingPipelineArgs, child: pulumi.ResourceOptions) -> None:
        events_role = aws.iam.Role(
            f"{name}-events-role",
            name=f"{args.name_prefix}-start-training",
            description="EventBridge rules that start the training pipeline",
            assume_role_policy=assume_role_policy("events.amazonaws.com"),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-events-policy",
            role=events_role.id,
            policy=policy_document(statement(["sagemaker:StartPipelineExecution"], [self.pipeline.arn], sid="StartThisPipelineOnly")),
            opts=child,
        )
        rules: dict[str, aws.cloudwatch.EventRule] = {
            "schedule": aws.cloudwatch.EventRule(
                f"{name}-schedule",
                name=f"{args.name_prefix}-training-schedule",
                description="Periodic retraining",
                schedule_expression=args.schedule,
                opts=child,
            ),
            "new-data": aws.cloudwatch.EventRule(
                f"{name}-new-data",
                name=f"{args.name_prefix}-training-new-data",
                description=f"New training data under s3://<data bucket>/{INCOMING_PREFIX}",
                event_pattern=pulumi.Output.json_dumps(
                    {
                        "source": ["aws.s3"],
                        "detail-type": ["Object Created"],
                        "detail": {"bucket": {"name": [self.data_bucket.name]}, "object": {"key": [{"prefix": INCOMING_PREFIX}]}},
                    }
                ),
                opts=child,
            ),
        }
        if args.drift_alarm_name:
            rules["drift"] = aws.cloudwatch.EventRule(
                f"{name}-drift",
                name=f"{args.name_prefix}-training-on-drift",
                description=f"Retrain when {args.drift_alarm_name} enters ALARM",
                event_pattern=json.dumps(
                    {
                        "source": ["aws.cloudwatch"],
                        "detail-type": ["CloudWatch Alarm State Change"],
                        "detail": {"alarmName": [args.drift_alarm_name], "state": {"value": ["ALARM"]}},
                    }
                ),
                opts=child,
            )
        if args.consumer_accounts:
            rules["consumer-drift"] = aws.cloudwatch.EventRule(
                f"{name}-consumer-drift",
                name=f"{args.name_prefix}-training-on-consumer-drift",
                description="Retrain when a consumer account's endpoint drift alarm enters ALARM",
                event_pattern=json.dumps(
                    {
                        "account": list(args.consumer_accounts),
                        "source": ["aws.cloudwatch"],
                        "detail-type": ["CloudWatch Alarm State Change"],
                        "detail": {"alarmName": [{"suffix": DRIFT_ALARM_SUFFIX}], "state": {"value": ["ALARM"]}},
                    }
                ),
                opts=child,
            )
        self.trigger_rules = rules
        dead_letters = dead_letter_queue(f"{name}-trigger-dlq", f"{args.name_prefix}-training-trigger-dlq", args.kms_key_arn, list(rules.values()), child)
        for key, rule in rules.items():
            retrying_target(f"{name}-{key}-target", rule, self.pipeline.arn, events_role.arn, dead_letters, child)

        self._notifications(name, args, child)

    def _notifications(self, name: str, args: TrainingPipelineArgs, child: pulumi.ResourceOptions) -> None:
        """Failed runs and newly approved versions reach the alarm topic."""
        notices: dict[str, tuple[Any, str]] = {
            "failed": (
                {
                    "source": ["aws.sagemaker"],
                    "detail-type": ["SageMaker Model Building Pipeline Execution Status Change"],
                    "detail": {"pipelineArn": [self.pipeline.arn], "currentPipelineExecutionStatus": ["Failed"]},
                },
                '"Training pipeline run <execution> failed. Open it in SageMaker Studio to see the failing step and its reason."',
            ),
            "approved": (
                {
                    "source": ["aws.sagemaker"],
                    "detail-type": ["SageMaker Model Package State Change"],
                    "detail": {"ModelPackageGroupName": [self.model_package_group_name], "ModelApprovalStatus": ["Approved"]},
                },
                '"Model package <execution> was approved. Promote it with: python -m tools.promote --to dev --version <version>"',
            ),
        }
        paths = {
            "failed": {"execution": "$.detail.pipelineExecutionArn"},
            "approved": {"execution": "$.detail.ModelPackageArn", "version": "$.detail.ModelPackageVersion"},
        }
        for key, (pattern, template) in notices.items():
            rule = aws.cloudwatch.EventRule(
                f"{name}-{key}-notice",
                name=f"{args.name_prefix}-training-{key}",
                description=f"Notify the team: training {key}",
                event_pattern=pulumi.Output.json_dumps(pattern),
                opts=child,
            )
            aws.cloudwatch.EventTarget(
                f"{name}-{key}-notice-target",
                rule=rule.name,
                arn=args.alarm_topic_arn,
                input_transformer=aws.cloudwatch.EventTargetInputTransformerArgs(input_paths=paths[key], input_template=template),
                opts=child,
            )

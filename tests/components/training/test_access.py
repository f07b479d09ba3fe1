"""components/training/access.py on its own, under Pulumi's mocks: the execution role's whole policy
and what consumer accounts are granted, statement by statement.

tests/components/training/test_pipeline.py and test_registry.py judge the same documents in the real
program (wiring, least privilege); this file is the fast guard the mutation check runs once per
mutant, so it pins every action, resource and condition: a grant added or dropped fails here.
"""

from __future__ import annotations

from types import SimpleNamespace

import pulumi
import pytest
from pulumi_testkit import document, recording_mocks, resolve

from components.training.access import (
    CONSUMER_REGISTRY_ACTIONS,
    consumer_bucket_statements,
    execution_role,
    model_bytes_statements,
    share_with_consumers,
)
from components.training.args import TrainingPipelineArgs

KEY = "arn:aws:kms:us-east-1:111111111111:key/k"
DATA, ARTIFACTS = "arn:aws:s3:::mlops-dev-data", "arn:aws:s3:::mlops-dev-artifacts"
REPOSITORY = "arn:aws:ecr:us-east-1:111111111111:repository/mlops-dev-model"
GROUP = "mlops-dev-Churn"  # mixed case: a model package ARN spells the group in lower case
GROUP_ARN = f"arn:aws:sagemaker:us-east-1:111111111111:model-package-group/{GROUP}"
CONSUMERS = ("222222222222", "333333333333")
ROOTS = ["arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"]


@pytest.fixture
def mocks():
    yield from recording_mocks()


def args(consumers=CONSUMERS, force_destroy=False) -> TrainingPipelineArgs:
    return TrainingPipelineArgs(
        name_prefix="mlops-dev",
        region="us-east-1",
        kms_key_arn=KEY,
        alarm_topic_arn="arn:aws:sns:us-east-1:111111111111:alarms",
        training_instance_type="ml.m5.large",
        processing_instance_type="ml.m5.large",
        use_spot=True,
        schedule="rate(7 days)",
        min_auc=0.75,
        consumer_accounts=consumers,
        force_destroy=force_destroy,
    )


TRAINING = SimpleNamespace(
    data_bucket=SimpleNamespace(arn=DATA),
    artifact_bucket=SimpleNamespace(arn=ARTIFACTS),
    image=SimpleNamespace(repository=SimpleNamespace(arn=REPOSITORY, name="mlops-dev-model")),
    pipeline_name="mlops-dev-training",
    model_package_group=SimpleNamespace(arn=GROUP_ARN, model_package_group_name=GROUP),
    model_package_group_name=GROUP,
)


def arn(service: str, resource: str) -> pulumi.Output[str]:
    return pulumi.Output.from_input(f"arn:aws:{service}:us-east-1:111111111111:{resource}")


def by_sid(policy) -> dict[str, dict]:
    parsed = document(policy)
    assert parsed["Version"] == "2012-10-17"
    return {s.pop("Sid"): s for s in parsed["Statement"]}


def allow(actions, resources, **extra) -> dict:
    return {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def test_the_execution_role_is_assumed_by_sagemaker_for_at_most_twelve_hours(mocks):
    execution_role("training", args(), TRAINING, arn, pulumi.ResourceOptions())
    role = mocks.one("aws:iam/role:Role", "training-execution-role")
    assert role["name"] == "mlops-dev-sagemaker-execution"
    assert document(role["assumeRolePolicy"])["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    # A pipeline's jobs run up to max_wait_seconds (2 h by default); 12 h is IAM's ceiling.
    assert role["maxSessionDuration"] == 43200


def test_the_execution_policy_grants_exactly_the_project_resources(mocks):
    role = execution_role("training", args(), TRAINING, arn, pulumi.ResourceOptions())
    policy = mocks.one("aws:iam/rolePolicy:RolePolicy", "training-execution-policy")
    assert policy["role"] == resolve(role.id) == "training-execution-role-id"
    sagemaker = "arn:aws:sagemaker:us-east-1:111111111111"
    assert by_sid(policy["policy"]) == {
        "ListProjectBuckets": allow(["s3:ListBucket", "s3:GetBucketLocation"], [DATA, ARTIFACTS]),
        "ReadWriteProjectObjects": allow(
            ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"], [f"{DATA}/*", f"{ARTIFACTS}/*"]
        ),
        "UseProjectKey": allow(["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"], [KEY]),
        # Jobs' ML storage volumes are encrypted with the key through grants SageMaker creates.
        "GrantKeyToSageMakerVolumes": allow(["kms:CreateGrant"], [KEY], Condition={"Bool": {"kms:GrantIsForAWSResource": "true"}}),
        "PullModelImage": allow(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"], [REPOSITORY]),
        "EcrLogin": allow(["ecr:GetAuthorizationToken"], ["*"]),
        "WriteSageMakerLogs": allow(
            ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            ["arn:aws:logs:us-east-1:111111111111:log-group:/aws/sagemaker/*"],
        ),
        # PutMetricData has no resource-level permissions: narrowed to SageMaker's namespaces.
        "PublishSageMakerMetrics": allow(
            ["cloudwatch:PutMetricData"], ["*"], Condition={"StringLike": {"cloudwatch:namespace": ["aws/sagemaker/*", "/aws/sagemaker/*"]}}
        ),
        "RunPipelineJobs": allow(
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
            [f"{sagemaker}:processing-job/*", f"{sagemaker}:training-job/*", f"{sagemaker}:hyper-parameter-tuning-job/*"],
        ),
        "RegisterModelVersions": allow(
            ["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup", "sagemaker:AddTags"],
            [f"{sagemaker}:model-package-group/{GROUP}", f"{sagemaker}:model-package/{GROUP}/*"],
        ),
        # The role passes only itself, and only to SageMaker (the jobs the pipeline starts).
        "PassOwnRoleToSageMakerJobs": allow(
            ["iam:PassRole"],
            ["arn:aws:mock:::training-execution-role"],
            Condition={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        ),
    }


def test_consumers_read_only_the_pipelines_artifacts_and_the_groups_baselines(mocks):
    [grant] = consumer_bucket_statements(args(), TRAINING, pulumi.Output.from_input(ARTIFACTS))
    assert document(grant) == {
        "Sid": "ConsumerAccountsReadModelsAndBaselines",
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Resource": [f"{ARTIFACTS}/pipelines/mlops-dev-training/*", f"{ARTIFACTS}/baselines/{GROUP}/*"],
        "Principal": {"AWS": ROOTS},
    }


SEALED = f"{ARTIFACTS}/pipelines/mlops-dev-training/registered/*"


def test_sealed_models_are_written_only_with_if_none_match_and_no_model_is_deleted(mocks):
    statements = [document(s) for s in model_bytes_statements(args(), TRAINING, pulumi.Output.from_input(ARTIFACTS))]
    everyone = {"AWS": "*"}
    assert statements == [
        # S3 refuses a conditional write to a key that holds an object (412); no other write is accepted there.
        {
            "Sid": "DenyUnconditionalWritesOfSealedModels",
            "Effect": "Deny",
            "Action": ["s3:PutObject"],
            "Resource": [SEALED],
            "Principal": everyone,
            "Condition": {"Null": {"s3:if-none-match": "true"}},
        },
        {
            "Sid": "DenyReplicatingOverSealedModels",
            "Effect": "Deny",
            "Action": ["s3:ReplicateObject", "s3:ReplicateDelete"],
            "Resource": [SEALED],
            "Principal": everyone,
        },
        # A delete marker would make the key free for If-None-Match again.
        {
            "Sid": "DenyDeletingModelBytes",
            "Effect": "Deny",
            "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion"],
            "Resource": [f"{ARTIFACTS}/pipelines/mlops-dev-training/training/*", SEALED],
            "Principal": everyone,
        },
    ]


def test_a_force_destroyable_stack_may_delete_models_but_never_overwrite_a_sealed_one(mocks):
    statements = model_bytes_statements(args(force_destroy=True), TRAINING, pulumi.Output.from_input(ARTIFACTS))
    assert [document(s)["Sid"] for s in statements] == ["DenyUnconditionalWritesOfSealedModels", "DenyReplicatingOverSealedModels"]


def test_no_consumer_no_bucket_grant(mocks):
    assert consumer_bucket_statements(args(()), TRAINING, pulumi.Output.from_input(ARTIFACTS)) == []


def test_consumers_describe_and_deploy_the_groups_packages_and_nothing_else(mocks):
    share_with_consumers("training", args(), TRAINING, arn, pulumi.ResourceOptions())
    group_policy = mocks.one("aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy", "training-model-group-policy")
    assert group_policy["modelPackageGroupName"] == GROUP
    assert by_sid(group_policy["resourcePolicy"]) == {
        "ConsumerAccountsReadGroup": allow(["sagemaker:DescribeModelPackageGroup"], [GROUP_ARN], Principal={"AWS": ROOTS}),
        "ConsumerAccountsDeployPackages": allow(
            ["sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages", "sagemaker:CreateModel"],
            ["arn:aws:sagemaker:us-east-1:111111111111:model-package/mlops-dev-churn/*"],
            Principal={"AWS": ROOTS},
        ),
    }
    # Never approve: UpdateModelPackage is what approval is.
    assert "sagemaker:UpdateModelPackage" not in CONSUMER_REGISTRY_ACTIONS


def test_consumers_pull_the_model_image_and_send_drift_events_to_the_default_bus(mocks):
    share_with_consumers("training", args(), TRAINING, arn, pulumi.ResourceOptions())
    repository_policy = mocks.one("aws:ecr/repositoryPolicy:RepositoryPolicy", "training-model-image-policy")
    assert repository_policy["repository"] == "mlops-dev-model"
    assert by_sid(repository_policy["policy"]) == {
        "ConsumerAccountsPullModelImage": {
            "Effect": "Allow",
            "Principal": {"AWS": ROOTS},
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
        }
    }
    # One statement per account (PutPermission): an EventBusPolicy would replace the bus's whole policy.
    for account in CONSUMERS:
        permission = mocks.one("aws:cloudwatch/eventPermission:EventPermission", f"training-consumer-events-{account}")
        assert permission == {
            "eventBusName": "default",
            "principal": account,
            "action": "events:PutEvents",
            "statementId": f"mlops-dev-drift-alarms-from-{account}",
        }
    assert not [r for r in mocks.resources if r.typ == "aws:cloudwatch/eventBusPolicy:EventBusPolicy"]

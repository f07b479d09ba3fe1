"""Approval -> dev: the newest approved version above dev's pin is found in a moto registry, and its
metrics, lineage and approver are read for the pull request body; an unapproved package is refused."""

from __future__ import annotations

import json
import os
from unittest import mock

import boto3
import pytest
from moto import mock_aws

from tools.promote.approval import newest_approved
from tools.promote.lineage import approver_of, package_facts
from tools.promote.pull_request import dev_pull_request
from tools.promote.stack_file import CheckFailed

GROUP = "mlops-dev-churn"
EXECUTION = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlops-dev-training/execution/abc123"


class Steps:
    """list_pipeline_execution_steps, which moto 5.2.5 does not implement."""

    def __init__(self, client):
        self.client = client

    def __getattr__(self, name):
        return getattr(self.client, name)

    def list_pipeline_execution_steps(self, PipelineExecutionArn):
        job = "arn:aws:sagemaker:us-east-1:123456789012:training-job/train-abc123"
        return {
            "PipelineExecutionSteps": [{"StepName": "Train", "Metadata": {"TrainingJob": {"Arn": job}}}]
            if PipelineExecutionArn == EXECUTION
            else []
        }


@pytest.fixture
def registry():
    with mock.patch.dict(os.environ, {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}), mock_aws():
        sagemaker, s3 = boto3.client("sagemaker", region_name="us-east-1"), boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="art")
        s3.put_object(Bucket="art", Key="m/model.tar.gz", Body=b"weights", ChecksumAlgorithm="SHA256")
        s3.put_object(
            Bucket="art", Key="m/evaluation.json", Body=json.dumps({"binary_classification_metrics": {"auc": {"value": 0.91}}}).encode()
        )
        sagemaker.create_training_job(
            TrainingJobName="train-abc123",
            AlgorithmSpecification={"TrainingImage": "i", "TrainingInputMode": "File"},
            RoleArn="arn:aws:iam::123456789012:role/r",
            InputDataConfig=[
                {"ChannelName": "train", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://data/train/abc123"}}}
            ],
            OutputDataConfig={"S3OutputPath": "s3://art/out"},
            ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
            StoppingCondition={"MaxRuntimeInSeconds": 60},
        )
        sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)

        def register(status: str) -> str:
            spec = {
                "Containers": [
                    {
                        "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/m@sha256:" + "b" * 64,
                        "ModelDataUrl": "s3://art/m/model.tar.gz",
                    }
                ],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            }
            return sagemaker.create_model_package(
                ModelPackageGroupName=GROUP,
                ModelApprovalStatus=status,
                InferenceSpecification=spec,
                MetadataProperties={"GeneratedBy": EXECUTION},
                ModelMetrics={"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://art/m/evaluation.json"}}},
            )["ModelPackageArn"]

        yield sagemaker, s3, register


def test_the_newest_approved_version_above_dev_s_pin_is_chosen(registry):
    sagemaker, _, register = registry
    first, second, _pending = register("Approved"), register("Approved"), register("PendingManualApproval")
    assert newest_approved(sagemaker, GROUP, 1) == second
    assert newest_approved(sagemaker, GROUP, None) == second
    assert newest_approved(sagemaker, GROUP, 2) is None  # version 3 is not approved
    assert first.endswith("/1")


def test_the_dev_pull_request_shows_metrics_lineage_and_approver(registry):
    sagemaker, s3, register = registry
    arn = register("PendingManualApproval")
    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="looks good")
    facts = package_facts(Steps(sagemaker), s3, arn)
    assert facts.metrics == {"auc": 0.91} and facts.training_data == ["train: s3://data/train/abc123"]
    assert facts.image_digest == "sha256:" + "b" * 64 and facts.artifact_checksum.startswith("SHA-256 ")
    body = dev_pull_request(facts, None).body
    for text in (arn, EXECUTION, "s3://data/train/abc123", "| auc | 0.9100 |", "looks good", facts.approver, "absent -> 1"):
        assert text in body


def test_a_package_that_is_not_approved_opens_no_pull_request(registry):
    sagemaker, s3, register = registry
    with pytest.raises(CheckFailed, match="PendingManualApproval, not Approved"):
        package_facts(sagemaker, s3, register("PendingManualApproval"))


def test_the_approver_is_the_iam_identity_before_the_studio_user():
    both = {"LastModifiedBy": {"UserProfileName": "alice", "IamIdentity": {"Arn": "arn:aws:sts::1:assumed-role/approver/alice"}}}
    assert approver_of(both) == "arn:aws:sts::1:assumed-role/approver/alice"
    assert approver_of({"LastModifiedBy": {"UserProfileName": "alice"}}) == "alice"
    assert approver_of({}).startswith("unknown")

"""Approval -> dev: the newest approved version above dev's pin is found in a moto registry, and its
metrics, lineage and approver are read for the pull request body; an unapproved package is refused."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timezone
from unittest import mock

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws

from tools.promote.approval import newest_approved
from tools.promote.artifact import SHA256_KEY
from tools.promote.lineage import PackageFacts, approver_of, package_facts
from tools.promote.pull_request import dev_pull_request
from tools.promote.stack_file import CheckFailed, PromoteError

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

        def register(status: str, metadata: dict[str, str] | None = None) -> str:
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
                **({"CustomerMetadataProperties": metadata} if metadata else {}),
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
    digest = hashlib.sha256(b"weights").hexdigest()
    arn = register("PendingManualApproval", {SHA256_KEY: digest})
    # Given again: moto 5.2.5's update_model_package clears metadata it is not given (AWS keeps it).
    sagemaker.update_model_package(
        ModelPackageArn=arn,
        ModelApprovalStatus="Approved",
        ApprovalDescription="looks good",
        CustomerMetadataProperties={SHA256_KEY: digest},
    )
    facts = package_facts(Steps(sagemaker), s3, arn)
    assert facts.metrics == {"auc": 0.91} and facts.training_data == ["train: s3://data/train/abc123"]
    assert facts.image_digest == "sha256:" + "b" * 64
    # The digest the pipeline recorded, under the key `--verify prod` checks: what prod will insist on.
    assert facts.artifact_checksum == f"SHA-256 {digest} (recorded with the package, {SHA256_KEY})"
    body = dev_pull_request(facts, None).body
    for text in (arn, EXECUTION, "| auc | 0.9100 |", "looks good", facts.approver, "absent -> 1", digest, f"in `{GROUP}`"):
        assert text in body
    assert "  - `train: s3://data/train/abc123`" in body.splitlines()  # one bullet per input channel


def test_the_dev_pull_request_says_when_no_digest_was_recorded(registry):
    sagemaker, s3, register = registry
    arn = register("Approved")
    facts = package_facts(Steps(sagemaker), s3, arn)
    assert facts.artifact_checksum == f"no {SHA256_KEY} recorded with the package: `--verify prod` will refuse it"


def test_a_package_that_is_not_approved_opens_no_pull_request(registry):
    sagemaker, s3, register = registry
    with pytest.raises(CheckFailed, match="PendingManualApproval, not Approved"):
        package_facts(sagemaker, s3, register("PendingManualApproval"))


def test_the_approver_is_the_iam_identity_before_the_studio_user():
    both = {"LastModifiedBy": {"UserProfileName": "alice", "IamIdentity": {"Arn": "arn:aws:sts::1:assumed-role/approver/alice"}}}
    assert approver_of(both) == "arn:aws:sts::1:assumed-role/approver/alice"
    assert approver_of({"LastModifiedBy": {"UserProfileName": "alice"}}) == "alice"
    assert approver_of({}).startswith("unknown")


ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-dev-churn/7"


class Described:
    """DescribeModelPackage answering one recorded package, or failing as boto3 would."""

    def __init__(self, package: dict | None = None, error: Exception | None = None) -> None:
        self.package, self.error = package, error

    def describe_model_package(self, ModelPackageName):
        if self.error is not None:
            raise self.error
        return {"ModelPackageArn": ModelPackageName, **(self.package or {})}

    def list_pipeline_execution_steps(self, PipelineExecutionArn):
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}, "ListPipelineExecutionSteps")


def test_what_the_registry_did_not_record_is_shown_as_unknown_never_invented():
    # An approved package registered by hand: no version field, group, note, time, pipeline, image or metrics.
    facts = package_facts(Described({"ModelApprovalStatus": "Approved"}), None, ARN)
    assert facts == PackageFacts(
        arn=ARN,
        version=7,  # the registry's version is the ARN's last part
        group="",
        status="Approved",
        approver="unknown (the registry recorded no identity)",
        approval_note="",
        approved_at="",
        pipeline_execution="unknown (not registered by a pipeline execution)",
        image="",
        image_digest="not pinned by digest",
        artifact="",
    )


def test_each_fact_is_read_from_where_the_registry_keeps_it():
    # The image pushed by tag: the digest SageMaker resolved when the package was registered.
    container = {
        "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/m:latest",
        "ImageDigest": "sha256:" + "c" * 64,
        "ModelDataUrl": "s3://art/m/model.tar.gz",
    }
    package = {
        "ModelApprovalStatus": "Approved",
        "ModelPackageVersion": 7,
        "ModelPackageGroupName": GROUP,
        "ApprovalDescription": "looks good",
        "LastModifiedTime": datetime(2026, 12, 5, 9, 30, tzinfo=timezone.utc),
        "LastModifiedBy": {"UserProfileName": "alice"},
        "InferenceSpecification": {"Containers": [container]},
    }
    facts = package_facts(Described(package), None, ARN)
    assert (facts.version, facts.group, facts.approver, facts.approval_note, facts.approved_at) == (
        7,
        GROUP,
        "alice",
        "looks good",
        "2026-12-05 09:30:00+00:00",
    )
    assert (facts.image, facts.image_digest, facts.artifact) == (container["Image"], "sha256:" + "c" * 64, "s3://art/m/model.tar.gz")


@pytest.mark.parametrize(
    "sagemaker, error, message",
    [
        (
            Described(error=ClientError({"Error": {"Code": "ValidationException", "Message": "no such package"}}, "DescribeModelPackage")),
            CheckFailed,
            f"cannot describe {ARN}: no such package",
        ),
        (
            Described(error=EndpointConnectionError(endpoint_url="https://api.sagemaker.us-east-1.amazonaws.com")),
            PromoteError,
            f'cannot reach SageMaker to describe {ARN}: Could not connect to the endpoint URL: "https://api.sagemaker.us-east-1.amazonaws.com"',
        ),
        (Described({}), CheckFailed, f"{ARN} is unknown, not Approved: only an approved package opens the dev pull request"),
        (
            Described({"ModelApprovalStatus": "Approved", "MetadataProperties": {"GeneratedBy": EXECUTION}}),
            PromoteError,
            f"cannot read the lineage of {ARN}: An error occurred (AccessDeniedException) when calling the "
            "ListPipelineExecutionSteps operation: not authorized",
        ),
    ],
)
def test_each_refusal_names_the_package_and_what_aws_said(sagemaker, error, message):
    with pytest.raises(error) as raised:
        package_facts(sagemaker, None, ARN)
    assert str(raised.value) == message

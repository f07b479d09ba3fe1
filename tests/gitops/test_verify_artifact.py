"""`tools.promote --verify prod` fails closed and checks the model bytes (moto: SageMaker and S3).

What deploy.yml runs right before prod's update: dev's stack outputs are the only evidence of what
dev serves (no fallback to Pulumi.dev.yaml); the package is Approved; and its ModelDataUrl still
holds the bytes whose SHA-256 (and, in a versioned bucket, object version) the package recorded."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import boto3
import pytest
from gitops_workflows import ROOT
from moto import mock_aws

from tools.promote.cli import EXIT_OK, EXIT_REFUSED, main

GROUP = "mlops-dev-churn"
BUCKET = "mlops-dev-artifacts"
KEY = "models/churn/model.tar.gz"
BYTES = b"approved model bytes"
CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


@pytest.fixture
def stacks(tmp_path: Path) -> Path:
    """The real stack files, both pinning version 1 (whatever a promotion set)."""
    for stack in ("dev", "prod"):
        text = re.sub(r"(?m)^(\s+modelPackageVersion:) \S+$", r"\1 1", (ROOT / f"Pulumi.{stack}.yaml").read_text())
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(text)
    return tmp_path


@pytest.fixture
def aws(monkeypatch, tmp_path):
    for variable in CREDENTIALS:
        monkeypatch.setenv(variable, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.delenv("PULUMI", raising=False)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no `pulumi` anywhere: the backend cannot answer
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
        yield s3, sagemaker


def register(sagemaker, metadata: dict[str, str]) -> str:
    answer = sagemaker.create_model_package(
        ModelPackageGroupName=GROUP,
        ModelApprovalStatus="Approved",
        CustomerMetadataProperties=metadata,
        InferenceSpecification={
            "Containers": [
                {
                    "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-model@sha256:" + "0" * 64,
                    "ModelDataUrl": f"s3://{BUCKET}/{KEY}",
                }
            ],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
    )
    return answer["ModelPackageArn"]


def dev_outputs(tmp_path: Path, arn: str) -> str:
    path = tmp_path / "dev-outputs.json"
    path.write_text(json.dumps({"modelPackageArn": arn, "modelPackageVersion": int(arn.rsplit("/", 1)[1])}))
    return str(path)


def verify(stacks: Path, *args: str) -> int:
    return main(["--verify", "prod", "--stack-dir", str(stacks), *args])


def test_the_registered_bytes_verify(stacks, aws, tmp_path, capsys):
    s3, sagemaker = aws
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=BYTES)
    arn = register(sagemaker, {"ModelDataSha256": hashlib.sha256(BYTES).hexdigest()})
    assert verify(stacks, "--dev-outputs", dev_outputs(tmp_path, arn)) == EXIT_OK
    assert f"s3://{BUCKET}/{KEY} sha256 {hashlib.sha256(BYTES).hexdigest()}" in capsys.readouterr().out


def test_without_dev_s_outputs_verify_refuses_instead_of_trusting_the_dev_stack_file(stacks, aws, capsys):
    """Pulumi.dev.yaml pins the very version prod pins, and the package is fine: still refused,
    because a file says what dev should serve, not what it serves."""
    s3, sagemaker = aws
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=BYTES)
    register(sagemaker, {"ModelDataSha256": hashlib.sha256(BYTES).hexdigest()})
    assert verify(stacks) == EXIT_REFUSED
    err = capsys.readouterr().err
    assert err.startswith("refused: cannot read what dev serves") and "nothing is verified" in err


def test_bytes_overwritten_after_registration_are_refused(stacks, aws, tmp_path, capsys):
    s3, sagemaker = aws
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=BYTES)
    arn = register(sagemaker, {"ModelDataSha256": hashlib.sha256(BYTES).hexdigest()})
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"other bytes")
    assert verify(stacks, "--dev-outputs", dev_outputs(tmp_path, arn)) == EXIT_REFUSED
    err = capsys.readouterr().err
    assert f"now hashes to sha256 {hashlib.sha256(b'other bytes').hexdigest()}" in err and hashlib.sha256(BYTES).hexdigest() in err


def test_a_package_that_records_no_digest_is_refused(stacks, aws, tmp_path, capsys):
    s3, sagemaker = aws
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=BYTES)
    arn = register(sagemaker, {"Source": "pipeline"})
    assert verify(stacks, "--dev-outputs", dev_outputs(tmp_path, arn)) == EXIT_REFUSED
    assert "records no ModelDataSha256" in capsys.readouterr().err


def test_a_missing_object_is_refused(stacks, aws, tmp_path, capsys):
    _, sagemaker = aws
    arn = register(sagemaker, {"ModelDataSha256": hashlib.sha256(BYTES).hexdigest()})
    assert verify(stacks, "--dev-outputs", dev_outputs(tmp_path, arn)) == EXIT_REFUSED
    assert f"cannot read s3://{BUCKET}/{KEY}" in capsys.readouterr().err


def test_a_new_object_version_with_the_same_bytes_is_refused_when_the_version_was_recorded(stacks, aws, tmp_path, capsys):
    s3, sagemaker = aws
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=BUCKET, Key=KEY, Body=BYTES)["VersionId"]
    arn = register(sagemaker, {"ModelDataSha256": hashlib.sha256(BYTES).hexdigest(), "ModelDataVersionId": first})
    assert verify(stacks, "--dev-outputs", dev_outputs(tmp_path, arn)) == EXIT_OK
    second = s3.put_object(Bucket=BUCKET, Key=KEY, Body=BYTES)["VersionId"]
    assert verify(stacks, "--dev-outputs", dev_outputs(tmp_path, arn)) == EXIT_REFUSED
    assert f"is object version {second}, not the {first} recorded" in capsys.readouterr().err

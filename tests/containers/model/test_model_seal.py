"""containers/model seal: the evaluated model.tar.gz written once under the sealed prefix with
If-None-Match: *, its digest and S3 version reported for RegisterModel; a second write of other
bytes refused (S3's 412), a retry of the same bytes reported, a missing or different input refused."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from churn.errors import JobError
from churn.seal import REPORT_FILE, SHA256_METADATA_KEY, main, seal
from model_testkit import clean_env, run_entry
from moto import mock_aws

from components.training.definition.layout import (
    MODEL_DATA_SHA256_KEY,
    MODEL_DATA_VERSION_ID_KEY,
    SEAL_FILE,
    SEALED_SHA256_JSON_PATH,
    SEALED_VERSION_ID_JSON_PATH,
    sealed_model_prefix,
)

REGION = "eu-west-1"
BUCKET = "mlops-dev-artifacts"
KEY = f"{sealed_model_prefix('mlops-dev-training')}/exec-1/model.tar.gz"
DESTINATION = f"s3://{BUCKET}/{KEY}"
MODEL = b"\x1f\x8b model archive bytes " * 64


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        yield client


@pytest.fixture
def kms_key(s3: Any) -> str:
    return boto3.client("kms", region_name=REGION).create_key(Description="project key")["KeyMetadata"]["Arn"]


@pytest.fixture
def job_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """SageMaker's /opt/ml, with the model input in place as the processing input downloads it."""
    monkeypatch.setenv("SM_BASE_DIR", str(tmp_path))
    model = tmp_path / "processing" / "model"
    model.mkdir(parents=True)
    (model / "model.tar.gz").write_bytes(MODEL)
    return tmp_path


def argv(kms_key: str, expected: str = hashlib.sha256(MODEL).hexdigest(), destination: str = DESTINATION) -> list[str]:
    return ["--destination", destination, "--expected-sha256", expected, "--kms-key-id", kms_key, "--region", REGION]


def reason(job_dir: Path) -> str:
    return (job_dir / "output" / "message").read_text()


def versions(s3: Any) -> list[dict[str, Any]]:
    return s3.list_object_versions(Bucket=BUCKET, Prefix=KEY).get("Versions", [])


def json_get(report: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        report = report[part]
    return report


def test_the_model_is_sealed_once_with_its_digest_and_version_reported(s3: Any, kms_key: str, job_dir: Path, capsys):
    assert main(argv(kms_key)) == 0
    report = json.loads((job_dir / "processing" / "seal" / REPORT_FILE).read_text())
    [version] = versions(s3)
    digest = hashlib.sha256(MODEL).hexdigest()
    assert report == {"model_artifact": {"uri": DESTINATION, "sha256": digest, "version_id": version["VersionId"]}}
    # The paths RegisterModel's JsonGets read (the pipeline's constants) find exactly these values.
    assert REPORT_FILE == SEAL_FILE
    assert json_get(report, SEALED_SHA256_JSON_PATH) == digest and json_get(report, SEALED_VERSION_ID_JSON_PATH) == version["VersionId"]
    head = s3.head_object(Bucket=BUCKET, Key=KEY)
    assert s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read() == MODEL
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", kms_key)
    assert head["Metadata"] == {SHA256_METADATA_KEY: digest}
    assert f"sealed {DESTINATION} sha256 {digest} version {version['VersionId']}" in capsys.readouterr().out


def test_a_second_write_of_other_bytes_to_the_sealed_key_is_refused(s3: Any, kms_key: str, job_dir: Path):
    assert main(argv(kms_key)) == 0
    [first] = versions(s3)
    retrained = b"another model" * 10
    (job_dir / "processing" / "model" / "model.tar.gz").write_bytes(retrained)
    assert main(argv(kms_key, hashlib.sha256(retrained).hexdigest())) == 1
    message = reason(job_dir)
    assert message.startswith(f"seal failed: {DESTINATION} already holds other bytes (sha256 {hashlib.sha256(MODEL).hexdigest()}")
    assert "412 PreconditionFailed" in message and "never replaced" in message
    # S3 kept the sealed object: no new version, the same bytes.
    assert versions(s3) == [first] and s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read() == MODEL


def test_a_retried_step_finds_its_own_bytes_and_reports_them(s3: Any, kms_key: str, tmp_path: Path):
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(MODEL)
    expected = hashlib.sha256(MODEL).hexdigest()
    first = seal(s3, archive, DESTINATION, expected_sha256=expected, kms_key_id=kms_key)
    again = seal(s3, archive, DESTINATION, expected_sha256=expected, kms_key_id=kms_key)
    assert first.written and not again.written
    assert (again.uri, again.sha256, again.version_id) == (first.uri, first.sha256, first.version_id)
    assert len(versions(s3)) == 1


def test_bytes_other_than_the_evaluated_ones_are_not_sealed(s3: Any, kms_key: str, job_dir: Path):
    assert main(argv(kms_key, "0" * 64)) == 1
    assert f"hashes to sha256 {hashlib.sha256(MODEL).hexdigest()}, not the {'0' * 64} the Evaluate step computed" in reason(job_dir)
    assert versions(s3) == []


def test_a_conflicting_write_in_flight_is_retried(s3: Any, kms_key: str, tmp_path: Path):
    """409 ConditionalRequestConflict: AWS says to retry; the retry writes (or meets S3's 412)."""
    from botocore.exceptions import ClientError

    class Conflicting:
        def __init__(self, client: Any, conflicts: int) -> None:
            self.client, self.conflicts, self.calls = client, conflicts, 0

        def __getattr__(self, name: str) -> Any:
            return getattr(self.client, name)

        def put_object(self, **kwargs: Any) -> Any:
            self.calls += 1
            assert kwargs["IfNoneMatch"] == "*"
            if self.calls <= self.conflicts:
                raise ClientError({"Error": {"Code": "ConditionalRequestConflict", "Message": "conflict"}}, "PutObject")
            return self.client.put_object(**kwargs)

    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(MODEL)
    expected = hashlib.sha256(MODEL).hexdigest()
    once = Conflicting(s3, conflicts=1)
    assert seal(once, archive, DESTINATION, expected_sha256=expected, kms_key_id=kms_key).written and once.calls == 2
    with pytest.raises(JobError, match="ConditionalRequestConflict"):
        seal(Conflicting(s3, conflicts=3), archive, DESTINATION.replace("exec-1", "exec-2"), expected_sha256=expected, kms_key_id=kms_key)


def test_an_unversioned_bucket_is_refused_by_name(kms_key: str, tmp_path: Path):
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="unversioned", CreateBucketConfiguration={"LocationConstraint": REGION})
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(MODEL)
    with pytest.raises(JobError, match="no version id .* the artifact bucket must be versioned"):
        seal(s3, archive, "s3://unversioned/m/model.tar.gz", expected_sha256=hashlib.sha256(MODEL).hexdigest(), kms_key_id=kms_key)


def test_the_sealed_object_is_what_verify_prod_accepts_and_an_overwrite_is_caught(s3: Any, kms_key: str, job_dir: Path):
    """RegisterModel records the report's digest and version under the keys `--verify prod` reads.
    moto enforces no bucket policy, so an unconditional overwrite lands here: --verify refuses it."""
    from tools.promote.artifact import check_artifact
    from tools.promote.stack_file import CheckFailed

    assert main(argv(kms_key)) == 0
    report = json.loads((job_dir / "processing" / "seal" / REPORT_FILE).read_text())
    package = {
        "ModelPackageVersion": 4,
        "CustomerMetadataProperties": {
            MODEL_DATA_SHA256_KEY: json_get(report, SEALED_SHA256_JSON_PATH),
            MODEL_DATA_VERSION_ID_KEY: json_get(report, SEALED_VERSION_ID_JSON_PATH),
        },
        "InferenceSpecification": {"Containers": [{"ModelDataUrl": json_get(report, "model_artifact.uri")}]},
    }
    session = boto3.Session(region_name=REGION)
    assert check_artifact(package, session) == f"{DESTINATION} sha256 {hashlib.sha256(MODEL).hexdigest()}"
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=MODEL)  # the same bytes, written again without If-None-Match
    with pytest.raises(CheckFailed, match="is object version .*, not the .* recorded with the package"):
        check_artifact(package, session)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "seal failed: no model.tar.gz at "),
        (["--expected-sha256", "abc"], "--expected-sha256 'abc' is not a SHA-256 (64 hex digits)"),
        (["--destination", "s3:/no-bucket"], "--destination is not an s3://bucket/key URI: 's3:/no-bucket'"),
        (["--kms-key-id", " "], "--kms-key-id is empty"),
    ],
)
def test_bad_input_fails_the_job_with_the_reason_and_no_traceback(tmp_path: Path, args: list[str], message: str):
    """As SageMaker starts it (bin/seal, its own process): no archive in the model input, or bad arguments."""
    options = dict(zip(argv("arn:aws:kms:eu-west-1:123456789012:key/k")[::2], argv("arn:aws:kms:eu-west-1:123456789012:key/k")[1::2]))
    options.update(zip(args[::2], args[1::2]))
    (tmp_path / "processing" / "model").mkdir(parents=True)
    env = clean_env(SM_BASE_DIR=str(tmp_path), AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    done = run_entry("seal", env, *[item for pair in options.items() for item in pair])
    assert done.returncode == 1, done.stderr
    assert message in (tmp_path / "output" / "message").read_text()
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "processing" / "seal").exists()

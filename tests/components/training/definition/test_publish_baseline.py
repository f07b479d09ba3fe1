"""containers/model publish-baseline: copy a version's baseline under its number, once, with SSE-KMS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pipeline_testkit import MODEL_ROOT

from churn.errors import JobError
from churn.publish_baseline import (
    MODEL_PACKAGE_ARN_KEY,
    SOURCE_ETAG_KEY,
    SOURCE_URI_KEY,
    main,
    parse_model_package_arn,
    publish_baseline,
)
from components.training.definition.definition import baseline_prefix, baseline_uris

REGION = "eu-west-1"
BUCKET = "mlops-dev-artifacts"
GROUP = "Mlops-Dev-Churn"  # mixed case: SageMaker lower-cases it inside the ARN
ARN = f"arn:aws:sagemaker:{REGION}:123456789012:model-package/{GROUP.lower()}/12"
RUN = f"s3://{BUCKET}/pipelines/mlops-dev-training/exec-1/data-quality-baseline"
STATISTICS = {"version": 0.0, "dataset": {"item_count": 700}, "features": [{"name": "tenure_months"}]}
CONSTRAINTS = {"version": 0.0, "features": [{"name": "tenure_months", "inferred_type": "Integral"}]}


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        client.put_object(Bucket=BUCKET, Key=f"{RUN.split(BUCKET + '/')[1]}/statistics.json", Body=json.dumps(STATISTICS).encode())
        client.put_object(Bucket=BUCKET, Key=f"{RUN.split(BUCKET + '/')[1]}/constraints.json", Body=json.dumps(CONSTRAINTS).encode())
        yield client


@pytest.fixture
def kms_key(s3: Any) -> str:
    return boto3.client("kms", region_name=REGION).create_key(Description="project key")["KeyMetadata"]["Arn"]


def publish(s3: Any, kms_key: str, **overrides: str) -> list[Any]:
    values = dict(
        model_package_arn=ARN,
        model_package_group=GROUP,
        statistics_uri=f"{RUN}/statistics.json",
        constraints_uri=f"{RUN}/constraints.json",
        destination_prefix=baseline_prefix(BUCKET, GROUP),
        kms_key_id=kms_key,
    )
    values.update(overrides)
    return publish_baseline(s3, **values)


def read(s3: Any, uri: str) -> tuple[dict[str, Any], dict[str, Any]]:
    bucket, key = uri[len("s3://") :].split("/", 1)
    response = s3.get_object(Bucket=bucket, Key=key)
    return json.loads(response["Body"].read()), response


def test_parses_the_version_out_of_the_arn() -> None:
    package = parse_model_package_arn(ARN)
    assert (package.region, package.group, package.version) == (REGION, GROUP.lower(), 12)
    for bad in (
        f"arn:aws:sagemaker:{REGION}:123456789012:model-package/{GROUP}",  # unversioned
        f"arn:aws:sagemaker:{REGION}:123456789012:model-package-group/{GROUP}",
        f"arn:aws:sagemaker:{REGION}:123456789012:model-package/{GROUP}/0",
        "model-package/x/1",
    ):
        with pytest.raises(JobError, match="not a versioned model package ARN"):
            parse_model_package_arn(bad)


def test_copies_both_files_to_the_versioned_prefix_with_kms(s3: Any, kms_key: str) -> None:
    results = publish(s3, kms_key)
    statistics_uri, constraints_uri = baseline_uris(BUCKET, GROUP, 12)
    assert [(r.destination, r.copied) for r in results] == [(statistics_uri, True), (constraints_uri, True)]
    for uri, expected, source in ((statistics_uri, STATISTICS, "statistics"), (constraints_uri, CONSTRAINTS, "constraints")):
        body, response = read(s3, uri)
        assert body == expected
        assert response["ServerSideEncryption"] == "aws:kms"
        assert response["SSEKMSKeyId"] == kms_key
        assert response["ContentType"] == "application/json"
        assert response["Metadata"][SOURCE_URI_KEY] == f"{RUN}/{source}.json"
        assert response["Metadata"][MODEL_PACKAGE_ARN_KEY] == ARN


def test_is_idempotent(s3: Any, kms_key: str) -> None:
    first = publish(s3, kms_key)
    _, before = read(s3, first[0].destination)
    second = publish(s3, kms_key)
    assert [r.copied for r in second] == [False, False]
    _, after = read(s3, first[0].destination)
    assert after["LastModified"] == before["LastModified"]
    assert after["Metadata"][SOURCE_ETAG_KEY] == before["Metadata"][SOURCE_ETAG_KEY]


def test_never_replaces_a_versions_baseline_with_another(s3: Any, kms_key: str) -> None:
    publish(s3, kms_key)
    s3.put_object(Bucket=BUCKET, Key="pipelines/mlops-dev-training/exec-2/statistics.json", Body=b"{}")
    with pytest.raises(JobError, match="already holds a different baseline .*never replaced"):
        publish(s3, kms_key, statistics_uri=f"s3://{BUCKET}/pipelines/mlops-dev-training/exec-2/statistics.json")
    body, _ = read(s3, baseline_uris(BUCKET, GROUP, 12)[0])
    assert body == STATISTICS


def test_missing_source_is_a_clear_error(s3: Any, kms_key: str) -> None:
    with pytest.raises(JobError, match=r"baseline file s3://.*/nope/statistics.json does not exist"):
        publish(s3, kms_key, statistics_uri=f"s3://{BUCKET}/nope/statistics.json")


def test_access_errors_name_the_object(s3: Any, kms_key: str) -> None:
    with pytest.raises(JobError, match=r"cannot read s3://no-such-bucket-here/statistics.json: NoSuchBucket \(.+\)"):
        publish(s3, kms_key, statistics_uri="s3://no-such-bucket-here/statistics.json")


def test_arn_of_another_group_is_refused(s3: Any, kms_key: str) -> None:
    with pytest.raises(JobError, match="belongs to group 'other-group', not 'Mlops-Dev-Churn'"):
        publish(s3, kms_key, model_package_arn=ARN.replace(GROUP.lower(), "other-group"))
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="baselines/")


def test_main_reports_a_failure_reason_for_sagemaker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SM_BASE_DIR", str(tmp_path))
    argv = [
        "--model-package-arn",
        "arn:aws:sagemaker:eu-west-1:123456789012:model-package-group/x",
        "--model-package-group",
        "x",
        "--statistics-uri",
        f"{RUN}/statistics.json",
        "--constraints-uri",
        f"{RUN}/constraints.json",
        "--destination-prefix",
        f"s3://{BUCKET}/baselines/x",
        "--kms-key-id",
        "alias/project",
    ]
    assert main(argv) == 1
    reason = (tmp_path / "output" / "message").read_text()
    assert reason.startswith("publish-baseline failed: not a versioned model package ARN")


def test_the_image_entry_point_runs_the_module(tmp_path: Path) -> None:
    """bin/publish-baseline (what ContainerEntrypoint names) reaches main() and reports failures."""
    script = MODEL_ROOT / "bin" / "publish-baseline"
    assert os.access(script, os.X_OK)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"SM_BASE_DIR": str(tmp_path)}
    result = subprocess.run(
        [
            sys.executable,
            str(script),
            "--model-package-arn",
            "not-an-arn",
            "--model-package-group",
            "g",
            "--statistics-uri",
            "s3://b/s.json",
            "--constraints-uri",
            "s3://b/c.json",
            "--destination-prefix",
            "s3://b/baselines/g",
            "--kms-key-id",
            "k",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert "not a versioned model package ARN" in (tmp_path / "output" / "message").read_text()

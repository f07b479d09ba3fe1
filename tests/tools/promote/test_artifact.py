"""What a package records about its model bytes, and each refusal of a package whose bytes cannot be
checked, word for word: the deploy prints them to whoever has to fix the package (the checks against
S3 itself are in tests/gitops/test_verify_artifact.py, on moto)."""

from __future__ import annotations

from typing import Any

import pytest

from tools.promote.artifact import SHA256_KEY, VERSION_ID_KEY, recorded_artifacts
from tools.promote.stack_file import CheckFailed

ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-dev-churn/7"
URL = "s3://mlops-dev-artifacts/models/churn/model.tar.gz"
DIGEST = "ab" * 32


def package(*urls: str, **metadata: str) -> dict[str, Any]:
    """A package as DescribeModelPackage answers, without ModelPackageVersion (the ARN says it)."""
    containers = [{"Image": "model", **({"ModelDataUrl": url} if url else {})} for url in urls]
    return {"ModelPackageArn": ARN, "InferenceSpecification": {"Containers": containers}, "CustomerMetadataProperties": metadata}


def test_the_recorded_digest_and_object_version_are_read_as_recorded():
    recorded = package(URL, **{SHA256_KEY: DIGEST.upper(), VERSION_ID_KEY: "v3"})
    assert recorded_artifacts(recorded) == [(URL, DIGEST, "v3")]  # a digest's hex case is no difference
    assert recorded_artifacts(package(URL, **{SHA256_KEY: DIGEST})) == [(URL, DIGEST, "")]  # an unversioned bucket


@pytest.mark.parametrize(
    "described, message",
    [
        (package(""), "model package version 7 names no ModelDataUrl: there are no model bytes to check"),
        (
            package(URL, URL.replace("churn", "other"), **{SHA256_KEY: DIGEST}),
            "model package version 7 has 2 containers with model data; one recorded digest cannot cover them",
        ),
        (
            package(URL, **{SHA256_KEY: "not-a-digest"}),
            f"model package version 7 records no {SHA256_KEY} (CustomerMetadataProperties): the bytes prod would serve "
            f"cannot be checked; record the SHA-256 of {URL} with the package (docs/promotion.md, 'Model bytes')",
        ),
    ],
)
def test_a_package_whose_bytes_cannot_be_checked_is_refused_naming_its_version(described, message):
    with pytest.raises(CheckFailed) as refused:
        recorded_artifacts(described)
    assert str(refused.value) == message

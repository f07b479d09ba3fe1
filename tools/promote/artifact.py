"""The bytes behind a model package: the SHA-256 recorded with the package, re-computed from what
its ModelDataUrl serves now (`--verify prod`, right before prod's update).

SageMaker reads a package's ModelDataUrl again whenever it starts an instance (a scale-out, a
blue/green release, a host replacement), so an object overwritten after approval would reach prod
without any promotion. The digest of the approved bytes is recorded with the package, in its
CustomerMetadataProperties (`ModelDataSha256`, and `ModelDataVersionId` where the bucket is
versioned): the pipeline's RegisterModel step records the digest and object version its SealModel
step wrote under the sealed prefix, where the bucket policy refuses any overwrite
(components/training/definition/steps.py); an approver may record them for a package registered
otherwise (docs/promotion.md, "Model bytes"). This module refuses a package that records none, whose
object cannot be read, or whose object hashes to anything else: the check that still holds if the
bucket policy is ever loosened.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Mapping

from components.training.definition.layout import MODEL_DATA_SHA256_KEY, MODEL_DATA_VERSION_ID_KEY
from tools.promote.stack_file import CheckFailed, PromoteError

# The keys the training pipeline writes at registration: one name for both ends.
SHA256_KEY = MODEL_DATA_SHA256_KEY
VERSION_ID_KEY = MODEL_DATA_VERSION_ID_KEY
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 8 * 1024 * 1024


def _version(described: Mapping[str, Any]) -> str:
    """The package's version for messages: the registry's, else its ARN's last part (DescribeModelPackage
    always answers the ARN)."""
    return str(described.get("ModelPackageVersion") or described["ModelPackageArn"].rsplit("/", 1)[-1])


def _bucket_and_key(url: str, version: str) -> tuple[str, str]:
    if not url.startswith("s3://") or "/" not in url[5:]:
        raise CheckFailed(f"model package version {version}: ModelDataUrl {url!r} is not an s3://bucket/key URL")
    bucket, key = url[5:].split("/", 1)
    return bucket, key


def recorded_artifacts(described: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(ModelDataUrl, sha256, version id or '') for each container that has model data."""
    version = _version(described)
    metadata = described.get("CustomerMetadataProperties") or {}
    containers = (described.get("InferenceSpecification") or {}).get("Containers") or []
    urls = [c["ModelDataUrl"] for c in containers if c.get("ModelDataUrl")]
    if not urls:
        raise CheckFailed(f"model package version {version} names no ModelDataUrl: there are no model bytes to check")
    if len(urls) > 1:
        raise CheckFailed(
            f"model package version {version} has {len(urls)} containers with model data; one recorded digest cannot cover them"
        )
    digest = str(metadata.get(SHA256_KEY, "")).lower()
    if not _SHA256.match(digest):
        raise CheckFailed(
            f"model package version {version} records no {SHA256_KEY} (CustomerMetadataProperties): the bytes prod would serve "
            f"cannot be checked; record the SHA-256 of {urls[0]} with the package (docs/promotion.md, 'Model bytes')"
        )
    return [(urls[0], digest, str(metadata.get(VERSION_ID_KEY, "")))]


def check_artifact(described: Mapping[str, Any], session: Any) -> str:
    """Raise CheckFailed unless ModelDataUrl serves exactly the recorded bytes; return a one-line fact."""
    from botocore.exceptions import BotoCoreError, ClientError

    version = _version(described)
    facts = []
    for url, expected, version_id in recorded_artifacts(described):
        bucket, key = _bucket_and_key(url, version)
        s3 = session.client("s3")
        try:
            # The current object: what SageMaker downloads at the next instance start.
            answer = s3.get_object(Bucket=bucket, Key=key)
            digest = hashlib.sha256()
            for chunk in answer["Body"].iter_chunks(_CHUNK):
                digest.update(chunk)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise CheckFailed(
                f"model package version {version}: cannot read {url} to check its bytes ({error.get('Code')}: {error.get('Message', '')})"
            ) from None
        except BotoCoreError as exc:
            raise PromoteError(f"model package version {version}: cannot reach S3 to check {url}: {exc}") from None
        actual = digest.hexdigest()
        if actual != expected:
            raise CheckFailed(
                f"model package version {version}: {url} now hashes to sha256 {actual}, not the {expected} recorded with the "
                "package; the model bytes changed after registration: register and approve a new version instead"
            )
        served_version = answer.get("VersionId") or ""
        if version_id and served_version != version_id:
            raise CheckFailed(
                f"model package version {version}: {url} is object version {served_version or 'unversioned'}, not the "
                f"{version_id} recorded with the package"
            )
        facts.append(f"{url} sha256 {actual}")
    return "; ".join(facts)

"""Processing entry point: publish a registered version's data-quality baseline under its version number.

The training pipeline's PublishBaseline step runs this right after RegisterModel. The baseline step
wrote `statistics.json` and `constraints.json` under a per-execution prefix; the endpoint only knows
the model package version it serves, so this copies both files to

    <destination-prefix>/<version>/statistics.json
    <destination-prefix>/<version>/constraints.json

(`s3://<artifact bucket>/baselines/<model package group>/<version>/`, the layout
components.training.definition.definition.baseline_uris describes), encrypted with the given KMS key.

Idempotent: each copy records its source (URI and ETag) in the object's metadata; a retry finds
the same source and does nothing. A version's baseline is never replaced by a different one.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from dataclasses import dataclass
from typing import Any

from churn import paths
from churn.errors import JobError
from churn.jobs import run_job
from churn.s3 import call_failed, error_code, parse_s3_uri, s3_client

log = logging.getLogger("churn.publish_baseline")

STATISTICS_FILE = "statistics.json"
CONSTRAINTS_FILE = "constraints.json"
# Metadata keys on the published objects (S3 stores them as x-amz-meta-<key>).
SOURCE_URI_KEY = "source-uri"
SOURCE_ETAG_KEY = "source-etag"
MODEL_PACKAGE_ARN_KEY = "model-package-arn"
# CopyObject copies at most 5 GB in one request; a Model Monitor baseline is a few hundred KB.
MAX_COPY_BYTES = 5 * 1024**3

_MODEL_PACKAGE_ARN = re.compile(
    r"^arn:aws[a-z-]*:sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"model-package/(?P<group>[A-Za-z0-9](?:-*[A-Za-z0-9]){0,62})/(?P<version>[1-9][0-9]*)$"
)


@dataclass(frozen=True)
class ModelPackageVersion:
    region: str
    group: str
    version: int


@dataclass(frozen=True)
class Published:
    source: str
    destination: str
    copied: bool  # False: the destination already held this very source (a retry)


def parse_model_package_arn(arn: str) -> ModelPackageVersion:
    """`arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>` -> its parts."""
    match = _MODEL_PACKAGE_ARN.match(arn.strip())
    if not match:
        raise JobError(
            f"not a versioned model package ARN: {arn!r} (expected arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>)"
        )
    return ModelPackageVersion(match["region"], match["group"], int(match["version"]))


def destination_uris(destination_prefix: str, version: int) -> tuple[str, str]:
    """(statistics, constraints) URIs of `version` under `destination_prefix`."""
    bucket, prefix = parse_s3_uri(destination_prefix.rstrip("/") + "/", "--destination-prefix")
    root = f"s3://{bucket}/{prefix.strip('/')}/{version}"
    return f"{root}/{STATISTICS_FILE}", f"{root}/{CONSTRAINTS_FILE}"


def _head(s3: Any, uri: str) -> dict[str, Any] | None:
    """HeadObject, or None when the object does not exist."""
    from botocore.exceptions import ClientError

    bucket, key = parse_s3_uri(uri, "object")
    try:
        return s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error_code(error) in ("404", "NoSuchKey", "NotFound"):
            return None
        raise call_failed("read", uri, error) from None


def publish_object(s3: Any, source: str, destination: str, kms_key_id: str, model_package_arn: str) -> Published:
    from botocore.exceptions import ClientError

    source_head = _head(s3, source)
    if source_head is None:
        raise JobError(f"the baseline file {source} does not exist (did the baseline step write it?)")
    if source_head["ContentLength"] > MAX_COPY_BYTES:
        raise JobError(f"{source} is {source_head['ContentLength']} bytes; a baseline file over 5 GB is not a baseline")
    source_etag = source_head["ETag"].strip('"')

    existing = _head(s3, destination)
    if existing is not None:
        metadata = existing.get("Metadata", {})
        if metadata.get(SOURCE_URI_KEY) == source and metadata.get(SOURCE_ETAG_KEY) == source_etag:
            log.info("%s already holds %s (ETag %s): nothing to do", destination, source, source_etag)
            return Published(source, destination, copied=False)
        raise JobError(
            f"{destination} already holds a different baseline (from {metadata.get(SOURCE_URI_KEY, 'an unknown source')}); "
            "a model package version's baseline is never replaced"
        )

    source_bucket, source_key = parse_s3_uri(source, "baseline file")
    bucket, key = parse_s3_uri(destination, "destination")
    try:
        s3.copy_object(
            Bucket=bucket,
            Key=key,
            CopySource={"Bucket": source_bucket, "Key": source_key},
            # Only the version the ETag was read from: a concurrent overwrite makes the copy fail.
            CopySourceIfMatch=source_head["ETag"],
            MetadataDirective="REPLACE",
            ContentType="application/json",
            Metadata={SOURCE_URI_KEY: source, SOURCE_ETAG_KEY: source_etag, MODEL_PACKAGE_ARN_KEY: model_package_arn},
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=kms_key_id,
        )
    except ClientError as error:
        raise call_failed(f"copy {source} to", destination, error) from None
    log.info("copied %s to %s", source, destination)
    return Published(source, destination, copied=True)


def publish_baseline(
    s3: Any,
    *,
    model_package_arn: str,
    model_package_group: str,
    statistics_uri: str,
    constraints_uri: str,
    destination_prefix: str,
    kms_key_id: str,
) -> list[Published]:
    """Copy both baseline files under `<destination_prefix>/<version>/`; return what happened."""
    package = parse_model_package_arn(model_package_arn)
    # SageMaker lower-cases the group name inside model package ARNs.
    if package.group.lower() != model_package_group.lower():
        raise JobError(f"{model_package_arn} belongs to group {package.group!r}, not {model_package_group!r}")
    if not kms_key_id.strip():
        raise JobError("--kms-key-id is empty: the baseline is published with SSE-KMS only")
    statistics_destination, constraints_destination = destination_uris(destination_prefix, package.version)
    return [
        publish_object(s3, statistics_uri, statistics_destination, kms_key_id, model_package_arn),
        publish_object(s3, constraints_uri, constraints_destination, kms_key_id, model_package_arn),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="publish-baseline", description=__doc__.splitlines()[0])
    parser.add_argument("--model-package-arn", required=True, help="the version RegisterModel created")
    parser.add_argument("--model-package-group", required=True, help="its group, as configured (checked against the ARN)")
    parser.add_argument("--statistics-uri", required=True, help="s3:// URI of the baseline's statistics.json")
    parser.add_argument("--constraints-uri", required=True, help="s3:// URI of the baseline's constraints.json")
    parser.add_argument("--destination-prefix", required=True, help="s3://<bucket>/baselines/<group>: <version>/ is appended")
    parser.add_argument("--kms-key-id", required=True, help="KMS key (ARN or id) the published objects are encrypted with")
    args = parser.parse_args(argv)

    def job() -> None:
        package = parse_model_package_arn(args.model_package_arn)
        results = publish_baseline(
            s3_client(package.region, "publish-baseline"),
            model_package_arn=args.model_package_arn,
            model_package_group=args.model_package_group,
            statistics_uri=args.statistics_uri,
            constraints_uri=args.constraints_uri,
            destination_prefix=args.destination_prefix,
            kms_key_id=args.kms_key_id,
        )
        for result in results:
            print(f"{'published' if result.copied else 'already published'} {result.destination}", flush=True)

    return run_job("publish-baseline", job, paths.processing_message_file())


if __name__ == "__main__":
    sys.exit(main())

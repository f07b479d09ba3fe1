"""Processing entry point: seal the evaluated model.tar.gz under a key no one can overwrite.

The training pipeline's SealModel step runs this once the AUC gate has passed, before RegisterModel.
SageMaker writes a training job's model.tar.gz without `If-None-Match`, so that object could be
replaced later and an endpoint would load the new bytes at its next instance start. This job copies
the archive it received (the training job's output, downloaded as it is) to

    s3://<artifact bucket>/pipelines/<pipeline>/registered/<execution id>/model.tar.gz

with `PutObject` and `If-None-Match: *`: S3 writes it only if the key has no current object, and the
artifact bucket's policy refuses every write under that prefix that does not carry the header and
every delete there (components/training/access.py), so the object, once written, stays. RegisterModel
names that URI and records the SHA-256 and the S3 version id this job reports in `seal.json`.

It seals only the bytes that were evaluated: `--expected-sha256` is the digest the Evaluate step
computed of its own copy, and any other bytes are refused. The upload carries the SHA-256 as its
checksum, so S3 refuses bytes that changed on the way.

A retried step finds its own object: when S3 answers 412 (PreconditionFailed: the key exists), the
object is read back; the same bytes are reported as sealed, anything else fails the job.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from churn import paths
from churn.archive import ARCHIVE, archive_sha256
from churn.errors import JobError
from churn.jobs import run_job
from churn.s3 import call_failed, error_code, parse_s3_uri, s3_client

log = logging.getLogger("churn.seal")

REPORT_FILE = "seal.json"
# One PutObject carries at most 5 GB. A multipart upload cannot be sealed here: its UploadPart
# requests carry no If-None-Match, and the bucket policy refuses unconditional writes (AWS:
# "Enforce conditional writes on Amazon S3 buckets").
MAX_PUT_BYTES = 5 * 1024**3
# 409 ConditionalRequestConflict: another write to the key was in flight; AWS says to retry.
ATTEMPTS = 3
# The sealed key's metadata (x-amz-meta-sha256): for a person reading the object, not for a check.
SHA256_METADATA_KEY = "sha256"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class Sealed:
    uri: str
    sha256: str
    version_id: str
    written: bool  # False: the key already held these very bytes (a retried step)

    def report(self) -> dict[str, Any]:
        """seal.json: the pipeline reads `model_artifact.sha256` and `model_artifact.version_id`."""
        return {"model_artifact": {"uri": self.uri, "sha256": self.sha256, "version_id": self.version_id}}


def _object_sha256(s3: Any, bucket: str, key: str, uri: str) -> tuple[str, str]:
    """(SHA-256, version id) of the object the key holds now."""
    from botocore.exceptions import ClientError

    try:
        answer = s3.get_object(Bucket=bucket, Key=key)
        digest = hashlib.sha256()
        for chunk in answer["Body"].iter_chunks(_CHUNK):
            digest.update(chunk)
    except ClientError as error:
        raise call_failed("read back", uri, error) from None
    return digest.hexdigest(), str(answer.get("VersionId") or "")


def _put_once(s3: Any, archive: Path, bucket: str, key: str, digest: str, kms_key_id: str) -> dict[str, Any]:
    with archive.open("rb") as body:
        return s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            IfNoneMatch="*",
            ChecksumSHA256=base64.b64encode(bytes.fromhex(digest)).decode("ascii"),
            ContentType="application/gzip",
            Metadata={SHA256_METADATA_KEY: digest},
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=kms_key_id,
        )


def seal(s3: Any, archive: Path, destination: str, *, expected_sha256: str, kms_key_id: str) -> Sealed:
    """Write `archive` to `destination` once (If-None-Match: *); return what the key holds."""
    from botocore.exceptions import ClientError

    expected = expected_sha256.strip().lower()
    if not _SHA256.match(expected):
        raise JobError(f"--expected-sha256 {expected_sha256!r} is not a SHA-256 (64 hex digits): the Evaluate step's digest is required")
    if not kms_key_id.strip():
        raise JobError("--kms-key-id is empty: the model is sealed with SSE-KMS only")
    bucket, key = parse_s3_uri(destination, "--destination")
    if not archive.is_file():
        raise JobError(f"no {ARCHIVE} at {archive}: the step's `model` input is the training job's model artifact")
    size = archive.stat().st_size
    if size > MAX_PUT_BYTES:
        raise JobError(
            f"{archive} is {size} bytes; one conditional PutObject carries at most 5 GB, and the sealed prefix takes no other write"
        )
    digest = archive_sha256(archive)
    if digest != expected:
        raise JobError(
            f"{archive} hashes to sha256 {digest}, not the {expected} the Evaluate step computed: "
            "the training output changed after it was evaluated; it is not sealed"
        )
    attempt = 1
    while True:
        try:
            answer = _put_once(s3, archive, bucket, key, digest, kms_key_id)
        except ClientError as error:
            code = error_code(error)
            if code == "ConditionalRequestConflict" and attempt < ATTEMPTS:
                log.warning("another write to %s was in flight (409); trying again", destination)
                attempt += 1
                continue
            if code != "PreconditionFailed":
                raise call_failed("seal the model at", destination, error) from None
            held, version = _object_sha256(s3, bucket, key, destination)
            if held != digest:
                raise JobError(
                    f"{destination} already holds other bytes (sha256 {held}, version {version or 'unversioned'}): S3 refused to "
                    "overwrite it (412 PreconditionFailed), and a sealed model is never replaced; this run's model is not registered"
                ) from None
            log.info("%s already holds these bytes (a retried step): nothing to write", destination)
            return Sealed(destination, digest, _required_version(version, destination), written=False)
        log.info("sealed %s (sha256 %s)", destination, digest)
        return Sealed(destination, digest, _required_version(str(answer.get("VersionId") or ""), destination), written=True)


def _required_version(version: str, destination: str) -> str:
    """The package records the object version `--verify prod` insists on: no version, no seal."""
    if not version:
        raise JobError(f"S3 returned no version id for {destination}: the artifact bucket must be versioned (SecureBucket's default)")
    return version


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="seal", description=__doc__.splitlines()[0])
    parser.add_argument("--destination", required=True, help="s3:// URI of the sealed model.tar.gz (written once)")
    parser.add_argument("--expected-sha256", required=True, help="the SHA-256 the Evaluate step computed of the model it scored")
    parser.add_argument("--kms-key-id", required=True, help="KMS key (ARN or id) the sealed object is encrypted with")
    parser.add_argument("--region", required=True, help="the artifact bucket's region")
    args = parser.parse_args(argv)

    def job() -> None:
        sealed = seal(
            s3_client(args.region, "seal"),
            paths.processing_dir("model") / ARCHIVE,
            args.destination,
            expected_sha256=args.expected_sha256,
            kms_key_id=args.kms_key_id,
        )
        output = paths.processing_dir("seal")
        output.mkdir(parents=True, exist_ok=True)
        (output / REPORT_FILE).write_text(json.dumps(sealed.report(), indent=2) + "\n", encoding="utf-8")
        print(
            f"{'sealed' if sealed.written else 'already sealed'} {sealed.uri} sha256 {sealed.sha256} version {sealed.version_id}",
            flush=True,
        )

    return run_job("seal", job, paths.processing_message_file())


if __name__ == "__main__":
    sys.exit(main())

"""S3 for the processing entry points that call it themselves (publish-baseline, seal): URIs,
the client, and a failed call told as one line."""

from __future__ import annotations

import re
from typing import Any

from churn.errors import JobError

_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.+)$")


def parse_s3_uri(uri: str, what: str) -> tuple[str, str]:
    """`s3://bucket/key` -> (bucket, key); anything else is a JobError naming `what`."""
    match = _S3_URI.match(uri.strip())
    if not match:
        raise JobError(f"{what} is not an s3://bucket/key URI: {uri!r}")
    return match["bucket"], match["key"]


def error_code(error: Any) -> str:
    """The S3 error code of a botocore ClientError (`PreconditionFailed`, `NoSuchKey`, ...)."""
    response = getattr(error, "response", {}) or {}
    return str(response.get("Error", {}).get("Code") or type(error).__name__)


def call_failed(action: str, uri: str, error: Any) -> JobError:
    """`cannot <action> <uri>: <code> (<message>)`."""
    response = getattr(error, "response", {}) or {}
    message = response.get("Error", {}).get("Message") or str(error)
    return JobError(f"cannot {action} {uri}: {error_code(error)} ({message})")


def s3_client(region: str, job: str) -> Any:
    try:
        import boto3
    except ImportError:
        raise JobError(f"boto3 is not installed in this image; {job} needs it to call S3") from None
    return boto3.client("s3", region_name=region)

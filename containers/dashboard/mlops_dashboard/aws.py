"""boto3 clients shared by every session, and the one error type pages show to users.

Clients are created once per process (`st.cache_resource`): building one costs tens of
milliseconds and they are thread-safe, while Streamlit runs each session's script on its own thread.
Every call to AWS goes through `translate_errors`, which turns botocore's exceptions into an
`AwsError` whose message says what the dashboard was doing, what went wrong and what to check —
the page prints that message instead of a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import streamlit as st
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ReadTimeoutError,
)

log = logging.getLogger(__name__)

# A dashboard must answer quickly or say why not: fail a dead connection in seconds and retry
# throttling a few times (standard mode backs off), rather than hang a page for a minute.
CLIENT_CONFIG = Config(
    connect_timeout=3,
    read_timeout=10,
    retries={"mode": "standard", "max_attempts": 3},
    user_agent_extra="sagemaker-mlops-dashboard",
)

_ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Forbidden"}
_BAD_CREDENTIALS = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
}
_THROTTLED = {"Throttling", "ThrottlingException", "TooManyRequestsException", "SlowDown"}
_NOT_FOUND = {"ResourceNotFound", "ResourceNotFoundException", "NoSuchKey", "NoSuchBucket", "404"}


class AwsError(Exception):
    """A failed AWS call, described for a person: `str(error)` is ready to show on the page."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@st.cache_resource(show_spinner=False)
def client(service: str, region: str) -> Any:
    """The process-wide client for `service` in `region` (AWS_ENDPOINT_URL is honoured by boto3)."""
    # A Session per client: boto3 sessions are not thread-safe, and two sessions may build
    # clients for different services at the same time.
    return boto3.session.Session().client(service, region_name=region, config=CLIENT_CONFIG)


@st.cache_resource(show_spinner=False)
def _session() -> boto3.session.Session:
    return boto3.session.Session()


def frozen_credentials() -> Credentials:
    """Current credentials of the default chain (the ECS task role in production), for SigV4.

    The task role's credentials rotate; the cached session's provider refreshes them, so ask for
    a fresh frozen copy on every request rather than keeping one.
    """
    credentials = _session().get_credentials()
    if credentials is None:
        raise NoCredentialsError()
    return credentials.get_frozen_credentials()


def describe_error(action: str, exc: Exception) -> AwsError:
    """Turn a botocore exception raised while doing `action` into a readable AwsError."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "Unknown")
        detail = str(error.get("Message") or "").strip()
        aws_said = f"AWS answered {code}" + (f": {detail}" if detail else "")
        if code in _ACCESS_DENIED:
            hint = "access denied — the dashboard's IAM role is not allowed to do this; ask an administrator to grant the permission"
        elif code in _BAD_CREDENTIALS:
            hint = "the AWS credentials were rejected (expired or invalid)"
        elif code in _THROTTLED:
            hint = "AWS is throttling requests; wait a moment and refresh"
        elif code in _NOT_FOUND or "not found" in detail.lower() or "could not find" in detail.lower():
            hint = "it does not exist (yet) — check the name and the region"
        else:
            hint = "the request failed"
        return AwsError(f"Could not {action}: {hint}. ({aws_said})", code)
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return AwsError(
            f"Could not {action}: no AWS credentials were found (in ECS they come from the "
            "task role; locally from AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY).",
            "NoCredentials",
        )
    if isinstance(exc, NoRegionError):
        return AwsError(f"Could not {action}: no AWS region is set (AWS_REGION).", "NoRegion")
    if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError, ConnectionClosedError)):
        return AwsError(
            f"Could not {action}: AWS could not be reached ({exc}). Check the network path "
            "from the dashboard (NAT gateway or VPC endpoints) and the region.",
            "ConnectionError",
        )
    if isinstance(exc, ReadTimeoutError):
        return AwsError(f"Could not {action}: AWS did not answer in time; try again.", "Timeout")
    if isinstance(exc, ParamValidationError):
        return AwsError(
            f"Could not {action}: the request was invalid ({exc}); check the dashboard's environment variables.",
            "ParamValidation",
        )
    return AwsError(f"Could not {action}: {exc}", type(exc).__name__)


@contextmanager
def translate_errors(action: str) -> Iterator[None]:
    """Re-raise botocore errors from the block as AwsError; log the original for operators."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        error = describe_error(action, exc)
        # The user sees the short message; the logs (CloudWatch, via the ECS awslogs driver)
        # keep the full exception for whoever has to fix it.
        log.warning("%s", error.message, exc_info=exc)
        raise error from exc

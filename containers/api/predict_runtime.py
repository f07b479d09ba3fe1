"""The SageMaker Runtime call: client construction, InvokeEndpoint, and mapping its failures.

The client is built from botocore directly rather than through `boto3.client`: it is the same
client class, and skipping boto3 (and the s3transfer it imports, unused here) saves ~15 ms of
cold start.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from predict_errors import (
    BAD_MODEL_RESPONSE,
    MODEL_ERROR,
    MODEL_REJECTED_INPUT,
    MODEL_TIMEOUT,
    MODEL_UNAVAILABLE,
    THROTTLED,
    ApiError,
)

if TYPE_CHECKING:
    from predict_config import Settings
    from predict_request import PredictRequest

# Codes SageMaker Runtime answers when the endpoint (not the request) is the problem. ValidationError
# is here because with validated input it means "endpoint not found / not usable", a deploy fault.
_UNAVAILABLE_CODES = frozenset(
    {
        "ServiceUnavailable",
        "InternalFailure",
        "InternalDependencyException",
        "ModelNotReadyException",
        "ValidationError",
    }
)
_THROTTLING_CODES = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException"})
_GENERIC_MODEL_MESSAGE = "the model could not process the request"
# The model server names the model package version it serves in its custom attributes
# ("model-version=3"); SageMaker passes them to the caller verbatim as CustomAttributes. The version
# comes from the model that answered, so it stays true through a canary and after a rollback.
_VERSION_ATTRIBUTE = "model-version"
UNKNOWN_VERSION = "unknown"
_MAX_MESSAGE = 300


@dataclass(frozen=True)
class ModelAnswer:
    predictions: list[Any]
    variant: str | None
    model_version: str


def build_runtime_client(settings: Settings, region: str | None = None, endpoint_url: str | None = None) -> Any:
    """A sagemaker-runtime client with explicit timeouts and standard-mode retries.

    Standard mode retries throttling, 5xx and connection errors (read timeouts included) with
    jittered backoff; ModelError (424) is not retried. `total_max_attempts` counts the first try.
    `endpoint_url` is for local runs against tools/rehearsal/runtime_shim.py.
    """
    import botocore.session
    from botocore.config import Config

    config = Config(
        connect_timeout=settings.connect_timeout_seconds,
        read_timeout=settings.read_timeout_seconds,
        retries={"mode": "standard", "total_max_attempts": settings.max_attempts},
        tcp_keepalive=True,
    )
    session = botocore.session.get_session()
    return session.create_client(
        "sagemaker-runtime",
        region_name=region or os.environ.get("AWS_REGION") or None,
        endpoint_url=endpoint_url,
        config=config,
    )


def safe_model_message(original: str | None) -> str:
    """The model container's error text, reduced to one short printable line, or a generic text.

    The container answers `{"error": ...}` or `{"message": ...}` JSON for bad input; anything that
    looks like a traceback is replaced, so internals never reach a client.
    """
    text = (original or "").strip()
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if isinstance(document, dict):
        inner = document.get("error", document.get("message"))
        if isinstance(inner, dict):
            inner = inner.get("message")
        if isinstance(inner, str):
            text = inner
    if "Traceback (most recent call last)" in text or 'File "' in text:
        return _GENERIC_MODEL_MESSAGE
    text = "".join(ch for ch in " ".join(text.split()) if ch.isprintable())
    if not text:
        return _GENERIC_MODEL_MESSAGE
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def _map_client_error(exc: ClientError) -> ApiError | None:
    error = exc.response.get("Error", {})
    code = error.get("Code", "")
    detail = f"{code}: {error.get('Message', '')}"
    if code == "ModelError":
        status = exc.response.get("OriginalStatusCode")
        message = safe_model_message(exc.response.get("OriginalMessage"))
        detail = (
            f"ModelError original status {status}: {exc.response.get('OriginalMessage', '')!r} "
            f"log stream {exc.response.get('LogStreamArn', '')}"
        )
        if isinstance(status, int) and 400 <= status < 500:
            return ApiError(MODEL_REJECTED_INPUT, f"the model rejected the input: {message}", detail)
        return ApiError(MODEL_ERROR, f"the model failed: {message}", detail)
    if code in _THROTTLING_CODES:
        return ApiError(THROTTLED, "too many requests; retry with backoff", detail)
    if code in _UNAVAILABLE_CODES:
        return ApiError(MODEL_UNAVAILABLE, "the model endpoint is not available", detail)
    return None  # AccessDenied, expired credentials, ...: our bug, not the caller's


def model_version_of(custom_attributes: Any) -> str:
    """The `model-version` among the answer's custom attributes (`key=value` pairs separated by `,`
    or `;`), or "unknown" when it is absent or not a version number: never a reason to fail."""
    if not isinstance(custom_attributes, str):
        return UNKNOWN_VERSION
    for pair in custom_attributes.replace(";", ",").split(","):
        key, sep, value = pair.partition("=")
        value = value.strip()
        if sep and key.strip().lower() == _VERSION_ATTRIBUTE and value.isascii() and value.isdigit() and len(value) <= 10:
            return value
    return UNKNOWN_VERSION


def _parse_answer(body: bytes, rows: int) -> list[Any]:
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    predictions = document.get("predictions") if isinstance(document, dict) else None
    if not isinstance(predictions, list) or len(predictions) != rows:
        got = f"{len(predictions)} predictions" if isinstance(predictions, list) else "no predictions list"
        raise ApiError(
            BAD_MODEL_RESPONSE,
            "the model returned an unexpected response",
            f"expected {rows} predictions, got {got}: {body[:200]!r}",
        )
    return predictions


def invoke_model(client: Any, settings: Settings, request: PredictRequest) -> ModelAnswer:
    """Call the endpoint with the request's canonical CSV; raise `ApiError` for known failures.

    Any other exception propagates unchanged: it is a fault of this function, not of the caller.
    """
    try:
        response = client.invoke_endpoint(
            EndpointName=settings.endpoint_name,
            Body=request.to_csv(),
            ContentType="text/csv",
            Accept="application/json",
        )
        body = response["Body"].read()
    except ClientError as exc:
        mapped = _map_client_error(exc)
        if mapped is None:
            raise
        raise mapped from exc
    except (ReadTimeoutError, ConnectTimeoutError) as exc:
        raise ApiError(MODEL_TIMEOUT, "the model did not answer in time", str(exc)) from exc
    except (EndpointConnectionError, ConnectionClosedError) as exc:
        raise ApiError(MODEL_UNAVAILABLE, "the model endpoint is not available", str(exc)) from exc
    predictions = _parse_answer(body, len(request.rows))
    return ModelAnswer(
        predictions=predictions,
        variant=response.get("InvokedProductionVariant"),
        model_version=model_version_of(response.get("CustomAttributes")),
    )

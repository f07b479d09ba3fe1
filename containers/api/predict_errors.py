"""The API's error classes: HTTP status, the `error.code` clients see, and the metric each emits.

One table so that the error table in docs/api.md, the metrics on the dashboard and the responses cannot
drift apart. Only errors listed here are answered by the handler; anything else is a bug and is
re-raised so that the Lambda `Errors` metric (a CodeDeploy rollback alarm) counts it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorKind:
    status: int
    code: str
    metric: str


INVALID_REQUEST = ErrorKind(400, "invalid_request", "InvalidRequest")
METHOD_NOT_ALLOWED = ErrorKind(405, "method_not_allowed", "MethodNotAllowed")
PAYLOAD_TOO_LARGE = ErrorKind(413, "payload_too_large", "PayloadTooLarge")
UNSUPPORTED_MEDIA_TYPE = ErrorKind(415, "unsupported_media_type", "UnsupportedMediaType")
# The model container refused the input with a 4xx although it passed our validation: a contract
# mismatch between API and model, reported as a failed dependency rather than blamed on the client.
MODEL_REJECTED_INPUT = ErrorKind(424, "model_rejected_input", "ModelRejectedInput")
THROTTLED = ErrorKind(429, "throttled", "Throttled")
MODEL_ERROR = ErrorKind(502, "model_error", "ModelError")
MODEL_UNAVAILABLE = ErrorKind(502, "model_unavailable", "ModelUnavailable")
BAD_MODEL_RESPONSE = ErrorKind(502, "bad_model_response", "BadModelResponse")
MODEL_TIMEOUT = ErrorKind(504, "model_timeout", "ModelTimeout")

ALL_KINDS: tuple[ErrorKind, ...] = (
    INVALID_REQUEST,
    METHOD_NOT_ALLOWED,
    PAYLOAD_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    MODEL_REJECTED_INPUT,
    THROTTLED,
    MODEL_ERROR,
    MODEL_UNAVAILABLE,
    BAD_MODEL_RESPONSE,
    MODEL_TIMEOUT,
)


class ApiError(Exception):
    """An error answered to the client as `{"error": {"code", "message"}}` with `kind.status`.

    `message` is shown to the client and must never carry internals; `detail` is for the log only.
    """

    def __init__(self, kind: ErrorKind, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.detail = detail

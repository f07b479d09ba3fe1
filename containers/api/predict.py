"""`POST /predict` behind an API Gateway HTTP API (payload format 2.0): Lambda handler `predict.handler`.

Validates the request, calls the SageMaker endpoint and answers JSON. Client mistakes and known
endpoint failures are answered as `{"error": {"code", "message"}}` with a 4xx/5xx status and one
metric per error class; anything unexpected is logged and re-raised so that it counts in the Lambda
`Errors` metric that CodeDeploy watches (API Gateway then answers its own JSON 500, never a trace).

Powertools parses the event (data class), logs and emits metrics; its event handler (router,
response builder) is not used: ~35 ms more cold start for a single route.
"""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.metrics import Metrics, MetricUnit
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event import (
    APIGatewayProxyEventV2,
)
from predict_config import Settings, load_settings
from predict_errors import METHOD_NOT_ALLOWED, ApiError
from predict_request import parse_request
from predict_runtime import build_runtime_client, invoke_model

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

DEFAULT_METRICS_NAMESPACE = "SageMakerMLOps/PredictApi"
_JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store"}

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "predict-api"))
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", DEFAULT_METRICS_NAMESPACE),
    service=os.environ.get("POWERTOOLS_SERVICE_NAME", "predict-api"),
)
SETTINGS: Settings = load_settings(os.environ)
# Built once per container, during init: connection pool and credentials are reused by every
# warm invocation.
RUNTIME: Any = build_runtime_client(SETTINGS)


def _response(status: int, payload: dict[str, Any], extra_headers: dict[str, str] | None = None) -> dict[str, Any]:
    headers = _JSON_HEADERS if extra_headers is None else {**_JSON_HEADERS, **extra_headers}
    return {
        "statusCode": status,
        "headers": headers,
        "body": json.dumps(payload, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def _error_response(error: ApiError) -> dict[str, Any]:
    extra = {"Allow": "POST"} if error.kind is METHOD_NOT_ALLOWED else None
    body = {"error": {"code": error.kind.code, "message": error.message}}
    return _response(error.kind.status, body, extra)


def handle(event: APIGatewayProxyEventV2, runtime: Any, settings: Settings) -> dict[str, Any]:
    """The request/response logic; the runtime client and settings are passed in (`handler` binds
    the module's own), so tests can pass their own."""
    try:
        request = parse_request(event, settings)
        started = time.perf_counter()
        answer = invoke_model(runtime, settings, request)
        latency_ms = (time.perf_counter() - started) * 1000.0
    except ApiError as error:
        metrics.add_metric(name=error.kind.metric, unit=MetricUnit.Count, value=1)
        log = logger.warning if error.kind.status >= 500 else logger.info
        log(
            "request refused",
            extra={"status": error.kind.status, "code": error.kind.code, "detail": error.detail or error.message},
        )
        return _error_response(error)

    metrics.add_metric(name="Predictions", unit=MetricUnit.Count, value=len(request.rows))
    metrics.add_metric(name="ModelLatency", unit=MetricUnit.Milliseconds, value=latency_ms)
    logger.info(
        "predicted",
        extra={
            "rows": len(request.rows),
            "variant": answer.variant,
            "model_version": answer.model_version,
            "model_latency_ms": round(latency_ms, 2),
        },
    )
    return _response(
        200,
        {
            "predictions": answer.predictions,
            "model_version": answer.model_version,
            "variant": answer.variant,
        },
    )


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(clear_state=True)
@event_source(data_class=APIGatewayProxyEventV2)
def handler(event: APIGatewayProxyEventV2, context: LambdaContext) -> dict[str, Any]:
    try:
        return handle(event, RUNTIME, SETTINGS)
    except Exception:
        # Not a client error: make it visible (log, metric, and the Lambda Errors metric through
        # the raise), never to the client.
        metrics.add_metric(name="UnhandledError", unit=MetricUnit.Count, value=1)
        logger.exception("unhandled error")
        raise

"""Helpers for the prediction Lambda tests: the imported handler, events, fake AWS answers.

`containers/api` is the root of the Lambda archive, so it goes on sys.path exactly as /var/task is.
The handler reads its settings at import time (as it does in Lambda, during init); the environment
it needs is set around that import only, so no other test sees it.
"""

from __future__ import annotations

import io
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
API_DIR = ROOT / "containers" / "api"
if str(API_DIR) not in sys.path:
    sys.path.insert(0, str(API_DIR))

GOLDEN = json.loads((API_DIR / "hooks" / "golden.json").read_text())
FEATURE_NAMES: tuple[str, ...] = tuple(GOLDEN["feature_names"])
HANDLER_ENV = {
    "ENDPOINT_NAME": "churn-endpoint",
    "FEATURE_NAMES": ",".join(FEATURE_NAMES),
    "MAX_ROWS": "50",
    "INVOKE_MAX_ATTEMPTS": "2",
    "INVOKE_CONNECT_TIMEOUT_SECONDS": "1",
    "INVOKE_READ_TIMEOUT_SECONDS": "5",
    "POWERTOOLS_SERVICE_NAME": "predict-api-test",
}


def _import_handler() -> Any:
    saved = {key: os.environ.get(key) for key in HANDLER_ENV}
    os.environ.update(HANDLER_ENV)
    try:
        import predict
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return predict


predict = _import_handler()


@dataclass
class FakeContext:
    """The attributes of the Lambda context that Powertools and the hooks read."""

    function_name: str = "predict-api"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:predict-api:live"
    aws_request_id: str = "req-1"
    remaining_ms: int = 300_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def api_event(
    body: str | None,
    content_type: str | None = "application/json",
    *,
    method: str = "POST",
    base64_encoded: bool = False,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API payload-2.0 event for POST /predict, as API Gateway sends it."""
    all_headers = dict(headers or {})
    if content_type is not None:
        all_headers["content-type"] = content_type
    return {
        "version": "2.0",
        "routeKey": "POST /predict",
        "rawPath": "/predict",
        "rawQueryString": "",
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "http": {"method": method, "path": "/predict", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1"},
            "requestId": "req",
            "routeKey": "POST /predict",
            "stage": "$default",
        },
        "body": body,
        "isBase64Encoded": base64_encoded,
    }


def streaming(payload: bytes) -> Any:
    from botocore.response import StreamingBody

    return StreamingBody(io.BytesIO(payload), len(payload))


def model_answer(
    probabilities: list[float], variant: str = "AllTraffic", custom_attributes: str | None = "model-version=7"
) -> dict[str, Any]:
    """An InvokeEndpoint response as the model server produces it (`custom_attributes=None`: SageMaker
    returned none)."""
    body = json.dumps({"predictions": [{"churn_probability": p} for p in probabilities]}).encode()
    answer = {"Body": streaming(body), "ContentType": "application/json", "InvokedProductionVariant": variant}
    if custom_attributes is not None:
        answer["CustomAttributes"] = custom_attributes
    return answer


class FakeRuntime:
    """A sagemaker-runtime stand-in that answers one in-range prediction per CSV row it receives."""

    def __init__(self, probability: float = 0.5) -> None:
        self.probability = probability
        self.calls: list[dict[str, Any]] = []

    def invoke_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        rows = [line for line in kwargs["Body"].decode().split("\n") if line]
        return model_answer([self.probability] * len(rows))


def emitted_metrics(stdout: str) -> set[str]:
    """Names of the metrics in the EMF documents Powertools printed."""
    names: set[str] = set()
    for line in stdout.splitlines():
        if '"_aws"' not in line:
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            names.update(metric["Name"] for metric in directive["Metrics"])
    return names

"""Getting a churn probability for one encoded row: through the canary API or the endpoint.

`api` (the default) is the path customers' systems use — API Gateway → the `live` Lambda alias →
the endpoint — so a prediction from the dashboard exercises what is actually released. In prod the
route requires IAM auth (API_AUTH=iam): the request is signed with SigV4 using the task role's
credentials, which need `execute-api:Invoke` on the route. `endpoint` calls the SageMaker endpoint
directly (`sagemaker-runtime:InvokeEndpoint`), for stacks without an API.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import BotoCoreError

from mlops_dashboard.aws import (
    AwsError,
    client,
    describe_error,
    frozen_credentials,
    translate_errors,
)
from mlops_dashboard.settings import ApiAuth

# API Gateway gives up after 29 s; waiting longer only hides that the API timed out.
API_TIMEOUT = (3.05, 30)
# Keys under which a model may name the churn probability when it answers with an object.
_PROBABILITY_KEYS = ("probability", "churn_probability", "score")


class PredictionError(Exception):
    """The prediction failed; the message is meant for the person who filled in the form."""


@dataclass(frozen=True)
class Prediction:
    probability: float
    model_version: str | None
    source: str


def to_csv(row: Sequence[float]) -> str:
    # repr of a float round-trips exactly; the model server parses plain CSV with no header.
    return ",".join(repr(float(v)) for v in row)


def parse_probability(value: Any) -> float:
    """The churn probability from one prediction as models commonly write it."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, dict):
        found = [value[k] for k in _PROBABILITY_KEYS if k in value]
        if not found:
            raise PredictionError(f"The model's answer {value!r} names no probability.")
        value = found[0]
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise PredictionError(f"The model's answer {value!r} is not a number.") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PredictionError(f"The model's answer {value!r} is not a probability.")
    probability = float(value)
    if not math.isfinite(probability) or not 0.0 <= probability <= 1.0:
        raise PredictionError(f"The model answered {probability!r}, which is not a probability.")
    return probability


def _api_error_message(response: requests.Response) -> str:
    try:
        body = response.json()
        error = body.get("error", {})
        # The handler's errors are {"error": {...}}; API Gateway's own (403 from IAM auth, 429 from
        # throttling) are {"message": "..."}.
        code, message = error.get("code"), error.get("message") or body.get("message")
    except (ValueError, AttributeError):
        code, message = None, None
    if not message:
        message = (response.text or response.reason or "no details").strip()[:300]
    prefix = f"The prediction API answered {response.status_code}" + (f" ({code})" if code else "")
    if response.status_code == 403:
        return (
            f"{prefix}: {message}. The route requires authorisation: check API_AUTH (iam signs "
            "requests with the task role) and that the role may call execute-api:Invoke."
        )
    return f"{prefix}: {message}"


def predict_via_api(api_url: str, row: Sequence[float], auth: ApiAuth, region: str) -> Prediction:
    url = f"{api_url}/predict"
    body = json.dumps({"instances": [list(map(float, row))]}).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if auth == "iam":
        try:
            credentials = frozen_credentials()
        except BotoCoreError as exc:
            raise PredictionError(describe_error("sign the request to the API", exc).message) from exc
        request = AWSRequest(method="POST", url=url, data=body, headers=headers)
        SigV4Auth(credentials, "execute-api", region).add_auth(request)
        headers = dict(request.headers.items())
    try:
        response = requests.post(url, data=body, headers=headers, timeout=API_TIMEOUT)
    except requests.Timeout:
        raise PredictionError(f"The prediction API at {url} did not answer in time.") from None
    except requests.RequestException as exc:
        reason = type(exc).__name__
        raise PredictionError(f"Could not reach the prediction API at {url} ({reason}).") from exc
    if not response.ok:
        raise PredictionError(_api_error_message(response))
    try:
        payload = response.json()
        predictions = payload["predictions"]
    except (ValueError, KeyError, TypeError):
        raise PredictionError(f"The prediction API answered without a 'predictions' list: {response.text[:300]!r}") from None
    if not isinstance(predictions, list) or len(predictions) != 1:
        raise PredictionError(f"Expected one prediction for one row, got {predictions!r}.")
    version = payload.get("model_version")
    return Prediction(
        probability=parse_probability(predictions[0]),
        model_version=None if version is None else str(version),
        source="canary API",
    )


def _parse_endpoint_body(body: bytes, content_type: str) -> float:
    text = body.decode("utf-8", errors="replace").strip()
    if "json" in content_type.lower():
        try:
            payload = json.loads(text)
        except ValueError:
            raise PredictionError(f"The endpoint sent invalid JSON: {text[:300]!r}") from None
        if isinstance(payload, dict) and "predictions" in payload:
            payload = payload["predictions"]
        return parse_probability(payload)
    first_line = text.splitlines()[0] if text else ""
    return parse_probability(first_line.split(",")[0].strip())


def predict_via_endpoint(endpoint_name: str, row: Sequence[float], region: str) -> Prediction:
    try:
        with translate_errors(f"invoke endpoint '{endpoint_name}'"):
            answer = client("sagemaker-runtime", region).invoke_endpoint(
                EndpointName=endpoint_name,
                ContentType="text/csv",
                Accept="text/csv",
                Body=to_csv(row).encode(),
            )
            body = answer["Body"].read()
    except AwsError as exc:
        raise PredictionError(exc.message) from exc
    probability = _parse_endpoint_body(body, answer.get("ContentType", "text/csv"))
    variant = answer.get("InvokedProductionVariant")
    source = f"endpoint {endpoint_name}" + (f" (variant {variant})" if variant else "")
    return Prediction(probability=probability, model_version=None, source=source)

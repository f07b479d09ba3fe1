"""tools/rehearsal/runtime_shim.py answers a real sagemaker-runtime client the way SageMaker does.

A small stand-in model server plays the container; the client is the handler's own (built by
`build_runtime_client`, pointed at the shim), so these tests also run the prediction handler end to
end over real sockets: serialization, botocore's error parsing and a real read timeout included.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest import mock

import pytest
from api_testkit import FakeContext, api_event, predict
from botocore.exceptions import ClientError
from predict_runtime import build_runtime_client

from tools.rehearsal.runtime_shim import RuntimeShim, ShimConfig

ROW = "2,2,0,650,30,115,230,6,1,0"  # golden customer A, FEATURE_NAMES order


class FakeModel(BaseHTTPRequestHandler):
    """POST /invocations: one prediction per CSV line, 400 for a body starting with 'bad'."""

    seen: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        FakeModel.seen.append(
            {"path": self.path, "body": body, "content_type": self.headers["Content-Type"], "accept": self.headers["Accept"]}
        )
        if body.startswith(b"bad"):
            status, answer = 400, {"error": "line 1: expected 10 values, got 1"}
        else:
            status, answer = 200, {"predictions": [{"churn_probability": 0.75} for _ in body.split(b"\n")]}
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if status == 200:
            self.send_header("x-amzn-sagemaker-custom-attributes", "model-version=4")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_: object) -> None:
        return


@pytest.fixture(scope="module")
def model_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeModel)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def free_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"  # closed again: nothing listens there


@pytest.fixture
def shim(model_url: str) -> Iterator[RuntimeShim]:
    config = ShimConfig(endpoints={"churn-endpoint": model_url, "down-endpoint": free_port_url()}, variant="Blue")
    with RuntimeShim(config) as running:
        yield running


def client_for(shim: RuntimeShim, **overrides: Any) -> Any:
    settings = dataclasses.replace(predict.SETTINGS, max_attempts=1, **overrides)
    return build_runtime_client(settings, region="us-east-1", endpoint_url=shim.url)


def test_forwards_body_and_headers_and_names_the_variant(shim):
    FakeModel.seen.clear()
    answer = client_for(shim).invoke_endpoint(
        EndpointName="churn-endpoint", Body=b"1,2\n3,4", ContentType="text/csv", Accept="application/json"
    )
    assert answer["InvokedProductionVariant"] == "Blue"
    assert answer["ContentType"] == "application/json"
    # the model's custom attributes pass through, as SageMaker passes them
    assert answer["CustomAttributes"] == "model-version=4"
    assert json.loads(answer["Body"].read()) == {"predictions": [{"churn_probability": 0.75}] * 2}
    assert FakeModel.seen == [{"path": "/invocations", "body": b"1,2\n3,4", "content_type": "text/csv", "accept": "application/json"}]


def test_model_refusal_is_a_model_error_with_the_original_answer(shim):
    with pytest.raises(ClientError) as raised:
        client_for(shim).invoke_endpoint(EndpointName="churn-endpoint", Body=b"bad", ContentType="text/csv")
    response = raised.value.response
    assert response["Error"]["Code"] == "ModelError"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert response["OriginalStatusCode"] == 400
    assert json.loads(response["OriginalMessage"]) == {"error": "line 1: expected 10 values, got 1"}


def test_unknown_endpoint_is_a_validation_error(shim):
    with pytest.raises(ClientError) as raised:
        client_for(shim).invoke_endpoint(EndpointName="nope", Body=b"1", ContentType="text/csv")
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert "Endpoint nope of account" in raised.value.response["Error"]["Message"]


def test_unreachable_model_is_a_model_error_502(shim):
    with pytest.raises(ClientError) as raised:
        client_for(shim).invoke_endpoint(EndpointName="down-endpoint", Body=b"1", ContentType="text/csv")
    assert raised.value.response["Error"]["Code"] == "ModelError"
    assert raised.value.response["OriginalStatusCode"] == 502


# --- the prediction handler over real HTTP ---------------------------------------------------


def handler_via(client: Any, event: dict[str, Any]) -> tuple[int, Any]:
    with mock.patch.object(predict, "RUNTIME", client):
        response = predict.handler(event, FakeContext())
    return response["statusCode"], json.loads(response["body"])


def test_handler_predicts_through_the_shim(shim):
    status, body = handler_via(client_for(shim), api_event(f"{ROW}\n{ROW}", "text/csv"))
    assert status == 200
    assert body == {"predictions": [{"churn_probability": 0.75}] * 2, "model_version": "4", "variant": "Blue"}


def test_handler_maps_the_models_refusal_to_424(shim, monkeypatch):
    # The model refuses what the handler accepted: the contract mismatch the 424 is for.
    monkeypatch.setattr("predict_request.PredictRequest.to_csv", lambda self: b"bad")
    status, body = handler_via(client_for(shim), api_event(ROW, "text/csv"))
    assert status == 424
    assert body["error"] == {
        "code": "model_rejected_input",
        "message": "the model rejected the input: line 1: expected 10 values, got 1",
    }


def test_handler_answers_504_when_the_model_is_too_slow(model_url):
    config = ShimConfig(endpoints={"churn-endpoint": model_url}, delay_seconds=1.0)
    with RuntimeShim(config) as slow:
        client = client_for(slow, read_timeout_seconds=0.3)
        status, body = handler_via(client, api_event(ROW, "text/csv"))
    assert status == 504
    assert body["error"]["code"] == "model_timeout"

"""Every status the prediction Lambda can answer, through `predict.handler` with botocore's Stubber.

Each test goes through the real handler (Powertools decorators included) and the module's real
sagemaker-runtime client; the Stubber checks the exact InvokeEndpoint request and supplies the
answer or the error. A request refused before the model call queues no response, so any call to the
endpoint would fail the test.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from api_testkit import (
    FEATURE_NAMES,
    HANDLER_ENV,
    api_event,
    emitted_metrics,
    model_answer,
    predict,
    streaming,
)
from botocore.exceptions import ReadTimeoutError
from botocore.stub import Stubber

# The golden customers, in FEATURE_NAMES order (categories as their position in the schema's list:
# plan basic/standard/premium = 0/1/2, contract month-to-month/one-year/two-year = 0/1/2, no/yes = 0/1).
ROW_A = [2, 2, 0, 650, 30, 115, 230, 6, 1, 0]  # new month-to-month premium, intl plan, no autopay
ROW_B = [60, 0, 2, 240, 3, 26.3, 1570, 0, 0, 1]  # five-year two-year-contract basic, autopay
CANONICAL_CSV = b"2.0,2.0,0.0,650.0,30.0,115.0,230.0,6.0,1.0,0.0\n60.0,0.0,2.0,240.0,3.0,26.3,1570.0,0.0,0.0,1.0"


def csv_line(row: list[Any]) -> str:
    return ",".join(str(v) for v in row)


def expected_call(body: bytes = CANONICAL_CSV) -> dict[str, Any]:
    return {
        "EndpointName": "churn-endpoint",
        "Body": body,
        "ContentType": "text/csv",
        "Accept": "application/json",
    }


@pytest.fixture
def stubber() -> Iterator[Stubber]:
    with Stubber(predict.RUNTIME) as stub:
        yield stub
        stub.assert_no_pending_responses()


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the Powertools logger writes (its handler keeps the stdout it found at import)."""
    stream = io.StringIO()
    handler = predict.logger.registered_handler
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def call(event: dict[str, Any], context: Any, capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], Any, set[str]]:
    response = predict.handler(event, context)
    out = capsys.readouterr().out
    assert response["headers"]["Content-Type"] == "application/json"
    return response, json.loads(response["body"]), emitted_metrics(out)


def assert_error(body: Any, code: str) -> str:
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    message = body["error"]["message"]
    assert isinstance(message, str) and message
    assert "Traceback" not in message and 'File "' not in message
    return message


# --- 200 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/csv", f"{csv_line(ROW_A)}\n{csv_line(ROW_B)}\n"),
        ("text/csv; charset=utf-8", f"{csv_line(ROW_A)}\r\n\r\n{csv_line(ROW_B)}"),
        ("application/json", json.dumps({"instances": [ROW_A, ROW_B]})),
        # Named features in any key order are put in model order.
        (
            "application/json",
            json.dumps({"instances": [dict(reversed(list(zip(FEATURE_NAMES, row)))) for row in (ROW_A, ROW_B)]}),
        ),
    ],
    ids=["csv", "csv-crlf-blank-line", "json-arrays", "json-named"],
)
def test_valid_request_is_predicted(stubber, context, capsys, content_type, body):
    stubber.add_response("invoke_endpoint", model_answer([0.91, 0.04], variant="Blue"), expected_call())
    response, payload, metrics = call(api_event(body, content_type), context, capsys)
    assert response["statusCode"] == 200
    assert payload == {
        "predictions": [{"churn_probability": 0.91}, {"churn_probability": 0.04}],
        "model_version": "7",
        "variant": "Blue",
    }
    assert {"Predictions", "ModelLatency"} <= metrics


@pytest.mark.parametrize(
    ("custom_attributes", "reported"),
    [
        ("model-version=12", "12"),
        # other attributes around it, spaces, another separator, another case
        ("trace=abc; Model-Version = 4 ,x=y", "4"),
        # absent, empty, malformed: reported as unknown, never a failure of the prediction
        (None, "unknown"),
        ("", "unknown"),
        ("model-version", "unknown"),
        ("model-version=", "unknown"),
        ("model-version=v3", "unknown"),
        ("model-version=" + "9" * 11, "unknown"),
        ("trace=abc", "unknown"),
    ],
)
def test_model_version_is_the_one_the_answering_model_names(stubber, context, capsys, custom_attributes, reported):
    # The version comes from the model's answer, not the Lambda's environment: after a Lambda
    # rollback, or from either side of an endpoint canary, it names the model that predicted.
    answer = model_answer([0.91, 0.04], variant="Green", custom_attributes=custom_attributes)
    stubber.add_response("invoke_endpoint", answer, expected_call())
    response, payload, _ = call(api_event(json.dumps({"instances": [ROW_A, ROW_B]})), context, capsys)
    assert response["statusCode"] == 200
    assert payload["model_version"] == reported and payload["variant"] == "Green"


def test_the_lambda_environment_no_longer_names_a_model_version():
    assert "MODEL_VERSION" not in HANDLER_ENV
    assert not hasattr(predict.SETTINGS, "model_version")


def test_base64_encoded_body_is_decoded(stubber, context, capsys):
    raw = f"{csv_line(ROW_A)}\n{csv_line(ROW_B)}".encode()
    stubber.add_response("invoke_endpoint", model_answer([0.9, 0.1]), expected_call())
    event = api_event(base64.b64encode(raw).decode(), "text/csv", base64_encoded=True)
    response, payload, _ = call(event, context, capsys)
    assert response["statusCode"] == 200
    assert len(payload["predictions"]) == 2


# --- 400 ---------------------------------------------------------------------------------------

BAD_REQUESTS = {
    "malformed-json": ("application/json", '{"instances": [[1, 2'),
    "nan-constant": ("application/json", '{"instances": [[NaN' + ", 1" * (len(FEATURE_NAMES) - 1) + "]]}"),
    "not-an-object": ("application/json", "[[1, 2, 3]]"),
    "missing-instances": ("application/json", '{"rows": []}'),
    "unknown-field": ("application/json", json.dumps({"instances": [ROW_A], "debug": True})),
    "instances-not-array": ("application/json", '{"instances": "1,2"}'),
    "no-rows": ("application/json", '{"instances": []}'),
    "scalar-rows": ("application/json", '{"instances": [1, 2]}'),
    "mixed-rows": ("application/json", json.dumps({"instances": [ROW_A, dict(zip(FEATURE_NAMES, ROW_B))]})),
    "wrong-feature-count": ("application/json", json.dumps({"instances": [ROW_A[:-1]]})),
    "string-value": ("application/json", json.dumps({"instances": [["1"] + ROW_A[1:]]})),
    "boolean-value": ("application/json", json.dumps({"instances": [[True] + ROW_A[1:]]})),
    "null-value": ("application/json", json.dumps({"instances": [[None] + ROW_A[1:]]})),
    "huge-integer": ("application/json", json.dumps({"instances": [[10**400] + ROW_A[1:]]})),
    "missing-named-feature": ("application/json", json.dumps({"instances": [dict(zip(FEATURE_NAMES[1:], ROW_A))]})),
    "unknown-named-feature": (
        "application/json",
        json.dumps({"instances": [{**dict(zip(FEATURE_NAMES, ROW_A)), "age": 3}]}),
    ),
    "deep-nesting": ("application/json", "[" * 100_000 + "]" * 100_000),
    "csv-header": ("text/csv", ",".join(FEATURE_NAMES) + "\n" + csv_line(ROW_A)),
    "csv-wrong-count": ("text/csv", "1,2,3"),
    "csv-infinity": ("text/csv", "inf," + csv_line(ROW_A[1:])),
    "csv-nan": ("text/csv", "nan," + csv_line(ROW_A[1:])),
    "empty-body": ("text/csv", "   \n"),
}


@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
def test_bad_input_is_400_without_calling_the_model(stubber, context, capsys, case):
    content_type, body = BAD_REQUESTS[case]
    response, payload, metrics = call(api_event(body, content_type), context, capsys)
    assert response["statusCode"] == 400
    assert_error(payload, "invalid_request")
    assert "InvalidRequest" in metrics


def test_messages_locate_the_problem(stubber, context, capsys):
    body = json.dumps({"instances": [ROW_A, ROW_A[:3] + ["x"] + ROW_A[4:]]})
    _, payload, _ = call(api_event(body), context, capsys)
    assert assert_error(payload, "invalid_request") == "instances[1][3]: expected a number, got string"

    csv = f"{csv_line(ROW_A)}\n{csv_line(ROW_A[:5])},abc,{csv_line(ROW_A[6:])}"
    _, payload, _ = call(api_event(csv, "text/csv"), context, capsys)
    assert assert_error(payload, "invalid_request") == "line 2, column 6: 'abc' is not a number"


def test_undecodable_body_is_400(stubber, context, capsys):
    event = api_event(base64.b64encode(b"\xff\xfe\x00bad").decode(), "text/csv", base64_encoded=True)
    response, payload, _ = call(event, context, capsys)
    assert response["statusCode"] == 400
    assert assert_error(payload, "invalid_request") == "request body is not valid UTF-8 text"


# --- 405, 413, 415 -----------------------------------------------------------------------------


def test_other_methods_are_405(stubber, context, capsys):
    response, payload, metrics = call(api_event(None, None, method="GET"), context, capsys)
    assert response["statusCode"] == 405
    assert response["headers"]["Allow"] == "POST"
    assert_error(payload, "method_not_allowed")
    assert "MethodNotAllowed" in metrics


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"instances": [ROW_A] * 51}),
        "\n".join([csv_line(ROW_A)] * 51),
    ],
    ids=["json-rows", "csv-rows"],
)
def test_too_many_rows_is_413(stubber, context, capsys, body):
    content_type = "text/csv" if body[0] != "{" else "application/json"
    response, payload, metrics = call(api_event(body, content_type), context, capsys)
    assert response["statusCode"] == 413
    assert "limit of 50" in assert_error(payload, "payload_too_large")
    assert "PayloadTooLarge" in metrics


@pytest.mark.parametrize("base64_encoded", [False, True])
def test_too_large_body_is_413(stubber, context, capsys, monkeypatch, base64_encoded):
    monkeypatch.setattr(predict, "SETTINGS", dataclasses.replace(predict.SETTINGS, max_body_bytes=100))
    body = "\n".join(csv_line(row) for row in (ROW_A, ROW_B, ROW_A, ROW_B))  # valid rows, 111 bytes
    assert len(body.encode()) > 100
    if base64_encoded:
        body = base64.b64encode(body.encode()).decode()
    response, payload, _ = call(api_event(body, "text/csv", base64_encoded=base64_encoded), context, capsys)
    assert response["statusCode"] == 413
    assert assert_error(payload, "payload_too_large") == "request body exceeds 100 bytes"


def test_multibyte_text_is_measured_in_bytes(stubber, context, capsys, monkeypatch):
    monkeypatch.setattr(predict, "SETTINGS", dataclasses.replace(predict.SETTINGS, max_body_bytes=100))
    body = "é" * 60  # 60 characters, 120 UTF-8 bytes
    response, _, _ = call(api_event(body, "text/csv"), context, capsys)
    assert response["statusCode"] == 413


@pytest.mark.parametrize(
    "content_type",
    [None, "application/xml", "text/plain", "application/x-www-form-urlencoded", "text/csv; charset=latin-1"],
)
def test_unsupported_media_type_is_415(stubber, context, capsys, content_type):
    response, payload, metrics = call(api_event(csv_line(ROW_A), content_type), context, capsys)
    assert response["statusCode"] == 415
    assert_error(payload, "unsupported_media_type")
    assert "UnsupportedMediaType" in metrics


def test_header_names_are_case_insensitive(stubber, context, capsys):
    stubber.add_response("invoke_endpoint", model_answer([0.5]), expected_call(CANONICAL_CSV.split(b"\n")[0]))
    event = api_event(csv_line(ROW_A), None, headers={"Content-Type": "TEXT/CSV"})
    response, _, _ = call(event, context, capsys)
    assert response["statusCode"] == 200


# --- errors from the endpoint ------------------------------------------------------------------


def model_error(stubber: Stubber, original_status: int, original_message: str) -> None:
    stubber.add_client_error(
        "invoke_endpoint",
        service_error_code="ModelError",
        service_message="Received client error from primary with message ...",
        http_status_code=424,
        modeled_fields={
            "OriginalStatusCode": original_status,
            "OriginalMessage": original_message,
            "LogStreamArn": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/churn",
        },
        expected_params=expected_call(CANONICAL_CSV.split(b"\n")[0]),
    )


def test_model_rejecting_input_is_424_with_its_message(stubber, context, capsys):
    model_error(stubber, 400, json.dumps({"error": "row 1: monthly_charges must be >= 0\n"}))
    response, payload, metrics = call(api_event(csv_line(ROW_A), "text/csv"), context, capsys)
    assert response["statusCode"] == 424
    message = assert_error(payload, "model_rejected_input")
    assert message == "the model rejected the input: row 1: monthly_charges must be >= 0"
    assert "ModelRejectedInput" in metrics


def test_model_crash_is_502_and_hides_the_trace(stubber, context, capsys):
    trace = 'Traceback (most recent call last):\n  File "/opt/program/serve.py", line 9\nKeyError: secret'
    model_error(stubber, 500, trace)
    response, payload, metrics = call(api_event(csv_line(ROW_A), "text/csv"), context, capsys)
    assert response["statusCode"] == 502
    message = assert_error(payload, "model_error")
    assert "secret" not in message and "serve.py" not in message
    assert "ModelError" in metrics


def test_long_model_message_is_truncated_to_one_printable_line(stubber, context, capsys):
    model_error(stubber, 503, "overloaded\x00\x1b[31m " + "x" * 1000)
    _, payload, _ = call(api_event(csv_line(ROW_A), "text/csv"), context, capsys)
    message = assert_error(payload, "model_error")
    assert len(message) < 350 and message.isprintable() and message.endswith("...")


@pytest.mark.parametrize(
    ("code", "http_status", "status", "error_code", "metric"),
    [
        ("ThrottlingException", 400, 429, "throttled", "Throttled"),
        ("ServiceUnavailable", 503, 502, "model_unavailable", "ModelUnavailable"),
        ("InternalFailure", 500, 502, "model_unavailable", "ModelUnavailable"),
        ("ModelNotReadyException", 429, 502, "model_unavailable", "ModelUnavailable"),
        ("ValidationError", 400, 502, "model_unavailable", "ModelUnavailable"),
    ],
)
def test_endpoint_errors_are_mapped(stubber, context, capsys, code, http_status, status, error_code, metric):
    stubber.add_client_error(
        "invoke_endpoint",
        service_error_code=code,
        service_message="Endpoint churn-endpoint of account 123456789012 not found.",
        http_status_code=http_status,
    )
    response, payload, metrics = call(api_event(csv_line(ROW_A), "text/csv"), context, capsys)
    assert response["statusCode"] == status
    message = assert_error(payload, error_code)
    assert "123456789012" not in message
    assert metric in metrics


@pytest.mark.parametrize(
    "answer",
    [
        b"not json",
        json.dumps({"predictions": [0.1, 0.2]}).encode(),  # two answers for one row
        json.dumps({"scores": [0.1]}).encode(),
    ],
)
def test_unexpected_model_answer_is_502(stubber, context, capsys, answer):
    stubber.add_response(
        "invoke_endpoint",
        {"Body": streaming(answer), "ContentType": "application/json"},
        expected_call(CANONICAL_CSV.split(b"\n")[0]),
    )
    response, payload, metrics = call(api_event(csv_line(ROW_A), "text/csv"), context, capsys)
    assert response["statusCode"] == 502
    assert_error(payload, "bad_model_response")
    assert "BadModelResponse" in metrics


def test_read_timeout_is_retried_then_504(context, capsys, monkeypatch):
    # Below the Stubber: the client's own retry handler sees a read timeout on every attempt.
    attempts: list[str] = []

    def time_out(request: Any, **_: Any) -> None:
        attempts.append(request.url)
        raise ReadTimeoutError(endpoint_url=request.url)

    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda self, ctx: 0)
    predict.RUNTIME.meta.events.register("before-send.sagemaker-runtime.InvokeEndpoint", time_out)
    try:
        response, payload, metrics = call(api_event(csv_line(ROW_A), "text/csv"), context, capsys)
    finally:
        predict.RUNTIME.meta.events.unregister("before-send.sagemaker-runtime.InvokeEndpoint", time_out)
    assert response["statusCode"] == 504
    assert_error(payload, "model_timeout")
    assert "ModelTimeout" in metrics
    assert len(attempts) == predict.SETTINGS.max_attempts == 2
    assert attempts[0].endswith("/endpoints/churn-endpoint/invocations")


def test_client_is_configured_with_timeouts_and_retries():
    config = predict.RUNTIME.meta.config
    assert config.read_timeout == 5.0 and config.connect_timeout == 1.0
    assert config.retries == {"mode": "standard", "total_max_attempts": 2}


# --- faults of the function itself -------------------------------------------------------------


def test_unknown_aws_error_is_raised_for_the_errors_metric(stubber, context, log_output):
    stubber.add_client_error("invoke_endpoint", service_error_code="AccessDeniedException", http_status_code=403)
    with pytest.raises(Exception) as raised:
        predict.handler(api_event(csv_line(ROW_A), "text/csv"), context)
    assert "AccessDeniedException" in str(raised.value)
    assert '"unhandled error"' in log_output.getvalue()


def test_unexpected_exception_is_logged_and_raised(context, log_output, capsys, monkeypatch):
    class Broken:
        def invoke_endpoint(self, **_: Any) -> None:
            raise RuntimeError("bug")

    monkeypatch.setattr(predict, "RUNTIME", Broken())
    with pytest.raises(RuntimeError, match="bug"):
        predict.handler(api_event(csv_line(ROW_A), "text/csv"), context)
    logged = [json.loads(line) for line in log_output.getvalue().splitlines()]
    assert logged[-1]["message"] == "unhandled error"
    assert "RuntimeError: bug" in logged[-1]["exception"]
    assert "UnhandledError" in emitted_metrics(capsys.readouterr().out)

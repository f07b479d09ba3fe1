"""The prediction handler against a real trained model: handler -> botocore -> shim -> model server.

The model container's own entry points run as the container runs them (`python -m churn.<entry>`
with the SageMaker paths moved into a temporary directory): generate data, preprocess, train a
small LightGBM model, then `serve` on a free loopback port. The handler's real sagemaker-runtime
client reaches it through tools/rehearsal/runtime_shim.py, which plays SageMaker Runtime. This checks the
API/model contract end to end: canonical CSV in, `{"predictions": [{"churn_probability"}]}` out,
the model's 4xx passed through as a 424, the model's version (its custom attributes) reported as
`model_version`, and the golden payloads' expected ranges against a model that was actually
trained on the churn rule.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from api_testkit import API_DIR, FEATURE_NAMES, FakeContext, api_event, predict
from hooks.traffic_checks import api_event as golden_event
from hooks.traffic_checks import check_answer, load_golden
from predict_runtime import build_runtime_client

from tools.rehearsal.runtime_shim import RuntimeShim, ShimConfig

for module in ("lightgbm", "gunicorn", "uvicorn_worker", "msgspec"):
    pytest.importorskip(module, reason=f"the model server needs {module}")

MODEL_DIR = API_DIR.parent / "model"
SERVER_START_SECONDS = 60.0
# The model package version the model server is told it serves; the handler must report it.
SERVED_VERSION = "5"


def _run(entry: str, env: dict[str, str], *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", f"churn.{entry}", *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"churn.{entry} failed:\n{done.stderr[-3000:]}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def model_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("sagemaker")
    env = {
        **os.environ,
        "PYTHONPATH": str(MODEL_DIR),
        "SM_BASE_DIR": str(root / "ml"),
        "SM_PROCESSING_DIR": str(root / "processing"),
        "SM_CHANNEL_TRAIN": str(root / "processing" / "train"),
        "SM_CHANNEL_VALIDATION": str(root / "processing" / "validation"),
        # As the SageMaker Model's environment sets it: the server names it in every answer.
        "MODEL_PACKAGE_VERSION": SERVED_VERSION,
    }
    (root / "processing" / "input").mkdir(parents=True)
    (root / "ml" / "input" / "config").mkdir(parents=True)
    # Fewer rounds than the default: enough for a model that ranks the golden customers.
    (root / "ml" / "input" / "config" / "hyperparameters.json").write_text(json.dumps({"num_round": "60"}))
    _run("data", env, "--rows", "2000", "--output", str(root / "processing" / "input" / "churn.csv"))
    _run("preprocess", env)
    _run("train", env)

    port = _free_port()
    log = (root / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "churn.serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"{url}/ping", timeout=2) as ping:
                    if ping.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"model server did not start:\n{(root / 'serve.log').read_text()[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture(scope="module")
def runtime(model_url: str) -> Iterator[Any]:
    with RuntimeShim(ShimConfig(endpoints={"churn-endpoint": model_url}, variant="AllTraffic")) as shim:
        settings = dataclasses.replace(predict.SETTINGS, max_attempts=1)
        yield build_runtime_client(settings, region="us-east-1", endpoint_url=shim.url)


def call(runtime: Any, event: dict[str, Any]) -> tuple[int, Any]:
    with mock.patch.object(predict, "RUNTIME", runtime):
        response = predict.handler(event, FakeContext())
    return response["statusCode"], json.loads(response["body"])


def test_golden_payloads_pass_against_a_trained_model(runtime):
    for case in load_golden():
        with mock.patch.object(predict, "RUNTIME", runtime):
            answer = predict.handler(golden_event(case), FakeContext())
        assert check_answer(case, answer) == [], (case.name, answer)


def test_named_and_positional_rows_get_the_same_prediction(runtime):
    row = [24, 1, 1, 420, 10, 60.5, 1450, 1, 0, 1]  # standard plan, one-year contract, autopay
    status_a, by_position = call(runtime, api_event(json.dumps({"instances": [row]})))
    status_b, by_name = call(runtime, api_event(json.dumps({"instances": [dict(zip(FEATURE_NAMES, row))]})))
    status_c, as_csv = call(runtime, api_event(",".join(map(str, row)), "text/csv"))
    assert status_a == status_b == status_c == 200
    assert by_position == by_name == as_csv
    probability = by_position["predictions"][0]["churn_probability"]
    assert 0.0 <= probability <= 1.0
    assert by_position["variant"] == "AllTraffic" and by_position["model_version"] == SERVED_VERSION


def test_model_refusal_reaches_the_client_as_424_with_the_models_words(runtime, monkeypatch):
    # Simulate a contract drift: the API sends rows the model does not accept.
    monkeypatch.setattr("predict_request.PredictRequest.to_csv", lambda self: b"1,2")
    status, body = call(runtime, api_event(",".join(["1"] * len(FEATURE_NAMES)), "text/csv"))
    assert status == 424
    assert body["error"]["code"] == "model_rejected_input"
    assert body["error"]["message"].startswith("the model rejected the input: row 1 has 2 values, expected 10")


def test_a_large_request_round_trips(runtime):
    # Basic plan, month-to-month contract; international plan and autopay alternate.
    rows = [[i % 72, 0, 0, 300 + i, 5, 40 + i % 30, 400 + i, i % 5, i % 2, (i + 1) % 2] for i in range(50)]
    status, body = call(runtime, api_event(json.dumps({"instances": rows})))
    assert status == 200
    assert len(body["predictions"]) == 50
    assert all(0.0 <= p["churn_probability"] <= 1.0 for p in body["predictions"])

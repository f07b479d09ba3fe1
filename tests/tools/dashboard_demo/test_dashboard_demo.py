"""`make dashboard`'s predictions: the trained model behind the real API handler, not a rule.

One model is trained per module (the pipeline's own entry points); the dashboard's own client
(mlops_dashboard.prediction.predict_via_api, SigV4-signed as in every stack) asks the demo's API,
and the answer must be exactly what that model computes for the row.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

for module in ("lightgbm", "gunicorn", "uvicorn_worker", "aws_lambda_powertools", "moto", "streamlit"):
    pytest.importorskip(module, reason=f"the dashboard demo trains and serves the model and runs the handler, which need {module}")

from tools.dashboard_demo.cli import running_demo  # noqa: E402
from tools.dashboard_demo.prediction_api import ModelPredictionApi  # noqa: E402
from tools.rehearsal.report import ProgramTree, on_path  # noqa: E402

DASHBOARD_DIR = Path(__file__).resolve().parents[3] / "containers" / "dashboard"


@pytest.fixture(scope="module")
def api():
    api = ModelPredictionApi().start()  # trains a model first, as `make dashboard` does
    yield api
    api.stop()


def customer_rows():
    on_path(ProgramTree().model_dir)
    from churn.data import generate
    from churn.schema import encode

    return encode(generate(20, seed=7, drifted=False)).astype(float).values.tolist()


def test_the_dashboards_client_gets_the_trained_models_answer(api):
    import lightgbm

    if str(DASHBOARD_DIR) not in sys.path:
        sys.path.insert(0, str(DASHBOARD_DIR))
    from mlops_dashboard.prediction import predict_via_api

    model = lightgbm.Booster(model_file=str(api.work / "ml" / "model" / "model.txt"))
    rows = customer_rows()
    expected = model.predict(rows)
    answers = [predict_via_api(api.url, row, "iam", "us-east-1") for row in rows[:5]]
    assert [a.model_version for a in answers] == ["1"] * 5
    assert [a.probability for a in answers] == pytest.approx(list(expected[:5]), abs=1e-4)
    # A trained model, not a constant or a rule: customers get different answers.
    assert len({round(a.probability, 4) for a in answers}) > 1


def test_the_handler_validates_and_the_route_requires_a_signature(api):
    def post(body: bytes, signed: bool):
        headers = {"Content-Type": "application/json"}
        if signed:
            headers["Authorization"] = (
                "AWS4-HMAC-SHA256 Credential=demo/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=0"
            )
        request = urllib.request.Request(f"{api.url}/predict", data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    assert post(b'{"instances": [[1, 2]]}', signed=False) == (403, {"message": "Forbidden"})
    status, body = post(b'{"instances": [[1, 2]]}', signed=True)  # the real handler's validation
    assert status == 400 and body["error"]["code"] and "feature" in body["error"]["message"]
    status, body = post(json.dumps({"instances": customer_rows()[:2]}).encode(), signed=True)
    assert status == 200 and body["model_version"] == "1" and body["variant"] == "AllTraffic" and len(body["predictions"]) == 2


def test_make_dashboard_puts_the_model_api_behind_the_app(api, tmp_path):
    """running_demo (what `make dashboard` runs) serves a given trained model through the same API."""
    with (tmp_path / "streamlit.log").open("wb") as log, running_demo(port=None, log_file=log, model_dir=api.work / "ml" / "model") as demo:
        assert isinstance(demo.api, ModelPredictionApi)
        with urllib.request.urlopen(f"{demo.url}/_stcore/health", timeout=10) as health:
            assert health.read() == b"ok"
        if str(DASHBOARD_DIR) not in sys.path:
            sys.path.insert(0, str(DASHBOARD_DIR))
        from mlops_dashboard.prediction import predict_via_api

        row = customer_rows()[0]
        assert predict_via_api(demo.api.url, row, "iam", "us-east-1").probability == pytest.approx(
            predict_via_api(api.url, row, "iam", "us-east-1").probability, abs=1e-6
        )


def test_stopping_the_api_gives_the_environment_back(api, monkeypatch):
    """The handler is configured through os.environ: a stopped API must not leave it pointing at a dead shim."""
    monkeypatch.setenv("ENDPOINT_NAME", "the-caller's")
    before = dict(os.environ)
    other = ModelPredictionApi(model_dir=api.work / "ml" / "model").start()
    try:
        assert os.environ["ENDPOINT_NAME"] == other.names.endpoint and "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME" in os.environ
    finally:
        other.stop()
    assert dict(os.environ) == before

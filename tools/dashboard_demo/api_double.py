"""A test double of the canary prediction API for the Streamlit app's unit tests (tests/containers/dashboard):
it records every request and can be told what to answer, so a test can check the exact row the
form sends and how the app shows an error. `make dashboard` does not use it: its predictions come
from the trained model behind the real handler (tools/dashboard_demo/prediction_api.py).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# A hand-written rule shaped like the synthetic data's (containers/model/churn/data.py): month-to-
# month contracts, service calls and high charges raise the odds; tenure, autopay lower them.
# Rows are encoded features: numbers as they are, categories as their position in the schema's list
# (autopay and international_plan no/yes = 0/1, so a weight applies to "yes").
STUB_WEIGHTS = {
    "tenure_months": -0.035,
    "monthly_charges": 0.025,
    "autopay": -0.5,
    "international_plan": 0.4,
}
# The contract's term by its encoded position: month-to-month, one-year, two-year. Not a weight on
# the position: the effect is not linear in it.
STUB_CONTRACT_TERMS = {0.0: 1.5, 1.0: 0.0, 2.0: -0.7}
STUB_VERSION = "demo-stub (rule, not a trained model)"


def stub_probability(row: Mapping[str, float]) -> float:
    z = -1.6 - 0.025 * 55.0
    z += sum(weight * row.get(name, 0.0) for name, weight in STUB_WEIGHTS.items())
    # A row without a contract feature (the fallback names) or with an unknown code adds nothing.
    z += STUB_CONTRACT_TERMS.get(row.get("contract"), 0.0)
    z += 0.6 * max(row.get("service_calls", 0.0) - 2.0, 0.0)
    return round(1.0 / (1.0 + math.exp(-z)), 4)


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class StubPredictionApi:
    """`POST /predict` with the canary API's contract, on 127.0.0.1; remembers every request.

    Like the real route (AWS_IAM in every stack), an unsigned request is refused with API
    Gateway's 403; the signature itself is not verified (the demo's credentials are made up)."""

    feature_names: tuple[str, ...]
    requests: list[RecordedRequest] = field(default_factory=list)
    # When set, every request is answered with this (status, JSON body) instead of a prediction.
    forced_answer: tuple[int, dict[str, Any]] | None = None
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, body: bytes, authorization: str = "") -> tuple[int, dict[str, Any]]:
        if not authorization.startswith("AWS4-HMAC-SHA256 Credential="):
            return 403, {"message": "Forbidden"}
        if self.forced_answer is not None:
            return self.forced_answer
        try:
            instances = json.loads(body)["instances"]
            rows = [[float(v) for v in row] for row in instances]
        except (ValueError, KeyError, TypeError):
            return 400, {"error": {"code": "InvalidInput", "message": 'expected {"instances": [[numbers]]}'}}
        width = len(self.feature_names)
        if not rows or any(len(row) != width for row in rows):
            return 400, {
                "error": {
                    "code": "InvalidInput",
                    "message": f"each instance needs {width} features",
                }
            }
        predictions = [stub_probability(dict(zip(self.feature_names, row, strict=True))) for row in rows]
        return 200, {"predictions": predictions, "model_version": STUB_VERSION}

    def start(self) -> StubPredictionApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                api.requests.append(RecordedRequest(self.path, dict(self.headers.items()), body))
                status, payload = (
                    api.answer(body, self.headers.get("Authorization") or "")
                    if self.path == "/predict"
                    else (404, {"error": {"code": "NotFound", "message": f"no route {self.path}"}})
                )
                encoded = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(encoded)))
                self.end_headers()
                self.wfile.write(encoded)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the demo's terminal for the URL and errors

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll interval: stop() waits up to one interval for the loop to notice.
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

"""`POST /predict` for the dashboard demo, answered by the trained model behind the real handler.

The same chain as `make demo` (tools/rehearsal/serving.py): an API Gateway HTTP API (payload 2.0)
event -> the prediction Lambda's real handler (containers/api/predict.py) -> its botocore
sagemaker-runtime client -> tools/rehearsal/runtime_shim.py (SageMaker Runtime) -> `bin/serve` with a model
the pipeline's own entry points trained (generate-data -> preprocess -> train), or one you pass
with --model-dir (e.g. a rehearsal's <workdir>/ml/model).

Like the real route (AWS_IAM in every stack), an unsigned request is refused with API Gateway's
403; the signature itself is not verified (the demo's credentials are made up).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional

from tools.dashboard_demo.demo_data import DemoNames
from tools.rehearsal.pipeline import run_steps
from tools.rehearsal.report import ProgramTree, on_path
from tools.rehearsal.serving import LambdaContext, api_event, load_handler, model_server

TRAINING_STEPS = ("generate-data", "preprocess", "train")
TRAINING_ROWS = 2000
# The registry's deployed version in the demo's story (tools/dashboard_demo/demo_data.py: v1 Approved).
DEPLOYED_VERSION = 1


def _restore_environment(saved: dict[str, str]) -> None:
    os.environ.clear()
    os.environ.update(saved)


@dataclass
class ModelPredictionApi:
    names: DemoNames = field(default_factory=DemoNames)
    model_dir: Optional[Path] = None
    """A trained model (model.txt + metadata.json) to serve; None trains one first."""
    tree: ProgramTree = field(default_factory=ProgramTree)
    requests: int = 0
    _stack: Optional[contextlib.ExitStack] = None
    _server: Optional[ThreadingHTTPServer] = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ModelPredictionApi:
        from tools.rehearsal.runtime_shim import RuntimeShim, ShimConfig

        stack = contextlib.ExitStack()
        # The handler reads its settings and credentials from the environment at import: give them
        # back when the API stops, so the caller's process is as it was.
        saved_environment = dict(os.environ)
        stack.callback(_restore_environment, saved_environment)
        try:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dashboard-model-")))
            self.work = work
            if self.model_dir is None:
                env, _ = run_steps(self.tree, work, TRAINING_ROWS, {"num_round": "100"}, TRAINING_STEPS)
            else:
                env = {**os.environ, "SM_MODEL_DIR": str(self.model_dir.resolve())}
                (work / "logs").mkdir()
            server_url = stack.enter_context(model_server(self.tree, env, work, workers=1, model_version=DEPLOYED_VERSION))
            shim = stack.enter_context(RuntimeShim(ShimConfig(endpoints={self.names.endpoint: server_url})))
            log = stack.enter_context((work / "logs" / "api.log").open("w"))
            on_path(self.tree.model_dir)
            from churn.schema import FEATURE_NAMES

            # The handler signs its calls: made-up credentials, never the developer's own.
            for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
                os.environ.pop(variable, None)
            os.environ.update(
                AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo", AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true"
            )
            handler = load_handler(self.tree, shim.url, self.names.endpoint, FEATURE_NAMES, log)
            self._server = self._serve(handler, log)
            stack.callback(self._shutdown)
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        return self

    def _serve(self, predict: Any, log: Any) -> ThreadingHTTPServer:
        api = self
        # The handler prints its metrics to stdout: calls are serialized and their output goes to the log.
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                api.requests += 1
                if self.path != "/predict":
                    status, headers, payload = 404, {}, json.dumps({"message": "Not Found"})
                elif not (self.headers.get("Authorization") or "").startswith("AWS4-HMAC-SHA256 Credential="):
                    status, headers, payload = 403, {}, json.dumps({"message": "Forbidden"})
                else:
                    with lock, contextlib.redirect_stdout(log):
                        response = predict.handler(api_event(body.decode("utf-8", "replace")), LambdaContext())
                    status, headers, payload = response["statusCode"], response.get("headers") or {}, response.get("body") or ""
                encoded = payload.encode()
                self.send_response(status)
                self.send_header("Content-Type", headers.get("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(encoded)))
                self.end_headers()
                self.wfile.write(encoded)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the demo's terminal for the URL and errors

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return server

    def _shutdown(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def stop(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None

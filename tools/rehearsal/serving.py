"""Rehearsal step 3: the trained model behind the real API handler.

`bin/serve` (gunicorn + uvicorn workers) serves the model the pipeline trained; tools/rehearsal/runtime_shim.py
plays SageMaker Runtime; the prediction Lambda's real handler (containers/api/predict.py) answers
API Gateway v2 events through its real botocore client. The dashboard demo uses the same pieces.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import statistics
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

from tools import processes
from tools.rehearsal.report import ROOT, ProgramTree, Report, on_path

SERVER_START_TIMEOUT = 90


@contextlib.contextmanager
def model_server(tree: ProgramTree, env: dict[str, str], work: Path, workers: int, model_version: Optional[int] = None) -> Iterator[str]:
    """The model server's URL once it is healthy. `model_version` is what the SageMaker Model's
    environment would tell it: the server names it in every answer, and the API reports that."""
    from components.endpoint.model_endpoint import MODEL_VERSION_VARIABLE

    log = work / "logs" / "serve.log"
    served = {**env, MODEL_VERSION_VARIABLE: "" if model_version is None else str(model_version)}
    process = processes.start(
        [sys.executable, str(tree.model_bin / "serve"), "--host", "127.0.0.1", "--port", "0", "--workers", str(workers)], served, log, ROOT
    )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        url = None
        while time.monotonic() < deadline and process.poll() is None:
            if url is None:
                found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", processes.tail(log, 100_000))
                url = found.group(1) if found else None
            if url is not None:
                with contextlib.suppress(urllib.error.URLError, OSError):
                    with urllib.request.urlopen(f"{url}/ping", timeout=2) as ping:
                        if ping.status == 200:
                            break
            time.sleep(0.2)
        else:
            raise processes.StepFailed(f"the model server did not become healthy; log {log}:\n{processes.tail(log)}")
        yield url
    finally:
        processes.stop(process)


@dataclass(frozen=True)
class LambdaContext:
    """The attributes of the Lambda context that Powertools reads."""

    function_name: str = "mlops-predict-api"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:mlops-predict-api:live"
    aws_request_id: str = "rehearsal"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def api_event(body: str) -> dict[str, Any]:
    """`POST /predict` as an API Gateway HTTP API (payload 2.0) delivers it."""
    return {
        "version": "2.0",
        "routeKey": "POST /predict",
        "rawPath": "/predict",
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "rehearsal",
            "http": {"method": "POST", "path": "/predict", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "requestId": "rehearsal",
            "routeKey": "POST /predict",
            "stage": "$default",
        },
        "body": body,
        "isBase64Encoded": False,
    }


def load_handler(tree: ProgramTree, shim_url: str, endpoint: str, feature_names: Sequence[str], log: Any) -> Any:
    """Import containers/api/predict.py as Lambda does at init, its client aimed at the shim."""
    os.environ.update(
        ENDPOINT_NAME=endpoint,
        FEATURE_NAMES=",".join(feature_names),
        AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=shim_url,
        POWERTOOLS_SERVICE_NAME="predict-api-rehearsal",
    )
    on_path(tree.api_dir)
    # Powertools binds its log handler to stdout at import: the API's logs go to the log file.
    # Lambda's init runs once per fresh environment: predict.py reads its settings and builds its
    # client at import, so a module imported earlier with other settings must not be reused.
    sys.modules.pop("predict", None)
    with contextlib.redirect_stdout(log):
        import predict
    return predict


def customers(tree: ProgramTree, rows: int, seed: int, drifted: bool) -> tuple[list[list[float]], float]:
    """Encoded feature rows of freshly generated customers, and their actual churn rate."""
    on_path(tree.model_dir)
    from churn.data import generate
    from churn.schema import LABEL, encode

    frame = generate(rows, seed=seed, drifted=drifted)
    return encode(frame).astype(float).values.tolist(), float(frame[LABEL].mean())


def serve_and_predict(
    tree: ProgramTree, env: dict[str, str], work: Path, report: Report, requests: int, rows_per_request: int, workers: int
) -> None:
    from tools.rehearsal.runtime_shim import RuntimeShim, ShimConfig

    on_path(tree.model_dir)
    from churn.schema import FEATURE_NAMES

    # The handler signs its calls with botocore: fake credentials, never the developer's own.
    for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(variable, None)
    os.environ.update(
        AWS_ACCESS_KEY_ID="rehearsal", AWS_SECRET_ACCESS_KEY="rehearsal", AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true"
    )
    report.requests, report.rows_per_request, report.workers = requests, rows_per_request, workers
    datasets = {
        name: customers(tree, requests * rows_per_request, seed=1000 + i, drifted=name == "drifted")
        for i, name in enumerate(("clean", "drifted"))
    }
    version = next((s.model_version for s in report.stacks if s.model_version), None)
    with contextlib.ExitStack() as running:
        url = running.enter_context(model_server(tree, env, work, workers, model_version=version))
        shim = running.enter_context(RuntimeShim(ShimConfig(endpoints={report.endpoint_name: url})))
        api_log = running.enter_context((work / "logs" / "api.log").open("w"))
        predict = load_handler(tree, shim.url, report.endpoint_name, FEATURE_NAMES, api_log)
        context = LambdaContext()
        latencies: list[float] = []
        with contextlib.redirect_stdout(api_log):
            for _ in range(5):  # warm-up: connection pools and worker caches, as on a warm Lambda
                predict.handler(api_event(json.dumps({"instances": datasets["clean"][0][:1]})), context)
            for name, (rows, actual) in datasets.items():
                probabilities: list[float] = []
                for i in range(requests):
                    chunk = rows[i * rows_per_request : (i + 1) * rows_per_request]
                    started = time.perf_counter()
                    response = predict.handler(api_event(json.dumps({"instances": chunk})), context)
                    latencies.append((time.perf_counter() - started) * 1000.0)
                    body = json.loads(response["body"])
                    if response["statusCode"] != 200:
                        report.failed.append(f"{name} request {i}: {response['statusCode']} {body}")
                        continue
                    report.answered += 1
                    report.model_version, report.variant = body.get("model_version"), body.get("variant")
                    probabilities += [p["churn_probability"] for p in body["predictions"]]
                report.mean_churn[name] = round(statistics.fmean(probabilities), 4) if probabilities else float("nan")
                report.actual_churn[name] = round(actual, 4)
    ordered = sorted(latencies)
    report.latency_ms = {
        "p50": round(statistics.median(ordered), 2),
        "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
        "max": round(ordered[-1], 2),
    }
    if report.failed:
        report.problems.append(f"{len(report.failed)} of {2 * requests} predictions failed, first: {report.failed[0]}")

"""Cold-start import time and warm per-invocation overhead of the prediction Lambda handler.

    venv/bin/python -m benchmarks.api_handler [--cold-runs 15] [--warm-calls 2000]
        [--cold-python python3.12 --cold-api-dir build/api]

Cold: `import predict` in a fresh interpreter, as Lambda's init does (module-level settings and the
sagemaker-runtime client included), split into third-party imports (botocore, Powertools) and the
handler's own part. Warm: one handler invocation, in process, with the endpoint answered instantly
by three stand-ins of increasing realism:

* fake      a plain object: the handler and Powertools alone;
* stubber   botocore's Stubber on the real client: + parameter validation and client events;
* botocore  the real client with the HTTP send replaced by a canned response: + serialization,
            SigV4 signing and response parsing, i.e. everything but the network.

`--cold-python`/`--cold-api-dir` time the cold import under another interpreter against a built
archive (dependencies vendored and byte-compiled as containers/api/requirements.txt says), e.g.
the runtime's Python 3.12.

Targets: cold import <= 250 ms; warm overhead <= 1 ms (judged on "stubber", the stubbed client).
Logs and EMF metrics are written to /dev/null, as the cost of Lambda's log pipe is not ours. Fake
credentials only: nothing leaves the process.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
API_DIR = ROOT / "containers" / "api"
GOLDEN = json.loads((API_DIR / "hooks" / "golden.json").read_text())
COLD_TARGET_MS = 250.0
WARM_TARGET_MS = 1.0
ENV = {
    "ENDPOINT_NAME": "churn-endpoint",
    "FEATURE_NAMES": ",".join(GOLDEN["feature_names"]),
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "benchmark",
    "AWS_SECRET_ACCESS_KEY": "benchmark",
    "AWS_EC2_METADATA_DISABLED": "true",
}

_COLD_CHILD = """
import sys, time, json
sys.path.insert(0, {api_dir!r})
t0, c0 = time.perf_counter(), time.process_time()
import botocore.session, botocore.config
from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.metrics import Metrics
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event import APIGatewayProxyEventV2
t1, c1 = time.perf_counter(), time.process_time()
import predict
t2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({{
    "total": (t2 - t0) * 1000, "deps": (t1 - t0) * 1000, "own": (t2 - t1) * 1000,
    "total_cpu": (c2 - c0) * 1000, "deps_cpu": (c1 - c0) * 1000, "own_cpu": (c2 - c1) * 1000,
}}))
"""


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median": statistics.median(ordered),
        "min": ordered[0],
        "p90": ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))],
        "p99": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
    }


def cold_import(runs: int, python: str = sys.executable, api_dir: Path = API_DIR) -> dict[str, dict[str, float]]:
    env = {**os.environ, **ENV, "PYTHONDONTWRITEBYTECODE": "1"}
    code = _COLD_CHILD.format(api_dir=str(api_dir))
    # One throw-away run so every measured run finds the same warm page cache and .pyc files.
    subprocess.run([python, "-c", code], env=env, check=True, capture_output=True)
    samples: dict[str, list[float]] = {key: [] for key in ("total", "deps", "own", "total_cpu", "deps_cpu", "own_cpu")}
    for _ in range(runs):
        out = subprocess.run([python, "-c", code], env=env, check=True, capture_output=True, text=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        for key in samples:
            samples[key].append(result[key])
    return {key: _stats(values) for key, values in samples.items()}


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Send stdout (Powertools logs and EMF) to /dev/null at the file-descriptor level."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(devnull)
        os.close(saved)


class _Raw:
    """The part of a urllib3 response that botocore reads."""

    def __init__(self, data: bytes) -> None:
        self._io = io.BytesIO(data)

    def stream(self, amt: int = 1024, decode_content: bool = False) -> Iterator[bytes]:
        yield self._io.read()

    def read(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        return self._io.read() if amt is None else self._io.read(amt)


def _answer(rows: int) -> bytes:
    return json.dumps({"predictions": [{"churn_probability": 0.42}] * rows}).encode()


def _event(body: str, content_type: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "POST /predict",
        "rawPath": "/predict",
        "rawQueryString": "",
        "headers": {"content-type": content_type},
        "requestContext": {"http": {"method": "POST", "path": "/predict"}, "stage": "$default", "requestId": "r"},
        "body": body,
        "isBase64Encoded": False,
    }


class _Context:
    function_name = "predict-api"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:predict-api:live"
    aws_request_id = "benchmark"


def _measure(call: Callable[[], Any], iterations: int) -> dict[str, float]:
    for _ in range(min(200, iterations)):
        call()
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000.0)
    return _stats(samples)


def warm_overhead(iterations: int) -> dict[str, dict[str, dict[str, float]]]:
    os.environ.update(ENV)
    sys.path.insert(0, str(API_DIR))
    import predict
    from botocore.awsrequest import AWSResponse
    from botocore.response import StreamingBody
    from botocore.stub import Stubber

    rows = [case for case in GOLDEN["cases"] if case["name"] == "csv-two-customers"][0]["body"]
    requests = {
        "csv 2 rows": (rows, "text/csv", 2),
        "json 100 rows": (json.dumps({"instances": [GOLDEN["cases"][1]["body"]["instances"][0]] * 100}), "application/json", 100),
    }
    context = _Context()
    results: dict[str, dict[str, dict[str, float]]] = {}
    for label, (body, content_type, n) in requests.items():
        event = _event(body, content_type)
        answer = _answer(n)
        per_client: dict[str, dict[str, float]] = {}

        class Fake:
            def invoke_endpoint(self, **_: Any) -> dict[str, Any]:
                return {"Body": StreamingBody(io.BytesIO(answer), len(answer)), "InvokedProductionVariant": "AllTraffic"}

        predict.RUNTIME = Fake()
        with _quiet():
            per_client["fake"] = _measure(lambda: predict.handler(event, context), iterations)

        client = predict.build_runtime_client(predict.SETTINGS)
        stubber = Stubber(client)
        predict.RUNTIME = client

        def stubbed_call() -> None:
            stubber.add_response(
                "invoke_endpoint",
                {"Body": StreamingBody(io.BytesIO(answer), len(answer)), "InvokedProductionVariant": "AllTraffic"},
            )
            predict.handler(event, context)

        with stubber, _quiet():
            per_client["stubber"] = _measure(stubbed_call, iterations)

        client = predict.build_runtime_client(predict.SETTINGS)
        headers = {
            "Content-Type": "application/json",
            "x-Amzn-Invoked-Production-Variant": "AllTraffic",
            "Content-Length": str(len(answer)),
        }
        client.meta.events.register(
            "before-send.sagemaker-runtime.InvokeEndpoint",
            lambda request, **_: AWSResponse(request.url, 200, headers, _Raw(answer)),
        )
        predict.RUNTIME = client
        with _quiet():
            per_client["botocore"] = _measure(lambda: predict.handler(event, context), iterations)
        results[label] = per_client
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cold-runs", type=int, default=15)
    parser.add_argument("--warm-calls", type=int, default=2000)
    parser.add_argument("--cold-python", default=sys.executable, help="interpreter for the cold runs")
    parser.add_argument("--cold-api-dir", type=Path, default=API_DIR, help="archive root for the cold runs")
    args = parser.parse_args(argv)

    print(
        f"machine: {platform.machine()} {os.cpu_count()} CPU(s), {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
    )
    load = os.getloadavg()[0]
    cold = cold_import(args.cold_runs, args.cold_python, args.cold_api_dir)
    version = subprocess.run(
        [args.cold_python, "-c", "import platform; print(platform.python_version())"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(
        f"\ncold import of predict from {args.cold_api_dir} ({args.cold_runs} fresh Python {version} "
        f"interpreters; load average {load:.2f}), ms"
    )
    for part, label in (("deps", "botocore + Powertools"), ("own", "handler module + client"), ("total", "total")):
        wall, cpu = cold[part], cold[f"{part}_cpu"]
        print(
            f"  {label:26} wall median {wall['median']:6.1f} min {wall['min']:6.1f} p90 {wall['p90']:6.1f}"
            f"   cpu median {cpu['median']:6.1f}"
        )
    # Judged on CPU time: this machine is shared (other builds run beside the benchmark), while a
    # Lambda init runs alone on its vCPU, where wall time and CPU time of an import coincide.
    cold_ok = cold["total_cpu"]["median"] <= COLD_TARGET_MS
    print(f"  target <= {COLD_TARGET_MS:.0f} ms (total, CPU-time median): {'met' if cold_ok else 'MISSED'}")

    warm = warm_overhead(args.warm_calls)
    print(f"\nwarm invocation ({args.warm_calls} calls each), ms per call")
    warm_ok = True
    for request, per_client in warm.items():
        for client, s in per_client.items():
            print(f"  {request:14} {client:9} median {s['median']:6.3f}  p90 {s['p90']:6.3f}  p99 {s['p99']:6.3f}")
        if request == "csv 2 rows":
            warm_ok = per_client["stubber"]["median"] <= WARM_TARGET_MS
    print(f"  target <= {WARM_TARGET_MS:.0f} ms (csv 2 rows, stubber, median): {'met' if warm_ok else 'MISSED'}")
    return 0 if cold_ok and warm_ok else 1


if __name__ == "__main__":
    sys.exit(main())

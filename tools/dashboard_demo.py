"""Run the Streamlit dashboard locally on made-up data: `venv/bin/python -m tools.dashboard_demo`.

What runs, all on 127.0.0.1 and all stopped by Ctrl-C:
- a moto server standing in for AWS, seeded with a model package group of three versions (their
  evaluation reports in S3, three different approval statuses), an endpoint, twelve hours of endpoint
  metrics and a drift alarm in ALARM;
- a stub of the canary prediction API whose "model" is a fixed rule written below, not a trained
  model (or, with --api-url, a real API you run yourself);
- `streamlit run` with the dashboard's environment pointing at both.
The app shows a banner saying the data is a demo. The browser test and `--screenshot` (which wrote
docs/dashboard.png) use the same pieces.

moto 5.2.5 does not compute CloudWatch percentiles (p50/p99 make get_metric_data fail), so
`enable_moto_percentiles` teaches its in-process backend to: the dashboard asks for ModelLatency
p50/p99 exactly as it would from CloudWatch.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD_DIR = ROOT / "containers" / "dashboard"
REGION = "us-east-1"
MOTO_ACCOUNT = "123456789012"  # moto's default account

BANNER = (
    "Demo data: a local moto server seeded by tools/dashboard_demo.py stands in for AWS, and "
    "predictions come from a rule-based stub, not a trained model."
)
# Used only when the model's schema (containers/model/churn/schema.py) is not in the checkout.
FALLBACK_FEATURES = ("tenure_months", "monthly_charges", "service_calls", "autopay")


@dataclass(frozen=True)
class DemoNames:
    group: str = "churn-demo"
    bucket: str = "churn-demo-artifacts"
    endpoint: str = "churn-demo-endpoint"
    variant: str = "AllTraffic"
    alarm: str = "churn-demo-drift"


@dataclass(frozen=True)
class DemoVersion:
    approval: str
    age_days: int
    metrics: Mapping[str, float]
    description: str


# Three versions that tell a plausible story: v1 approved and deployed, v2 rejected (recall fell),
# v3 better and waiting for a reviewer.
DEMO_VERSIONS = (
    DemoVersion(
        "Approved",
        41,
        {"auc": 0.812, "accuracy": 0.781, "precision": 0.702, "recall": 0.611, "f1": 0.653},
        "monthly retraining",
    ),
    DemoVersion(
        "Rejected",
        12,
        {"auc": 0.804, "accuracy": 0.789, "precision": 0.744, "recall": 0.538, "f1": 0.624},
        "retrained on drift alarm; recall regressed",
    ),
    DemoVersion(
        "PendingManualApproval",
        2,
        {"auc": 0.846, "accuracy": 0.803, "precision": 0.731, "recall": 0.664, "f1": 0.696},
        "monthly retraining",
    ),
)


def demo_feature_names() -> tuple[str, ...]:
    """The model's encoded feature names, read from its schema the way the dashboard reads it."""
    if str(DASHBOARD_DIR) not in sys.path:
        sys.path.insert(0, str(DASHBOARD_DIR))
    from mlops_dashboard.features import load_schema

    schema = load_schema()
    return tuple(schema.FEATURE_NAMES) if schema is not None else FALLBACK_FEATURES


# --- moto ------------------------------------------------------------------------------------------


def enable_moto_percentiles() -> None:
    """Make moto's CloudWatch answer pNN statistics from the raw samples it stores.

    Idempotent. Affects only this process's moto (mock_aws or a ThreadedMotoServer started here).
    """
    from moto.cloudwatch import models

    original = models.Statistics.get_statistics_for_type
    if getattr(original, "_percentiles", False):
        return

    def get_statistics_for_type(self: Any, stat: str) -> Any:
        match = re.fullmatch(r"p(\d{1,2}(?:\.\d+)?|100)", stat)
        if match is None:
            return original(self, stat)
        values = sorted(self.metric_single_values_list)
        if not values:
            return None
        rank = float(match.group(1)) / 100 * (len(values) - 1)
        low, high = math.floor(rank), math.ceil(rank)
        return values[low] + (values[high] - values[low]) * (rank - low)

    get_statistics_for_type._percentiles = True  # type: ignore[attr-defined]
    models.Statistics.get_statistics_for_type = get_statistics_for_type  # type: ignore[method-assign]


def _clients(endpoint_url: str | None, region: str) -> dict[str, Any]:
    session = boto3.session.Session(
        aws_access_key_id="demo", aws_secret_access_key="demo", region_name=region
    )
    return {
        name: session.client(name, endpoint_url=endpoint_url)
        for name in ("s3", "sagemaker", "cloudwatch")
    }


def _backdate_versions(names: DemoNames, region: str, ages: Sequence[int]) -> None:
    # SageMaker stamps CreationTime itself; moto runs in this process, so set a history directly.
    from moto.sagemaker.models import sagemaker_backends

    packages = sagemaker_backends[MOTO_ACCOUNT][region].model_packages
    for version, age in enumerate(ages, start=1):
        for package in packages.values():
            if (
                package.model_package_group_name == names.group
                and package.model_package_version == version
            ):
                package.creation_time = package.creation_time - timedelta(days=age, hours=version)


def seed_registry(
    endpoint_url: str | None, names: DemoNames = DemoNames(), region: str = REGION
) -> None:
    """A model package group with DEMO_VERSIONS, each with its evaluation report in S3."""
    aws = _clients(endpoint_url, region)
    aws["s3"].create_bucket(Bucket=names.bucket)
    aws["sagemaker"].create_model_package_group(
        ModelPackageGroupName=names.group, ModelPackageGroupDescription="Demo churn models"
    )
    for number, version in enumerate(DEMO_VERSIONS, start=1):
        key = f"evaluation/v{number}/evaluation.json"
        report = {
            "binary_classification_metrics": {
                name: {"value": value, "standard_deviation": "NaN"}
                for name, value in version.metrics.items()
            }
        }
        aws["s3"].put_object(Bucket=names.bucket, Key=key, Body=json.dumps(report).encode())
        aws["sagemaker"].create_model_package(
            ModelPackageGroupName=names.group,
            ModelPackageDescription=version.description,
            ModelApprovalStatus=version.approval,
            InferenceSpecification={
                "Containers": [
                    {
                        "Image": f"{MOTO_ACCOUNT}.dkr.ecr.{region}.amazonaws.com/churn-model:demo",
                        "ModelDataUrl": f"s3://{names.bucket}/models/v{number}/model.tar.gz",
                    }
                ],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            ModelMetrics={
                "ModelQuality": {
                    "Statistics": {
                        "ContentType": "application/json",
                        "S3Uri": f"s3://{names.bucket}/{key}",
                    }
                }
            },
        )
    _backdate_versions(names, region, [v.age_days for v in DEMO_VERSIONS])


def seed_endpoint(
    endpoint_url: str | None, names: DemoNames = DemoNames(), region: str = REGION
) -> None:
    sagemaker = _clients(endpoint_url, region)["sagemaker"]
    sagemaker.create_model(
        ModelName=f"{names.endpoint}-v1",
        PrimaryContainer={
            "Image": f"{MOTO_ACCOUNT}.dkr.ecr.{region}.amazonaws.com/churn-model:demo",
            "ModelDataUrl": f"s3://{names.bucket}/models/v1/model.tar.gz",
        },
        ExecutionRoleArn=f"arn:aws:iam::{MOTO_ACCOUNT}:role/churn-demo-sagemaker",
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"{names.endpoint}-config-v1",
        ProductionVariants=[
            {
                "VariantName": names.variant,
                "ModelName": f"{names.endpoint}-v1",
                "InitialInstanceCount": 2,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sagemaker.create_endpoint(
        EndpointName=names.endpoint, EndpointConfigName=f"{names.endpoint}-config-v1"
    )


def seed_metrics(
    endpoint_url: str | None,
    names: DemoNames = DemoNames(),
    region: str = REGION,
    now: datetime | None = None,
    hours: int = 12,
) -> None:
    """Five-minute endpoint metrics for the last `hours`: steady traffic, a 5XX burst, latencies."""
    cloudwatch = _clients(endpoint_url, region)["cloudwatch"]
    rng = random.Random(7)  # the same picture on every run
    end = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    dimensions = [
        {"Name": "EndpointName", "Value": names.endpoint},
        {"Name": "VariantName", "Value": names.variant},
    ]
    steps = hours * 12
    data: list[dict[str, Any]] = []
    for step in range(steps):
        stamp = end - timedelta(minutes=5 * (steps - step)) + timedelta(seconds=30)
        load = 300 + 120 * math.sin(step / steps * 2 * math.pi) + rng.gauss(0, 20)
        burst = steps - 30 <= step < steps - 26  # twenty minutes of server errors, ~2 h ago
        counts = {
            "Invocations": max(0, round(load)),
            "Invocation4XXErrors": rng.choice((0, 0, 1, 1, 2, 3)),
            "Invocation5XXErrors": rng.randint(8, 20) if burst else rng.choice((0, 0, 0, 0, 1)),
        }
        for metric, value in counts.items():
            data.append(
                {
                    "MetricName": metric,
                    "Dimensions": dimensions,
                    "Timestamp": stamp,
                    "Value": float(value),
                    "Unit": "None",
                }
            )
        # ModelLatency in microseconds, as SageMaker reports it; slower during the burst.
        median = 42_000 * (2.5 if burst else 1.0)
        data.append(
            {
                "MetricName": "ModelLatency",
                "Dimensions": dimensions,
                "Timestamp": stamp,
                "Values": [round(rng.lognormvariate(math.log(median), 0.45)) for _ in range(12)],
                "Unit": "Microseconds",
            }
        )
    for start in range(0, len(data), 500):  # well under PutMetricData's 1000-datum limit
        cloudwatch.put_metric_data(Namespace="AWS/SageMaker", MetricData=data[start : start + 500])


def seed_alarm(
    endpoint_url: str | None, names: DemoNames = DemoNames(), region: str = REGION
) -> None:
    cloudwatch = _clients(endpoint_url, region)["cloudwatch"]
    cloudwatch.put_metric_alarm(
        AlarmName=names.alarm,
        AlarmDescription="Model Monitor data-quality drift on the demo endpoint",
        Namespace="aws/sagemaker/Endpoints/data-metrics",
        MetricName="feature_baseline_drift_monthly_charges",
        Dimensions=[
            {"Name": "Endpoint", "Value": names.endpoint},
            {"Name": "MonitoringSchedule", "Value": f"{names.endpoint}-data-quality"},
        ],
        Statistic="Maximum",
        Period=3600,
        EvaluationPeriods=1,
        Threshold=0.2,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )
    # moto never evaluates alarms: set the state a real evaluation would have produced.
    cloudwatch.set_alarm_state(
        AlarmName=names.alarm,
        StateValue="ALARM",
        StateReason=(
            "Threshold Crossed (demo): feature_baseline_drift_monthly_charges was 0.31, above "
            "the threshold 0.2."
        ),
    )


def seed_all(
    endpoint_url: str | None, names: DemoNames = DemoNames(), region: str = REGION
) -> None:
    enable_moto_percentiles()
    seed_registry(endpoint_url, names, region)
    seed_endpoint(endpoint_url, names, region)
    seed_metrics(endpoint_url, names, region)
    seed_alarm(endpoint_url, names, region)


# --- the prediction API stub -----------------------------------------------------------------


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
            return 400, {
                "error": {"code": "InvalidInput", "message": 'expected {"instances": [[numbers]]}'}
            }
        width = len(self.feature_names)
        if not rows or any(len(row) != width for row in rows):
            return 400, {
                "error": {
                    "code": "InvalidInput",
                    "message": f"each instance needs {width} features",
                }
            }
        predictions = [
            stub_probability(dict(zip(self.feature_names, row, strict=True))) for row in rows
        ]
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
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


# --- Streamlit -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def dashboard_env(
    moto_url: str, api_url: str, feature_names: Sequence[str], names: DemoNames = DemoNames()
) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")
    }
    env.update(
        # Made-up credentials: whatever the caller has configured must never be sent anywhere.
        AWS_ACCESS_KEY_ID="demo",
        AWS_SECRET_ACCESS_KEY="demo",
        AWS_SESSION_TOKEN="demo",
        AWS_REGION=REGION,
        AWS_DEFAULT_REGION=REGION,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_ENDPOINT_URL=moto_url,
        MODEL_PACKAGE_GROUP=names.group,
        ENDPOINT_NAME=names.endpoint,
        DRIFT_ALARM_NAME=names.alarm,
        API_URL=api_url,
        PREDICTION_BACKEND="api",
        API_AUTH="iam",  # as the Dashboard component sets it: the route requires SigV4 in every stack
        FEATURE_NAMES=",".join(feature_names),
        DASHBOARD_BANNER=BANNER,
    )
    return env


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode} before serving")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read().strip() == b"ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise TimeoutError(f"{url}/_stcore/health did not answer 'ok' within {timeout:.0f} s")


def start_streamlit(
    port: int, env: Mapping[str, str], log_file: Any = None
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    return subprocess.Popen(
        command,
        cwd=DASHBOARD_DIR,
        env=dict(env),
        stdout=log_file,
        stderr=subprocess.STDOUT if log_file else None,
    )


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Demo:
    url: str
    moto_url: str
    api: StubPredictionApi | None
    names: DemoNames
    process: subprocess.Popen[bytes]


@contextmanager
def running_demo(
    port: int | None = None, api_url: str | None = None, log_file: Any = None
) -> Iterator[Demo]:
    """moto server + seed + API stub (unless `api_url`) + streamlit; everything stops on exit."""
    from moto.server import ThreadedMotoServer

    names = DemoNames()
    feature_names = demo_feature_names()
    # werkzeug logs every request moto serves; the terminal is for the URL and real errors.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    stub: StubPredictionApi | None = None
    process: subprocess.Popen[bytes] | None = None
    try:
        host, moto_port = moto.get_host_and_port()
        moto_url = f"http://{host}:{moto_port}"
        seed_all(moto_url, names)
        if api_url is None:
            stub = StubPredictionApi(feature_names).start()
            api_url = stub.url
        port = port or free_port()
        process = start_streamlit(
            port, dashboard_env(moto_url, api_url, feature_names, names), log_file
        )
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(url, process)
        yield Demo(url=url, moto_url=moto_url, api=stub, names=names, process=process)
    finally:
        if process is not None:
            stop_process(process)
        if stub is not None:
            stub.stop()
        moto.stop()


# --- the browser ------------------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@dataclass(frozen=True)
class PageCapture:
    text: str
    # Every st.dataframe on the page, as rows of cell texts (header first). The grid is drawn on a
    # canvas; these come from the accessible <table role="grid"> Streamlit renders alongside it.
    tables: list[list[list[str]]]


_READ_GRIDS = """
return Array.from(document.querySelectorAll('[data-testid="stDataFrame"] table[role="grid"]'))
  .map(t => Array.from(t.querySelectorAll('tr'))
    .map(r => Array.from(r.querySelectorAll('th, td')).map(c => c.textContent.trim())));
"""


def screenshot(
    url: str,
    path: Path,
    wait_for: Sequence[str] = ('[data-testid="stDataFrame"]',),
    width: int = 1440,
    timeout: float = 45,
) -> PageCapture:
    """Open `url` in headless Chromium, wait until the page is drawn, save a PNG; return its content."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    with tempfile.TemporaryDirectory(prefix="dashboard-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in (
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--window-size={width},1000",
        ):
            options.add_argument(flag)
        # An explicit driver path: Selenium then never tries to download one.
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        try:
            driver.get(url)
            wait = WebDriverWait(driver, timeout)
            for selector in wait_for:
                wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, selector)))
            # The status widget ("Running…") shows while the script runs: gone means drawn.
            wait.until(
                ec.invisibility_of_element_located(
                    (By.CSS_SELECTOR, '[data-testid="stStatusWidget"]')
                )
            )
            height = driver.execute_script(
                "const main = document.querySelector('[data-testid=\"stMain\"]');"
                "return Math.max(document.body.scrollHeight, main ? main.scrollHeight : 0);"
            )
            driver.set_window_size(width, min(max(int(height) + 40, 900), 2400))
            time.sleep(1.0)  # charts re-layout after the resize
            path.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(path))
            return PageCapture(
                text=str(driver.find_element(By.TAG_NAME, "body").text),
                tables=driver.execute_script(_READ_GRIDS),
            )
        finally:
            driver.quit()


# --- command line ------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.dashboard_demo", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--port", type=int, default=8501, help="Streamlit's port (default 8501)")
    parser.add_argument(
        "--api-url",
        help="send predictions to this canary API (base URL; POST {url}/predict) instead of the stub",
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="PNG",
        help="save a screenshot of a page with headless Chromium and exit",
    )
    parser.add_argument(
        "--page",
        choices=("registry", "health", "predict"),
        default="registry",
        help="the page --screenshot captures (default registry)",
    )
    args = parser.parse_args(argv)

    try:
        return _run(args)
    except (RuntimeError, TimeoutError) as exc:  # e.g. the port is taken: say so, no traceback
        print(f"dashboard demo: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    with running_demo(port=args.port, api_url=args.api_url) as demo:
        if args.screenshot:
            waits = {
                "registry": ('[data-testid="stDataFrame"]', '[data-testid="stVegaLiteChart"]'),
                "health": ('[data-testid="stVegaLiteChart"]', '[data-testid="stAlert"]'),
                "predict": ('[data-testid="stForm"]',),
            }[args.page]
            # The registry is the default page, which Streamlit serves at the root URL only.
            path = "" if args.page == "registry" else args.page
            screenshot(f"{demo.url}/{path}", args.screenshot, wait_for=waits)
            print(f"saved {args.screenshot}")
            return 0
        print(
            f"\nDashboard (demo data): {demo.url}   — Ctrl-C stops it, the moto server and the stub.\n",
            flush=True,
        )
        try:
            demo.process.wait()
        except KeyboardInterrupt:
            print("stopping…")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

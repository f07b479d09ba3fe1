"""Run the Streamlit dashboard locally on made-up data: `venv/bin/python -m tools.dashboard_demo`.

What runs, all on 127.0.0.1 and all stopped by Ctrl-C:
- a moto server standing in for AWS, seeded with a model package group of three versions (their
  evaluation reports in S3, three different approval statuses), an endpoint, twelve hours of endpoint
  metrics and a drift alarm in ALARM (tools/dashboard_demo/seed.py);
- the prediction API: a model trained by the pipeline's own entry points (or --model-dir), served by
  `bin/serve` behind the real prediction Lambda handler, as `make demo` serves it
  (tools/dashboard_demo/prediction_api.py); or, with --api-url, a real API you run yourself;
- `streamlit run` with the dashboard's environment pointing at both.
The app shows a banner saying the data is a demo. The browser test and `--screenshot` (which wrote
docs/dashboard.png) use the same pieces (tools/dashboard_demo/browser.py).
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.dashboard_demo.api_double import RecordedRequest, StubPredictionApi, stub_probability
from tools.dashboard_demo.browser import CHROMEDRIVER, CHROMIUM, PageCapture, screenshot
from tools.dashboard_demo.demo_data import (
    BANNER,
    DASHBOARD_DIR,
    DEFAULT_NAMES,
    DEMO_VERSIONS,
    MOTO_ACCOUNT,
    REGION,
    ROOT,
    DemoNames,
    DemoVersion,
    demo_feature_names,
)
from tools.dashboard_demo.prediction_api import ModelPredictionApi
from tools.dashboard_demo.seed import enable_moto_percentiles, seed_alarm, seed_all, seed_endpoint, seed_metrics, seed_registry
from tools.processes import StepFailed
from tools.rehearsal.pipeline import RehearsalError

# What the dashboard tests import from here (the pieces live in the modules above).
__all__ = [
    "BANNER",
    "CHROMEDRIVER",
    "CHROMIUM",
    "DASHBOARD_DIR",
    "DEMO_VERSIONS",
    "MOTO_ACCOUNT",
    "REGION",
    "ROOT",
    "Demo",
    "DemoNames",
    "DemoVersion",
    "ModelPredictionApi",
    "PageCapture",
    "RecordedRequest",
    "StubPredictionApi",
    "dashboard_env",
    "demo_feature_names",
    "enable_moto_percentiles",
    "main",
    "running_demo",
    "screenshot",
    "seed_alarm",
    "seed_all",
    "seed_endpoint",
    "seed_metrics",
    "seed_registry",
    "stub_probability",
]


# --- Streamlit -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def dashboard_env(moto_url: str, api_url: str, feature_names: Sequence[str], names: DemoNames = DEFAULT_NAMES) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")}
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


def start_streamlit(port: int, env: Mapping[str, str], log_file: Any = None) -> subprocess.Popen[bytes]:
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
    api: ModelPredictionApi | None
    names: DemoNames
    process: subprocess.Popen[bytes]


@contextmanager
def running_demo(
    port: int | None = None, api_url: str | None = None, log_file: Any = None, model_dir: Path | None = None
) -> Iterator[Demo]:
    """moto server + seed + the model-backed API (unless `api_url`) + streamlit; everything stops on exit."""
    from moto.server import ThreadedMotoServer

    names = DemoNames()
    feature_names = demo_feature_names()
    # werkzeug logs every request moto serves; the terminal is for the URL and real errors.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    api: ModelPredictionApi | None = None
    process: subprocess.Popen[bytes] | None = None
    try:
        host, moto_port = moto.get_host_and_port()
        moto_url = f"http://{host}:{moto_port}"
        # moto's backends are global to the process: a test's mock_aws or an earlier demo in it
        # would still be there (a second copy of every version). Start from nothing.
        urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"), timeout=30).close()
        seed_all(moto_url, names)
        if api_url is None:
            api = ModelPredictionApi(names, model_dir).start()
            api_url = api.url
        port = port or free_port()
        process = start_streamlit(port, dashboard_env(moto_url, api_url, feature_names, names), log_file)
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(url, process)
        yield Demo(url=url, moto_url=moto_url, api=api, names=names, process=process)
    finally:
        if process is not None:
            stop_process(process)
        if api is not None:
            api.stop()
        moto.stop()


# --- command line ------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.dashboard_demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8501, help="Streamlit's port (default 8501)")
    parser.add_argument(
        "--api-url",
        help="send predictions to this canary API (base URL; POST {url}/predict) instead of the local one",
    )
    parser.add_argument(
        "--model-dir",
        type=Path,
        help="serve this trained model (e.g. a rehearsal's <workdir>/ml/model) instead of training one first",
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
    except (RuntimeError, TimeoutError, RehearsalError, StepFailed) as exc:  # e.g. the port is taken: say so, no traceback
        print(f"dashboard demo: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    with running_demo(port=args.port, api_url=args.api_url, model_dir=args.model_dir) as demo:
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
            f"\nDashboard (demo data): {demo.url}   — Ctrl-C stops it, the moto server, the model server and the API.\n",
            flush=True,
        )
        try:
            demo.process.wait()
        except KeyboardInterrupt:
            print("stopping…")
    return 0

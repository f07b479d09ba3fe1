"""The whole system rehearsed on this machine, with the real code at every step (`make demo`).

    python -m tools.rehearsal [--stack dev --stack prod] [--rows N] [--requests N] [--quick]
                              [--set key=value ...] [--workdir DIR] [--json FILE]

1. GitOps check: the offline preview of each stack (the real program under Pulumi mocks, judged by
   the real policy pack over the Analyzer protocol, with its cost estimate), as a pull request runs it.
2. Training pipeline: the model image's own entry points (containers/model/bin), run as SageMaker
   runs them with its /opt/ml layout moved into a work directory: generate-data -> preprocess ->
   train (the pipeline's hyper-parameters) -> evaluate, then the pipeline's condition: test AUC
   against each stack's `training.minAuc`.
3. Serving: `bin/serve` (gunicorn + uvicorn workers) with the trained model; tools/runtime_shim.py
   plays SageMaker Runtime; the prediction Lambda's real handler (containers/api/predict.py) answers
   API Gateway v2 events through its real botocore client, for clean and for drifted customers.
4. A short report: AUC and gate verdicts, prediction latency (p50/p99 through handler, shim and
   server), mean predicted churn on clean vs drifted data, and how to open the dashboard.

Every process it starts runs in its own process group and is stopped on exit, Ctrl-C included.
Exit code 0 when every step ran, every preview passed, the model passed every stack's gate and every
prediction was answered; 1 otherwise (the report says which).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = ROOT / "containers" / "model"
MODEL_BIN = MODEL_DIR / "bin"
API_DIR = ROOT / "containers" / "api"
DASHBOARD_HINT = "make dashboard, then open http://127.0.0.1:8501 (registry, live health and a prediction form)"
STEP_TIMEOUT = 300
SERVER_START_TIMEOUT = 90
FALLBACK_ENDPOINT = "churn-endpoint"


def _on_path(folder: Path) -> None:
    """The container packages (churn, the Lambda's modules) import from their own folders, as in their images."""
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))


class RehearsalError(Exception):
    """A step could not run; the message names it and shows the end of its log."""


@dataclass
class StackResult:
    stack: str
    preview: str = "not run"
    preview_ok: bool = False
    min_auc: Optional[float] = None
    model_version: Optional[int] = None
    gate_passed: Optional[bool] = None


@dataclass
class Report:
    workdir: str
    kept: bool = False
    stacks: list[StackResult] = field(default_factory=list)
    cost_lines: list[str] = field(default_factory=list)
    rows: int = 0
    split: str = ""
    trees: Optional[int] = None
    auc: Optional[float] = None
    step_seconds: dict[str, float] = field(default_factory=dict)
    endpoint_name: str = FALLBACK_ENDPOINT
    requests: int = 0
    rows_per_request: int = 0
    workers: int = 0
    answered: int = 0
    failed: list[str] = field(default_factory=list)
    latency_ms: dict[str, float] = field(default_factory=dict)
    mean_churn: dict[str, float] = field(default_factory=dict)
    actual_churn: dict[str, float] = field(default_factory=dict)
    model_version: Optional[str] = None
    variant: Optional[str] = None
    dashboard: str = DASHBOARD_HINT
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# ---- processes ----------------------------------------------------------------------------------


def _stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    """Stop a process and everything it started (it leads its own process group)."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _tail(path: Path, chars: int = 2500) -> str:
    with contextlib.suppress(OSError):
        return path.read_text(errors="replace")[-chars:]
    return ""


def _start(command: Sequence[str], env: dict[str, str], log: Path, cwd: Path = ROOT) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(list(command), cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _run(name: str, command: Sequence[str], env: dict[str, str], log: Path, timeout: float = STEP_TIMEOUT) -> float:
    started = time.monotonic()
    process = _start(command, env, log)
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RehearsalError(f"{name} did not finish within {timeout:.0f} s; log {log}:\n{_tail(log)}") from None
    finally:
        _stop(process)
    if code != 0:
        raise RehearsalError(f"{name} exited with {code}; log {log}:\n{_tail(log)}")
    return time.monotonic() - started


# ---- 1. the offline preview ----------------------------------------------------------------------


def start_preview(stacks: Sequence[str], overrides: Sequence[str], work: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "tools.preview", "--json", str(work / "preview" / "preview.json")]
    for stack in stacks:
        command += ["--stack", stack]
    for override in overrides:
        command += ["--set", override]
    (work / "preview").mkdir(parents=True, exist_ok=True)
    return _start(command, {**os.environ, "PYTHONPATH": str(ROOT)}, work / "preview.log")


def finish_preview(process: subprocess.Popen, report: Report, work: Path) -> None:
    try:
        code = process.wait(timeout=STEP_TIMEOUT)
    except subprocess.TimeoutExpired:
        _stop(process)
        report.problems.append(f"the offline preview did not finish within {STEP_TIMEOUT} s")
        return
    output = _tail(work / "preview.log", 1_000_000)
    several = len(report.stacks) > 1
    for result in report.stacks:
        path = work / "preview" / (f"preview.{result.stack}.json" if several else "preview.json")
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            result.preview = f"{result.stack}: no result; the preview said:\n{output[-1500:]}"
            report.problems.append(f"the preview of {result.stack} did not run")
            continue
        summary = data.get("summary") or {}
        result.preview_ok = bool(summary.get("ok"))
        if summary.get("error"):
            result.preview = f"{result.stack}: ERROR: {summary['error']}"
        else:
            verdict = "OK" if result.preview_ok else "BLOCKED"
            result.preview = (
                f"{result.stack}: {verdict}: {summary.get('resources')} resources, {summary.get('policies')} policies, "
                f"{summary.get('mandatoryViolations')} mandatory violation(s), {summary.get('advisoryViolations')} advisory"
            )
        endpoint = (data.get("outputs") or {}).get("endpointName")
        if endpoint and report.endpoint_name == FALLBACK_ENDPOINT:
            report.endpoint_name = endpoint
        if not result.preview_ok:
            report.problems.append(f"the preview of {result.stack} did not pass ({result.preview.splitlines()[0]})")
    # The policy pack prints one "Cost estimate (<stack>): $X/month ..." line per stack.
    report.cost_lines = [line.strip() for line in output.splitlines() if line.strip().lower().startswith("cost estimate")]
    if code not in (0, 1, 2):
        report.problems.append(f"the offline preview exited with {code}; log {work / 'preview.log'}")


# ---- 2. the training pipeline --------------------------------------------------------------------


def stack_settings(stacks: Sequence[str], overrides: Sequence[str]) -> list[StackResult]:
    """Each stack's quality gate and pinned version, from its config as the program validates it."""
    from components.config import PROJECT, ConfigError, parse_stack_config
    from tools.offline.stack_files import StackFileError, apply_overrides, engine_config, stack_config

    results = []
    for stack in stacks:
        try:
            raw = apply_overrides(stack_config(ROOT, stack), overrides, namespace=PROJECT)
            config = parse_stack_config(engine_config(raw), project=PROJECT, stack=stack)
        except (StackFileError, ConfigError) as exc:
            raise RehearsalError(str(exc)) from None
        results.append(StackResult(stack, min_auc=config.training.min_auc, model_version=config.endpoint.model_package_version))
    return results


def sagemaker_env(work: Path) -> dict[str, str]:
    """SageMaker's /opt/ml layout, moved into the work directory (see containers/model/churn/paths.py)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SM_", "SAGEMAKER_"))}
    ml, processing = work / "ml", work / "processing"
    env.update(
        SM_BASE_DIR=str(ml),
        SM_PROCESSING_DIR=str(processing),
        SM_CHANNEL_TRAIN=str(processing / "train"),
        SM_CHANNEL_VALIDATION=str(processing / "validation"),
        # The evaluation step reads what training wrote, as the pipeline wires model.tar.gz to it.
        SM_PROCESSING_MODEL_DIR=str(ml / "model"),
    )
    return env


def run_pipeline(work: Path, rows: int, hyperparameters: dict[str, str], report: Report) -> dict[str, str]:
    from components.training_pipeline import DEFAULT_HYPERPARAMETERS

    env = sagemaker_env(work)
    (work / "processing" / "input").mkdir(parents=True, exist_ok=True)
    config_dir = work / "ml" / "input" / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "hyperparameters.json").write_text(json.dumps({**DEFAULT_HYPERPARAMETERS, **hyperparameters}))
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    steps = [
        ("generate-data", ["--rows", str(rows), "--output", str(work / "processing" / "input" / "churn.csv")]),
        ("preprocess", []),
        ("train", []),
        ("evaluate", []),
    ]
    for name, args in steps:
        report.step_seconds[name] = round(_run(name, [sys.executable, str(MODEL_BIN / name), *args], env, logs / f"{name}.log"), 2)
    report.rows = rows
    split = re.search(r"-> (train \d+, validation \d+, test \d+)", _tail(logs / "preprocess.log"))
    report.split = split.group(1) if split else ""
    metadata = json.loads((work / "ml" / "model" / "metadata.json").read_text())
    report.trees = metadata.get("best_iteration")
    evaluation = json.loads((work / "processing" / "evaluation" / "evaluation.json").read_text())
    report.auc = float(evaluation["binary_classification_metrics"]["auc"]["value"])
    for result in report.stacks:
        result.gate_passed = result.min_auc is not None and report.auc >= result.min_auc
        if not result.gate_passed:
            report.problems.append(
                f"test AUC {report.auc:.4f} is below {result.stack}'s training.minAuc {result.min_auc}: its pipeline would fail and register nothing"
            )
    return env


# ---- 3. serving through the real API handler ------------------------------------------------------


@contextlib.contextmanager
def model_server(env: dict[str, str], work: Path, workers: int) -> Iterator[str]:
    log = work / "logs" / "serve.log"
    process = _start([sys.executable, str(MODEL_BIN / "serve"), "--host", "127.0.0.1", "--port", "0", "--workers", str(workers)], env, log)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        url = None
        while time.monotonic() < deadline and process.poll() is None:
            if url is None:
                found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", _tail(log, 100_000))
                url = found.group(1) if found else None
            if url is not None:
                with contextlib.suppress(urllib.error.URLError, OSError):
                    with urllib.request.urlopen(f"{url}/ping", timeout=2) as ping:
                        if ping.status == 200:
                            break
            time.sleep(0.2)
        else:
            raise RehearsalError(f"the model server did not become healthy; log {log}:\n{_tail(log)}")
        yield url
    finally:
        _stop(process)


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


def load_handler(shim_url: str, endpoint: str, feature_names: Sequence[str], model_version: Optional[int], log: Any) -> Any:
    """Import containers/api/predict.py as Lambda does at init, its client aimed at the shim."""
    os.environ.update(
        ENDPOINT_NAME=endpoint,
        FEATURE_NAMES=",".join(feature_names),
        MODEL_VERSION=str(model_version or ""),
        AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=shim_url,
        POWERTOOLS_SERVICE_NAME="predict-api-rehearsal",
    )
    _on_path(API_DIR)
    # Powertools binds its log handler to stdout at import: the API's logs go to the log file.
    with contextlib.redirect_stdout(log):
        import predict
    return predict


def customers(rows: int, seed: int, drifted: bool) -> tuple[list[list[float]], float]:
    """Encoded feature rows of freshly generated customers, and their actual churn rate."""
    _on_path(MODEL_DIR)
    from churn.data import generate
    from churn.schema import LABEL, encode

    frame = generate(rows, seed=seed, drifted=drifted)
    return encode(frame).astype(float).values.tolist(), float(frame[LABEL].mean())


def serve_and_predict(env: dict[str, str], work: Path, report: Report, requests: int, rows_per_request: int, workers: int) -> None:
    from tools.runtime_shim import RuntimeShim, ShimConfig

    _on_path(MODEL_DIR)
    from churn.schema import FEATURE_NAMES

    # The handler signs its calls with botocore: fake credentials, never the developer's own.
    for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(variable, None)
    os.environ.update(AWS_ACCESS_KEY_ID="rehearsal", AWS_SECRET_ACCESS_KEY="rehearsal", AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
    report.requests, report.rows_per_request, report.workers = requests, rows_per_request, workers
    datasets = {name: customers(requests * rows_per_request, seed=1000 + i, drifted=name == "drifted") for i, name in enumerate(("clean", "drifted"))}
    version = next((s.model_version for s in report.stacks if s.model_version), None)
    with contextlib.ExitStack() as running:
        url = running.enter_context(model_server(env, work, workers))
        shim = running.enter_context(RuntimeShim(ShimConfig(endpoints={report.endpoint_name: url})))
        api_log = running.enter_context((work / "logs" / "api.log").open("w"))
        predict = load_handler(shim.url, report.endpoint_name, FEATURE_NAMES, version, api_log)
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


# ---- 4. the report --------------------------------------------------------------------------------


def render(report: Report) -> str:
    out = ["", "Rehearsal report", "================", ""]
    out.append("GitOps check (offline preview, real program + policy pack):")
    for s in report.stacks:
        first, *rest = s.preview.splitlines()
        out.append(f"  {'✅' if s.preview_ok else '❌'} {first}")
        out += [f"       {line}" for line in rest]
    if report.cost_lines:
        out += [f"  {line}" for line in report.cost_lines]
    else:
        out.append("  (the preview printed no cost estimate)")
    out.append("")
    out.append("Training pipeline (containers/model entry points):")
    if report.auc is not None:
        seconds = ", ".join(f"{k} {v:.1f}s" for k, v in report.step_seconds.items())
        out.append(f"  {report.rows} rows -> {report.split}; {report.trees} trees; {seconds}")
        out.append(f"  test AUC {report.auc:.4f}")
        for s in report.stacks:
            verdict = "PASS: the pipeline registers the model" if s.gate_passed else "FAIL: the pipeline stops, nothing is registered"
            out.append(f"  gate {s.stack}: AUC >= training.minAuc {s.min_auc} -> {verdict}")
    else:
        out.append("  not run")
    out.append("")
    out.append("Serving (API Gateway v2 event -> predict.handler -> botocore -> runtime shim -> bin/serve):")
    if report.latency_ms:
        out.append(
            f"  endpoint {report.endpoint_name}, model version {report.model_version}, variant {report.variant}, "
            f"{report.workers} server worker(s)"
        )
        out.append(f"  {report.answered}/{2 * report.requests} requests of {report.rows_per_request} rows answered 200")
        latency = report.latency_ms
        out.append(f"  latency per request: p50 {latency['p50']:.1f} ms, p99 {latency['p99']:.1f} ms, max {latency['max']:.1f} ms")
        for name in ("clean", "drifted"):
            out.append(f"  mean predicted churn, {name:<7}: {report.mean_churn[name]:.3f} (actual rate {report.actual_churn[name]:.3f})")
    else:
        out.append("  not run")
    where = report.workdir if report.kept else "removed at exit (keep it with --workdir DIR)"
    out += ["", f"Dashboard: {report.dashboard}", f"Work directory (logs, model, preview JSON): {where}", ""]
    if report.problems:
        out.append("Problems:")
        out += [f"  - {p}" for p in report.problems]
    else:
        out.append("Result: every step ran, every check passed.")
    return "\n".join(out) + "\n"


def rehearse(args: argparse.Namespace, work: Path) -> Report:
    report = Report(workdir=str(work), kept=args.workdir is not None)
    report.stacks = stack_settings(args.stack, args.overrides)
    # The preview and the pipeline are independent: they run side by side.
    preview = start_preview(args.stack, args.overrides, work)
    try:
        hyperparameters = {"num_round": "100"} if args.quick else {}
        env = run_pipeline(work, args.rows, hyperparameters, report)
    except BaseException:
        _stop(preview)
        raise
    finish_preview(preview, report, work)
    if report.auc is not None and any(s.gate_passed for s in report.stacks):
        serve_and_predict(env, work, report, args.requests, args.rows_per_request, args.workers)
    else:
        report.problems.append("no stack's gate passed: nothing would be registered, so nothing is served")
    return report


def _terminate(signum: int, frame: Any) -> None:
    # SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C, so every child is stopped on the way out.
    raise KeyboardInterrupt


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.rehearsal", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", action="append", choices=("dev", "prod"), help="stacks to preview and gate (default: dev and prod)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="config override, as tools.preview takes it")
    parser.add_argument("--rows", type=int, help="rows of generated training data (default 5000; --quick 2000)")
    parser.add_argument("--requests", type=int, help="prediction requests per dataset (default 200; --quick 40)")
    parser.add_argument("--rows-per-request", type=int, default=10, help="customers per prediction request (default 10)")
    parser.add_argument("--workers", type=int, help="model server workers (default 2; --quick 1)")
    parser.add_argument("--quick", action="store_true", help="smaller data, fewer boosting rounds and requests (tests)")
    parser.add_argument("--workdir", type=Path, help="keep everything here (default: a temporary directory, removed)")
    parser.add_argument("--json", type=Path, help="also write the report as JSON")
    args = parser.parse_args(argv)
    args.stack = args.stack or ["dev", "prod"]
    args.rows = args.rows or (2000 if args.quick else 5000)
    args.requests = args.requests or (40 if args.quick else 200)
    args.workers = args.workers or (1 if args.quick else 2)
    for name in ("rows", "requests", "rows_per_request", "workers"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")

    signal.signal(signal.SIGTERM, _terminate)
    try:
        with contextlib.ExitStack() as stack:
            if args.workdir:
                args.workdir.mkdir(parents=True, exist_ok=True)
                work = args.workdir.resolve()
            else:
                work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rehearsal-")))
            report = rehearse(args, work)
            sys.stdout.write(render(report))
            if args.json:
                args.json.write_text(json.dumps({**asdict(report), "ok": report.ok}, indent=2) + "\n")
    except RehearsalError as exc:
        print(f"rehearsal failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("rehearsal interrupted; its processes were stopped", file=sys.stderr)
        return 130
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())

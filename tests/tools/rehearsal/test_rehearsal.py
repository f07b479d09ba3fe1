"""The local rehearsal (`make demo`) end to end in its quick mode: report content and clean-up."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from program_testkit import copy_program, preview, shipped_previews
from rehearsal_testkit import TIMEOUT, quick_demo

from tools.rehearsal.pipeline import judge_gates
from tools.rehearsal.report import Report, StackResult

ROOT = Path(__file__).resolve().parents[3]

for module in ("lightgbm", "gunicorn", "uvicorn_worker", "aws_lambda_powertools"):
    pytest.importorskip(module, reason=f"the rehearsal runs the model server and the API handler, which need {module}")


def server_port(workdir: Path) -> int:
    return int(re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", (workdir / "logs" / "serve.log").read_text()).group(1))


def is_listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def quick_run():
    """The run `make demo` makes, quick (the README's sample report is checked against the same run)."""
    return quick_demo()


def test_the_quick_rehearsal_succeeds_and_reports_every_stage(quick_run):
    workdir, done = quick_run
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "✅ dev: OK:" in out
    assert re.search(r"Cost estimate \(dev\): \$[\d,.]+/month", out)
    assert re.search(r"test AUC 0\.\d{4}", out)
    # The verdict comes from the deployed definition's own condition step, evaluated on the report.
    assert re.search(
        r"gate dev \(training.minAuc 0.75\): PASS: CheckAuc: JsonGet\(EvaluationReport, binary_classification_metrics.auc.value\)=0\.\d+ "
        r">= 0.75 -> true -> SealModel \(Processing\), RegisterModel \(RegisterModel\), PublishBaseline \(Processing\): "
        r"registers the model",
        out,
    ), out
    # The definition's SealModel step ran against moto's S3; what RegisterModel names is what it sealed,
    # and a second write of other bytes to that key was refused by S3.
    sealed = r"s3://mlops-dev-training-artifacts-\w+/pipelines/mlops-dev-training/registered/rehearsal/model\.tar\.gz"
    assert re.search(rf"SealModel \(the definition.s arguments, .*\): {sealed}", out), out
    assert "RegisterModel names it: ModelDataUrl, ModelDataSha256 and ModelDataVersionId resolve to the sealed object" in out
    assert (
        "a second write of other bytes to the key: refused (seal exited 1, S3 answered 412 PreconditionFailed); the object keeps its 1 version"
        in out
    )
    assert re.search(r"latency per request: p50 [\d.]+ ms, p99 [\d.]+ ms", out)
    assert "mean predicted churn, clean" in out and "mean predicted churn, drifted" in out
    assert "make dashboard, then open http://127.0.0.1:8501" in out
    assert "Result: every step ran, every check passed." in out


def test_the_report_holds_real_numbers(quick_run):
    workdir, _ = quick_run
    report = json.loads((workdir / "report.json").read_text())
    assert report["ok"] is True and report["problems"] == []
    assert report["rows"] == 2000 and report["split"] == "train 1400, validation 300, test 300"
    assert 0.75 <= report["auc"] < 1.0
    assert [(s["stack"], s["min_auc"], s["gate_passed"], s["model_version"]) for s in report["stacks"]] == [("dev", 0.75, True, 1)]
    # The preview's own export names the endpoint; the handler answered with the pinned version.
    assert report["endpoint_name"] == "mlops-dev-churn"
    assert report["model_version"] == "1" and report["variant"] == "AllTraffic"
    assert report["answered"] == 2 * report["requests"] == 20 and report["failed"] == []
    assert 0 < report["latency_ms"]["p50"] <= report["latency_ms"]["p99"] <= report["latency_ms"]["max"]
    # The drifted customers churn more (and the model sees it): what the drift alarm is about.
    assert report["actual_churn"]["drifted"] > report["actual_churn"]["clean"]
    assert report["mean_churn"]["drifted"] > report["mean_churn"]["clean"] + 0.05
    for name in ("clean", "drifted"):
        assert abs(report["mean_churn"][name] - report["actual_churn"][name]) < 0.1
    assert (workdir / "processing" / "evaluation" / "evaluation.json").is_file()
    assert (workdir / "ml" / "model" / "model.txt").is_file()


def test_the_model_server_is_gone_after_the_run(quick_run):
    workdir, _ = quick_run
    assert not is_listening(server_port(workdir))


# A changed copy of the program, rehearsed: (text, replacement, folder), each text in exactly one file
# under the folder, once (so a module split does not break the test, and a changed line fails it loudly).
INVERTED_GATE = [
    ("import ConditionGreaterThanOrEqualTo", "import ConditionGreaterThanOrEqualTo, ConditionLessThan", "components"),
    ("conditions=[ConditionGreaterThanOrEqualTo(left=auc,", "conditions=[ConditionLessThan(left=auc,", "components"),
]
BLOCKED_AND_BROKEN_API = [
    # A guardrail the dev stack enforces (mandatory): the preview blocks.
    ("enable_key_rotation=True,", "enable_key_rotation=False,", "components"),
    # The API sends a content type the model server does not accept: every prediction fails.
    ('ContentType="text/csv",', 'ContentType="application/x-parquet",', "containers/api"),
    # SealModel writes elsewhere than the key RegisterModel names: the rehearsal's seal check fails.
    ('"--destination",\n                uri,', '"--destination",\n                ctx.execution_uri("model.tar.gz"),', "components"),
]


def changed_copy(target: Path, edits) -> Path:
    target.mkdir(parents=True)
    copy_program(target)
    for old, new, folder in edits:
        holders = [f for f in sorted((target / folder).rglob("*.py")) if old in f.read_text()]
        assert len(holders) == 1 and holders[0].read_text().count(old) == 1, f"{old!r} is in {holders}; update the edit"
        holders[0].write_text(holders[0].read_text().replace(old, new))
    return target


def quick_dev_rehearsal(workdir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "tools.rehearsal", "--quick", "--stack", "dev", "--workdir", str(workdir), *args]


@pytest.fixture(scope="module")
def failing_runs(tmp_path_factory):
    """Two failing rehearsals, side by side: a gate that is too strict, a blocked preview with a broken API."""
    base = tmp_path_factory.mktemp("failing")
    runs = {
        "strict-gate": ["--rows", "1000", "--set", "training.minAuc=0.99"],
        "blocked-broken-api": [
            "--rows",
            "1000",
            "--requests",
            "3",
            "--program-dir",
            str(changed_copy(base / "blocked-program", BLOCKED_AND_BROKEN_API)),
        ],
    }
    started = {}
    for name, args in runs.items():
        workdir = base / name
        workdir.mkdir()
        command = quick_dev_rehearsal(workdir, "--json", str(workdir / "report.json"), *args)
        started[name] = (workdir, subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = {}
    for name, (workdir, process) in started.items():
        out, err = process.communicate(timeout=TIMEOUT)
        results[name] = (workdir, subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return results


def one_failure_line(done: subprocess.CompletedProcess) -> str:
    lines = [line for line in done.stderr.splitlines() if line.startswith("rehearsal FAILED: ")]
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_a_failed_gate_is_a_failed_rehearsal_and_nothing_is_served(failing_runs):
    workdir, done = failing_runs["strict-gate"]
    assert done.returncode == 1, done.stdout + done.stderr
    assert re.search(
        r"gate dev \(training.minAuc 0.99\): FAIL: CheckAuc: JsonGet\(.*\)=0\.\d+ >= 0.99 -> false -> AucBelowThreshold \(Fail\): registers nothing",
        done.stdout,
    )
    assert "dev: the pipeline's gate does not register the model" in one_failure_line(done)
    assert "no stack's pipeline registers the model, so nothing is served" in done.stdout
    assert not (workdir / "logs" / "serve.log").exists()
    assert "Result: every step ran" not in done.stdout


def test_the_demo_evaluates_the_deployed_definition_so_an_inverted_gate_fails_it(tmp_path, quick_run):
    """The AUC is good (>= 0.75), but the definition now registers only models below it: the demo's
    gate step (the one the strict-gate rehearsal above runs end to end) judges the quick run's own
    evaluation report by the changed program's preview, and refuses."""
    workdir, _ = quick_run
    program = changed_copy(tmp_path / "inverted-program", INVERTED_GATE)
    done = preview("--stack", "dev", "--program-dir", str(program), "--json", str(tmp_path / "preview.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    report = Report(workdir=str(workdir), stacks=[StackResult("dev")])
    judge_gates(report, {"dev": json.loads((tmp_path / "preview.json").read_text())}, workdir)
    auc = json.loads((workdir / "processing" / "evaluation" / "evaluation.json").read_text())
    assert auc["binary_classification_metrics"]["auc"]["value"] >= 0.75 and report.stacks[0].gate_passed is False
    assert re.search(r"CheckAuc: JsonGet\(.*\)=0\.\d+ < 0.75 -> false -> AucBelowThreshold \(Fail\)", report.stacks[0].gate)
    assert report.problems == [f"dev: the pipeline's gate does not register the model ({report.stacks[0].gate})"]
    # The shipped program's definition, on the same report, registers it.
    shipped = Report(workdir=str(workdir), stacks=[StackResult("dev")])
    judge_gates(shipped, {"dev": shipped_previews()[1]["dev"]}, workdir)
    assert shipped.stacks[0].gate_passed is True and shipped.problems == []


def test_a_blocked_preview_and_failed_predictions_fail_the_demo(failing_runs):
    workdir, done = failing_runs["blocked-broken-api"]
    assert done.returncode == 1, done.stdout + done.stderr
    assert "❌ dev: BLOCKED:" in done.stdout and "(kms-key-rotation)" in done.stdout
    line = one_failure_line(done)
    assert line.startswith("rehearsal FAILED: the preview of dev did not pass (dev: BLOCKED:") and "2 more problem" in line, line
    report = json.loads((workdir / "report.json").read_text())
    assert report["ok"] is False and report["answered"] == 0 and len(report["failed"]) == 6
    assert report["problems"][1].startswith("the seal step: RegisterModel registers s3://"), report["problems"]
    assert "/pipelines/mlops-dev-training/registered/rehearsal/model.tar.gz" in report["problems"][1]
    assert report["problems"][2].startswith("6 of 6 predictions failed, first: clean request 0: 424"), report["problems"]
    assert "Result: every step ran" not in done.stdout


def test_sigterm_stops_the_rehearsal_and_its_model_server(tmp_path):
    command = quick_dev_rehearsal(tmp_path, "--rows", "1000", "--requests", "20000")
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = tmp_path / "logs" / "api.log"
    try:
        deadline = time.monotonic() + TIMEOUT
        while not (log.exists() and log.stat().st_size > 0):  # the handler is answering: everything is up
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the rehearsal never reached the serving stage"
            time.sleep(0.5)
        port = server_port(tmp_path)
        assert is_listening(port)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130 and "its processes were stopped" in err
    assert not is_listening(port)

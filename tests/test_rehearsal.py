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

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 420  # a busy 2-core machine; a normal quick run takes under a minute

for module in ("lightgbm", "gunicorn", "uvicorn_worker", "aws_lambda_powertools"):
    pytest.importorskip(module, reason=f"the rehearsal runs the model server and the API handler, which need {module}")


def rehearse(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tools.rehearsal", "--quick", "--stack", "dev", "--workdir", str(workdir), "--json", str(workdir / "report.json"), *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT)


def server_port(workdir: Path) -> int:
    return int(re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", (workdir / "logs" / "serve.log").read_text()).group(1))


def is_listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("rehearsal")
    done = rehearse(workdir)
    return workdir, done


def test_the_quick_rehearsal_succeeds_and_reports_every_stage(quick_run):
    workdir, done = quick_run
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "✅ dev: OK:" in out
    assert re.search(r"Cost estimate \(dev\): \$[\d,.]+/month", out)
    assert re.search(r"test AUC 0\.\d{4}", out)
    assert "gate dev: AUC >= training.minAuc 0.75 -> PASS" in out
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
    assert report["answered"] == 2 * report["requests"] == 80 and report["failed"] == []
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


def test_a_failed_gate_is_a_failed_rehearsal_and_nothing_is_served(tmp_path):
    done = rehearse(tmp_path, "--rows", "1000", "--set", "training.minAuc=0.99")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "gate dev: AUC >= training.minAuc 0.99 -> FAIL: the pipeline stops, nothing is registered" in done.stdout
    assert "is below dev's training.minAuc 0.99" in done.stdout
    assert "no stack's gate passed" in done.stdout
    assert not (tmp_path / "logs" / "serve.log").exists()


def test_sigterm_stops_the_rehearsal_and_its_model_server(tmp_path):
    command = [sys.executable, "-m", "tools.rehearsal", "--quick", "--stack", "dev", "--requests", "20000", "--workdir", str(tmp_path)]
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

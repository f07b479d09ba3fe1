"""Helpers for the model-container tests: run entry points as processes, drive the HTTP server."""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

MODEL_ROOT = Path(__file__).resolve().parents[3] / "containers" / "model"
BIN = MODEL_ROOT / "bin"
ENTRY_POINTS = ("train", "serve", "preprocess", "evaluate", "seal", "publish-baseline", "generate-data")

# Generous bounds for a busy 2-core machine: they only turn a hang into a failure.
PROCESS_TIMEOUT = 180
SERVER_START_TIMEOUT = 60


def clean_env(**overrides: str) -> dict[str, str]:
    """The test process environment without SageMaker variables, plus `overrides`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SM_", "SAGEMAKER_"))}
    env.update(overrides)
    return env


def run_entry(name: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run a bin/ entry point as its own process with the test interpreter."""
    return subprocess.run(
        [sys.executable, str(BIN / name), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT,
        check=False,
    )


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


class Client:
    """One keep-alive HTTP/1.1 connection to the server."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Response:
        self.conn.request(method, path, body=body, headers=headers or {})
        raw = self.conn.getresponse()
        data = raw.read()
        return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, data)

    def invoke(self, body: bytes | str, content_type: str | None = "text/csv", accept: str | None = None) -> Response:
        headers = {}
        if content_type is not None:
            headers["Content-Type"] = content_type
        if accept is not None:
            headers["Accept"] = accept
        payload = body.encode() if isinstance(body, str) else body
        return self.request("POST", "/invocations", payload, headers)

    def close(self) -> None:
        self.conn.close()


class Server:
    """`bin/serve` as a real process on a free port (port 0: gunicorn binds, then logs the port)."""

    def __init__(self, env: dict[str, str], log_path: Path, workers: int = 2) -> None:
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, str(BIN / "serve"), "--host", "127.0.0.1", "--port", "0", "--workers", str(workers)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.port = self._wait_for_port()

    def log(self) -> str:
        return self.log_path.read_text()

    def _wait_for_port(self) -> int:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            match = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", self.log())
            if match:
                return int(match.group(1))
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server did not start; log:\n{self.log()}")

    def wait_for_workers(self, count: int) -> None:
        """Block until `count` workers have finished startup (model load attempted)."""
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while self.log().count("Application startup complete") < count:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"workers did not start; log:\n{self.log()}")
            time.sleep(0.05)

    def client(self) -> Client:
        return Client(self.port)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def csv_rows(features, rows: slice | None = None) -> str:
    """Feature rows as the CSV body the endpoint takes (no header, no label)."""
    selected = features if rows is None else features[rows]
    return "".join(",".join(repr(float(v)) for v in row) + "\n" for row in selected)

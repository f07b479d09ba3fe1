"""A local stand-in for SageMaker Runtime's InvokeEndpoint that forwards to a model server.

A real boto3/botocore `sagemaker-runtime` client created with `endpoint_url=shim.url` sends
`POST /endpoints/{EndpointName}/invocations`; the shim forwards the body, Content-Type and Accept to
`{model server}/invocations` and answers like SageMaker does:

* model 2xx: its body and Content-Type, its `X-Amzn-SageMaker-Custom-Attributes` (which botocore reads
  as `CustomAttributes`), plus `x-Amzn-Invoked-Production-Variant`;
* model non-2xx: 424 `ModelError` with `OriginalStatusCode`, `OriginalMessage` and `LogStreamArn`;
* model unreachable: 424 `ModelError` with OriginalStatusCode 502 (SageMaker hides the container);
* unknown endpoint name: 400 `ValidationError` "Endpoint ... not found".

So the prediction Lambda can be exercised end to end on one machine, through real HTTP, real
request serialization and real error parsing in botocore.

    python -m tools.rehearsal.runtime_shim --endpoint churn-endpoint=http://127.0.0.1:8080 [--port 8081]
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Optional
from urllib.parse import unquote

ACCOUNT = "123456789012"
REGION = "us-east-1"
# SageMaker refuses larger payloads before they reach the container.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
# The container's answer header that SageMaker passes to the caller verbatim (InvokeEndpoint's
# CustomAttributes).
CUSTOM_ATTRIBUTES_HEADER = "X-Amzn-SageMaker-Custom-Attributes"


@dataclass(frozen=True)
class ShimConfig:
    # Endpoint name -> base URL of the model server that serves it (its /invocations is called).
    endpoints: Mapping[str, str] = field(default_factory=dict)
    variant: str = "AllTraffic"
    # Added before forwarding: lets a test provoke the client's read timeout over a real socket.
    delay_seconds: float = 0.0
    # SageMaker gives a container 60 s to answer.
    model_timeout_seconds: float = 60.0


def _error(code: str, message: str, status: int, **fields: object) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"message": message, **fields}).encode()
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": code}
    return status, headers, body


def invoke(config: ShimConfig, endpoint: str, body: bytes, content_type: str, accept: str) -> tuple[int, dict[str, str], bytes]:
    """What SageMaker Runtime answers for InvokeEndpoint(endpoint, body, ...): (status, headers, body)."""
    target = config.endpoints.get(endpoint)
    if target is None:
        return _error("ValidationError", f"Endpoint {endpoint} of account {ACCOUNT} not found.", 400)
    if len(body) > MAX_PAYLOAD_BYTES:
        return _error("ValidationError", "Request payload exceeds the 6 MB limit.", 400)
    if config.delay_seconds:
        time.sleep(config.delay_seconds)
    request = urllib.request.Request(
        target.rstrip("/") + "/invocations",
        data=body,
        method="POST",
        headers={"Content-Type": content_type, "Accept": accept},
    )
    log_stream = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/sagemaker/Endpoints/{endpoint}"
    try:
        with urllib.request.urlopen(request, timeout=config.model_timeout_seconds) as answer:
            payload = answer.read()
            headers = {
                "Content-Type": answer.headers.get("Content-Type", "application/json"),
                "x-Amzn-Invoked-Production-Variant": config.variant,
            }
            custom_attributes = answer.headers.get(CUSTOM_ATTRIBUTES_HEADER)
            if custom_attributes is not None:
                headers[CUSTOM_ATTRIBUTES_HEADER] = custom_attributes
            return 200, headers, payload
    except urllib.error.HTTPError as exc:
        original = exc.read().decode("utf-8", "replace")
        return _error(
            "ModelError",
            f'Received client error ({exc.code}) from primary with message "{original}". See {log_stream}.',
            424,
            OriginalStatusCode=exc.code,
            OriginalMessage=original,
            LogStreamArn=log_stream,
        )
    except (urllib.error.URLError, OSError) as exc:
        return _error(
            "ModelError",
            f"Received server error (502) from primary: {exc}",
            424,
            OriginalStatusCode=502,
            OriginalMessage="the model container did not answer",
            LogStreamArn=log_stream,
        )


class _Handler(BaseHTTPRequestHandler):
    server: _ShimServer
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    # Headers and body leave in two writes: with Nagle on, the body waits for the client's delayed
    # ACK of the headers (~40 ms on Linux) on every keep-alive request.
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        if len(parts) != 3 or parts[0] != "endpoints" or parts[2] != "invocations":
            status, headers, payload = _error("UnknownOperationException", f"no operation at {self.path}", 404)
        else:
            status, headers, payload = invoke(
                self.server.config,
                unquote(parts[1]),
                body,
                self.headers.get("Content-Type", "application/octet-stream"),
                self.headers.get("Accept", "application/json"),
            )
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(payload)), "x-amzn-RequestId": "shim"}.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the caller stopped waiting (its read timeout): as SageMaker, drop it

    def log_message(self, format: str, *args: object) -> None:
        return  # quiet: tests read their own output


class _ShimServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], config: ShimConfig) -> None:
        super().__init__(address, _Handler)
        self.config = config


class RuntimeShim:
    """The shim on a background thread: `with RuntimeShim(config) as shim: ... shim.url ...`."""

    def __init__(self, config: ShimConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = _ShimServer((host, port), config)
        self._thread: Optional[threading.Thread] = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> RuntimeShim:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="runtime-shim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> RuntimeShim:
        return self.start()

    def __exit__(self, exc_type: Optional[type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        self.stop()


def _endpoint(value: str) -> tuple[str, str]:
    name, sep, url = value.partition("=")
    if not sep or not name or not url.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"expected NAME=http://host:port, got {value!r}")
    return name, url


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Local SageMaker Runtime InvokeEndpoint shim")
    parser.add_argument("--endpoint", type=_endpoint, action="append", required=True, help="NAME=MODEL_SERVER_URL")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--variant", default="AllTraffic")
    args = parser.parse_args(argv)
    shim = RuntimeShim(ShimConfig(endpoints=dict(args.endpoint), variant=args.variant), args.host, args.port)
    print(f"runtime shim on {shim.url}: {', '.join(n for n, _ in args.endpoint)}", file=sys.stderr)
    try:
        shim._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        shim._server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The inference ASGI application: SageMaker's /ping and /invocations, and nothing in between.

A bare ASGI callable rather than a web framework: the hot path for a one-row request is a header
scan, one body read, a numpy conversion, a C call into LightGBM and one encode — a routing layer,
middleware stack and request objects would cost more than the prediction itself (see the
benchmark). Every error answers with a JSON body and the right status, never a traceback.

Each server worker process runs one app. The model is loaded at startup; if that fails (no model
yet, corrupt file) the worker stays up and /ping answers 503 with the reason, re-trying the load
at most once a second, so a model that arrives later is picked up without a restart.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from churn import codec, paths
from churn.model import Predictor

log = logging.getLogger("churn.serve")

# SageMaker real-time endpoints reject payloads over 6 MB before they reach the container; the
# same limit here keeps local runs and other front ends honest.
MAX_BODY_BYTES = 6 * 1024 * 1024
# How far past the limit an oversized body is still read (and dropped) so the 413 arrives intact.
_DRAIN_FACTOR = 4
RELOAD_INTERVAL_SECONDS = 1.0

T = TypeVar("T")
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_JSON_HEADERS = [(b"content-type", b"application/json")]
_CSV_HEADERS = [(b"content-type", b"text/csv; charset=utf-8")]
_RESPONSE_HEADERS = {codec.JSON: _JSON_HEADERS, codec.CSV: _CSV_HEADERS}
_CLOSE = (b"connection", b"close")
# SageMaker forwards this response header verbatim to the InvokeEndpoint caller as CustomAttributes
# (at most 1024 visible US-ASCII characters): the caller learns which model answered, even while a
# blue/green canary has two models answering behind one endpoint.
CUSTOM_ATTRIBUTES_HEADER = b"x-amzn-sagemaker-custom-attributes"
# Set on the SageMaker Model's container by components/endpoint/model_endpoint.py.
MODEL_VERSION_VARIABLE = "MODEL_PACKAGE_VERSION"
_PING_OK = b'{"status":"ok"}'


def _env_seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number of seconds") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {raw!r}")
    return value


def model_version_headers(raw: str | None) -> list[tuple[bytes, bytes]]:
    """The custom-attributes header naming the model package version, or none when it is unset."""
    version = (raw or "").strip()
    if not version:
        return []
    if not version.isdigit() or len(version) > 10:
        raise ValueError(f"{MODEL_VERSION_VARIABLE}={raw!r} is not a model package version (a whole number)")
    return [(CUSTOM_ATTRIBUTES_HEADER, b"model-version=" + version.encode("ascii"))]


class InferenceApp:
    def __init__(
        self, model_dir: Path, request_timeout: float, max_body_bytes: int = MAX_BODY_BYTES, model_version: str | None = None
    ) -> None:
        self.model_dir = model_dir
        self.request_timeout = request_timeout
        self.max_body_bytes = max_body_bytes
        self.predictor: Predictor | None = None
        self.unavailable_reason = "the model has not been loaded yet"
        self._last_attempt = float("-inf")
        version = model_version_headers(model_version)
        self._answer_headers = {kind: headers + version for kind, headers in _RESPONSE_HEADERS.items()}

    # --- model -----------------------------------------------------------------------------------

    def _ensure_model(self) -> Predictor | None:
        if self.predictor is None and time.monotonic() - self._last_attempt >= RELOAD_INTERVAL_SECONDS:
            self._load()
        return self.predictor

    def _load(self) -> None:
        self._last_attempt = time.monotonic()
        try:
            self.predictor = Predictor.load(self.model_dir, num_threads=1)
        except Exception as error:  # any failure keeps the worker up and is reported by /ping
            self.unavailable_reason = f"model not loaded from {self.model_dir}: {error}"
            log.warning("%s", self.unavailable_reason)
        else:
            log.info("model loaded from %s (%d features)", self.model_dir, self.predictor.n_features)

    # --- ASGI ------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._load()
                # numpy, LightGBM and friends leave a few hundred thousand long-lived objects on
                # the heap; every full collection would walk them all again (p99 spikes, ~15 µs
                # per request on average). Freezing moves them out of the collector's sight.
                gc.collect()
                gc.freeze()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        if path == "/invocations":
            if method != "POST":
                await _error(send, 405, "use POST for /invocations", [(b"allow", b"POST")])
            else:
                await self._invocations(scope, receive, send)
        elif path == "/ping":
            if method not in ("GET", "HEAD"):
                await _error(send, 405, "use GET for /ping", [(b"allow", b"GET, HEAD")])
            elif self._ensure_model() is not None:
                await _respond(send, 200, _JSON_HEADERS, _PING_OK)
            else:
                await _error(send, 503, self.unavailable_reason)
        else:
            await _error(send, 404, f"no route {path}: use POST /invocations or GET /ping")

    async def _invocations(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_type = accept = None
        length = -1
        expect_continue = False
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == b"accept":
                accept = value.decode("latin-1")
            elif name == b"content-length":
                length = int(value) if value.isdigit() else -1
            elif name == b"expect":
                expect_continue = value.lower() == b"100-continue"

        if length > self.max_body_bytes and (expect_continue or length > self.max_body_bytes * _DRAIN_FACTOR):
            # The client waits for our go-ahead, or would send far too much: refuse before reading
            # and close, since whatever it sends next is body, not a new request.
            await _error(send, 413, self._too_large(), [_CLOSE])
            return
        body = await self._read_body(receive, send)
        if body is None:
            return
        predictor = self.predictor or self._ensure_model()
        try:
            media = codec.parse_content_type(content_type)
            response_type = codec.negotiate_accept(accept)
            if predictor is None:
                raise codec.RequestError(503, self.unavailable_reason)
            if media.type == codec.CSV:
                row = codec.parse_csv_row(body, media.charset, predictor.n_features)
                if row is not None:  # one valid row: no numpy on the way in or out
                    answer = codec.encode_prediction(predictor.predict_row(row), response_type)
                    await _respond(send, 200, self._answer_headers[response_type], answer)
                    return
                features = np.concatenate(await _in_turns(codec.iter_csv(body, media.charset, predictor.feature_names)))
            else:
                features = np.concatenate(await _in_turns(codec.iter_json(body, media.charset, predictor.feature_names)))
        except codec.RequestError as error:
            await _error(send, error.status, error.message)
            return
        except Exception:  # a bug must still answer with JSON, not a bare 500
            log.exception("could not answer a %d-byte %s request", len(body), content_type)
            await _error(send, 500, "the request could not be answered; the server log has the details")
            return
        try:
            probabilities = np.concatenate(
                await _in_turns(
                    predictor.predict(features[start : start + codec.CHUNK_ROWS]) for start in range(0, len(features), codec.CHUNK_ROWS)
                )
            )
        except Exception:
            log.exception("prediction failed for %d row(s)", len(features))
            await _error(send, 500, "prediction failed; the server log has the details")
            return
        answer = b"".join(await _in_turns(codec.iter_encoded_predictions(probabilities, response_type)))
        await _respond(send, 200, self._answer_headers[response_type], answer)

    async def _read_body(self, receive: Receive, send: Send) -> bytes | None:
        """The whole body, or None after answering 408/413 (or when the client went away).

        An oversized body is still read to its end (up to a bound) without being kept: answering
        413 while the client is still sending makes the kernel reset the connection, and the
        client would see a reset instead of the 413.
        """
        message = await receive()
        body = message.get("body", b"")
        if not message.get("more_body", False) and len(body) <= self.max_body_bytes:
            return body  # the common case: the whole body arrived with the headers
        chunks = [body]
        size = len(body)
        try:
            # A client that stalls mid-body must not hold the worker's connection slot forever.
            async with asyncio.timeout(self.request_timeout):
                while message.get("more_body", False) and size <= self.max_body_bytes * _DRAIN_FACTOR:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return None
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size <= self.max_body_bytes:
                        chunks.append(chunk)
        except TimeoutError:
            await _error(send, 408, f"request body not received within {self.request_timeout:g} s", [_CLOSE])
            return None
        if size > self.max_body_bytes:
            unread = message.get("more_body", False)
            await _error(send, 413, self._too_large(), [_CLOSE] if unread else None)
            return None
        return b"".join(chunks)

    def _too_large(self) -> str:
        return f"request body exceeds {self.max_body_bytes // (1024 * 1024)} MB; send fewer rows per request"


async def _in_turns(parts: Iterator[T]) -> list[T]:
    """The parts a generator computes chunk by chunk, letting the event loop serve the worker's
    other connections after each: a 6 MB batch never holds them up for longer than one chunk
    (about a millisecond of parsing, predicting or encoding) or the C-speed checks of a body."""
    done = []
    for part in parts:
        done.append(part)
        await asyncio.sleep(0)
    return done


async def _respond(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    # An explicit length spares the chunked framing a body of unknown size would get.
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _error(send: Send, status: int, message: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    await _respond(send, status, _JSON_HEADERS + (extra or []), codec.encode_error(message))


def create_app() -> InferenceApp:
    """The app as configured by the environment (SM_MODEL_DIR, SAGEMAKER_MODEL_SERVER_TIMEOUT,
    MODEL_PACKAGE_VERSION)."""
    return InferenceApp(
        paths.model_dir(),
        _env_seconds("SAGEMAKER_MODEL_SERVER_TIMEOUT", 60.0),
        model_version=os.environ.get(MODEL_VERSION_VARIABLE),
    )

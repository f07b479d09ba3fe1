"""Serving entry point: `serve` starts gunicorn with uvicorn workers on port 8080.

Why this stack: gunicorn is the process manager — one worker per CPU (prediction is CPU-bound and
the GIL allows one core per process), a worker that stops answering for longer than the timeout is
killed and replaced, graceful shutdown on SIGTERM. Each worker is uvicorn on uvloop with the
httptools parser: an event loop that keeps connections alive and parses HTTP in C, serving the
bare ASGI app in churn.app. Settings come from the variables SageMaker sets:

  SAGEMAKER_BIND_TO_PORT          port (default 8080)
  SAGEMAKER_MODEL_SERVER_WORKERS  worker processes (default: the CPUs this process may use)
  SAGEMAKER_MODEL_SERVER_TIMEOUT  seconds; a request body must arrive, and a worker must respond
                                  to gunicorn's heartbeat, within it (default 60)
  SM_MODEL_DIR                    model directory (default /opt/ml/model)
  SERVE_ACCEPT_TAKEOVER_SECONDS   how long a new connection waits for the worker holding the
                                  fewest connections before any worker takes it (default 0.05;
                                  see churn.balance)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import uvicorn
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from uvicorn_worker import UvicornWorker

from churn.balance import TAKEOVER_SECONDS, ConnectionTable, accept_forever, raw_socket

DEFAULT_PORT = 8080
DEFAULT_TIMEOUT = 60
# Longer than the idle timeout of the load balancers in front of an endpoint, so they close idle
# connections first and never send a request into one the server is closing.
KEEPALIVE_SECONDS = 75
TAKEOVER_VARIABLE = "SERVE_ACCEPT_TAKEOVER_SECONDS"
# lightgbm imports scikit-learn and pandas whenever they are installed (for its scikit-learn and
# pandas interfaces), and the image installs them for preprocess, train and evaluate. Serving uses
# neither: a worker that imports them boots in ~1 CPU-second and holds ~190 MiB, one that does not
# in ~0.3 s and ~60 MiB (measured in docs/model-container.md).
NOT_FOR_SERVING = ("sklearn", "pandas")


def keep_training_libraries_out(modules: tuple[str, ...] = NOT_FOR_SERVING) -> None:
    """From now on, importing these in this process or the workers it forks raises ImportError,
    which lightgbm takes as "not installed". A module already imported is left as it is."""
    for name in modules:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


class _BalancedServer(uvicorn.Server):
    """uvicorn's server, except that connections come from churn.balance's accept loop (this
    worker takes a new connection only when no other worker holds fewer) instead of an
    event-loop server that accepts whatever it can."""

    def __init__(self, config: uvicorn.Config, listeners: list[socket.socket], table: ConnectionTable, takeover_seconds: float) -> None:
        super().__init__(config)
        self._listeners = listeners
        self._table = table
        self._takeover_seconds = takeover_seconds
        self._acceptors: list[asyncio.Task[None]] = []

    def _open_connections(self) -> int:
        return len(self.server_state.connections)

    def _protocol(self) -> asyncio.Protocol:
        return self.config.http_protocol_class(  # type: ignore[call-arg]
            config=self.config, server_state=self.server_state, app_state=self.lifespan.state
        )

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])  # lifespan (the model loads) and state; no listeners
        self._acceptors = [
            asyncio.create_task(accept_forever(listener, self._table, self._open_connections, self._protocol, self._takeover_seconds))
            for listener in self._listeners
        ]

    async def on_tick(self, counter: int) -> bool:
        self._table.publish(self._open_connections())  # the heartbeat other workers look for
        return await super().on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for acceptor in self._acceptors:
            acceptor.cancel()
        await super().shutdown(sockets=[])


class Worker(UvicornWorker):
    """uvicorn worker pinned to the fast implementations (fail loudly if they are missing), with
    lifespan events on (which is when the app loads the model), and connections balanced across
    workers (churn.balance)."""

    CONFIG_KWARGS = {"loop": "uvloop", "http": "httptools", "lifespan": "on", "access_log": False}
    connection_table: ConnectionTable | None = None

    @classmethod
    def check_config(cls, cfg: Any, log: Any) -> None:
        # gunicorn calls this in the master before it forks any worker: the table created here
        # is shared memory every worker inherits.
        cls.connection_table = ConnectionTable(slots=max(8, 2 * cfg.workers))

    async def _serve(self) -> None:
        table = self.connection_table or ConnectionTable(slots=1)
        if table.claim(os.getpid()) is None:
            self.log.warning("no free slot in the connection table: this worker accepts without balancing")
        self.config.app = self.wsgi
        listeners = [raw_socket(listener) for listener in self.sockets]
        server = _BalancedServer(self.config, listeners, table, takeover_seconds(os.environ))
        self._install_sigquit_handler()
        await server.serve(sockets=[])
        if not server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The app's own messages (model loaded / not loaded, prediction errors) join gunicorn's log.
        churn_log = logging.getLogger("churn")
        churn_log.handlers = self.log.error_log.handlers
        churn_log.setLevel(self.log.error_log.level)
        churn_log.propagate = False


class _Server(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Runs in each worker after the fork: every worker builds its own app and model.
        from churn.app import create_app

        return create_app()


def _positive_int(name: str, raw: str | None, default: int) -> int:
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"serve: {name}={raw!r} is not a whole number") from None
    if value < 1 and not (name == "SAGEMAKER_BIND_TO_PORT" and value == 0):
        raise SystemExit(f"serve: {name} must be at least 1, got {value}")
    return value


def takeover_seconds(env: Mapping[str, str]) -> float:
    raw = env.get(TAKEOVER_VARIABLE, "").strip()
    if not raw:
        return TAKEOVER_SECONDS
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(f"serve: {TAKEOVER_VARIABLE}={raw!r} is not a number of seconds") from None
    if not 0 <= value <= 60:
        raise SystemExit(f"serve: {TAKEOVER_VARIABLE} must be between 0 and 60 seconds, got {raw!r}")
    return value


def options_from_env(host: str, port: int | None, workers: int | None) -> dict[str, Any]:
    env = os.environ
    takeover_seconds(env)  # a bad value stops the master here, not every worker at boot
    timeout = _positive_int("SAGEMAKER_MODEL_SERVER_TIMEOUT", env.get("SAGEMAKER_MODEL_SERVER_TIMEOUT"), DEFAULT_TIMEOUT)
    if port is None:
        port = _positive_int("SAGEMAKER_BIND_TO_PORT", env.get("SAGEMAKER_BIND_TO_PORT"), DEFAULT_PORT)
    if workers is None:
        workers = _positive_int("SAGEMAKER_MODEL_SERVER_WORKERS", env.get("SAGEMAKER_MODEL_SERVER_WORKERS"), len(os.sched_getaffinity(0)))
    # The app reads the timeout itself; make sure it sees the value gunicorn got.
    os.environ["SAGEMAKER_MODEL_SERVER_TIMEOUT"] = str(timeout)
    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "churn.serve.Worker",
        "timeout": timeout,
        "graceful_timeout": min(timeout, 30),
        "keepalive": KEEPALIVE_SECONDS,
        "backlog": 2048,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "churn-serve",
        # gunicorn's runtime control socket lives in $HOME: unneeded, and not writable as non-root.
        "control_socket_disable": True,
    }
    # The heartbeat file gunicorn touches per worker: on a tmpfs, a slow disk cannot stall it.
    if Path("/dev/shm").is_dir() and os.access("/dev/shm", os.W_OK):
        options["worker_tmp_dir"] = "/dev/shm"
    return options


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="serve", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="0.0.0.0", help="address to bind (default %(default)s)")
    parser.add_argument("--port", type=int, help="overrides SAGEMAKER_BIND_TO_PORT; 0 picks a free port")
    parser.add_argument("--workers", type=int, help="overrides SAGEMAKER_MODEL_SERVER_WORKERS")
    args = parser.parse_args(argv)
    keep_training_libraries_out()
    _Server(options_from_env(args.host, args.port, args.workers)).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

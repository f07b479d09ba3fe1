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
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from uvicorn_worker import UvicornWorker

DEFAULT_PORT = 8080
DEFAULT_TIMEOUT = 60
# Longer than the idle timeout of the load balancers in front of an endpoint, so they close idle
# connections first and never send a request into one the server is closing.
KEEPALIVE_SECONDS = 75


class Worker(UvicornWorker):
    """uvicorn worker pinned to the fast implementations (fail loudly if they are missing) and
    with lifespan events on, which is when the app loads the model."""

    CONFIG_KWARGS = {"loop": "uvloop", "http": "httptools", "lifespan": "on", "access_log": False}

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


def options_from_env(host: str, port: int | None, workers: int | None) -> dict[str, Any]:
    env = os.environ
    timeout = _positive_int("SAGEMAKER_MODEL_SERVER_TIMEOUT", env.get("SAGEMAKER_MODEL_SERVER_TIMEOUT"), DEFAULT_TIMEOUT)
    if port is None:
        port = _positive_int("SAGEMAKER_BIND_TO_PORT", env.get("SAGEMAKER_BIND_TO_PORT"), DEFAULT_PORT)
    if workers is None:
        workers = _positive_int(
            "SAGEMAKER_MODEL_SERVER_WORKERS", env.get("SAGEMAKER_MODEL_SERVER_WORKERS"), len(os.sched_getaffinity(0))
        )
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
    _Server(options_from_env(args.host, args.port, args.workers)).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

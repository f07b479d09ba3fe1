"""Child processes of the local tools (`make demo`, `make dashboard`): each leads its own process
group, so stopping it stops everything it started (gunicorn workers, Streamlit's watcher)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Sequence


class StepFailed(Exception):
    """A step could not run; the message names it and shows the end of its log."""


def stop(process: subprocess.Popen, grace: float = 10.0) -> None:
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


def tail(path: Path, chars: int = 2500) -> str:
    with contextlib.suppress(OSError):
        return path.read_text(errors="replace")[-chars:]
    return ""


def start(command: Sequence[str], env: dict[str, str], log: Path, cwd: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(list(command), cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def run(name: str, command: Sequence[str], env: dict[str, str], log: Path, cwd: Path, timeout: float) -> float:
    """Runs a step to completion; its duration in seconds, or StepFailed."""
    started = time.monotonic()
    process = start(command, env, log, cwd)
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise StepFailed(f"{name} did not finish within {timeout:.0f} s; log {log}:\n{tail(log)}") from None
    finally:
        stop(process)
    if code != 0:
        raise StepFailed(f"{name} exited with {code}; log {log}:\n{tail(log)}")
    return time.monotonic() - started

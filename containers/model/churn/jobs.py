"""Run a batch entry point the way SageMaker expects: reason to a file, non-zero exit on failure."""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from churn.errors import JobError

# SageMaker shows the first 1 KB of the failure/message file as the job's failure reason.
_REASON_LIMIT = 1024


def configure_logging() -> None:
    # Logs go to stderr so stdout carries only results and the metric lines SageMaker parses.
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def run_job(name: str, job: Callable[[], object], reason_file: Path) -> int:
    """Call `job`; on failure write a one-paragraph reason to `reason_file` and return 1."""
    configure_logging()
    try:
        job()
    except JobError as error:
        reason = f"{name} failed: {error}"
    except Exception as error:  # a bug: keep the traceback in the log, give SageMaker the gist
        traceback.print_exc(file=sys.stderr)
        reason = f"{name} failed with an unexpected {type(error).__name__}: {error}"
    else:
        return 0
    print(reason, file=sys.stderr)
    try:
        reason_file.parent.mkdir(parents=True, exist_ok=True)
        reason_file.write_text(reason.encode("utf-8")[:_REASON_LIMIT].decode("utf-8", "ignore"), encoding="utf-8")
    except OSError as error:
        print(f"could not write the failure reason to {reason_file}: {error}", file=sys.stderr)
    return 1

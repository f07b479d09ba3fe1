"""Where each entry point reads and writes: SageMaker's /opt/ml layout, every path env-overridable.

SageMaker mounts everything under /opt/ml. Locally (tests, the rehearsal, a laptop) the same code
runs against any directory: set `SM_BASE_DIR` to move the whole tree, or one of the specific
variables below to move a single directory. The training variables are the ones the SageMaker
training toolkit itself exports (`SM_MODEL_DIR`, `SM_CHANNEL_<NAME>`, ...), so code written
against them also runs unchanged inside framework containers.
"""

from __future__ import annotations

import os
from pathlib import Path


def _env_path(variable: str, default: Path) -> Path:
    value = os.environ.get(variable, "").strip()
    return Path(value) if value else default


def base_dir() -> Path:
    return _env_path("SM_BASE_DIR", Path("/opt/ml"))


# --- training job ------------------------------------------------------------------------------


def model_dir() -> Path:
    """Where train writes the model and serve loads it (SageMaker tars it as model.tar.gz)."""
    return _env_path("SM_MODEL_DIR", base_dir() / "model")


def input_data_dir() -> Path:
    return _env_path("SM_INPUT_DATA_DIR", base_dir() / "input" / "data")


def channel_dir(channel: str) -> Path:
    return _env_path(f"SM_CHANNEL_{channel.upper()}", input_data_dir() / channel)


def input_config_dir() -> Path:
    return _env_path("SM_INPUT_CONFIG_DIR", base_dir() / "input" / "config")


def hyperparameters_file() -> Path:
    return input_config_dir() / "hyperparameters.json"


def output_dir() -> Path:
    """SageMaker reads `failure` from here when a job fails."""
    return _env_path("SM_OUTPUT_DIR", base_dir() / "output")


def failure_file() -> Path:
    return output_dir() / "failure"


def checkpoint_dir() -> Path:
    """Synced with S3 by SageMaker when checkpointing is configured (managed spot training)."""
    return _env_path("SM_CHECKPOINT_DIR", base_dir() / "checkpoints")


# --- processing jobs ---------------------------------------------------------------------------

PROCESSING_DIRS = ("input", "train", "validation", "test", "baseline", "model", "evaluation", "seal")


def processing_dir(name: str) -> Path:
    """`/opt/ml/processing/<name>`, overridable by `SM_PROCESSING_<NAME>_DIR` or `SM_PROCESSING_DIR`."""
    if name not in PROCESSING_DIRS:
        raise ValueError(f"unknown processing directory {name!r}; known: {', '.join(PROCESSING_DIRS)}")
    root = _env_path("SM_PROCESSING_DIR", base_dir() / "processing")
    return _env_path(f"SM_PROCESSING_{name.upper()}_DIR", root / name)


def processing_message_file() -> Path:
    """A processing job's ExitMessage: SageMaker reports the first 1 KB of this file."""
    return output_dir() / "message"

"""Session fixtures for the model container: one real generate -> preprocess -> train -> evaluate
run (each step its own process, as SageMaker would start it) and one server over its model."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from model_testkit import MODEL_ROOT, Server, clean_env, run_entry

from tools.offline.records import CACHE_DIR_VARIABLE, program_digest, shared_across_workers

# In-process tests import the churn package the same way `python -m churn.<entry>` finds it.
if str(MODEL_ROOT) not in sys.path:
    sys.path.insert(0, str(MODEL_ROOT))

# What the SageMaker console would send: every value a string, booleans spelled out.
HYPERPARAMETERS = {
    "num_round": "400",
    "learning_rate": "0.05",
    "max_depth": "4",
    "early_stopping_rounds": "40",
    "is_unbalance": "false",
    "seed": "7",
    "sagemaker_program": "ignored",
}


@dataclass(frozen=True)
class Pipeline:
    base: Path
    env: dict[str, str]
    processing: Path
    model_dir: Path
    train_stdout: str
    evaluation: dict
    test_features: np.ndarray
    test_labels: np.ndarray


# The model package version the session server is told it serves (as the SageMaker Model's
# environment tells it).
MODEL_VERSION = "3"


def _check(result, step: str) -> None:
    assert result.returncode == 0, f"{step} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"


def _run_pipeline(base: Path) -> dict[str, str]:
    """generate -> preprocess -> train -> evaluate into `base` (SageMaker's /opt/ml); train's stdout."""
    processing = base / "processing"
    env = pipeline_env(base)
    _check(
        run_entry("generate-data", env, "--rows", "5000", "--seed", "42", "--output", str(processing / "input" / "raw.csv")),
        "generate-data",
    )
    _check(run_entry("preprocess", env), "preprocess")
    config = base / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps(HYPERPARAMETERS))
    train = run_entry("train", env)
    _check(train, "train")
    _check(run_entry("evaluate", env), "evaluate")
    return {"train_stdout": train.stdout}


def pipeline_env(base: Path) -> dict[str, str]:
    processing = base / "processing"
    return clean_env(
        SM_BASE_DIR=str(base),
        SM_CHANNEL_TRAIN=str(processing / "train"),
        SM_CHANNEL_VALIDATION=str(processing / "validation"),
        SM_PROCESSING_MODEL_DIR=str(base / "model"),
    )


@pytest.fixture(scope="session")
def pipeline() -> Pipeline:
    """One run per test session (per model code: a session started in a copy of the repository
    inherits the directory), kept in the session's shared directory by the first worker that needs
    it; the others read its files, which no test writes."""

    def run() -> dict[str, str]:
        base = Path(tempfile.mkdtemp(prefix="opt_ml-", dir=os.environ.get(CACHE_DIR_VARIABLE)))
        return {"base": str(base), **_run_pipeline(base)}

    train = shared_across_workers(["model-pipeline", str(MODEL_ROOT), program_digest(MODEL_ROOT)], run)
    base = Path(train["base"])
    processing = base / "processing"

    from churn.schema import FEATURE_NAMES
    from churn.splits import read_split

    features, labels = read_split(processing / "test", len(FEATURE_NAMES))
    return Pipeline(
        base=base,
        env=pipeline_env(base),
        processing=processing,
        model_dir=base / "model",
        train_stdout=train["train_stdout"],
        evaluation=json.loads((processing / "evaluation" / "evaluation.json").read_text()),
        test_features=features,
        test_labels=labels,
    )


@pytest.fixture(scope="session")
def server(pipeline: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    # No takeover within a test's time: however slowly a busy machine schedules a worker, the
    # connection spread the tests see is the balancing rule's alone (churn.balance).
    running = Server(
        clean_env(SM_MODEL_DIR=str(pipeline.model_dir), SERVE_ACCEPT_TAKEOVER_SECONDS="30", MODEL_PACKAGE_VERSION=MODEL_VERSION),
        log,
        workers=2,
    )
    try:
        running.wait_for_workers(2)
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def late_model_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    """A one-worker server started before its model exists, with a 2 s request timeout."""
    model_dir = tmp_path_factory.mktemp("late_model")
    log = model_dir.parent / "late-serve.log"
    running = Server(clean_env(SM_MODEL_DIR=str(model_dir), SAGEMAKER_MODEL_SERVER_TIMEOUT="2"), log, workers=1)
    try:
        running.wait_for_workers(1)
        yield running, model_dir
    finally:
        running.stop()

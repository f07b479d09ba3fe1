"""Processing entry point: score the trained model on the test split, write evaluation.json.

The output follows SageMaker's model-quality metrics format (`binary_classification_metrics`),
which the pipeline's condition step reads through a PropertyFile (e.g. JsonGet on
`binary_classification_metrics.auc.value`) and the model registry shows as model metrics.

Beside the metrics, `model_artifact.sha256` is the SHA-256 of the model.tar.gz the job received: the
processing input downloads the training job's S3ModelArtifacts object as it is (File mode, not
extracted), so these are the bytes the metrics describe. The pipeline hands the digest to the seal
step (churn/seal.py), which refuses to seal any other bytes under the key RegisterModel names. A run
on an unpacked model directory (tests) has no archive and so writes no `model_artifact`: a pipeline
wired that way fails at the seal step's JsonGet instead of sealing unevaluated bytes.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from churn import paths
from churn.archive import ARCHIVE, archive_sha256
from churn.errors import JobError
from churn.jobs import run_job
from churn.model import MODEL_FILE, Predictor
from churn.splits import read_split
from churn.train import cpu_count

log = logging.getLogger("churn.evaluate")

THRESHOLD = 0.5


def _find_model_dir(root: Path) -> Path:
    candidates = sorted(p.parent for p in root.rglob(MODEL_FILE))
    if not candidates:
        raise JobError(f"model.tar.gz contains no {MODEL_FILE}")
    return candidates[0]


def _extract(archive: Path, target: Path) -> Path:
    try:
        with tarfile.open(archive) as tar:
            # "data" filter: no absolute paths, no escaping the target, no devices or links out.
            tar.extractall(target, filter="data")
    except (tarfile.TarError, OSError) as error:
        raise JobError(f"cannot extract {archive}: {error}") from None
    return _find_model_dir(target)


def binary_classification_metrics(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, Any]:
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        f1_score,
        precision_score,
        recall_score,
        roc_auc_score,
    )

    predicted = (probabilities >= THRESHOLD).astype(int)
    tn, fp, fn, tp = confusion_matrix(labels, predicted, labels=[0, 1]).ravel()
    scores = {
        "auc": roc_auc_score(labels, probabilities),
        "accuracy": accuracy_score(labels, predicted),
        "precision": precision_score(labels, predicted, zero_division=0),
        "recall": recall_score(labels, predicted, zero_division=0),
        "f1": f1_score(labels, predicted, zero_division=0),
    }
    metrics: dict[str, Any] = {name: {"value": float(value)} for name, value in scores.items()}
    metrics["confusion_matrix"] = {
        "0": {"0": int(tn), "1": int(fp)},
        "1": {"0": int(fn), "1": int(tp)},
    }
    return {"binary_classification_metrics": metrics}


def evaluate(model_dir: Path, test_dir: Path, evaluation_dir: Path) -> dict[str, Any]:
    """Write `evaluation_dir/evaluation.json` and return its content."""
    if not model_dir.is_dir():
        raise JobError(f"model directory {model_dir} does not exist")
    archive = model_dir / ARCHIVE
    digest = archive_sha256(archive) if archive.is_file() else None
    with tempfile.TemporaryDirectory(prefix="churn-model-") as scratch:
        source = _extract(archive, Path(scratch)) if digest else model_dir
        predictor = Predictor.load(source, num_threads=cpu_count())
    features, labels = read_split(test_dir, predictor.n_features)
    if len(np.unique(labels)) < 2:
        raise JobError(f"the test split ({test_dir}) holds only one class: AUC is undefined")
    report = binary_classification_metrics(labels, predictor.predict(features))
    if digest:
        report["model_artifact"] = {"sha256": digest}
    evaluation_dir.mkdir(parents=True, exist_ok=True)
    (evaluation_dir / "evaluation.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for name in ("auc", "accuracy", "precision", "recall", "f1"):
        print(f"test:{name}={report['binary_classification_metrics'][name]['value']:.4f}", flush=True)
    if digest:
        print(f"model:sha256={digest}", flush=True)
    log.info("%d test rows scored; report written to %s", len(labels), evaluation_dir / "evaluation.json")
    return report


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="evaluate", description=__doc__.splitlines()[0]).parse_args(argv)
    return run_job(
        "evaluation",
        lambda: evaluate(paths.processing_dir("model"), paths.processing_dir("test"), paths.processing_dir("evaluation")),
        paths.processing_message_file(),
    )


if __name__ == "__main__":
    sys.exit(main())

"""Training checkpoints for managed spot training: resume where an interrupted job stopped.

SageMaker syncs the checkpoint directory with S3 while the job runs and restores it into the
replacement instance. One JSON file holds the booster so far plus the early-stopping state, and is
replaced atomically, so an interruption mid-write leaves the previous checkpoint intact. A
checkpoint made with different model settings or features is ignored rather than resumed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("churn.checkpoint")

CHECKPOINT_FILE = "checkpoint.json"


@dataclass(frozen=True)
class CheckpointState:
    iteration: int  # trees in the saved booster
    best_iteration: int  # 1-based; 0 before the first evaluation
    best_score: float  # validation log-loss at best_iteration
    finished: bool  # training ended (all rounds or early stop): nothing left to do
    model: str  # LightGBM text model with all `iteration` trees


def fingerprint(settings: dict[str, Any], feature_names: list[str]) -> str:
    blob = json.dumps({"settings": settings, "features": feature_names}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class Checkpointer:
    def __init__(self, directory: Path, fingerprint: str) -> None:
        self.directory = directory
        self.fingerprint = fingerprint
        self.path = directory / CHECKPOINT_FILE

    def load(self) -> CheckpointState | None:
        if not self.path.exists():
            return None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("fingerprint") != self.fingerprint:
                log.warning("ignoring %s: made with other hyper-parameters or features", self.path)
                return None
            return CheckpointState(**{k: data[k] for k in CheckpointState.__dataclass_fields__})
        except (ValueError, KeyError, TypeError) as error:
            log.warning("ignoring unreadable checkpoint %s: %s", self.path, error)
            return None

    def save(self, state: CheckpointState) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / f".{CHECKPOINT_FILE}.tmp"
        tmp.write_text(json.dumps({"fingerprint": self.fingerprint, **asdict(state)}), encoding="utf-8")
        os.replace(tmp, self.path)

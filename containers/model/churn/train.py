"""Training entry point (SageMaker training contract): LightGBM gradient-boosted churn classifier.

Reads the `train` and `validation` channels (label first, no header), hyper-parameters from
hyperparameters.json, trains with early stopping on validation log-loss, checkpoints for spot
interruptions, writes the model directory, and prints metric lines such as `validation:auc=0.8731`
for the estimator's metric_definitions. Any failure: the reason goes to /opt/ml/output/failure and
the process exits 1.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from churn import hyperparameters as hparams
from churn import paths
from churn.checkpoint import Checkpointer, CheckpointState, fingerprint
from churn.errors import JobError
from churn.jobs import run_job
from churn.model import save_model
from churn.schema import FEATURE_NAMES
from churn.splits import read_split

log = logging.getLogger("churn.train")

# Settings that do not change the model a given round produces: a checkpoint stays valid across them.
_RUN_LENGTH_SETTINGS = ("num_round", "early_stopping_rounds", "checkpoint_frequency")


@dataclass(frozen=True)
class TrainResult:
    best_iteration: int
    metrics: dict[str, dict[str, float]]
    resumed_from: int


def cpu_count() -> int:
    return len(os.sched_getaffinity(0))


def lightgbm_params(hp: hparams.Hyperparameters, num_threads: int) -> dict[str, Any]:
    return {
        "objective": "binary",
        "metric": ["auc", "binary_logloss"],
        "learning_rate": hp.learning_rate,
        "max_depth": hp.max_depth,
        "num_leaves": hp.num_leaves,
        "min_sum_hessian_in_leaf": hp.min_child_weight,
        "min_data_in_leaf": hp.min_data_in_leaf,
        "bagging_fraction": hp.subsample,
        "bagging_freq": 1 if hp.subsample < 1.0 else 0,
        "feature_fraction": hp.colsample_bytree,
        "lambda_l1": hp.reg_alpha,
        "lambda_l2": hp.reg_lambda,
        "scale_pos_weight": hp.scale_pos_weight,
        "is_unbalance": hp.is_unbalance,
        "seed": hp.seed,
        # Same data + same settings -> same model, whatever the thread count.
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": num_threads,
        "verbosity": -1,
    }


class _Progress:
    """Tracks the best validation log-loss (resumable, unlike LightGBM's own early-stopping
    callback), stops after `patience` rounds without improvement, prints progress and writes
    checkpoints.

    Log-loss rather than AUC decides the stopping point: AUC only ranks, and often peaks after a
    handful of trees whose probabilities are still far from calibrated (every prediction below
    0.5), which makes accuracy/precision/recall useless; log-loss keeps ranking and calibration."""

    order = 30  # after LightGBM has evaluated the round

    def __init__(
        self,
        patience: int,
        log_every: int,
        checkpointer: Checkpointer | None,
        best_iteration: int = 0,
        best_score: float = np.inf,
    ) -> None:
        self.patience = patience
        self.log_every = log_every
        self.checkpointer = checkpointer
        self.best_iteration = best_iteration
        self.best_score = best_score
        self.early_stopped = False

    def __call__(self, env: lgb.callback.CallbackEnv) -> None:
        done = env.iteration + 1  # trees in the booster, counting a resumed checkpoint's
        results = {(data, metric): value for data, metric, value, *_ in env.evaluation_result_list}
        loss = results[("validation", "binary_logloss")]
        if loss < self.best_score:
            self.best_score, self.best_iteration = loss, done
        if done % self.log_every == 0:
            print(
                f"[{done}] train:auc={results[('train', 'auc')]:.4f} "
                f"validation:auc={results[('validation', 'auc')]:.4f} validation:logloss={loss:.4f}",
                flush=True,
            )
        stop = self.patience > 0 and done - self.best_iteration >= self.patience
        if self.checkpointer is not None and (done % self.log_every == 0 or stop):
            self.save(env.model, done, finished=stop)
        if stop:
            self.early_stopped = True
            raise lgb.callback.EarlyStopException(self.best_iteration - 1, env.evaluation_result_list)

    def save(self, booster: lgb.Booster, iteration: int, finished: bool) -> None:
        assert self.checkpointer is not None
        self.checkpointer.save(
            CheckpointState(
                iteration=iteration,
                best_iteration=self.best_iteration,
                best_score=float(self.best_score),
                finished=finished,
                model=booster.model_to_string(),
            )
        )


def _split(directory: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    features, labels = read_split(directory, len(FEATURE_NAMES))
    if len(np.unique(labels)) < 2:
        raise JobError(f"the {name} channel ({directory}) holds only one class: AUC is undefined")
    return features, labels


def _metrics(booster: lgb.Booster, best_iteration: int, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import log_loss, roc_auc_score

    p = booster.predict(x, num_iteration=best_iteration)
    return {"auc": float(roc_auc_score(y, p)), "logloss": float(log_loss(y, p, labels=[0, 1]))}


def train(
    train_dir: Path,
    validation_dir: Path,
    model_dir: Path,
    hp: hparams.Hyperparameters,
    checkpoint_dir: Path | None = None,
    num_threads: int | None = None,
) -> TrainResult:
    x_train, y_train = _split(train_dir, "train")
    x_val, y_val = _split(validation_dir, "validation")
    params = lightgbm_params(hp, num_threads or cpu_count())
    names = list(FEATURE_NAMES)

    checkpointer = None
    state = None
    if checkpoint_dir is not None:
        settings = {k: v for k, v in hp.to_dict().items() if k not in _RUN_LENGTH_SETTINGS}
        checkpointer = Checkpointer(checkpoint_dir, fingerprint(settings, names))
        state = checkpointer.load()

    resumed_from = state.iteration if state else 0
    progress = _Progress(
        patience=hp.early_stopping_rounds,
        log_every=hp.checkpoint_frequency,
        checkpointer=checkpointer,
        best_iteration=state.best_iteration if state else 0,
        best_score=state.best_score if state else np.inf,
    )
    booster = lgb.Booster(model_str=state.model) if state else None
    remaining = 0 if state and state.finished else hp.num_round - resumed_from
    if state:
        log.info(
            "resuming from checkpoint at iteration %d (best %d, validation logloss %.4f)%s",
            state.iteration,
            state.best_iteration,
            state.best_score,
            ": training had finished" if state.finished else "",
        )
    if remaining > 0:
        dtrain = lgb.Dataset(x_train, y_train, feature_name=names, free_raw_data=False)
        dval = lgb.Dataset(x_val, y_val, reference=dtrain, free_raw_data=False)
        booster = lgb.train(
            params,
            dtrain,
            num_boost_round=remaining,
            valid_sets=[dtrain, dval],
            valid_names=["train", "validation"],
            init_model=booster,
            callbacks=[progress],
        )
        if checkpointer is not None and not progress.early_stopped:
            progress.save(booster, booster.current_iteration(), finished=True)
    assert booster is not None
    # With early stopping off every round is kept, as asked; otherwise the best one.
    if hp.early_stopping_rounds > 0 and progress.best_iteration:
        best = progress.best_iteration
    else:
        best = booster.current_iteration()

    metrics = {
        "train": _metrics(booster, best, x_train, y_train),
        "validation": _metrics(booster, best, x_val, y_val),
    }
    save_model(
        model_dir,
        booster.model_to_string(num_iteration=best),
        names,
        {
            "algorithm": "lightgbm",
            "lightgbm_version": lgb.__version__,
            "hyperparameters": hp.to_dict(),
            "best_iteration": best,
            "trained_iterations": booster.current_iteration(),
            "resumed_from_iteration": resumed_from,
            "train_rows": int(len(y_train)),
            "validation_rows": int(len(y_val)),
            "metrics": metrics,
        },
    )
    # The final, best-iteration values come last: tuning jobs read a metric's last value.
    for split in ("train", "validation"):
        for name, value in metrics[split].items():
            print(f"{split}:{name}={value:.4f}", flush=True)
    log.info("model with %d trees written to %s", best, model_dir)
    return TrainResult(best_iteration=best, metrics=metrics, resumed_from=resumed_from)


def checkpoint_dir_from_env() -> Path | None:
    """Checkpoint only when asked: SM_CHECKPOINT_DIR set, or SageMaker created /opt/ml/checkpoints
    (it does so when the job has a CheckpointConfig)."""
    directory = paths.checkpoint_dir()
    return directory if os.environ.get("SM_CHECKPOINT_DIR") or directory.is_dir() else None


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="train", description=__doc__.splitlines()[0]).parse_args(argv)

    def job() -> None:
        hp = hparams.load(paths.hyperparameters_file())
        train(
            paths.channel_dir("train"),
            paths.channel_dir("validation"),
            paths.model_dir(),
            hp,
            checkpoint_dir_from_env(),
        )

    return run_job("training", job, paths.failure_file())


if __name__ == "__main__":
    sys.exit(main())

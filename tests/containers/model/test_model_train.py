"""Training: hyper-parameter parsing, metric lines, model directory, failures, checkpoints."""

from __future__ import annotations

import json
import re
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest
from model_testkit import clean_env, run_entry

METRIC_REGEX = r"validation:auc=([0-9\.]+)"  # what the pipeline's metric_definitions use


# --- hyper-parameters ---------------------------------------------------------------------------------


def test_string_values_are_parsed_by_type():
    from churn.hyperparameters import parse

    hp = parse({"num_round": "200", "learning_rate": "0.1", "is_unbalance": "false", "max_depth": "6.0"})
    assert (hp.num_round, hp.learning_rate, hp.is_unbalance, hp.max_depth) == (200, 0.1, False, 6)
    assert parse({"is_unbalance": "True"}).is_unbalance is True
    assert parse({"is_unbalance": "0"}).is_unbalance is False


def test_sdk_json_encoded_values_aliases_and_sagemaker_keys():
    from churn.hyperparameters import parse

    hp = parse({"eta": '"0.2"', "n_estimators": '"50"', "sagemaker_program": "x", "_tuning_objective_metric": "y"})
    assert (hp.learning_rate, hp.num_round) == (0.2, 50)


def test_defaults_when_the_file_is_absent(tmp_path: Path):
    from churn.hyperparameters import Hyperparameters, load

    assert load(tmp_path / "hyperparameters.json") == Hyperparameters()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"learning_rate": "fast"}, "learning_rate='fast' is not a number"),
        ({"is_unbalance": "maybe"}, "is_unbalance='maybe' is not a boolean"),
        ({"num_round": "10.5"}, "num_round='10.5' must be a whole number"),
        ({"subsample": "1.5"}, "subsample=1.5: must be in (0, 1]"),
        ({"learning_rate": "nan"}, "must be a finite number"),
        ({"max_leaves": "8"}, "unknown hyper-parameter(s) max_leaves"),
        ({"eta": "0.1", "learning_rate": "0.2"}, "given twice"),
        ({"is_unbalance": "true", "scale_pos_weight": "3"}, "cannot be combined"),
    ],
)
def test_bad_hyperparameters_are_rejected_with_the_name(raw, expected):
    from churn.errors import JobError
    from churn.hyperparameters import parse

    with pytest.raises(JobError) as error:
        parse(raw)
    assert expected in str(error.value)


# --- the training run of the session pipeline -----------------------------------------------------


def test_metric_lines_match_the_pipeline_regex(pipeline):
    lines = pipeline.train_stdout.splitlines()
    final = lines[-4:]
    assert [re.fullmatch(r"(train|validation):(auc|logloss)=\d+\.\d{4}", line) is not None for line in final] == [True] * 4
    values = [float(v) for v in re.findall(METRIC_REGEX, pipeline.train_stdout)]
    assert len(values) >= 2  # progress lines give the curve, the last one is the final value
    metadata = json.loads((pipeline.model_dir / "metadata.json").read_text())
    assert values[-1] == pytest.approx(metadata["metrics"]["validation"]["auc"], abs=5e-5)
    assert 0.5 < values[-1] <= 1.0


def test_model_directory_and_parsed_hyperparameters(pipeline):
    from churn.schema import FEATURE_NAMES

    assert sorted(p.name for p in pipeline.model_dir.iterdir()) == ["features.json", "metadata.json", "model.txt"]
    features = json.loads((pipeline.model_dir / "features.json").read_text())
    assert features["feature_names"] == list(FEATURE_NAMES)
    metadata = json.loads((pipeline.model_dir / "metadata.json").read_text())
    hp = metadata["hyperparameters"]
    assert hp["is_unbalance"] is False and hp["seed"] == 7 and hp["num_round"] == 400
    booster = lgb.Booster(model_file=str(pipeline.model_dir / "model.txt"))
    # Early stopping kept the best iteration only, and stopped before the round budget.
    assert booster.num_trees() == metadata["best_iteration"] < 400
    assert booster.feature_name() == list(FEATURE_NAMES)


# --- failures ------------------------------------------------------------------------------------------


def test_training_failure_writes_the_reason_and_exits_non_zero(pipeline, tmp_path: Path):
    config = tmp_path / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps({"learning_rate": "fast"}))
    env = clean_env(
        SM_BASE_DIR=str(tmp_path),
        SM_CHANNEL_TRAIN=str(pipeline.processing / "train"),
        SM_CHANNEL_VALIDATION=str(pipeline.processing / "validation"),
    )
    result = run_entry("train", env)
    assert result.returncode != 0
    failure = (tmp_path / "output" / "failure").read_text()
    assert failure.startswith("training failed:")
    assert "learning_rate='fast' is not a number" in failure
    assert not (tmp_path / "model" / "model.txt").exists()


def test_missing_channel_and_bad_data_fail_clearly(pipeline, tmp_path: Path):
    from churn.errors import JobError
    from churn.hyperparameters import Hyperparameters
    from churn.train import train

    with pytest.raises(JobError, match="input directory .*nowhere does not exist"):
        train(tmp_path / "nowhere", pipeline.processing / "validation", tmp_path / "m", Hyperparameters())
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "train.csv").write_text("1,2,3\n0,4,5\n")
    from churn.schema import FEATURE_NAMES

    with pytest.raises(JobError, match=f"3 columns, expected {len(FEATURE_NAMES) + 1}"):
        train(bad, pipeline.processing / "validation", tmp_path / "m", Hyperparameters())


def test_an_unexpected_error_is_reported_too(tmp_path: Path):
    from churn.jobs import run_job

    def broken() -> None:
        raise KeyError("boom")

    assert run_job("training", broken, tmp_path / "failure") == 1
    assert (tmp_path / "failure").read_text() == "training failed with an unexpected KeyError: 'boom'"


# --- checkpoints ----------------------------------------------------------------------------------------


def _train(pipeline, model_dir: Path, checkpoint_dir: Path | None, **hp):
    from churn.hyperparameters import Hyperparameters
    from churn.train import train

    settings = {"early_stopping_rounds": 0, "checkpoint_frequency": 5, **hp}
    return train(
        pipeline.processing / "train",
        pipeline.processing / "validation",
        model_dir,
        Hyperparameters(**settings),
        checkpoint_dir,
        num_threads=1,
    )


def _interrupted_after(pipeline, tmp_path: Path, rounds: int) -> Path:
    """A checkpoint as a spot interruption leaves it: `rounds` trees saved, training not finished."""
    checkpoints = tmp_path / "checkpoints"
    _train(pipeline, tmp_path / "first", checkpoints, num_round=rounds)
    path = checkpoints / "checkpoint.json"
    state = json.loads(path.read_text())
    assert state["iteration"] == rounds and state["finished"] is True
    state["finished"] = False
    path.write_text(json.dumps(state))
    return checkpoints


def _trees(model_dir: Path) -> list[dict]:
    return lgb.Booster(model_file=str(model_dir / "model.txt")).dump_model()["tree_info"]


def test_training_resumes_from_a_checkpoint(pipeline, tmp_path: Path):
    checkpoints = _interrupted_after(pipeline, tmp_path, 20)
    saved = lgb.Booster(model_str=json.loads((checkpoints / "checkpoint.json").read_text())["model"])

    resumed = _train(pipeline, tmp_path / "resumed", checkpoints, num_round=40)
    assert resumed.resumed_from == 20
    trees = _trees(tmp_path / "resumed")
    assert len(trees) == 40
    assert trees[:20] == saved.dump_model()["tree_info"]  # the first 20 trees were not retrained

    # Continuing from the checkpoint gives the model an uninterrupted run gives.
    _train(pipeline, tmp_path / "straight", None, num_round=40)
    x = pipeline.test_features
    np.testing.assert_allclose(
        lgb.Booster(model_file=str(tmp_path / "resumed" / "model.txt")).predict(x),
        lgb.Booster(model_file=str(tmp_path / "straight" / "model.txt")).predict(x),
        rtol=0,
        atol=1e-9,
    )
    assert json.loads((checkpoints / "checkpoint.json").read_text())["iteration"] == 40


def test_a_finished_checkpoint_is_not_retrained(pipeline, tmp_path: Path):
    checkpoints = tmp_path / "checkpoints"
    _train(pipeline, tmp_path / "first", checkpoints, num_round=15)
    again = _train(pipeline, tmp_path / "again", checkpoints, num_round=15)
    assert again.resumed_from == 15
    assert _trees(tmp_path / "again") == _trees(tmp_path / "first")


def test_a_checkpoint_from_other_settings_is_ignored(pipeline, tmp_path: Path):
    checkpoints = _interrupted_after(pipeline, tmp_path, 10)
    result = _train(pipeline, tmp_path / "other", checkpoints, num_round=12, learning_rate=0.2)
    assert result.resumed_from == 0
    assert len(_trees(tmp_path / "other")) == 12


def test_early_stopping_keeps_the_best_round_and_off_keeps_them_all(pipeline, tmp_path: Path):
    # A learning rate this high overfits within a few dozen rounds.
    stopped = _train(pipeline, tmp_path / "stopped", None, num_round=60, learning_rate=0.5, early_stopping_rounds=5)
    assert len(_trees(tmp_path / "stopped")) == stopped.best_iteration < 60
    everything = _train(pipeline, tmp_path / "all", None, num_round=60, learning_rate=0.5)
    assert len(_trees(tmp_path / "all")) == everything.best_iteration == 60

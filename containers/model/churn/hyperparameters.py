"""Training hyper-parameters: parsed from SageMaker's all-strings JSON into typed, checked values.

SageMaker passes every value as a string ("0.1", "false", "200"); the Python SDK's framework
estimators even JSON-encode them a second time ('"0.1"'). A naive `bool("false")` is True, so each
value is parsed by its declared type and range-checked, and a bad or unknown name is a clear
error rather than a silently ignored setting.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from churn.errors import JobError

# Other names people (and other algorithms' tuning ranges) use for the same settings.
ALIASES = {
    "n_estimators": "num_round",
    "num_boost_round": "num_round",
    "num_iterations": "num_round",
    "eta": "learning_rate",
    "lambda": "reg_lambda",
    "alpha": "reg_alpha",
    "min_child_samples": "min_data_in_leaf",
    "bagging_fraction": "subsample",
    "feature_fraction": "colsample_bytree",
}

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@dataclass(frozen=True)
class Hyperparameters:
    num_round: int = 500
    learning_rate: float = 0.05
    max_depth: int = 4  # -1: no limit
    num_leaves: int = 15
    min_child_weight: float = 1e-3
    min_data_in_leaf: int = 40
    subsample: float = 1.0
    colsample_bytree: float = 1.0
    reg_alpha: float = 0.0
    reg_lambda: float = 0.0
    scale_pos_weight: float = 1.0
    is_unbalance: bool = False
    early_stopping_rounds: int = 50  # 0: train all num_round rounds
    seed: int = 42
    checkpoint_frequency: int = 10  # rounds between progress lines and checkpoints (if enabled)

    def __post_init__(self) -> None:
        problems = [
            f"{name}={getattr(self, name)!r}: {rule}"
            for name, ok, rule in (
                ("num_round", self.num_round >= 1, "must be at least 1"),
                ("learning_rate", 0.0 < self.learning_rate <= 1.0, "must be in (0, 1]"),
                ("max_depth", self.max_depth == -1 or self.max_depth >= 1, "must be -1 or at least 1"),
                ("num_leaves", 2 <= self.num_leaves <= 131072, "must be between 2 and 131072"),
                ("min_child_weight", self.min_child_weight >= 0.0, "must be >= 0"),
                ("min_data_in_leaf", self.min_data_in_leaf >= 1, "must be at least 1"),
                ("subsample", 0.0 < self.subsample <= 1.0, "must be in (0, 1]"),
                ("colsample_bytree", 0.0 < self.colsample_bytree <= 1.0, "must be in (0, 1]"),
                ("reg_alpha", self.reg_alpha >= 0.0, "must be >= 0"),
                ("reg_lambda", self.reg_lambda >= 0.0, "must be >= 0"),
                ("scale_pos_weight", self.scale_pos_weight > 0.0, "must be > 0"),
                ("early_stopping_rounds", self.early_stopping_rounds >= 0, "must be >= 0"),
                ("seed", self.seed >= 0, "must be >= 0"),
                ("checkpoint_frequency", self.checkpoint_frequency >= 1, "must be at least 1"),
                (
                    "is_unbalance",
                    not (self.is_unbalance and self.scale_pos_weight != 1.0),
                    "cannot be combined with scale_pos_weight (LightGBM uses one or the other)",
                ),
            )
            if not ok
        ]
        if problems:
            raise JobError("invalid hyper-parameters: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _unquote(value: Any) -> Any:
    # The SageMaker Python SDK's framework estimators json.dumps each value: '"0.1"' -> '0.1'.
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _parse(name: str, kind: type, value: Any) -> Any:
    value = _unquote(value)
    text = str(value).strip()
    if kind is bool:
        if isinstance(value, bool):
            return value
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise JobError(f"hyper-parameter {name}={value!r} is not a boolean (use true or false)")
    try:
        number = float(text)
    except ValueError:
        raise JobError(f"hyper-parameter {name}={value!r} is not a number") from None
    if not math.isfinite(number) or isinstance(value, bool):
        raise JobError(f"hyper-parameter {name}={value!r} must be a finite number")
    if kind is int:
        if number != int(number):
            raise JobError(f"hyper-parameter {name}={value!r} must be a whole number")
        return int(number)
    return number


def parse(raw: dict[str, Any]) -> Hyperparameters:
    """Typed hyper-parameters from SageMaker's string map (unset names keep their defaults)."""
    if not isinstance(raw, dict):
        raise JobError(f"hyper-parameters must be a JSON object, got {type(raw).__name__}")
    types = {f.name: f.type for f in fields(Hyperparameters)}
    kinds = {"int": int, "float": float, "bool": bool}
    values: dict[str, Any] = {}
    unknown = []
    for key, value in raw.items():
        # SageMaker and its SDK add their own entries (sagemaker_program, _tuning_objective_metric).
        if key.startswith(("sagemaker_", "_")):
            continue
        name = ALIASES.get(key, key)
        if name not in types:
            unknown.append(key)
            continue
        if name in values:
            raise JobError(f"hyper-parameter {name} is given twice (as {key} and an alias)")
        values[name] = _parse(key, kinds[str(types[name])], value)
    if unknown:
        known = sorted(set(types) | set(ALIASES))
        raise JobError(f"unknown hyper-parameter(s) {', '.join(sorted(unknown))}; known: {', '.join(known)}")
    return Hyperparameters(**values)


def load(path: Path) -> Hyperparameters:
    """Read hyperparameters.json; a missing file means all defaults (SageMaker omits it when empty)."""
    if not path.exists():
        return Hyperparameters()
    try:
        raw = json.loads(path.read_text(encoding="utf-8") or "{}")
    except ValueError as error:
        raise JobError(f"{path} is not valid JSON: {error}") from None
    return parse(raw)

"""The model's input features, read from the model container's own schema (one source of truth).

The container's package lives outside this program's import path and imports numpy and pandas,
which cost a program run ~0.35 CPU-seconds for ten names: the names are read from the schema's
source instead (`RAW_FEATURES`, a literal tuple of column constructors whose first argument is the
name; `FEATURE_NAMES` is one feature per raw column, in order). tests/components/training/test_model_schema.py checks
that this reading equals the imported module's FEATURE_NAMES.
"""

from __future__ import annotations

import ast
from pathlib import Path

_SCHEMA = Path(__file__).resolve().parents[2] / "containers" / "model" / "churn" / "schema.py"


def _load_feature_names(path: Path = _SCHEMA) -> tuple[str, ...]:
    for node in ast.parse(path.read_text(), filename=str(path)).body:
        if not isinstance(node, (ast.AnnAssign, ast.Assign)):
            continue
        target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
        if isinstance(target, ast.Name) and target.id == "RAW_FEATURES" and isinstance(node.value, ast.Tuple):
            names = []
            for column in node.value.elts:
                if not (
                    isinstance(column, ast.Call)
                    and column.args
                    and isinstance(column.args[0], ast.Constant)
                    and isinstance(column.args[0].value, str)
                ):
                    raise ValueError(
                        f"{path}: RAW_FEATURES must list column constructors whose first argument is the name (line {column.lineno})"
                    )
                names.append(column.args[0].value)
            return tuple(names)
    raise ValueError(f"{path}: no literal RAW_FEATURES tuple to read the model's feature names from")


FEATURE_NAMES: tuple[str, ...] = _load_feature_names()

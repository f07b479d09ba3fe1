"""The model's input features, read from the model container's own schema (one source of truth).

The container's package is plain Python with no side effects at import; it lives outside this
program's import path, so it is loaded from its folder.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_SCHEMA = Path(__file__).resolve().parent.parent / "containers" / "model" / "churn" / "schema.py"


def _load_feature_names() -> tuple[str, ...]:
    spec = importlib.util.spec_from_file_location("churn_schema", _SCHEMA)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return tuple(module.FEATURE_NAMES)


FEATURE_NAMES: tuple[str, ...] = _load_feature_names()

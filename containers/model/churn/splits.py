"""The split files shared by preprocess, train and evaluate: label first, features after, no header.

That is the layout SageMaker's built-in algorithms use for CSV channels, so the same files also
work with them; the feature names travel separately (schema and model directory).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from churn.errors import JobError


def data_files(directory: Path, pattern: str = "*") -> list[Path]:
    """Every non-hidden file under `directory` (S3 prefixes may arrive as nested folders), sorted."""
    if not directory.is_dir():
        raise JobError(f"input directory {directory} does not exist")
    files = sorted(
        p for p in directory.rglob(pattern) if p.is_file() and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    )
    if not files:
        raise JobError(f"no data files found in {directory}")
    return files


def write_split(path: Path, features: pd.DataFrame, label: pd.Series) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pd.concat([label.rename("label").reset_index(drop=True), features.reset_index(drop=True)], axis=1)
    table.to_csv(path, header=False, index=False)


def read_split(directory: Path, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """Read every file in a split directory; return (features float64 2-D, labels int 0/1)."""
    parts = []
    for path in data_files(directory):
        try:
            table = pd.read_csv(path, header=None, dtype=str, keep_default_na=False)
        except pd.errors.EmptyDataError:
            raise JobError(f"{path} is empty") from None
        if table.shape[1] != n_features + 1:
            raise JobError(
                f"{path}: {table.shape[1]} columns, expected {n_features + 1} (the label, then {n_features} features, no header)"
            )
        parts.append(_to_numbers(table, path))
    data = np.vstack(parts)
    labels = data[:, 0]
    if not np.isin(labels, (0.0, 1.0)).all():
        bad = labels[~np.isin(labels, (0.0, 1.0))][0]
        raise JobError(f"{directory}: label (first column) must be 0 or 1, found {bad:g}")
    return np.ascontiguousarray(data[:, 1:]), labels.astype(np.int64)


def _to_numbers(table: pd.DataFrame, path: Path) -> np.ndarray:
    numbers = table.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(numbers)
    if bad.any():
        row, column = (int(i[0]) for i in np.nonzero(bad))
        raise JobError(f"{path}: line {row + 1}, column {column + 1}: {table.iat[row, column]!r} is not a number")
    return numbers

"""Processing entry point: validate raw CSV, encode, split, and write the Model Monitor baseline.

Reads every *.csv under the input directory (raw columns with a header, `churn` label included),
then writes, label first and without header, train/validation/test splits (stratified on the
label) and `baseline/baseline.csv`: the training split's encoded features WITH a header — the
exact columns, in the exact order, that the endpoint receives and Model Monitor profiles.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from churn import paths
from churn.errors import JobError
from churn.jobs import run_job
from churn.schema import LABEL, SchemaError, encode, validate
from churn.splits import data_files, write_split

log = logging.getLogger("churn.preprocess")

# Fewer rows than this per class cannot be split three ways with both classes in every split.
MIN_ROWS_PER_CLASS = 10


@dataclass(frozen=True)
class PreprocessResult:
    rows: int
    train_rows: int
    validation_rows: int
    test_rows: int
    churn_rate: float


def read_raw(input_dir: Path) -> pd.DataFrame:
    """Read and validate every CSV under `input_dir`; raise JobError naming file, line and column."""
    frames = []
    for path in data_files(input_dir, "*.csv"):
        source = str(path.relative_to(input_dir))
        try:
            # Everything as text: validation, not pandas' type guessing, decides what is a number.
            raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
        except pd.errors.EmptyDataError:
            raise JobError(f"{source} is empty (expected a header line and rows)") from None
        except pd.errors.ParserError as error:
            raise JobError(f"{source} is not valid CSV: {error}") from None
        try:
            frames.append(validate(raw, source))
        except SchemaError as error:
            raise JobError(str(error)) from None
    return pd.concat(frames, ignore_index=True)


def preprocess(
    input_dir: Path,
    train_dir: Path,
    validation_dir: Path,
    test_dir: Path,
    baseline_dir: Path,
    validation_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 42,
) -> PreprocessResult:
    for name, fraction in (("validation_fraction", validation_fraction), ("test_fraction", test_fraction)):
        if not 0.0 < fraction < 1.0:
            raise JobError(f"{name} must be between 0 and 1 (exclusive), got {fraction}")
    if validation_fraction + test_fraction >= 0.9:
        raise JobError("validation_fraction + test_fraction must leave at least 10% for training")

    table = read_raw(input_dir)
    counts = table[LABEL].value_counts()
    for value in (0, 1):
        if counts.get(value, 0) < MIN_ROWS_PER_CLASS:
            raise JobError(
                f"need at least {MIN_ROWS_PER_CLASS} rows with {LABEL}={value} to split the data, "
                f"found {counts.get(value, 0)} in {len(table)} rows"
            )
    features = encode(table)
    label = table[LABEL]

    # scikit-learn is imported here, not at module level: serve never needs it.
    from sklearn.model_selection import train_test_split

    holdout = validation_fraction + test_fraction
    x_train, x_rest, y_train, y_rest = train_test_split(features, label, test_size=holdout, stratify=label, random_state=seed)
    x_val, x_test, y_val, y_test = train_test_split(x_rest, y_rest, test_size=test_fraction / holdout, stratify=y_rest, random_state=seed)

    write_split(train_dir / "train.csv", x_train, y_train)
    write_split(validation_dir / "validation.csv", x_val, y_val)
    write_split(test_dir / "test.csv", x_test, y_test)
    baseline_dir.mkdir(parents=True, exist_ok=True)
    x_train.to_csv(baseline_dir / "baseline.csv", header=True, index=False)

    result = PreprocessResult(
        rows=len(table),
        train_rows=len(x_train),
        validation_rows=len(x_val),
        test_rows=len(x_test),
        churn_rate=float(label.mean()),
    )
    log.info(
        "%d rows (churn rate %.3f) -> train %d, validation %d, test %d; baseline %s",
        result.rows,
        result.churn_rate,
        result.train_rows,
        result.validation_rows,
        result.test_rows,
        baseline_dir / "baseline.csv",
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="preprocess", description=__doc__.splitlines()[0])
    parser.add_argument("--validation-fraction", type=float, default=0.15)
    parser.add_argument("--test-fraction", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    return run_job(
        "preprocess",
        lambda: preprocess(
            paths.processing_dir("input"),
            paths.processing_dir("train"),
            paths.processing_dir("validation"),
            paths.processing_dir("test"),
            paths.processing_dir("baseline"),
            args.validation_fraction,
            args.test_fraction,
            args.seed,
        ),
        paths.processing_message_file(),
    )


if __name__ == "__main__":
    sys.exit(main())

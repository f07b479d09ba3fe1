"""Data generator, schema validation and the preprocess step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from model_testkit import clean_env, run_entry


def test_generator_is_deterministic_per_seed():
    from churn.data import generate

    first, again, other = generate(300, seed=1), generate(300, seed=1), generate(300, seed=2)
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)


def test_generated_table_has_the_schema_and_a_learnable_noisy_label():
    from churn.data import generate
    from churn.schema import RAW_COLUMNS, validate

    table = generate(5000, seed=42)
    assert tuple(table.columns) == RAW_COLUMNS
    validate(table.astype(str))  # raises on any schema violation
    rate = table["churn"].mean()
    assert 0.1 < rate < 0.35  # a realistic churn rate, both classes well represented
    # The label relates to the features in the documented direction, but not perfectly.
    m2m = table["contract"] == "month-to-month"
    assert table.loc[m2m, "churn"].mean() > 2 * table.loc[~m2m, "churn"].mean()
    assert table.loc[table["service_calls"] >= 4, "churn"].mean() > rate
    assert 0 < table.loc[m2m & (table["tenure_months"] < 6), "churn"].mean() < 1


def test_drifted_variant_keeps_the_schema_and_moves_the_distributions():
    from churn.data import generate
    from churn.schema import validate

    clean, drifted = generate(5000, seed=3), generate(5000, seed=3, drifted=True)
    validate(drifted.astype(str))
    assert drifted["monthly_charges"].mean() > clean["monthly_charges"].mean() * 1.15
    assert drifted["service_calls"].mean() > clean["service_calls"].mean() + 0.5
    assert drifted["tenure_months"].mean() < clean["tenure_months"].mean() * 0.85
    assert (drifted["contract"] == "month-to-month").mean() > (clean["contract"] == "month-to-month").mean() + 0.1


def test_generate_data_cli_writes_csv(tmp_path: Path):
    out = tmp_path / "drift.csv"
    result = run_entry("generate-data", clean_env(), "--rows", "50", "--seed", "5", "--drifted", "--output", str(out))
    assert result.returncode == 0, result.stderr
    from churn.data import generate

    pd.testing.assert_frame_equal(pd.read_csv(out), generate(50, 5, drifted=True), check_dtype=False)


# --- preprocess outputs (from the session pipeline run) --------------------------------------------


def test_splits_are_label_first_headerless_and_stratified(pipeline):
    from churn.schema import FEATURE_NAMES

    raw = pd.read_csv(pipeline.processing / "input" / "raw.csv")
    sizes = {}
    for split in ("train", "validation", "test"):
        table = pd.read_csv(pipeline.processing / split / f"{split}.csv", header=None)
        assert table.shape[1] == 1 + len(FEATURE_NAMES)
        assert set(table[0].unique()) == {0, 1}
        assert table.dtypes.map(pd.api.types.is_numeric_dtype).all()  # no header row slipped in
        assert abs(table[0].mean() - raw["churn"].mean()) < 0.02
        sizes[split] = len(table)
    assert sum(sizes.values()) == len(raw)
    assert sizes == {"train": 3500, "validation": 750, "test": 750}


def test_baseline_is_the_encoded_features_with_header(pipeline):
    from churn.schema import FEATURE_NAMES

    baseline = pd.read_csv(pipeline.processing / "baseline" / "baseline.csv")
    assert tuple(baseline.columns) == FEATURE_NAMES
    train = pd.read_csv(pipeline.processing / "train" / "train.csv", header=None)
    np.testing.assert_array_equal(baseline.to_numpy(), train.iloc[:, 1:].to_numpy())
    # The model serves exactly these columns, in this order.
    from churn.model import feature_names

    assert feature_names(pipeline.model_dir) == list(FEATURE_NAMES)


def test_encoding_is_the_category_position_as_documented():
    from churn.schema import FEATURE_NAMES, RAW_COLUMNS, encode, validate

    raw = pd.DataFrame(
        [
            ["3", "premium", "two-year", "10", "1.5", "99.5", "298.5", "0", "yes", "no", "1"],
            ["0", "basic", "month-to-month", "0", "0", "5", "0", "4", "no", "yes", "0"],
        ],
        columns=list(RAW_COLUMNS),
    )
    first, second = (dict(zip(FEATURE_NAMES, row)) for row in encode(validate(raw)).to_numpy())
    assert (first["plan"], first["contract"], first["international_plan"], first["autopay"]) == (2, 2, 1, 0)
    assert (second["plan"], second["contract"], second["international_plan"], second["autopay"]) == (0, 0, 0, 1)
    assert first["tenure_months"] == 3 and first["monthly_charges"] == 99.5 and second["service_calls"] == 4


# --- validation errors ------------------------------------------------------------------------------


def _raw(tmp_path: Path, mutate) -> Path:
    from churn.data import generate

    table = generate(200, seed=9).astype(str)
    table = mutate(table)
    input_dir = tmp_path / "input"
    input_dir.mkdir()
    table.to_csv(input_dir / "raw.csv", index=False)
    return input_dir


def _set(column: str, row: int, value: str):
    def mutate(table: pd.DataFrame) -> pd.DataFrame:
        table.loc[row, column] = value
        return table

    return mutate


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda t: t.drop(columns=["autopay"]), "missing column(s) autopay"),
        (lambda t: t.assign(customer_id="x"), "unexpected column(s) customer_id"),
        (_set("monthly_charges", 4, "12,5"), "line 6, column monthly_charges: '12,5' is not a number"),
        (_set("tenure_months", 0, ""), "line 2, column tenure_months: '' is not a number"),
        (_set("tenure_months", 7, "2.5"), "line 9, column tenure_months: '2.5' is not a whole number"),
        (_set("data_gb", 3, "-1"), "line 5, column data_gb: -1 is below the minimum 0"),
        (_set("plan", 2, "gold"), "line 4, column plan: 'gold' is not one of basic, standard, premium"),
        (_set("churn", 1, "yes"), "line 3, column churn: 'yes' is not 0 or 1"),
    ],
    ids=["missing-column", "extra-column", "non-numeric", "empty", "fractional-int", "negative", "unknown-category", "bad-label"],
)
def test_preprocess_rejects_schema_violations_with_a_precise_message(tmp_path: Path, mutate, expected):
    from churn.errors import JobError
    from churn.preprocess import preprocess

    input_dir = _raw(tmp_path, mutate)
    out = tmp_path / "out"
    with pytest.raises(JobError) as error:
        preprocess(input_dir, out / "train", out / "validation", out / "test", out / "baseline")
    assert expected in str(error.value)
    assert "raw.csv" in str(error.value)
    assert not out.exists()  # nothing half-written


def test_preprocess_reads_every_csv_in_the_input_dir(tmp_path: Path):
    from churn.data import generate
    from churn.preprocess import preprocess

    input_dir = tmp_path / "input"
    (input_dir / "2026" / "11").mkdir(parents=True)
    generate(300, seed=1).to_csv(input_dir / "a.csv", index=False)
    generate(200, seed=2).to_csv(input_dir / "2026" / "11" / "b.csv", index=False)
    out = tmp_path / "out"
    result = preprocess(input_dir, out / "train", out / "validation", out / "test", out / "baseline")
    assert result.rows == 500
    assert result.train_rows + result.validation_rows + result.test_rows == 500


def test_preprocess_process_reports_failure_in_the_exit_message(tmp_path: Path):
    input_dir = _raw(tmp_path, lambda t: t.drop(columns=["plan"]))
    env = clean_env(SM_BASE_DIR=str(tmp_path / "opt_ml"), SM_PROCESSING_INPUT_DIR=str(input_dir))
    result = run_entry("preprocess", env)
    assert result.returncode == 1
    message = (tmp_path / "opt_ml" / "output" / "message").read_text()
    assert "missing column(s) plan" in message
    assert "Traceback" not in result.stderr  # an expected error is reported, not dumped

"""The churn table's schema and its encoding into model features.

The encoding is a pure function of the schema (fixed category lists, no fitted state), so the
features the endpoint receives, the baseline that Model Monitor profiles and the matrices the model
was trained on are the same columns by construction: nothing has to be shipped from preprocess to
serve except the feature names, which the model directory carries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

LABEL = "churn"


@dataclass(frozen=True)
class NumericColumn:
    name: str
    minimum: float
    integer: bool = False


@dataclass(frozen=True)
class CategoricalColumn:
    name: str
    categories: tuple[str, ...]


Column = NumericColumn | CategoricalColumn

RAW_FEATURES: tuple[Column, ...] = (
    NumericColumn("tenure_months", minimum=0, integer=True),
    CategoricalColumn("plan", ("basic", "standard", "premium")),
    CategoricalColumn("contract", ("month-to-month", "one-year", "two-year")),
    NumericColumn("monthly_minutes", minimum=0),
    NumericColumn("data_gb", minimum=0),
    NumericColumn("monthly_charges", minimum=0),
    NumericColumn("total_charges", minimum=0),
    NumericColumn("service_calls", minimum=0, integer=True),
    CategoricalColumn("international_plan", ("no", "yes")),
    CategoricalColumn("autopay", ("no", "yes")),
)

RAW_COLUMNS: tuple[str, ...] = tuple(c.name for c in RAW_FEATURES) + (LABEL,)


# The model's input columns, in order: the CSV the endpoint receives and the baseline header.
# One feature per raw column: categories are encoded as their ordinal position (trees split on it as
# well as on one-hot columns), which keeps the feature count at 10. That count is a hard limit of the
# endpoint's drift alarm: it sums Model Monitor's per-feature drift metrics, and a CloudWatch alarm
# may read at most 10 metrics.
FEATURE_NAMES: tuple[str, ...] = tuple(column.name for column in RAW_FEATURES)


class SchemaError(ValueError):
    """Raw data does not match the schema; the message says where and what was expected."""


def validate(frame: pd.DataFrame, source: str = "input") -> pd.DataFrame:
    """Check a raw table read with every column as text; return it with typed columns.

    `source` names the file in messages. Rows are reported by their line number in the file
    (the header is line 1), which is what a person opening the CSV sees.
    """
    present = list(frame.columns)
    missing = [c for c in RAW_COLUMNS if c not in present]
    extra = [c for c in present if c not in RAW_COLUMNS]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected column(s) {', '.join(extra)}")
        raise SchemaError(f"{source}: {'; '.join(parts)}; expected exactly: {', '.join(RAW_COLUMNS)}")

    typed: dict[str, pd.Series] = {}
    for column in RAW_FEATURES:
        raw = frame[column.name].astype("string").str.strip()
        if isinstance(column, NumericColumn):
            typed[column.name] = _numeric(raw, column, source)
        else:
            typed[column.name] = _categorical(raw, column, source)
    typed[LABEL] = _label(frame[LABEL].astype("string").str.strip(), source)
    return pd.DataFrame(typed, index=frame.index)[list(RAW_COLUMNS)]


def _line(position: int) -> int:
    return position + 2  # header on line 1, first data row on line 2


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _numeric(raw: pd.Series, column: NumericColumn, source: str) -> pd.Series:
    values = pd.to_numeric(raw, errors="coerce").astype("float64").to_numpy()
    bad = ~np.isfinite(values)
    if bad.any():
        i = _first_bad(bad)
        raise SchemaError(
            f"{source}: line {_line(i)}, column {column.name}: {raw.iloc[i]!r} is not a number "
            f"({int(bad.sum())} bad value(s) in this column)"
        )
    low = values < column.minimum
    if low.any():
        i = _first_bad(low)
        raise SchemaError(f"{source}: line {_line(i)}, column {column.name}: {values[i]:g} is below the minimum {column.minimum:g}")
    if column.integer:
        fractional = values != np.round(values)
        if fractional.any():
            i = _first_bad(fractional)
            raise SchemaError(f"{source}: line {_line(i)}, column {column.name}: {raw.iloc[i]!r} is not a whole number")
    return pd.Series(values, index=raw.index, name=column.name)


def _categorical(raw: pd.Series, column: CategoricalColumn, source: str) -> pd.Series:
    bad = ~raw.isin(column.categories).fillna(False).to_numpy(dtype=bool)
    if bad.any():
        i = _first_bad(bad)
        raise SchemaError(f"{source}: line {_line(i)}, column {column.name}: {raw.iloc[i]!r} is not one of {', '.join(column.categories)}")
    return raw.astype(str)


def _label(raw: pd.Series, source: str) -> pd.Series:
    bad = ~raw.isin(("0", "1")).fillna(False).to_numpy(dtype=bool)
    if bad.any():
        i = _first_bad(bad)
        raise SchemaError(f"{source}: line {_line(i)}, column {LABEL}: {raw.iloc[i]!r} is not 0 or 1")
    return raw.astype(int)


def encode(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn a validated raw table into the model's numeric features, in FEATURE_NAMES order."""
    out: dict[str, np.ndarray] = {}
    for column in RAW_FEATURES:
        values = frame[column.name]
        if isinstance(column, NumericColumn):
            out[column.name] = values.to_numpy(dtype=np.float64)
        else:
            # The position in the schema's category list: no/yes -> 0/1, basic/standard/premium -> 0/1/2.
            codes = {category: float(i) for i, category in enumerate(column.categories)}
            out[column.name] = values.map(codes).to_numpy(dtype=np.float64)
    return pd.DataFrame(out, index=frame.index)[list(FEATURE_NAMES)]

"""The prediction form's fields, their validation, and the encoding of an answer into a model row.

The model takes encoded numeric features (FEATURE_NAMES, in order). When the model's own schema
module (`churn.schema`, from containers/model) is available and produces exactly those features,
the form asks the friendly raw questions — tenure, plan, contract… — and encodes the answer with
the schema's own `encode`, so the dashboard can never encode differently from training. Otherwise
it falls back to one numeric input per feature name. The image copies the schema in (see the
Dockerfile); a checkout of the repository finds it beside this app.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pandas as pd

SCHEMA_MODULE = "churn.schema"
# containers/dashboard/mlops_dashboard/features.py → containers/model/churn/schema.py
_REPO_SCHEMA = Path(__file__).resolve().parents[2] / "model" / "churn" / "schema.py"
# Loaded from the checkout under a private name, so it cannot shadow a real `churn` package that
# other code in the same process imports.
_CHECKOUT_MODULE = "mlops_dashboard._model_schema"

# Labels for the churn schema's raw columns; any other name is shown humanised.
LABELS = {
    "tenure_months": "Tenure (months)",
    "plan": "Plan",
    "contract": "Contract",
    "monthly_minutes": "Call minutes per month",
    "data_gb": "Data used per month (GB)",
    "monthly_charges": "Monthly charges ($)",
    "total_charges": "Total charges to date ($)",
    "service_calls": "Customer service calls",
    "international_plan": "International plan",
    "autopay": "Autopay",
}
# Plausibility ceilings that catch a slipped digit; the schema itself only fixes minima.
MAXIMA = {
    "tenure_months": 600.0,  # fifty years
    "monthly_minutes": 44_640.0,  # every minute of a 31-day month
    "service_calls": 1_000.0,
}
# A typical customer, so the form starts from a sensible answer rather than from zeros.
DEFAULTS: dict[str, float | str] = {
    "tenure_months": 12,
    "plan": "standard",
    "contract": "month-to-month",
    "monthly_minutes": 420.0,
    "data_gb": 10.0,
    "monthly_charges": 60.0,
    "total_charges": 720.0,
    "service_calls": 1,
    "international_plan": "no",
    "autopay": "yes",
}


@dataclass(frozen=True)
class NumberField:
    name: str
    label: str
    minimum: float | None
    maximum: float | None
    integer: bool
    default: float | None

    @property
    def help(self) -> str:
        kind = "A whole number" if self.integer else "A number"
        if self.minimum is not None and self.maximum is not None:
            return f"{kind} from {self.minimum:g} to {self.maximum:g}."
        if self.minimum is not None:
            return f"{kind}, at least {self.minimum:g}."
        return f"{kind}."


@dataclass(frozen=True)
class ChoiceField:
    name: str
    label: str
    options: tuple[str, ...]
    default: str


Field = NumberField | ChoiceField


@dataclass(frozen=True)
class FormSpec:
    fields: tuple[Field, ...]
    feature_names: tuple[str, ...]
    # Answers (field name → value) → one row of floats in `feature_names` order.
    encode: Callable[[Mapping[str, float | str]], list[float]]
    # Why the generic form is used, or None for the friendly one.
    fallback_reason: str | None


def humanize(name: str) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())


def load_schema() -> ModuleType | None:
    """The model's schema module, or None when neither the image nor the checkout has it."""
    try:
        return importlib.import_module(SCHEMA_MODULE)
    except ImportError:
        pass
    if _CHECKOUT_MODULE in sys.modules:
        return sys.modules[_CHECKOUT_MODULE]
    if not _REPO_SCHEMA.is_file():
        return None
    spec = importlib.util.spec_from_file_location(_CHECKOUT_MODULE, _REPO_SCHEMA)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    # Registered before running so the dataclasses defined in it can find their module.
    sys.modules[_CHECKOUT_MODULE] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        del sys.modules[_CHECKOUT_MODULE]
        raise
    return module


def generic_spec(feature_names: Sequence[str], reason: str) -> FormSpec:
    names = tuple(feature_names)
    fields = tuple(NumberField(n, humanize(n), minimum=None, maximum=None, integer=False, default=None) for n in names)

    def encode(answers: Mapping[str, float | str]) -> list[float]:
        return [float(answers[n]) for n in names]

    return FormSpec(fields, names, encode, reason)


def schema_spec(schema: ModuleType, feature_names: Sequence[str]) -> FormSpec:
    """Friendly fields from `schema.RAW_FEATURES`; raises ValueError if it can't serve these names."""
    schema_names = tuple(schema.FEATURE_NAMES)
    names = tuple(feature_names) or schema_names
    if set(names) != set(schema_names):
        missing = sorted(set(schema_names) - set(names))
        extra = sorted(set(names) - set(schema_names))
        raise ValueError(
            "FEATURE_NAMES and the model schema differ"
            + (f"; not in FEATURE_NAMES: {', '.join(missing)}" if missing else "")
            + (f"; not in the schema: {', '.join(extra)}" if extra else "")
        )
    fields: list[Field] = []
    for column in schema.RAW_FEATURES:
        categories = getattr(column, "categories", None)
        if categories is not None:
            options = tuple(str(c) for c in categories)
            default = DEFAULTS.get(column.name)
            fields.append(
                ChoiceField(
                    column.name,
                    humanize(column.name),
                    options,
                    str(default) if default in options else options[0],
                )
            )
        else:
            minimum = float(column.minimum)
            integer = bool(getattr(column, "integer", False))
            default = DEFAULTS.get(column.name)
            fields.append(
                NumberField(
                    column.name,
                    humanize(column.name),
                    minimum=minimum,
                    maximum=MAXIMA.get(column.name),
                    integer=integer,
                    default=float(default) if isinstance(default, (int, float)) else minimum,
                )
            )

    def encode(answers: Mapping[str, float | str]) -> list[float]:
        raw = pd.DataFrame({f.name: [str(answers[f.name]) if isinstance(f, ChoiceField) else float(answers[f.name])] for f in fields})
        encoded = schema.encode(raw)
        return [float(encoded[n].iloc[0]) for n in names]

    return FormSpec(tuple(fields), names, encode, None)


def build_form_spec(feature_names: Sequence[str], schema: ModuleType | None) -> FormSpec:
    """The friendly form when the schema fits FEATURE_NAMES, else the generic one (with why)."""
    if schema is None:
        if not feature_names:
            raise ValueError("FEATURE_NAMES is not set and the model schema is not available: the form cannot know the model's inputs")
        return generic_spec(feature_names, "the model schema module is not available")
    try:
        return schema_spec(schema, feature_names)
    except (AttributeError, TypeError, ValueError) as exc:
        if not feature_names:
            raise ValueError(f"the model schema cannot be used ({exc}) and FEATURE_NAMES is not set") from exc
        return generic_spec(feature_names, f"the model schema cannot be used: {exc}")


def validate(spec: FormSpec, answers: Mapping[str, float | str | None]) -> list[str]:
    """One message per bad answer; an empty list means the answers can be sent to the model."""
    problems: list[str] = []
    for f in spec.fields:
        value = answers.get(f.name)
        if isinstance(f, ChoiceField):
            if value not in f.options:
                problems.append(f"{f.label}: choose one of {', '.join(f.options)}.")
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            problems.append(f"{f.label} is required.")
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            problems.append(f"{f.label}: {value!r} is not a number.")
            continue
        if not math.isfinite(number):
            problems.append(f"{f.label}: {value!r} is not a finite number.")
        elif f.minimum is not None and number < f.minimum:
            problems.append(f"{f.label} must be at least {f.minimum:g} (got {number:g}).")
        elif f.maximum is not None and number > f.maximum:
            problems.append(f"{f.label} must be at most {f.maximum:g} (got {number:g}).")
        elif f.integer and number != int(number):
            problems.append(f"{f.label} must be a whole number (got {number:g}).")
    return problems


def form_spec_for(feature_names: Sequence[str]) -> FormSpec:
    """Load the schema (if any) and build the form; a broken schema module falls back too."""
    try:
        schema = load_schema()
    # The schema is another team's code: whatever breaks in it must not take the page down.
    except Exception as exc:
        if not feature_names:
            raise ValueError(f"the model schema could not be loaded ({exc}) and FEATURE_NAMES is not set") from exc
        return generic_spec(feature_names, f"the model schema could not be loaded: {exc}")
    return build_form_spec(feature_names, schema)

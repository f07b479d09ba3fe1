"""The dashboard's configuration, read from environment variables.

The ECS task definition sets these variables; nothing else configures the app. A page that lacks
the name it needs (say ENDPOINT_NAME before any model is deployed) says so and the other pages keep
working, so only malformed values are errors for the whole app.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

PredictionBackend = Literal["api", "endpoint"]
ApiAuth = Literal["none", "iam"]

BACKENDS: tuple[PredictionBackend, ...] = ("api", "endpoint")
API_AUTH_MODES: tuple[ApiAuth, ...] = ("none", "iam")


class SettingsError(ValueError):
    """One or more environment variables hold values the app cannot use; one line per problem."""


@dataclass(frozen=True)
class Settings:
    region: str
    model_package_group: str | None
    """The group's ARN as the stack passes it (a name would resolve in the caller's account, and a
    prod in another account would list nothing); a name works only in the registry's own account."""
    endpoint_name: str | None
    drift_alarm_name: str | None
    api_url: str | None
    prediction_backend: PredictionBackend
    api_auth: ApiAuth
    # Empty when FEATURE_NAMES is unset: the form then takes the names from the model's schema.
    feature_names: tuple[str, ...]
    # boto3 reads AWS_ENDPOINT_URL itself; it is kept here only to tell the user where data comes from.
    aws_endpoint_url: str | None
    banner: str | None


def _optional(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and check the environment; raise SettingsError naming every bad variable at once."""
    env = os.environ if environ is None else environ
    problems: list[str] = []

    region = _optional(env, "AWS_REGION") or _optional(env, "AWS_DEFAULT_REGION")
    if region is None:
        problems.append("AWS_REGION is not set: the region of the SageMaker resources is required")

    backend = (_optional(env, "PREDICTION_BACKEND") or "api").lower()
    if backend not in BACKENDS:
        problems.append(f"PREDICTION_BACKEND={backend!r} is not allowed: use one of {', '.join(BACKENDS)}")

    api_auth = (_optional(env, "API_AUTH") or "none").lower()
    if api_auth not in API_AUTH_MODES:
        problems.append(f"API_AUTH={api_auth!r} is not allowed: use one of {', '.join(API_AUTH_MODES)}")

    api_url = _optional(env, "API_URL")
    if api_url is not None:
        if not api_url.startswith(("https://", "http://")):
            problems.append(f"API_URL={api_url!r} must start with https:// (or http:// locally)")
        api_url = api_url.rstrip("/")

    feature_names: tuple[str, ...] = ()
    raw_features = _optional(env, "FEATURE_NAMES")
    if raw_features is not None:
        names = [n.strip() for n in raw_features.split(",")]
        if any(not n for n in names):
            problems.append(f"FEATURE_NAMES={raw_features!r} has an empty name (check the commas)")
        duplicates = sorted({n for n in names if n and names.count(n) > 1})
        if duplicates:
            problems.append(f"FEATURE_NAMES repeats {', '.join(duplicates)}")
        feature_names = tuple(names)

    if problems:
        raise SettingsError("\n".join(problems))
    assert region is not None  # for the type checker: a missing region was reported above
    return Settings(
        region=region,
        model_package_group=_optional(env, "MODEL_PACKAGE_GROUP"),
        endpoint_name=_optional(env, "ENDPOINT_NAME"),
        drift_alarm_name=_optional(env, "DRIFT_ALARM_NAME"),
        api_url=api_url,
        prediction_backend=backend,  # type: ignore[arg-type]  # checked against BACKENDS
        api_auth=api_auth,  # type: ignore[arg-type]  # checked against API_AUTH_MODES
        feature_names=feature_names,
        aws_endpoint_url=_optional(env, "AWS_ENDPOINT_URL"),
        banner=_optional(env, "DASHBOARD_BANNER"),
    )

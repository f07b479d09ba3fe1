"""Settings of the prediction Lambda, read once per container from its environment.

A bad value fails the import (a Lambda init error) on purpose: the pre-traffic hook invokes the new
version before it takes any traffic, sees the error and fails the CodeDeploy deployment, so a
misconfigured version never serves a request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# SageMaker's InvokeEndpoint accepts at most 6 MB; the request is re-encoded as CSV, which is never
# longer than the JSON it came from, so a body limit below that keeps every accepted request legal.
SAGEMAKER_PAYLOAD_LIMIT = 6 * 1024 * 1024


class ConfigError(ValueError):
    """The environment is unusable; the message lists every problem found."""


@dataclass(frozen=True)
class Settings:
    endpoint_name: str
    feature_count: int
    # Present when FEATURE_NAMES is set: enables rows given as {"feature": value} objects.
    feature_names: tuple[str, ...] | None
    max_rows: int
    max_body_bytes: int
    connect_timeout_seconds: float
    read_timeout_seconds: float
    max_attempts: int


def _int(env: Mapping[str, str], key: str, default: int, low: int, high: int, problems: list[str]) -> int:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        problems.append(f"{key}={raw!r} is not an integer")
        return default
    if not low <= value <= high:
        problems.append(f"{key}={value} is outside {low}..{high}")
    return value


def _seconds(env: Mapping[str, str], key: str, default: float, high: float, problems: list[str]) -> float:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        problems.append(f"{key}={raw!r} is not a number of seconds")
        return default
    if not 0 < value <= high:
        problems.append(f"{key}={raw} is outside (0, {high:g}]")
    return value


def load_settings(env: Mapping[str, str]) -> Settings:
    """Build `Settings` from environment variables; raise `ConfigError` naming each bad one."""
    problems: list[str] = []

    endpoint_name = env.get("ENDPOINT_NAME", "").strip()
    if not endpoint_name:
        problems.append("ENDPOINT_NAME is required (the SageMaker endpoint to invoke)")

    names: tuple[str, ...] | None = None
    raw_names = env.get("FEATURE_NAMES", "").strip()
    if raw_names:
        names = tuple(n.strip() for n in raw_names.split(","))
        if any(not n for n in names):
            problems.append("FEATURE_NAMES has an empty name (expected a comma-separated list)")
        if len(set(names)) != len(names):
            problems.append("FEATURE_NAMES repeats a name")
    count = _int(env, "FEATURE_COUNT", len(names) if names else 0, 1, 10_000, problems)
    if names is None and not env.get("FEATURE_COUNT", "").strip():
        problems.append("set FEATURE_NAMES (comma-separated, in model order) or FEATURE_COUNT")
    elif names is not None and count != len(names):
        problems.append(f"FEATURE_COUNT={count} disagrees with the {len(names)} FEATURE_NAMES")

    max_rows = _int(env, "MAX_ROWS", 1000, 1, 100_000, problems)
    max_body = _int(env, "MAX_BODY_BYTES", 1024 * 1024, 1, SAGEMAKER_PAYLOAD_LIMIT, problems)
    # API Gateway gives an integration 30 s at most: attempts x (connect + read) must fit in it,
    # and the function timeout must be longer still.
    connect = _seconds(env, "INVOKE_CONNECT_TIMEOUT_SECONDS", 2.0, 10.0, problems)
    read = _seconds(env, "INVOKE_READ_TIMEOUT_SECONDS", 10.0, 29.0, problems)
    attempts = _int(env, "INVOKE_MAX_ATTEMPTS", 2, 1, 5, problems)
    if not problems and attempts * (connect + read) > 29.0:
        problems.append(
            f"INVOKE_MAX_ATTEMPTS x (INVOKE_CONNECT_TIMEOUT_SECONDS + INVOKE_READ_TIMEOUT_SECONDS) = "
            f"{attempts * (connect + read):g} s exceeds API Gateway's 30 s integration timeout"
        )

    if problems:
        raise ConfigError("invalid prediction API configuration: " + "; ".join(problems))

    return Settings(
        endpoint_name=endpoint_name,
        feature_count=count,
        feature_names=names,
        max_rows=max_rows,
        max_body_bytes=max_body,
        connect_timeout_seconds=connect,
        read_timeout_seconds=read,
        max_attempts=attempts,
    )

"""The Lambda's environment is parsed once, and every unusable value is named in one error."""

from __future__ import annotations

import pytest
from predict_config import ConfigError, load_settings

BASE = {"ENDPOINT_NAME": "churn", "FEATURE_COUNT": "10"}


def test_defaults():
    settings = load_settings(BASE)
    assert settings.endpoint_name == "churn"
    assert settings.feature_count == 10 and settings.feature_names is None
    assert (settings.max_rows, settings.max_body_bytes) == (1000, 1024 * 1024)
    assert (settings.connect_timeout_seconds, settings.read_timeout_seconds, settings.max_attempts) == (2.0, 10.0, 2)


def test_feature_names_give_the_count_and_order():
    settings = load_settings({"ENDPOINT_NAME": "churn", "FEATURE_NAMES": " b, a ,c"})
    assert settings.feature_names == ("b", "a", "c")
    assert settings.feature_count == 3


@pytest.mark.parametrize(
    ("env", "fragments"),
    [
        ({}, ["ENDPOINT_NAME is required", "FEATURE_NAMES", "FEATURE_COUNT"]),
        ({"ENDPOINT_NAME": "e", "FEATURE_NAMES": "a,,b"}, ["empty name"]),
        ({"ENDPOINT_NAME": "e", "FEATURE_NAMES": "a,a"}, ["repeats a name"]),
        ({"ENDPOINT_NAME": "e", "FEATURE_NAMES": "a,b", "FEATURE_COUNT": "3"}, ["FEATURE_COUNT=3 disagrees with the 2"]),
        ({**BASE, "FEATURE_COUNT": "x"}, ["FEATURE_COUNT='x' is not an integer"]),
        ({**BASE, "MAX_ROWS": "0"}, ["MAX_ROWS=0 is outside 1..100000"]),
        ({**BASE, "MAX_BODY_BYTES": "7000000"}, ["MAX_BODY_BYTES=7000000 is outside"]),
        ({**BASE, "INVOKE_READ_TIMEOUT_SECONDS": "-1"}, ["INVOKE_READ_TIMEOUT_SECONDS=-1 is outside"]),
        ({**BASE, "INVOKE_CONNECT_TIMEOUT_SECONDS": "soon"}, ["is not a number of seconds"]),
        (
            {**BASE, "INVOKE_MAX_ATTEMPTS": "3", "INVOKE_READ_TIMEOUT_SECONDS": "10"},
            ["exceeds API Gateway's 30 s integration timeout"],
        ),
    ],
)
def test_bad_environment_is_refused_with_every_problem(env, fragments):
    with pytest.raises(ConfigError) as raised:
        load_settings(env)
    for fragment in fragments:
        assert fragment in str(raised.value)

"""Fixtures for the dashboard tests: the app's environment, moto, the API stub, clean caches.

The app imports its package as `mlops_dashboard` (Streamlit puts the script's folder on sys.path);
the tests put the same folder first so they import the very same modules — and so reach the same
cached boto3 clients (a botocore Stubber attached here is the one the page uses).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from moto import mock_aws

from tools.dashboard_demo.cli import (
    DemoNames,
    StubPredictionApi,
    demo_feature_names,
    enable_moto_percentiles,
)
from tools.dashboard_demo.demo_data import MOTO_ACCOUNT

DASHBOARD_DIR = Path(__file__).resolve().parents[3] / "containers" / "dashboard"
if str(DASHBOARD_DIR) not in sys.path:
    sys.path.insert(0, str(DASHBOARD_DIR))

# The variables the app reads: every test starts with all of them unset, then sets its own.
APP_VARIABLES = (
    "MODEL_PACKAGE_GROUP",
    "ENDPOINT_NAME",
    "DRIFT_ALARM_NAME",
    "API_URL",
    "PREDICTION_BACKEND",
    "API_AUTH",
    "FEATURE_NAMES",
    "AWS_ENDPOINT_URL",
    "DASHBOARD_BANNER",
)


@pytest.fixture(autouse=True)
def clean_caches() -> Iterator[None]:
    """Streamlit's caches are per process: clear them so no test sees another test's data."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def names() -> DemoNames:
    return DemoNames()


@pytest.fixture
def feature_names() -> tuple[str, ...]:
    return demo_feature_names()


@pytest.fixture
def stub_api(feature_names: tuple[str, ...]) -> Iterator[StubPredictionApi]:
    api = StubPredictionApi(feature_names).start()
    yield api
    api.stop()


@pytest.fixture
def app_env(
    monkeypatch: pytest.MonkeyPatch,
    names: DemoNames,
    stub_api: StubPredictionApi,
    feature_names: tuple[str, ...],
) -> pytest.MonkeyPatch:
    """The environment the Dashboard component gives the task, pointed at moto and the stub."""
    for variable in APP_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    # The group's ARN, as the stack passes it (components/dashboard/task.py): it resolves in any account.
    monkeypatch.setenv("MODEL_PACKAGE_GROUP", f"arn:aws:sagemaker:us-east-1:{MOTO_ACCOUNT}:model-package-group/{names.group}")
    monkeypatch.setenv("ENDPOINT_NAME", names.endpoint)
    monkeypatch.setenv("DRIFT_ALARM_NAME", names.alarm)
    monkeypatch.setenv("API_URL", stub_api.url)
    monkeypatch.setenv("PREDICTION_BACKEND", "api")
    monkeypatch.setenv("API_AUTH", "iam")
    monkeypatch.setenv("FEATURE_NAMES", ",".join(feature_names))
    return monkeypatch


@pytest.fixture
def aws() -> Iterator[None]:
    """In-process moto (empty), with CloudWatch percentiles, which moto lacks."""
    enable_moto_percentiles()
    with mock_aws():
        yield

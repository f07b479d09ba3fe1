"""tests/conftest.py shares one botocore loader between the sessions of a test process."""

from __future__ import annotations

import boto3


def test_sessions_share_the_parsed_service_models():
    first, second = boto3.Session()._session, boto3.Session()._session
    assert first.get_component("data_loader") is second.get_component("data_loader")
    model = first.get_service_model("sagemaker")
    assert second.get_component("data_loader").load_service_model("sagemaker", "service-2") is model._service_description


def test_a_session_with_another_data_path_has_its_own_loader(tmp_path, monkeypatch):
    shared = boto3.Session()._session.get_component("data_loader")
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    own = boto3.Session()._session.get_component("data_loader")
    assert own is not shared and str(tmp_path) in own.search_paths

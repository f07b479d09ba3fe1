"""tests/conftest.py shares one botocore loader between the sessions of a test process."""

from __future__ import annotations

import os

import boto3


def test_sessions_share_the_parsed_service_models():
    first, second = boto3.Session()._session, boto3.Session()._session
    assert first.get_component("data_loader") is second.get_component("data_loader")
    model = first.get_service_model("sagemaker")
    assert second.get_component("data_loader").load_service_model("sagemaker", "service-2") is model._service_description


def test_boto3_adds_its_data_folder_to_the_shared_loader_once():
    boto3.Session(), boto3.Session(), boto3.client("s3", region_name="us-east-1")
    paths = boto3.Session()._session.get_component("data_loader").search_paths
    assert len(paths) == len(set(paths)) and any(p.endswith(os.path.join("boto3", "data")) for p in paths)


def test_a_session_with_another_data_path_has_its_own_loader(tmp_path, monkeypatch):
    shared = boto3.Session()._session.get_component("data_loader")
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    own = boto3.Session()._session.get_component("data_loader")
    assert own is not shared and str(tmp_path) in own.search_paths

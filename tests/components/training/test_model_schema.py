"""The program reads the model's feature names from the container's schema source without importing
it (numpy and pandas): the reading must equal what the container itself computes."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from components.training import model_schema


def test_the_names_read_from_source_equal_the_containers_feature_names():
    spec = importlib.util.spec_from_file_location("churn_schema_under_test", model_schema._SCHEMA)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    assert model_schema.FEATURE_NAMES == tuple(module.FEATURE_NAMES) and len(model_schema.FEATURE_NAMES) == 10


def test_a_schema_the_reader_cannot_follow_is_a_clear_error(tmp_path):
    source = tmp_path / "schema.py"
    source.write_text("RAW_FEATURES = tuple(make(name) for name in NAMES)\n")
    with pytest.raises(ValueError, match="no literal RAW_FEATURES tuple"):
        model_schema._load_feature_names(source)
    source.write_text("RAW_FEATURES = (NumericColumn(NAME),)\n")
    with pytest.raises(ValueError, match="first argument is the name"):
        model_schema._load_feature_names(source)

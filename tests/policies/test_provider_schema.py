"""The class guardrails (required-tags, resource policies, data at rest) read each type's inputs
from pulumi-aws's generated source instead of importing the modules (which cost the pack most of
its CPU): the two answers must agree, and the full scan must find the provider's types."""

from __future__ import annotations

import random
import sys

import pytest
from policy_testkit import PACK_DIR

from tools.offline.records import stack_records

sys.path.insert(0, str(PACK_DIR))
from guardrails import provider_schema, tags


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_source_answer_is_found_and_matches_the_class_for_every_shipped_type(stack):
    types = sorted({r["type"] for r in stack_records(stack).resources if r["type"].startswith("aws:")})
    assert len(types) > 20
    for resource_type in types:
        from_source = provider_schema.source_input_properties(resource_type)
        assert from_source is not None, f"{resource_type}: its class is not where pulumi-aws's generator puts it"
        assert from_source == provider_schema.imported_input_properties(resource_type), resource_type


def test_the_full_scan_agrees_with_the_classes_on_a_sample():
    found = provider_schema.all_resource_types()
    assert len(found) > 1500  # pulumi-aws 7 declares ~1,750 resource types
    assert "aws:sqs/queue:Queue" in found and "aws:lambda/permission:Permission" in found
    for resource_type in random.Random(22).sample(sorted(found), 6):
        assert found[resource_type] == provider_schema.imported_input_properties(resource_type), resource_type


def test_types_whose_source_is_not_found_fall_back_to_the_class():
    # A member name whose file is not its snake_case (or an unknown type) is answered by importing.
    assert provider_schema.source_input_properties("aws:s3/noSuchResource:NoSuchResource") is None
    assert provider_schema.input_properties("aws:s3/noSuchResource:NoSuchResource") is None
    assert provider_schema.input_properties("kubernetes:core/v1:Pod") is None
    assert tags.is_taggable("aws:s3/noSuchResource:NoSuchResource") is False
    assert tags.is_taggable("aws:s3/bucket:Bucket") is True
    assert tags.is_taggable("aws:s3/bucketPolicy:BucketPolicy") is False

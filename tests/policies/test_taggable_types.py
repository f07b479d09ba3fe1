"""The required-tags guardrail reads which resource types take tags from pulumi-aws's generated
source instead of importing the modules (which cost the pack most of its CPU): the two must agree."""

from __future__ import annotations

import importlib
import inspect
import sys

import pytest
from policy_testkit import PACK_DIR

from tools.offline.records import stack_records

sys.path.insert(0, str(PACK_DIR))
from guardrails import tags


def _imported_answer(resource_type: str) -> bool:
    module, member = resource_type.split(":")[1].split("/")
    name = "pulumi_aws" if module == "index" else f"pulumi_aws.{module}_" if module == "lambda" else f"pulumi_aws.{module}"
    cls = getattr(importlib.import_module(name), resource_type.split(":")[2])
    return "tags" in inspect.signature(cls._internal_init).parameters


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_source_answer_is_found_and_matches_the_class_for_every_shipped_type(stack):
    types = sorted({r["type"] for r in stack_records(stack).resources if r["type"].startswith("aws:")})
    assert len(types) > 20
    for resource_type in types:
        module, member = resource_type.split(":")[1].split("/")
        name = "pulumi_aws" if module == "index" else f"pulumi_aws.{module}_" if module == "lambda" else f"pulumi_aws.{module}"
        from_source = tags._takes_tags_in_source(name, member, resource_type.split(":")[2])
        assert from_source is not None, f"{resource_type}: its class is not where pulumi-aws's generator puts it"
        assert from_source == _imported_answer(resource_type), resource_type


def test_types_whose_source_is_not_found_fall_back_to_the_class():
    # A member name whose file is not its snake_case (or an unknown type) is answered by importing.
    assert tags._takes_tags_in_source("pulumi_aws.s3", "noSuchResource", "NoSuchResource") is None
    assert tags.is_taggable("aws:s3/noSuchResource:NoSuchResource") is False
    assert tags.is_taggable("aws:s3/bucket:Bucket") is True
    assert tags.is_taggable("aws:s3/bucketPolicy:BucketPolicy") is False

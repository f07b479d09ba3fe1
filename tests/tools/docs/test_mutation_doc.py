"""docs/policies.md, "Mutation check", states what the tree holds: the pinned tool versions, and the test cases
the surviving mutants led to."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PAGE = (ROOT / "docs" / "policies.md").read_text()
DOC = PAGE[PAGE.index("## Mutation check") :]


def test_the_documented_tool_versions_are_the_pinned_ones():
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", (ROOT / "requirements" / "mutation.txt").read_text(), re.M))
    for name, version in re.findall(r"`([a-z]+)==([\d.]+)`", DOC):
        assert pins.get(name) == version, (name, version, pins.get(name))
    assert {"mutmut", "whatthepatch"} <= set(pins)


def test_the_cases_the_survivors_led_to_exist():
    added = (ROOT / "tests" / "policies" / "test_added_resource_policies.py").read_text()
    s3 = (ROOT / "tests" / "policies" / "test_s3_policies.py").read_text()
    assert '"aws:s3/bucketV2:BucketV2", "doomed-v2"' in added
    assert '"protocol": "all"' in added and '"ipv6CidrBlocks": ["::/0"]' in added
    assert '"not-action"' in s3 and '"not-principal"' in s3
    assert "def test_buckets_without_the_project_key_fail_encryption" in s3

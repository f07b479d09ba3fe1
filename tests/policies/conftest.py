"""One policy pack process for the whole session: starting it costs about a second, and every
test runs its own engine session (ConfigureStack ... AnalyzeStack) against it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from policy_testkit import PACK_DIR, PROJECT

from tools.offline.analyzer import PolicyPackProcess


COVERAGE_TEST = "test_every_policy_is_tested_passing_and_failing"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The coverage check reads what the other policy tests asserted: run it after them (also
    after pytest-randomly has shuffled the order)."""
    last = [item for item in items if item.name == COVERAGE_TEST]
    items[:] = [item for item in items if item.name != COVERAGE_TEST] + last


@pytest.fixture(scope="session")
def pack() -> Iterator[PolicyPackProcess]:
    with PolicyPackProcess(PACK_DIR, PROJECT, "prod", {"aws:region": "us-east-1"}) as process:
        yield process

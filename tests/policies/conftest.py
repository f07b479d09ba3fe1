"""One policy pack process for the whole session: starting it costs about a second, and every
test runs its own engine session (ConfigureStack ... AnalyzeStack) against it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest
from policy_testkit import ASSERTED, ASSERTED_OUT, PACK_DIR, PROJECT, RAN_HERE

from tools.offline.analyzer import PolicyPackProcess

COVERAGE_TEST = "test_every_policy_is_tested_passing_and_failing"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The coverage check reads what the other policy tests asserted: run it after them (also
    after pytest-randomly has shuffled the order)."""
    last = [item for item in items if item.name == COVERAGE_TEST]
    items[:] = [item for item in items if item.name != COVERAGE_TEST] + last


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call":
        RAN_HERE.add(report.nodeid.split("::")[0].rsplit("/", 1)[-1])


def pytest_sessionfinish(session: pytest.Session) -> None:
    """When the coverage check runs the unit modules in a child session, it reads what they asserted here."""
    path = os.environ.get(ASSERTED_OUT)
    if path:
        with open(path, "w") as out:
            json.dump({k: sorted(v) for k, v in ASSERTED.items()}, out)


@pytest.fixture(scope="session")
def pack() -> Iterator[PolicyPackProcess]:
    with PolicyPackProcess(PACK_DIR, PROJECT, "prod", {"aws:region": "us-east-1"}) as process:
        yield process

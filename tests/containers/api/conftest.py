"""Fixtures for the prediction Lambda and hook tests; the helpers live in api_testkit.py.

Two folders go on sys.path: containers/api, the root of the Lambda archive (as /var/task is in
Lambda), and this one, because a site-packages distribution ships a top-level `tests` package, so
`tests.api.*` cannot be imported reliably.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for folder in (HERE.parents[2] / "containers" / "api", HERE):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from api_testkit import FakeContext  # noqa: E402


@pytest.fixture
def context() -> FakeContext:
    return FakeContext()

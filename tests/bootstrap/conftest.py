"""Fixtures of the bootstrap tests: the declared resources of a one-account and a two-account layout."""

from __future__ import annotations

import pytest
from bootstrap_records import ONE_ACCOUNT, TWO_ACCOUNTS, Deployed, deployed


@pytest.fixture(scope="session", params=["one-account", "two-accounts"])
def layouts(request) -> Deployed:
    return deployed(ONE_ACCOUNT if request.param == "one-account" else TWO_ACCOUNTS)


@pytest.fixture(scope="session")
def one() -> Deployed:
    return deployed(ONE_ACCOUNT)

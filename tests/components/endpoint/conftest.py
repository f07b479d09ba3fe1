"""Fixtures of the EndpointRelease tests: scripted, validating AWS clients and the provider behind
the SDK's dynamic-provider server (tests/support/provider_wire.py, endpoint_release_stubs.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from endpoint_release_stubs import Aws
from provider_wire import FakeTime, Wire

from components.endpoint.release import EndpointReleaseProvider


@pytest.fixture
def aws() -> Iterator[Aws]:
    stubs = Aws()
    with stubs.active():
        yield stubs
    assert set(stubs.regions) <= {"us-east-1"}


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def provider(aws: Aws, fake_time: FakeTime) -> Wire:
    return Wire(EndpointReleaseProvider(client_factory=aws.factory, sleep=fake_time.sleep, clock=fake_time.clock))

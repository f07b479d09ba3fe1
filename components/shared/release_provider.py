"""What the two release providers share: `EndpointRelease` (SageMaker UpdateEndpoint) and
`LambdaCanaryRelease` (CodeDeploy) both drive an AWS deployment from a Pulumi dynamic provider,
poll it to its end, and must be picklable into the stack's state.

The provider instances hold no client: boto3 clients are made per call from `client_factory`
(tests pass a Stubber-backed one), so the pickled provider carries no credentials or sockets.
`sleep` and `clock` are injectable for the same reason: the tests run a one-hour wait in no time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, Optional

import pulumi
from pulumi.dynamic import CheckFailure, ResourceProvider

ClientFactory = Callable[[str, str], Any]
# The polling bounds every release accepts: below these a release would give up before AWS could
# answer, or hammer the API.
WAIT_BOUNDS = (("timeout_seconds", 60), ("poll_interval_seconds", 1))


def default_client_factory(service: str, region: str) -> Any:
    import boto3  # imported here: the provider is pickled into the state and must hold no client

    return boto3.session.Session(region_name=region).client(service)


def is_unknown(value: Any) -> bool:
    # During preview, values computed by other resources arrive as this sentinel.
    return isinstance(value, str) and value == pulumi.runtime.rpc.UNKNOWN


def error_code(exc: Exception) -> str:
    """The AWS error code of a botocore ClientError ('' for anything else)."""
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def input_failures(news: dict[str, Any], required: Iterable[str]) -> list[CheckFailure]:
    """Check's common verdicts: required fields present, wait bounds numbers within range."""
    failures = []
    for name in required:
        value = news.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            failures.append(CheckFailure(name, f"{name} is required"))
    for name, low in WAIT_BOUNDS:
        value = news.get(name)
        if value is not None and not is_unknown(value) and (not isinstance(value, (int, float)) or value < low):
            failures.append(CheckFailure(name, f"{name} must be a number >= {low}, got {value!r}"))
    return failures


class PollingReleaseProvider(ResourceProvider):
    def __init__(
        self,
        client_factory: Optional[ClientFactory] = None,
        sleep: Optional[Callable[[float], None]] = None,
        clock: Optional[Callable[[], float]] = None,
    ) -> None:
        super().__init__()
        self._client_factory = client_factory
        self._sleep = sleep
        self._clock = clock

    def _client(self, service: str, region: str) -> Any:
        return (self._client_factory or default_client_factory)(service, region)

    def _now(self) -> float:
        return (self._clock or time.monotonic)()

"""What the two release providers share: `EndpointRelease` (SageMaker UpdateEndpoint) and
`LambdaCanaryRelease` (CodeDeploy) both drive an AWS deployment from a Pulumi dynamic provider,
poll it to its end, and must be picklable into the stack's state.

The provider instances hold no client: boto3 clients are made per call from `client_factory`
(tests pass a Stubber-backed one), so the pickled provider carries no credentials or sockets.
`sleep` and `clock` are injectable for the same reason: the tests run a one-hour wait in no time.

Numbers: a dynamic provider's inputs and its recorded state cross the engine's gRPC as a protobuf
Struct, so every number arrives as a float (`10` -> `10.0`) in check, diff, create, update and
delete alike, and botocore refuses a float for an integer member (`ParamValidationError`). Every
client a provider gets from `_client` is a `ConformingClient`: before each call it walks the
operation's input shape in botocore's service model and turns integral floats into ints where the
model says integer or long. Once, here, for every operation of every release provider, instead of
per field. `request_failures` runs botocore's own validation for `check`, so a request AWS would
refuse is a CheckFailure naming the field before anything is deployed.
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


def conform(shape: Any, value: Any) -> Any:
    """`value` with integral floats turned into ints wherever botocore's `shape` wants an integer.

    A non-integral float is left as it is: botocore's validation then names the member.
    """
    if shape is None or value is None:
        return value
    kind = shape.type_name
    if kind in ("integer", "long"):
        return int(value) if isinstance(value, float) and value.is_integer() else value
    if kind == "structure" and isinstance(value, dict):
        return {key: conform(shape.members.get(key), item) for key, item in value.items()}
    if kind == "list" and isinstance(value, list):
        return [conform(shape.member, item) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {key: conform(shape.value, item) for key, item in value.items()}
    return value


class ConformingClient:
    """A botocore client whose operations conform their parameters to the service model first."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)
        operation = self.client.meta.method_to_api_mapping.get(name)
        if operation is None:
            return method
        shape = self.client.meta.service_model.operation_model(operation).input_shape

        def call(**params: Any) -> Any:
            return method(**conform(shape, params))

        return call


def request_failures(service: str, operation: str, params: dict[str, Any], fields: dict[str, str]) -> list[CheckFailure]:
    """botocore's validation of a request built from the inputs (unknown values left out).

    `fields` maps a request member to the input that supplies it, so the failure names the input.
    """
    from botocore.session import get_session
    from botocore.validate import ParamValidator

    known = {key: value for key, value in params.items() if value is not None and not _has_unknown(value)}
    shape = _service_model(get_session, service).operation_model(operation).input_shape
    failures = []
    for member, value in known.items():
        report = ParamValidator().validate({member: conform(shape, {member: value})[member]}, _only(shape, member))
        if report.has_errors():
            field = fields.get(member, member)
            failures.append(CheckFailure(field, f"{field} would be refused by {service} {operation}: {report.generate_report()}"))
    return failures


_MODELS: dict[str, Any] = {}


def _service_model(get_session: Callable[[], Any], service: str) -> Any:
    if service not in _MODELS:
        _MODELS[service] = get_session().get_service_model(service)
    return _MODELS[service]


def _only(shape: Any, member: str) -> Any:
    """The operation's input shape reduced to one member (the others' required-ness set aside)."""
    from botocore.model import StructureShape

    model = {"type": "structure", "members": {member: {"shape": shape.members[member].name}}}
    return StructureShape(f"{shape.name}{member}", model, shape_resolver=shape._shape_resolver)


def _has_unknown(value: Any) -> bool:
    if is_unknown(value):
        return True
    if isinstance(value, dict):
        return any(_has_unknown(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_unknown(item) for item in value)
    return False


def number(value: Any) -> Any:
    """An integral float as the int it was before the wire made it a float (for messages and hashes)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def plain_numbers(value: Any) -> Any:
    """`value` with every integral float, however deep, back to an int: equal before and after the wire."""
    if isinstance(value, dict):
        return {key: plain_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_numbers(item) for item in value]
    return number(value)


def is_unknown(value: Any) -> bool:
    # During preview, values computed by other resources are unknown: the engine's sentinel string,
    # which check and diff receive deserialized (keep_unknowns) as an `Unknown` object.
    return isinstance(value, pulumi.output.Unknown) or (isinstance(value, str) and value == pulumi.runtime.rpc.UNKNOWN)


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

    def _client(self, service: str, region: str) -> ConformingClient:
        return ConformingClient((self._client_factory or default_client_factory)(service, region))

    def _now(self) -> float:
        return (self._clock or time.monotonic)()

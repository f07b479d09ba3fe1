"""A dynamic provider driven as the engine drives it, with AWS clients that validate every call.

`Wire(provider)` puts the provider behind the SDK's own dynamic-provider server
(`pulumi.dynamic.__main__.DynamicResourceProviderServicer`): every Check, Diff, Create, Update and
Delete goes through `rpc.serialize_properties` into a protobuf Struct and back out through
`rpc.deserialize_properties`, exactly as on a real `pulumi up`. Numbers therefore reach the
provider as floats, outputs come back as the engine would store them, and an update's olds are
what a create returned. A provider failure is raised as the exception the provider raised.

`recorded_inputs(stack, type)` is what the offline preview recorded for a dynamic resource of a
stack (the real program under mocks, through the same Struct): the inputs a provider gets on that
stack's first real `pulumi up`.

`ValidatingAws(*services)` hands the provider botocore clients on `Stubber`: every request is
validated against the service model (types, required members, ranges) before the stub answers, so
a request AWS would refuse fails the test with botocore's `ParamValidationError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import sys
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, Optional
from unittest import mock

import botocore.session
from botocore.stub import Stubber
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import PROVIDER_KEY
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2 as proto

# One botocore session for the test run: its loader caches the service models.
SESSION = botocore.session.get_session()
REGION = "us-east-1"


def _dynamic_server() -> Any:
    """The SDK's dynamic-provider server module, without the `main()` its last line runs on import
    (which would start a gRPC server and block forever)."""
    spec = importlib.util.find_spec("pulumi.dynamic.__main__")
    assert spec is not None and spec.origin is not None
    source = open(spec.origin, encoding="utf-8").read()
    body, last = source.rstrip().rsplit("\n", 1)
    assert last == "main()", f"pulumi.dynamic.__main__ no longer ends with main(): {last!r}; adapt the harness"
    module = type(sys)("pulumi_dynamic_server")
    module.__file__ = spec.origin
    exec(compile(body, spec.origin, "exec"), module.__dict__)
    return module


dynamic_server = _dynamic_server()


def to_struct(props: dict[str, Any]) -> struct_pb2.Struct:
    """The SDK's serialization of a property map, as a program or the provider server sends it."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()


def round_trip(props: dict[str, Any]) -> dict[str, Any]:
    """`props` as a provider receives them: serialized to a Struct and deserialized again."""
    return rpc.deserialize_properties(to_struct(props), True)


def recorded_inputs(stack: str, type_: str) -> dict[str, Any]:
    """A dynamic resource's inputs as the offline preview of `stack` recorded them, without the
    (secret-wrapped) serialized provider, which the engine unwraps before calling the provider."""
    from tools.offline.records import stack_records

    (resource,) = stack_records(stack).of_type(type_)
    return {key: value for key, value in resource["inputs"].items() if key != PROVIDER_KEY}


class _Context:
    """The gRPC servicer context: the servicer reports a provider's exception through `abort`."""

    def abort(self, _code: Any, details: str) -> None:
        raised = sys.exc_info()[1]
        raise raised if raised is not None else RuntimeError(details)

    def set_code(self, _code: Any) -> None:
        return None

    def set_details(self, _details: str) -> None:
        return None


class Wire:
    """`provider` behind the SDK's dynamic-provider server; the methods mirror ResourceProvider's."""

    def __init__(self, provider: Any) -> None:
        self.provider = provider
        self.server = dynamic_server.DynamicResourceProviderServicer()
        self.key = f"wire-{id(provider)}"

    @contextlib.contextmanager
    def _served(self, *maps: dict[str, Any]) -> Iterator[list[struct_pb2.Struct]]:
        # The server finds the provider by the serialized string in `__provider`: every string a
        # test passes there names this provider for the call, and only for the call.
        keys = {str(m.get(PROVIDER_KEY, self.key)) for m in maps} | {self.key}
        added = [key for key in keys if key not in dynamic_server._PROVIDER_CACHE]
        for key in added:
            dynamic_server._PROVIDER_CACHE[key] = self.provider
        try:
            # get_provider configures the SDK's global settings for the provider process: not here.
            with mock.patch.object(dynamic_server, "configure", lambda _settings: None):
                yield [to_struct({PROVIDER_KEY: self.key, **m}) for m in maps]
        finally:
            for key in added:
                dynamic_server._PROVIDER_CACHE.pop(key, None)

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> SimpleNamespace:
        with self._served(olds, news) as (old, new):
            response = self.server.Check(proto.CheckRequest(urn="urn", olds=old, news=new), _Context())
        return SimpleNamespace(
            inputs=rpc.deserialize_properties(response.inputs, True),
            failures=[SimpleNamespace(property=f.property, reason=f.reason) for f in response.failures],
        )

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> SimpleNamespace:
        with self._served(olds, news) as (old, new):
            response = self.server.Diff(proto.DiffRequest(id=id_, urn="urn", olds=old, news=new), _Context())
        changes: Optional[bool] = {proto.DiffResponse.DIFF_SOME: True, proto.DiffResponse.DIFF_NONE: False}.get(response.changes)
        return SimpleNamespace(changes=changes, replaces=list(response.replaces), delete_before_replace=response.deleteBeforeReplace)

    def create(self, props: dict[str, Any]) -> SimpleNamespace:
        with self._served(props) as (properties,):
            response = self.server.Create(proto.CreateRequest(urn="urn", properties=properties), _Context())
        return SimpleNamespace(id=response.id, outs=self._outs(response.properties))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> SimpleNamespace:
        with self._served(olds, news) as (old, new):
            response = self.server.Update(proto.UpdateRequest(id=id_, urn="urn", olds=old, news=new), _Context())
        return SimpleNamespace(outs=self._outs(response.properties))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self._served(props) as (properties,):
            self.server.Delete(proto.DeleteRequest(id=id_, urn="urn", properties=properties), _Context())

    @staticmethod
    def _outs(properties: struct_pb2.Struct) -> dict[str, Any]:
        # What the engine stores as the resource's state, and hands back as olds next time.
        outs = rpc.deserialize_properties(properties)
        outs.pop(PROVIDER_KEY, None)
        return outs


class FakeTime:
    """An injectable clock and sleep: a one-hour wait runs in no time, and the test sees each sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class ValidatingAws:
    """botocore clients on Stubber, handed to a provider through its client factory.

    Stubber checks each request against what the test expects, then botocore validates it against
    the service model before the stubbed answer is returned (and the answer against the output
    shape): a float where AWS wants an integer is a `ParamValidationError`, as on a real account.
    """

    def __init__(self, *services: str) -> None:
        self.clients = {name: SESSION.create_client(name, region_name=REGION) for name in services}
        self.stubs = {name: Stubber(client) for name, client in self.clients.items()}
        self.regions: list[str] = []

    def factory(self, service: str, region: str) -> Any:
        self.regions.append(region)
        return self.clients[service]

    @contextlib.contextmanager
    def active(self) -> Iterator[ValidatingAws]:
        with contextlib.ExitStack() as stack:
            for stub in self.stubs.values():
                stack.enter_context(stub)
            yield self
            for stub in self.stubs.values():
                stub.assert_no_pending_responses()

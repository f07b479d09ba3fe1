"""One component helper under Pulumi's mocks, without the whole program: the resources it declares,
with their inputs resolved, in seconds (the program-wide preview of tests/support/program_testkit.py
takes minutes on a shared machine, too slow to run once per mutant)."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Iterator

import pulumi
from pulumi.runtime import sync_await
from pulumi.runtime.stack import wait_for_rpcs


class RecordingMocks(pulumi.runtime.Mocks):
    """Records each resource declared; its state is its inputs plus an `arn` and a `name`."""

    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        return f"{args.name}-id", {"arn": f"arn:aws:mock:::{args.name}", "name": args.name, **args.inputs}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return {}, []

    def one(self, typ: str, name: str) -> dict[str, Any]:
        sync_await._sync_await(wait_for_rpcs())
        (found,) = [r for r in self.resources if r.typ == typ and r.name == name]
        return dict(found.inputs)


def recording_mocks() -> Iterator[RecordingMocks]:
    """For a fixture (`yield from recording_mocks()`): mocks on an event loop of the test's own
    (Pulumi's mocks run on the thread's current loop)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    recording = RecordingMocks()
    pulumi.runtime.set_mocks(recording, project="sagemaker-mlops", stack="test", preview=False)
    yield recording
    sync_await._sync_await(wait_for_rpcs())  # nothing of this test may run on the next test's loop
    asyncio.set_event_loop(None)
    loop.close()


def resolve(value: Any) -> Any:
    """The value of an Output (or of a plain value holding Outputs), once every resource is registered."""
    sync_await._sync_await(wait_for_rpcs())
    return sync_await._sync_await(pulumi.Output.from_input(value).future())


def document(value: Any) -> dict[str, Any]:
    """A policy document (an Output of JSON text, or already parsed) as a dict."""
    resolved = resolve(value)
    return json.loads(resolved) if isinstance(resolved, str) else resolved

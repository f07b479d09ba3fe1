"""A mock monitor that records what the program declares, as the engine would see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from pulumi.runtime.mocks import MockMonitor, Mocks


@dataclass
class ResourceRecord:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    state: dict[str, Any]
    options: dict[str, Any]
    provider: str = ""  # "urn::id" reference, as the engine passes it
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)


class RecordingMonitor(MockMonitor):
    """A mock monitor that keeps what the engine would see of every registration."""

    def __init__(self, mocks: Mocks):
        super().__init__(mocks)
        self.records: list[ResourceRecord] = []

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The engine leaves the root stack out of its children's URNs; the stock mock does not.
        if parent.split("::")[2:3] == ["pulumi:pulumi:Stack"]:
            parent = ""
        return super().make_urn(parent, type_, name)

    def ReadResource(self, request):
        # A read (a StackReference, a `get` of an existing resource) is shown by the engine too.
        response = super().ReadResource(request)
        self.records.append(
            ResourceRecord(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                custom=True,
                inputs=json_format.MessageToDict(request.properties),
                state=json_format.MessageToDict(response.properties),
                options={"id": request.id, **({"provider": request.provider} if request.provider else {})},
                provider=request.provider,
                dependencies=sorted(request.dependencies),
            )
        )
        return response

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        options: dict[str, Any] = {}
        if request.protect:
            options["protect"] = True
        # The SDK gathers dependencies in sets: sorted, two runs of one program record the same.
        dependencies = sorted(request.dependencies)
        if dependencies:
            options["dependsOn"] = dependencies
        if request.provider:
            options["provider"] = request.provider
        if list(request.ignoreChanges):
            options["ignoreChanges"] = list(request.ignoreChanges)
        if request.deleteBeforeReplaceDefined:
            options["deleteBeforeReplace"] = request.deleteBeforeReplace
        if request.retainOnDelete:
            options["retainOnDelete"] = True
        if list(request.replaceOnChanges):
            options["replaceOnChanges"] = list(request.replaceOnChanges)
        if list(request.additionalSecretOutputs):
            options["additionalSecretOutputs"] = list(request.additionalSecretOutputs)
        if list(request.aliases):
            # What a refactoring keeps in state: each alias as a URN or as the spec the engine resolves.
            options["aliases"] = [json_format.MessageToDict(alias) for alias in request.aliases]
        self.records.append(
            ResourceRecord(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                custom=bool(request.custom),
                inputs=json_format.MessageToDict(request.object),
                state=json_format.MessageToDict(response.object) if request.type != "pulumi:pulumi:Stack" else {},
                options=options,
                provider=request.provider,
                dependencies=dependencies,
                property_dependencies={k: sorted(v.urns) for k, v in sorted(request.propertyDependencies.items())},
            )
        )
        return response

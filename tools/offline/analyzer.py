"""Drives a policy pack over Pulumi's Analyzer gRPC protocol, the way `pulumi preview --policy-pack` does.

The pack is started as the engine starts a Python analyzer plugin (`python -u -m pulumi.policy
<engine> <pack dir>` from the pack's folder); its first stdout line is the gRPC port. Then, in the
engine's order: Handshake, ConfigureStack, GetAnalyzerInfo, Configure (the per-policy config the
engine resolves from the pack's defaults and the policy config file), Analyze for every resource
(its inputs) and AnalyzeStack for the whole stack (its outputs).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

import grpc
import jsonschema
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from ruamel.yaml import YAML

LEVELS = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "remediate": analyzer_pb2.REMEDIATE,
    "disabled": analyzer_pb2.DISABLED,
}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}
START_TIMEOUT_SECONDS = 60
CALL_TIMEOUT_SECONDS = 120


class PolicyPackError(Exception):
    """The pack could not be started, configured or run; or its config file is invalid."""


@dataclass(frozen=True)
class PolicyInfo:
    name: str
    description: str
    level: str
    kind: str  # "resource" or "stack"


@dataclass(frozen=True)
class Violation:
    policy: str
    level: str
    urn: str
    message: str


@dataclass(frozen=True)
class NotApplicable:
    """A policy that declared itself not applicable (to one resource, or to the stack when urn is ''), and why."""

    policy: str
    urn: str
    reason: str


@dataclass(frozen=True)
class AnalysisResult:
    pack: str
    version: str
    policies: list[PolicyInfo]
    violations: list[Violation]
    not_applicable: list[NotApplicable] = field(default_factory=list)


@dataclass(frozen=True)
class StackResource:
    """One resource as the engine knows it after the program ran."""

    urn: str
    type: str
    name: str
    parent: str
    inputs: Mapping[str, Any]
    state: Mapping[str, Any]
    options: Mapping[str, Any]
    provider: str
    custom: bool
    dependencies: list[str]
    property_dependencies: Mapping[str, list[str]]


def resolve_policy_config(
    info: analyzer_pb2.AnalyzerInfo, config_file: Optional[Mapping[str, Any]]
) -> dict[str, analyzer_pb2.PolicyConfig]:
    """Each policy's enforcement level and properties, as the engine computes them.

    Order of precedence: the policy's own level (or the pack's), the pack's initial config, the
    file's `all`, the file's entry for the policy. Properties start from the schema defaults and
    are validated against the policy's config schema.
    """
    file_config = dict(config_file or {})
    names = {p.name for p in info.policies}
    unknown = sorted(set(file_config) - names - {"all"})
    if unknown:
        raise PolicyPackError(f"policy config names unknown policies: {', '.join(unknown)} (known: {', '.join(sorted(names))})")

    def split(entry: Any, where: str) -> tuple[Optional[int], dict[str, Any]]:
        if entry is None:
            return None, {}
        if isinstance(entry, str):
            entry = {"enforcementLevel": entry}
        if not isinstance(entry, Mapping):
            raise PolicyPackError(f"policy config '{where}': expected an enforcement level or an object")
        props = {k: v for k, v in entry.items() if k != "enforcementLevel"}
        level = entry.get("enforcementLevel")
        if level is None:
            return None, props
        if level not in LEVELS:
            raise PolicyPackError(f"policy config '{where}.enforcementLevel' = {level!r}: expected one of {', '.join(LEVELS)}")
        return LEVELS[level], props

    all_level, _ = split(file_config.get("all"), "all")
    resolved: dict[str, analyzer_pb2.PolicyConfig] = {}
    for policy in info.policies:
        schema = json_format.MessageToDict(policy.configSchema)
        properties = {k: v["default"] for k, v in schema.get("properties", {}).items() if "default" in v}
        level = policy.enforcementLevel
        if policy.name in info.initialConfig:
            initial = info.initialConfig[policy.name]
            level = initial.enforcementLevel or level
            properties.update(json_format.MessageToDict(initial.properties))
        if all_level is not None:
            level = all_level
        policy_level, policy_props = split(file_config.get(policy.name), policy.name)
        if policy_level is not None:
            level = policy_level
        properties.update(policy_props)
        if schema.get("properties"):
            full_schema = {"type": "object", "properties": schema["properties"], "additionalProperties": False}
            if schema.get("required"):
                full_schema["required"] = schema["required"]
            try:
                jsonschema.validate(properties, full_schema)
            except jsonschema.ValidationError as exc:
                where = ".".join(str(p) for p in exc.absolute_path) or "(properties)"
                raise PolicyPackError(f"policy config for '{policy.name}': {where}: {exc.message}") from None
        elif properties:
            raise PolicyPackError(f"policy config for '{policy.name}': the policy takes no properties, got {', '.join(properties)}")
        config = analyzer_pb2.PolicyConfig(enforcementLevel=level)
        config.properties.update(properties)
        resolved[policy.name] = config
    return resolved


class PolicyPackProcess:
    """A running policy pack plugin and a gRPC stub to it."""

    def __init__(self, pack_dir: Path, project: str, stack: str, engine_config: Mapping[str, str], python: str = sys.executable):
        self.pack_dir = pack_dir
        if not (pack_dir / "PulumiPolicy.yaml").exists():
            raise PolicyPackError(f"{pack_dir} is not a policy pack (no PulumiPolicy.yaml)")
        env = {
            **os.environ,
            "PULUMI_CONFIG": json.dumps(dict(engine_config)),
            "PULUMI_PROJECT": project,
            "PULUMI_STACK": stack,
            "PULUMI_DRY_RUN": "true",
        }
        # The engine address is only used by packs that log through the engine; there is none here.
        self._process = subprocess.Popen(
            [python, "-u", "-m", "pulumi.policy", "127.0.0.1:0", "."],
            cwd=pack_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._stderr: list[str] = []
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        port = self._read_port()
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)

    def _drain_stderr(self) -> None:
        assert self._process.stderr is not None
        for line in self._process.stderr:
            self._stderr.append(line)

    def _read_port(self) -> int:
        assert self._process.stdout is not None
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self._process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(START_TIMEOUT_SECONDS)
        line = result[0].strip() if result else ""
        if not line.isdigit():
            self.close()
            detail = "".join(self._stderr[-30:]).strip() or f"first stdout line was {line!r}"
            raise PolicyPackError(f"the policy pack in {self.pack_dir} did not start:\n{detail}")
        return int(line)

    def close(self) -> None:
        if getattr(self, "_channel", None) is not None:
            self._channel.close()
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def __enter__(self) -> "PolicyPackProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(dict(values))
    return s


def _options(resource: StackResource) -> analyzer_pb2.AnalyzerResourceOptions:
    o = resource.options
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=bool(o.get("protect", False)),
        ignoreChanges=list(o.get("ignoreChanges", [])),
        deleteBeforeReplace=bool(o.get("deleteBeforeReplace", False)),
        deleteBeforeReplaceDefined="deleteBeforeReplace" in o,
        additionalSecretOutputs=list(o.get("additionalSecretOutputs", [])),
        parent=resource.parent,
    )


def _provider(resource: StackResource, by_urn: Mapping[str, StackResource]) -> Optional[analyzer_pb2.AnalyzerProviderResource]:
    # The engine passes the provider only to custom resources; the reference is "<urn>::<id>".
    if not resource.custom or not resource.provider or resource.type.startswith("pulumi:providers:"):
        return None
    provider = by_urn.get(resource.provider.rsplit("::", 1)[0])
    if provider is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(
        type=provider.type, properties=_struct(provider.inputs), urn=provider.urn, name=provider.name
    )


def analyze_stack(
    pack_dir: Path,
    project: str,
    stack: str,
    engine_config: Mapping[str, str],
    resources: Iterable[StackResource],
    policy_config: Optional[Mapping[str, Any]] = None,
) -> AnalysisResult:
    with PolicyPackProcess(pack_dir, project, stack, engine_config) as pack:
        return run_analysis(pack, project, stack, engine_config, resources, policy_config)


def run_analysis(
    pack: PolicyPackProcess,
    project: str,
    stack: str,
    engine_config: Mapping[str, str],
    resources: Iterable[StackResource],
    policy_config: Optional[Mapping[str, Any]] = None,
) -> AnalysisResult:
    """One engine session (handshake to AnalyzeStack) against a running pack; a pack can serve several."""
    pack_dir = pack.pack_dir
    resources = list(resources)
    by_urn = {r.urn: r for r in resources}
    stub = pack.stub
    try:
        try:
            stub.Handshake(
                analyzer_pb2.AnalyzerHandshakeRequest(
                    engine_address="127.0.0.1:0", root_directory=str(pack_dir), program_directory=str(pack_dir)
                ),
                timeout=CALL_TIMEOUT_SECONDS,
            )
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.UNIMPLEMENTED:  # older SDKs have no handshake
                raise
        stub.ConfigureStack(
            analyzer_pb2.AnalyzerStackConfigureRequest(
                stack=stack,
                project=project,
                organization="organization",
                dry_run=True,
                config=dict(engine_config),
                tags={"pulumi:project": project, "pulumi:runtime": "python"},
            ),
            timeout=CALL_TIMEOUT_SECONDS,
        )
        info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=CALL_TIMEOUT_SECONDS)
        resolved = resolve_policy_config(info, policy_config)
        stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=resolved), timeout=CALL_TIMEOUT_SECONDS)

        diagnostics: list[tuple[str, analyzer_pb2.AnalyzeDiagnostic]] = []
        not_applicable: list[NotApplicable] = []
        for r in resources:
            request = analyzer_pb2.AnalyzeRequest(
                type=r.type, properties=_struct(r.inputs), urn=r.urn, name=r.name, options=_options(r), provider=_provider(r, by_urn)
            )
            response = stub.Analyze(request, timeout=CALL_TIMEOUT_SECONDS)
            # Resource policies report with an empty URN: the engine attaches the resource's.
            diagnostics.extend((d.urn or r.urn, d) for d in response.diagnostics)
            not_applicable.extend(NotApplicable(n.policy_name, r.urn, n.reason) for n in response.not_applicable)
        stack_request = analyzer_pb2.AnalyzeStackRequest(
            resources=[
                analyzer_pb2.AnalyzerResource(
                    type=r.type,
                    properties=_struct(r.state or r.inputs),
                    urn=r.urn,
                    name=r.name,
                    options=_options(r),
                    provider=_provider(r, by_urn),
                    parent=r.parent,
                    dependencies=r.dependencies,
                    propertyDependencies={k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v) for k, v in r.property_dependencies.items()},
                )
                for r in resources
            ]
        )
        stack_response = stub.AnalyzeStack(stack_request, timeout=CALL_TIMEOUT_SECONDS)
        diagnostics.extend((d.urn, d) for d in stack_response.diagnostics)
        not_applicable.extend(NotApplicable(n.policy_name, "", n.reason) for n in stack_response.not_applicable)
    except grpc.RpcError as exc:
        detail = "".join(pack._stderr[-30:]).strip()
        raise PolicyPackError(f"the policy pack failed during analysis: {exc.details()}\n{detail}".rstrip()) from None

    levels = {name: LEVEL_NAMES[c.enforcementLevel] for name, c in resolved.items()}
    # Python packs always answer 0.0.1; the CLI takes the version from PulumiPolicy.yaml.
    version = pack_version(pack_dir) or info.version
    policies = [
        PolicyInfo(
            name=p.name,
            description=p.description,
            level=levels[p.name],
            kind="stack" if p.policy_type == analyzer_pb2.POLICY_TYPE_STACK else "resource",
        )
        for p in info.policies
    ]
    violations = [
        Violation(policy=d.policyName, level=LEVEL_NAMES.get(d.enforcementLevel, "advisory"), urn=urn, message=d.message)
        for urn, d in diagnostics
    ]
    return AnalysisResult(pack=info.name, version=version, policies=policies, violations=violations, not_applicable=not_applicable)


def pack_version(pack_dir: Path) -> Optional[str]:
    manifest = YAML(typ="safe").load((pack_dir / "PulumiPolicy.yaml").read_text()) or {}
    version = manifest.get("version")
    return str(version) if version is not None else None

"""The `registry` section: which stack owns the one training pipeline and model registry, and which
accounts may serve its models."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Optional

from pydantic import Field
from pydantic.dataclasses import dataclass

from components.config.base import PROJECT, STRICT_SHAPE, KeyOf

StackName = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$",
        description="a fully qualified stack name <org>/<project>/<stack>, e.g. acme/sagemaker-mlops/dev",
    ),
]
AccountId = Annotated[str, Field(pattern=r"^\d{12}$", description='a 12-digit AWS account id, quoted (e.g. "210987654321")')]


@dataclass(frozen=True, config=STRICT_SHAPE)
class RegistryConfig:
    """Where the one training pipeline and model registry live.

    Absent `stack`: this stack owns them (and may grant `consumerAccounts` what serving needs).
    `stack` set: this stack declares none and serves from that stack's registry (StackReference).
    """

    stack: Annotated[
        Optional[StackName],
        Field(default=None, description="a fully qualified stack name <org>/<project>/<stack>, e.g. acme/sagemaker-mlops/dev"),
    ] = None
    """The stack that owns the registry, read through a StackReference; absent: this stack owns it."""
    consumer_accounts: Annotated[
        tuple[AccountId, ...], Field(alias="consumerAccounts", default=(), description="a list of 12-digit AWS account ids, quoted")
    ] = ()
    """Accounts whose stacks may serve this registry's models (owner stack only)."""

    @property
    def owned(self) -> bool:
        return self.stack is None


def registry_problems(value: RegistryConfig, k: KeyOf) -> list[str]:
    """Rules that span several keys of `registry`."""
    problems: list[str] = []
    if value.stack is not None and value.consumer_accounts:
        problems.append(
            f"{k('consumerAccounts')}: only valid on the stack that owns the registry; this stack consumes "
            f"the registry of {value.stack} (registry.stack), which must grant the accounts instead"
        )
    if value.stack is not None and value.stack.split("/")[1] != PROJECT:
        problems.append(
            f"{k('stack')} = {json.dumps(value.stack)}: names project '{value.stack.split('/')[1]}'; expected a stack of project {PROJECT}"
        )
    duplicates = sorted({a for a in value.consumer_accounts if value.consumer_accounts.count(a) > 1})
    if duplicates:
        problems.append(f"{k('consumerAccounts')}: {', '.join(duplicates)} listed more than once; expected each account once")
    return problems


def referencing_stacks(program_dir: Path, stack: str) -> tuple[str, ...]:
    """The project's other stack files (`Pulumi.<name>.yaml` beside Pulumi.yaml) whose registry.stack
    names `stack`: they serve this stack's registry, so it must outlive their deploys. PyYAML is the
    Pulumi SDK's own dependency; a file it cannot read is left to that stack's own run to report."""
    import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs; the SDK depends on it

    found = []
    for path in sorted(program_dir.glob("Pulumi.*.yaml")):
        other = path.name[len("Pulumi.") : -len(".yaml")]
        try:
            config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
        except (OSError, yaml.YAMLError, AttributeError):
            continue
        registry = config.get(f"{PROJECT}:registry") if isinstance(config, dict) else None
        target = registry.get("stack") if isinstance(registry, dict) else None
        if other != stack and isinstance(target, str) and target.split("/")[1:] == [PROJECT, stack]:
            found.append(other)
    return tuple(found)


def stack_registry_problems(stack: str, parsed: Mapping[str, Any], present: set[str]) -> list[str]:
    """The registry's owner trains; a consumer trains nothing and names another stack."""
    registry = parsed.get("registry") or RegistryConfig()
    if "registry" in present and parsed.get("registry") is None:
        return []  # its own problems are already reported
    if registry.stack is None:
        return (
            []
            if "training" in present
            else [f"{PROJECT}:training: required key is missing (this stack owns the registry: registry.stack is not set)"]
        )
    problems = []
    if registry.stack.rsplit("/", 1)[-1] == stack:
        problems.append(
            f"{PROJECT}:registry.stack = {json.dumps(registry.stack)}: names this stack; expected the stack that owns the registry, or no registry.stack"
        )
    if "training" in present:
        problems.append(
            f"{PROJECT}:training: only valid on the stack that owns the registry; this stack serves models of "
            f"{registry.stack} (registry.stack) and declares no pipeline: remove training"
        )
    return problems

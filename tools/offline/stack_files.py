"""Stack configuration as the Pulumi engine hands it to a program: read, override, flatten."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Iterable

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError


class StackFileError(Exception):
    """A stack file or a --set override that cannot be read."""


def project_name(program_dir: Path) -> str:
    return _load(program_dir / "Pulumi.yaml")["name"]


def stack_names(program_dir: Path) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in program_dir.glob("Pulumi.*.yaml"))


def stack_config(program_dir: Path, stack: str) -> dict[str, Any]:
    path = program_dir / f"Pulumi.{stack}.yaml"
    if not path.exists():
        known = ", ".join(stack_names(program_dir)) or "none"
        raise StackFileError(f"no stack '{stack}': {path.name} does not exist (stacks: {known})")
    return dict(_load(path).get("config") or {})


def apply_overrides(config: dict[str, Any], overrides: Iterable[str], namespace: str) -> dict[str, Any]:
    """Applies `key=value` overrides, like `pulumi config set --path`.

    The key is a dotted path into structured config; its first segment is a top-level key of the
    project's namespace unless it names one (`aws:region`). The value is read as YAML, so numbers,
    booleans, lists and maps keep their type; `null` removes the key.
    """
    result = copy.deepcopy(config)
    for override in overrides:
        key, sep, raw_value = override.partition("=")
        if not sep or not key:
            raise StackFileError(f"--set {override!r}: expected key=value, e.g. endpoint.instanceCount=2")
        try:
            value = YAML(typ="safe").load(raw_value) if raw_value.strip() else ""
        except YAMLError as exc:
            raise StackFileError(f"--set {override!r}: the value is not valid YAML ({exc.problem})") from None
        head, *path = key.split(".")
        top = head if ":" in head else f"{namespace}:{head}"
        if not path:
            _set_or_delete(result, top, value)
            continue
        node = result.setdefault(top, {})
        for part in path[:-1]:
            if not isinstance(node, dict):
                raise StackFileError(f"--set {override!r}: '{part}' is inside a value that is not a map")
            node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise StackFileError(f"--set {override!r}: the parent of '{path[-1]}' is not a map")
        _set_or_delete(node, path[-1], value)
    return result


def referenced_stacks(config: dict[str, Any], namespace: str) -> list[str]:
    """Stacks whose outputs this stack reads through a StackReference: `<project>:registry.stack`.

    The reference is `org/project/stack` (or `project/stack`, `stack`); the last segment names the
    stack. Shape errors are left to the program's own config validation.
    """
    registry = config.get(f"{namespace}:registry")
    target = registry.get("stack") if isinstance(registry, dict) else None
    return [target.rsplit("/", 1)[-1]] if isinstance(target, str) and target.strip() else []


def engine_config(config: dict[str, Any]) -> dict[str, str]:
    """Top-level values as the engine passes them: strings, structured values as JSON."""
    return {key: _engine_value(value) for key, value in config.items()}


def _engine_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _set_or_delete(node: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        node.pop(key, None)
    else:
        node[key] = value


def _load(path: Path) -> dict[str, Any]:
    try:
        data = YAML(typ="safe").load(path.read_text())
    except (OSError, YAMLError) as exc:
        raise StackFileError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise StackFileError(f"{path}: expected a YAML map at the top level")
    return data

"""The configuration reference (docs/configuration.md): every stack config key with its type, what
is allowed, its default and which shipped stacks set it, read from the pydantic config models in
components/config*.py and from the Pulumi.<stack>.yaml files.

The page describes keys, never one stack's values: a promotion (the pinned model package version)
or a team's own owner, cost centre or account settings change values, and a generated page that
showed them would be stale on every promotion pull request (tests/gitops/test_promotion_pr.py)."""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from components.config import stack as cfg
from tools.docs.parts import ROOT, STACKS, cell, code
from tools.offline import stack_files


@dataclass(frozen=True)
class ConfigRow:
    key: str  # dotted path below the project namespace (or `aws:region`)
    type: str
    allowed: str
    default: str
    values: dict[str, str]  # stack -> 'set' when the shipped stack file sets the key, else ''
    meaning: str


def attribute_docs(cls: type) -> dict[str, str]:
    """Field name -> the docstring written under it (PEP 257 attribute docstrings), through the MRO."""
    import ast
    import inspect
    import textwrap

    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass is object or klass.__module__ != cls.__module__:
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, after in zip(body, body[1:]):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                docs[node.target.id] = " ".join(after.value.value.split())
    return docs


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """The type inside Annotated[...] layers, and the metadata collected on the way."""
    metadata: list[Any] = []
    while typing.get_origin(annotation) is typing.Annotated:
        annotation, *extra = typing.get_args(annotation)
        metadata.extend(extra)
    return annotation, metadata


def _optional_inner(annotation: Any) -> tuple[Any, bool]:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]), True
    return annotation, False


def is_config_model(tp: Any) -> bool:
    return isinstance(tp, type) and hasattr(tp, "__pydantic_fields__")


def type_name(annotation: Any) -> str:
    """A config type in the words of the reference: int, `a` | `b`, list of …, map of name → …."""
    annotation, _ = _unwrap(annotation)
    annotation, optional = _optional_inner(annotation)
    annotation, _ = _unwrap(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        # Long enumerations read better in the allowed column (the field's description lists them).
        name = " | ".join(code(a) for a in args) if len(args) <= 4 else type_name(type(args[0]))
    elif origin in (tuple, list):
        name = f"list of {type_name(args[0])}"
    elif origin is dict:
        name = f"map of name → {type_name(args[1])}"
    elif is_config_model(annotation):
        name = "map"
    else:
        name = {int: "int", float: "number", bool: "bool", str: "string"}.get(annotation, getattr(annotation, "__name__", str(annotation)))
    return name


_CONSTRAINTS = {
    "ge": "≥ {}",
    "gt": "> {}",
    "le": "≤ {}",
    "lt": "< {}",
    "min_length": "at least {} item(s)",
    "max_length": "at most {} item(s)",
    "pattern": "matches `{}`",
}


def derived_constraints(info: FieldInfo) -> str:
    """What the field's metadata allows, for fields without a description."""
    found = []
    for item in info.metadata:
        for attr, template in _CONSTRAINTS.items():
            value = getattr(item, attr, None)
            if value is not None:
                found.append(template.format(value))
    return ", ".join(found)


def _map_keys(model: Any) -> str:
    """What an object key allows, in the words of the config errors."""
    if not is_config_model(model):
        return ""
    return "a map with the keys " + ", ".join(info.alias or name for name, info in model.__pydantic_fields__.items())


def _field_info(annotation: Any) -> FieldInfo:
    return FieldInfo.from_annotation(annotation)


def show_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping):
        if set(value) == {"secure"}:
            return "(secret)"
        return code(json.dumps(value, separators=(", ", ": ")))
    if isinstance(value, (list, tuple)):
        return code("[" + ", ".join(str(v) for v in value) + "]")
    if isinstance(value, bool):
        return code("true" if value else "false")
    return code(value)


def show_default(info: FieldInfo, required: bool) -> str:
    default = info.default
    if default is PydanticUndefined:
        return "required" if required else "absent"
    if default is None:
        return "absent"
    return show_value(default)


def _lookup(config: Mapping[str, Any], path: list[str]) -> Any:
    node: Any = config
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def config_rows(stack_configs: Mapping[str, Mapping[str, Any]]) -> list[ConfigRow]:
    """One row per key of the stack configuration, in the order the models declare them."""
    top_docs = attribute_docs(cfg.StackConfig)
    rows = [
        ConfigRow(
            key=cfg._REGION_KEY,
            type="string",
            allowed=f"an AWS region such as us-east-1 (matches `{cfg._REGION}`)",
            default="required",
            values={s: ("set" if c.get(cfg._REGION_KEY) is not None else "") for s, c in stack_configs.items()},
            meaning=top_docs.get("region", ""),
        )
    ]

    def values_at(path: list[str]) -> dict[str, str]:
        return {s: ("set" if _lookup(c, [f"{cfg.PROJECT}:{path[0]}", *path[1:]]) is not None else "") for s, c in stack_configs.items()}

    def walk(model: type, path: list[str]) -> Iterator[ConfigRow]:
        docs = attribute_docs(model)
        for name, info in model.__pydantic_fields__.items():
            alias = info.alias or name
            key = [*path, alias]
            inner, _ = _optional_inner(_unwrap(info.annotation)[0])
            inner = _unwrap(inner)[0]
            present = {
                s: ("set" if _lookup(c, [f"{cfg.PROJECT}:{key[0]}", *key[1:]]) is not None else "") for s, c in stack_configs.items()
            }
            row = ConfigRow(
                key=".".join(key),
                type=type_name(info.annotation) + (", optional" if info.default is None else ""),
                allowed=info.description or derived_constraints(info) or _map_keys(inner),
                default=show_default(info, required=True),
                values=values_at(key),
                meaning=docs.get(name, ""),
            )
            if is_config_model(inner):
                yield ConfigRow(row.key, row.type, row.allowed, row.default, present, row.meaning)
                yield from walk(inner, key)
            elif typing.get_origin(inner) is dict and is_config_model(_unwrap(typing.get_args(inner)[1])[0]):
                yield row
                yield from walk(_unwrap(typing.get_args(inner)[1])[0], [*key, "<name>"])
            else:
                yield row

    for key, (tp, required) in cfg._SECTIONS.items():
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()
        if is_config_model(tp):
            rows.append(
                ConfigRow(
                    key=key,
                    type="map" + ("" if required else ", optional"),
                    allowed=_map_keys(tp),
                    default="required" if required else "absent",
                    values={s: ("set" if c.get(f"{cfg.PROJECT}:{key}") is not None else "") for s, c in stack_configs.items()},
                    meaning=top_docs.get(snake, ""),
                )
            )
            rows.extend(walk(tp, [key]))
            continue
        info = _field_info(tp)
        rows.append(
            ConfigRow(
                key=key,
                type=type_name(tp) + ("" if required else ", optional"),
                allowed=info.description or derived_constraints(info),
                default="required" if required else "absent",
                values=values_at([key]),
                meaning=top_docs.get(snake, ""),
            )
        )
    return rows


def shipped_stack_configs() -> dict[str, dict[str, Any]]:
    return {stack: stack_files.stack_config(ROOT, stack) for stack in STACKS}


def config_reference() -> str:
    stacks = shipped_stack_configs()
    names = list(stacks)
    lines = [
        "| key | type | allowed | default | " + " | ".join(names) + " | meaning |",
        "|---|---|---|---|" + "---|" * len(names) + "---|",
    ]
    for row in config_rows(stacks):
        cells = [code(row.key), row.type, row.allowed, row.default, *(row.values[s] for s in names), row.meaning]
        lines.append("| " + " | ".join(cell(c) for c in cells) + " |")
    return "\n".join(lines)

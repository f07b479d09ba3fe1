"""What every config section shares: the project namespace, the strict shape of a section model, and
turning pydantic's validation errors into one clear line per problem (`sagemaker-mlops:<key path>`,
the value, what is expected)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ConfigDict, ValidationError

PROJECT = "sagemaker-mlops"

# A section model refuses keys it does not know (a typo is an error, not a silently ignored key).
STRICT_SHAPE = ConfigDict(extra="forbid")

# Formats a path below a section as its full key, e.g. 'tuning.maxParallel' -> 'sagemaker-mlops:training.tuning.maxParallel'.
KeyOf = Callable[[str], str]


class ConfigError(Exception):
    """Invalid stack configuration; `problems` has one clear line per problem."""

    def __init__(self, stack: str, problems: list[str]):
        self.stack = stack
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"invalid configuration for stack '{stack}' ({len(problems)} problem{'s' if len(problems) != 1 else ''}):\n{lines}"
        )


def key_of(section: str) -> KeyOf:
    return lambda path: f"{PROJECT}:{section}.{path}"


def _key(section: str, loc: tuple[Any, ...]) -> str:
    path = section
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return f"{PROJECT}:{path}"


def _fields(tp: Any) -> dict[str, Any]:
    """alias -> pydantic FieldInfo of a config dataclass (empty for anything else)."""
    infos = getattr(tp, "__pydantic_fields__", None) or {}
    return {(info.alias or name): info for name, info in infos.items()}


def _inner_dataclass(annotation: Any) -> Any:
    """The config dataclass inside Optional[...] / dict[str, ...], if any."""
    if hasattr(annotation, "__pydantic_fields__"):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_dataclass(arg)
        if found is not None:
            return found
    return None


def _field_at(section_type: Any, loc: tuple[Any, ...]) -> tuple[Any, Any]:
    """Follows `loc` through nested config dataclasses: (leaf FieldInfo or None, leaf's container type)."""
    tp, info = section_type, None
    for part in loc:
        if tp is None:
            if isinstance(part, int) and info is not None:
                continue  # an item of a list: the list's field describes its items
            return None, None
        if part in _fields(tp):
            info = _fields(tp)[part]
            tp = _inner_dataclass(info.annotation)
        elif info is not None and "dict" in str(info.annotation):
            continue  # a map key such as a hyper-parameter name
        elif isinstance(part, int):
            continue
        else:
            return None, tp
    return info, tp


def _format_error(section: str, section_type: Any, error: Mapping[str, Any]) -> str:
    loc = tuple(error["loc"])
    key = _key(section, loc)
    kind = error["type"]
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        _, container = _field_at(section_type, loc[:-1])
        allowed = list(_fields(container)) if container is not None else []
        hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
        return f"{key}: unknown key{hint}"
    if kind in ("missing", "missing_argument"):
        return f"{key}: required key is missing"
    if loc:
        info, _ = _field_at(section_type, loc)
        description = info.description if info is not None else None
    elif _fields(section_type):
        description = f"a map with the keys {', '.join(_fields(section_type))}"
    else:
        description = next((m.description for m in getattr(section_type, "__metadata__", ()) if getattr(m, "description", None)), None)
    message = error["msg"].removeprefix("Value error, ")
    # A literal error already lists the allowed values, and so does a validator that says what it expects.
    expected = f"; expected {description}" if description and kind != "literal_error" and "; expected " not in message else ""
    return f"{key} = {json.dumps(error.get('input'), default=str)}: {message}{expected}"


def validation_problems(section: str, section_type: Any, exc: ValidationError) -> list[str]:
    """One line per failing leaf of `section` (whose model or annotated type is `section_type`)."""
    errors = exc.errors(include_url=False)
    locs = [tuple(e["loc"]) for e in errors]
    # A container error ("at least 1 item after validation") only echoes its failing items.
    leaves = [e for e, loc in zip(errors, locs) if not any(o != loc and o[: len(loc)] == loc for o in locs)]
    return [_format_error(section, section_type, e) for e in leaves]


def decode(raw: Any) -> Any:
    """The engine hands structured config to programs as JSON text; scalars stay strings."""
    if isinstance(raw, str) and raw[:1] in "{[":
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw

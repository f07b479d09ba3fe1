"""What the installed pulumi-aws declares: every resource type and its input properties.

Guardrails written by class (resource policies, data at rest, identities) select the types they
judge from this, so that a type a later change introduces is judged the day it appears instead of
the day someone remembers to list it. Read from the SDK's generated sources without importing them
(importing one pulumi-aws module costs the pack up to 0.2 CPU-seconds), with an import fallback for
an SDK laid out differently.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
from functools import lru_cache
from pathlib import Path
from typing import Optional

_PARAMETER = re.compile(r"^\s+([a-z_][a-z0-9_]*):", re.MULTILINE)
_TOKEN = re.compile(r"""^\s+'(aws:[A-Za-z0-9]+/[A-Za-z0-9]+:[A-Za-z0-9]+)',$""", re.MULTILINE)
_SKIPPED_PARAMETERS = frozenset({"resource_name", "opts"})


def camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@lru_cache(maxsize=1)
def _sdk_folder() -> Optional[Path]:
    spec = importlib.util.find_spec("pulumi_aws")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _module_name(module: str) -> str:
    if module == "index":
        return "pulumi_aws"
    return f"pulumi_aws.{module}_" if module == "lambda" else f"pulumi_aws.{module}"


def _parameters_in(source: str, class_name: str) -> Optional[frozenset[str]]:
    """The camelCase inputs of `class_name`'s `_internal_init` in a generated module's text."""
    start = source.find(f"\nclass {class_name}(pulumi.CustomResource):")
    init = source.find("def _internal_init(", start) if start >= 0 else -1
    end = source.find("__props__=None):", init) if init >= 0 else -1
    if end < 0:
        return None
    names = _PARAMETER.findall(source[init:end])
    return frozenset(camel(n) for n in names if n not in _SKIPPED_PARAMETERS)


def _split(resource_type: str) -> Optional[tuple[str, str, str]]:
    """(python module, member file stem, class name) of a pulumi-aws type token, or None."""
    try:
        package, middle, class_name = resource_type.split(":")
    except ValueError:
        return None
    if package != "aws":
        return None
    module, _, member = middle.partition("/")
    return _module_name(module), re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", member).lower(), class_name


def source_input_properties(resource_type: str) -> Optional[frozenset[str]]:
    """The inputs read from the generated module `<module>/<member in snake_case>.py`; None when not there."""
    parts, folder = _split(resource_type), _sdk_folder()
    if parts is None or folder is None:
        return None
    module_name, stem, class_name = parts
    try:
        source = Path(folder, *module_name.split(".")[1:], stem + ".py").read_text()
    except OSError:
        return None
    return _parameters_in(source, class_name)


def imported_input_properties(resource_type: str) -> Optional[frozenset[str]]:
    """The inputs read by importing the class (slow; the fallback and the tests' reference)."""
    parts = _split(resource_type)
    if parts is None:
        return None
    try:
        cls = getattr(importlib.import_module(parts[0]), parts[2])
        parameters = inspect.signature(cls._internal_init).parameters
    except (ImportError, AttributeError, TypeError, ValueError):
        return None
    return frozenset(camel(n) for n in parameters if n not in _SKIPPED_PARAMETERS | {"__self__", "__props__"})


@lru_cache(maxsize=None)
def input_properties(resource_type: str) -> Optional[frozenset[str]]:
    """The camelCase input properties a pulumi-aws resource type takes; None when it is not one."""
    found = source_input_properties(resource_type)
    return found if found is not None else imported_input_properties(resource_type)


@lru_cache(maxsize=1)
def all_resource_types() -> dict[str, frozenset[str]]:
    """Every resource type of the installed pulumi-aws with its inputs (for docs and tests: a
    full scan reads ~3,000 files, which the pack itself never needs)."""
    folder = _sdk_folder()
    found: dict[str, frozenset[str]] = {}
    if folder is None:
        return found
    for path in sorted(folder.rglob("*.py")):
        source = path.read_text()
        if "(pulumi.CustomResource):" not in source:
            continue
        for token in _TOKEN.findall(source):
            class_name = token.rsplit(":", 1)[1]
            properties = _parameters_in(source, class_name)
            if properties is not None:
                found[token] = properties
    return found

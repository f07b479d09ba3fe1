"""Pulumi.<stack>.yaml as tools.promote reads and rewrites it: the pinned model package version,
changed byte for byte (comments, key order, quoting and indentation stay), and the new config
validated as the program validates it. Also the errors every part of the promotion raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from components.config.stack import PROJECT, ConfigError, StackConfig, parse_stack_config
from tools.offline.stack_files import engine_config

ENDPOINT_KEY = f"{PROJECT}:endpoint"
REGISTRY_KEY = f"{PROJECT}:registry"
VERSION_KEY = "modelPackageVersion"
# One scalar token as it appears in the file: quoted, or plain up to a space or a comment.
_SCALAR = re.compile(r"\"[^\"]*\"|'[^']*'|[^\s#,}\]]+")


class PromoteError(Exception):
    """Bad input or config: the message says what and where."""


class CheckFailed(Exception):
    """The registry says no: the version is missing or not approved."""


@dataclass(frozen=True)
class StackFile:
    stack: str
    path: Path
    text: str
    document: Any

    @property
    def config(self) -> CommentedMap:
        config = self.document.get("config") if isinstance(self.document, dict) else None
        if not isinstance(config, dict):
            raise PromoteError(f"{self.path.name}: no 'config:' map")
        return config

    @property
    def endpoint(self) -> CommentedMap:
        endpoint = self.config.get(ENDPOINT_KEY)
        if not isinstance(endpoint, dict):
            raise PromoteError(f"{self.path.name}: '{ENDPOINT_KEY}' is missing or not a map; add the endpoint settings first")
        return endpoint

    def pinned_version(self) -> Optional[int]:
        if VERSION_KEY not in self.endpoint:
            return None
        return parse_version(self.endpoint[VERSION_KEY], f"{self.path.name}: {ENDPOINT_KEY}.{VERSION_KEY}")


def parse_version(value: Any, where: str) -> int:
    # Decimal digits only: a YAML bool or float prints none ("True", "3.0"), and int() reads every
    # string that has them (isdigit would let "²" through to a ValueError).
    if not str(value).strip().isdecimal() or int(value) < 1:
        raise PromoteError(f"{where} = {value!r}: expected a model package version, an integer >= 1")
    return int(value)


def read_stack(stack_dir: Path, stack: str) -> StackFile:
    path = stack_dir / f"Pulumi.{stack}.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PromoteError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        document = YAML(typ="rt").load(text)
    except YAMLError as exc:
        raise PromoteError(f"{path.name} is not valid YAML: {exc}") from None
    return StackFile(stack, path, text, document)


def _offset(text: str, line: int, column: int) -> int:
    lines = text.splitlines(keepends=True)
    return sum(len(lines[i]) for i in range(line)) + column


def with_version(stack_file: StackFile, version: int) -> str:
    """The file's text with the version pinned: only that scalar changes (or one line is added)."""
    endpoint = stack_file.endpoint
    text = stack_file.text
    if VERSION_KEY in endpoint:
        line, column = endpoint.lc.value(VERSION_KEY)
        start = _offset(text, line, column)
        token = _SCALAR.match(text, start)
        if token is None:
            raise PromoteError(f"{stack_file.path.name}: cannot find the value of {VERSION_KEY} on line {line + 1}")
        return text[:start] + str(version) + text[token.end() :]
    if endpoint.fa.flow_style() or not endpoint:
        raise PromoteError(
            f"{stack_file.path.name}: '{ENDPOINT_KEY}' is written in flow style ({{...}}) or empty; "
            f"add '{VERSION_KEY}: {version}' to it by hand"
        )
    # Added as the map's first key, indented like the key that is first now.
    first = next(iter(endpoint))
    line, column = endpoint.lc.key(first)
    start = _offset(text, line, 0)
    return text[:start] + " " * column + f"{VERSION_KEY}: {version}\n" + text[start:]


def plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node


def validate_change(stack_file: StackFile, new_text: str, version: int) -> StackConfig:
    """The new file parses, differs from the old one in the version only, and is a valid config."""
    document = YAML(typ="safe").load(new_text)
    expected = plain(stack_file.document)
    expected["config"][ENDPOINT_KEY][VERSION_KEY] = version
    if document != expected:
        raise PromoteError(f"{stack_file.path.name}: the rewrite would change more than {VERSION_KEY}; nothing was written")
    config = document.get("config") or {}
    try:
        return parse_stack_config(engine_config(config), project=PROJECT, stack=stack_file.stack)
    except ConfigError as exc:
        raise PromoteError(str(exc)) from None
